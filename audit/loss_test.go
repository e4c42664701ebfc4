package audit_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/vault/vaulttest"
)

// lossChain is a store holding ten one-event blocks of c1 (actors dr-0 to dr-9, sealed a
// minute apart) and of c2, and a chain over it.
func lossChain(t *testing.T) (*blockStore, *audit.Chain) {
	t.Helper()
	store := newBlockStore()
	clock := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	chain := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), now)
	for i := range 10 {
		for _, clinic := range []string{"c1", "c2"} {
			if err := chain.Record(context.Background(), event(clinic, i)); err != nil {
				t.Fatal(err)
			}
		}
		clock = clock.Add(time.Minute)
	}
	return store, audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), now)
}

// actors returns the actors of the events a scan of c1 from from gives, and where it ends.
func actors(t *testing.T, chain *audit.Chain, from audit.Head) ([]string, audit.Head, error) {
	t.Helper()
	var seen []string
	h, err := chain.Scan(context.Background(), "c1", from, func(e recordvault.AuditEvent) error {
		seen = append(seen, e.Actor)
		return nil
	})
	return seen, h, err
}

// A loss acknowledged at the break a check found lets every reader go on past it, reporting
// it; the lost blocks' events stay lost; writers go on as before.
func TestLossAcknowledged(t *testing.T) {
	ctx := context.Background()
	store, chain := lossChain(t)
	before, _, err := actors(t, chain, audit.Head{})
	if err != nil || len(before) != 10 {
		t.Fatal(before, err)
	}
	delete(store.blocks["c1"], 4)
	if _, err := chain.Verify(ctx, "c1", nil); err == nil || !strings.Contains(err.Error(), "block 4 is missing") {
		t.Fatalf("before the acknowledgment: %v", err)
	}
	for _, c := range []struct {
		clinic string
		first  uint64
	}{{"c1", 3}, {"c1", 5}, {"c1", 0}, {"c2", 4}} {
		if _, err := chain.AcknowledgeLoss(ctx, c.clinic, c.first, "po", ""); !errors.Is(err, audit.ErrNotAtBreak) {
			t.Errorf("a loss acknowledged where %s's chain does not break (%d): %v", c.clinic, c.first, err)
		}
	}
	loss, err := chain.AcknowledgeLoss(ctx, "c1", 4, "po", "INC-7")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	if loss.First != 4 || loss.Resume != 5 || loss.Problem != "block 4 is missing" || !loss.From.Equal(t0.Add(3*time.Minute)) ||
		!loss.Until.Equal(t0.Add(5*time.Minute)) || loss.By != "po" || loss.Reference != "INC-7" {
		t.Fatalf("loss %+v", loss)
	}
	if _, err := chain.AcknowledgeLoss(ctx, "c1", 4, "po", ""); !errors.Is(err, audit.ErrAcknowledged) {
		t.Fatalf("acknowledged twice: %v", err)
	}

	// Every reader goes past it: Verify, a new process from the start, and a reader that
	// stopped before the break.
	head, err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Verify(ctx, "c1", nil)
	if err != nil || head.Blocks != 10 || head.Events != 9 || len(head.Losses) != 1 || head.Losses[0].First != 4 {
		t.Fatalf("verify after the acknowledgment: %+v, %v", head, err)
	}
	seen, h, err := actors(t, audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil), audit.Head{})
	if want := slices.Delete(slices.Clone(before), 4, 5); err != nil || !slices.Equal(seen, want) || h.Blocks != 10 {
		t.Fatalf("scan over the loss: %v, %+v, %v", seen, h, err)
	}
	early, err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Verify(ctx, "c2", nil) // c2 is untouched
	if err != nil || len(early.Losses) != 0 {
		t.Fatalf("the other clinic: %+v, %v", early, err)
	}

	// Writers chain on after the last block, and the chain still verifies with its loss.
	if err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Record(ctx, event("c1", 10)); err != nil {
		t.Fatal(err)
	}
	if head, err := chain.Verify(ctx, "c1", nil); err != nil || head.Blocks != 11 || len(head.Losses) != 1 {
		t.Fatalf("after another event: %+v, %v", head, err)
	}
}

