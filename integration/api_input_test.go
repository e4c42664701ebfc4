//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/handlers"
)

// TestAPIBadInput: each malformed request gets a 4xx RFC 9457 problem that says what is wrong
// without repeating what was sent, and leaves the bucket exactly as it was (every key and
// ETag listed before and after).
func TestAPIBadInput(t *testing.T) {
	e := newAPIEnv(t, map[string][]recordvault.Role{"dr-lee": {recordvault.RoleClinician}})
	client := e.createClient(t, "dr-lee", nil)
	records := "/v1/clients/" + client + "/records"
	var draft app.RecordView
	e.must(t, http.StatusCreated, &draft, "dr-lee", "POST", records, map[string]any{"category": "evaluation",
		"fields": map[string]any{"date_of_service": "2026-11-01", "summary": "s"}})
	attach := records + "/" + draft.ID + "/attachments"

	note := func(edit func(f map[string]any)) map[string]any {
		f := progressNote("plan")
		edit(f)
		return map[string]any{"category": "progress_note", "fields": f}
	}
	secret := "SECRET-" + newID()
	cases := []struct {
		name, method, path string
		body               any
		header             []string
		status             int
	}{
		{"malformed JSON", "POST", records, `{"category": "progress_note", "fields": {`, nil, 400},
		{"not JSON at all", "POST", records, secret, nil, 400},
		{"two documents", "POST", records, `{"category":"progress_note","fields":{}} {}`, nil, 400},
		{"empty body", "POST", records, "", nil, 400},
		{"unknown top-level field", "POST", records, map[string]any{"category": "progress_note", "fields": progressNote("p"), "owner": "x"}, nil, 400},
		{"unknown record field", "POST", records, note(func(f map[string]any) { f["favourite_colour"] = secret }), nil, 400},
		{"missing required field", "POST", records, note(func(f map[string]any) { delete(f, "cpt_code") }), nil, 400},
		{"text where a list goes", "POST", records, note(func(f map[string]any) { f["diagnosis_codes"] = secret }), nil, 400},
		{"number where text goes", "POST", records, note(func(f map[string]any) { f["plan"] = 42 }), nil, 400},
		{"bad date", "POST", records, note(func(f map[string]any) { f["date_of_service"] = "20/11/2026" }), nil, 400},
		{"stop before start", "POST", records, note(func(f map[string]any) { f["stop_time"] = "08:00" }), nil, 400},
		{"bad CPT code", "POST", records, note(func(f map[string]any) { f["cpt_code"] = secret }), nil, 400},
		{"psychotherapy fields in a progress note", "POST", records, note(func(f map[string]any) { f["process_notes"] = "x" }), nil, 400},
		{"unknown category", "POST", records, map[string]any{"category": "diary", "fields": map[string]any{}}, nil, 400},
		{"category of the wrong type", "POST", records, map[string]any{"category": 7, "fields": map[string]any{}}, nil, 400},
		{"oversized body", "POST", records, note(func(f map[string]any) { f["plan"] = strings.Repeat("x", 2<<20) }), nil, 413},
		{"oversized text field", "POST", records, note(func(f map[string]any) { f["plan"] = strings.Repeat("x", recordvault.MaxTextField+1) }), nil, 400},
		{"invalid UTF-8", "POST", records, []byte("{\"category\":\"progress_note\",\"fields\":{\"plan\":\"\xff\xfe\"}}"), nil, 400},
		{"wrong content type", "POST", records, note(func(map[string]any) {}), []string{"Content-Type", "text/plain"}, 415},
		{"client id with dots", "POST", "/v1/clients/..%2F..%2Fetc/records", note(func(map[string]any) {}), nil, 400},
		{"client id with a slash", "POST", "/v1/clients/a%2Fb/records", note(func(map[string]any) {}), nil, 400},
		{"client id with capitals", "POST", "/v1/clients/ABC/records", note(func(map[string]any) {}), nil, 400},
		{"client id with a NUL", "POST", "/v1/clients/a%00b/records", note(func(map[string]any) {}), nil, 400},
		{"record id of dot-dot", "GET", records + "/..", nil, nil, 400},
		{"other participant with a path", "POST", records, map[string]any{"category": "progress_note", "fields": progressNote("p"), "other_participants": []string{"../x"}}, nil, 400},
		{"participant named twice", "POST", records, map[string]any{"category": "progress_note", "fields": progressNote("p"), "other_participants": []string{client}}, nil, 400},
		{"huge header", "GET", records, nil, []string{"X-Padding", strings.Repeat("a", 32<<10)}, 431},
		{"bad page limit", "GET", records + "?limit=100000", nil, nil, 400},
		{"bad page cursor", "GET", records + "?after=../x", nil, nil, 400},
		{"attachment that is not a PDF", "POST", attach, []byte(secret + " plain text"), []string{"Content-Type", "application/pdf"}, 415},
		{"attachment sent as JSON", "POST", attach, []byte("%PDF-1.7"), nil, 415},
		{"bad range", "GET", records + "/" + draft.ID + "/attachments/" + newID(), nil, []string{"Range", "bytes=5-2"}, 416},
		{"identity without a date of birth", "POST", "/v1/clients", map[string]any{"identity": map[string]string{"full_name": secret}}, nil, 400},
		{"identity with a future date of birth", "POST", "/v1/clients", map[string]any{"identity": map[string]string{"full_name": secret, "date_of_birth": "2999-01-01"}}, nil, 400},
		{"signing an evaluation without its document", "POST", records + "/" + draft.ID + "/sign", nil, nil, 400},
	}
	for _, tc := range cases {
		before := e.bucketState(t)
		status, h, body := e.call(t, "dr-lee", tc.method, tc.path, tc.body, tc.header...)
		var p struct {
			Type, Title, Detail, Code string
			Status                    int
		}
		err := json.Unmarshal(body, &p)
		switch {
		case status != tc.status:
			t.Errorf("%s: %d %s, want %d", tc.name, status, body, tc.status)
		case h.Get("Content-Type") != "application/problem+json" || err != nil || p.Status != status || !strings.HasPrefix(p.Type, "urn:recordvault:problem:") || p.Detail == "":
			t.Errorf("%s: not a problem document: %s %s", tc.name, h.Get("Content-Type"), body)
		case bytes.Contains(body, []byte(secret)) || bytes.Contains(body, []byte("xxxxxxxx")):
			t.Errorf("%s: the answer repeats what was sent: %s", tc.name, body)
		}
		if after := e.bucketState(t); !maps.Equal(before, after) {
			t.Errorf("%s: the bucket changed: %d objects before, %d after", tc.name, len(before), len(after))
		}
		t.Logf("%-40s %d %s", tc.name, status, p.Detail)
	}
}

