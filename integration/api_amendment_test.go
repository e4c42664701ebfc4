//go:build integration

package integration

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
)

// TestAPIAmendmentRequests follows two requests to amend a signed progress note (45 CFR
// 164.526) over HTTP: one extended, denied, disagreed with and rebutted, one accepted. Both
// are returned with the record; the record itself never changes; only the care team can
// record or answer them, and an outsider learns nothing.
func TestAPIAmendmentRequests(t *testing.T) {
	e := newAPIEnv(t, map[string][]recordvault.Role{
		"admin": {recordvault.RoleClinicAdmin}, "dr-lee": {recordvault.RoleClinician},
		"dr-patel": {recordvault.RoleClinician}, "dr-out": {recordvault.RoleClinician}})
	client := e.createClient(t, "admin", []string{"dr-lee", "dr-patel"})
	base := "/v1/clients/" + client + "/records"
	var rec, draft, process app.RecordView
	e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", base, map[string]any{"category": "progress_note", "fields": progressNote("weekly CBT"), "sign": true})
	e.must(t, http.StatusCreated, &draft, "dr-lee", "POST", base, map[string]any{"category": "progress_note", "fields": progressNote("draft")})
	e.must(t, http.StatusCreated, &process, "dr-lee", "POST", base, map[string]any{"category": "psychotherapy_note",
		"fields": map[string]string{"process_notes": "transference"}, "sign": true})
	path := base + "/" + rec.ID
	received := time.Now().UTC().AddDate(0, 0, -1)
	request := map[string]string{"received": received.Format(time.DateOnly),
		"requested_change": "The note says I missed work; I did not. " + canary, "reason": "It is used by my employer."}

	// Who may record a request, and one answer for everyone else.
	status, _, unknown := e.call(t, "dr-out", "POST", base+"/"+newID()+"/amendments", request)
	for _, who := range []string{"dr-out", "admin"} {
		s, _, b := e.call(t, who, "POST", path+"/amendments", request)
		if s != http.StatusNotFound || s != status || string(b) != string(unknown) {
			t.Errorf("%s requesting an amendment: %d %s; unknown record: %d %s", who, s, b, status, unknown)
		}
	}
	if s, _, b := e.call(t, "dr-patel", "POST", base+"/"+process.ID+"/amendments", request); s != http.StatusNotFound {
		t.Errorf("an amendment of another's psychotherapy note: %d %s", s, b)
	}
	if s, _, b := e.call(t, "dr-lee", "POST", base+"/"+draft.ID+"/amendments", request); s != http.StatusConflict {
		t.Errorf("an amendment of a draft: %d %s", s, b)
	}

	// The first request: extended once, denied, disagreed with, rebutted.
	var a app.RecordView
	var denied recordvault.Amendment
	e.must(t, http.StatusCreated, &denied, "dr-patel", "POST", path+"/amendments", request)
	if want := received.AddDate(0, 0, 60).Format(time.DateOnly); denied.Status != recordvault.StatusRequested || denied.Due != want || denied.Request.RecordedBy != "dr-patel" {
		t.Fatalf("new request: %+v, want due %s", denied, want)
	}
	steps := path + "/amendments/" + denied.ID
	e.must(t, http.StatusOK, &denied, "dr-lee", "POST", steps+"/extension", map[string]string{"reason": "The session audio is archived off site."})
	if want := received.AddDate(0, 0, 90).Format(time.DateOnly); denied.Due != want || denied.Extension == nil {
		t.Fatalf("extended request: %+v, want due %s", denied, want)
	}
	var add app.AddendumView
	e.must(t, http.StatusCreated, &add, "dr-lee", "POST", path+"/addenda", map[string]string{"text": "Session started late."})
	before := e.bucketState(t)
	for name, c := range map[string]struct {
		path   string
		body   any
		status int
	}{
		"second extension":       {steps + "/extension", map[string]string{"reason": "again"}, http.StatusConflict},
		"unknown ground":         {steps + "/decision", map[string]string{"outcome": "denied", "ground": "dislike", "explanation": "x"}, http.StatusBadRequest},
		"denial, no reason":      {steps + "/decision", map[string]string{"outcome": "denied", "ground": "accurate_and_complete"}, http.StatusBadRequest},
		"unknown outcome":        {steps + "/decision", map[string]string{"outcome": "maybe"}, http.StatusBadRequest},
		"unknown body field":     {steps + "/decision", map[string]string{"outcome": "accepted", "amendment": "x", "verdict": "y"}, http.StatusBadRequest},
		"disagreement too soon":  {steps + "/disagreement", map[string]string{"statement": "x"}, http.StatusConflict},
		"rebuttal too soon":      {steps + "/rebuttal", map[string]string{"text": "x"}, http.StatusConflict},
		"unknown amendment":      {path + "/amendments/" + newID() + "/decision", map[string]string{"outcome": "accepted", "amendment": "x"}, http.StatusNotFound},
		"addendum as amendment":  {path + "/amendments/" + add.ID + "/decision", map[string]string{"outcome": "accepted", "amendment": "x"}, http.StatusNotFound},
		"malformed amendment id": {path + "/amendments/A..B/decision", map[string]string{"outcome": "accepted", "amendment": "x"}, http.StatusBadRequest},
	} {
		s, h, b := e.call(t, "dr-lee", "POST", c.path, c.body)
		if s != c.status || h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want %d problem", name, s, b, c.status)
		}
	}
	if after := e.bucketState(t); !maps.Equal(before, after) {
		t.Fatalf("refused steps changed the bucket: %d objects before, %d after", len(before), len(after))
	}
	if s, _, b := e.call(t, "dr-out", "POST", steps+"/decision", map[string]string{"outcome": "accepted", "amendment": "x"}); s != http.StatusNotFound || string(b) != string(unknown) {
		t.Errorf("an outsider deciding: %d %s", s, b)
	}
	e.must(t, http.StatusOK, &denied, "dr-lee", "POST", steps+"/decision", map[string]string{"outcome": "denied",
		"ground": "accurate_and_complete", "explanation": "The client's attendance record shows the session."})
	e.must(t, http.StatusOK, &denied, "dr-patel", "POST", steps+"/disagreement", map[string]string{"statement": "I was at work that morning."})
	e.must(t, http.StatusOK, &denied, "dr-lee", "POST", steps+"/rebuttal", map[string]string{"text": "The client signed in at 09:00."})
	for _, again := range []struct{ step, key, value string }{{"/disagreement", "statement", "x"}, {"/rebuttal", "text", "x"},
		{"/decision", "outcome", "accepted"}} {
		if s, _, b := e.call(t, "dr-lee", "POST", steps+again.step, map[string]string{again.key: again.value}); s != http.StatusConflict {
			t.Errorf("%s a second time: %d %s", again.step, s, b)
		}
	}

	// The second request: accepted, the amendment travels with the record.
	var accepted recordvault.Amendment
	e.must(t, http.StatusCreated, &accepted, "dr-lee", "POST", path+"/amendments", map[string]string{
		"received": received.Format(time.DateOnly), "requested_change": "Add that I asked for evening sessions."})
	e.must(t, http.StatusOK, &accepted, "dr-patel", "POST", path+"/amendments/"+accepted.ID+"/decision", map[string]string{
		"outcome": "accepted", "amendment": "Amended: the client asked for evening sessions."})

	e.must(t, http.StatusOK, &a, "dr-patel", "GET", path, nil)
	if a.Status != recordvault.StatusSigned || string(a.Fields["plan"]) != `"weekly CBT"` || len(a.Amendments) != 2 {
		t.Fatalf("record with its amendments: %+v", a)
	}
	got, ok := a.Amendments[0], a.Amendments[1].ID == accepted.ID
	if !ok || got.ID != denied.ID || got.Status != recordvault.StatusDenied || got.Request.Change != request["requested_change"] ||
		got.Extension == nil || got.Decision.Ground != recordvault.GroundAccurateAndComplete || got.Decision.By != "dr-lee" ||
		got.Disagreement.Statement != "I was at work that morning." || got.Disagreement.RecordedBy != "dr-patel" ||
		got.Rebuttal.Text != "The client signed in at 09:00." {
		t.Fatalf("amendments returned with the record: %+v %+v", got, a.Amendments[1])
	}
	if a.Amendments[1].Status != recordvault.StatusAccepted || a.Amendments[1].Decision.Amendment != "Amended: the client asked for evening sessions." {
		t.Fatalf("accepted amendment: %+v", a.Amendments[1])
	}

	// Every step is audited under its own name, and no step's text reaches the trail.
	trail := e.auditLog.String()
	for _, event := range []string{"request_amendment", "extend_amendment", "decide_amendment", "record_disagreement", "rebut_disagreement"} {
		if !strings.Contains(trail, `"action":"`+event+`","client":"`+client+`","record":"`+rec.ID+`","allowed":true`) {
			t.Errorf("no allowed %s event in the audit trail", event)
		}
	}
	if !strings.Contains(trail, `"actor":"dr-out"`) || strings.Contains(trail, canary) || strings.Contains(trail, "evening") {
		t.Error("the audit trail misses the outsider's refusal, or holds an amendment's text")
	}
}