// A reader that stopped before a break reads on over the loss acknowledged after it stopped.
func TestLossReadOnFrom(t *testing.T) {
	store, chain := lossChain(t)
	reader := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil)
	n := 0
	stopped, err := reader.Scan(context.Background(), "c1", audit.Head{}, func(recordvault.AuditEvent) error {
		if n++; n > 3 {
			return errors.New("enough")
		}
		return nil
	})
	if err == nil || stopped.Blocks != 3 {
		t.Fatalf("stopped at %+v (%v)", stopped, err)
	}
	delete(store.blocks["c1"], 5)
	delete(store.blocks["c1"], 6)
	if _, err := chain.AcknowledgeLoss(context.Background(), "c1", 5, "po", ""); err != nil {
		t.Fatal(err)
	}
	seen, h, err := actors(t, reader, stopped)
	if err != nil || !slices.Equal(seen, []string{"dr-3", "dr-4", "dr-7", "dr-8", "dr-9"}) || h.Blocks != 10 || h.Events != 8 || h.Losses[0].Resume != 7 {
		t.Fatalf("read on: %v, %+v, %v", seen, h, err)
	}
}

// Each kind of break a check finds can be acknowledged: a block missing, altered, or not
// following its predecessor; a break that is not one (a stray object) or whose chain has
// nothing intact after it cannot.
func TestLossKinds(t *testing.T) {
	ctx := context.Background()
	for name, c := range map[string]struct {
		edit          func(s *blockStore)
		first, resume uint64
		problem       string
	}{
		"first block missing": {func(s *blockStore) { delete(s.blocks["c1"], 0) }, 0, 1, "block 0 is missing"},
		"two blocks missing":  {func(s *blockStore) { delete(s.blocks["c1"], 2); delete(s.blocks["c1"], 3) }, 2, 4, "block 2 is missing"},
		"block altered": {func(s *blockStore) {
			s.blocks["c1"][6] = []byte(strings.Replace(string(s.blocks["c1"][6]), "dr-6", "dr-x", 1))
		}, 6, 7, "block 6 is not signed by the clinic's audit key"},
		"block not JSON":       {func(s *blockStore) { s.blocks["c1"][6] = []byte("lost") }, 6, 7, "block 6 is malformed"},
		"other clinic's block": {func(s *blockStore) { s.blocks["c1"][6] = s.blocks["c2"][6] }, 6, 7, "block 6 is not signed by the clinic's audit key"},
		"block from another history": {func(s *blockStore) {
			other := newBlockStore() // the same clinic and key, other events: signed, in place, another chain
			for i := range 4 {
				if err := audit.NewChain(other, vaulttest.Keyring{}, quietLogger(), nil).Record(context.Background(), event("c1", 20+i)); err != nil {
					panic(err)
				}
			}
			s.blocks["c1"][3] = other.blocks["c1"][3]
		}, 3, 4, "block 3 does not follow block 2"},
		"block out of place": {func(s *blockStore) { s.blocks["c1"][3] = s.blocks["c1"][8] }, 3, 4, "block 3 is out of place"},
	} {
		store, chain := lossChain(t)
		c.edit(store)
		loss, err := chain.AcknowledgeLoss(ctx, "c1", c.first, "po", "")
		if err != nil || loss.Resume != c.resume || loss.Problem != c.problem {
			t.Errorf("%s: %+v, %v", name, loss, err)
			continue
		}
		if c.first == 0 && !loss.From.IsZero() {
			t.Errorf("%s: from %v", name, loss.From)
		}
		if head, err := chain.Verify(ctx, "c1", nil); err != nil || head.Blocks != 10 {
			t.Errorf("%s: verify %+v, %v", name, head, err)
		}
	}

	store, chain := lossChain(t)
	store.stray["c1"] = true
	if _, err := chain.AcknowledgeLoss(ctx, "c1", 0, "po", ""); !errors.Is(err, audit.ErrBroken) || errors.Is(err, audit.ErrNotAtBreak) || len(store.losses) != 0 {
		t.Fatalf("a stray object acknowledged: %v", err)
	}
	store, chain = lossChain(t)
	store.blocks["c1"][8], store.blocks["c1"][9] = []byte("x"), []byte("y")
	if _, err := chain.AcknowledgeLoss(ctx, "c1", 8, "po", ""); !errors.Is(err, audit.ErrNothingToResume) || len(store.losses) != 0 {
		t.Fatalf("a loss with nothing after it: %v", err)
	}
}

