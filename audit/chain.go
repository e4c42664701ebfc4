package audit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/seal"
	"github.com/recordvault/recordvault/storage/object"
	"github.com/recordvault/recordvault/transit"
)

// Chain is the tamper-evident audit trail: per clinic, a chain of blocks in object storage,
// each holding the events recorded while the previous block was being written (group
// commit), the SHA-256 of the previous block's bytes, and a Transit signature (ECDSA P-256,
// rv-<clinic>-audit-signing, never exportable) over its own bytes. Blocks are created with
// If-None-Match, so two service replicas never overwrite each other: the one that loses a
// sequence number reads the winner's block and chains after it.
//
// Record returns only once the event's block is stored (fail closed). Verify walks a
// clinic's chain and reports the first block that is missing, out of place, altered or not
// signed by the clinic's key. What a bucket writer can still do without Vault is cut the
// chain's tail; a head kept elsewhere shows that: each writer logs its head once a minute,
// and Verify checks a chain against an earlier head (docs/THREAT_MODEL.md).
type Chain struct {
	store  BlockStore
	signer Signer
	logger *slog.Logger
	now    func() time.Time

	mu        sync.Mutex
	clinics   map[string]*clinicChain
	verifiers map[string]*verifyKeys

	// committed, when set (ObserveCommits), is told of every block written or failed.
	committed atomic.Pointer[func(time.Duration, error)]
}

// ObserveCommits has every block's write, its time and its outcome, told to observe
// (metrics.AuditCommit).
func (c *Chain) ObserveCommits(observe func(time.Duration, error)) { c.committed.Store(&observe) }

// Queued counts the events waiting for a block, in every clinic's chain.
func (c *Chain) Queued() int {
	c.mu.Lock()
	chains := make([]*clinicChain, 0, len(c.clinics))
	for _, cc := range c.clinics {
		chains = append(chains, cc)
	}
	c.mu.Unlock()
	n := 0
	for _, cc := range chains {
		cc.mu.Lock()
		n += len(cc.pending)
		cc.mu.Unlock()
	}
	return n
}

var _ recordvault.Auditor = (*Chain)(nil)

// Signer is what the chain needs of Vault: signatures by the clinic's audit key, and that
// key's public keys.
type Signer interface {
	Sign(ctx context.Context, keyName string, message []byte) (string, error)
	SigningKeys(ctx context.Context, keyName string) (latest int, keys map[int]*ecdsa.PublicKey, err error)
}

// BlockStore is what the chain needs of object storage.
type BlockStore interface {
	CreateAuditBlock(ctx context.Context, clinic string, seq uint64, body []byte) error
	ReadAuditBlock(ctx context.Context, clinic string, seq uint64) ([]byte, error)
	ReadAuditBlockVersions(ctx context.Context, clinic string, seq uint64) ([][]byte, error)
	ReinstateAuditBlock(ctx context.Context, clinic string, seq uint64, genuine []byte) error
	ListAuditBlocks(ctx context.Context, clinic string, from uint64, limit int) ([]uint64, error)
	ReadAuditCheckpoint(ctx context.Context, clinic, name string) ([]byte, string, error)
	PutAuditCheckpoint(ctx context.Context, clinic, name string, body []byte, etag string) error
	CreateAuditLoss(ctx context.Context, clinic string, first, resume uint64, body []byte) error
	ReadAuditLosses(ctx context.Context, clinic string, first uint64) ([][]byte, error)
}

// SigningKeyName is the Transit key that signs a clinic's audit blocks.
func SigningKeyName(clinic string) string { return transit.Name(clinic, transit.AuditSigning) }

const (
	// maxBlockEvents bounds the events of one block (a few hundred bytes each).
	maxBlockEvents = 1000
	// writeTimeout bounds the writing of one block: its signature and its PUT.
	writeTimeout = 30 * time.Second
	// anchorEvery is how often a writer logs its chain's head at info level: the log leaves
	// the bucket's reach, so a head in it shows a later cut of the chain's end.
	anchorEvery = time.Minute
)

// block is one link of the chain, stored in an envelope with its signature (blockKind).
type block struct {
	Version int                      `json:"v"`
	Clinic  string                   `json:"clinic"`
	Seq     uint64                   `json:"seq"`
	Prev    string                   `json:"prev"` // hex SHA-256 of the previous block's bytes; zeros for block 0
	Sealed  time.Time                `json:"sealed"`
	Events  []recordvault.AuditEvent `json:"events"`
}

