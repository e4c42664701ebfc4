//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/internal/pdftext"
)

// TestAPICanaryOnlyInDecryptedOutput writes a canary through every kind of input the API
// takes: a client's identity and the search for it, each text field of each category, an
// addendum, an amendment request with every later step, a PDF, and values the API refuses.
// The canary then appears in what the API decrypts for its callers, and nowhere else: not in
// any object key, byte or metadata of the bucket, the server's log (at debug level), the audit
// trail, or a problem answer.
func TestAPICanaryOnlyInDecryptedOutput(t *testing.T) {
	e := newAPIEnv(t, map[string][]recordvault.Role{"admin": {recordvault.RoleClinicAdmin}, "dr-lee": {recordvault.RoleClinician}})
	var problems [][]byte
	send := func(want int, out any, method, path string, body any, header ...string) []byte {
		t.Helper()
		status, h, b := e.call(t, "dr-lee", method, path, body, header...)
		if status != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
		}
		if h.Get("Content-Type") == "application/problem+json" {
			problems = append(problems, b)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return b
	}
	identity := recordvault.Identity{FullName: "Jane " + canary, DateOfBirth: "1970-01-01", Email: canary + "@example.org",
		Phone: canary, Address: "1 " + canary + " Street"}
	var cl app.ClientView
	send(http.StatusCreated, &cl, "POST", "/v1/clients", map[string]any{"identity": identity})
	found := send(http.StatusOK, nil, "POST", "/v1/clients/search", map[string]string{"full_name": identity.FullName, "date_of_birth": "1970-01-01"})
	if !bytes.Contains(found, []byte(cl.ID)) {
		t.Fatalf("search by the canary name: %s", found)
	}
	base := "/v1/clients/" + cl.ID + "/records"
	var decrypted [][]byte
	for category, fields := range map[recordvault.Category]map[string]any{
		recordvault.ProgressNote: {"date_of_service": "2026-11-20", "start_time": "09:00", "stop_time": "09:50", "modality": "individual",
			"cpt_code": "90834", "diagnosis_codes": []string{"F41.1"}, "mental_status": canary, "interventions": canary,
			"progress": canary, "plan": canary, "risk_assessment": canary},
		recordvault.PsychotherapyNote: {"process_notes": canary},
		recordvault.SUDRecord:         {"date_of_service": "2026-11-20", "note": canary},
	} {
		var rec app.RecordView
		send(http.StatusCreated, &rec, "POST", base, map[string]any{"category": category, "fields": fields, "sign": true})
		send(http.StatusCreated, nil, "POST", base+"/"+rec.ID+"/addenda", map[string]string{"text": "addendum " + canary})
		var a recordvault.Amendment
		send(http.StatusCreated, &a, "POST", base+"/"+rec.ID+"/amendments", map[string]string{
			"received": time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly), "requested_change": canary, "reason": canary})
		steps := base + "/" + rec.ID + "/amendments/" + a.ID
		send(http.StatusOK, nil, "POST", steps+"/extension", map[string]string{"reason": canary})
		send(http.StatusOK, nil, "POST", steps+"/decision", map[string]string{"outcome": "denied", "ground": "accurate_and_complete", "explanation": canary})
		send(http.StatusOK, nil, "POST", steps+"/disagreement", map[string]string{"statement": canary})
		send(http.StatusOK, nil, "POST", steps+"/rebuttal", map[string]string{"text": canary})
		decrypted = append(decrypted, send(http.StatusOK, nil, "GET", base+"/"+rec.ID, nil))
	}
	var eval app.RecordView
	send(http.StatusCreated, &eval, "POST", base, map[string]any{"category": "evaluation",
		"fields": map[string]any{"date_of_service": "2026-11-20", "summary": canary, "instruments": canary}})
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte(canary+"\n"), 3000)...) // several chunks
	var att app.AttachmentView
	send(http.StatusCreated, &att, "POST", base+"/"+eval.ID+"/attachments", pdf, "Content-Type", "application/pdf")
	send(http.StatusOK, nil, "POST", base+"/"+eval.ID+"/sign", nil)
	decrypted = append(decrypted, send(http.StatusOK, nil, "GET", base+"/"+eval.ID, nil),
		send(http.StatusOK, nil, "GET", base+"/"+eval.ID+"/attachments/"+att.ID, nil),
		send(http.StatusOK, nil, "GET", "/v1/clients/"+cl.ID, nil))

	// Values the API refuses: each answer names the field, never the value.
	send(http.StatusBadRequest, nil, "POST", base, map[string]any{"category": "progress_note", "fields": map[string]any{"date_of_service": canary}})
	send(http.StatusBadRequest, nil, "POST", base, map[string]any{"category": canary, "fields": map[string]any{}})
	send(http.StatusBadRequest, nil, "POST", "/v1/clients", map[string]any{"identity": recordvault.Identity{FullName: canary, DateOfBirth: canary}})
	send(http.StatusBadRequest, nil, "POST", base+"/"+eval.ID+"/amendments", map[string]string{"received": canary, "requested_change": canary})
	send(http.StatusBadRequest, nil, "POST", base, `{"category": "`+canary+`", "fields": {"plan": "`+canary+`"`)

	for i, d := range decrypted {
		if canaryIn(d) == "" {
			t.Fatalf("positive control: decrypted answer %d lacks the canary: %.300s", i, d)
		}
	}
	if len(problems) != 5 {
		t.Fatalf("%d problem answers, want 5", len(problems))
	}
	if form := canaryIn(problems...); form != "" {
		t.Errorf("canary form %q in a problem answer", form)
	}
	if form := canaryIn([]byte(e.serverLog.String())); form != "" || e.serverLog.String() == "" {
		t.Errorf("canary form %q in the server's log (%d bytes)", form, len(e.serverLog.String()))
	}
	if form := canaryIn([]byte(e.auditLog.String())); form != "" || e.auditLog.String() == "" {
		t.Errorf("canary form %q in the audit trail (%d bytes)", form, len(e.auditLog.String()))
	}
	objects := bucketObjects(t, e.raw, e.bucket)
	for key, content := range objects {
		if form := canaryIn([]byte(key), content); form != "" {
			t.Errorf("canary form %q in object %s", form, key)
		}
	}
	t.Logf("%d objects, %d bytes of server log and %d of audit trail scanned; %d decrypted answers hold the canary",
		len(objects), len(e.serverLog.String()), len(e.auditLog.String()), len(decrypted))
}

