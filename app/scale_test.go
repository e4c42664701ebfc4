package app_test

import (
	"maps"
	"testing"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/app/apptest"
	"github.com/recordvault/recordvault/policy"
)

// Every per-client operation reads as much of the client's part of the bucket for a client
// with a long history as for one with a short one, in a clinic whose other clients have
// disclosures of their own: a release, its token and its download, and a page of records,
// the releases, authorizations, access requests and the accounting. A release, its token
// and its download read no more for a client with earlier releases. Counted in storage
// requests (s3fake), so the test asserts work, not time.
func TestPerClientWorkFlatInHistory(t *testing.T) {
	e := apptest.New(t, "")
	drLee, drOut, adm := e.Caller("dr-lee", clinical...), e.Caller("dr-out", clinical...), e.Caller("admin", admin...)
	const page = 20
	release := func(client, record string) (*app.ReleaseView, error) {
		return e.Service.CreateRelease(ctx, drLee, client, app.ReleaseInput{Document: record, Basis: policy.Treatment,
			Recipient: app.RecipientInput{Kind: policy.ToProvider, ID: "dr-out"}, Purpose: "consult"})
	}
	// work measures a client of notes notes and earlier releases, after neighbours other
	// clients have had a note disclosed under a court order (accounted disclosures).
	work := func(notes, earlier, neighbours int) map[string]int {
		for range neighbours {
			other, record := clientWithNote(t, e)
			order := app.OrderInput{Court: "Circuit Court", Issued: "2026-11-01", Purpose: "custody", From: "2026-01-01", To: "2026-12-31",
				Recipient:  app.RecipientInput{Kind: policy.ToAttorney, ID: "smith-law", Email: "records@smith.example"},
				Categories: []recordvault.Category{recordvault.ProgressNote}, Documents: []string{record}}
			if v, err := e.Service.CreateCourtOrder(ctx, adm, other, order); err != nil || len(v.Releases) != 1 {
				t.Fatalf("a neighbour's disclosure: %v %+v", err, v)
			}
		}
		client, record := clientWithNote(t, e)
		for range notes - 1 {
			if _, err := e.Service.CreateRecord(ctx, drLee, client, app.NewRecord{Category: recordvault.ProgressNote, Fields: note("weekly CBT"), Sign: true}); err != nil {
				t.Fatal(err)
			}
		}
		for range earlier {
			if _, err := release(client, record); err != nil {
				t.Fatal(err)
			}
		}
		prefix := "c/" + e.Clinic + "/p/" + client + "/"
		counts := map[string]int{}
		count := func(op string, f func() error) {
			t.Helper()
			before := e.S3.Touched(prefix)
			if err := f(); err != nil {
				t.Fatalf("%s with %d notes: %v", op, notes, err)
			}
			counts[op] = e.S3.Touched(prefix) - before
		}
		var r *app.ReleaseView
		var token *app.TokenView
		count("create release", func() (err error) { r, err = release(client, record); return err })
		count("read release", func() error { _, err := e.Service.GetRelease(ctx, drLee, client, r.ID); return err })
		count("issue token", func() (err error) { token, err = e.Service.IssueToken(ctx, drLee, client, r.ID); return err })
		count("download", func() error {
			_, _, err := e.Service.Redeem(ctx, app.Proof{Caller: &drOut}, token.Token, app.FormatJSON)
			return err
		})
		count("list records", func() error { _, err := e.Service.ListRecords(ctx, drLee, client, "", page); return err })
		count("list releases", func() error { _, err := e.Service.ListReleases(ctx, drLee, client); return err })
		count("list authorizations", func() error { _, err := e.Service.ListAuthorizations(ctx, drLee, client); return err })
		count("list access requests", func() error { _, err := e.Service.ListAccessRequests(ctx, drLee, client); return err })
		count("accounting", func() error { _, err := e.Service.AccountingOf(ctx, drLee, client); return err })
		return counts
	}
	short, long := work(page+5, 0, 0), work(3*page, 0, 5)
	if !maps.Equal(short, long) {
		t.Errorf("storage requests under the client, %d notes: %v; %d notes, 5 neighbours disclosed: %v", page+5, short, 3*page, long)
	}
	t.Logf("storage requests under the client, per operation: %v", long)
	flow := func(m map[string]int) map[string]int {
		return map[string]int{"create release": m["create release"], "read release": m["read release"], "issue token": m["issue token"], "download": m["download"]}
	}
	if again := work(page+5, 8, 0); !maps.Equal(flow(short), flow(again)) {
		t.Errorf("a release flow's storage requests under the client, no earlier releases: %v; 8: %v", flow(short), flow(again))
	}
}