// clinicChain is one clinic's chain as this process writes it.
type clinicChain struct {
	mu      sync.Mutex
	pending []pendingEvent
	writing bool // a goroutine is draining pending

	recent       []writtenBlock // the blocks this process stored last, oldest first (guarded by mu)
	recentEvents int            // their events

	// Owned by the draining goroutine.
	synced   bool
	next     uint64
	prev     [sha256.Size]byte
	anchored time.Time // when the head was last logged
}

// writtenBlock is a block this process stored: a reader reading on (Scan) takes its events
// from here rather than reading back what it wrote.
type writtenBlock struct {
	seq        uint64
	prev, hash [sha256.Size]byte
	events     []recordvault.AuditEvent
}

// keptWrittenEvents bounds the events of the latest blocks a process keeps per clinic for its
// readers (a few hundred bytes each): its readers read back what it wrote before those.
const keptWrittenEvents = 4096

type pendingEvent struct {
	event recordvault.AuditEvent
	done  chan error
}

// NewChain returns a chain over store, signing with signer. now stamps events and blocks
// (time.Now when nil).
func NewChain(store BlockStore, signer Signer, logger *slog.Logger, now func() time.Time) *Chain {
	if now == nil {
		now = time.Now
	}
	return &Chain{store: store, signer: signer, logger: logger, now: now, clinics: map[string]*clinicChain{}, verifiers: map[string]*verifyKeys{}}
}

// Record adds e to its clinic's chain and returns once the block holding it is stored, a
// client's login subject replaced by "client" (recordvault.AuditEvent.ActorIsClient). An
// event that names no clinic (a download attempted with a token that verifies as nobody's)
// concerns no clinic's records and has no chain: Record leaves it to the other sinks of a
// Tee, the deployment's plain log.
func (c *Chain) Record(ctx context.Context, e recordvault.AuditEvent) error {
	if e.Clinic == "" {
		return nil
	}
	if !recordvault.ValidID(e.Clinic) {
		return errors.New("audit: event without a valid clinic")
	}
	if e.Time.IsZero() {
		e.Time = c.now().UTC()
	}
	if e.ActorIsClient {
		e.Actor = "client"
	}
	cc := c.chainOf(e.Clinic)
	p := pendingEvent{event: e, done: make(chan error, 1)}
	cc.mu.Lock()
	cc.pending = append(cc.pending, p)
	start := !cc.writing
	cc.writing = true
	cc.mu.Unlock()
	if start {
		go c.drain(e.Clinic, cc)
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err() // the event may still be stored: an attempt on the record is no harm
	}
}

func (c *Chain) chainOf(clinic string) *clinicChain {
	c.mu.Lock()
	defer c.mu.Unlock()
	cc := c.clinics[clinic]
	if cc == nil {
		cc = &clinicChain{}
		c.clinics[clinic] = cc
	}
	return cc
}

// drain writes blocks of pending events until none are left. Events that arrive while a
// block is written go into the next block together.
func (c *Chain) drain(clinic string, cc *clinicChain) {
	for {
		cc.mu.Lock()
		n := min(len(cc.pending), maxBlockEvents)
		if n == 0 {
			cc.writing = false
			cc.mu.Unlock()
			return
		}
		batch := slices.Clone(cc.pending[:n])
		cc.pending = slices.Delete(cc.pending, 0, n)
		cc.mu.Unlock()

		events := make([]recordvault.AuditEvent, len(batch))
		for i, p := range batch {
			events[i] = p.event
		}
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		start := time.Now()
		err := c.write(ctx, clinic, cc, events)
		cancel()
		if observe := c.committed.Load(); observe != nil {
			(*observe)(time.Since(start), err)
		}
		if err != nil {
			cc.synced = false // the PUT may have landed: find the head again before the next block
			c.logger.Error("audit block not stored", "clinic", clinic, "events", len(events), "err", err)
			if errors.Is(err, recordvault.ErrUnavailable) {
				// Vault or the storage did not answer: the events that came in meanwhile have
				// waited as long as this block did, and would wait as long again. They fail
				// now; the next event tries afresh.
				cc.mu.Lock()
				batch = append(batch, cc.pending...)
				cc.pending = nil
				cc.mu.Unlock()
			}
		}
		for _, p := range batch {
			p.done <- err
		}
	}
}

