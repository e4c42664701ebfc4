package clinic

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/seal"
	"github.com/recordvault/recordvault/transit"
)

// Access decisions read two objects of the bucket without opening any sealed field: a
// client's profile (care team, own account) and the clinic's roster (who is a licensed
// clinician). Both carry a tag: HMAC-SHA-256 over the object's digest (storage's
// Profile.Digest, Staff.Digest), computed by Transit under version 1 of the clinic's state
// key. Someone who can write the bucket but not use that key cannot put themselves on a
// care team, move a client's account link to another client, or license themselves.
//
// Checking a tag is one Vault call. The digests already checked (or tagged) by this process
// are remembered, a bounded set, so that deciding on an unchanged client costs no Vault
// call; a digest names exact content, so a changed object is always checked again.

// A tag cannot tell an object from an older genuine version of itself. Every stored profile
// and roster therefore carries a revision (1 when created, one more at each change, covered
// by the tag), and a process remembers the highest revision it has written or read of each
// and refuses an earlier one: a bucket writer who puts back an older profile (a clinician
// taken off a care team, back on it) is refused by every process that has seen a later one.
// A process that has not (started since, or another replica made the change and this one
// never read it) cannot tell: docs/THREAT_MODEL.md.

// StateKeyName is the Transit key whose HMAC key tags a clinic's profiles and roster.
func StateKeyName(clinic string) string { return transit.Name(clinic, transit.State) }

// ErrTampered is the answer for a profile or roster whose tag does not match its content:
// it was changed by someone other than the service.
var ErrTampered = recordvault.Errorf(recordvault.EINTERNAL, "stored clinic state failed its integrity check")

// maxKnownStates bounds the remembered digests (32 bytes each).
const maxKnownStates = 1 << 14

// stateTags computes and checks tags, remembering what it has vouched for.
type stateTags struct {
	keys  seal.Keyring
	mu    sync.Mutex
	known map[[sha256.Size]byte]struct{}
}

func newStateTags(keys seal.Keyring) *stateTags {
	return &stateTags{keys: keys, known: map[[sha256.Size]byte]struct{}{}}
}

// tag returns the hex tag of digest d for clinic (one Vault call).
func (t *stateTags) tag(ctx context.Context, clinic string, d [sha256.Size]byte) (string, error) {
	mac, err := t.keys.HMAC(ctx, StateKeyName(clinic), d[:])
	if err != nil {
		return "", fmt.Errorf("clinic: tag state: %w", err)
	}
	t.remember(d)
	return hex.EncodeToString(mac), nil
}

// check returns nil when tag authenticates d for clinic, ErrTampered when it does not. No
// Vault call for a digest already vouched for.
func (t *stateTags) check(ctx context.Context, clinic string, d [sha256.Size]byte, tag string) error {
	t.mu.Lock()
	_, ok := t.known[d]
	t.mu.Unlock()
	if ok {
		return nil
	}
	want, err := hex.DecodeString(tag)
	if err != nil || len(want) != sha256.Size {
		return ErrTampered
	}
	mac, err := t.keys.HMAC(ctx, StateKeyName(clinic), d[:])
	if err != nil {
		return fmt.Errorf("clinic: check state tag: %w", err)
	}
	if !hmac.Equal(mac, want) {
		return ErrTampered
	}
	t.remember(d)
	return nil
}

func (t *stateTags) remember(d [sha256.Size]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.known) >= maxKnownStates {
		for k := range t.known { // forget one, any one: a miss costs one Vault call
			delete(t.known, k)
			break
		}
	}
	t.known[d] = struct{}{}
}

// RevisionLog keeps revisions where every process reads them (the audit trail), so that a
// process refuses a rollback it did not see happen: Revised is called after each change with
// the revision it made (client "" for the roster), and Recall before a clinic's state is read
// (at most every recallEvery), to learn (through Service.Witness) the revisions logged since.
type RevisionLog interface {
	Revised(ctx context.Context, clinic, client string, revision uint64) error
	Recall(ctx context.Context, clinic string) error
}

// UseRevisionLog makes the service log its revisions to log and recall them from it.
func (s *Service) UseRevisionLog(log RevisionLog) { s.revLog = log }

// Witness tells the service that revision of a client's profile (client "" for the
// clinic's roster) exists: it refuses an older one from now on.
func (s *Service) Witness(clinic, client string, revision uint64) {
	key := rosterRevisionKey(clinic)
	if client != "" {
		key = profileRevisionKey(clinic, client)
	}
	s.revs.wrote(key, revision)
}

