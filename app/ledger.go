package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/tokens"
)

// errTrailBroken answers a request that needs the trail when the trail fails its check.
var errTrailBroken = recordvault.Errorf(recordvault.EINTERNAL, "the audit trail failed its integrity check")

// readLedger brings the ledger of who's clinic up to the trail's end and calls view with it.
// A trail that fails its check is audited as an integrity failure, who being the caller
// whose request met it, and answered as errTrailBroken.
func (s *Service) readLedger(ctx context.Context, who recordvault.AuditEvent, view func(*clinicLedger)) error {
	if s.trail == nil {
		return errNoTrail
	}
	err := s.ledger.read(ctx, s.trail, who.Clinic, view)
	if !errors.Is(err, audit.ErrBroken) {
		return err
	}
	return s.integrityFailure(ctx, who, "the audit trail failed its integrity check", fmt.Errorf("%w: %w", errTrailBroken, err))
}

// ledger is what the audit trail records of disclosures, per clinic: accountable approvals
// and their downloads, for accountings; the releases ended, the authorizations revoked and
// the download tokens used up, so that a record rolled back in the bucket to an earlier
// version, or a token's used-up marker deleted, revives none of them; the records still
// drafts and their latest revisions, so that a signed one put back as a draft, or a draft
// put back as an earlier one, is found; and the amendment and access
// requests still open, whose deadlines the clinic must keep. Each read verifies the chain on
// from where the last one stopped (audit.Chain.Scan), so that a read costs a listing and the
// blocks other processes wrote since; a process starts from the clinic's last checkpoint
// (saved every `every` blocks read, signed by the audit key), not from the chain's first block.
type ledger struct {
	every uint64
	// witness passes on the revisions of clinic state read from the trail (clinic.Service's
	// Witness), so that a process refuses a profile or roster put back to an older revision.
	witness func(clinic, client string, revision uint64)

	mu      sync.Mutex
	clinics map[string]*clinicLedger
}

// ledgerCheckpoint names the ledger's checkpoint of each clinic's chain.
const ledgerCheckpoint = "disclosure-ledger"

// DefaultCheckpointEvery is how many blocks of audit trail the ledger reads between
// checkpoints when Deps does not say.
const DefaultCheckpointEvery = 1000

type clinicLedger struct {
	mu     sync.Mutex
	loaded bool // the checkpoint was looked for
	head   audit.Head
	saved  uint64     // the blocks the last checkpoint loaded or saved covers
	fresh  []revision // revisions read since they were last passed on
	ledgerState
}

// revision is a revision of clinic state the trail records (client "" for the roster).
type revision struct {
	client string
	n      uint64
}

// ledgerFormat is the version of ledgerState. A checkpoint of another version was made by a
// ledger that kept other things (and missed what this one keeps from earlier events), so it
// is not taken: the ledger reads the chain from its first block instead.
const ledgerFormat = 4

// ledgerState is what a checkpoint keeps.
type ledgerState struct {
	Format     int                    `json:"format"`
	Approvals  []approval             `json:"approvals"`   // in the trail's order
	Downloads  map[string][]time.Time `json:"downloads"`   // accounted downloads, by release
	Downloaded map[string]bool        `json:"downloaded"`  // every release downloaded at least once
	Ended      map[string]bool        `json:"ended"`       // releases revoked, or ended with an authorization
	Revoked    map[string]bool        `json:"revoked"`     // authorizations revoked
	Open       map[string]openRequest `json:"open"`        // amendment requests not yet decided, by id
	OpenAccess map[string]openRequest `json:"open_access"` // access requests not yet answered, by id
	Drafts     map[string]uint64      `json:"drafts"`      // records opened as drafts and not yet signed: their latest revision
	Revisions  map[string]uint64      `json:"revisions"`   // the latest revision of each client's profile; "" the roster's
	// Used are the download tokens used up, by id, with when: kept while such a token could
	// still be unexpired (tokens.MaxTTL after its use, and a minute for clocks).
	Used map[string]time.Time `json:"used"`
	// Codes counts, by token id, the one-time codes sent and refused, kept as long as Used.
	Codes  map[string]codeUse `json:"codes"`
	Latest time.Time          `json:"latest"` // the latest event's time
}

// usedTokenKept is how long after its use a token's id is kept.
const usedTokenKept = tokens.MaxTTL + time.Minute

// codeUse is what the trail records of one token's one-time codes.
type codeUse struct {
	First    time.Time `json:"first"` // the first code sent or refused
	Sends    int       `json:"sends"`
	Failures int       `json:"failures"`
}

// openRequest is an amendment or access request the trail records as open (its record is
// the amended record; an access request has none).
type openRequest struct {
	At     time.Time `json:"at"`
	Client string    `json:"client"`
	Record string    `json:"record,omitempty"`
}

func newLedgerState() ledgerState {
	return ledgerState{Format: ledgerFormat, Downloads: map[string][]time.Time{}, Downloaded: map[string]bool{}, Ended: map[string]bool{}, Revoked: map[string]bool{},
		Used: map[string]time.Time{}, Open: map[string]openRequest{}, OpenAccess: map[string]openRequest{}, Drafts: map[string]uint64{}, Codes: map[string]codeUse{}, Revisions: map[string]uint64{}}
}

// approval is an accountable disclosure as the trail records it.
type approval struct {
	At      time.Time `json:"at"`
	Release string    `json:"release"`
	Client  string    `json:"client"`
	Record  string    `json:"record"`
}

