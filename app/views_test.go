package app_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/app/apptest"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/policy"
)

// A client's profile is their care team's to read, and the clinic's settings every caller's
// of the clinic; a client's releases are listed for the care team and nobody else.
func TestClientClinicAndReleaseViews(t *testing.T) {
	e := apptest.New(t, "")
	client, record := clientWithNote(t, e)
	drLee, drOut := e.Caller("dr-lee", clinical...), e.Caller("dr-out", clinical...)
	got, err := e.Service.GetClient(ctx, drLee, client)
	if err != nil || got.Identity.FullName != "Jo Example" {
		t.Fatalf("the care team reads the client: %+v %v", got, err)
	}
	for _, who := range []string{client, recordvault.NewID()} {
		if _, err := e.Service.GetClient(ctx, drOut, who); !errors.Is(err, recordvault.ErrNotFound) {
			t.Errorf("a clinician off the team reading %s: %v", who, err)
		}
	}
	if c, err := e.Service.GetClinic(ctx, drOut); err != nil || c.Jurisdiction != "US" {
		t.Errorf("the clinic's settings: %+v %v", c, err)
	}
	r, err := e.Service.CreateRelease(ctx, drLee, client, app.ReleaseInput{Document: record, Basis: policy.Treatment,
		Recipient: app.RecipientInput{Kind: policy.ToProvider, ID: "dr-out"}, Purpose: "consult"})
	if err != nil {
		t.Fatal(err)
	}
	if list, err := e.Service.ListReleases(ctx, drLee, client); err != nil || len(list) != 1 || list[0].ID != r.ID {
		t.Fatalf("the care team lists the releases: %+v %v", list, err)
	}
	if _, err := e.Service.ListReleases(ctx, drOut, client); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("a clinician off the team listing the releases: %v", err)
	}
	if log := e.AuditLog(); !strings.Contains(log, `"action":"read_client"`) || !strings.Contains(log, `"action":"list_releases"`) {
		t.Errorf("the reads are not audited:\n%s", log)
	}
}