// A loss bridges its own break and nothing else: one altered, forged, moved to another
// place or clinic, or whose resumed block changed, stops readers at the break again.
func TestLossForgeries(t *testing.T) {
	ctx := context.Background()
	for name, edit := range map[string]func(t *testing.T, s *blockStore){
		"resume moved on": func(t *testing.T, s *blockStore) {
			s.losses["c1/4/5"] = rewriteEnvelope(t, s.losses["c1/4/5"], "loss", func(l map[string]any) { l["resume"] = 6 })
		},
		"period changed": func(t *testing.T, s *blockStore) {
			s.losses["c1/4/5"] = rewriteEnvelope(t, s.losses["c1/4/5"], "loss", func(l map[string]any) { l["until"] = "2020-01-01T00:00:00Z" })
		},
		"signature altered": func(t *testing.T, s *blockStore) {
			s.losses["c1/4/5"] = []byte(strings.Replace(string(s.losses["c1/4/5"]), `"sig":"vault`, `"sig":"xvault`, 1))
		},
		"not JSON": func(t *testing.T, s *blockStore) { s.losses["c1/4/5"] = []byte("{") },
		"unknown field": func(t *testing.T, s *blockStore) {
			s.losses["c1/4/5"] = append(s.losses["c1/4/5"][:len(s.losses["c1/4/5"])-1], `,"x":1}`...)
		},
		"resumed block gone":   func(t *testing.T, s *blockStore) { delete(s.blocks["c1"], 5) },
		"resumed block other":  func(t *testing.T, s *blockStore) { s.blocks["c1"][5] = s.blocks["c2"][5] },
		"deleted":              func(t *testing.T, s *blockStore) { delete(s.losses, "c1/4/5") },
		"block before changed": func(t *testing.T, s *blockStore) { s.blocks["c1"][3] = s.blocks["c2"][3] },
		"moved to a later break": func(t *testing.T, s *blockStore) {
			delete(s.blocks["c1"], 7)
			s.losses["c1/7/8"] = s.losses["c1/4/5"]
			delete(s.losses, "c1/4/5")
		},
		"another clinic's": func(t *testing.T, s *blockStore) {
			delete(s.blocks["c2"], 4)
			if _, err := audit.NewChain(s, vaulttest.Keyring{}, quietLogger(), nil).AcknowledgeLoss(ctx, "c2", 4, "po", ""); err != nil {
				t.Fatal(err)
			}
			s.losses["c1/4/5"] = s.losses["c2/4/5"]
		},
	} {
		t.Run(name, func(t *testing.T) {
			store, chain := lossChain(t)
			delete(store.blocks["c1"], 4)
			if _, err := chain.AcknowledgeLoss(ctx, "c1", 4, "po", ""); err != nil {
				t.Fatal(err)
			}
			edit(t, store)
			_, err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Verify(ctx, "c1", nil)
			if !errors.Is(err, audit.ErrBroken) {
				t.Fatalf("verified: %v", err)
			}
			if seen, _, err := actors(t, audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil), audit.Head{}); !errors.Is(err, audit.ErrBroken) || len(seen) > 4 {
				t.Fatalf("read past it: %v, %v", seen, err)
			}
		})
	}
}

