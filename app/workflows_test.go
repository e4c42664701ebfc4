package app_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/app/apptest"
	"github.com/recordvault/recordvault/policy"
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
