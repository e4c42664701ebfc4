// Package ledger reads the audit trail (package audit) for what it records of disclosures, per
// clinic, so that the signed trail, not the bucket's records, decides what a rollback cannot
// revive and what an accounting lists. app writes the events it reads.
package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/tokens"
)

// Ledger is what the audit trail records of disclosures, per clinic: accountable approvals
// and their downloads, for accountings; the releases ended, the authorizations revoked and
// the download tokens used up, so that a record rolled back in the bucket to an earlier
// version, or a token's used-up marker deleted, revives none of them; the records still
// drafts and their latest revisions, so that a signed one put back as a draft, or a draft
// put back as an earlier one, is found; and the amendment and access
// requests still open, whose deadlines the clinic must keep. Each read verifies the chain on
// from where the last one stopped (audit.Chain.Scan), so that a read costs a listing and the
// blocks other processes wrote since; a process starts from the clinic's last checkpoint
// (saved every `every` blocks read, signed by the audit key), not from the chain's first block.
type Ledger struct {
	every uint64
	// witness passes on the revisions of clinic state read from the trail (clinic.Service's
	// Witness), so that a process refuses a profile or roster put back to an older revision.
	witness func(clinic, client string, revision uint64)
	// arrivedHook, set by tests only, is called once a reader has noted which reads of the
	// trail began before it arrived.
	arrivedHook func()

	mu      sync.Mutex
	clinics map[string]*Clinic
}

// checkpointName names the ledger's checkpoint of each clinic's chain.
const checkpointName = "disclosure-ledger"

// DefaultCheckpointEvery is how many blocks of audit trail the ledger reads between
// checkpoints when New is given 0.
const DefaultCheckpointEvery = 1000

// Clinic is one clinic's ledger, read up to the head of its trail.
type Clinic struct {
	mu sync.Mutex
	// scans counts the reads of the trail begun; scanned is the number of the last one that
	// completed. A reader that finds a read completed which began after it arrived takes
	// that read's result instead of reading again (see Read).
	scans   atomic.Uint64
	scanned uint64
	loaded  bool // the checkpoint was looked for
	head    audit.Head
	saved   uint64     // the blocks the last checkpoint loaded or saved covers
	fresh   []revision // revisions read since they were last passed on
	State
}

// Head is the head of the trail the ledger has read, with the losses acknowledged on the way.
func (cl *Clinic) Head() audit.Head { return cl.head }

// revision is a revision of clinic state the trail records (client "" for the roster).
type revision struct {
	client string
	n      uint64
}

// ledgerFormat is the version of State. A checkpoint of another version was made by a
// ledger that kept other things (and missed what this one keeps from earlier events), so it
// is not taken: the ledger reads the chain from its first block instead.
const ledgerFormat = 6

// State is what the ledger knows, and what a checkpoint keeps.
type State struct {
	Format     int                    `json:"format"`
	Approvals  []Approval             `json:"approvals"`   // in the trail's order
	Downloads  map[string][]time.Time `json:"downloads"`   // accounted downloads, by release
	Downloaded map[string]bool        `json:"downloaded"`  // every release downloaded at least once
	Ended      map[string]bool        `json:"ended"`       // releases revoked, or ended with an authorization
	Revoked    map[string]bool        `json:"revoked"`     // authorizations revoked
	Open       map[string]OpenRequest `json:"open"`        // amendment requests not yet decided, by id
	OpenAccess map[string]OpenRequest `json:"open_access"` // access requests not yet answered, by id
	Drafts     map[string]uint64      `json:"drafts"`      // records opened as drafts and not yet signed: their latest revision
	Revisions  map[string]uint64      `json:"revisions"`   // the latest revision of each client's profile; "" the roster's
	// Used are the download tokens used up, by id, with when: kept while such a token could
	// still be unexpired (tokens.MaxTTL after its use, and a minute for clocks).
	Used map[string]time.Time `json:"used"`
	// Codes counts, by token id, the one-time codes sent and refused, kept as long as Used.
	Codes map[string]CodeUse `json:"codes"`
	// Waiting are the releases waiting for a resolution or a review, by id.
	Waiting map[string]Waiting `json:"waiting"`
	// Certified are the copies delivered, by their certification code
	// (recordvault.CertificationCode), kept as long as an accounting reaches.
	Certified map[string]Delivery `json:"certified"`
	Latest    time.Time           `json:"latest"` // the latest event's time
}