// TestAPIAmendmentRecipients: once an amendment of a note is accepted, whoever decided it
// gets the releases that disclosed the note before, to inform their recipients
// (164.526(c)(3)): approved ones, one of them revoked since; not a refused one, not one of
// another note, not one made after the acceptance. Outsiders get the not-found answer. The
// notice itself is a release to a recipient who downloaded the note before, with the
// client's agreement; a recipient who never downloaded it gets none.
func TestAPIAmendmentRecipients(t *testing.T) {
	e := newDownloadEnv(t)
	client := e.clientBorn(t, "1980-05-01")
	note, other := e.signedNote(t, recordvault.ProgressNote, client), e.signedNote(t, recordvault.ProgressNote, client)
	base := "/v1/clients/" + client
	e.must(t, http.StatusCreated, nil, "admin", "POST", base+"/authorizations", authorizationForm("smith-law", recordvault.ProgressNote))
	const address = "records@smith-law.example"
	attorney := map[string]string{"kind": "attorney", "id": "smith-law", "name": "Smith Law LLP", "address": "1 Main St", "email": address}
	release := func(doc, basis string, recipient map[string]string, want string) app.ReleaseView {
		t.Helper()
		var r app.ReleaseView
		e.must(t, http.StatusCreated, &r, "dr-lee", "POST", base+"/releases", map[string]any{"document": doc, "basis": basis,
			"recipient": recipient, "purpose": "custody proceeding"})
		if r.Status != want {
			t.Fatalf("%s release of %s: %s, want %s (%+v)", basis, doc, r.Status, want, r.Decision.Rule)
		}
		return r
	}
	toAttorney := release(note, "authorization", attorney, app.ReleaseApproved)
	tok := e.token(t, "dr-lee", client, toAttorney.ID) // the attorney downloads the copy
	e.must(t, http.StatusAccepted, nil, "", "POST", "/downloads/code", map[string]string{"token": tok})
	e.must(t, http.StatusOK, nil, "", "POST", "/downloads", map[string]string{"token": tok, "code": e.mailbox.lastCode(t, address)})
	e.must(t, http.StatusCreated, nil, "admin", "POST", base+"/authorizations", authorizationForm("jones-law", recordvault.ProgressNote))
	jones := map[string]string{"kind": "attorney", "id": "jones-law", "email": "jones-law@recipients.example", "name": "Jones LLP"}
	toJones := release(note, "authorization", jones, app.ReleaseApproved) // never downloaded
	toClient := release(note, "right_of_access", map[string]string{"kind": "client"}, app.ReleaseApproved)
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", base+"/releases/"+toClient.ID+"/revoke", map[string]string{"reason": "sent in error"})
	release(note, "subpoena", attorney, app.ReleaseDenied)
	release(other, "right_of_access", map[string]string{"kind": "client"}, app.ReleaseApproved)

	path := base + "/records/" + note
	var a recordvault.Amendment
	e.must(t, http.StatusCreated, &a, "dr-lee", "POST", path+"/amendments", map[string]string{
		"received": time.Now().UTC().Format(time.DateOnly), "requested_change": "The date of service is wrong."})
	recipients := path + "/amendments/" + a.ID + "/recipients"
	if status, _, b := e.call(t, "dr-lee", "GET", recipients, nil); status != http.StatusConflict {
		t.Fatalf("recipients of an undecided amendment: %d %s", status, b)
	}
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", path+"/amendments/"+a.ID+"/decision", map[string]string{"outcome": "accepted",
		"amendment": "The session was on 2026-11-19."})
	release(note, "right_of_access", map[string]string{"kind": "client"}, app.ReleaseApproved) // carries the amendment already

	var got struct{ Items []app.ReleaseView }
	e.must(t, http.StatusOK, &got, "dr-lee", "GET", recipients, nil)
	var ids []string
	for _, r := range got.Items {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	want := []string{toAttorney.ID, toClient.ID, toJones.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("recipients: %v, want the attorneys' and the revoked one %v", ids, want)
	}
	for _, r := range got.Items {
		if r.ID == toAttorney.ID && (r.Recipient.Name != "Smith Law LLP" || r.Recipient.Address != "1 Main St") {
			t.Fatalf("the attorney's release names %+v", r.Recipient)
		}
	}
	_, _, unknown := e.call(t, "dr-out", "GET", base+"/records/"+newID()+"/amendments/"+a.ID+"/recipients", nil)
	if status, _, b := e.call(t, "dr-out", "GET", recipients, nil); status != http.StatusNotFound || string(b) != string(unknown) {
		t.Fatalf("an outsider: %d %s", status, b)
	}

	// The amendment goes to an earlier recipient as a release of its own (164.526(c)(3)),
	// with the client's agreement ((c)(2)): what they had, nothing more, and accounted for.
	notice := func(doc string, recipient map[string]string, amendment string, agreed bool) app.ReleaseView {
		t.Helper()
		var r app.ReleaseView
		e.must(t, http.StatusCreated, &r, "dr-lee", "POST", base+"/releases", map[string]any{"document": doc, "basis": "amendment_notice",
			"recipient": recipient, "purpose": "amendment of a record you received", "notice": map[string]any{"amendment": amendment, "client_agreed": agreed}})
		return r
	}
	sent := notice(note, attorney, a.ID, true)
	if sent.Status != app.ReleaseApproved || !slices.Equal(sent.Decision.Fields, toAttorney.Decision.Fields) || !sent.Decision.Accounted ||
		sent.Notice == nil || sent.Notice.Amendment != a.ID {
		t.Fatalf("the notice to the attorney: %+v", sent)
	}
	var undecided recordvault.Amendment
	e.must(t, http.StatusCreated, &undecided, "dr-lee", "POST", path+"/amendments", map[string]string{
		"received": time.Now().UTC().Format(time.DateOnly), "requested_change": "The plan is wrong."})
	for name, r := range map[string]app.ReleaseView{
		"without the client's agreement":    notice(note, attorney, a.ID, false),
		"to someone who never downloaded":   notice(note, jones, a.ID, true),
		"of an amendment not yet decided":   notice(note, attorney, undecided.ID, true),
		"naming another record's amendment": notice(other, attorney, a.ID, true),
	} {
		if r.Status != app.ReleaseDenied || !strings.HasPrefix(r.Decision.Rule.Citation, "45 CFR 164.526(c)") {
			t.Errorf("a notice %s: %s (%+v)", name, r.Status, r.Decision.Rule)
		}
	}
	for _, body := range []map[string]any{
		{"document": note, "basis": "amendment_notice", "recipient": attorney, "purpose": "p"},
		{"document": note, "basis": "authorization", "recipient": attorney, "purpose": "p", "notice": map[string]any{"amendment": a.ID, "client_agreed": true}},
		{"document": note, "basis": "amendment_notice", "recipient": attorney, "purpose": "p", "notice": map[string]any{"amendment": "../x"}},
	} {
		if status, _, b := e.call(t, "dr-lee", "POST", base+"/releases", body); status != http.StatusBadRequest {
			t.Errorf("%v: %d %s", body, status, b)
		}
	}
	var acc app.Accounting
	e.must(t, http.StatusOK, &acc, "admin", "GET", base+"/accounting", nil)
	if !slices.ContainsFunc(acc.Entries, func(en app.AccountingEntry) bool { return en.Release == sent.ID && en.Basis == "amendment_notice" }) {
		t.Fatalf("the notice is not in the accounting: %+v", acc.Entries)
	}
}

