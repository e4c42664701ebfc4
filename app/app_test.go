package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/app/apptest"
	"github.com/recordvault/recordvault/policy"
	"github.com/recordvault/recordvault/tokens"
)

// These tests run app's workflows on fakes (apptest: the service's storage code over an
// in-memory S3, a stand-in for Transit), without Docker, in well under a second each; the
// integration tests run the same workflows over HTTP on a real Vault and MinIO.

var (
	ctx      = context.Background()
	admin    = []recordvault.Role{recordvault.RoleClinicAdmin}
	clinical = []recordvault.Role{recordvault.RoleClinician}
)

// fields is a record's fields as a request carries them.
func fields(values map[string]any) map[string]json.RawMessage {
	f := map[string]json.RawMessage{}
	for k, v := range values {
		f[k], _ = json.Marshal(v)
	}
	return f
}

// note is a complete progress note's fields.
func note(plan string) map[string]json.RawMessage {
	return fields(map[string]any{"date_of_service": "2026-11-20", "start_time": "09:00", "stop_time": "09:50",
		"modality": "individual", "cpt_code": "90834", "diagnosis_codes": []string{"F41.1"}, "plan": plan})
}

// clientWithNote takes in a client with dr-lee on the care team and a signed note by dr-lee.
func clientWithNote(t *testing.T, e *apptest.Env) (client, record string) {
	t.Helper()
	cl, err := e.Service.CreateClient(ctx, e.Caller("admin", admin...), recordvault.Identity{FullName: "Jo Example", DateOfBirth: "1980-01-01"}, []string{"dr-lee"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.Service.CreateRecord(ctx, e.Caller("dr-lee", clinical...), cl.ID, app.NewRecord{Category: recordvault.ProgressNote, Fields: note("weekly CBT"), Sign: true})
	if err != nil {
		t.Fatal(err)
	}
	return cl.ID, rec.ID
}

// The care team reads a note; a clinician off the team, and an admin, are answered as for
// something that does not exist; every decision is audited, refusals included.
func TestRecordAccess(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	got, err := e.Service.GetRecord(ctx, e.Caller("dr-lee", clinical...), client, record)
	if err != nil || string(got.Fields["plan"]) != `"weekly CBT"` {
		t.Fatalf("the author reads the note: %v %s", err, got.Fields["plan"])
	}
	for _, c := range []struct {
		who    string
		roles  []recordvault.Role
		client string
	}{{"dr-out", clinical, client}, {"admin", admin, client}, {"dr-out", clinical, recordvault.NewID()}} {
		if _, err := e.Service.GetRecord(ctx, e.Caller(c.who, c.roles...), c.client, record); !errors.Is(err, recordvault.ErrNotFound) {
			t.Errorf("%s reading the note of %s: %v, want not found", c.who, c.client, err)
		}
	}
	if log := e.AuditLog(); !strings.Contains(log, `"actor":"dr-out"`) || !strings.Contains(log, `"allowed":false`) {
		t.Errorf("the refusals are not in the audit log:\n%s", log)
	}
	check, err := e.Service.VerifyAuditTrail(ctx, e.Caller("admin", admin...), nil)
	if err != nil || !check.Intact || check.Verified.Events == 0 {
		t.Fatalf("the trail: %+v %v", check, err)
	}
}

// A release to a clinician of the roster is for treatment only, never to who asks for it;
// an external recipient needs a registered address.
func TestReleaseRecipients(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	drLee := e.Caller("dr-lee", clinical...)
	release := func(basis policy.Basis, recipient app.RecipientInput) (*app.ReleaseView, error) {
		return e.Service.CreateRelease(ctx, drLee, client, app.ReleaseInput{Document: record, Basis: basis, Recipient: recipient, Purpose: "p"})
	}
	if r, err := release(policy.Treatment, app.RecipientInput{Kind: policy.ToProvider, ID: "dr-out"}); err != nil || r.Status != app.ReleaseApproved {
		t.Fatalf("treatment to a clinician of the roster: %v %+v", err, r)
	}
	if r, err := release(policy.Treatment, app.RecipientInput{Kind: policy.ToProvider, ID: "dr-lee"}); err != nil || r.Status != app.ReleaseDenied ||
		r.Decision.Rule.Citation != "45 CFR 164.514(d)(2), 164.308(a)(4)" {
		t.Fatalf("treatment to who asks for it: %v %+v", err, r)
	}
	if _, err := release(policy.Treatment, app.RecipientInput{Kind: policy.ToProvider, ID: "er-1"}); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Fatalf("an outside provider without an address: %v", err)
	}
}

// A client's own copy: one redemption, in the format chosen before it; the session it opens
// serves the same copy again to the same login, and to nobody else.
func TestRedeemAndResume(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	if err := e.Service.LinkAccount(ctx, e.Caller("admin", admin...), client, "pat"); err != nil {
		t.Fatal(err)
	}
	r, err := e.Service.CreateRelease(ctx, e.Caller("dr-lee", clinical...), client, app.ReleaseInput{Document: record,
		Basis: policy.RightOfAccess, Recipient: app.RecipientInput{Kind: policy.ToClient}, Purpose: "the client's copy"})
	if err != nil || r.Status != app.ReleaseApproved {
		t.Fatalf("release: %v %+v", err, r)
	}
	pat := e.Caller("pat", recordvault.RoleClient)
	tok, err := e.Service.IssueToken(ctx, pat, client, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Service.Redeem(ctx, app.Proof{Caller: &pat}, tok.Token, "docx"); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Fatalf("an unknown format: %v", err)
	}
	first, session, err := e.Service.Redeem(ctx, app.Proof{Caller: &pat}, tok.Token, app.FormatJSON)
	if err != nil || string(first.Fields["plan"]) != `"weekly CBT"` || session.Format != app.FormatJSON {
		t.Fatalf("redeem: %v %+v", err, session)
	}
	if _, _, err := e.Service.Redeem(ctx, app.Proof{Caller: &pat}, tok.Token, app.FormatJSON); err != tokens.ErrInvalid {
		t.Fatalf("the token again: %v", err)
	}
	second, again, err := e.Service.Resume(ctx, app.Proof{Caller: &pat}, session.Value)
	if err != nil || !again.Produced.Equal(session.Produced) || string(second.Fields["plan"]) != `"weekly CBT"` {
		t.Fatalf("resume: %v %+v", err, again)
	}
	sam := e.Caller("sam", recordvault.RoleClient)
	if _, _, err := e.Service.Resume(ctx, app.Proof{Caller: &sam}, session.Value); err != tokens.ErrInvalid {
		t.Fatalf("another login resuming: %v", err)
	}
	if !strings.Contains(e.AuditLog(), `"action":"download_resumed"`) {
		t.Error("the resumed fetch is not audited")
	}

	// The copy's certification: the same code on every fetch of it, found by the clinic and
	// by the client, not by staff off the care team nor by another client.
	cert := first.Certification
	if _, ok := recordvault.ParseCertificationCode(cert.Code); !ok || second.Certification != cert || !strings.HasPrefix(cert.ContentHash, "sha256:") {
		t.Fatalf("certifications %+v and %+v", cert, second.Certification)
	}
	for _, who := range []access.Caller{e.Caller("admin", admin...), e.Caller("dr-lee", clinical...), pat} {
		v, err := e.Service.VerifyCertification(ctx, who, strings.ToLower(cert.Code))
		if err != nil || v.Release != r.ID || v.Client != client || v.Document != record || v.ContentHash != cert.ContentHash || !v.Unchanged ||
			v.Recipient.Kind != policy.ToClient || v.Basis != policy.RightOfAccess {
			t.Errorf("%s verifies the copy: %v %+v", who.ID, err, v)
		}
	}
	for _, who := range []access.Caller{e.Caller("dr-out", clinical...), sam} {
		if _, err := e.Service.VerifyCertification(ctx, who, cert.Code); !errors.Is(err, recordvault.ErrNotFound) {
			t.Errorf("%s verifies another's copy: %v, want not found", who.ID, err)
		}
	}
	if _, err := e.Service.VerifyCertification(ctx, e.Caller("admin", admin...), recordvault.CertificationCode("unknown")); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("an unknown code: %v", err)
	}
	if _, err := e.Service.VerifyCertification(ctx, e.Caller("admin", admin...), "ABCD"); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Errorf("a malformed code: %v", err)
	}
	if log := e.AuditLog(); strings.Count(log, `"action":"verify_certification"`) != 6 {
		t.Errorf("verifications audited %d times, want 6", strings.Count(log, `"action":"verify_certification"`))
	}
}

