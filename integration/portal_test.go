//go:build integration

package integration

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/time/rate"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/handlers"
	"github.com/recordvault/recordvault/internal/pdftext"
)

// servePortal starts the env's service with the client portal, signing in through the env's
// development issuer; it returns the service's URL.
func (e *apiEnv) servePortal(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	logger := slog.New(slog.NewTextHandler(e.serverLog, &slog.HandlerOptions{Level: slog.LevelDebug}))
	portal, err := handlers.NewPortal(handlers.PortalConfig{Issuer: e.issuer.URL(), ClientID: "recordvault-portal", PublicURL: url}, logger, e.verifier, e.api)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: handlers.NewServer(logger, nil, e.verifier, e.api,
		handlers.WithPortal(portal), handlers.WithRateLimits(rate.Inf, 1, rate.Inf, 1))}}
	srv.Start()
	t.Cleanup(srv.Close)
	return url
}

// browse starts Debian's chromium (installed by `make browser`) for a test, downloading into
// dir; it returns the browser's context.
func browse(t *testing.T, dir string) context.Context {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is needed (make browser installs it): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("headless", "new"), chromedp.WindowSize(1000, 900))...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptr(true)})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	return bctx
}

// downloaded waits for the download progress reports to be complete and returns the file
// downloaded into dir.
func downloaded(t *testing.T, progress iter.Seq2[browser.EventDownloadProgress, error], dir string) []byte {
	t.Helper()
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("waiting for the download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatal("the download never completed")
	return nil
}

// accessibilityAudit checks, in the page the browser shows, what WCAG 2.2 asks of its
// structure: a language, one h1 and no skipped heading level, a label for every form control
// (1.3.1, 3.3.2, 4.1.2), a name for every link and button (2.4.4, 4.1.2), unique ids, no
// positive tabindex (focus follows the reading order, 2.4.3), a skip link first in the focus
// order (2.4.1), and main and nav landmarks. It returns what fails, one line each.
const accessibilityAudit = `(() => {
  const out = [];
  if (!document.documentElement.lang) out.push("no lang on html");
  if (document.querySelectorAll("h1").length !== 1) out.push("not exactly one h1");
  let last = 0;
  for (const h of document.querySelectorAll("h1,h2,h3,h4,h5,h6")) {
    const level = +h.tagName[1];
    if (level > last + 1) out.push("heading " + h.tagName + " skips a level: " + h.textContent.trim());
    last = level;
  }
  for (const c of document.querySelectorAll("input:not([type=hidden]),select,textarea")) {
    const labelled = (c.id && document.querySelector("label[for='" + c.id + "']")) || c.closest("label") || c.getAttribute("aria-label") || c.getAttribute("aria-labelledby");
    if (!labelled) out.push("no label: " + c.outerHTML.slice(0, 80));
  }
  for (const a of document.querySelectorAll("a,button")) {
    if (!a.textContent.trim() && !a.getAttribute("aria-label")) out.push("no name: " + a.outerHTML.slice(0, 80));
  }
  const ids = {};
  for (const e of document.querySelectorAll("[id]")) { if (ids[e.id]) out.push("duplicate id " + e.id); ids[e.id] = true; }
  for (const e of document.querySelectorAll("[tabindex]")) { if (+e.getAttribute("tabindex") > 0) out.push("positive tabindex: " + e.outerHTML.slice(0, 80)); }
  const first = document.querySelector("a[href],button,input,select,textarea");
  if (!first || !first.classList.contains("skip")) out.push("the skip link is not first in the focus order");
  if (!document.querySelector("main")) out.push("no main landmark");
  return out.join("\n");
})()`

// textOf is the text of the first element the browser's page has for CSS selector sel.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return s
}