// A head kept before the loss is still checked where a block is left to check it against:
// at the lost block the resumed one names, and at the resumed block.
func TestLossAndAnEarlierHead(t *testing.T) {
	ctx := context.Background()
	store, chain := lossChain(t)
	headAfter := func(blocks int) audit.Head { // the head a reader kept after that many blocks
		n := 0
		h, _ := chain.Scan(ctx, "c1", audit.Head{}, func(recordvault.AuditEvent) error {
			if n++; n > blocks {
				return errors.New("stop")
			}
			return nil
		})
		if h.Blocks != uint64(blocks) {
			t.Fatalf("head after %d blocks: %+v", blocks, h)
		}
		return h
	}
	atLost, atResumed, full := headAfter(5), headAfter(6), headAfter(10)
	delete(store.blocks["c1"], 4)
	if _, err := chain.AcknowledgeLoss(ctx, "c1", 4, "po", ""); err != nil {
		t.Fatal(err)
	}
	for _, h := range []audit.Head{atLost, atResumed, full} {
		if _, err := chain.Verify(ctx, "c1", &h); err != nil {
			t.Errorf("a genuine head of %d blocks: %v", h.Blocks, err)
		}
	}
	for _, h := range []audit.Head{{Blocks: 5, Hash: full.Hash}, {Blocks: 6, Hash: atLost.Hash}} {
		if _, err := chain.Verify(ctx, "c1", &h); !errors.Is(err, audit.ErrBroken) {
			t.Errorf("a head of %d blocks that is not the chain's: %v", h.Blocks, err)
		}
	}
}

// A block a loss resumes at, lost in its turn, breaks the chain at the loss's place again;
// acknowledging that break resumes at a later block, and readers take the loss that checks.
func TestLossAcknowledgedAgain(t *testing.T) {
	ctx := context.Background()
	store, chain := lossChain(t)
	delete(store.blocks["c1"], 4)
	if _, err := chain.AcknowledgeLoss(ctx, "c1", 4, "po", "INC-1"); err != nil {
		t.Fatal(err)
	}
	delete(store.blocks["c1"], 5)
	_, err := chain.Verify(ctx, "c1", nil)
	if want := "block 4 is missing; block 5, which the loss acknowledged there resumes at, fails its check"; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("with the resumed block lost: %v", err)
	}
	again, err := chain.AcknowledgeLoss(ctx, "c1", 4, "po", "INC-2")
	if err != nil || again.Resume != 6 {
		t.Fatalf("acknowledged again: %+v, %v", again, err)
	}
	seen, h, err := actors(t, audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil), audit.Head{})
	if err != nil || !slices.Equal(seen, []string{"dr-0", "dr-1", "dr-2", "dr-3", "dr-6", "dr-7", "dr-8", "dr-9"}) ||
		len(h.Losses) != 1 || h.Losses[0].Resume != 6 || h.Losses[0].Reference != "INC-2" {
		t.Fatalf("read over the second acknowledgment: %v, %+v, %v", seen, h, err)
	}
}

// Two privacy officers acknowledging the same break at once: one stores the loss, the other
// is told it is acknowledged already (not that a stored loss fails its check).
func TestLossAcknowledgedAtOnce(t *testing.T) {
	ctx := context.Background()
	store, chain := lossChain(t)
	delete(store.blocks["c1"], 4)
	other := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil)
	store.beforeLoss = func() {
		store.beforeLoss = nil // the other request stores its loss between this one's walk and its write
		if _, err := other.AcknowledgeLoss(ctx, "c1", 4, "po-2", ""); err != nil {
			t.Error(err)
		}
	}
	if _, err := chain.AcknowledgeLoss(ctx, "c1", 4, "po-1", ""); !errors.Is(err, audit.ErrAcknowledged) {
		t.Fatalf("the second acknowledgment: %v", err)
	}
	if h, err := chain.Verify(ctx, "c1", nil); err != nil || len(h.Losses) != 1 || h.Losses[0].By != "po-2" {
		t.Fatalf("verify: %+v, %v", h, err)
	}
}