// A client's own login sees the copies released to them; the client's disclosures to others
// reach them through the accounting, which leaves out what the law exempts or suspends.
func TestClientSeesOwnCopies(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	if err := e.Service.LinkAccount(ctx, e.Caller("admin", admin...), client, "pat"); err != nil {
		t.Fatal(err)
	}
	lee := e.Caller("dr-lee", clinical...)
	own, err := e.Service.CreateRelease(ctx, lee, client, app.ReleaseInput{Document: record, Basis: policy.RightOfAccess,
		Recipient: app.RecipientInput{Kind: policy.ToClient}, Purpose: "the client's copy"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.Service.CreateRelease(ctx, lee, client, app.ReleaseInput{Document: record, Basis: policy.Treatment,
		Recipient: app.RecipientInput{Kind: policy.ToProvider, ID: "dr-out"}, Purpose: "consultation"})
	if err != nil || other.Status != app.ReleaseApproved {
		t.Fatalf("the release to another provider: %v %+v", err, other)
	}
	pat := e.Caller("pat", recordvault.RoleClient)
	if got, err := e.Service.ListReleases(ctx, pat, client); err != nil || len(got) != 1 || got[0].ID != own.ID {
		t.Errorf("the client's list: %v %+v", err, got)
	}
	if got, err := e.Service.ListReleases(ctx, lee, client); err != nil || len(got) != 2 {
		t.Errorf("the clinician's list: %v, %d releases", err, len(got))
	}
	if _, err := e.Service.GetRelease(ctx, pat, client, own.ID); err != nil {
		t.Errorf("the client reads their own copy's release: %v", err)
	}
	if _, err := e.Service.GetRelease(ctx, pat, client, other.ID); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("the client reads the release to another provider: %v", err)
	}
	if _, err := e.Service.IssueToken(ctx, pat, client, other.ID); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("the client issues a link to another's copy: %v", err)
	}
}

