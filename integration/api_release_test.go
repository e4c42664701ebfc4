//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/internal/pdftext"
	"github.com/recordvault/recordvault/policy"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// clientBorn takes in a client born on dateOfBirth, with dr-lee on the care team.
func (e *apiEnv) clientBorn(t testing.TB, dateOfBirth string) string {
	t.Helper()
	var c app.ClientView
	e.must(t, http.StatusCreated, &c, "admin", "POST", "/v1/clients", map[string]any{
		"identity": recordvault.Identity{FullName: "Client " + newID(), DateOfBirth: dateOfBirth}, "care_team": []string{"dr-lee"}})
	return c.ID
}

// signedNote writes a signed record of category about participants, as dr-lee.
func (e *apiEnv) signedNote(t testing.TB, category recordvault.Category, participants ...string) string {
	t.Helper()
	fields := map[string]any{"process_notes": "process notes"}
	if category == recordvault.ProgressNote {
		fields = progressNote("weekly CBT")
	}
	var rec app.RecordView
	e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", "/v1/clients/"+participants[0]+"/records",
		map[string]any{"category": category, "fields": fields, "other_participants": participants[1:], "sign": true})
	return rec.ID
}

// authorizationForm is a complete authorization to recipient for categories.
func authorizationForm(recipient string, categories ...recordvault.Category) map[string]any {
	return map[string]any{"description": "progress notes of 2026", "discloser": "the clinic", "recipient": recipient,
		"purpose": "a custody proceeding", "expires": "2027-12-31", "signed": "2026-11-01", "revocation_statement": true,
		"conditioning_statement": true, "redisclosure_statement": true, "categories": categories}
}

var releaseUsers = map[string][]recordvault.Role{"admin": {recordvault.RoleClinicAdmin}, "dr-lee": {recordvault.RoleClinician},
	"dr-out": {recordvault.RoleClinician}}

