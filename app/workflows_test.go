package app_test

import (
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/app/apptest"
	"github.com/recordvault/recordvault/policy"
	"github.com/recordvault/recordvault/tokens"
)

// A draft is its author's: changed and given a PDF, then signed; after that it never changes.
// A clinician off the care team is answered as for nothing.
func TestDraftLifecycle(t *testing.T) {
	e := apptest.New(t, "")
	client, _ := clientWithNote(t, e)
	drLee, drOut := e.Caller("dr-lee", clinical...), e.Caller("dr-out", clinical...)
	draft, err := e.Service.CreateRecord(ctx, drLee, client, app.NewRecord{Category: recordvault.ProgressNote, Fields: note("first")})
	if err != nil || draft.Status != recordvault.StatusDraft {
		t.Fatalf("a draft: %v %+v", err, draft)
	}
	if _, err := e.Service.UpdateRecord(ctx, drOut, client, draft.ID, note("hijack")); !errors.Is(err, recordvault.ErrNotFound) {
		t.Fatalf("an outsider changing the draft: %v", err)
	}
	if _, err := e.Service.UpdateRecord(ctx, drLee, client, draft.ID, note("second")); err != nil {
		t.Fatal(err)
	}
	pdf := "%PDF-1.7 a scanned page"
	if _, err := e.Service.AddAttachment(ctx, drLee, client, draft.ID, strings.NewReader("not a pdf"), 9); recordvault.ErrorCode(err) != recordvault.EMEDIATYPE {
		t.Fatalf("a non-PDF attachment: %v", err)
	}
	att, err := e.Service.AddAttachment(ctx, drLee, client, draft.ID, strings.NewReader(pdf), int64(len(pdf)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.SignRecord(ctx, drLee, client, draft.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.UpdateRecord(ctx, drLee, client, draft.ID, note("third")); recordvault.ErrorCode(err) != recordvault.ECONFLICT {
		t.Fatalf("changing a signed record: %v", err)
	}
	opened, err := e.Service.OpenAttachment(ctx, drLee, client, draft.ID, att.ID, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(opened)
	opened.Close()
	if string(part) != pdf[5:8] || opened.Size != int64(len(pdf)) {
		t.Fatalf("a range of the attachment: %q of %d", part, opened.Size)
	}
	list, err := e.Service.ListRecords(ctx, drLee, client, "", 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("the client's records: %v, %d", err, len(list))
	}
	if _, err := e.Service.ListRecords(ctx, drOut, client, "", 10); !errors.Is(err, recordvault.ErrNotFound) {
		t.Fatalf("an outsider listing: %v", err)
	}
}

// An amendment request goes its legal way: extended once, denied on a ground, answered by the
// client's disagreement and the clinic's rebuttal; only an accepted one has recipients.
func TestAmendmentWorkflow(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	drLee := e.Caller("dr-lee", clinical...)
	today := time.Now().UTC().Format(time.DateOnly)
	a, err := e.Service.RequestAmendment(ctx, drLee, client, record, recordvault.AmendmentRequest{Received: today, Change: "The plan is wrong.", Concerns: []string{"plan"}})
	if err != nil || a.Status != recordvault.StatusRequested {
		t.Fatalf("request: %v %+v", err, a)
	}
	if _, err := e.Service.RequestAmendment(ctx, e.Caller("dr-out", clinical...), client, record, recordvault.AmendmentRequest{Received: today, Change: "x"}); !errors.Is(err, recordvault.ErrNotFound) {
		t.Fatalf("an outsider's request: %v", err)
	}
	steps := []func() (*recordvault.Amendment, error){
		func() (*recordvault.Amendment, error) {
			return e.Service.ExtendAmendment(ctx, drLee, client, record, a.ID, "records off site")
		},
		func() (*recordvault.Amendment, error) {
			return e.Service.DecideAmendment(ctx, drLee, client, record, a.ID, recordvault.StatusDenied, "", recordvault.GroundAccurateAndComplete, "As agreed.")
		},
		func() (*recordvault.Amendment, error) {
			return e.Service.RecordDisagreement(ctx, drLee, client, record, a.ID, "I disagree.")
		},
		func() (*recordvault.Amendment, error) {
			return e.Service.RebutDisagreement(ctx, drLee, client, record, a.ID, "We stand by it.")
		},
	}
	for i, step := range steps {
		if a, err = step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if a.Status != recordvault.StatusDenied || a.Extension == nil || a.Rebuttal == nil {
		t.Fatalf("after every step: %+v", a)
	}
	if _, err := e.Service.ExtendAmendment(ctx, drLee, client, record, a.ID, "again"); recordvault.ErrorCode(err) != recordvault.ECONFLICT {
		t.Fatalf("a second extension: %v", err)
	}
	if _, err := e.Service.AmendmentRecipients(ctx, drLee, client, record, a.ID); recordvault.ErrorCode(err) != recordvault.ECONFLICT {
		t.Fatalf("recipients of a denied amendment: %v", err)
	}
}

// An access request runs on the clinic's clock: recorded, listed, extended once with a reason,
// answered by the right-of-access releases made for it; only admins see the overdue ones.
func TestAccessRequestWorkflow(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	drLee, adm := e.Caller("dr-lee", clinical...), e.Caller("admin", admin...)
	req, err := e.Service.CreateAccessRequest(ctx, drLee, client, app.AccessRequestInput{Received: time.Now().UTC().Format(time.DateOnly),
		RequestedBy: app.RecipientInput{Kind: policy.ToClient}, Description: "all notes"})
	if err != nil || req.Due == "" || req.Jurisdiction != "US" {
		t.Fatalf("record: %v %+v", err, req)
	}
	if list, err := e.Service.ListAccessRequests(ctx, drLee, client); err != nil || len(list) != 1 {
		t.Fatalf("list: %v %d", err, len(list))
	}
	if _, err := e.Service.ExtendAccessRequest(ctx, drLee, client, req.ID, "records off site"); err != nil {
		t.Fatal(err)
	}
	r, err := e.Service.CreateRelease(ctx, drLee, client, app.ReleaseInput{Document: record, Basis: policy.RightOfAccess,
		Recipient: app.RecipientInput{Kind: policy.ToClient}, Purpose: "the client's copy"})
	if err != nil {
		t.Fatal(err)
	}
	if answered, err := e.Service.AnswerAccessRequest(ctx, drLee, client, req.ID, []string{r.ID}); err != nil || answered.Answered == nil {
		t.Fatalf("answer: %v %+v", err, answered)
	}
	if _, err := e.Service.OverdueAccessRequests(ctx, drLee); !errors.Is(err, recordvault.ErrNotFound) {
		t.Fatalf("a clinician listing the overdue: %v", err)
	}
	if overdue, err := e.Service.OverdueAccessRequests(ctx, adm); err != nil || len(overdue.Items) != 0 {
		t.Fatalf("the overdue: %v %+v", err, overdue)
	}
}

// A client asks for their records through their own login: made today, by them, whatever
// the request says; they follow their own requests and no one else's.
func TestClientAsksForRecords(t *testing.T) {
	e := apptest.New(t, "")
	client, _ := clientWithNote(t, e)
	other, _ := clientWithNote(t, e)
	adm := e.Caller("admin", admin...)
	for id, login := range map[string]string{client: "pat", other: "sam"} {
		if err := e.Service.LinkAccount(ctx, adm, id, login); err != nil {
			t.Fatal(err)
		}
	}
	pat := e.Caller("pat", recordvault.RoleClient)
	req, err := e.Service.CreateAccessRequest(ctx, pat, client, app.AccessRequestInput{Received: "2020-01-01",
		RequestedBy: app.RecipientInput{Kind: policy.ToRepresentative, ID: "someone"}, Description: "all my progress notes", Format: "pdf"})
	today := time.Now().UTC().Format(time.DateOnly)
	if err != nil || req.Request.Received != today || req.Request.RequestedBy.Kind != policy.ToClient || req.Request.RequestedBy.ID != client ||
		req.Due == "" || req.RecordedBy != "pat" {
		t.Fatalf("the client's request: %v %+v", err, req)
	}
	if list, err := e.Service.ListAccessRequests(ctx, pat, client); err != nil || len(list) != 1 || list[0].ID != req.ID {
		t.Fatalf("the client's list: %v %+v", err, list)
	}
	if _, err := e.Service.ListAccessRequests(ctx, pat, other); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("the client lists another's requests: %v", err)
	}
	if _, err := e.Service.CreateAccessRequest(ctx, pat, other, app.AccessRequestInput{Description: "theirs"}); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("the client asks for another's records: %v", err)
	}
	if _, err := e.Service.ExtendAccessRequest(ctx, pat, client, req.ID, "I need more time"); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("the client extends the clinic's clock: %v", err)
	}
}

// A client gives an authorization through their own login, signed by them today, and
// revokes it in writing the same way: the release relying on it ends.
func TestClientGivesAndRevokesAuthorization(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	if err := e.Service.LinkAccount(ctx, e.Caller("admin", admin...), client, "pat"); err != nil {
		t.Fatal(err)
	}
	pat := e.Caller("pat", recordvault.RoleClient)
	given, err := e.Service.AddAuthorization(ctx, pat, client, app.AuthorizationInput{Description: "progress notes", Discloser: "the clinic",
		Recipient: "lincoln-school", Purpose: "school support plan", Expires: "2099-06-30", Signed: "2001-01-01",
		Representative: "someone", RepresentativeAuthority: "none", RevocationStatement: true, ConditioningStatement: true,
		RedisclosureStatement: true, Categories: []recordvault.Category{recordvault.ProgressNote}})
	if err != nil || given.Signed != time.Now().UTC().Format(time.DateOnly) || given.SignedBy != client || given.RecordedBy != "pat" {
		t.Fatalf("the client's authorization: %v %+v", err, given)
	}
	r, err := e.Service.CreateRelease(ctx, e.Caller("dr-lee", clinical...), client, app.ReleaseInput{Document: record, Basis: policy.ByAuthorization,
		Recipient: app.RecipientInput{Kind: policy.ToSchool, ID: "lincoln-school", Email: "office@lincoln.example"}, Purpose: "school support plan"})
	if err != nil || r.Status != app.ReleaseApproved {
		t.Fatalf("the release under it: %v %+v", err, r)
	}
	if list, err := e.Service.ListAuthorizations(ctx, pat, client); err != nil || len(list) != 1 || list[0].Revoked {
		t.Fatalf("the client's list: %v %+v", err, list)
	}
	if _, err := e.Service.RevokeAuthorization(ctx, pat, client, given.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.IssueToken(ctx, e.Caller("dr-lee", clinical...), client, r.ID); recordvault.ErrorCode(err) != recordvault.ECONFLICT {
		t.Errorf("a link for the release after the revocation: %v", err)
	}
}

// Revoking an authorization ends every release relying on it: no token is issued for it.
func TestRevokedAuthorizationEndsReleases(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	drLee, adm := e.Caller("dr-lee", clinical...), e.Caller("admin", admin...)
	auth, err := e.Service.AddAuthorization(ctx, adm, client, app.AuthorizationInput{Description: "notes of 2026", Discloser: "the clinic",
		Recipient: "smith-law", Purpose: "custody", Expires: "2027-12-31", Signed: "2026-11-01", RevocationStatement: true,
		ConditioningStatement: true, RedisclosureStatement: true, Categories: []recordvault.Category{recordvault.ProgressNote}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.AddAuthorization(ctx, adm, client, app.AuthorizationInput{Description: "incomplete"}); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Fatalf("an incomplete authorization: %v", err)
	}
	r, err := e.Service.CreateRelease(ctx, drLee, client, app.ReleaseInput{Document: record, Basis: policy.ByAuthorization,
		Recipient: app.RecipientInput{Kind: policy.ToAttorney, ID: "smith-law", Email: "records@smith.example"}, Purpose: "custody"})
	if err != nil || r.Status != app.ReleaseApproved {
		t.Fatalf("release: %v %+v", err, r)
	}
	if _, err := e.Service.RevokeAuthorization(ctx, adm, client, auth.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := e.Service.GetRelease(ctx, drLee, client, r.ID); err != nil || got.Status != app.ReleaseRevoked {
		t.Fatalf("the release after the revocation: %v %+v", err, got)
	}
	if _, err := e.Service.IssueToken(ctx, drLee, client, r.ID); recordvault.ErrorCode(err) != recordvault.ECONFLICT {
		t.Fatalf("a token for an ended release: %v", err)
	}
	if list, err := e.Service.ListAuthorizations(ctx, drLee, client); err != nil || len(list) != 1 || !list[0].Revoked {
		t.Fatalf("the authorizations: %v %+v", err, list)
	}
}

// Care teams decide who sees a client; a clinician taken off the roster leaves every care team.
func TestCareTeamAndRoster(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	adm, drOut := e.Caller("admin", admin...), e.Caller("dr-out", clinical...)
	if found, err := e.Service.FindClients(ctx, e.Caller("dr-lee", clinical...), "jo  EXAMPLE", "1980-01-01"); err != nil || len(found) != 1 || found[0].ID != client {
		t.Fatalf("find: %v %+v", err, found)
	}
	if _, err := e.Service.SetCareTeam(ctx, adm, client, []string{"dr-lee", "dr-out"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.GetRecord(ctx, drOut, client, record); err != nil {
		t.Fatalf("a clinician put on the team: %v", err)
	}
	if _, err := e.Service.SetCareTeam(ctx, adm, client, []string{"nobody"}); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Fatalf("a team of someone off the roster: %v", err)
	}
	if err := e.Service.RemoveClinician(ctx, adm, "dr-out"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.GetRecord(ctx, drOut, client, record); !errors.Is(err, recordvault.ErrNotFound) {
		t.Fatalf("a clinician taken off the roster: %v", err)
	}
	if roster, err := e.Service.Clinicians(ctx, adm); err != nil || len(roster) != 1 {
		t.Fatalf("the roster: %v %+v", err, roster)
	}
	newcomer := recordvault.Clinician{Subject: "dr-new", Name: "Dr New", Licensed: true}
	if err := e.Service.PutClinician(ctx, e.Caller("dr-lee", clinical...), newcomer); !errors.Is(err, recordvault.ErrNotFound) {
		t.Fatalf("a clinician putting one on the roster: %v", err)
	}
	if err := e.Service.PutClinician(ctx, adm, newcomer); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.SetCareTeam(ctx, adm, client, []string{"dr-lee", "dr-new"}); err != nil {
		t.Fatalf("a team with the newcomer on the roster: %v", err)
	}
}

// A client's own file: the records about them but psychotherapy notes, a page filled past
// those; an amendment requested and, once denied, disagreed with through their own login;
// nothing of anyone else's, and no psychotherapy note even by its id.
func TestClientsOwnFile(t *testing.T) {
	e := apptest.New(t, "")
	client, first := clientWithNote(t, e)
	lee := e.Caller("dr-lee", clinical...)
	if err := e.Service.LinkAccount(ctx, e.Caller("admin", admin...), client, "pat"); err != nil {
		t.Fatal(err)
	}
	var notes []string
	for range 3 {
		psy, err := e.Service.CreateRecord(ctx, lee, client, app.NewRecord{Category: recordvault.PsychotherapyNote,
			Fields: map[string]json.RawMessage{"process_notes": json.RawMessage(`"transference"`)}, Sign: true})
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, psy.ID)
		rec, err := e.Service.CreateRecord(ctx, lee, client, app.NewRecord{Category: recordvault.ProgressNote, Fields: note("more CBT"), Sign: true})
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, rec.ID)
	}
	pat := e.Caller("pat", recordvault.RoleClient)
	var seen []string
	after := ""
	for pages := 0; ; pages++ {
		page, next, err := e.Service.OwnRecords(ctx, pat, client, after, 2)
		if err != nil || (next != "" && len(page) != 2) || pages > 3 {
			t.Fatalf("page %d: %v, %d records, next %q", pages, err, len(page), next)
		}
		for _, r := range page {
			if r.Category == recordvault.PsychotherapyNote || r.AuthorName == "" {
				t.Errorf("listed %+v", r)
			}
			seen = append(seen, r.ID)
		}
		if after = next; after == "" {
			break
		}
	}
	if len(seen) != 4 || !slices.Contains(seen, first) {
		t.Fatalf("the client's file lists %v, want the 4 progress notes", seen)
	}
	if _, err := e.Service.OwnRecord(ctx, pat, client, notes[0]); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("a psychotherapy note by its id: %v", err)
	}
	if _, err := e.Service.RequestAmendment(ctx, pat, client, notes[0], recordvault.AmendmentRequest{Change: "remove it"}); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("an amendment of a psychotherapy note: %v", err)
	}
	if _, _, err := e.Service.OwnRecords(ctx, lee, client, "", 10); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("staff through the client's own view: %v", err)
	}

	asked, err := e.Service.RequestAmendment(ctx, pat, client, first, recordvault.AmendmentRequest{Received: "2001-01-01",
		Change: "The session was 45 minutes.", Reason: "I left early."})
	if err != nil || asked.Request.Received != time.Now().UTC().Format(time.DateOnly) || asked.Request.RecordedBy != "pat" {
		t.Fatalf("the client's request: %v %+v", err, asked)
	}
	if _, err := e.Service.DecideAmendment(ctx, pat, client, first, asked.ID, recordvault.StatusDenied, "", recordvault.GroundAccurateAndComplete, "x"); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("the client deciding their own request: %v", err)
	}
	if _, err := e.Service.DecideAmendment(ctx, lee, client, first, asked.ID, recordvault.StatusDenied, "", recordvault.GroundAccurateAndComplete,
		"The log shows 50 minutes."); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.RecordDisagreement(ctx, pat, client, first, asked.ID, "I still left early."); err != nil {
		t.Fatal(err)
	}
	got, err := e.Service.OwnRecord(ctx, pat, client, first)
	if err != nil || len(got.Amendments) != 1 || got.Amendments[0].Disagreement == nil || got.Amendments[0].Decision.Explanation != "The log shows 50 minutes." {
		t.Fatalf("the record in the client's file: %v %+v", err, got)
	}
}

// What waits on the clinic's clocks: an open access request, an undecided amendment, a
// release for an admin to resolve and a reviewable denial; all for the clinic admin and the
// care team, nothing for a clinician off it; each ends its wait when done.
func TestWaiting(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	lee, adm := e.Caller("dr-lee", clinical...), e.Caller("admin", admin...)
	req, err := e.Service.CreateAccessRequest(ctx, lee, client, app.AccessRequestInput{Received: time.Now().UTC().Format(time.DateOnly),
		RequestedBy: app.RecipientInput{Kind: policy.ToClient}, Description: "all notes"})
	if err != nil {
		t.Fatal(err)
	}
	asked, err := e.Service.RequestAmendment(ctx, lee, client, record, recordvault.AmendmentRequest{Received: time.Now().UTC().Format(time.DateOnly), Change: "45 minutes"})
	if err != nil {
		t.Fatal(err)
	}
	sud, err := e.Service.CreateRecord(ctx, lee, client, app.NewRecord{Category: recordvault.SUDRecord,
		Fields: map[string]json.RawMessage{"date_of_service": json.RawMessage(`"2026-10-01"`), "note": json.RawMessage(`"withdrawal risk"`)}, Sign: true})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := e.Service.CreateRelease(ctx, lee, client, app.ReleaseInput{Document: sud.ID, Basis: policy.SeriousThreat, Fields: []string{"note"},
		Purpose: "emergency", Attestation: &app.AttestationInput{GoodFaith: true},
		Recipient: app.RecipientInput{Kind: policy.ToProvider, ID: "er-1", Email: "er@recipients.example", Name: "County ER"}})
	if err != nil || pending.Status != app.ReleaseNeedsReview {
		t.Fatalf("a Part 2 record to avert a threat: %v %+v", err, pending)
	}
	denied, err := e.Service.CreateRelease(ctx, lee, client, app.ReleaseInput{Document: record, Basis: policy.RightOfAccess,
		Recipient: app.RecipientInput{Kind: policy.ToClient}, Purpose: "the client's copy", Denial: &app.DenialInput{Ground: policy.Endangerment}})
	if err != nil || denied.Denial == nil {
		t.Fatalf("a reviewable denial: %v %+v", err, denied)
	}
	for _, who := range []access.Caller{adm, lee} {
		w, err := e.Service.Waiting(ctx, who)
		if err != nil || len(w.AccessRequests) != 1 || w.AccessRequests[0].ID != req.ID || len(w.Amendments) != 1 || w.Amendments[0].Amendment != asked.ID ||
			len(w.Releases) != 2 || w.Names[client] != "Jo Example" {
			t.Fatalf("what waits on %s: %v %+v", who.ID, err, w)
		}
		awaits := map[string]string{}
		for _, r := range w.Releases {
			awaits[r.Release] = r.Awaits
		}
		if awaits[pending.ID] != recordvault.AwaitsResolution || awaits[denied.ID] != recordvault.AwaitsReview {
			t.Errorf("the releases waiting on %s: %v", who.ID, awaits)
		}
	}
	if w, err := e.Service.Waiting(ctx, e.Caller("dr-out", clinical...)); err != nil || len(w.AccessRequests)+len(w.Amendments)+len(w.Releases) != 0 {
		t.Errorf("what waits on a clinician off the care team: %v %+v", err, w)
	}
	if _, err := e.Service.Waiting(ctx, e.Caller("pat", recordvault.RoleClient)); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("a client asking what waits on staff: %v", err)
	}
	if _, err := e.Service.ResolveRelease(ctx, adm, client, pending.ID, true, "bona fide emergency"); err != nil {
		t.Fatal(err)
	}
	if w, err := e.Service.Waiting(ctx, adm); err != nil || len(w.Releases) != 1 || w.Releases[0].Release != denied.ID {
		t.Errorf("after the resolution: %v %+v", err, w)
	}
}