// TestAPIOverdueAmendments: clinic admins list the amendment requests still undecided after
// their due day, read from the audit trail: one received 70 days ago is listed with its due
// day; one received yesterday and one decided are not; one whose document was deleted from
// the bucket is listed as unavailable. Clinicians are refused like any outsider.
func TestAPIOverdueAmendments(t *testing.T) {
	e := newAPIEnv(t, map[string][]recordvault.Role{"admin": {recordvault.RoleClinicAdmin}, "dr-lee": {recordvault.RoleClinician}})
	client := e.createClient(t, "admin", []string{"dr-lee"})
	base := "/v1/clients/" + client + "/records"
	var rec, other app.RecordView
	e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", base, map[string]any{"category": "progress_note", "fields": progressNote("weekly CBT"), "sign": true})
	e.must(t, http.StatusCreated, &other, "dr-lee", "POST", base, map[string]any{"category": "progress_note", "fields": progressNote("intake"), "sign": true})
	ask := func(record string, daysAgo int) recordvault.Amendment {
		var a recordvault.Amendment
		e.must(t, http.StatusCreated, &a, "dr-lee", "POST", base+"/"+record+"/amendments", map[string]string{
			"received": time.Now().UTC().AddDate(0, 0, -daysAgo).Format(time.DateOnly), "requested_change": "the date is wrong"})
		return a
	}
	late, recent, decided, gone := ask(rec.ID, 70), ask(rec.ID, 1), ask(rec.ID, 70), ask(other.ID, 70)
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", base+"/"+rec.ID+"/amendments/"+decided.ID+"/decision",
		map[string]string{"outcome": "accepted", "amendment": "The session was on the 3rd."})
	var key string
	for k := range e.bucketState(t) {
		if strings.HasSuffix(k, "/"+gone.ID) {
			key = k
		}
	}
	if key == "" {
		t.Fatal("the amendment request's object was not found")
	}
	if err := e.raw.RemoveObject(context.Background(), e.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}

	var list struct{ Items []app.OpenAmendment }
	e.must(t, http.StatusOK, &list, "admin", "GET", "/v1/amendments/overdue", nil)
	want := []app.OpenAmendment{
		{Client: client, Record: other.ID, Amendment: gone.ID, Unavailable: true},
		{Client: client, Record: rec.ID, Amendment: late.ID, Due: late.Due, Overdue: true},
	}
	if !slices.Equal(list.Items, want) || late.Due >= time.Now().UTC().Format(time.DateOnly) {
		t.Fatalf("overdue: %+v\nwant %+v (recent %s, decided %s)", list.Items, want, recent.ID, decided.ID)
	}
	if s, _, b := e.call(t, "dr-lee", "GET", "/v1/amendments/overdue", nil); s != http.StatusNotFound {
		t.Errorf("a clinician listing overdue amendments: %d %s", s, b)
	}
}