// TestAPIRightOfAccess: a client's own progress note is released to them; their
// psychotherapy note is refused, unreviewably, with its citation; both decisions are kept,
// audited with their citations, and neither enters the accounting.
func TestAPIRightOfAccess(t *testing.T) {
	e := newAPIEnv(t, releaseUsers)
	client := e.clientBorn(t, "1980-05-01")
	note := e.signedNote(t, recordvault.ProgressNote, client)
	process := e.signedNote(t, recordvault.PsychotherapyNote, client)
	base := "/v1/clients/" + client
	var approved, denied app.ReleaseView
	e.must(t, http.StatusCreated, &approved, "dr-lee", "POST", base+"/releases", map[string]any{"document": note,
		"basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "at the client's request"})
	if approved.Status != app.ReleaseApproved || approved.Decision.Rule.Citation != "45 CFR 164.524(a)(1)" ||
		len(approved.Decision.Fields) != 7 || approved.Decision.Accounted || approved.Recipient.ID != client {
		t.Fatalf("right of access to a progress note: %+v", approved)
	}
	e.must(t, http.StatusCreated, &denied, "dr-lee", "POST", base+"/releases", map[string]any{"document": process,
		"basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "at the client's request"})
	if denied.Status != app.ReleaseDenied || denied.Decision.Rule.Citation != "45 CFR 164.524(a)(1)(i), (a)(2)" ||
		!strings.Contains(denied.Decision.Rule.Text, "not reviewable") || len(denied.Decision.Fields) != 0 {
		t.Fatalf("right of access to a psychotherapy note: %+v", denied)
	}
	var list struct{ Items []app.ReleaseView }
	e.must(t, http.StatusOK, &list, "admin", "GET", base+"/releases", nil)
	if len(list.Items) != 2 || list.Items[0].ID != denied.ID || list.Items[1].ID != approved.ID {
		t.Fatalf("releases: %+v", list.Items)
	}
	var got app.ReleaseView
	e.must(t, http.StatusOK, &got, "dr-lee", "GET", base+"/releases/"+approved.ID, nil)
	if got.Status != app.ReleaseApproved || got.Document != note {
		t.Fatalf("release read back: %+v", got)
	}
	var acc app.Accounting
	e.must(t, http.StatusOK, &acc, "dr-lee", "GET", base+"/accounting", nil)
	if len(acc.Entries) != 0 {
		t.Fatalf("disclosures to the client are exempt from the accounting: %+v", acc.Entries)
	}
	trail := e.auditLog.String()
	for _, want := range []string{`"action":"release_decision","client":"` + client + `","record":"` + note + `","release":"` + approved.ID + `","allowed":true`,
		`"record":"` + process + `","release":"` + denied.ID + `","allowed":false,"rule":"deny: psychotherapy notes are outside the right of access`} {
		if !strings.Contains(trail, want) {
			t.Errorf("audit trail lacks %s", want)
		}
	}

	// Bad requests are refused as such and store nothing.
	second := e.signedNote(t, recordvault.ProgressNote, client)
	var unsigned app.RecordView
	e.must(t, http.StatusCreated, &unsigned, "dr-lee", "POST", base+"/records", map[string]any{"category": "progress_note", "fields": progressNote("draft")})
	before := e.bucketState(t)
	for name, c := range map[string]struct {
		body   map[string]any
		status int
	}{
		"unknown basis":      {map[string]any{"document": second, "basis": "curiosity", "recipient": map[string]string{"kind": "client"}, "purpose": "p"}, http.StatusBadRequest},
		"unknown recipient":  {map[string]any{"document": second, "basis": "right_of_access", "recipient": map[string]string{"kind": "neighbour"}, "purpose": "p"}, http.StatusBadRequest},
		"field not in note":  {map[string]any{"document": second, "basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "p", "fields": []string{"risk_assessment"}}, http.StatusBadRequest},
		"window too long":    {map[string]any{"document": second, "basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "p", "valid_days": 1000}, http.StatusBadRequest},
		"unknown body field": {map[string]any{"document": second, "basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "p", "urgent": true}, http.StatusBadRequest},
		"malformed document": {map[string]any{"document": "../x", "basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "p"}, http.StatusBadRequest},
		"a draft":            {map[string]any{"document": unsigned.ID, "basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "p"}, http.StatusConflict},
		"unknown document":   {map[string]any{"document": newID(), "basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "p"}, http.StatusNotFound},
	} {
		if s, h, b := e.call(t, "dr-lee", "POST", base+"/releases", c.body); s != c.status || h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want %d", name, s, b, c.status)
		}
	}
	if !maps.Equal(before, e.bucketState(t)) {
		t.Error("refused release requests changed the bucket")
	}

	// An outsider learns nothing: an unknown client and a real one answer alike.
	body := map[string]any{"document": note, "basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "p"}
	s1, _, b1 := e.call(t, "dr-out", "POST", base+"/releases", body)
	s2, _, b2 := e.call(t, "dr-out", "POST", "/v1/clients/"+newID()+"/releases", body)
	s3, _, b3 := e.call(t, "dr-out", "GET", base+"/accounting", nil)
	if s1 != http.StatusNotFound || s1 != s2 || string(b1) != string(b2) || s3 != s1 || string(b3) != string(b1) {
		t.Fatalf("outsider: %d %s / %d %s / %d %s", s1, b1, s2, b2, s3, b3)
	}
}

// TestAPICouplesNoteAuthorizations: a couples note goes to an attorney only with both
// partners' authorizations; revoking one ends the release at once and refuses the next.
func TestAPICouplesNoteAuthorizations(t *testing.T) {
	e := newAPIEnv(t, releaseUsers)
	a, b := e.clientBorn(t, "1980-05-01"), e.clientBorn(t, "1982-07-09")
	note := e.signedNote(t, recordvault.ProgressNote, a, b)
	ask := map[string]any{"document": note, "basis": "authorization", "purpose": "custody proceeding",
		"recipient": map[string]string{"kind": "attorney", "id": "smith-law", "email": "smith-law@recipients.example", "name": "Smith Law LLP", "address": "1 Main St"}}

	// An incomplete form is refused, naming what it lacks, and stores nothing.
	before := e.bucketState(t)
	incomplete := authorizationForm("smith-law", recordvault.ProgressNote)
	delete(incomplete, "purpose")
	incomplete["revocation_statement"] = false
	status, _, problem := e.call(t, "admin", "POST", "/v1/clients/"+a+"/authorizations", incomplete)
	if status != http.StatusBadRequest || !strings.Contains(string(problem), "purpose") || !strings.Contains(string(problem), "right to revoke") {
		t.Fatalf("incomplete authorization: %d %s", status, problem)
	}
	if !maps.Equal(before, e.bucketState(t)) {
		t.Fatal("an incomplete authorization changed the bucket")
	}

	var fromA app.AuthorizationView
	e.must(t, http.StatusCreated, &fromA, "admin", "POST", "/v1/clients/"+a+"/authorizations", authorizationForm("smith-law", recordvault.ProgressNote))
	var one app.ReleaseView
	e.must(t, http.StatusCreated, &one, "dr-lee", "POST", "/v1/clients/"+a+"/releases", ask)
	if one.Status != app.ReleaseDenied || one.Decision.Rule.Citation != "45 CFR 164.508(a)(1)" {
		t.Fatalf("with one of two authorizations: %+v", one.Decision)
	}
	var fromB app.AuthorizationView
	e.must(t, http.StatusCreated, &fromB, "dr-lee", "POST", "/v1/clients/"+b+"/authorizations", authorizationForm("smith-law", recordvault.ProgressNote))
	var both app.ReleaseView
	e.must(t, http.StatusCreated, &both, "dr-lee", "POST", "/v1/clients/"+b+"/releases", ask)
	if both.Status != app.ReleaseApproved || len(both.Decision.Authorizations) != 2 || both.Decision.Accounted {
		t.Fatalf("with both authorizations: %+v", both.Decision)
	}

	var revoked app.AuthorizationView
	e.must(t, http.StatusOK, &revoked, "admin", "POST", "/v1/clients/"+a+"/authorizations/"+fromA.ID+"/revoke", nil)
	if !revoked.Revoked || revoked.Status != "revoked" {
		t.Fatalf("revoked: %+v", revoked)
	}
	if s, _, _ := e.call(t, "admin", "POST", "/v1/clients/"+a+"/authorizations/"+fromA.ID+"/revoke", nil); s != http.StatusConflict {
		t.Errorf("revoking twice: %d", s)
	}
	var ended app.ReleaseView
	e.must(t, http.StatusOK, &ended, "admin", "GET", "/v1/clients/"+b+"/releases/"+both.ID, nil)
	if ended.Status != app.ReleaseRevoked || ended.Ended == nil || !strings.Contains(ended.Ended.Reason, "164.508(b)(5)") {
		t.Fatalf("the release relying on the revoked authorization: %+v", ended)
	}
	var again app.ReleaseView
	e.must(t, http.StatusCreated, &again, "dr-lee", "POST", "/v1/clients/"+a+"/releases", ask)
	if again.Status != app.ReleaseDenied || again.Decision.Rule.Citation != "45 CFR 164.508(b)(5)" {
		t.Fatalf("after the revocation: %+v", again.Decision)
	}
	var auths struct{ Items []app.AuthorizationView }
	e.must(t, http.StatusOK, &auths, "dr-lee", "GET", "/v1/clients/"+a+"/authorizations", nil)
	if len(auths.Items) != 1 || auths.Items[0].Status != "revoked" {
		t.Fatalf("authorizations: %+v", auths.Items)
	}
}

// TestAPIMinorInIllinois: the parent of a 14-year-old in Illinois has access only if the
// minor was told and does not object (740 ILCS 110/4(a)(3)).
func TestAPIMinorInIllinois(t *testing.T) {
	e := newAPIEnvIn(t, "US-IL", releaseUsers)
	minor := e.clientBorn(t, time.Now().UTC().AddDate(-14, -3, 0).Format(time.DateOnly))
	note := e.signedNote(t, recordvault.ProgressNote, minor)
	ask := func(rep policy.Representation) app.ReleaseView {
		var v app.ReleaseView
		e.must(t, http.StatusCreated, &v, "dr-lee", "POST", "/v1/clients/"+minor+"/releases", map[string]any{"document": note,
			"basis": "right_of_access", "purpose": "parent's request", "recipient": map[string]any{"kind": "personal_representative",
				"id": "parent-1", "name": "Pat Parent", "email": "parent-1@recipients.example", "for": minor, "representation": rep}})
		return v
	}
	if v := ask(policy.Representation{Relationship: "parent", MinorInformed: true}); v.Status != app.ReleaseApproved || v.Jurisdiction != "US-IL" {
		t.Fatalf("minor told, no objection: %+v", v.Decision)
	}
	if v := ask(policy.Representation{Relationship: "parent", MinorInformed: true, MinorObjects: true}); v.Status != app.ReleaseDenied ||
		v.Decision.Rule.Citation != "740 ILCS 110/4(a)(3)" {
		t.Fatalf("minor objects: %+v", v.Decision)
	}
}

// TestAPIAccountingOfDisclosures: the accounting lists exactly the accounted releases (a
// serious-threat disclosure and a subpoena), with recipient, address, description and
// purpose; disclosures to the client and under an authorization are left out.
func TestAPIAccountingOfDisclosures(t *testing.T) {
	users := maps.Clone(releaseUsers)
	users["pat"], users["sam"] = []recordvault.Role{recordvault.RoleClient}, []recordvault.Role{recordvault.RoleClient}
	e := newAPIEnv(t, users)
	client := e.clientBorn(t, "1975-01-20")
	note := e.signedNote(t, recordvault.ProgressNote, client)
	base := "/v1/clients/" + client
	e.must(t, http.StatusCreated, nil, "dr-lee", "POST", base+"/authorizations", authorizationForm("smith-law", recordvault.ProgressNote))
	var threat, subpoena, denied, own, authorized app.ReleaseView
	e.must(t, http.StatusCreated, &threat, "dr-lee", "POST", base+"/releases", map[string]any{"document": note, "basis": "serious_threat",
		"fields": []string{"plan", "diagnosis_codes"}, "purpose": "warning of a threat", "attestation": map[string]bool{"good_faith": true},
		"recipient": map[string]string{"kind": "threatened_person", "id": "target-1", "email": "target-1@recipients.example", "name": "R. Target", "address": "2 Elm St"}})
	e.must(t, http.StatusCreated, &subpoena, "dr-lee", "POST", base+"/releases", map[string]any{"document": note, "basis": "subpoena",
		"fields": []string{"cpt_code"}, "purpose": "civil litigation", "assurances": map[string]any{"protective_order": true},
		"recipient": map[string]string{"kind": "attorney", "id": "jones-law", "email": "jones-law@recipients.example", "name": "Jones & Co"}})
	e.must(t, http.StatusCreated, &denied, "dr-lee", "POST", base+"/releases", map[string]any{"document": note, "basis": "subpoena",
		"fields": []string{"plan"}, "purpose": "civil litigation", "recipient": map[string]string{"kind": "attorney", "id": "jones-law", "email": "jones-law@recipients.example"}})
	e.must(t, http.StatusCreated, &own, "dr-lee", "POST", base+"/releases", map[string]any{"document": note, "basis": "right_of_access",
		"purpose": "own copy", "recipient": map[string]string{"kind": "client"}})
	e.must(t, http.StatusCreated, &authorized, "dr-lee", "POST", base+"/releases", map[string]any{"document": note, "basis": "authorization",
		"purpose": "custody", "recipient": map[string]string{"kind": "attorney", "id": "smith-law", "email": "smith-law@recipients.example"}})
	for name, v := range map[string]app.ReleaseView{"threat": threat, "subpoena": subpoena, "own": own, "authorized": authorized} {
		if v.Status != app.ReleaseApproved {
			t.Fatalf("%s: %+v", name, v.Decision)
		}
	}
	if denied.Status != app.ReleaseDenied || threat.Decision.Fields[1] != "plan" || len(threat.Decision.Fields) != 2 {
		t.Fatalf("subpoena without assurances %s; threat fields %v", denied.Status, threat.Decision.Fields)
	}
	var acc app.Accounting
	e.must(t, http.StatusOK, &acc, "admin", "GET", base+"/accounting", nil)
	if len(acc.Entries) != 2 || acc.Entries[0].Release != threat.ID || acc.Entries[1].Release != subpoena.ID {
		t.Fatalf("accounting: %+v", acc.Entries)
	}
	first := acc.Entries[0]
	if first.Recipient != "R. Target" || first.Address != "2 Elm St" || first.Purpose != "warning of a threat" ||
		first.Description != "progress note of 2026-11-20: diagnosis_codes, plan" || first.Citation != "45 CFR 164.512(j)(1)(i)" {
		t.Fatalf("accounting entry: %+v", first)
	}
	if acc.Entries[1].Recipient != "Jones & Co" || acc.Entries[1].Citation != "45 CFR 164.512(e)(1)(ii)" {
		t.Fatalf("accounting entry: %+v", acc.Entries[1])
	}

	// The client reads it too, through their own account, as JSON and as PDF; another
	// client's account learns nothing.
	other := e.clientBorn(t, "1991-02-02")
	e.must(t, http.StatusNoContent, nil, "admin", "PUT", base+"/account", map[string]string{"subject": "pat"})
	e.must(t, http.StatusNoContent, nil, "admin", "PUT", "/v1/clients/"+other+"/account", map[string]string{"subject": "sam"})
	if s, _, _ := e.call(t, "admin", "PUT", "/v1/clients/"+other+"/account", map[string]string{"subject": "pat"}); s != http.StatusConflict {
		t.Errorf("one login linked to two clients: %d", s)
	}
	var mine app.Accounting
	e.must(t, http.StatusOK, &mine, "pat", "GET", base+"/accounting", nil)
	if len(mine.Entries) != 2 || mine.Entries[0].Release != threat.ID {
		t.Fatalf("the client's own accounting: %+v", mine.Entries)
	}
	status, h, doc := e.call(t, "pat", "GET", base+"/accounting", nil, "Accept", "application/pdf")
	if status != http.StatusOK || h.Get("Content-Type") != "application/pdf" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("accounting as PDF: %d %v", status, h)
	}
	text := pdfText(t, doc)
	for _, want := range []string{"Accounting of disclosures", "R. Target, 2 Elm St", "Jones & Co", "warning of a threat", "164.512(e)(1)(ii)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q: %s", want, text)
		}
	}
	for _, path := range []string{base + "/accounting", base + "/releases", "/v1/clients/" + newID() + "/accounting"} {
		s1, _, b1 := e.call(t, "sam", "GET", path, nil)
		if s1 != http.StatusNotFound || !strings.Contains(string(b1), `"not found"`) {
			t.Errorf("another client's account reading %s: %d %s", path, s1, b1)
		}
	}
	if s, _, _ := e.call(t, "pat", "GET", "/v1/clients/"+other+"/accounting", nil); s != http.StatusNotFound {
		t.Errorf("a client reading another's accounting: %d", s)
	}
	if s, _, _ := e.call(t, "pat", "POST", base+"/releases", map[string]any{"document": note, "basis": "right_of_access",
		"recipient": map[string]string{"kind": "client"}, "purpose": "p"}); s != http.StatusNotFound {
		t.Errorf("a client making a release: %d", s)
	}
}

// pdfText extracts the text of a PDF, all pages.
func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	pages, err := pdftext.Pages(b)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(pages, "")
}

// TestAPIReviewableDenial: a licensed clinician withholds a progress note's risk assessment
// from the client (the rest is released); the review is by a licensed clinician who did not
// deny (neither the denier nor an unlicensed one may review); the reviewer's decision is
// final. A denial of the whole document is upheld on review and stays denied.
func TestAPIReviewableDenial(t *testing.T) {
	e := newAPIEnv(t, map[string][]recordvault.Role{"admin": {recordvault.RoleClinicAdmin}, "dr-lee": {recordvault.RoleClinician},
		"dr-patel": {recordvault.RoleClinician}, "dr-intern": {recordvault.RoleClinician}})
	e.must(t, http.StatusOK, nil, "admin", "PUT", "/v1/clinicians/dr-intern", map[string]any{"name": "Intern", "licensed": false})
	client := e.clientBorn(t, "1990-03-03")
	base := "/v1/clients/" + client
	e.must(t, http.StatusOK, nil, "admin", "PUT", base+"/care-team", map[string]any{"clinicians": []string{"dr-lee", "dr-patel", "dr-intern"}})
	fields := progressNote("weekly CBT")
	fields["risk_assessment"] = "passive ideation about a family member"
	var rec app.RecordView
	e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", base+"/records", map[string]any{"category": "progress_note", "fields": fields, "sign": true})
	ask := func(denial map[string]any) app.ReleaseView {
		var v app.ReleaseView
		e.must(t, http.StatusCreated, &v, "dr-lee", "POST", base+"/releases", map[string]any{"document": rec.ID, "basis": "right_of_access",
			"recipient": map[string]string{"kind": "client"}, "purpose": "client's request", "denial": denial})
		return v
	}
	partial := ask(map[string]any{"ground": "endangerment", "fields": []string{"risk_assessment"}})
	if partial.Status != app.ReleaseApproved || slices.Contains(partial.Decision.Fields, "risk_assessment") || len(partial.Decision.Fields) != 7 ||
		!slices.Equal(partial.Decision.Withheld, []string{"risk_assessment"}) {
		t.Fatalf("a partial denial: %+v", partial.Decision)
	}
	review := base + "/releases/" + partial.ID + "/review"
	for who, citation := range map[string]string{"dr-lee": "164.524(a)(4)", "dr-intern": "164.524(a)(4)"} {
		s, _, b := e.call(t, who, "POST", review, map[string]bool{"upheld": false})
		if s != http.StatusConflict || !strings.Contains(string(b), citation) {
			t.Errorf("review by %s: %d %s", who, s, b)
		}
	}
	if s, _, b := e.call(t, "dr-patel", "POST", review, map[string]any{}); s != http.StatusBadRequest {
		t.Errorf("a review without its outcome: %d %s", s, b)
	}
	var overturned app.ReleaseView
	e.must(t, http.StatusOK, &overturned, "dr-patel", "POST", review, map[string]bool{"upheld": false})
	if overturned.Status != app.ReleaseApproved || len(overturned.Decision.Fields) != 8 || len(overturned.Earlier) != 1 ||
		overturned.Denial.Review == nil || overturned.Denial.Review.Reviewer != "dr-patel" {
		t.Fatalf("overturned: %+v", overturned)
	}
	if s, _, _ := e.call(t, "dr-patel", "POST", review, map[string]bool{"upheld": true}); s != http.StatusConflict {
		t.Errorf("a second review: %d", s)
	}

	whole := ask(map[string]any{"ground": "harm_to_other"})
	if whole.Status != app.ReleaseDenied || whole.Decision.Rule.Citation != "45 CFR 164.524(a)(3)" {
		t.Fatalf("a whole denial: %+v", whole.Decision)
	}
	var upheld app.ReleaseView
	e.must(t, http.StatusOK, &upheld, "dr-patel", "POST", base+"/releases/"+whole.ID+"/review", map[string]bool{"upheld": true})
	if upheld.Status != app.ReleaseDenied || !strings.Contains(upheld.Decision.Reasons[0].Text+upheld.Decision.Rule.Text, "harm") ||
		!slices.ContainsFunc(upheld.Decision.Reasons, func(r policy.Reason) bool { return r.Citation == "45 CFR 164.524(d)(4)" }) {
		t.Fatalf("upheld: %+v", upheld.Decision)
	}
	if !strings.Contains(e.auditLog.String(), `"action":"review_decision"`) {
		t.Error("no review decision in the audit trail")
	}
}

// TestAPIAccessRequestClock: an access request is due 30 days after receipt; one extension
// with its reason moves it to 60, a second is refused, and so is one taken after day 30; an
// overdue request is listed for the clinic's admins until it is answered, and one whose
// document was deleted stays listed, as unavailable. In California the clock is 15 days and
// takes no extension.
func TestAPIAccessRequestClock(t *testing.T) {
	e := newAPIEnv(t, releaseUsers)
	client := e.clientBorn(t, "1985-08-08")
	note := e.signedNote(t, recordvault.ProgressNote, client)
	base := "/v1/clients/" + client
	today := time.Now().UTC()
	day := func(offset int) string { return today.AddDate(0, 0, offset).Format(time.DateOnly) }
	record := func(received string) app.AccessRequestView {
		var v app.AccessRequestView
		e.must(t, http.StatusCreated, &v, "admin", "POST", base+"/access-requests", map[string]any{"received": received,
			"requested_by": map[string]string{"kind": "client"}, "description": "all progress notes of 2026", "format": "PDF by email"})
		return v
	}
	recent := record(day(-10))
	if recent.Due != day(20) || recent.Overdue || recent.Status != "open" || recent.Citation != "45 CFR 164.524(b)(2)" {
		t.Fatalf("a request received 10 days ago: %+v", recent)
	}
	var extended app.AccessRequestView
	e.must(t, http.StatusOK, &extended, "dr-lee", "POST", base+"/access-requests/"+recent.ID+"/extension", map[string]string{"reason": "records are being retrieved from archive"})
	if extended.Due != day(50) || extended.Extension == nil || extended.Extension.By != "dr-lee" {
		t.Fatalf("extended: %+v", extended)
	}
	if s, _, b := e.call(t, "dr-lee", "POST", base+"/access-requests/"+recent.ID+"/extension", map[string]string{"reason": "again"}); s != http.StatusConflict {
		t.Errorf("a second extension: %d %s", s, b)
	}
	late := record(day(-40))
	if late.Due != day(-10) || !late.Overdue {
		t.Fatalf("a request received 40 days ago: %+v", late)
	}
	if s, _, b := e.call(t, "dr-lee", "POST", base+"/access-requests/"+late.ID+"/extension", map[string]string{"reason": "late"}); s != http.StatusConflict {
		t.Errorf("an extension after day 30: %d %s", s, b)
	}
	if s, _, _ := e.call(t, "admin", "POST", base+"/access-requests", map[string]any{"received": day(2), "requested_by": map[string]string{"kind": "client"}, "description": "x"}); s != http.StatusBadRequest {
		t.Errorf("a request received the day after tomorrow: %d", s)
	}
	// A third request, received as long ago, whose document a bucket writer deletes: the
	// trail still knows it is open, and it is listed as unavailable.
	gone := record(day(-40))
	if err := e.raw.RemoveObject(context.Background(), e.bucket, e.disclosureKey(t, gone.ID), minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	overdue := func() []string {
		var out struct{ Items []app.AccessRequestView }
		e.must(t, http.StatusOK, &out, "admin", "GET", "/v1/access-requests/overdue", nil)
		var ids []string
		for _, v := range out.Items {
			ids = append(ids, v.ID)
			if v.Unavailable != (v.ID == gone.ID) || v.Unavailable && v.Due != "" {
				t.Errorf("listed: %+v", v)
			}
		}
		return ids
	}
	if got := overdue(); !slices.Equal(got, []string{gone.ID, late.ID}) {
		t.Fatalf("overdue: %v, want %s (unavailable) and %s", got, gone.ID, late.ID)
	}
	if s, _, _ := e.call(t, "dr-lee", "GET", "/v1/access-requests/overdue", nil); s != http.StatusNotFound {
		t.Errorf("a clinician listing overdue requests: %d", s)
	}
	var release app.ReleaseView
	e.must(t, http.StatusCreated, &release, "dr-lee", "POST", base+"/releases", map[string]any{"document": note, "basis": "right_of_access",
		"recipient": map[string]string{"kind": "client"}, "purpose": "access request " + late.ID})
	if s, _, _ := e.call(t, "admin", "POST", base+"/access-requests/"+late.ID+"/answer", map[string]any{"releases": []string{newID()}}); s != http.StatusBadRequest {
		t.Errorf("answered with an unknown release: %d", s)
	}
	var answered app.AccessRequestView
	e.must(t, http.StatusOK, &answered, "admin", "POST", base+"/access-requests/"+late.ID+"/answer", map[string]any{"releases": []string{release.ID}})
	if answered.Status != "answered" || answered.Overdue || answered.Answered == nil {
		t.Fatalf("answered: %+v", answered)
	}
	if got := overdue(); !slices.Equal(got, []string{gone.ID}) {
		t.Fatalf("overdue after the answer: %v", got)
	}

	ca := newAPIEnvIn(t, "US-CA", releaseUsers)
	caClient := ca.clientBorn(t, "1985-08-08")
	var v app.AccessRequestView
	ca.must(t, http.StatusCreated, &v, "admin", "POST", "/v1/clients/"+caClient+"/access-requests", map[string]any{"received": day(-1),
		"requested_by": map[string]string{"kind": "client"}, "description": "copies"})
	if v.Due != day(14) || v.Jurisdiction != "US-CA" || v.Citation != "Cal. Health & Safety Code 123110(b)" {
		t.Fatalf("California: %+v", v)
	}
	if s, _, b := ca.call(t, "admin", "POST", "/v1/clients/"+caClient+"/access-requests/"+v.ID+"/extension", map[string]string{"reason": "busy"}); s != http.StatusConflict {
		t.Errorf("an extension in California: %d %s", s, b)
	}
}

// TestAPIReleaseNeedsReview: a Part 2 record asked for to avert a threat waits for review
// (42 CFR 2.51); the clinic's admin, as privacy officer, releases it with the fields asked
// for, once; it then enters the accounting and carries the Part 2 notice.
func TestAPIReleaseNeedsReview(t *testing.T) {
	e := newAPIEnv(t, releaseUsers)
	client := e.clientBorn(t, "1970-12-12")
	base := "/v1/clients/" + client
	var rec app.RecordView
	e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", base+"/records", map[string]any{"category": "sud_record", "sign": true,
		"fields": map[string]any{"date_of_service": "2026-10-01", "note": "withdrawal risk"}})
	var pending app.ReleaseView
	e.must(t, http.StatusCreated, &pending, "dr-lee", "POST", base+"/releases", map[string]any{"document": rec.ID, "basis": "serious_threat",
		"fields": []string{"note"}, "purpose": "emergency", "attestation": map[string]bool{"good_faith": true},
		"recipient": map[string]string{"kind": "provider", "id": "er-1", "email": "er-1@recipients.example", "name": "County ER"}})
	if pending.Status != app.ReleaseNeedsReview || pending.Decision.Rule.Citation != "42 CFR 2.51" {
		t.Fatalf("pending: %+v", pending.Decision)
	}
	resolve := base + "/releases/" + pending.ID + "/resolve"
	if s, _, _ := e.call(t, "dr-lee", "POST", resolve, map[string]any{"approve": true, "reason": "bona fide medical emergency"}); s != http.StatusNotFound {
		t.Errorf("a clinician resolving: %d", s)
	}
	if s, _, _ := e.call(t, "admin", "POST", resolve, map[string]any{"approve": true}); s != http.StatusBadRequest {
		t.Errorf("resolving without a reason: %d", s)
	}
	var done app.ReleaseView
	e.must(t, http.StatusOK, &done, "admin", "POST", resolve, map[string]any{"approve": true, "reason": "bona fide medical emergency"})
	if done.Status != app.ReleaseApproved || !slices.Equal(done.Decision.Fields, []string{"note"}) || !done.Decision.Part2Notice ||
		!done.Decision.Accounted || len(done.Earlier) != 1 {
		t.Fatalf("resolved: %+v", done)
	}
	if s, _, _ := e.call(t, "admin", "POST", resolve, map[string]any{"approve": false, "reason": "again"}); s != http.StatusConflict {
		t.Errorf("resolving twice: %d", s)
	}
	var acc app.Accounting
	e.must(t, http.StatusOK, &acc, "admin", "GET", base+"/accounting", nil)
	if len(acc.Entries) != 1 || acc.Entries[0].Release != pending.ID {
		t.Fatalf("accounting: %+v", acc.Entries)
	}
}

// TestAPIAccountingFromTrail: the accounting is built from the signed audit trail. It lists
// each accountable disclosure with the days its copy was downloaded; a release record
// deleted from the bucket does not drop the disclosure (the entry stands, marked, and the
// integrity failure is audited); a tampered block of the trail stops the accounting of a
// process that reads it (500) until the block is restored.
func TestAPIAccountingFromTrail(t *testing.T) {
	e := newDownloadEnv(t)
	ctx := context.Background()
	base := "/v1/clients/" + e.a
	const address = "records@jones-law.example"
	var subpoena, threat app.ReleaseView
	e.must(t, http.StatusCreated, &subpoena, "dr-lee", "POST", base+"/releases", map[string]any{"document": e.note, "basis": "subpoena",
		"fields": []string{"cpt_code"}, "purpose": "civil litigation", "assurances": map[string]any{"protective_order": true},
		"recipient": map[string]string{"kind": "attorney", "id": "jones-law", "name": "Jones & Co", "email": address}})
	e.must(t, http.StatusCreated, &threat, "dr-lee", "POST", base+"/releases", map[string]any{"document": e.note, "basis": "serious_threat",
		"fields": []string{"plan"}, "purpose": "warning of a threat", "attestation": map[string]bool{"good_faith": true},
		"recipient": map[string]string{"kind": "threatened_person", "id": "target-1", "email": "target-1@recipients.example", "name": "R. Target"}})
	if subpoena.Status != app.ReleaseApproved || threat.Status != app.ReleaseApproved {
		t.Fatalf("releases: %+v, %+v", subpoena.Decision, threat.Decision)
	}
	for range 2 { // the attorney downloads twice, each time with a fresh token and code
		tok := e.token(t, "admin", e.a, subpoena.ID)
		e.must(t, http.StatusAccepted, nil, "", "POST", "/downloads/code", map[string]string{"token": tok})
		e.must(t, http.StatusOK, nil, "", "POST", "/downloads", map[string]string{"token": tok, "code": e.mailbox.lastCode(t, address)})
	}
	if s, _, _ := e.redeem(t, "pat", e.token(t, "pat", e.a, e.release)); s != http.StatusOK { // the client's own copy: exempt
		t.Fatalf("the client's download: %d", s)
	}

	var acc app.Accounting
	e.must(t, http.StatusOK, &acc, "admin", "GET", base+"/accounting", nil)
	if len(acc.Entries) != 2 || acc.Entries[0].Release != subpoena.ID || acc.Entries[1].Release != threat.ID {
		t.Fatalf("accounting: %+v", acc.Entries)
	}
	if d := acc.Entries[0].Downloads; len(d) != 2 || d[0].After(d[1]) || d[0].Before(acc.Entries[0].Date) || len(acc.Entries[1].Downloads) != 0 {
		t.Fatalf("downloads: %v after %v; %v", d, acc.Entries[0].Date, acc.Entries[1].Downloads)
	}
	if acc.Entries[0].Recipient != "Jones & Co" || acc.Entries[0].Unavailable {
		t.Fatalf("entry: %+v", acc.Entries[0])
	}
	status, _, doc := e.call(t, "pat", "GET", base+"/accounting", nil, "Accept", "application/pdf")
	if text := pdfText(t, doc); status != http.StatusOK || !strings.Contains(text, "Downloaded by the recipient: "+acc.Entries[0].Downloads[0].UTC().Format(time.DateOnly)) ||
		!strings.Contains(text, "Downloaded by the recipient: not yet") {
		t.Fatalf("the PDF: %d %s", status, text)
	}
	// As FHIR: a Bundle of one AuditEvent per disclosure (IHE BALP's privacy disclosure).
	status, h, doc := e.call(t, "pat", "GET", base+"/accounting", nil, "Accept", "application/fhir+json")
	bundle, err := fhir.UnmarshalBundle(doc)
	if status != http.StatusOK || h.Get("Content-Type") != "application/fhir+json" || err != nil || len(bundle.Entry) != 2 {
		t.Fatalf("the accounting as FHIR: %d %v %s", status, err, doc)
	}
	for i, entry := range bundle.Entry {
		ev, err := fhir.UnmarshalAuditEvent(entry.Resource)
		if err != nil || *ev.Id != acc.Entries[i].Release || *ev.Type.Code != "110106" || *ev.Subtype[0].Code != "disclose" ||
			*ev.Entity[0].What.Identifier.Value != e.a || *ev.Entity[1].Description != acc.Entries[i].Description {
			t.Fatalf("disclosure %d as FHIR: %v %s", i, err, entry.Resource)
		}
	}

	// A bucket writer deletes the subpoena's release record: the disclosure stays listed.
	if err := e.raw.RemoveObject(ctx, e.bucket, e.disclosureKey(t, subpoena.ID), minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	var after app.Accounting
	e.must(t, http.StatusOK, &after, "pat", "GET", base+"/accounting", nil)
	if len(after.Entries) != 2 || !after.Entries[0].Unavailable || after.Entries[0].Release != subpoena.ID ||
		!after.Entries[0].Date.Equal(acc.Entries[0].Date) || len(after.Entries[0].Downloads) != 2 || after.Entries[1].Unavailable {
		t.Fatalf("accounting without the release record: %+v", after.Entries)
	}
	if !strings.Contains(e.auditLog.String(), `"action":"integrity_failure","client":"`+e.a+`","release":"`+subpoena.ID+`"`) {
		t.Error("the missing release record was not audited")
	}

	// A block of the trail is altered: a process that reads it (not the one that wrote it: that
	// one has its events) gives no accounting until the genuine block is back.
	blocks := func() []string {
		var keys []string
		for o := range e.raw.ListObjects(ctx, e.bucket, minio.ListObjectsOptions{Prefix: "c/" + e.clinic + "/a/", Recursive: true}) {
			keys = append(keys, o.Key)
		}
		return keys
	}
	read := len(blocks())
	e.must(t, http.StatusOK, nil, "dr-lee", "GET", base+"/releases", nil) // one more block at least
	victim := blocks()[read]
	e.must(t, http.StatusOK, nil, "dr-lee", "GET", base+"/releases", nil) // not the last block: writers check that one
	genuine := getObject(t, e.raw, e.bucket, victim)
	putObject(t, e.raw, e.bucket, victim, bytes.Replace(genuine, []byte(`"list_releases"`), []byte(`"list_relea5es"`), 1))
	// The ledger's checkpoint (every 4 blocks here), saved as the requests above read the
	// trail on, may already be past the victim, so that the other process would not read it:
	// without one, it reads the trail from its first block.
	for o := range e.raw.ListObjects(ctx, e.bucket, minio.ListObjectsOptions{Prefix: "c/" + e.clinic + "/ac/", Recursive: true}) {
		if err := e.raw.RemoveObject(ctx, e.bucket, o.Key, minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	admin := access.Caller{ID: "admin", Clinic: e.clinic, Roles: []recordvault.Role{recordvault.RoleClinicAdmin}}
	other := e.anotherProcess(t, nil)
	if _, err := other.AccountingOf(ctx, admin, e.a); recordvault.ErrorCode(err) != recordvault.EINTERNAL ||
		recordvault.ErrorMessage(err) != "the audit trail failed its integrity check" {
		t.Fatalf("accounting over an altered trail: %v", err)
	}
	if _, err := other.ListReleases(ctx, admin, e.a); err != nil { // what does not read the trail goes on
		t.Fatalf("listing releases over an altered trail: %v", err)
	}
	putObject(t, e.raw, e.bucket, victim, genuine)
	if acc, err := other.AccountingOf(ctx, admin, e.a); err != nil || len(acc.Entries) != 2 {
		t.Fatalf("accounting once the block is restored: %+v, %v", acc, err)
	}
}

// TestAPIAccountingFromCheckpoint: what the trail records of disclosures is checkpointed in
// the bucket, signed by the audit key; a new process resumes from the checkpoint instead of
// reading the chain from its first block, and one whose checkpoint was altered reads from the
// start instead (and replaces it).
func TestAPIAccountingFromCheckpoint(t *testing.T) {
	e := newDownloadEnv(t)
	ctx := context.Background()
	base := "/v1/clients/" + e.a
	admin := access.Caller{ID: "admin", Clinic: e.clinic, Roles: []recordvault.Role{recordvault.RoleClinicAdmin}}
	const address = "records@jones-law.example"
	var subpoena app.ReleaseView
	e.must(t, http.StatusCreated, &subpoena, "dr-lee", "POST", base+"/releases", map[string]any{"document": e.note, "basis": "subpoena",
		"fields": []string{"cpt_code"}, "purpose": "civil litigation", "assurances": map[string]any{"protective_order": true},
		"recipient": map[string]string{"kind": "attorney", "id": "jones-law", "name": "Jones & Co", "email": address}})
	tok := e.token(t, "admin", e.a, subpoena.ID)
	e.must(t, http.StatusAccepted, nil, "", "POST", "/downloads/code", map[string]string{"token": tok})
	e.must(t, http.StatusOK, nil, "", "POST", "/downloads", map[string]string{"token": tok, "code": e.mailbox.lastCode(t, address)})
	var want app.Accounting
	e.must(t, http.StatusOK, &want, "admin", "GET", base+"/accounting", nil)
	if len(want.Entries) != 1 || len(want.Entries[0].Downloads) != 1 {
		t.Fatalf("accounting: %+v", want.Entries)
	}
	key := "c/" + e.clinic + "/ac/disclosure-ledger"
	saved := getObject(t, e.raw, e.bucket, key)

	fresh := func() *app.Accounting { // another process over the same bucket and Vault
		t.Helper()
		acc, err := e.anotherProcess(t, nil).AccountingOf(ctx, admin, e.a)
		if err != nil {
			t.Fatal(err)
		}
		return acc
	}
	same := func(acc *app.Accounting) bool {
		return len(acc.Entries) == 1 && acc.Entries[0].Release == subpoena.ID && len(acc.Entries[0].Downloads) == 1 &&
			acc.Entries[0].Downloads[0].Equal(want.Entries[0].Downloads[0])
	}
	if acc := fresh(); !same(acc) {
		t.Fatalf("a new process's accounting: %+v", acc.Entries)
	}

	// An altered checkpoint (the download taken out) is not taken: the new process reads the
	// chain from its start, and stores a checkpoint of its own.
	forged := bytes.Replace(saved, []byte(`"downloads":{"`+subpoena.ID+`":[`), []byte(`"downloads":{"`+subpoena.ID+`":[],"x":[`), 1)
	if bytes.Equal(forged, saved) {
		t.Fatalf("the checkpoint holds no download to take out: %s", saved)
	}
	putObject(t, e.raw, e.bucket, key, forged)
	if acc := fresh(); !same(acc) {
		t.Fatalf("accounting over an altered checkpoint: %+v", acc.Entries)
	}
	if !strings.Contains(e.serverLog.String(), "audit checkpoint failed its check") {
		t.Error("the altered checkpoint was not logged")
	}
	if bytes.Equal(getObject(t, e.raw, e.bucket, key), forged) {
		t.Error("the altered checkpoint was not replaced")
	}

	// With a good checkpoint a new process does not read the chain's first blocks again: block
	// 0 deleted, its accounting is whole (the trail's verification reports the deletion).
	if err := e.raw.RemoveObject(ctx, e.bucket, audit.BlockKey(e.clinic, 0), minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if acc := fresh(); !same(acc) {
		t.Fatalf("accounting from the checkpoint: %+v", acc.Entries)
	}
	// (The new process's writer, finding no block 0, began a chain there anew: the link
	// from block 1 breaks.)
	var check app.TrailCheck
	e.must(t, http.StatusOK, &check, "admin", "GET", "/v1/audit/verify", nil)
	if check.Intact || !strings.Contains(check.Problem, "block 0 is missing") && !strings.Contains(check.Problem, "block 1 does not follow block 0") {
		t.Fatalf("verification after block 0 was deleted: %+v", check)
	}
}

// TestAPIAccountingSuspension: a police department's written statement suspends, until the
// day it names, the client's accounting of the disclosures made to it (45 CFR 164.528(a)(2)):
// the accounting leaves them out without a trace, the other disclosures stay, and once the
// suspension has ended they are back. An oral statement lasts 30 days at most; only clinic
// admins record or list suspensions.
func TestAPIAccountingSuspension(t *testing.T) {
	e := newDownloadEnv(t)
	base := "/v1/clients/" + e.a
	var police, subpoena app.ReleaseView
	e.must(t, http.StatusCreated, &police, "dr-lee", "POST", base+"/releases", map[string]any{"document": e.note, "basis": "serious_threat",
		"fields": []string{"plan"}, "purpose": "preventing a threatened assault", "attestation": map[string]bool{"good_faith": true},
		"recipient": map[string]string{"kind": "authority", "id": "pd-7", "email": "pd-7@recipients.example", "name": "City Police, 7th precinct"}})
	e.must(t, http.StatusCreated, &subpoena, "dr-lee", "POST", base+"/releases", map[string]any{"document": e.note, "basis": "subpoena",
		"fields": []string{"cpt_code"}, "purpose": "civil litigation", "assurances": map[string]any{"protective_order": true},
		"recipient": map[string]string{"kind": "attorney", "id": "jones-law", "email": "jones-law@recipients.example", "name": "Jones & Co"}})
	if police.Status != app.ReleaseApproved || subpoena.Status != app.ReleaseApproved {
		t.Fatalf("releases: %+v; %+v", police.Decision, subpoena.Decision)
	}
	accounting := func(who string) (releases []string, body string) {
		t.Helper()
		status, _, b := e.call(t, who, "GET", base+"/accounting", nil)
		var acc app.Accounting
		if err := json.Unmarshal(b, &acc); status != http.StatusOK || err != nil {
			t.Fatalf("accounting: %d %s", status, b)
		}
		for _, en := range acc.Entries {
			releases = append(releases, en.Release)
		}
		return releases, string(b)
	}
	if got, _ := accounting("pat"); !slices.Equal(got, []string{police.ID, subpoena.ID}) {
		t.Fatalf("before the suspension: %v", got)
	}

	today := time.Now().UTC()
	written := map[string]any{"recipient": "pd-7", "agency": "City Police", "written": true,
		"statement": "An accounting would impede an open investigation.", "until": today.AddDate(0, 2, 0).Format(time.DateOnly)}
	for name, c := range map[string]struct {
		who  string
		body map[string]any
		want int
	}{
		"a clinician":                  {"dr-lee", written, http.StatusNotFound},
		"an oral statement of 45 days": {"admin", map[string]any{"recipient": "pd-7", "agency": "City Police", "statement": "Sgt. Ruiz, by telephone", "until": today.AddDate(0, 0, 45).Format(time.DateOnly)}, http.StatusBadRequest},
		"ended before it began":        {"admin", map[string]any{"recipient": "pd-7", "agency": "City Police", "written": true, "statement": "s", "until": today.AddDate(0, 0, -1).Format(time.DateOnly)}, http.StatusBadRequest},
		"no statement":                 {"admin", map[string]any{"recipient": "pd-7", "agency": "City Police", "written": true, "until": today.Format(time.DateOnly)}, http.StatusBadRequest},
		"an unknown field":             {"admin", map[string]any{"recipient": "pd-7", "agency": "City Police", "statement": "s", "until": today.Format(time.DateOnly), "secret": true}, http.StatusBadRequest},
	} {
		if s, _, b := e.call(t, c.who, "POST", base+"/accounting/suspensions", c.body); s != c.want {
			t.Errorf("%s: %d %s, want %d", name, s, b, c.want)
		}
	}
	var v app.SuspensionView
	e.must(t, http.StatusCreated, &v, "admin", "POST", base+"/accounting/suspensions", written)
	got, body := accounting("pat")
	if !slices.Equal(got, []string{subpoena.ID}) || strings.Contains(body, "pd-7") || strings.Contains(body, "Police") || strings.Contains(body, "suspen") {
		t.Fatalf("while suspended: %s", body)
	}
	if got, _ := accounting("admin"); !slices.Equal(got, []string{subpoena.ID}) {
		t.Fatalf("while suspended, the clinic's copy: %v", got)
	}
	var list struct{ Items []app.SuspensionView }
	e.must(t, http.StatusOK, &list, "admin", "GET", base+"/accounting/suspensions", nil)
	if len(list.Items) != 1 || list.Items[0].ID != v.ID || list.Items[0].Until != written["until"] {
		t.Fatalf("suspensions: %+v", list.Items)
	}
	if s, _, _ := e.call(t, "pat", "GET", base+"/accounting/suspensions", nil); s != http.StatusNotFound {
		t.Errorf("the client listing the suspensions: %d", s)
	}

	// An oral statement for today only suspends the other one too; three months on, both
	// suspensions have ended and both disclosures are back.
	e.must(t, http.StatusCreated, nil, "admin", "POST", base+"/accounting/suspensions", map[string]any{"recipient": "jones-law", "agency": "State Bar",
		"statement": "Investigator Chen, by telephone", "until": today.Format(time.DateOnly)})
	if got, _ := accounting("pat"); len(got) != 0 {
		t.Fatalf("with both suspended: %v", got)
	}
	later := e.anotherProcess(t, func() time.Time { return today.AddDate(0, 3, 0) })
	acc, err := later.AccountingOf(context.Background(), access.Caller{ID: "admin", Clinic: e.clinic, Roles: []recordvault.Role{recordvault.RoleClinicAdmin}}, e.a)
	if err != nil || len(acc.Entries) != 2 || acc.Entries[0].Release != police.ID || acc.Entries[1].Release != subpoena.ID {
		t.Fatalf("after the suspensions: %+v, %v", acc, err)
	}
}
