package audit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/storage/object"
	"github.com/recordvault/recordvault/vault/vaulttest"
)

// blockStore keeps blocks in memory, with create-only semantics like the real store's
// If-None-Match, writes that can be held and an injectable failure.
type blockStore struct {
	mu          sync.Mutex
	blocks      map[string]map[uint64][]byte
	checkpoints map[string][]byte              // by clinic/name
	losses      map[string][]byte              // by clinic/first/resume
	older       map[string]map[uint64][][]byte // earlier versions of blocks, newest first (a versioned bucket)
	stranded    map[string]map[uint64][]byte   // newest versions of blocks that their keys do not read
	listed      bool                           // stranded blocks are listed (as MinIO can list them)
	unlisted    map[string]map[uint64]bool     // blocks left out of listings, though they read (MinIO can, for a moment)
	beforeLoss  func()                         // called, when set, as a loss is about to be stored
	stray       map[string]bool
	hold        chan struct{} // when set, writes wait until it is closed
	fail        error
	writes      int
	reads       int
}

var _ audit.BlockStore = (*blockStore)(nil)

func newBlockStore() *blockStore {
	return &blockStore{blocks: map[string]map[uint64][]byte{}, checkpoints: map[string][]byte{}, losses: map[string][]byte{},
		older: map[string]map[uint64][][]byte{}, stranded: map[string]map[uint64][]byte{}, stray: map[string]bool{}}
}

// hide keeps block seq of clinic as an earlier version and deletes or replaces its current
// one, as a bucket writer can in a versioned bucket.
func (s *blockStore) hide(clinic string, seq uint64, replacement []byte) {
	if s.older[clinic] == nil {
		s.older[clinic] = map[uint64][][]byte{}
	}
	s.older[clinic][seq] = append([][]byte{s.blocks[clinic][seq]}, s.older[clinic][seq]...)
	if replacement == nil {
		delete(s.blocks[clinic], seq)
	} else {
		s.blocks[clinic][seq] = replacement
	}
}

// strand leaves block seq of clinic stored as a version that its key does not read, as a
// write refused for want of quorum can in MinIO's erasure set.
func (s *blockStore) strand(clinic string, seq uint64) {
	if s.stranded[clinic] == nil {
		s.stranded[clinic] = map[uint64][]byte{}
	}
	s.stranded[clinic][seq] = s.blocks[clinic][seq]
	delete(s.blocks[clinic], seq)
}

func (s *blockStore) ReinstateAuditBlock(_ context.Context, clinic string, seq uint64, genuine []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reinstate(clinic, seq, genuine)
}

func (s *blockStore) reinstate(clinic string, seq uint64, genuine []byte) error {
	current, ok := s.blocks[clinic][seq]
	stranded := s.stranded[clinic][seq]
	switch {
	case ok && bytes.Equal(current, genuine):
		return nil
	case ok || (stranded != nil && !bytes.Equal(stranded, genuine)):
		return object.ErrExists
	case stranded == nil && len(s.older[clinic][seq]) > 0:
		return object.ErrExists // under a delete marker
	case stranded == nil:
		return object.ErrNotFound
	}
	s.blocks[clinic][seq] = slices.Clone(genuine)
	delete(s.stranded[clinic], seq)
	s.writes++
	return nil
}

func (s *blockStore) RestoreAuditBlock(_ context.Context, clinic string, seq uint64, genuine []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reinstate(clinic, seq, genuine); !errors.Is(err, object.ErrExists) {
		return err
	}
	for i, b := range s.older[clinic][seq] {
		if bytes.Equal(b, genuine) {
			s.blocks[clinic][seq] = genuine
			s.older[clinic][seq] = s.older[clinic][seq][i+1:]
			return nil
		}
	}
	return object.ErrNotFound
}