// Only an admin sets the clinic's jurisdiction, to one the policy knows; decisions then name it.
func TestJurisdictionSetting(t *testing.T) {
	e := apptest.New(t, "")
	if _, err := e.Service.SetJurisdiction(ctx, e.Caller("dr-lee", clinical...), "US-IL"); !errors.Is(err, recordvault.ErrNotFound) {
		t.Fatalf("a clinician setting it: %v", err)
	}
	if _, err := e.Service.SetJurisdiction(ctx, e.Caller("admin", admin...), "US-TX"); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Fatalf("an unknown jurisdiction: %v", err)
	}
	v, err := e.Service.SetJurisdiction(ctx, e.Caller("admin", admin...), "US-IL")
	if err != nil || v.Jurisdiction != "US-IL" || v.Default {
		t.Fatalf("set: %v %+v", err, v)
	}
	client, record := clientWithNote(t, e)
	r, err := e.Service.CreateRelease(ctx, e.Caller("dr-lee", clinical...), client, app.ReleaseInput{Document: record,
		Basis: policy.Treatment, Recipient: app.RecipientInput{Kind: policy.ToProvider, ID: "dr-out"}, Purpose: "p"})
	if err != nil || r.Jurisdiction != "US-IL" || r.Decision.Jurisdiction != "US-IL" {
		t.Fatalf("a decision after: %v %+v", err, r)
	}
}