// ReasonWrongCode is the audited reason for a refused one-time code; the ledger counts these
// per token.
const ReasonWrongCode = "a wrong, expired, used or exhausted one-time code"

// AccountingYears is how far back an accounting reaches (164.528(a)(1)), and how long the
// ledger keeps a disclosure.
const AccountingYears = 6

// usedTokenKept is how long after its use a token's id is kept.
const usedTokenKept = tokens.MaxTTL + time.Minute

// CodeUse is what the trail records of one token's one-time codes.
type CodeUse struct {
	First    time.Time `json:"first"` // the first code sent or refused
	Sends    int       `json:"sends"`
	Failures int       `json:"failures"`
}

// OpenRequest is an amendment or access request the trail records as open (its record is
// the amended record; an access request has none).
type OpenRequest struct {
	At     time.Time `json:"at"`
	Client string    `json:"client"`
	Record string    `json:"record,omitempty"`
}

func newState() State {
	return State{Format: ledgerFormat, Downloads: map[string][]time.Time{}, Downloaded: map[string]bool{}, Ended: map[string]bool{}, Revoked: map[string]bool{},
		Used: map[string]time.Time{}, Open: map[string]OpenRequest{}, OpenAccess: map[string]OpenRequest{}, Drafts: map[string]uint64{}, Codes: map[string]CodeUse{}, Revisions: map[string]uint64{},
		Certified: map[string]Delivery{}, Waiting: map[string]Waiting{}}
}

// Approval is an accountable disclosure as the trail records it.
type Approval struct {
	At      time.Time `json:"at"`
	Release string    `json:"release"`
	Client  string    `json:"client"`
	Record  string    `json:"record"`
	// Participants are the clients the released document concerns, from the decision's
	// event; none for an event written before events named them.
	Participants []string `json:"participants,omitempty"`
}

// Waiting is a release waiting for a person: its resolution, or the review of its denial
// (recordvault.AwaitsResolution, AwaitsReview), since At; By is who decided it.
type Waiting struct {
	At     time.Time `json:"at"`
	Client string    `json:"client"`
	Record string    `json:"record"`
	Awaits string    `json:"awaits"`
	By     string    `json:"by"`
}

// Delivery is a copy delivered (a download token redeemed) as the trail records it.
type Delivery struct {
	At          time.Time `json:"at"`
	Release     string    `json:"release"`
	Client      string    `json:"client"`
	Record      string    `json:"record"`
	ContentHash string    `json:"content_hash"`
}

// Trail is what the ledger reads: the clinic's verified events on from a head, and its
// checkpoints.
type Trail interface {
	Scan(ctx context.Context, clinic string, from audit.Head, each func(recordvault.AuditEvent) error) (audit.Head, error)
	LoadCheckpoint(ctx context.Context, clinic, name string) (audit.Checkpoint, error)
	SaveCheckpoint(ctx context.Context, clinic, name string, cp audit.Checkpoint) error
}

var _ Trail = (*audit.Chain)(nil)

// New returns a ledger that saves a checkpoint every every blocks it reads
// (DefaultCheckpointEvery when 0) and passes each revision of clinic state it reads to
// witness (nil: to no one).
func New(every uint64, witness func(clinic, client string, revision uint64)) *Ledger {
	if every == 0 {
		every = DefaultCheckpointEvery
	}
	return &Ledger{every: every, witness: witness, clinics: map[string]*Clinic{}}
}