// read brings clinic's ledger up to the trail's end and calls view with it.
func (l *ledger) read(ctx context.Context, trail Trail, clinic string, view func(*clinicLedger)) error {
	l.mu.Lock()
	if l.clinics == nil {
		l.clinics = map[string]*clinicLedger{}
	}
	cl := l.clinics[clinic]
	if cl == nil {
		cl = &clinicLedger{}
		l.clinics[clinic] = cl
	}
	l.mu.Unlock()

	cl.mu.Lock()
	defer cl.mu.Unlock()
	if !cl.loaded {
		if err := cl.load(ctx, trail, clinic); err != nil {
			return err
		}
	}
	head, err := trail.Scan(ctx, clinic, cl.head, cl.add)
	cl.head = head // a failed block gave no events: reading goes on from the last whole one
	cl.forget()
	if l.witness != nil {
		for _, r := range cl.fresh {
			l.witness(clinic, r.client, r.n)
		}
	}
	cl.fresh = nil
	if err != nil {
		return err
	}
	if cl.head.Blocks-cl.saved >= l.every {
		state, err := json.Marshal(cl.ledgerState)
		if err != nil {
			return fmt.Errorf("app: encode ledger: %w", err)
		}
		if err := trail.SaveCheckpoint(ctx, clinic, ledgerCheckpoint, audit.Checkpoint{Head: cl.head, State: state}); err != nil {
			return err
		}
		cl.saved = cl.head.Blocks
	}
	view(cl)
	return nil
}

// load starts the ledger from clinic's checkpoint, or empty when there is none to take.
func (cl *clinicLedger) load(ctx context.Context, trail Trail, clinic string) error {
	cl.ledgerState = newLedgerState()
	cp, err := trail.LoadCheckpoint(ctx, clinic, ledgerCheckpoint)
	if errors.Is(err, audit.ErrNoCheckpoint) {
		cl.loaded = true
		return nil
	}
	if err != nil {
		return err
	}
	st := newLedgerState()
	st.Format = 0
	if json.Unmarshal(cp.State, &st) == nil && st.Format == ledgerFormat {
		cl.ledgerState, cl.head, cl.saved = st, cp.Head, cp.Head.Blocks
		for client, n := range st.Revisions {
			cl.fresh = append(cl.fresh, revision{client, n})
		}
	}
	cl.loaded = true
	return nil
}

// add takes in one event of the trail.
func (cl *clinicLedger) add(e recordvault.AuditEvent) error {
	if e.Time.After(cl.Latest) {
		cl.Latest = e.Time
	}
	if e.TokenID != "" && (e.Action == "send_code" && e.Allowed || e.Action == "download" && !e.Allowed && e.Rule == reasonWrongCode) {
		u := cl.Codes[e.TokenID]
		if u.First.IsZero() {
			u.First = e.Time
		}
		if e.Allowed {
			u.Sends++
		} else {
			u.Failures++
		}
		cl.Codes[e.TokenID] = u
	}
	if !e.Allowed {
		return nil
	}
	switch {
	case e.Action == "end_authorization" && e.Authorization != "":
		cl.Revoked[e.Authorization] = true
	case e.Action == "amendment_requested" && e.Amendment != "":
		cl.Open[e.Amendment] = openRequest{At: e.Time, Client: e.Client, Record: e.Record}
	case e.Action == "amendment_decided" || e.Action == "amendment_abandoned":
		delete(cl.Open, e.Amendment)
	case e.Action == "access_request_received" && e.AccessRequest != "":
		cl.OpenAccess[e.AccessRequest] = openRequest{At: e.Time, Client: e.Client}
	case e.Action == "access_request_answered" || e.Action == "access_request_abandoned":
		delete(cl.OpenAccess, e.AccessRequest)
	case e.Action == "state_revised" && e.Revision > cl.Revisions[e.Client]:
		cl.Revisions[e.Client] = e.Revision
		cl.fresh = append(cl.fresh, revision{e.Client, e.Revision})
	case e.Action == "draft_opened" && e.Record != "":
		cl.Drafts[e.Record] = 0
	case e.Action == "draft_revised" && e.Record != "":
		cl.Drafts[e.Record] = max(cl.Drafts[e.Record], e.Revision)
	case e.Action == "draft_signed":
		delete(cl.Drafts, e.Record)
	case e.Release == "":
	case e.Action == "end_release":
		cl.Ended[e.Release] = true
	case e.Action == "release_abandoned":
		cl.Approvals = slices.DeleteFunc(cl.Approvals, func(a approval) bool { return a.Release == e.Release })
	case e.Action == "download":
		cl.Downloaded[e.Release] = true
		if e.TokenID != "" {
			cl.Used[e.TokenID] = e.Time
		}
		if e.Accounted {
			cl.Downloads[e.Release] = append(cl.Downloads[e.Release], e.Time)
		}
	case e.Accounted:
		cl.Approvals = append(cl.Approvals, approval{At: e.Time, Release: e.Release, Client: e.Client, Record: e.Record})
	}
	return nil
}

// forget drops what no answer needs any more: used tokens that have expired whatever their
// lifetime, and disclosures older than any accounting reaches (with a day for clocks).
func (cl *clinicLedger) forget() {
	for id, at := range cl.Used {
		if cl.Latest.Sub(at) > usedTokenKept {
			delete(cl.Used, id)
		}
	}
	for id, u := range cl.Codes {
		if cl.Latest.Sub(u.First) > usedTokenKept {
			delete(cl.Codes, id)
		}
	}
	oldest := cl.Latest.AddDate(-AccountingYears, 0, -1)
	cl.Approvals = slices.DeleteFunc(cl.Approvals, func(a approval) bool {
		if a.At.Before(oldest) {
			delete(cl.Downloads, a.Release)
			return true
		}
		return false
	})
}
