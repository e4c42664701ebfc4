//go:build integration

package integration

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/otp"
	"github.com/recordvault/recordvault/tokens"
)

// fetch sends req's method to path as user ("" for none) with headers, and returns the
// answer with at most limit bytes of its body read (-1: all), as a dropped connection would.
func (e *downloadEnv) fetch(t *testing.T, user, method, path string, body any, limit int64, header ...string) (*http.Response, []byte) {
	t.Helper()
	resp := e.send(t, user, method, path, body, header...)
	defer resp.Body.Close()
	r := io.Reader(resp.Body)
	if limit >= 0 {
		r = io.LimitReader(r, limit)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestAPIDownloadSession: a single-use link survives a dropped connection. The client chooses
// the PDF before redeeming and reads only the first 100 bytes; within the session the answer
// opened, the rest is resumed with Range, and the two parts are the copy the session serves
// whole, byte for byte, whatever Accept says now. The session belongs to the login that
// redeemed: another client's, none, or a forged secret is refused as any bad link is. A ZIP
// bundle redeemed by an attorney's one-time code is resumed the same way, with the session's
// secret alone, and opens with its attachment intact. Each delivery in full is audited. The
// session ends after its time, and with the release.
func TestAPIDownloadSession(t *testing.T) {
	e := newDownloadEnv(t)
	tok := e.token(t, "dr-lee", e.a, e.release)
	first, head := e.fetch(t, "pat", "POST", "/downloads", map[string]string{"token": tok, "format": "pdf"}, 100)
	session := first.Header.Get("Download-Session")
	size, _ := strconv.Atoi(first.Header.Get("Content-Length"))
	if first.StatusCode != http.StatusOK || session == "" || first.Header.Get("Accept-Ranges") != "bytes" || size <= 100 ||
		first.Header.Get("Content-Type") != "application/pdf" || strings.Contains(session, tok) {
		t.Fatalf("redemption: %d %v", first.StatusCode, first.Header)
	}
	patSession := session
	if s, _, _ := e.redeem(t, "pat", tok); s != http.StatusUnauthorized {
		t.Fatalf("the token redeemed again: %d", s)
	}
	rest, tail := e.fetch(t, "pat", "GET", "/downloads/session", nil, -1, "Download-Session", session, "Range", "bytes=100-", "Accept", "application/json")
	if want := "bytes 100-" + strconv.Itoa(size-1) + "/" + strconv.Itoa(size); rest.StatusCode != http.StatusPartialContent ||
		rest.Header.Get("Content-Range") != want || len(tail) != size-100 {
		t.Fatalf("resumed: %d %v, %d bytes", rest.StatusCode, rest.Header, len(tail))
	}
	whole, all := e.fetch(t, "pat", "GET", "/downloads/session", nil, -1, "Download-Session", session)
	if whole.StatusCode != http.StatusOK || !bytes.Equal(append(head, tail...), all) {
		t.Fatalf("the resumed parts differ from the whole copy: %d, %d+%d bytes vs %d", whole.StatusCode, len(head), len(tail), len(all))
	}
	if text := pdfText(t, all); !strings.Contains(text, "Release "+e.release) {
		t.Fatalf("the copy: %q", text)
	}
	forged := session[:len(session)-1] + map[bool]string{true: "A", false: "B"}[!strings.HasSuffix(session, "A")]
	for name, c := range map[string]struct{ user, session string }{
		"another client": {"sam", session}, "no login": {"", session}, "a forged secret": {"pat", forged},
		"no session": {"pat", ""}, "a malformed session": {"pat", "../x"},
	} {
		if resp, b := e.fetch(t, c.user, "GET", "/downloads/session", nil, -1, "Download-Session", c.session); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
		}
	}
	if resp, _ := e.fetch(t, "pat", "GET", "/downloads/session", nil, -1, "Download-Session", session, "Range", "bytes="+strconv.Itoa(size)+"-"); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("a range past the end: %d", resp.StatusCode)
	}

	// A bundle, by an attorney's one-time code: resumed with the session's secret alone.
	base := "/v1/clients/" + e.a
	var eval app.RecordView
	e.must(t, http.StatusCreated, &eval, "dr-lee", "POST", base+"/records", map[string]any{"category": "evaluation",
		"fields": map[string]any{"date_of_service": "2026-11-02", "summary": "WAIS-IV within normal limits."}})
	attached := append([]byte("%PDF-1.7\n"), randomBytes(300_000)...)
	e.must(t, http.StatusCreated, nil, "dr-lee", "POST", base+"/records/"+eval.ID+"/attachments", attached, "Content-Type", "application/pdf")
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", base+"/records/"+eval.ID+"/sign", nil)
	e.must(t, http.StatusCreated, nil, "admin", "POST", base+"/authorizations", authorizationForm("smith-law", recordvault.Evaluation))
	const address = "records@smith-law.example"
	var r app.ReleaseView
	e.must(t, http.StatusCreated, &r, "dr-lee", "POST", base+"/releases", map[string]any{"document": eval.ID, "basis": "authorization",
		"recipient": map[string]string{"kind": "attorney", "id": "smith-law", "email": address}, "purpose": "custody"})
	tok = e.token(t, "dr-lee", e.a, r.ID)
	e.must(t, http.StatusAccepted, nil, "", "POST", "/downloads/code", map[string]string{"token": tok})
	first, head = e.fetch(t, "", "POST", "/downloads", map[string]string{"token": tok, "code": e.mailbox.lastCode(t, address), "format": "document"}, 200_000)
	session = first.Header.Get("Download-Session")
	size, _ = strconv.Atoi(first.Header.Get("Content-Length"))
	if first.StatusCode != http.StatusOK || first.Header.Get("Content-Type") != "application/zip" || size < len(attached) {
		t.Fatalf("bundle redemption: %d %v", first.StatusCode, first.Header)
	}
	rest, tail = e.fetch(t, "", "GET", "/downloads/session", nil, -1, "Download-Session", session, "Range", "bytes="+strconv.Itoa(len(head))+"-")
	bundle := append(head, tail...)
	z, err := zip.NewReader(bytes.NewReader(bundle), int64(len(bundle)))
	if rest.StatusCode != http.StatusPartialContent || err != nil || len(bundle) != size || len(z.File) != 2 {
		t.Fatalf("resumed bundle: %d, %v, %d of %d bytes", rest.StatusCode, err, len(bundle), size)
	}
	rc, err := z.File[1].Open()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, attached) {
		t.Fatalf("the resumed bundle's attachment differs: %d bytes", len(got))
	}
	if n := strings.Count(e.auditLog.String(), `"action":"download_delivered"`); n < 3 {
		t.Errorf("%d deliveries in full audited, want at least 3", n)
	}

	// The session ends with its time, and with the release.
	ctx := context.Background()
	later := e.anotherProcess(t, func() time.Time { return time.Now().Add(otp.SessionTTL + time.Minute) })
	if _, _, err := later.Resume(ctx, app.Proof{}, session); err != tokens.ErrInvalid {
		t.Errorf("a session past its time: %v", err)
	}
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", base+"/releases/"+r.ID+"/revoke", map[string]string{"reason": "sent in error"})
	if _, _, err := e.api.Resume(ctx, app.Proof{}, session); err != tokens.ErrInvalid {
		t.Errorf("a session of a revoked release: %v", err)
	}
	pat := access.Caller{ID: "pat", Clinic: e.clinic, Roles: []recordvault.Role{recordvault.RoleClient}}
	if _, _, err := e.api.Resume(ctx, app.Proof{Caller: &pat}, patSession); err != nil {
		t.Errorf("the client's session, still live: %v", err)
	}
}