// A bundle carries the attachment as it was filed: the copy names it, opening it gives its
// bytes, an attachment the copy does not name opens nothing, and the delivery is audited.
func TestBundleAttachment(t *testing.T) {
	e := apptest.New(t, "")
	drLee := e.Caller("dr-lee", clinical...)
	cl, err := e.Service.CreateClient(ctx, e.Caller("admin", admin...), recordvault.Identity{FullName: "Jo Example", DateOfBirth: "1980-01-01"}, []string{"dr-lee"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.Service.CreateRecord(ctx, drLee, cl.ID, app.NewRecord{Category: recordvault.ProgressNote, Fields: note("weekly CBT")})
	if err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.7 a scanned evaluation")
	if _, err := e.Service.AddAttachment(ctx, drLee, cl.ID, rec.ID, strings.NewReader("plain text"), 10); recordvault.ErrorCode(err) != recordvault.EMEDIATYPE {
		t.Fatalf("an attachment that is no PDF: %v", err)
	}
	att, err := e.Service.AddAttachment(ctx, drLee, cl.ID, rec.ID, bytes.NewReader(pdf), int64(len(pdf)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.SignRecord(ctx, drLee, cl.ID, rec.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.Service.LinkAccount(ctx, e.Caller("admin", admin...), cl.ID, "pat"); err != nil {
		t.Fatal(err)
	}
	r, err := e.Service.CreateRelease(ctx, drLee, cl.ID, app.ReleaseInput{Document: rec.ID, Basis: policy.RightOfAccess,
		Recipient: app.RecipientInput{Kind: policy.ToClient}, Purpose: "the client's copy"})
	if err != nil || r.Status != app.ReleaseApproved {
		t.Fatalf("release: %v %+v", err, r)
	}
	pat := e.Caller("pat", recordvault.RoleClient)
	tok, err := e.Service.IssueToken(ctx, pat, cl.ID, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	copied, _, err := e.Service.Redeem(ctx, app.Proof{Caller: &pat}, tok.Token, app.FormatZIP)
	if err != nil || len(copied.Attachments) != 1 || copied.Attachments[0].ID != att.ID {
		t.Fatalf("the bundle's copy: %+v %v", copied, err)
	}
	opened, err := e.Service.OpenReleased(ctx, copied, att.ID)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(opened)
	opened.Close()
	if err != nil || !bytes.Equal(body, pdf) {
		t.Fatalf("the attachment in the bundle: %q %v", body, err)
	}
	if _, err := e.Service.OpenReleased(ctx, copied, recordvault.NewID()); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("an attachment the copy does not name: %v", err)
	}
	if err := e.Service.Delivered(ctx, app.Proof{Caller: &pat}, copied); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.AuditLog(), `"action":"download_delivered"`) {
		t.Error("the delivery is not audited")
	}
}

// A block of the audit trail lost for good is acknowledged by a clinic admin, at the break a
// verification reports and nowhere else, once; the trail then verifies with the loss listed.
func TestAuditLossAcknowledged(t *testing.T) {
	e := apptest.New(t, "")
	adminC := e.Caller("admin", admin...)
	for range 4 {
		if _, err := e.Service.GetClinic(ctx, adminC); err != nil {
			t.Fatal(err)
		}
	}
	check, err := e.Service.VerifyAuditTrail(ctx, adminC, nil)
	if err != nil || !check.Intact || check.Verified.Blocks < 4 {
		t.Fatalf("the trail before: %+v %v", check, err)
	}
	lost := check.Verified.Blocks - 3
	if err := e.Store.Delete(ctx, audit.BlockKey(e.Clinic, lost)); err != nil {
		t.Fatal(err)
	}
	check, err = e.Service.VerifyAuditTrail(ctx, adminC, nil)
	if want := fmt.Sprintf("block %d is missing", lost); err != nil || check.Intact || check.Problem != want {
		t.Fatalf("the trail with block %d gone: %+v %v", lost, check, err)
	}
	for _, c := range []struct {
		who       string
		first     uint64
		reference string
		code      string
	}{
		{"dr-lee", lost, "", recordvault.ENOTFOUND},
		{"admin", lost + 1, "", recordvault.ECONFLICT},
		{"admin", lost, "lost when Jane D. asked", recordvault.EINVALID},
	} {
		roles := admin
		if c.who == "dr-lee" {
			roles = clinical
		}
		if _, err := e.Service.AcknowledgeAuditLoss(ctx, e.Caller(c.who, roles...), c.first, c.reference); recordvault.ErrorCode(err) != c.code {
			t.Errorf("%s acknowledging block %d (%q): %v, want %s", c.who, c.first, c.reference, err, c.code)
		}
	}
	loss, err := e.Service.AcknowledgeAuditLoss(ctx, adminC, lost, "INC-2291")
	if err != nil || loss.First != lost || loss.Resume != lost+1 || loss.By != "admin" || loss.Reference != "INC-2291" {
		t.Fatalf("acknowledged: %+v %v", loss, err)
	}
	if _, err := e.Service.AcknowledgeAuditLoss(ctx, adminC, lost, ""); recordvault.ErrorCode(err) != recordvault.ECONFLICT {
		t.Errorf("acknowledged again: %v", err)
	}
	check, err = e.Service.VerifyAuditTrail(ctx, adminC, nil)
	if err != nil || !check.Intact || len(check.Verified.Losses) != 1 || check.Verified.Losses[0].First != lost {
		t.Fatalf("the trail after: %+v %v", check, err)
	}
}

// A disclosure of a group session's note, asked for through a participant other than the
// one it is stored under, is in every participant's accounting, from the signed trail: even
// with the index of homes gone from the bucket.
func TestGroupDisclosureAccounted(t *testing.T) {
	e := apptest.New(t, "")
	drLee, adm := e.Caller("dr-lee", clinical...), e.Caller("admin", admin...)
	var clients []string
	for _, name := range []string{"Jo Example", "Sam Example"} {
		cl, err := e.Service.CreateClient(ctx, adm, recordvault.Identity{FullName: name, DateOfBirth: "1980-01-01"}, []string{"dr-lee"})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, cl.ID)
	}
	home, other := clients[0], clients[1]
	rec, err := e.Service.CreateRecord(ctx, drLee, home, app.NewRecord{Category: recordvault.ProgressNote, Fields: note("group session"),
		OtherParticipants: []string{other}, Sign: true})
	if err != nil {
		t.Fatal(err)
	}
	order := app.OrderInput{Court: "Circuit Court", Issued: "2026-11-01", Purpose: "custody", From: "2026-01-01", To: "2026-12-31",
		Recipient:  app.RecipientInput{Kind: policy.ToAttorney, ID: "smith-law", Email: "records@smith.example"},
		Categories: []recordvault.Category{recordvault.ProgressNote}, Documents: []string{rec.ID}}
	v, err := e.Service.CreateCourtOrder(ctx, adm, other, order)
	if err != nil || len(v.Releases) != 1 {
		t.Fatalf("the order through the other participant: %v %+v", err, v)
	}
	listed := func(client string) bool {
		t.Helper()
		acc, err := e.Service.AccountingOf(ctx, drLee, client)
		if err != nil {
			t.Fatal(err)
		}
		return len(acc.Entries) == 1 && acc.Entries[0].Release == v.Releases[0] && !acc.Entries[0].Unavailable
	}
	for _, client := range clients {
		if !listed(client) {
			t.Errorf("the disclosure is not in the accounting of %s", client)
		}
	}
	if err := e.Store.Delete(ctx, "c/"+e.Clinic+"/p/"+other+"/h/"+home); err != nil {
		t.Fatal(err)
	}
	if !listed(other) {
		t.Error("with its index of homes gone, the disclosure is not in the other participant's accounting")
	}
}
