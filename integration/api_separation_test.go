//go:build integration

package integration

import (
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/policy"
)

// separationCitation is what a release to a staff login, or to whoever asks for it or recorded
// its evidence, is refused under.
const separationCitation = "45 CFR 164.514(d)(2), 164.308(a)(4)"

// separationUsers: dr-lee asks for releases, admin2 records the evidence, and dr-out (a
// clinician on the roster) and admin (a clinic admin, on no roster) are the staff logins that
// are named as recipients.
var separationUsers = map[string][]recordvault.Role{"admin": {recordvault.RoleClinicAdmin}, "admin2": {recordvault.RoleClinicAdmin},
	"dr-lee": {recordvault.RoleClinician}, "dr-out": {recordvault.RoleClinician}}

// TestAPIStaffNeverRecipients: a staff login is never a way to content through a release.
// For every legal basis and every staff role, the staff login is named as the recipient of a
// release whose evidence would otherwise approve it (recorded by someone else, asked for by
// someone else): a clinician on the roster is refused by the policy, but for a treatment
// release as a provider, which their own login redeems; a clinic admin, whom the service
// cannot know from their subject, may be approved, but their login never redeems it. Nobody
// receives a release they asked for, and the admin who records a court order is not its
// recipient (TestAPICourtOrder).
func TestAPIStaffNeverRecipients(t *testing.T) {
	e := &downloadEnv{apiEnv: newAPIEnv(t, separationUsers)}
	client := e.clientBorn(t, "1980-03-01")
	base := "/v1/clients/" + client
	for _, basis := range policy.Bases {
		for _, staff := range []string{"dr-out", "admin"} {
			t.Run(string(basis)+"/"+staff, func(t *testing.T) {
				r := e.releaseToStaff(t, client, basis, staff)
				clinicianTreated := basis == policy.Treatment && staff == "dr-out"
				switch {
				case clinicianTreated:
					if r.Status != app.ReleaseApproved {
						t.Fatalf("a treatment release to a clinician on the roster: %s %+v", r.Status, r.Decision.Rule)
					}
				case staff == "dr-out":
					if r.Status != app.ReleaseDenied || r.Decision.Rule.Citation != separationCitation {
						t.Fatalf("a %s release to a clinician: %s %+v", basis, r.Status, r.Decision.Rule)
					}
					return
				case r.Status != app.ReleaseApproved:
					t.Fatalf("a %s release to %s: %s %+v (the case should approve but for who receives it)", basis, staff, r.Status, r.Decision.Rule)
				}
				tok := e.token(t, "admin2", client, r.ID)
				status, _, body := e.redeem(t, staff, tok)
				if clinicianTreated {
					if status != http.StatusOK {
						t.Fatalf("the provider's own login: %d %s", status, body)
					}
					return
				}
				if status != http.StatusUnauthorized {
					t.Fatalf("%s's login redeeming a %s release: %d %s", staff, basis, status, body)
				}
			})
		}
	}

	// Nobody receives a release they asked for; a reviewer does not release to themselves.
	note := e.signedNote(t, recordvault.ProgressNote, client)
	var self app.ReleaseView
	e.must(t, http.StatusCreated, &self, "dr-lee", "POST", base+"/releases", map[string]any{"document": note, "basis": "treatment",
		"recipient": map[string]string{"kind": "provider", "id": "dr-lee"}, "purpose": "to myself"})
	if self.Status != app.ReleaseDenied || self.Decision.Rule.Citation != separationCitation {
		t.Fatalf("a treatment release to who asks for it: %s %+v", self.Status, self.Decision.Rule)
	}
	// A recipient without a login gives a registered address, or nothing is recorded.
	before := e.bucketState(t)
	for _, recipient := range []map[string]string{{"kind": "attorney", "id": "smith-law"}, {"kind": "provider", "id": "er-1"},
		{"kind": "school", "id": "school-1", "email": "not an address"}} {
		if s, _, b := e.call(t, "dr-lee", "POST", base+"/releases", map[string]any{"document": note, "basis": "treatment",
			"recipient": recipient, "purpose": "p"}); s != http.StatusBadRequest {
			t.Errorf("a release to %v: %d %s", recipient, s, b)
		}
	}
	if !maps.Equal(before, e.bucketState(t)) {
		t.Error("a refused release wrote to the bucket")
	}
}