// In a versioned bucket, a block hidden behind a delete marker or a newer version is not
// lost: readers take its genuine version (its signature and link vouch for it) and go on; a
// check reports the break as restorable; a loss cannot be acknowledged for it.
func TestHiddenBlocksRead(t *testing.T) {
	ctx := context.Background()
	for name, c := range map[string]struct {
		hide  func(s *blockStore)
		first uint64 // the first break a check finds
	}{
		"deleted":                 {func(s *blockStore) { s.hide("c1", 4, nil) }, 4},
		"overwritten":             {func(s *blockStore) { s.hide("c1", 4, []byte("forged")) }, 4},
		"another's block on top":  {func(s *blockStore) { s.hide("c1", 4, s.blocks["c2"][4]) }, 4},
		"two versions on top":     {func(s *blockStore) { s.hide("c1", 4, []byte("forged")); s.hide("c1", 4, s.blocks["c1"][3]) }, 4},
		"first and last deleted":  {func(s *blockStore) { s.hide("c1", 0, nil); s.hide("c1", 9, []byte("x")) }, 0},
		"every other one deleted": {func(s *blockStore) { s.hide("c1", 1, nil); s.hide("c1", 3, nil); s.hide("c1", 5, nil) }, 1},
	} {
		t.Run(name, func(t *testing.T) {
			store, chain := lossChain(t)
			c.hide(store)
			seen, h, err := actors(t, audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil), audit.Head{})
			if err != nil || len(seen) != 10 || h.Blocks != 10 || len(h.Losses) != 0 {
				t.Fatalf("read: %v, %+v, %v", seen, h, err)
			}
			_, err = chain.Verify(ctx, "c1", nil)
			if want := fmt.Sprintf("block %d is", c.first); err == nil || !strings.Contains(err.Error(), want) ||
				!strings.HasSuffix(err.Error(), "its genuine version is still stored: restore it") {
				t.Fatalf("verify: %v", err)
			}
			if _, err := chain.AcknowledgeLoss(ctx, "c1", c.first, "po", ""); !errors.Is(err, audit.ErrRestorable) {
				t.Fatalf("acknowledged a restorable block: %v", err)
			}
		})
	}
}

// A block stranded in the middle of the chain (a write the storage answered with an error,
// stored as a version its key does not read; MinIO around a restart of its whole set) is
// stored again by the service's own walks, check and read alike, with no operator involved;
// an outside verifier, which only reads, reports it as restorable.
func TestWalksReinstateStrandedBlocks(t *testing.T) {
	ctx := context.Background()
	keys := func(ctx context.Context) (int, map[int]*ecdsa.PublicKey, error) {
		return vaulttest.Keyring{}.SigningKeys(ctx, audit.SigningKeyName("c1"))
	}
	store, chain := lossChain(t)
	for _, walk := range []struct {
		name  string
		seq   uint64
		check func() (audit.Head, error)
	}{
		{"check", 6, func() (audit.Head, error) { return chain.Verify(ctx, "c1", nil) }},
		{"read", 3, func() (audit.Head, error) { _, h, err := actors(t, chain, audit.Head{}); return h, err }},
	} {
		genuine := store.blocks["c1"][walk.seq]
		store.strand("c1", walk.seq)
		_, err := audit.Verify(ctx, store, "c1", keys, nil)
		if want := fmt.Sprintf("block %d is missing; its genuine version is still stored: restore it", walk.seq); err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Fatalf("%s: an outside check of block %d stranded: %v", walk.name, walk.seq, err)
		}
		if h, err := walk.check(); err != nil || h.Blocks != 10 {
			t.Fatalf("%s: %+v, %v", walk.name, h, err)
		}
		if !bytes.Equal(store.blocks["c1"][walk.seq], genuine) {
			t.Fatalf("%s: block %d not stored again", walk.name, walk.seq)
		}
		if h, err := audit.Verify(ctx, store, "c1", keys, nil); err != nil || h.Blocks != 10 {
			t.Fatalf("%s: an outside check after: %+v, %v", walk.name, h, err)
		}
	}

	// Left out of a listing though it reads (MinIO's answers just after its set's restart):
	// gone past as it is, nothing written, and logged as what it is.
	store.unlisted = map[string]map[uint64]bool{"c1": {5: true}}
	writes := store.writes
	var log strings.Builder
	logged := audit.NewChain(store, vaulttest.Keyring{}, slog.New(slog.NewTextHandler(&log, nil)), nil)
	if h, err := logged.Verify(ctx, "c1", nil); err != nil || h.Blocks != 10 {
		t.Fatalf("block 5 unlisted: %+v, %v", h, err)
	}
	if store.writes != writes || !strings.Contains(log.String(), "yet it reads") || strings.Contains(log.String(), "stored it again") {
		t.Fatalf("block 5 unlisted: %d writes, log %q", store.writes-writes, log.String())
	}
}

