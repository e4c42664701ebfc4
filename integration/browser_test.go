//go:build integration

package integration

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/internal/pdftext"
)

// TestRecipientPageInBrowser drives Debian's chromium (installed by `make browser`, which
// `make test` runs first) through the recipient page as an attorney would: open the link the
// clinic sent (the token in the fragment), ask for a code, read it from the development mailbox, enter
// it, and download; the downloaded file's bytes are the watermarked PDF of the release.
func TestRecipientPageInBrowser(t *testing.T) {
	e := newDownloadEnv(t)
	const address = "records@smith-law.example"
	e.must(t, http.StatusCreated, nil, "admin", "POST", "/v1/clients/"+e.a+"/authorizations", authorizationForm("smith-law", recordvault.ProgressNote))
	var r app.ReleaseView
	e.must(t, http.StatusCreated, &r, "dr-lee", "POST", "/v1/clients/"+e.a+"/releases", map[string]any{"document": e.note,
		"basis": "authorization", "purpose": "custody",
		"recipient": map[string]string{"kind": "attorney", "id": "smith-law", "name": "Smith Law LLP", "email": address}})
	tok := e.token(t, "admin", e.a, r.ID)

	// The page stands alone: nothing is fetched from anywhere else.
	status, h, page := e.call(t, "", "GET", "/r", nil)
	if status != http.StatusOK || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") ||
		regexp.MustCompile(`(src|href)=`).Match(page) || !bytes.Contains(page, []byte(`<label for="token">`)) {
		t.Fatalf("the page: %d %v %s", status, h, page)
	}

	downloads := t.TempDir()
	bctx := browse(t, downloads)
	progress := chromedp.Events(bctx, browser.DownloadProgress)
	if err := chromedp.Do(bctx,
		chromedp.Navigate(e.url+"/r#t="+tok),
		chromedp.WaitVisible(chromedp.ID("send")),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.ID("code")),
	); err != nil {
		t.Fatalf("asking for a code: %v", err)
	}
	said, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("status")))
	if err != nil || !strings.Contains(said, "We sent a one-time code") {
		t.Fatalf("after asking for a code the page says %q (%v)", said, err)
	}
	code := e.mailbox.lastCode(t, address)
	if err := chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Click(chromedp.ID("download")),
	); err != nil {
		t.Fatalf("entering the code: %v", err)
	}
	pdf := downloaded(t, progress, downloads)
	pages, err := pdftext.Pages(pdf)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("the downloaded file (%d bytes): %v", len(pdf), err)
	}
	if !strings.Contains(pages[0], "Release "+r.ID) || !strings.Contains(pages[0], "Recipient: Smith Law LLP (attorney, smith-law)") {
		t.Fatalf("the downloaded copy's cover sheet: %q", pages[0])
	}
	for i, p := range pages {
		if !strings.Contains(p, "Released to Smith Law LLP - release "+r.ID) {
			t.Errorf("page %d of the download lacks its watermark", i+1)
		}
	}
	// The link is spent: the same token again is refused.
	if s, _, _ := e.call(t, "", "POST", "/downloads", map[string]string{"token": tok, "code": code}); s != http.StatusUnauthorized {
		t.Errorf("the token after the browser's download: %d", s)
	}
	t.Logf("downloaded %d bytes, %d pages", len(pdf), len(pages))
}

func ptr[T any](v T) *T { return &v }