// write stores events as the next block of clinic's chain, following the chain forward
// when another writer has taken the sequence number.
func (c *Chain) write(ctx context.Context, clinic string, cc *clinicChain, events []recordvault.AuditEvent) error {
	for range 5 {
		if !cc.synced {
			next, prev, err := c.head(ctx, clinic)
			if err != nil {
				return err
			}
			cc.next, cc.prev, cc.synced = next, prev, true
		}
		raw, err := json.Marshal(block{Version: 1, Clinic: clinic, Seq: cc.next, Prev: hex.EncodeToString(cc.prev[:]),
			Sealed: c.now().UTC(), Events: events})
		if err != nil {
			return fmt.Errorf("audit: encode block: %w", err)
		}
		body, err := c.seal(ctx, clinic, blockKind, raw)
		if err != nil {
			return err
		}
		err = c.store.CreateAuditBlock(ctx, clinic, cc.next, body)
		if errors.Is(err, object.ErrExists) {
			cc.synced = false // another replica wrote this one: chain after it
			continue
		}
		if err != nil {
			return fmt.Errorf("audit: store block %d: %w", cc.next, err)
		}
		c.logger.Debug("audit block stored", "clinic", clinic, "seq", cc.next, "events", len(events))
		wb := writtenBlock{seq: cc.next, prev: cc.prev, hash: sha256.Sum256(raw), events: events}
		cc.mu.Lock()
		cc.recent = append(cc.recent, wb)
		cc.recentEvents += len(events)
		for cc.recentEvents > keptWrittenEvents && len(cc.recent) > 1 {
			cc.recentEvents -= len(cc.recent[0].events)
			cc.recent = slices.Delete(cc.recent, 0, 1)
		}
		cc.mu.Unlock()
		cc.prev, cc.next = wb.hash, cc.next+1
		if now := c.now(); now.Sub(cc.anchored) >= anchorEvery {
			cc.anchored = now
			c.logger.Info("audit chain head", "clinic", clinic, "blocks", cc.next, "hash", hex.EncodeToString(cc.prev[:]))
		}
		return nil
	}
	return errors.New("audit: the chain kept moving under this writer")
}

// head finds the next sequence number of clinic's chain and the hash of its last block: a
// doubling probe and a binary search for the last block listed, in O(log n) listings. The
// probe asks whether any block is listed at or after a number, not whether that one is, so a
// block lost from the middle is not taken for the end (and filled, hiding the loss). The
// last block is checked before anything is chained to it: its hash is the link only when it
// passes.
func (c *Chain) head(ctx context.Context, clinic string) (uint64, [sha256.Size]byte, error) {
	var zero [sha256.Size]byte
	lastFrom := func(seq uint64) (uint64, bool, error) { // the first block listed at or after seq
		seqs, err := c.store.ListAuditBlocks(ctx, clinic, seq, 1)
		if err != nil || len(seqs) == 0 {
			return 0, false, err
		}
		return seqs[0], true, nil
	}
	last, ok, err := lastFrom(0)
	if err != nil || !ok {
		return 0, zero, err
	}
	hi := max(2*last, 1) // no block is listed at or after hi once the probe ends
	for {
		found, ok, err := lastFrom(hi)
		if err != nil {
			return 0, zero, err
		}
		if !ok {
			break
		}
		last, hi = found, 2*found+1
	}
	for hi-last > 1 { // last is listed; nothing is at or after hi
		mid := last + (hi-last)/2
		found, ok, err := lastFrom(mid)
		if err != nil {
			return 0, zero, err
		}
		if ok {
			last = found
		} else {
			hi = mid
		}
	}
	body, err := c.store.ReadAuditBlock(ctx, clinic, last)
	if errors.Is(err, object.ErrNotFound) && last > 0 {
		// Listed, yet absent when read: a block stranded by a refused write that the storage
		// lists all the same. The end is walked from the block before, which takes it up as a
		// hidden end below (stored again when stranded).
		last--
		body, err = c.store.ReadAuditBlock(ctx, clinic, last)
	}
	raw, err := checkBlock(ctx, clinic, last, body, err, c.verifier(clinic))
	var brk *breakError
	if errors.As(err, &brk) && body != nil {
		// The last block fails its check (altered, or something else in its place). Stopping
		// here would stop every audited request of the clinic; chaining on after it records
		// them, while the break stays for every reader to find until the genuine block is
		// restored or its loss acknowledged. The link names the stored bytes, which no
		// signature vouches for: nothing is taken from them.
		c.logger.Error("audit chain's last block fails its check; chaining on after it", "clinic", clinic, "seq", last, "problem", brk.msg)
		return last + 1, sha256.Sum256(body), nil
	}
	if err != nil {
		return 0, zero, err
	}
	// In a versioned bucket the end may be hidden: stranded (a block whose write the storage
	// answered with an error, stored as a version that its key does not read), which is
	// written again; or behind delete markers or newer versions, which only an operator may
	// remove. Either way the writer chains after the genuine blocks, not over them, so that
	// none of their events is lost to readers.
	sum := sha256.Sum256(raw)
	hidden := walk{store: c.store, clinic: clinic, verify: c.verifier(clinic)}
	for {
		genuine, body, err := hidden.storedVersion(ctx, last+1, sum[:])
		if err != nil {
			return 0, zero, err
		}
		if genuine == nil {
			return last + 1, sum, nil
		}
		reinstated, err := reinstate(ctx, c.store, c.logger, clinic, last+1, body)
		if err != nil {
			return 0, zero, err
		}
		if !reinstated {
			c.logger.Error("audit chain's end is hidden in the bucket; chaining after its genuine blocks", "clinic", clinic, "seq", last+1)
		}
		last, sum = last+1, sha256.Sum256(genuine)
	}
}

