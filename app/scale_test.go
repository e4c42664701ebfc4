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
// with a long history as for one with a short one: a release, its token and its download,
// and a page of records, the releases, authorizations, access requests and the accounting.
// Counted in storage requests (s3fake), so the test asserts work, not time.
func TestPerClientWorkFlatInHistory(t *testing.T) {
	e := apptest.New(t, "")
	drLee, drOut := e.Caller("dr-lee", clinical...), e.Caller("dr-out", clinical...)
	const page = 20
	work := func(notes int) map[string]int {
		client, record := clientWithNote(t, e)
		for range notes - 1 {
			if _, err := e.Service.CreateRecord(ctx, drLee, client, app.NewRecord{Category: recordvault.ProgressNote, Fields: note("weekly CBT"), Sign: true}); err != nil {
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
		count("create release", func() (err error) {
			r, err = e.Service.CreateRelease(ctx, drLee, client, app.ReleaseInput{Document: record, Basis: policy.Treatment,
				Recipient: app.RecipientInput{Kind: policy.ToProvider, ID: "dr-out"}, Purpose: "consult"})
			return err
		})
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
	short, long := work(page+5), work(3*page)
	if !maps.Equal(short, long) {
		t.Errorf("storage requests under the client, %d notes: %v; %d notes: %v", page+5, short, 3*page, long)
	}
	t.Logf("storage requests under the client, per operation: %v", long)
}
