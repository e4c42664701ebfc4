package app_test

import (
	"errors"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/app/apptest"
	"github.com/recordvault/recordvault/policy"
)

// A reviewable denial is reviewed once, by a licensed clinician who did not deny; overturned,
// the document is released whole. A release the policy sends for review is resolved by an
// admin; an approved release is revoked with a reason.
func TestReviewsAndRevocation(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	drLee, drOut, adm := e.Caller("dr-lee", clinical...), e.Caller("dr-out", clinical...), e.Caller("admin", admin...)
	if _, err := e.Service.SetCareTeam(ctx, adm, client, []string{"dr-lee", "dr-out"}); err != nil {
		t.Fatal(err)
	}
	denied, err := e.Service.CreateRelease(ctx, drLee, client, app.ReleaseInput{Document: record, Basis: policy.RightOfAccess,
		Recipient: app.RecipientInput{Kind: policy.ToClient}, Purpose: "copy", Denial: &app.DenialInput{Ground: policy.Endangerment}})
	if err != nil || denied.Status != app.ReleaseDenied {
		t.Fatalf("a reviewable denial: %v %+v", err, denied)
	}
	if _, err := e.Service.ReviewDenial(ctx, drLee, client, denied.ID, false); err == nil {
		t.Fatal("the denier reviewed their own denial")
	}
	overturned, err := e.Service.ReviewDenial(ctx, drOut, client, denied.ID, false)
	if err != nil || overturned.Status != app.ReleaseApproved || len(overturned.Earlier) != 1 {
		t.Fatalf("overturned on review: %v %+v", err, overturned)
	}
	if _, err := e.Service.ReviewDenial(ctx, drOut, client, denied.ID, true); recordvault.ErrorCode(err) != recordvault.ECONFLICT {
		t.Fatalf("a second review: %v", err)
	}
	if _, err := e.Service.RevokeRelease(ctx, drLee, client, overturned.ID, ""); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Fatalf("a revocation without its reason: %v", err)
	}
	if r, err := e.Service.RevokeRelease(ctx, drLee, client, overturned.ID, "sent in error"); err != nil || r.Status != app.ReleaseRevoked {
		t.Fatalf("revoke: %v %+v", err, r)
	}

	sud, err := e.Service.CreateRecord(ctx, drLee, client, app.NewRecord{Category: recordvault.SUDRecord, Sign: true,
		Fields: fields(map[string]any{"date_of_service": "2026-06-10", "note": "intake"})})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := e.Service.CreateRelease(ctx, drLee, client, app.ReleaseInput{Document: sud.ID, Basis: policy.SeriousThreat,
		Recipient: app.RecipientInput{Kind: policy.ToThreatenedPerson, ID: "target-1", Email: "t@example.org"}, Purpose: "warning",
		Fields: []string{"note"}, Attestation: &app.AttestationInput{GoodFaith: true}})
	if err != nil || pending.Status != app.ReleaseNeedsReview {
		t.Fatalf("a Part 2 record to avert a threat: %v %+v", err, pending)
	}
	if _, err := e.Service.ResolveRelease(ctx, drLee, client, pending.ID, true, "emergency"); !errors.Is(err, recordvault.ErrNotFound) {
		t.Fatalf("a clinician resolving: %v", err)
	}
	if r, err := e.Service.ResolveRelease(ctx, adm, client, pending.ID, true, "bona fide emergency"); err != nil || r.Status != app.ReleaseApproved {
		t.Fatalf("resolve: %v %+v", err, r)
	}
}

// An oversight agency's suspension hides its disclosures from the accounting while it holds;
// court orders verify by their signed manifest; the admin's listings of clients and overdue
// amendments are theirs alone.
func TestSuspensionsOrdersAndListings(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	drLee, adm := e.Caller("dr-lee", clinical...), e.Caller("admin", admin...)
	r, err := e.Service.CreateRelease(ctx, drLee, client, app.ReleaseInput{Document: record, Basis: policy.AbuseReport,
		Recipient: app.RecipientInput{Kind: policy.ToAuthority, ID: "dcfs", Email: "intake@dcfs.example"}, Purpose: "report",
		Fields: []string{"plan"}, Attestation: &app.AttestationInput{GoodFaith: true}})
	if err != nil || r.Status != app.ReleaseApproved {
		t.Fatalf("an abuse report: %v %+v", err, r)
	}
	if acc, err := e.Service.AccountingOf(ctx, adm, client); err != nil || len(acc.Entries) != 1 {
		t.Fatalf("the accounting: %v %+v", err, acc)
	}
	until := time.Now().UTC().AddDate(0, 0, 20).Format(time.DateOnly)
	if _, err := e.Service.SuspendAccounting(ctx, adm, client, app.SuspensionInput{Recipient: "dcfs", Agency: "DCFS", Written: true,
		Statement: "investigation", Until: until}); err != nil {
		t.Fatal(err)
	}
	if acc, err := e.Service.AccountingOf(ctx, adm, client); err != nil || len(acc.Entries) != 0 {
		t.Fatalf("the accounting while suspended: %v %+v", err, acc)
	}
	if list, err := e.Service.ListSuspensions(ctx, adm, client); err != nil || len(list) != 1 {
		t.Fatalf("suspensions: %v %+v", err, list)
	}

	order, err := e.Service.CreateCourtOrder(ctx, adm, client, app.OrderInput{Court: "Circuit Court", Issued: "2026-11-01", Purpose: "custody",
		From: "2026-01-01", To: "2026-12-31", Recipient: app.RecipientInput{Kind: policy.ToAttorney, ID: "smith-law", Email: "r@smith.example"},
		Categories: []recordvault.Category{recordvault.ProgressNote}})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.Service.GetCourtOrder(ctx, drLee, client, order.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := e.Service.VerifyManifest(ctx, adm, stored.Manifest, stored.Signature); err != nil || !ok {
		t.Fatalf("the manifest: %v %v", ok, err)
	}
	if ok, err := e.Service.VerifyManifest(ctx, adm, stored.Manifest+" ", stored.Signature); err != nil || ok {
		t.Fatalf("a changed manifest: %v %v", ok, err)
	}

	if ids, err := e.Service.ListClients(ctx, adm, "", 10); err != nil || len(ids) != 1 || ids[0] != client {
		t.Fatalf("the clients: %v %v", err, ids)
	}
	for name, f := range map[string]func() error{
		"list clients":     func() error { _, err := e.Service.ListClients(ctx, drLee, "", 10); return err },
		"overdue requests": func() error { _, err := e.Service.OverdueAmendments(ctx, drLee); return err },
	} {
		if err := f(); !errors.Is(err, recordvault.ErrNotFound) {
			t.Errorf("a clinician's %s: %v", name, err)
		}
	}
	if overdue, err := e.Service.OverdueAmendments(ctx, adm); err != nil || len(overdue.Items) != 0 {
		t.Fatalf("overdue amendments: %v %+v", err, overdue)
	}
}