// reinstate stores body, the genuine version of block seq, again when it is stranded: the
// newest version stored, while the block's key reads as absent (a write the storage answered
// with an error). Nobody hid it, so the service mends it itself. True, with nothing written,
// when the block reads as body after all (left out of a listing, or a read, for a moment: MinIO
// just after its set's restart); false when a delete marker or another version hides it
// instead, which is an operator's to restore.
func reinstate(ctx context.Context, store BlockStore, logger *slog.Logger, clinic string, seq uint64, body []byte) (bool, error) {
	if current, err := store.ReadAuditBlock(ctx, clinic, seq); err == nil && bytes.Equal(current, body) {
		logger.Warn("audit block missing from the storage's answer, yet it reads; going on", "clinic", clinic, "seq", seq)
		return true, nil
	}
	switch err := store.ReinstateAuditBlock(ctx, clinic, seq, body); {
	case err == nil:
		logger.Warn("audit block stranded by a failed write; stored it again", "clinic", clinic, "seq", seq)
		return true, nil
	case errors.Is(err, object.ErrExists):
		return false, nil
	default:
		return false, fmt.Errorf("audit: store stranded block %d again: %w", seq, err)
	}
}

// ErrBroken is wrapped by every error Verify returns for a chain that is not intact.
var ErrBroken = errors.New("audit: chain broken")

// breakError is a break found at block seq: the block is missing, fails its check or does not
// follow its predecessor. It is ErrBroken; unlike a cut end or a stray object, a loss
// acknowledged there (Loss) lets a walk go on past it.
type breakError struct {
	seq uint64
	msg string
	// restorable: a genuine version of the block is still stored (under a delete marker or a
	// newer version, in a versioned bucket): restoring it mends the chain.
	restorable bool
}

func (e *breakError) Error() string        { return ErrBroken.Error() + ": " + e.msg }
func (e *breakError) Is(target error) bool { return target == ErrBroken }

func brokenAt(seq uint64, format string, args ...any) error {
	return &breakError{seq: seq, msg: fmt.Sprintf(format, args...)}
}

// brokenError is a chain that is not intact for a reason no loss at one block bridges: a cut
// or replaced end, a stray object, a stored loss that fails its check.
type brokenError struct{ msg string }

func (e *brokenError) Error() string        { return ErrBroken.Error() + ": " + e.msg }
func (e *brokenError) Is(target error) bool { return target == ErrBroken }

func broken(format string, args ...any) error { return &brokenError{msg: fmt.Sprintf(format, args...)} }

// Problem says what is wrong with a chain that is not intact, for its reader (block numbers
// only, never an event's content); "" for any other error.
func Problem(err error) string {
	var at *breakError
	if errors.As(err, &at) {
		return at.msg
	}
	var other *brokenError
	if errors.As(err, &other) {
		return other.msg
	}
	return ""
}

