package records

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recordvault/recordvault/vault/vaulttest"
)

// An upload's record is removed when the upload ends, well or not; one left behind (its
// writer killed) is swept once older than the cut-off: an attachment its record does not name
// is aborted and removed, one its record names (the writer died just after naming it) is kept.
func TestSweepUnfinished(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	now := time.Now()
	svc := New(vaulttest.Keyring{}, store, func() time.Time { return now })
	d, err := svc.Create(ctx, newRecord(map[string][]byte{"summary": []byte("s")}, NewAttachment{Body: strings.NewReader("scan"), Size: 4, MediaType: "application/pdf"}))
	if err != nil {
		t.Fatal(err)
	}
	store.failBlobAfter = 2
	if _, err := svc.AddAttachment(ctx, d, NewAttachment{Body: strings.NewReader("more"), Size: 4, MediaType: "application/pdf"}); err == nil {
		t.Fatal("an interrupted upload succeeded")
	}
	if len(store.uploads) != 0 {
		t.Fatalf("uploads still recorded after they ended: %v", store.uploads)
	}

	// What a killed writer leaves: an attachment sent whole but never named by its record, and
	// one named just before the kill.
	named := d.m.Blobs[0].ID
	for _, blob := range []string{"unnamed", named} {
		if err := store.BeginUpload(ctx, Upload{Ref: RefOf(d.m), Blob: blob, Began: now}); err != nil {
			t.Fatal(err)
		}
	}
	store.blobs[d.ID+"/unnamed"] = []byte("sealed bytes")
	if sw, err := svc.SweepUnfinished(ctx, "c", time.Hour); err != nil || sw != (Sweep{Young: 2}) {
		t.Fatalf("a sweep right after: %+v, %v; want both left alone", sw, err)
	}
	now = now.Add(2 * time.Hour)
	if sw, err := svc.SweepUnfinished(ctx, "c", time.Hour); err != nil || sw != (Sweep{Aborted: 1}) {
		t.Fatalf("a sweep two hours on: %+v, %v; want the unnamed one aborted", sw, err)
	}
	if _, ok := store.blobs[d.ID+"/unnamed"]; ok || !slices.Equal(store.aborted, []string{"unnamed"}) {
		t.Errorf("the unnamed attachment: still stored %v, aborted %v", ok, store.aborted)
	}
	if _, ok := store.blobs[d.ID+"/"+named]; !ok {
		t.Error("the attachment its record names was removed")
	}
	if len(store.uploads) != 0 {
		t.Errorf("uploads left recorded: %v", store.uploads)
	}
}