// checkPage audits the page the browser shows (accessibilityAudit) and, with
// RECORDVAULT_PORTAL_SCREENSHOTS set to a directory, saves it there as name.png.
func checkPage(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if problems, err := chromedp.Run(ctx, chromedp.Evaluate[string](accessibilityAudit)); err != nil || problems != "" {
		t.Errorf("the %s page's accessibility: %v\n%s", name, err, problems)
	}
	dir := os.Getenv("RECORDVAULT_PORTAL_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPortalInBrowser drives chromium through the client portal as a client would: sign in
// at the clinic's provider (authorization code with PKCE), see her file (no psychotherapy
// note), ask for a change to a note and disagree with the refusal, see the copy released to her,
// download it (a certified PDF), ask for the rest of her records, let a school have her
// evaluations and take it back, read who else received them, be refused another's copy,
// and sign out. With RECORDVAULT_PORTAL_SCREENSHOTS set to a directory, the main
// pages are saved there as PNG (`make portal-screenshots` refreshes docs/portal/).
func TestPortalInBrowser(t *testing.T) {
	e := newDownloadEnv(t)
	base := "/v1/clients/" + e.a
	var subpoena app.ReleaseView
	e.must(t, http.StatusCreated, &subpoena, "dr-lee", "POST", base+"/releases", map[string]any{"document": e.note, "basis": "subpoena",
		"fields": []string{"cpt_code"}, "purpose": "civil litigation", "assurances": map[string]any{"protective_order": true},
		"recipient": map[string]string{"kind": "attorney", "id": "jones-law", "email": "jones-law@recipients.example", "name": "Jones & Co"}})
	var psy app.RecordView
	e.must(t, http.StatusCreated, &psy, "dr-lee", "POST", base+"/records", map[string]any{"category": "psychotherapy_note",
		"fields": map[string]string{"process_notes": "transference noted"}, "sign": true})
	url := e.servePortal(t)
	downloads := t.TempDir()
	ctx := browse(t, downloads)
	text := func(sel string) string { t.Helper(); return textOf(t, ctx, sel) }

	// Not signed in: a page of the portal sends her to its start, which offers the way in.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/copies"), chromedp.WaitVisible(chromedp.ID("signin"))); err != nil {
		t.Fatalf("the start page: %v", err)
	}
	checkPage(t, ctx, "start")
	// Sign in at the provider, as pat (the client's own login).
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SetValue(chromedp.ID("user"), "pat"), chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("signout"))); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	if got := text("main"); !strings.Contains(got, "Hello, Client ") {
		t.Fatalf("signed in, the start page says %q", got)
	}
	checkPage(t, ctx, "home")

	// Her file lists her progress note, never the psychotherapy note. She asks for a change
	// to the note; the clinician refuses; she files her disagreement.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/records"), chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
		t.Fatalf("the records page: %v", err)
	}
	if got := text("table"); !strings.Contains(got, "Progress note") || strings.Contains(got, "Psychotherapy") || strings.Count(got, "Signed") != 1 {
		t.Fatalf("the records page lists %q", got)
	}
	checkPage(t, ctx, "records")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("record-"+e.note)), chromedp.WaitVisible(chromedp.ID("change")),
		chromedp.SendKeys(chromedp.ID("change"), "The session was 45 minutes, not 50."), chromedp.Click(chromedp.ID("amend")),
		chromedp.WaitVisible(chromedp.ID("status"))); err != nil {
		t.Fatalf("asking for a change: %v", err)
	}
	if got := text("main"); !strings.Contains(got, "Your request was sent.") || !strings.Contains(got, "Waiting for the clinic's decision.") {
		t.Errorf("after asking for a change: %q", got)
	}
	var rec app.RecordView
	e.must(t, http.StatusOK, &rec, "dr-lee", "GET", base+"/records/"+e.note, nil)
	if len(rec.Amendments) != 1 || rec.Amendments[0].Request.RecordedBy != "pat" {
		t.Fatalf("the request on the record: %+v", rec.Amendments)
	}
	amendment := rec.Amendments[0].ID
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", base+"/records/"+e.note+"/amendments/"+amendment+"/decision",
		map[string]string{"outcome": "denied", "ground": "accurate_and_complete", "explanation": "The session log shows 50 minutes."})
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/records/"+e.note), chromedp.WaitVisible(chromedp.ID("statement-"+amendment)),
		chromedp.SendKeys(chromedp.ID("statement-"+amendment), "I left early that day."), chromedp.Click(chromedp.ID("disagree-"+amendment)),
		chromedp.WaitNotPresent(chromedp.ID("statement-"+amendment))); err != nil {
		t.Fatalf("disagreeing: %v", err)
	}
	if got := text("main"); !strings.Contains(got, "The clinic said no: the clinic finds the record accurate and complete.") ||
		!strings.Contains(got, "Your statement of disagreement: I left early that day.") {
		t.Errorf("after disagreeing: %q", got)
	}
	checkPage(t, ctx, "record")
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/records/"+psy.ID), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	if got := text("h1"); got != "Not found" {
		t.Errorf("the psychotherapy note by its id: %q", got)
	}

	// Her copy is ready; the subpoena's release to Jones & Co is not hers to download.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/copies"), chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
		t.Fatalf("the copies page: %v", err)
	}
	if got := text("table"); !strings.Contains(got, "Ready") || !strings.Contains(got, "Progress note of") || strings.Contains(got, "Jones") {
		t.Fatalf("the copies page lists %q", got)
	}
	checkPage(t, ctx, "copies")
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("download-"+e.release))); err != nil {
		t.Fatalf("downloading: %v", err)
	}
	pdf := downloaded(t, progress, downloads)
	pages, err := pdftext.Pages(pdf)
	if err != nil || !strings.Contains(pages[0], "Release "+e.release) || !strings.Contains(pages[len(pages)-1], "Verification code: ") {
		t.Fatalf("the downloaded copy (%d bytes): %v %q", len(pdf), err, pages)
	}

	// Her evaluation, released whole with its attached report, comes as the ZIP bundle.
	var eval app.RecordView
	e.must(t, http.StatusCreated, &eval, "dr-lee", "POST", base+"/records", map[string]any{"category": "evaluation",
		"fields": map[string]any{"date_of_service": "2026-11-02", "summary": "WAIS-IV within normal limits."}})
	report := append([]byte("%PDF-1.7\n"), randomBytes(200_000)...)
	e.must(t, http.StatusCreated, nil, "dr-lee", "POST", base+"/records/"+eval.ID+"/attachments", report, "Content-Type", "application/pdf")
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", base+"/records/"+eval.ID+"/sign", nil)
	var whole app.ReleaseView
	e.must(t, http.StatusCreated, &whole, "dr-lee", "POST", base+"/releases", map[string]any{"document": eval.ID,
		"basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "her evaluation"})
	progress = chromedp.Events(ctx, browser.DownloadProgress)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/copies"), chromedp.Click(chromedp.ID("download-"+whole.ID))); err != nil {
		t.Fatalf("downloading the bundle: %v", err)
	}
	bundle := downloaded(t, progress, downloads)
	zr, err := zip.NewReader(bytes.NewReader(bundle), int64(len(bundle)))
	if err != nil || len(zr.File) != 2 {
		t.Fatalf("the bundle (%d bytes): %v", len(bundle), err)
	}

	// She asks for the rest of her records: the clinic's clock starts today.
	// With the keyboard only: into the form, type, and on to the button.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/requests"), chromedp.WaitVisible(chromedp.ID("description")),
		chromedp.Focus(chromedp.ID("description")), chromedp.KeyEvent("All my progress notes since January"),
		chromedp.KeyEvent("\t"), chromedp.KeyEvent("\t")); err != nil {
		t.Fatalf("asking for records: %v", err)
	}
	if focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`)); err != nil || focused != "ask" {
		t.Fatalf("two tabs after the description, the focus is on %q (%v), want the button", focused, err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.ID("status"))); err != nil {
		t.Fatalf("sending the request with Enter: %v", err)
	}
	if got := text("#status"); !strings.HasPrefix(got, "Your request was sent. The clinic must answer by ") {
		t.Errorf("after asking: %q", got)
	}
	if got := text("table"); !strings.Contains(got, "All my progress notes since January") || !strings.Contains(got, "Waiting for the clinic") {
		t.Errorf("the requests page lists %q", got)
	}
	checkPage(t, ctx, "requests")

	// She lets a school have her evaluations until June, then takes it back.
	until := time.Now().AddDate(1, 0, 0).Format(time.DateOnly)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/authorizations"), chromedp.WaitVisible(chromedp.ID("recipient")),
		chromedp.SendKeys(chromedp.ID("recipient"), "Lincoln Middle School"), chromedp.Click(chromedp.CSS(`input[name="category"][value="evaluation"]`)),
		chromedp.SendKeys(chromedp.ID("purpose"), "to plan support at school"), chromedp.SetValue(chromedp.ID("until"), until),
		chromedp.Click(chromedp.CSS(`input[name="sign"]`)), chromedp.Click(chromedp.ID("authorize")),
		chromedp.WaitVisible(chromedp.ID("status"))); err != nil {
		t.Fatalf("giving an authorization: %v", err)
	}
	if got := text("#status"); got != "Your authorization is signed and on file." {
		t.Errorf("after signing: %q", got)
	}
	if got := text("table"); !strings.Contains(got, "lincoln-middle-school") || !strings.Contains(got, "My evaluations, to Lincoln Middle School") ||
		!strings.Contains(got, "In force") {
		t.Errorf("the authorizations page lists %q", got)
	}
	checkPage(t, ctx, "authorizations")
	var on struct{ Items []app.AuthorizationView }
	e.must(t, http.StatusOK, &on, "admin", "GET", base+"/authorizations", nil)
	given := on.Items
	if len(given) != 1 || given[0].Expires != until || given[0].Signed != time.Now().UTC().Format(time.DateOnly) || given[0].Recipient != "lincoln-middle-school" {
		t.Fatalf("the authorization on file: %+v", given)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("revoke-"+given[0].ID)),
		chromedp.WaitNotPresent(chromedp.ID("revoke-"+given[0].ID))); err != nil {
		t.Fatalf("taking it back: %v", err)
	}
	if got := text("#status"); !strings.HasPrefix(got, "Your authorization is taken back.") {
		t.Errorf("after taking it back: %q", got)
	}
	if got := text("table"); !strings.Contains(got, "Taken back") {
		t.Errorf("after taking it back the page lists %q", got)
	}

	// Who received her records: the subpoena, in plain words.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/accounting"), chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
		t.Fatalf("the accounting page: %v", err)
	}
	if got := text("table"); !strings.Contains(got, "Jones & Co") || !strings.Contains(got, "civil litigation") {
		t.Fatalf("the accounting page lists %q", got)
	}
	checkPage(t, ctx, "accounting")

	// Another's copy, asked for with her session: the one "not found" page. The same form
	// posted from another site: refused before it reaches the page.
	var cookies []*network.Cookie
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		got, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		cookies = got.Cookies
		return err
	})); err != nil {
		t.Fatal(err)
	}
	post := func(release string, header ...string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, url+"/portal/copies/"+release, strings.NewReader("format=pdf"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		for _, c := range cookies {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, b.String()
	}
	if status, page := post(subpoena.ID); status != http.StatusNotFound || !strings.Contains(page, "may not be yours to see") {
		t.Errorf("another's copy: %d %.300s", status, page)
	}
	if status, _ := post(e.release, "Origin", "https://attacker.example", "Sec-Fetch-Site", "cross-site"); status != http.StatusForbidden {
		t.Errorf("a cross-site form: %d", status)
	}

	// The rules the pages cite, explained; the requests page links to its own.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/requests"), chromedp.Click(chromedp.CSS(`a[href="/portal/rules#cfr-164-524"]`)),
		chromedp.WaitVisible(chromedp.ID("cfr-164-524"))); err != nil {
		t.Fatalf("the rules page: %v", err)
	}
	if got := text("#cfr-164-524"); !strings.Contains(got, "your right to your records") {
		t.Errorf("the rules page explains 164.524 as %q", got)
	}
	checkPage(t, ctx, "rules")

	// Signed out, the pages send her to the start again.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("status"))); err != nil {
		t.Fatalf("signing out: %v", err)
	}
	if got := text("#status"); got != "You are signed out." {
		t.Errorf("after signing out: %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/copies"), chromedp.WaitVisible(chromedp.ID("signin"))); err != nil {
		t.Fatalf("the copies page after signing out: %v", err)
	}

	// Her clinician signs in: what waits on the clinic's clocks, her request among it.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SetValue(chromedp.ID("user"), "dr-lee"), chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("access-requests"))); err != nil {
		t.Fatalf("signing in as staff: %v", err)
	}
	if got := text("#access-requests"); !strings.Contains(got, "All my progress notes since January") || !strings.Contains(got, "("+e.a+")") {
		t.Errorf("what waits on the clinician: %q", got)
	}
	checkPage(t, ctx, "staff")
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/records"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	if got := text("h1"); got != "Not found" {
		t.Errorf("a client's page with a staff login: %q", got)
	}

	// A client login linked to no client: the portal says so, and opens nothing.
	e.issuer.ClientLogins(e.clinic)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("signin")),
		chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("client")),
		chromedp.SendKeys(chromedp.ID("client"), "nobody"), chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitNotPresent(chromedp.ID("client"))); err != nil {
		t.Fatalf("signing in as an unlinked client login: %v", err)
	}
	if got := text("main"); !strings.Contains(got, "not linked to a client") {
		t.Errorf("an unlinked client login in the portal: %q", got)
	}
}

// TestPortalRepresentative: a parent in Illinois with a 9-year-old and a 13-year-old signs in
// to the portal. They open the 9-year-old's records, download the copy released to them and
// may sign authorizations; the portal says why the 13-year-old's are not shown (the child was
// not told, 740 ILCS 110/4(a)(3)); once the child is told, the parent sees them but may not
// sign for the child (740 ILCS 110/5).
func TestPortalRepresentative(t *testing.T) {
	e := newDownloadEnv(t)
	e.issuer.ClientLogins(e.clinic)
	e.must(t, http.StatusOK, nil, "admin", "PUT", "/v1/clinic/jurisdiction", map[string]string{"jurisdiction": "US-IL"})
	ria := e.clientBorn(t, time.Now().AddDate(-9, 0, 0).Format(time.DateOnly))
	sam := e.clientBorn(t, time.Now().AddDate(-13, 0, 0).Format(time.DateOnly))
	const parent = "client-parent-of-two"
	for _, kid := range []string{ria, sam} {
		e.must(t, http.StatusNoContent, nil, "admin", "PUT", "/v1/clients/"+kid+"/representatives/"+parent, map[string]any{"relationship": "parent"})
	}
	note := e.signedNote(t, recordvault.ProgressNote, ria)
	var r app.ReleaseView
	e.must(t, http.StatusCreated, &r, "dr-lee", "POST", "/v1/clients/"+ria+"/releases", map[string]any{"document": note, "basis": "right_of_access",
		"purpose": "the parent's copy", "recipient": map[string]any{"kind": "personal_representative", "id": parent, "for": ria,
			"representation": map[string]string{"relationship": "parent"}}})
	if r.Status != app.ReleaseApproved {
		t.Fatalf("a release to the parent: %+v", r.Decision)
	}

	url := e.servePortal(t)
	downloads := t.TempDir()
	ctx := browse(t, downloads)
	text := func(sel string) string { t.Helper(); return textOf(t, ctx, sel) }
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/"), chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("client")),
		chromedp.SendKeys(chromedp.ID("client"), strings.TrimPrefix(parent, "client-")), chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("whose"))); err != nil {
		t.Fatalf("signing in as the parent: %v", err)
	}
	if got := text("#why-" + sam); !strings.Contains(got, "740 ILCS 110/4(a)(3)") {
		t.Errorf("why the 13-year-old's records are not shown: %q", got)
	}
	checkPage(t, ctx, "representative")
	// Ria's records: the copy released to the parent, downloaded with their own login.
	if there, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.getElementById("act-for-`+ria+`")`)); err != nil {
		t.Fatal(err)
	} else if there {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("act-for-"+ria)), chromedp.WaitNotPresent(chromedp.ID("act-for-"+ria))); err != nil {
			t.Fatal(err)
		}
	}
	if got := text("#acting-for"); !strings.HasPrefix(got, "You are looking at Client ") {
		t.Errorf("acting for: %q", got)
	}
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/copies"), chromedp.Click(chromedp.ID("download-"+r.ID))); err != nil {
		t.Fatalf("the parent's copy: %v", err)
	}
	if pdf := downloaded(t, progress, downloads); !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("the parent's download: %.20q", pdf)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/authorizations"), chromedp.WaitVisible(chromedp.ID("authorize"))); err != nil {
		t.Fatalf("the parent may sign for the 9-year-old: %v", err)
	}

	// Sam is told and does not object: the parent sees Sam's records, but Sam signs for Sam.
	e.must(t, http.StatusNoContent, nil, "admin", "PUT", "/v1/clients/"+sam+"/representatives/"+parent, map[string]any{"relationship": "parent", "minor_informed": true})
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/"), chromedp.Click(chromedp.ID("act-for-"+sam)),
		chromedp.WaitNotPresent(chromedp.ID("act-for-"+sam)), chromedp.Navigate(url+"/portal/authorizations"),
		chromedp.WaitVisible(chromedp.ID("cannot-sign"))); err != nil {
		t.Fatalf("the 13-year-old's authorizations: %v", err)
	}
	if got := text("#cannot-sign"); !strings.Contains(got, "740 ILCS 110/5") {
		t.Errorf("why the parent may not sign for the 13-year-old: %q", got)
	}
	checkPage(t, ctx, "representative-authorizations")
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/portal/records"), chromedp.WaitVisible(chromedp.ID("none"))); err != nil {
		t.Fatalf("the 13-year-old's file, open to the parent now: %v", err)
	}
}