// PublicKeys returns a clinic's audit key's public keys by version, and its latest version.
type PublicKeys func(ctx context.Context) (latest int, keys map[int]*ecdsa.PublicKey, err error)

// publicKeys reads clinic's audit public keys from Vault.
func (c *Chain) publicKeys(clinic string) PublicKeys {
	return func(ctx context.Context) (int, map[int]*ecdsa.PublicKey, error) {
		return c.signer.SigningKeys(ctx, SigningKeyName(clinic))
	}
}

// signatures returns a checker of block signatures over fresh verifyKeys (see there).
func signatures(publicKeys PublicKeys) verifyFunc {
	return (&verifyKeys{fetch: publicKeys}).verify
}

// verifyKeys checks signatures with a clinic's audit public keys, read once and again when a
// signature names a version it does not know (the key was rotated meanwhile): verifying a
// long chain costs no Vault call per block, and a chain's verifyKeys, kept per clinic, none
// per read of the chain either.
type verifyKeys struct {
	fetch PublicKeys

	mu     sync.Mutex
	latest int
	keys   map[int]*ecdsa.PublicKey
}

func (v *verifyKeys) verify(ctx context.Context, message []byte, signature string) (bool, error) {
	v.mu.Lock()
	keys, latest := v.keys, v.latest
	v.mu.Unlock()
	if keys == nil || !seal.VerifyWith(keys, message, signature) && newerVersion(signature, latest) {
		var err error
		if latest, keys, err = v.fetch(ctx); err != nil {
			return false, fmt.Errorf("audit: public keys: %w", err)
		}
		v.mu.Lock()
		v.keys, v.latest = keys, latest
		v.mu.Unlock()
	}
	return seal.VerifyWith(keys, message, signature), nil
}

// verifier is the chain's signature checker for clinic, its public keys kept between walks.
func (c *Chain) verifier(clinic string) verifyFunc {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.verifiers[clinic]
	if v == nil {
		v = &verifyKeys{fetch: c.publicKeys(clinic)}
		c.verifiers[clinic] = v
	}
	return v.verify
}

// newerVersion reports whether signature names a key version above latest.
func newerVersion(signature string, latest int) bool {
	var v int
	_, err := fmt.Sscanf(signature, "vault:v%d:", &v)
	return err == nil && v > latest
}

// readBlock reads block seq, checks its signature (with verify) and its place, and returns
// its bytes.
func readBlock(ctx context.Context, store BlockStore, clinic string, seq uint64, verify verifyFunc) (json.RawMessage, error) {
	body, err := store.ReadAuditBlock(ctx, clinic, seq)
	return checkBlock(ctx, clinic, seq, body, err, verify)
}

// checkBlock checks block seq as read (body, or the read's error): see readBlock.
func checkBlock(ctx context.Context, clinic string, seq uint64, body []byte, err error, verify verifyFunc) (json.RawMessage, error) {
	if errors.Is(err, object.ErrNotFound) {
		return nil, brokenAt(seq, "block %d is missing", seq)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read block %d: %w", seq, err)
	}
	raw, ok, err := open(ctx, blockKind, body, verify)
	switch {
	case err != nil:
		return nil, err
	case raw == nil:
		return nil, brokenAt(seq, "block %d is malformed", seq)
	case !ok:
		return nil, brokenAt(seq, "block %d is not signed by the clinic's audit key", seq)
	}
	var b block
	if err := json.Unmarshal(raw, &b); err != nil || b.Version != 1 || b.Clinic != clinic || b.Seq != seq {
		return nil, brokenAt(seq, "block %d is out of place", seq)
	}
	return raw, nil
}

// Head describes a verified chain: how many blocks and events it holds and the hash of its
// last block, and the acknowledged losses the walk went past. Kept outside the bucket, it
// lets a later Verify show that nothing was cut off.
type Head struct {
	Blocks uint64 `json:"blocks"`
	Events int    `json:"events"`
	Hash   string `json:"hash"` // hex SHA-256 of the last block's bytes; "" for an empty chain
	Losses []Loss `json:"losses,omitempty"`
}