// Only an admin names the clinic and says how it is reached; its copies then carry both, and
// anyone of the clinic reads them in its settings. The clinic's other settings stay.
func TestClinicProfileSetting(t *testing.T) {
	e := apptest.New(t, "")
	if _, err := e.Service.SetClinicProfile(ctx, e.Caller("dr-lee", clinical...), "Lakeside Counseling", ""); !errors.Is(err, recordvault.ErrNotFound) {
		t.Fatalf("a clinician setting it: %v", err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("n", 201), "\xff"} {
		if _, err := e.Service.SetClinicProfile(ctx, e.Caller("admin", admin...), bad, ""); recordvault.ErrorCode(err) != recordvault.EINVALID {
			t.Errorf("name %q: %v", bad, err)
		}
	}
	if _, err := e.Service.SetJurisdiction(ctx, e.Caller("admin", admin...), "US-IL"); err != nil {
		t.Fatal(err)
	}
	v, err := e.Service.SetClinicProfile(ctx, e.Caller("admin", admin...), " Lakeside Counseling ", "1 Lake St; 555-0100")
	if err != nil || v.Name != "Lakeside Counseling" || v.Contact != "1 Lake St; 555-0100" || v.Jurisdiction != "US-IL" {
		t.Fatalf("set: %v %+v", err, v)
	}
	if got, err := e.Service.GetClinic(ctx, e.Caller("dr-lee", clinical...)); err != nil || got.Name != "Lakeside Counseling" {
		t.Fatalf("read by a clinician: %v %+v", err, got)
	}
	if !strings.Contains(e.AuditLog(), `"action":"set_clinic_profile"`) {
		t.Error("the change is not audited")
	}
}

// lastCode is the one-time code of the last message the service sent.
func lastCode(t *testing.T, e *apptest.Env) string {
	t.Helper()
	if len(e.Sent.Messages) == 0 {
		t.Fatal("no message was sent")
	}
	code := regexp.MustCompile(`\b[0-9]{8}\b`).FindString(e.Sent.Messages[len(e.Sent.Messages)-1].Body)
	if code == "" {
		t.Fatal("the last message carries no code")
	}
	return code
}

// A subpoena's copy of the date of service, redeemed by an attorney's one-time code, leaves
// out the addendum about the plan and says so; the disclosure enters the client's accounting.
func TestMinimumNecessaryCopy(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	drLee := e.Caller("dr-lee", clinical...)
	if _, err := e.Service.AddAddendum(ctx, drLee, client, record, "PLAN-ADDENDUM", []string{"plan"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.AddAddendum(ctx, drLee, client, record, "x", []string{"no_such_field"}); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Fatalf("an addendum about an unknown field: %v", err)
	}
	r, err := e.Service.CreateRelease(ctx, drLee, client, app.ReleaseInput{Document: record, Basis: policy.Subpoena,
		Recipient: app.RecipientInput{Kind: policy.ToAttorney, ID: "jones-law", Email: "records@jones.example"}, Purpose: "litigation",
		Fields: []string{"date_of_service"}, Assurances: &policy.Assurances{ProtectiveOrder: true}})
	if err != nil || r.Status != app.ReleaseApproved {
		t.Fatalf("subpoena: %v %+v", err, r)
	}
	tok, err := e.Service.IssueToken(ctx, drLee, client, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Service.RequestCode(ctx, tok.Token); err != nil {
		t.Fatal(err)
	}
	got, _, err := e.Service.Redeem(ctx, app.Proof{Code: lastCode(t, e)}, tok.Token, app.FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Fields) != 1 || len(got.Addenda) != 0 || got.Withheld.Addenda != 1 || len(got.Withheld.Fields) != 6 {
		t.Fatalf("the copy: %d fields, %d addenda, withheld %+v", len(got.Fields), len(got.Addenda), got.Withheld)
	}
	acc, err := e.Service.AccountingOf(ctx, e.Caller("admin", admin...), client)
	if err != nil || len(acc.Entries) != 1 || acc.Entries[0].Release != r.ID || len(acc.Entries[0].Downloads) != 1 {
		t.Fatalf("the accounting: %v %+v", err, acc)
	}
}

// A court order recorded by an admin releases what it covers and lists what it withheld,
// with the reason; an order naming the admin who records it releases nothing.
func TestCourtOrder(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	adm := e.Caller("admin", admin...)
	order := app.OrderInput{Court: "Circuit Court", Issued: "2026-11-01", Purpose: "custody", From: "2026-01-01", To: "2026-12-31",
		Recipient:  app.RecipientInput{Kind: policy.ToAttorney, ID: "smith-law", Email: "records@smith.example"},
		Categories: []recordvault.Category{recordvault.ProgressNote}, Documents: []string{record, "nosuchdocument"}}
	v, err := e.Service.CreateCourtOrder(ctx, adm, client, order)
	if err != nil || len(v.Releases) != 1 || len(v.Withheld) != 1 || v.Withheld[0].Document != "nosuchdocument" {
		t.Fatalf("the order: %v %+v", err, v)
	}
	order.Recipient = app.RecipientInput{Kind: policy.ToAttorney, ID: "admin", Email: "admin@clinic.example"}
	order.Documents = nil
	v, err = e.Service.CreateCourtOrder(ctx, adm, client, order)
	if err != nil || len(v.Releases) != 0 || len(v.Refused) != 1 {
		t.Fatalf("an order to the admin recording it: %v %+v", err, v)
	}
	order.Recipient.Email = ""
	if _, err := e.Service.CreateCourtOrder(ctx, adm, client, order); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Fatalf("an order without a delivery route: %v", err)
	}
}

// A clinic admin rotates a category's key, rewraps its records a page at a time (resuming
// from each page's cursor), and retires the old versions; every step audited; a clinician
// may do none of it.
func TestKeyLifecycle(t *testing.T) {
	e := apptest.New(t, "")
	for range 3 {
		clientWithNote(t, e)
	}
	adm, lee := e.Caller("admin", admin...), e.Caller("dr-lee", clinical...)
	if _, err := e.Service.RotateKey(ctx, lee, recordvault.ProgressNote); !errors.Is(err, recordvault.ErrNotFound) {
		t.Fatalf("a clinician rotating: %v", err)
	}
	if _, err := e.Service.RotateKey(ctx, adm, "diary"); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Fatalf("an unknown category: %v", err)
	}
	k, err := e.Service.RotateKey(ctx, adm, recordvault.ProgressNote)
	if err != nil || k.Version < 2 {
		t.Fatalf("rotate: %v %+v", err, k)
	}
	if _, err := e.Service.RewrapKeys(ctx, adm, recordvault.ProgressNote, "", 0); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Fatalf("a page of none: %v", err)
	}
	rewrapped, pages, after := 0, 0, ""
	for {
		page, err := e.Service.RewrapKeys(ctx, adm, recordvault.ProgressNote, after, 1)
		if err != nil {
			t.Fatal(err)
		}
		rewrapped, pages = rewrapped+page.Rewrapped, pages+1
		if page.Done {
			break
		}
		if pages > 10 {
			t.Fatal("the rewrap never ends")
		}
		after = page.Next
	}
	if rewrapped != 3 || pages < 3 {
		t.Errorf("rewrapped %d in %d pages, want the 3 notes a page at a time", rewrapped, pages)
	}
	if _, err := e.Service.RetireKeyVersions(ctx, adm, recordvault.ProgressNote, 1); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Errorf("retiring below version 1: %v", err)
	}
	if _, err := e.Service.RetireKeyVersions(ctx, adm, recordvault.ProgressNote, k.Version); err != nil {
		t.Fatal(err)
	}
	log := e.AuditLog()
	for _, action := range []string{`"action":"key_rotated"`, `"action":"keys_rewrapped"`, `"action":"key_versions_retired"`} {
		if !strings.Contains(log, action) {
			t.Errorf("the audit log lacks %s", action)
		}
	}
}