// TestAPISlowAndBrokenUploads: an attachment whose body stalls past its deadline is answered
// 408, one whose body breaks off before its Content-Length 400, both as problems, not as
// internal errors; neither leaves anything in the bucket, and the draft takes an attachment
// afterwards. (Sent over a bare connection: Go's client will not send a body shorter than
// its length.)
func TestAPISlowAndBrokenUploads(t *testing.T) {
	e := newAPIEnv(t, map[string][]recordvault.Role{"dr-lee": {recordvault.RoleClinician}})
	client := e.createClient(t, "dr-lee", nil)
	var draft app.RecordView
	e.must(t, http.StatusCreated, &draft, "dr-lee", "POST", "/v1/clients/"+client+"/records", map[string]any{"category": "evaluation",
		"fields": map[string]any{"date_of_service": "2026-11-01", "summary": "s"}})
	attach := "/v1/clients/" + client + "/records/" + draft.ID + "/attachments"
	url := e.serve(t, handlers.WithBodyDeadline(500*time.Millisecond, 1<<20))
	tok, err := e.issuer.Mint("dr-lee")
	if err != nil {
		t.Fatal(err)
	}
	pdf := append([]byte("%PDF-1.7\n"), randomBytes(300_000)...) // five stream chunks
	for _, tc := range []struct {
		name   string
		cut    bool
		status int
	}{
		{"stalled", false, http.StatusRequestTimeout},
		{"broken off", true, http.StatusBadRequest},
	} {
		before := e.bucketState(t)
		conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: rv\r\nAuthorization: Bearer %s\r\nContent-Type: application/pdf\r\nContent-Length: %d\r\n\r\n",
			attach, tok, len(pdf))
		conn.Write(pdf[:150_000]) // past two chunk boundaries
		if tc.cut {
			conn.(*net.TCPConn).CloseWrite()
		}
		conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a server that never answers fails the test, not hangs it
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, body, tc.status)
		}
		if after := e.bucketState(t); !maps.Equal(before, after) {
			t.Errorf("%s: the bucket changed: %d objects before, %d after", tc.name, len(before), len(after))
		}
	}
	if log := e.serverLog.String(); strings.Contains(log, "internal error") {
		t.Errorf("a body's failure was logged as an internal error:\n%s", log)
	}
	e.must(t, http.StatusCreated, nil, "dr-lee", "POST", attach, pdf, "Content-Type", "application/pdf")
}
