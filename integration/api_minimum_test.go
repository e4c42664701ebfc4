//go:build integration

package integration

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/policy"
)

// redeemByCode issues a token for release of client as dr-lee and redeems it as a recipient
// without a login: a one-time code to email, then the copy in the format accept asks for.
func (e *downloadEnv) redeemByCode(t *testing.T, client, release, email, accept string) []byte {
	t.Helper()
	tok := e.token(t, "dr-lee", client, release)
	e.must(t, http.StatusAccepted, nil, "", "POST", "/downloads/code", map[string]string{"token": tok})
	status, _, body := e.call(t, "", "POST", "/downloads", map[string]string{"token": tok, "code": e.mailbox.lastCode(t, email)}, "Accept", accept)
	if status != http.StatusOK {
		t.Fatalf("redeeming release %s: %d %s", release, status, body)
	}
	return body
}

// TestAPIMinimumNecessaryLinkedDocuments: addenda and amendment requests say which fields of
// the record they concern, and a copy that names its fields carries exactly those whose
// concern overlaps them (one about the whole record goes with every copy): a subpoena's
// copy of the date and diagnosis carries neither the addendum about the plan nor the denied
// amendment of the plan with its disagreement; a threat disclosure of the plan carries them
// and not the diagnosis's. The cover sheet and the JSON say what was withheld, never its
// content.
func TestAPIMinimumNecessaryLinkedDocuments(t *testing.T) {
	e := &downloadEnv{apiEnv: newAPIEnv(t, releaseUsers)}
	client := e.clientBorn(t, "1975-04-02")
	note := e.signedNote(t, recordvault.ProgressNote, client)
	path := "/v1/clients/" + client + "/records/" + note
	const planCanary, diagnosisCanary, wholeText = "PLAN-ADDENDUM-CANARY", "DIAGNOSIS-ADDENDUM-CANARY", "Reviewed in supervision."
	const planRequest, disagreement = "PLAN-AMENDMENT-CANARY", "DISAGREEMENT-CANARY"
	addendum := func(text string, concerns ...string) {
		body := map[string]any{"text": text}
		if concerns != nil {
			body["concerns"] = concerns
		}
		e.must(t, http.StatusCreated, nil, "dr-lee", "POST", path+"/addenda", body)
	}
	addendum(planCanary, "plan")
	addendum(diagnosisCanary, "diagnosis_codes")
	addendum(wholeText)
	today := time.Now().UTC().Format(time.DateOnly)
	var planAmendment recordvault.Amendment
	e.must(t, http.StatusCreated, &planAmendment, "dr-lee", "POST", path+"/amendments", map[string]any{"received": today,
		"requested_change": planRequest, "concerns": []string{"plan"}})
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", path+"/amendments/"+planAmendment.ID+"/decision", map[string]string{
		"outcome": "denied", "ground": "accurate_and_complete", "explanation": "The plan is as agreed."})
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", path+"/amendments/"+planAmendment.ID+"/disagreement", map[string]string{"statement": disagreement})

	before := e.bucketState(t)
	for _, body := range []map[string]any{
		{"text": "x", "concerns": []string{"no_such_field"}},
		{"text": "x", "concerns": []string{"plan", "plan"}},
		{"text": "x", "concerns": []string{"process_notes"}}, // a psychotherapy note's field
	} {
		if s, _, b := e.call(t, "dr-lee", "POST", path+"/addenda", body); s != http.StatusBadRequest {
			t.Errorf("addendum concerning %v: %d %s", body["concerns"], s, b)
		}
	}
	if s, _, b := e.call(t, "dr-lee", "POST", path+"/amendments", map[string]any{"received": today, "requested_change": "c",
		"concerns": []string{"diary"}}); s != http.StatusBadRequest {
		t.Errorf("an amendment request concerning an unknown field: %d %s", s, b)
	}
	if !maps.Equal(before, e.bucketState(t)) {
		t.Fatal("refused addenda or requests wrote to the bucket")
	}

	release := func(basis policy.Basis, kind policy.RecipientKind, id string, fields []string, evidence map[string]any) string {
		t.Helper()
		ask := map[string]any{"document": note, "basis": basis, "purpose": "p", "fields": fields,
			"recipient": map[string]string{"kind": string(kind), "id": id, "name": id, "email": id + "@recipients.example"}}
		maps.Copy(ask, evidence)
		var r app.ReleaseView
		e.must(t, http.StatusCreated, &r, "dr-lee", "POST", "/v1/clients/"+client+"/releases", ask)
		if r.Status != app.ReleaseApproved {
			t.Fatalf("%s release: %+v", basis, r.Decision.Rule)
		}
		return r.ID
	}
	subpoena := release(policy.Subpoena, policy.ToAttorney, "jones-law", []string{"date_of_service", "diagnosis_codes"},
		map[string]any{"assurances": policy.Assurances{ProtectiveOrder: true}})
	threat := release(policy.SeriousThreat, policy.ToThreatenedPerson, "target-1", []string{"plan"},
		map[string]any{"attestation": app.AttestationInput{GoodFaith: true}})

	for _, c := range []struct {
		release, email        string
		carried, notCarried   []string
		addenda, amendments   int
		withheldAddenda, wAmd int
	}{
		{subpoena, "jones-law@recipients.example", []string{diagnosisCanary, wholeText}, []string{planCanary, planRequest, disagreement}, 2, 0, 1, 1},
		{threat, "target-1@recipients.example", []string{planCanary, wholeText, planRequest, disagreement}, []string{diagnosisCanary}, 2, 1, 1, 0},
	} {
		body := e.redeemByCode(t, client, c.release, c.email, "application/json")
		var cp app.ReleasedCopy
		if err := json.Unmarshal(body, &cp); err != nil {
			t.Fatal(err)
		}
		if len(cp.Addenda) != c.addenda || len(cp.Amendments) != c.amendments || cp.Withheld.Addenda != c.withheldAddenda ||
			cp.Withheld.Amendments != c.wAmd || cp.Withheld.Citation != policy.AccompaniesCitation || len(cp.Withheld.Fields) != 7-len(cp.Fields) {
			t.Errorf("release %s: %d addenda, %d amendments, withheld %+v", c.release, len(cp.Addenda), len(cp.Amendments), cp.Withheld)
		}
		pdf := pdfText(t, e.redeemByCode(t, client, c.release, c.email, "application/pdf"))
		for _, s := range c.carried {
			if !strings.Contains(string(body), s) || !strings.Contains(pdf, s) {
				t.Errorf("release %s: the copy lacks %q", c.release, s)
			}
		}
		for _, s := range c.notCarried {
			if strings.Contains(string(body), s) || strings.Contains(pdf, s) {
				t.Errorf("release %s: the copy carries %q, which concerns no field it releases", c.release, s)
			}
		}
		if !strings.Contains(pdf, "Withheld from this copy") || !slices.ContainsFunc(cp.Withheld.Fields, func(f string) bool {
			return strings.Contains(pdf, f)
		}) {
			t.Errorf("release %s: the cover sheet does not say what was withheld", c.release)
		}
	}
}