// Verify walks clinic's chain from its first block: every block present, in place, signed
// by the clinic's audit key and naming its predecessor's hash. Given an earlier head (one a
// previous Verify returned, kept outside the bucket), it also checks that the chain still
// reaches it and that its last block is the same, which shows a cut or replaced end. The
// error, wrapping ErrBroken, names the first block that fails; the Head is what was verified
// before it. A block stranded by a write the storage answered with an error is stored again
// on the way (reinstate: nobody hid it), and logged; a block hidden or replaced otherwise is
// reported. Vault is asked only for the audit key's public keys.
func (c *Chain) Verify(ctx context.Context, clinic string, earlier *Head) (Head, error) {
	return walk{store: c.store, clinic: clinic, verify: signatures(c.publicKeys(clinic)), earlier: earlier, mend: true, logger: c.logger}.scan(ctx, Head{})
}

// Scan is Verify from a head an earlier Verify or Scan returned, calling each with every
// event of the blocks after it, in order: what reads the trail (the accounting of
// disclosures) reads only what it has not read before, and only verified events. The block
// that from ends with must still be listed, so a chain cut at or before it is reported, not
// taken for one that has not grown; a block replaced behind the reader is Verify's to find
// (the reader has its events already, and new blocks must link to the bytes it read). An
// error from each ends the scan; the Head is then the last block whose events were all given.
func (c *Chain) Scan(ctx context.Context, clinic string, from Head, each func(recordvault.AuditEvent) error) (Head, error) {
	return walk{store: c.store, clinic: clinic, verify: c.verifier(clinic), written: c.written(clinic), each: each, readStored: true, mend: true, logger: c.logger}.scan(ctx, from)
}

// written returns a lookup of the blocks of clinic this process stored lately.
func (c *Chain) written(clinic string) func(seq uint64) (writtenBlock, bool) {
	cc := c.chainOf(clinic)
	cc.mu.Lock()
	recent := slices.Clone(cc.recent)
	cc.mu.Unlock()
	return func(seq uint64) (writtenBlock, bool) {
		i, ok := slices.BinarySearchFunc(recent, seq, func(b writtenBlock, seq uint64) int { return cmp.Compare(b.seq, seq) })
		if !ok {
			return writtenBlock{}, false
		}
		return recent[i], true
	}
}

// Verify is Chain.Verify for a verifier outside the service: it reads the chain from store
// and checks it with publicKeys (say, read from a file of the key's data), needing no Vault.
// It only reads: a stranded block is reported as restorable.
func Verify(ctx context.Context, store BlockStore, clinic string, publicKeys PublicKeys, earlier *Head) (Head, error) {
	return walk{store: store, clinic: clinic, verify: signatures(publicKeys), earlier: earlier}.scan(ctx, Head{})
}

// walk is one walk over a clinic's chain: how it reads and checks the blocks and what it does
// with them.
type walk struct {
	store   BlockStore
	clinic  string
	verify  verifyFunc
	written func(uint64) (writtenBlock, bool)  // blocks taken without reading them (this process's own); nil for none
	earlier *Head                              // a head kept elsewhere that the chain must still reach; nil for none
	each    func(recordvault.AuditEvent) error // given every event read; nil for none
	// readStored: where a block is missing or fails its check but a genuine version of it is
	// still stored (a versioned bucket, see storage.Config.AuditRetention), take that version
	// and go on, since its signature and link vouch for it (readers), rather than report the
	// break as restorable (checks). Each block so read is logged to logger.
	readStored bool
	// mend: where a block is stranded (see reinstate), store it again and go on, as the
	// service's own walks do; an outside verifier only reads.
	mend   bool
	logger *slog.Logger
}