// An operator's restore puts back every hidden block's genuine version, after which the chain
// checks intact; a block lost for good is left as the break it is.
func TestRestoreHiddenBlocks(t *testing.T) {
	ctx := context.Background()
	store, _ := lossChain(t)
	store.hide("c1", 4, nil)
	store.hide("c1", 6, []byte("forged"))
	keys := func(ctx context.Context) (int, map[int]*ecdsa.PublicKey, error) {
		return vaulttest.Keyring{}.SigningKeys(ctx, audit.SigningKeyName("c1"))
	}
	restored, h, err := audit.Restore(ctx, store, "c1", keys)
	if err != nil || !slices.Equal(restored, []uint64{4, 6}) || h.Blocks != 10 {
		t.Fatalf("restore: %v, %+v, %v", restored, h, err)
	}
	if h, err := audit.Verify(ctx, store, "c1", keys, nil); err != nil || h.Blocks != 10 {
		t.Fatalf("verify after the restore: %+v, %v", h, err)
	}
	store.hide("c1", 2, nil)
	store.strand("c1", 5)
	delete(store.blocks["c1"], 8) // gone with no version left
	restored, h, err = audit.Restore(ctx, store, "c1", keys)
	if !slices.Equal(restored, []uint64{2, 5}) || h.Blocks != 8 || err == nil || !strings.Contains(err.Error(), "block 8 is missing") {
		t.Fatalf("restore with a block lost for good: %v, %+v, %v", restored, h, err)
	}
}

// A block stranded at the chain's end (a write the storage answered with an error, stored as
// a version that its key does not read) is written again by the next writer to find the
// end, which then chains after it: the chain checks intact with no operator involved. A block
// hidden by a delete marker is not (TestWriterAfterHiddenEnd).
func TestWriterReinstatesStrandedEnd(t *testing.T) {
	ctx := context.Background()
	store, _ := lossChain(t)
	eight, nine := store.blocks["c1"][8], store.blocks["c1"][9]
	store.strand("c1", 8)
	store.strand("c1", 9)
	if h, err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Verify(ctx, "c1", nil); err != nil || h.Blocks != 8 {
		t.Fatalf("before: %+v, %v; want the 8 blocks that read", h, err)
	}
	if err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Record(ctx, event("c1", 10)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(store.blocks["c1"][8], eight) || !bytes.Equal(store.blocks["c1"][9], nine) || store.blocks["c1"][10] == nil {
		t.Fatalf("blocks 8, 9 stored again and 10 written: %v, %v, %v",
			bytes.Equal(store.blocks["c1"][8], eight), bytes.Equal(store.blocks["c1"][9], nine), store.blocks["c1"][10] != nil)
	}
	h, err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Verify(ctx, "c1", nil)
	if err != nil || h.Blocks != 11 || h.Events != 11 {
		t.Fatalf("verify: %+v, %v", h, err)
	}

	// Stranded and listed all the same (MinIO's listing and read can disagree): the writer
	// walks the end from the block before it, and stores it again too.
	store.strand("c1", 10)
	store.listed = true
	if err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Record(ctx, event("c1", 11)); err != nil {
		t.Fatalf("after a listed stranded block: %v", err)
	}
	h, err = audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Verify(ctx, "c1", nil)
	if err != nil || h.Blocks != 12 || h.Events != 12 {
		t.Fatalf("verify after a listed stranded block: %+v, %v", h, err)
	}
}

// In a versioned bucket, a writer that finds the chain's end hidden chains after its genuine
// blocks rather than over them, and readers read them all.
func TestWriterAfterHiddenEnd(t *testing.T) {
	ctx := context.Background()
	store, _ := lossChain(t)
	store.hide("c1", 8, nil)
	store.hide("c1", 9, nil)
	if err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Record(ctx, event("c1", 10)); err != nil {
		t.Fatal(err)
	}
	if store.blocks["c1"][8] != nil || store.blocks["c1"][10] == nil {
		t.Fatalf("written over the hidden end: block 8 %v, block 10 %v", store.blocks["c1"][8] != nil, store.blocks["c1"][10] != nil)
	}
	seen, h, err := actors(t, audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil), audit.Head{})
	if err != nil || len(seen) != 11 || seen[9] != "dr-9" || seen[10] != "dr-10" || h.Blocks != 11 {
		t.Fatalf("read: %v, %+v, %v", seen, h, err)
	}
}