// A parent in Illinois acts for their 9-year-old, and for their 13-year-old only once the
// child is told and does not object; the 13-year-old signs their own authorizations. A copy
// released to the parent is theirs to download with their own login while they still act
// for the child.
func TestPersonalRepresentative(t *testing.T) {
	e := apptest.New(t, "")
	adm, lee := e.Caller("admin", admin...), e.Caller("dr-lee", clinical...)
	if _, err := e.Service.SetJurisdiction(ctx, adm, "US-IL"); err != nil {
		t.Fatal(err)
	}
	kid := func(name, born string) (string, string) {
		cl, err := e.Service.CreateClient(ctx, adm, recordvault.Identity{FullName: name, DateOfBirth: born}, []string{"dr-lee"})
		if err != nil {
			t.Fatal(err)
		}
		rec, err := e.Service.CreateRecord(ctx, lee, cl.ID, app.NewRecord{Category: recordvault.ProgressNote, Fields: note("play therapy"), Sign: true})
		if err != nil {
			t.Fatal(err)
		}
		return cl.ID, rec.ID
	}
	nine := time.Now().AddDate(-9, 0, 0).Format(time.DateOnly)
	thirteen := time.Now().AddDate(-13, 0, 0).Format(time.DateOnly)
	child, childNote := kid("Ria Example", nine)
	teen, _ := kid("Sam Example", thirteen)
	parent := e.Caller("parent-1", recordvault.RoleClient)
	for _, id := range []string{child, teen} {
		if err := e.Service.LinkRepresentative(ctx, adm, id, "parent-1", app.RepresentativeInput{Representation: policy.Representation{Relationship: "parent"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Service.LinkRepresentative(ctx, lee, child, "parent-2", app.RepresentativeInput{Representation: policy.Representation{Relationship: "parent"}}); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("a clinician linking a representative: %v", err)
	}
	own, err := e.Service.OwnClient(ctx, parent)
	if err != nil || len(own.Clients) != 2 {
		t.Fatalf("whom the parent opens: %v %+v", err, own)
	}
	for _, a := range own.Clients {
		switch a.Client {
		case child:
			if !a.Acts || !a.Signs || a.Self || a.Name != "Ria Example" {
				t.Errorf("the parent for the 9-year-old: %+v", a)
			}
		case teen:
			if a.Acts || !strings.Contains(a.Why, "740 ILCS 110/4(a)(3)") || a.Signs || !strings.Contains(a.SignWhy, "740 ILCS 110/5") {
				t.Errorf("the parent for the 13-year-old not told: %+v", a)
			}
		}
	}
	if _, err := e.Service.ListReleases(ctx, parent, teen); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("the parent lists the untold 13-year-old's copies: %v", err)
	}
	form := app.AuthorizationInput{Description: "evaluations", Discloser: "the clinic", Recipient: "lincoln-school", Purpose: "school plan",
		Expires: "2099-06-30", RevocationStatement: true, ConditioningStatement: true, RedisclosureStatement: true,
		Categories: []recordvault.Category{recordvault.Evaluation}}
	signed, err := e.Service.AddAuthorization(ctx, parent, child, form)
	if err != nil || signed.SignedBy != "representative:parent-1" || signed.RepresentativeAuthority == "" {
		t.Fatalf("the parent signs for the 9-year-old: %v %+v", err, signed)
	}
	if err := e.Service.LinkRepresentative(ctx, adm, teen, "parent-1", app.RepresentativeInput{Representation: policy.Representation{Relationship: "parent", MinorInformed: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.ListReleases(ctx, parent, teen); err != nil {
		t.Errorf("the parent, the 13-year-old told: %v", err)
	}
	if _, err := e.Service.AddAuthorization(ctx, parent, teen, form); recordvault.ErrorCode(err) != recordvault.ECONFLICT || !strings.Contains(err.Error(), "740 ILCS 110/5") {
		t.Errorf("the parent signs for the 13-year-old: %v", err)
	}

	r, err := e.Service.CreateRelease(ctx, lee, child, app.ReleaseInput{Document: childNote, Basis: policy.RightOfAccess, Purpose: "the parent's copy",
		Recipient: app.RecipientInput{Kind: policy.ToRepresentative, ID: "parent-1", For: child, Representation: &policy.Representation{Relationship: "parent"}}})
	if err != nil || r.Status != app.ReleaseApproved {
		t.Fatalf("a release to the parent: %v %+v", err, r)
	}
	if list, err := e.Service.ListReleases(ctx, parent, child); err != nil || len(list) != 1 || list[0].ID != r.ID {
		t.Fatalf("the parent's copies of the 9-year-old's: %v %+v", err, list)
	}
	tok, err := e.Service.IssueToken(ctx, parent, child, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := e.Service.Redeem(ctx, app.Proof{Caller: &parent}, tok.Token, app.FormatJSON); err != nil || string(got.Fields["plan"]) != `"play therapy"` {
		t.Fatalf("the parent downloads with their login: %v", err)
	}
	tok, err = e.Service.IssueToken(ctx, parent, child, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Service.UnlinkRepresentative(ctx, adm, child, "parent-1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Service.Redeem(ctx, app.Proof{Caller: &parent}, tok.Token, app.FormatJSON); err != tokens.ErrInvalid {
		t.Errorf("a download after the parent was unlinked: %v", err)
	}
}

// A record listed whose manifest the storage answers "not found" (MinIO, a moment after a
// restart of its whole set) makes the listing unavailable, to be asked again: never a 404 for
// a client that exists, nor the record silently left out.
func TestListedRecordUnreadIsUnavailable(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	drLee := e.Caller("dr-lee", clinical...)
	manifest := "c/" + e.Clinic + "/p/" + client + "/r/" + record
	if !slices.Contains(e.S3.Keys(e.Bucket), manifest) {
		t.Fatalf("no manifest at %s: %v", manifest, e.S3.Keys(e.Bucket))
	}
	e.S3.Unread(e.Bucket, manifest)
	if _, err := e.Service.ListRecords(ctx, drLee, client, "", 10); !errors.Is(err, recordvault.ErrUnavailable) {
		t.Fatalf("the listing with a record unread: %v", err)
	}
}