func (s *blockStore) ReadAuditBlockVersions(_ context.Context, clinic string, seq uint64) ([][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var versions [][]byte
	if b, ok := s.stranded[clinic][seq]; ok {
		versions = append(versions, slices.Clone(b))
	}
	if b, ok := s.blocks[clinic][seq]; ok {
		versions = append(versions, slices.Clone(b))
	}
	for _, b := range s.older[clinic][seq] {
		versions = append(versions, slices.Clone(b))
	}
	return versions, nil
}

func (s *blockStore) CreateAuditLoss(_ context.Context, clinic string, first, resume uint64, body []byte) error {
	if s.beforeLoss != nil {
		s.beforeLoss()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := fmt.Sprintf("%s/%d/%d", clinic, first, resume)
	if _, ok := s.losses[key]; ok {
		return object.ErrExists
	}
	s.losses[key] = slices.Clone(body)
	return nil
}

func (s *blockStore) ReadAuditLosses(_ context.Context, clinic string, first uint64) ([][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix := fmt.Sprintf("%s/%d/", clinic, first)
	var bodies [][]byte
	for _, key := range slices.Sorted(maps.Keys(s.losses)) {
		if strings.HasPrefix(key, prefix) {
			bodies = append(bodies, slices.Clone(s.losses[key]))
		}
	}
	return bodies, nil
}

func (s *blockStore) ReadAuditCheckpoint(_ context.Context, clinic, name string) ([]byte, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.checkpoints[clinic+"/"+name]
	if !ok {
		return nil, "", object.ErrNotFound
	}
	return slices.Clone(b), etagOf(b), nil
}

func (s *blockStore) PutAuditCheckpoint(_ context.Context, clinic, name string, body []byte, etag string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.checkpoints[clinic+"/"+name]
	switch {
	case etag == "" && ok:
		return object.ErrExists
	case etag != "" && (!ok || etagOf(b) != etag):
		return object.ErrChanged
	}
	s.checkpoints[clinic+"/"+name] = slices.Clone(body)
	return nil
}

func etagOf(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

func (s *blockStore) CreateAuditBlock(_ context.Context, clinic string, seq uint64, body []byte) error {
	if s.hold != nil {
		<-s.hold
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	if s.blocks[clinic] == nil {
		s.blocks[clinic] = map[uint64][]byte{}
	}
	if _, ok := s.blocks[clinic][seq]; ok {
		return object.ErrExists
	}
	s.blocks[clinic][seq] = slices.Clone(body)
	s.writes++
	return nil
}

func (s *blockStore) ReadAuditBlock(_ context.Context, clinic string, seq uint64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	b, ok := s.blocks[clinic][seq]
	if !ok {
		return nil, object.ErrNotFound
	}
	return slices.Clone(b), nil
}

func (s *blockStore) ListAuditBlocks(_ context.Context, clinic string, from uint64, limit int) ([]uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stray[clinic] {
		return nil, audit.ErrStrayObject
	}
	var seqs []uint64
	for seq := range s.blocks[clinic] {
		if seq >= from && !s.unlisted[clinic][seq] {
			seqs = append(seqs, seq)
		}
	}
	for seq := range s.stranded[clinic] {
		if s.listed && seq >= from && s.blocks[clinic][seq] == nil {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	if len(seqs) > limit {
		seqs = seqs[:limit]
	}
	return seqs, nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func event(clinic string, i int) recordvault.AuditEvent {
	return recordvault.AuditEvent{Actor: fmt.Sprintf("dr-%d", i), Clinic: clinic, Action: "read_record", Allowed: true, Rule: "care team"}
}

// recordAll records n events of clinic through chains, from n goroutines at once.
func recordAll(t *testing.T, clinic string, n int, chains ...*audit.Chain) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := chains[i%len(chains)].Record(context.Background(), event(clinic, i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// Concurrent events share blocks (group commit): while a block is being written, the events
// that arrive wait for the next one together. Every one of them is in the chain, and the
// chain verifies.
func TestChainGroupsConcurrentEvents(t *testing.T) {
	store := newBlockStore()
	store.hold = make(chan struct{})
	chain := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil)
	var started, recorded sync.WaitGroup
	started.Add(300)
	for i := range 300 {
		recorded.Go(func() {
			started.Done()
			if err := chain.Record(context.Background(), event("c1", i)); err != nil {
				t.Error(err)
			}
		})
	}
	started.Wait() // the first block's write is held until every event has been sent
	close(store.hold)
	recorded.Wait()
	head, err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Verify(context.Background(), "c1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if head.Events != 300 || head.Blocks != uint64(store.writes) || head.Blocks > 100 {
		t.Fatalf("head %+v after %d writes; want 300 events in at most 100 blocks", head, store.writes)
	}
	recordAll(t, "c1", 10, chain)
	if head, err = chain.Verify(context.Background(), "c1", nil); err != nil || head.Events != 310 {
		t.Fatalf("after more events: %+v, %v", head, err)
	}
}

// Two replicas writing one clinic's chain at once: neither overwrites the other, and the chain
// holds every event of both, in one line.
func TestChainTwoWriters(t *testing.T) {
	store := newBlockStore()
	a := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil)
	b := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil)
	for range 5 {
		recordAll(t, "c1", 40, a, b)
	}
	head, err := a.Verify(context.Background(), "c1", nil)
	if err != nil || head.Events != 200 {
		t.Fatalf("%+v, %v", head, err)
	}
}

// A failed write fails the events it held (fail closed); once storage is back, the chain
// goes on from where it is, intact.
func TestChainFailsClosed(t *testing.T) {
	store := newBlockStore()
	chain := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil)
	recordAll(t, "c1", 3, chain)
	store.fail = errors.New("storage down")
	if err := chain.Record(context.Background(), event("c1", 99)); err == nil {
		t.Fatal("an event was accepted while storage was down")
	}
	store.fail = nil
	recordAll(t, "c1", 3, chain)
	if head, err := chain.Verify(context.Background(), "c1", nil); err != nil || head.Events != 6 {
		t.Fatalf("%+v, %v", head, err)
	}
	if err := chain.Record(context.Background(), recordvault.AuditEvent{Clinic: "../c1"}); err == nil {
		t.Fatal("an event naming an invalid clinic was accepted")
	}
	writes := store.writes
	if err := chain.Record(context.Background(), recordvault.AuditEvent{Actor: "anonymous", Action: "download"}); err != nil || store.writes != writes {
		t.Fatalf("an event of no clinic: %v, %d writes", err, store.writes-writes)
	}
}

// Every change a bucket writer can make short of cutting the tail is found by Verify, naming
// the block; and a writer never chains onto a forged last block.
func TestChainTamperingFound(t *testing.T) {
	ctx := context.Background()
	build := func() *blockStore {
		store := newBlockStore()
		chain := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil)
		for i := range 6 { // six blocks, one event each
			if err := chain.Record(ctx, event("c1", i)); err != nil {
				t.Fatal(err)
			}
			if err := chain.Record(ctx, event("c2", i)); err != nil {
				t.Fatal(err)
			}
		}
		return store
	}
	rewrite := func(body []byte, change func(b map[string]any)) []byte {
		return rewriteEnvelope(t, body, "block", change)
	}
	edits := map[string]func(s *blockStore){
		"first block deleted":    func(s *blockStore) { delete(s.blocks["c1"], 0) },
		"middle block deleted":   func(s *blockStore) { delete(s.blocks["c1"], 3) },
		"two blocks swapped":     func(s *blockStore) { s.blocks["c1"][1], s.blocks["c1"][2] = s.blocks["c1"][2], s.blocks["c1"][1] },
		"block replayed further": func(s *blockStore) { s.blocks["c1"][4] = s.blocks["c1"][2] },
		"other clinic's block":   func(s *blockStore) { s.blocks["c1"][2] = s.blocks["c2"][2] },
		"event's actor changed": func(s *blockStore) {
			s.blocks["c1"][2] = rewrite(s.blocks["c1"][2], func(b map[string]any) { b["events"].([]any)[0].(map[string]any)["actor"] = "dr-x" })
		},
		"refusal made an allow": func(s *blockStore) {
			s.blocks["c1"][1] = rewrite(s.blocks["c1"][1], func(b map[string]any) { b["events"].([]any)[0].(map[string]any)["allowed"] = false })
		},
		"event removed": func(s *blockStore) {
			s.blocks["c1"][2] = rewrite(s.blocks["c1"][2], func(b map[string]any) { b["events"] = []any{} })
		},
		"prev pointed elsewhere": func(s *blockStore) {
			s.blocks["c1"][3] = rewrite(s.blocks["c1"][3], func(b map[string]any) { b["prev"] = "00" })
		},
		"seal time moved": func(s *blockStore) {
			s.blocks["c1"][5] = rewrite(s.blocks["c1"][5], func(b map[string]any) { b["sealed"] = "2020-01-01T00:00:00Z" })
		},
		"signature of another": func(s *blockStore) { s.blocks["c1"][2] = swapSig(t, s.blocks["c1"][2], s.blocks["c1"][3]) },
		"signature removed": func(s *blockStore) {
			s.blocks["c1"][2] = swapSig(t, s.blocks["c1"][2], []byte(`{"block":{},"sig":""}`))
		},
		"block not JSON": func(s *blockStore) { s.blocks["c1"][1] = []byte("not json") },
		"unknown envelope field": func(s *blockStore) {
			s.blocks["c1"][1] = append(bytes.TrimSuffix(s.blocks["c1"][1], []byte("}")), `,"x":1}`...)
		},
		"stray object in the path": func(s *blockStore) { s.stray["c1"] = true },
		"gap then more blocks":     func(s *blockStore) { s.blocks["c1"][9] = s.blocks["c1"][5] },
	}
	for name, edit := range edits {
		store := build()
		edit(store)
		_, err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Verify(ctx, "c1", nil)
		if !errors.Is(err, audit.ErrBroken) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Verify(ctx, "c2", nil); err != nil {
			t.Errorf("%s: the other clinic's chain: %v", name, err)
		}
	}

	// A forged last block, or anything else in its place: a new writer records on after it
	// (the clinic's requests go on), the forgery stays a break at its place for every reader,
	// and its loss can be acknowledged, since a block now follows it.
	for _, forge := range []func(s *blockStore){
		func(s *blockStore) {
			s.blocks["c1"][5] = rewrite(s.blocks["c1"][5], func(b map[string]any) { b["events"] = []any{} })
		},
		func(s *blockStore) { s.blocks["c1"][5] = []byte("not a block") },
		func(s *blockStore) { s.blocks["c1"][5] = s.blocks["c1"][2] },
	} {
		store := build()
		forge(store)
		writer := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil)
		if err := writer.Record(ctx, event("c1", 7)); err != nil || store.blocks["c1"][6] == nil {
			t.Fatalf("after a forged last block: %v", err)
		}
		if h, err := writer.Verify(ctx, "c1", nil); err == nil || !strings.Contains(err.Error(), "block 5 is") || h.Blocks != 5 {
			t.Fatalf("verify after a forged last block: %+v, %v", h, err)
		}
		if loss, err := writer.AcknowledgeLoss(ctx, "c1", 5, "po", ""); err != nil || loss.Resume != 6 {
			t.Fatalf("acknowledging the forged block: %+v, %v", loss, err)
		}
		if h, err := writer.Verify(ctx, "c1", nil); err != nil || h.Blocks != 7 {
			t.Fatalf("verify after the acknowledgment: %+v, %v", h, err)
		}
	}

	// Cutting the tail leaves a shorter chain that verifies: only a head kept elsewhere shows it.
	store := build()
	full, err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Verify(ctx, "c1", nil)
	if err != nil {
		t.Fatal(err)
	}
	delete(store.blocks["c1"], 5)
	cut, err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Verify(ctx, "c1", nil)
	if err != nil || cut.Blocks != full.Blocks-1 || cut.Hash == full.Hash {
		t.Fatalf("tail cut: %+v then %+v, %v", full, cut, err)
	}
	if _, err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Verify(ctx, "c1", &full); !errors.Is(err, audit.ErrBroken) {
		t.Fatalf("tail cut, checked against the earlier head: %v", err)
	}
	// Cut, then written on by a writer that found the shorter head: the earlier head's block
	// is another one now.
	recorder := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil)
	for i := range 3 {
		if err := recorder.Record(ctx, event("c1", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := recorder.Verify(ctx, "c1", &full); !errors.Is(err, audit.ErrBroken) {
		t.Fatalf("tail cut and written on, checked against the earlier head: %v", err)
	}
	if _, err := recorder.Verify(ctx, "c1", &cut); err != nil {
		t.Fatalf("checked against a head it still reaches: %v", err)
	}
}

// rewriteEnvelope changes the statement (under member) of a signed envelope, keeping its
// signature.
func rewriteEnvelope(t *testing.T, body []byte, member string, change func(statement map[string]any)) []byte {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	change(env[member].(map[string]any))
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func swapSig(t *testing.T, body, from []byte) []byte {
	var a, b map[string]json.RawMessage
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(from, &b); err != nil {
		t.Fatal(err)
	}
	a["sig"] = b["sig"]
	out, _ := json.Marshal(a)
	return out
}

// A writer logs its chain's head once a minute: the log is an anchor outside the bucket, and
// a logged head verifies against the chain.
func TestChainLogsItsHead(t *testing.T) {
	ctx := context.Background()
	var log bytes.Buffer
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	store := newBlockStore()
	chain := audit.NewChain(store, vaulttest.Keyring{}, slog.New(slog.NewJSONHandler(&log, nil)), func() time.Time { return now })
	for _, step := range []time.Duration{0, 20 * time.Second, 50 * time.Second, 2 * time.Minute} {
		now = now.Add(step)
		if err := chain.Record(ctx, event("c1", 1)); err != nil {
			t.Fatal(err)
		}
	}
	var heads []audit.Head
	for _, line := range bytes.Split(bytes.TrimSpace(log.Bytes()), []byte("\n")) {
		var entry struct {
			Msg    string
			Blocks uint64
			Hash   string
		}
		if err := json.Unmarshal(line, &entry); err != nil {
			t.Fatal(err)
		}
		if entry.Msg == "audit chain head" {
			heads = append(heads, audit.Head{Blocks: entry.Blocks, Hash: entry.Hash})
		}
	}
	if len(heads) != 3 || heads[0].Blocks != 1 || heads[1].Blocks != 3 || heads[2].Blocks != 4 {
		t.Fatalf("logged heads %+v; want blocks 1, 3 and 4", heads)
	}
	for _, h := range heads {
		if _, err := chain.Verify(ctx, "c1", &h); err != nil {
			t.Fatalf("logged head %+v: %v", h, err)
		}
	}
}

// A client acting through their own login is chained as "client": the bucket never links a
// login subject to a client.
func TestChainKeepsClientLoginsOut(t *testing.T) {
	store := newBlockStore()
	chain := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil)
	e := recordvault.AuditEvent{Actor: "login-jo@example.test", ActorIsClient: true, Clinic: "c1", Client: "k1", Action: "list_releases", Allowed: true, Rule: "own account"}
	if err := chain.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	block := store.blocks["c1"][0]
	if bytes.Contains(block, []byte("login-jo")) || !bytes.Contains(block, []byte(`"actor":"client","actor_is_client":true`)) {
		t.Fatalf("block: %s", block)
	}
}

// Scan gives each verified event once, in order, reading on from where it stopped; a chain
// cut at the block it stopped at is reported, not taken for one that did not grow.
func TestChainScanReadsOn(t *testing.T) {
	ctx := context.Background()
	store := newBlockStore()
	chain := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil)
	var seen []string
	collect := func(e recordvault.AuditEvent) error { seen = append(seen, e.Actor); return nil }
	for i := range 5 {
		if err := chain.Record(ctx, event("c1", i)); err != nil {
			t.Fatal(err)
		}
	}
	head, err := chain.Scan(ctx, "c1", audit.Head{}, collect)
	if err != nil || head.Blocks != 5 || head.Events != 5 || !slices.Equal(seen, []string{"dr-0", "dr-1", "dr-2", "dr-3", "dr-4"}) {
		t.Fatalf("first scan: %+v, %v, %v", head, err, seen)
	}
	if again, err := chain.Scan(ctx, "c1", head, collect); err != nil || !reflect.DeepEqual(again, head) || len(seen) != 5 {
		t.Fatalf("a scan of a chain that did not grow: %+v, %v, %d events", again, err, len(seen))
	}
	for i := 5; i < 8; i++ {
		if err := chain.Record(ctx, event("c1", i)); err != nil {
			t.Fatal(err)
		}
	}
	seen = nil
	reads := store.reads
	later, err := chain.Scan(ctx, "c1", head, collect)
	if err != nil || later.Events != 8 || !slices.Equal(seen, []string{"dr-5", "dr-6", "dr-7"}) {
		t.Fatalf("scan on: %+v, %v, %v", later, err, seen)
	}
	if store.reads != reads {
		t.Errorf("the writer read back %d blocks it wrote itself", store.reads-reads)
	}
	reader := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil) // another process reads them
	seen = nil
	if h, err := reader.Scan(ctx, "c1", head, collect); err != nil || !reflect.DeepEqual(h, later) || !slices.Equal(seen, []string{"dr-5", "dr-6", "dr-7"}) || store.reads != reads+3 {
		t.Fatalf("another process reading on: %+v, %v, %v, %d reads", h, err, seen, store.reads-reads)
	}
	if full, err := chain.Verify(ctx, "c1", nil); err != nil || !reflect.DeepEqual(full, later) {
		t.Fatalf("Verify %+v, Scan %+v, %v", full, later, err)
	}
	stop := errors.New("stop")
	if h, err := chain.Scan(ctx, "c1", audit.Head{}, func(e recordvault.AuditEvent) error {
		if e.Actor == "dr-3" {
			return stop
		}
		return nil
	}); !errors.Is(err, stop) || h.Blocks != 3 {
		t.Fatalf("stopped scan: %+v, %v; want the head before block 3", h, err)
	}
	if _, err := chain.Scan(ctx, "c1", audit.Head{Blocks: 3, Hash: "zz"}, collect); err == nil || errors.Is(err, audit.ErrBroken) {
		t.Fatalf("a head that is not one: %v", err)
	}

	delete(store.blocks["c1"], 7) // cut the end
	if _, err := chain.Scan(ctx, "c1", later, collect); !errors.Is(err, audit.ErrBroken) {
		t.Fatalf("scan after the end was cut: %v", err)
	}
	store.blocks["c1"][7] = swapSig(t, store.blocks["c1"][6], store.blocks["c1"][6]) // a stranger in its place
	if h, err := chain.Scan(ctx, "c1", later, collect); err != nil || !reflect.DeepEqual(h, later) {
		t.Fatalf("a block replaced behind the reader is Verify's to find, not Scan's: %+v, %v", h, err)
	}
	if _, err := chain.Verify(ctx, "c1", nil); !errors.Is(err, audit.ErrBroken) {
		t.Fatalf("Verify after the end was replaced: %v", err)
	}
}

// A block lost from the middle of the chain is not filled by a writer that starts later: it
// chains after the last block, so the gap stays as found (and can be acknowledged, not
// papered over with a block of its own).
func TestChainWriterChainsAfterAGap(t *testing.T) {
	ctx := context.Background()
	for _, gap := range []uint64{1, 4, 5, 8} {
		store := newBlockStore()
		chain := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil)
		for i := range 10 {
			if err := chain.Record(ctx, event("c1", i)); err != nil {
				t.Fatal(err)
			}
		}
		delete(store.blocks["c1"], gap)
		if err := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil).Record(ctx, event("c1", 10)); err != nil {
			t.Fatalf("gap at %d: %v", gap, err)
		}
		if _, filled := store.blocks["c1"][gap]; filled || store.blocks["c1"][10] == nil {
			t.Fatalf("gap at %d: filled %v, block 10 written %v", gap, filled, store.blocks["c1"][10] != nil)
		}
		_, err := chain.Verify(ctx, "c1", nil)
		if want := fmt.Sprintf("block %d is missing", gap); err == nil || !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Fatalf("gap at %d: verify said %v", gap, err)
		}
	}
}