// TestAPIReleaseCanaryOnlyInDecryptedOutput writes a canary into everything the release
// engine takes: an authorization's description, purpose and representative, a release's
// purpose and recipient (name, address, email), a court order's court and purpose, an access
// request's description, a revocation reason; and then redeems a release for a PDF and asks
// for a one-time code. The canary comes back in what the API decrypts, and appears in no
// object of the bucket, the server's log, the audit trail or a problem answer.
func TestAPIReleaseCanaryOnlyInDecryptedOutput(t *testing.T) {
	e := newDownloadEnv(t)
	base := "/v1/clients/" + e.a
	var decrypted, problems [][]byte
	send := func(want int, user, method, path string, body any, header ...string) []byte {
		t.Helper()
		status, h, b := e.call(t, user, method, path, body, header...)
		if status != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
		}
		if h.Get("Content-Type") == "application/problem+json" {
			problems = append(problems, b)
		}
		return b
	}
	form := authorizationForm("smith-law", recordvault.ProgressNote)
	form["description"], form["purpose"], form["representative"], form["representative_authority"] = canary, canary, canary, canary
	var auth app.AuthorizationView
	json.Unmarshal(send(http.StatusCreated, "admin", "POST", base+"/authorizations", form), &auth)
	recipient := map[string]string{"kind": "attorney", "id": "smith-law", "name": canary, "address": canary, "email": "canary@example.org"}
	var r app.ReleaseView
	json.Unmarshal(send(http.StatusCreated, "dr-lee", "POST", base+"/releases", map[string]any{"document": e.note,
		"basis": "authorization", "purpose": canary, "recipient": recipient}), &r)
	decrypted = append(decrypted, send(http.StatusOK, "admin", "GET", base+"/releases/"+r.ID, nil),
		send(http.StatusOK, "admin", "GET", base+"/authorizations", nil))
	var tok app.TokenView
	json.Unmarshal(send(http.StatusCreated, "admin", "POST", base+"/releases/"+r.ID+"/tokens", nil), &tok)
	send(http.StatusAccepted, "", "POST", "/downloads/code", map[string]string{"token": tok.Token})
	code := e.mailbox.lastCode(t, "canary@example.org")
	pdf := send(http.StatusOK, "", "POST", "/downloads", map[string]string{"token": tok.Token, "code": code}, "Accept", "application/pdf")
	pages, err := pdftext.Pages(pdf)
	if err != nil {
		t.Fatal(err)
	}
	decrypted = append(decrypted, []byte(strings.Join(pages, "")))
	var order app.OrderView
	json.Unmarshal(send(http.StatusCreated, "admin", "POST", base+"/court-orders", map[string]any{"court": canary, "issued": "2026-11-01",
		"purpose": canary, "recipient": map[string]string{"kind": "attorney", "id": "jones-law", "email": "jones-law@recipients.example", "name": canary},
		"categories": []string{"progress_note"}, "from": "2026-01-01", "to": "2026-12-31"}), &order)
	decrypted = append(decrypted, send(http.StatusOK, "admin", "GET", base+"/court-orders/"+order.ID, nil),
		send(http.StatusOK, "admin", "GET", base+"/accounting", nil))
	send(http.StatusCreated, "admin", "POST", base+"/access-requests", map[string]any{"received": time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly),
		"requested_by": map[string]string{"kind": "client", "name": canary}, "description": canary, "format": canary})
	decrypted = append(decrypted, send(http.StatusOK, "admin", "GET", base+"/access-requests", nil))
	send(http.StatusOK, "admin", "POST", base+"/releases/"+r.ID+"/revoke", map[string]string{"reason": canary})
	send(http.StatusOK, "admin", "POST", base+"/authorizations/"+auth.ID+"/revoke", nil)
	// Refused input naming the canary: the answer names the field, never the value.
	send(http.StatusBadRequest, "admin", "POST", base+"/court-orders", map[string]any{"court": canary, "issued": canary,
		"recipient": map[string]string{"kind": "attorney", "id": "x", "email": "x@recipients.example"}, "categories": []string{"progress_note"}, "from": canary, "to": canary, "purpose": canary})
	send(http.StatusBadRequest, "dr-lee", "POST", base+"/releases", map[string]any{"document": e.note, "basis": canary,
		"recipient": map[string]string{"kind": "client"}, "purpose": canary})

	for i, d := range decrypted {
		if canaryIn(d) == "" {
			t.Errorf("positive control: decrypted answer %d lacks the canary: %.200s", i, d)
		}
	}
	if form := canaryIn(problems...); form != "" {
		t.Errorf("canary form %q in a problem answer", form)
	}
	for name, text := range map[string]string{"server log": e.serverLog.String(), "audit trail": e.auditLog.String()} {
		if form := canaryIn([]byte(text)); form != "" || text == "" {
			t.Errorf("canary form %q in the %s (%d bytes)", form, name, len(text))
		}
		// Recipient ids, addresses and codes are the clinic's and the recipient's, not the trail's.
		for _, label := range []string{"smith-law", "jones-law", "canary@example.org", code} {
			if strings.Contains(text, label) {
				t.Errorf("%q in the %s", label, name)
			}
		}
	}
	objects := bucketObjects(t, e.raw, e.bucket)
	for key, content := range objects {
		if form := canaryIn([]byte(key), content); form != "" || bytes.Contains(content, []byte("canary@example.org")) {
			t.Errorf("canary form %q or the address in object %s", form, key)
		}
	}
	t.Logf("%d objects, %d bytes of server log and %d of audit trail scanned; %d decrypted answers hold the canary",
		len(objects), len(e.serverLog.String()), len(e.auditLog.String()), len(decrypted))
}