// scan walks the chain after from (see Verify and Scan).
func (w walk) scan(ctx context.Context, from Head) (Head, error) {
	h := from
	prev, err := hex.DecodeString(from.Hash)
	if err != nil || (from.Blocks == 0) != (from.Hash == "") || (from.Blocks > 0 && len(prev) != sha256.Size) {
		return h, errors.New("audit: scan from a head that is not one")
	}
	if from.Blocks == 0 {
		prev = make([]byte, sha256.Size)
	}
	// Reading on, the listing starts at the block the reader stopped at: it must still be
	// there. (Its bytes were checked when read; a block replaced behind a reader is Verify's
	// to find, and the next block's link to the bytes read shows a changed chain.)
	next := h.Blocks - min(h.Blocks, 1)
	for {
		seqs, err := w.store.ListAuditBlocks(ctx, w.clinic, next, listPage)
		if errors.Is(err, ErrStrayObject) {
			return h, broken("an object after block %d is not a block", h.Blocks)
		}
		if err != nil {
			return h, err
		}
		atEnd := len(seqs) < listPage
		if next < h.Blocks { // the block the reader stopped at
			if len(seqs) == 0 || seqs[0] != next {
				return h, broken("block %d, read before, is gone: the chain was cut", next)
			}
			seqs = seqs[1:]
		}
		if len(seqs) > 0 {
			if h, prev, err = w.blocks(ctx, seqs, h, prev); err != nil {
				var brk *breakError
				if !errors.As(err, &brk) || brk.seq != h.Blocks {
					return h, err
				}
				genuine, body, err := w.storedVersion(ctx, h.Blocks, prev)
				if err != nil {
					return h, err
				}
				reinstated := false
				if genuine != nil && w.mend {
					if reinstated, err = reinstate(ctx, w.store, w.logger, w.clinic, h.Blocks, body); err != nil {
						return h, err
					}
				}
				switch {
				case genuine != nil && !w.readStored && !reinstated:
					return h, &breakError{seq: h.Blocks, msg: brk.msg + "; its genuine version is still stored: restore it", restorable: true}
				case genuine != nil:
					if !reinstated {
						w.logger.Error("audit block hidden or replaced in the bucket; read its genuine version, which should be restored",
							"clinic", w.clinic, "seq", h.Blocks, "problem", brk.msg)
					}
					stored := w
					stored.written = storedBlock(h.Blocks, prev, genuine)
					if h, prev, err = stored.blocks(ctx, []uint64{h.Blocks}, h, prev); err != nil {
						return h, err
					}
				default:
					if h, prev, err = w.bridge(ctx, h, prev, brk); err != nil {
						return h, err
					}
				}
				next = h.Blocks
				continue
			}
		}
		if atEnd {
			if w.earlier != nil && h.Blocks < w.earlier.Blocks {
				return h, broken("the chain ends after %d blocks, the earlier head had %d: its end was cut off", h.Blocks, w.earlier.Blocks)
			}
			return h, nil
		}
		next = h.Blocks
	}
}

// listPage is how many block names a walk lists at once.
const listPage = 1000

// blocks walks the listed blocks seqs on from h, whose last block's hash is prev, and returns
// where it got to.
func (w walk) blocks(ctx context.Context, seqs []uint64, h Head, prev []byte) (Head, []byte, error) {
	own := func(seq uint64) (writtenBlock, bool) {
		if w.written == nil {
			return writtenBlock{}, false
		}
		return w.written(seq)
	}
	fetch := slices.DeleteFunc(slices.Clone(seqs), func(seq uint64) bool { _, ok := own(seq); return ok })
	next, stop := readAhead(ctx, w.store, w.clinic, fetch)
	defer stop()
	for _, seq := range seqs {
		if seq != h.Blocks {
			return h, prev, brokenAt(h.Blocks, "block %d is missing", h.Blocks)
		}
		var b block
		var sum [sha256.Size]byte
		if wb, ok := own(seq); ok {
			b.Prev, b.Events, sum = hex.EncodeToString(wb.prev[:]), wb.events, wb.hash
		} else {
			read := next()
			raw, err := checkBlock(ctx, w.clinic, seq, read.body, read.err, w.verify)
			if err != nil {
				return h, prev, err
			}
			if err := json.Unmarshal(raw, &b); err != nil {
				return h, prev, broken("block %d is malformed", seq)
			}
			sum = sha256.Sum256(raw)
		}
		if b.Prev != hex.EncodeToString(prev) {
			return h, prev, brokenAt(seq, "block %d does not follow block %d", seq, int64(seq)-1)
		}
		reached := Head{Blocks: seq + 1, Events: h.Events + len(b.Events), Hash: hex.EncodeToString(sum[:]), Losses: h.Losses}
		if w.earlier != nil && reached.Blocks == w.earlier.Blocks && reached.Hash != w.earlier.Hash {
			return h, prev, broken("block %d is not the one the earlier head names", seq)
		}
		if err := w.emit(b.Events); err != nil {
			return h, prev, err
		}
		prev, h = sum[:], reached
	}
	return h, prev, nil
}