// Read brings clinic's ledger up to the trail's end and calls view with it.
func (l *Ledger) Read(ctx context.Context, trail Trail, clinic string, view func(*Clinic)) error {
	l.mu.Lock()
	cl := l.clinics[clinic]
	if cl == nil {
		cl = &Clinic{}
		l.clinics[clinic] = cl
	}
	l.mu.Unlock()

	arrived := cl.scans.Load()
	if l.arrivedHook != nil {
		l.arrivedHook()
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if !cl.loaded {
		if err := cl.load(ctx, trail, clinic); err != nil {
			return err
		}
	}
	// Reads coalesce: a read of the trail that began after this reader arrived saw every
	// event recorded before it arrived, which is all a reader may ask for, so its result is
	// taken as this reader's own. Under load one read then serves every reader that waited
	// for it, instead of each reading the trail again in turn.
	if cl.scanned <= arrived {
		if err := l.scan(ctx, trail, clinic, cl); err != nil {
			return err
		}
	}
	view(cl)
	return nil
}

// scan reads clinic's trail on from the ledger's head, and saves a checkpoint when enough
// blocks have been read since the last.
func (l *Ledger) scan(ctx context.Context, trail Trail, clinic string, cl *Clinic) error {
	n := cl.scans.Add(1)
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
	cl.scanned = n
	if cl.head.Blocks-cl.saved >= l.every {
		state, err := json.Marshal(cl.State)
		if err != nil {
			return fmt.Errorf("ledger: encode: %w", err)
		}
		if err := trail.SaveCheckpoint(ctx, clinic, checkpointName, audit.Checkpoint{Head: cl.head, State: state}); err != nil {
			return err
		}
		cl.saved = cl.head.Blocks
	}
	return nil
}

// load starts the ledger from clinic's checkpoint, or empty when there is none to take.
func (cl *Clinic) load(ctx context.Context, trail Trail, clinic string) error {
	cl.State = newState()
	cp, err := trail.LoadCheckpoint(ctx, clinic, checkpointName)
	if errors.Is(err, audit.ErrNoCheckpoint) {
		cl.loaded = true
		return nil
	}
	if err != nil {
		return err
	}
	st := newState()
	st.Format = 0
	if json.Unmarshal(cp.State, &st) == nil && st.Format == ledgerFormat {
		cl.State, cl.head, cl.saved = st, cp.Head, cp.Head.Blocks
		for client, n := range st.Revisions {
			cl.fresh = append(cl.fresh, revision{client, n})
		}
	}
	cl.loaded = true
	return nil
}

// add takes in one event of the trail.
func (cl *Clinic) add(e recordvault.AuditEvent) error {
	if e.Time.After(cl.Latest) {
		cl.Latest = e.Time
	}
	if e.TokenID != "" && (e.Action == "send_code" && e.Allowed || e.Action == "download" && !e.Allowed && e.Rule == ReasonWrongCode) {
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
	// A decision that leaves a release waiting is a refusal until then; its resolution or
	// review, whichever way it goes, ends the wait.
	switch {
	case e.Release == "":
	case e.Action == "release_decision" && e.Awaits != "":
		cl.Waiting[e.Release] = Waiting{At: e.Time, Client: e.Client, Record: e.Record, Awaits: e.Awaits, By: e.Actor}
	case e.Action == "resolve_release" || e.Action == "review_decision":
		delete(cl.Waiting, e.Release)
	}
	if !e.Allowed {
		return nil
	}
	switch {
	case e.Action == "end_authorization" && e.Authorization != "":
		cl.Revoked[e.Authorization] = true
	case e.Action == "amendment_requested" && e.Amendment != "":
		cl.Open[e.Amendment] = OpenRequest{At: e.Time, Client: e.Client, Record: e.Record}
	case e.Action == "amendment_decided" || e.Action == "amendment_abandoned":
		delete(cl.Open, e.Amendment)
	case e.Action == "access_request_received" && e.AccessRequest != "":
		cl.OpenAccess[e.AccessRequest] = OpenRequest{At: e.Time, Client: e.Client}
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
		delete(cl.Waiting, e.Release)
	case e.Action == "release_abandoned":
		cl.Approvals = slices.DeleteFunc(cl.Approvals, func(a Approval) bool { return a.Release == e.Release })
		delete(cl.Waiting, e.Release)

	case e.Action == "download":
		cl.Downloaded[e.Release] = true
		if e.TokenID != "" {
			cl.Used[e.TokenID] = e.Time
			cl.Certified[recordvault.CertificationCode(e.TokenID)] = Delivery{At: e.Time, Release: e.Release, Client: e.Client,
				Record: e.Record, ContentHash: e.ContentHash}
		}
		if e.Accounted {
			cl.Downloads[e.Release] = append(cl.Downloads[e.Release], e.Time)
		}
	case e.Accounted:
		cl.Approvals = append(cl.Approvals, Approval{At: e.Time, Release: e.Release, Client: e.Client, Record: e.Record,
			Participants: slices.Clone(e.Participants)})
	}
	return nil
}

// forget drops what no answer needs any more: used tokens that have expired whatever their
// lifetime, and disclosures older than any accounting reaches (with a day for clocks).
func (cl *Clinic) forget() {
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
	for code, d := range cl.Certified {
		if d.At.Before(oldest) {
			delete(cl.Certified, code)
		}
	}
	cl.Approvals = slices.DeleteFunc(cl.Approvals, func(a Approval) bool {
		if a.At.Before(oldest) {
			delete(cl.Downloads, a.Release)
			return true
		}
		return false
	})
}