// revised logs a change's revision, once it is stored, and remembers it.
func (s *Service) revised(ctx context.Context, clinic, client string, revision uint64) error {
	s.Witness(clinic, client, revision)
	if s.revLog == nil {
		return nil
	}
	if err := s.revLog.Revised(ctx, clinic, client, revision); err != nil {
		return fmt.Errorf("clinic: log revision: %w", err)
	}
	return nil
}

// recallEvery is how stale a process's knowledge of another replica's revisions may be when
// it reads clinic state: a change made elsewhere and rolled back in the bucket within this
// time can pass here until the next recall. A recall reads the trail on (a listing and the
// new blocks, about 5 ms), so under load it costs a fraction of a percent.
const recallEvery = time.Second

// recall learns the clinic's logged revisions, unless it did so less than recallEvery ago
// (again at once after a failure).
func (s *Service) recall(ctx context.Context, clinic string) error {
	if s.revLog == nil {
		return nil
	}
	now := s.now()
	s.recallMu.Lock()
	last, done := s.recalled[clinic]
	s.recallMu.Unlock()
	if done && now.Sub(last) < recallEvery && !now.Before(last) {
		return nil
	}
	if err := s.revLog.Recall(ctx, clinic); err != nil {
		return fmt.Errorf("clinic: recall revisions: %w", err)
	}
	s.recallMu.Lock()
	s.recalled[clinic] = now
	s.recallMu.Unlock()
	return nil
}

// A profile or roster this process has checked (tag and revision) or stored is kept, so that
// deciding on it again costs no GET. A kept copy is used only while both hold:
//   - its revision is the latest this process knows of (its own changes, and other
//     replicas' as the revision log tells them, recalled at most recallEvery before), so a
//     change logged elsewhere is seen here within recallEvery, as a read of the bucket would
//     be checked against it;
//   - it was read or stored less than KeptFor ago, which bounds the one change the log can
//     miss: a replica that stored a profile and failed before logging its revision.
//
// Using a kept copy is safe against a bucket writer: it is what was checked, so nothing they
// put in the bucket meanwhile (an edit, an older version put back) decides anything here. It
// is found, and audited, on the first read after the copy expires.
const KeptFor = 5 * time.Second

// maxKept bounds the kept profiles and rosters (a few KB each; a roster up to 4 MB, one a
// clinic).
const maxKept = 1 << 12

// kept holds the checked state, by revision key.
type kept struct {
	mu      sync.Mutex
	entries map[string]keptState
}

type keptState struct {
	revision uint64
	etag     string
	profile  *Profile // a profile's, or
	staff    *Staff   // a roster's; never changed once kept
	at       time.Time
}

// get returns the copy kept under key if it is at revision latest and younger than KeptFor.
func (k *kept) get(key string, latest uint64, now time.Time) (keptState, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.entries[key]
	if !ok || e.revision != latest || now.Before(e.at) || now.Sub(e.at) >= KeptFor {
		return keptState{}, false
	}
	return e, true
}

// keep stores e under key, unless a later revision is kept there already.
func (k *kept) keep(key string, e keptState) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if old, ok := k.entries[key]; ok && old.revision > e.revision {
		return
	}
	if _, ok := k.entries[key]; !ok && len(k.entries) >= maxKept {
		for other := range k.entries { // forget one, any one: a miss costs one GET
			delete(k.entries, other)
			break
		}
	}
	k.entries[key] = e
}

// maxRevisions bounds the remembered revisions (a forgotten one loses its check until the
// object is read again).
const maxRevisions = 1 << 20

// revisions remembers the highest revision seen of each object of clinic state.
type revisions struct {
	mu   sync.Mutex
	seen map[string]uint64
}

// see records revision rev of the object named key as read, and reports ErrTampered when a
// later revision has been seen.
func (r *revisions) see(key string, rev uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rev < r.seen[key] {
		return ErrTampered
	}
	r.remember(key, rev)
	return nil
}

// latest is the highest revision of the object named key this process knows of.
func (r *revisions) latest(key string) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[key]
}

// wrote records that revision rev of the object named key exists (this process stored it,
// or the revision log says so).
func (r *revisions) wrote(key string, rev uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.remember(key, max(rev, r.seen[key]))
}

func (r *revisions) remember(key string, rev uint64) {
	if _, ok := r.seen[key]; !ok && len(r.seen) >= maxRevisions {
		for k := range r.seen { // forget one, any one
			delete(r.seen, k)
			break
		}
	}
	r.seen[key] = rev
}

func profileRevisionKey(clinic, client string) string { return "profile/" + clinic + "/" + client }
func rosterRevisionKey(clinic string) string          { return "roster/" + clinic }