// storedVersion returns the genuine block seq among its stored versions (newest first): one
// that passes its check and links to prev, the hash of the block before it, as its block's
// bytes and as stored (body); nil when there is none.
func (w walk) storedVersion(ctx context.Context, seq uint64, prev []byte) (raw json.RawMessage, body []byte, err error) {
	versions, err := w.store.ReadAuditBlockVersions(ctx, w.clinic, seq)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: read block %d's versions: %w", seq, err)
	}
	for _, body := range versions {
		raw, err := checkBlock(ctx, w.clinic, seq, body, nil, w.verify)
		if errors.Is(err, ErrBroken) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		var b block
		if json.Unmarshal(raw, &b) == nil && b.Prev == hex.EncodeToString(prev) {
			return raw, body, nil
		}
	}
	return nil, nil, nil
}

// Restorer is what Restore needs of object storage: what a walk reads, and putting a
// block's genuine version back on top of what hides it.
type Restorer interface {
	BlockStore
	RestoreAuditBlock(ctx context.Context, clinic string, seq uint64, genuine []byte) error
}

// Restore walks clinic's chain as Verify does and, at each break where the block's genuine
// version is still stored (hidden behind a delete marker or newer versions, in a versioned
// bucket, or stranded by a refused write), puts that version back and walks on. It returns
// the blocks restored, and the check at the end: the Head verified, and an error wrapping
// ErrBroken where a break remains that no stored version mends. For an operator with the
// right to delete object versions (recordvault-audit -restore): the service never deletes.
func Restore(ctx context.Context, store Restorer, clinic string, publicKeys PublicKeys) ([]uint64, Head, error) {
	w := walk{store: store, clinic: clinic, verify: signatures(publicKeys)}
	var restored []uint64
	for {
		h, err := w.scan(ctx, Head{})
		var brk *breakError
		if !errors.As(err, &brk) || !brk.restorable || slices.Contains(restored, brk.seq) {
			return restored, h, err
		}
		prev := make([]byte, sha256.Size)
		if h.Blocks > 0 {
			if prev, err = hex.DecodeString(h.Hash); err != nil {
				return restored, h, fmt.Errorf("audit: restore: %w", err)
			}
		}
		_, body, err := w.storedVersion(ctx, brk.seq, prev)
		if err != nil || body == nil {
			return restored, h, cmp.Or(err, error(brk))
		}
		if err := store.RestoreAuditBlock(ctx, clinic, brk.seq, body); err != nil {
			return restored, h, fmt.Errorf("audit: restore block %d: %w", brk.seq, err)
		}
		restored = append(restored, brk.seq)
	}
}

// storedBlock is a lookup, for walk.blocks, that knows block seq as raw: a genuine version
// found among the stored ones.
func storedBlock(seq uint64, prev []byte, raw json.RawMessage) func(uint64) (writtenBlock, bool) {
	var b block
	_ = json.Unmarshal(raw, &b) // checked by storedVersion
	wb := writtenBlock{seq: seq, hash: sha256.Sum256(raw), events: b.Events}
	copy(wb.prev[:], prev)
	return func(s uint64) (writtenBlock, bool) { return wb, s == seq }
}

// emit gives events to the walk's each, if there is one, until it fails.
func (w walk) emit(events []recordvault.AuditEvent) error {
	if w.each == nil {
		return nil
	}
	for _, e := range events {
		if err := w.each(e); err != nil {
			return err
		}
	}
	return nil
}

// readAheadBlocks is how many block reads a walk keeps in flight ahead of its checks: a
// walk's time is the storage's latency, not its throughput, and blocks are small.
const readAheadBlocks = 16

type blockRead struct {
	body []byte
	err  error
}

// readAhead reads the blocks seqs in order, each next() call returning the next, with up to
// readAheadBlocks reads in flight or waiting to be taken (so memory stays bounded). stop
// cancels the reads left and waits for them: nothing reads on after it returns.
func readAhead(ctx context.Context, store BlockStore, clinic string, seqs []uint64) (next func() blockRead, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	reads := make([]chan blockRead, len(seqs))
	for i := range reads {
		reads[i] = make(chan blockRead, 1)
	}
	slots := make(chan struct{}, readAheadBlocks)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i, seq := range seqs {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Go(func() {
				body, err := store.ReadAuditBlock(ctx, clinic, seq)
				reads[i] <- blockRead{body, err}
			})
		}
	})
	taken := 0
	next = func() blockRead {
		r := <-reads[taken]
		taken++
		<-slots
		return r
	}
	return next, func() { cancel(); wg.Wait() }
}