// releaseToStaff asks, as dr-lee, for a release on basis naming staff as recipient, with the
// evidence that would approve it recorded by admin2, and returns it.
func (e *downloadEnv) releaseToStaff(t *testing.T, client string, basis policy.Basis, staff string) app.ReleaseView {
	t.Helper()
	base := "/v1/clients/" + client
	email := staff + "@clinic.example"
	recipient := func(kind policy.RecipientKind) map[string]any {
		return map[string]any{"kind": kind, "id": staff, "name": "Staff " + staff, "email": email}
	}
	authorize := func(categories ...recordvault.Category) {
		form := authorizationForm(staff, categories...)
		form["psychotherapy_notes"] = categories[0] == recordvault.PsychotherapyNote
		e.must(t, http.StatusCreated, nil, "admin2", "POST", base+"/authorizations", form)
	}
	note := e.signedNote(t, recordvault.ProgressNote, client)
	ask := map[string]any{"document": note, "basis": basis, "purpose": "p"}
	switch basis {
	case policy.RightOfAccess:
		rep := recipient(policy.ToRepresentative)
		rep["for"], rep["representation"] = client, policy.Representation{Relationship: "guardian", Authority: true}
		ask["recipient"] = rep
	case policy.ByAuthorization:
		authorize(recordvault.ProgressNote)
		ask["recipient"] = recipient(policy.ToAttorney)
	case policy.PsychotherapyAuthorization:
		ask["document"] = e.signedNote(t, recordvault.PsychotherapyNote, client)
		authorize(recordvault.PsychotherapyNote)
		ask["recipient"] = recipient(policy.ToProvider)
	case policy.CourtOrder:
		var o app.OrderView
		e.must(t, http.StatusCreated, &o, "admin2", "POST", base+"/court-orders", map[string]any{"court": "Circuit Court", "issued": "2026-11-01",
			"purpose": "custody", "recipient": recipient(policy.ToAttorney), "categories": []string{"progress_note"},
			"from": "2026-01-01", "to": "2026-12-31", "documents": []string{note}})
		for _, refused := range o.Refused {
			return app.ReleaseView{ID: "", Status: app.ReleaseDenied, Decision: policy.Decision{Rule: refused.Reason}}
		}
		var r app.ReleaseView
		e.must(t, http.StatusOK, &r, "admin2", "GET", base+"/releases/"+o.Releases[0], nil)
		return r
	case policy.Subpoena:
		ask["recipient"], ask["fields"], ask["assurances"] = recipient(policy.ToAttorney), []string{"plan"}, policy.Assurances{ProtectiveOrder: true}
	case policy.SeriousThreat:
		ask["recipient"], ask["fields"], ask["attestation"] = recipient(policy.ToThreatenedPerson), []string{"plan"}, app.AttestationInput{GoodFaith: true}
	case policy.AbuseReport:
		ask["recipient"], ask["fields"], ask["attestation"] = recipient(policy.ToAuthority), []string{"plan"}, app.AttestationInput{GoodFaith: true}
	case policy.Treatment:
		ask["recipient"] = recipient(policy.ToProvider)
	case policy.AmendmentNotice:
		ask["recipient"] = e.receivedBefore(t, client, note, staff, email)
		var a recordvault.Amendment
		path := base + "/records/" + note + "/amendments"
		e.must(t, http.StatusCreated, &a, "dr-lee", "POST", path, map[string]string{
			"received": time.Now().UTC().Format(time.DateOnly), "requested_change": "The plan is wrong."})
		e.must(t, http.StatusOK, nil, "dr-lee", "POST", path+"/"+a.ID+"/decision", map[string]string{"outcome": "accepted", "amendment": "Plan: biweekly."})
		ask["notice"] = app.NoticeInput{Amendment: a.ID, ClientAgreed: true}
	default:
		t.Fatalf("no case for basis %s", basis)
	}
	var r app.ReleaseView
	e.must(t, http.StatusCreated, &r, "dr-lee", "POST", base+"/releases", ask)
	return r
}

// receivedBefore has staff receive note the way they may (a clinician by a treatment release
// their login redeems, an admin by an authorization and the one-time code sent to the address
// it registers) and returns the recipient an amendment notice names.
func (e *downloadEnv) receivedBefore(t *testing.T, client, note, staff, email string) map[string]any {
	t.Helper()
	base := "/v1/clients/" + client
	kind, basis := policy.ToProvider, policy.Treatment
	if staff == "admin" {
		kind, basis = policy.ToAttorney, policy.ByAuthorization
		e.must(t, http.StatusCreated, nil, "admin2", "POST", base+"/authorizations", authorizationForm(staff, recordvault.ProgressNote))
	}
	recipient := map[string]any{"kind": kind, "id": staff, "email": email}
	var r app.ReleaseView
	e.must(t, http.StatusCreated, &r, "dr-lee", "POST", base+"/releases", map[string]any{"document": note, "basis": basis,
		"recipient": recipient, "purpose": "earlier"})
	tok := e.token(t, "dr-lee", client, r.ID)
	body := map[string]string{"token": tok}
	user := staff
	if staff == "admin" {
		e.must(t, http.StatusAccepted, nil, "", "POST", "/downloads/code", body)
		body["code"], user = e.mailbox.lastCode(t, email), ""
	}
	e.must(t, http.StatusOK, nil, user, "POST", "/downloads", body)
	return recipient
}
