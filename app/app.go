// Package app is recordvault's application layer: each operation a caller asks for, with its
// access decision (package access), its audit event, and the work (packages clinic and
// records). The HTTP layer decodes and encodes around it; nothing here knows HTTP.
//
// Two rules hold for every operation:
//   - Fail closed: the decision is recorded by the Auditor before anything is returned or
//     stored; when it cannot be recorded the operation fails and nothing happens. The work
//     an allowed decision permits may run while it is recorded (GetRecord opens the record,
//     CreateRecord seals it), its result held back until the event is stored; a refusal
//     starts no work.
//   - No existence oracle: an unknown client or record and one the caller may not see are
//     answered with the same error (ENOTFOUND, "not found"), after the same storage reads
//     (the client's profile, then the record), so neither the answer nor the work behind it
//     tells a probe whether a person is a client or a record exists.
package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/audit/ledger"
	"github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/notify"
	"github.com/recordvault/recordvault/policy"
)

// Service runs the operations.
type Service struct {
	records      Records
	clinic       People
	disclosures  Disclosures
	tokens       Tokens
	codes        Codes
	notifier     notify.Notifier
	audit        recordvault.Auditor
	trail        Trail
	ledger       *ledger.Ledger // what the trail records of disclosures: accountings, ends, used tokens
	now          func() time.Time
	jurisdiction string
}

// Deps are what the Service works with.
type Deps struct {
	Records     Records
	Clinic      People
	Disclosures Disclosures
	Tokens      Tokens
	Codes       Codes           // one-time codes for recipients without a login
	Notifier    notify.Notifier // delivers them
	Audit       recordvault.Auditor
	Trail       Trail // the tamper-evident chain Audit records into, for verification and reading
	// CheckpointEvery is how many blocks of a clinic's trail are read between checkpoints of
	// what it records of disclosures; ledger.DefaultCheckpointEvery when 0.
	CheckpointEvery uint64
	Now             func() time.Time // the clock; time.Now when nil
	// Jurisdiction is the law the clinics practise under, a key of policy.Jurisdictions;
	// "US" (the federal rules alone) when empty.
	Jurisdiction string
}

// New returns a Service over deps.
func New(deps Deps) (*Service, error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Jurisdiction == "" {
		deps.Jurisdiction = "US"
	}
	if _, ok := policy.Jurisdictions[deps.Jurisdiction]; !ok {
		return nil, fmt.Errorf("app: unknown jurisdiction %q", deps.Jurisdiction)
	}
	s := &Service{records: deps.Records, clinic: deps.Clinic, disclosures: deps.Disclosures, tokens: deps.Tokens,
		codes: deps.Codes, notifier: deps.Notifier, audit: deps.Audit, trail: deps.Trail, ledger: ledger.New(deps.CheckpointEvery, nil),
		now: deps.Now, jurisdiction: deps.Jurisdiction}
	if deps.Clinic != nil && deps.Trail != nil {
		// Revisions of clinic state go into the trail, and come back from it to every process.
		s.ledger = ledger.New(deps.CheckpointEvery, deps.Clinic.Witness)
		deps.Clinic.UseRevisionLog(s)
	}
	return s, nil
}

var _ clinic.RevisionLog = (*Service)(nil)

// Revised records a revision of clinic state in the audit trail (clinic.RevisionLog).
func (s *Service) Revised(ctx context.Context, clinicID, client string, revision uint64) error {
	rule := "roster revised"
	if client != "" {
		rule = "client profile revised"
	}
	err := s.audit.Record(ctx, recordvault.AuditEvent{Time: s.now().UTC(), Actor: "recordvault", Clinic: clinicID, Action: "state_revised",
		Client: client, Revision: revision, Allowed: true, Rule: rule})
	if err != nil {
		return fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	return nil
}

// Recall reads the clinic's audit trail on, which passes its revisions of clinic state to
// clinic.Service (clinic.RevisionLog). A trail that fails its check (audited as such) gives
// the revisions before the break: access decisions go on, on what the process knows, while
// what reads the trail itself (downloads, accountings) stops until the chain is repaired.
func (s *Service) Recall(ctx context.Context, clinicID string) error {
	err := s.readLedger(ctx, recordvault.AuditEvent{Actor: "recordvault", Clinic: clinicID}, func(*ledger.Clinic) {})
	if errors.Is(err, errTrailBroken) {
		return nil
	}
	return err
}

var errAuditUnavailable = recordvault.Errorf(recordvault.EUNAVAILABLE, "the audit trail cannot record this request; nothing was done")

// decide records a decision as an audit event; the operation goes on only when the decision
// allowed it and the event was recorded. A refusal is answered as recordvault.ErrNotFound.
func (s *Service) decide(ctx context.Context, c access.Caller, action string, client, record string, d access.Decision) error {
	err := s.audit.Record(ctx, recordvault.AuditEvent{Time: s.now().UTC(), Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Action: action,
		Client: client, Record: record, Allowed: d.Allowed, Rule: d.Rule})
	if err != nil {
		return fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	if !d.Allowed {
		return recordvault.ErrNotFound
	}
	return nil
}

// decideWhile records an allowed decision while work, which it allows, runs: the caller
// waits for the longer of the two, not their sum. The audit's error comes first (the caller
// then returns nothing work produced), then work's.
func (s *Service) decideWhile(ctx context.Context, c access.Caller, action string, client, record string, d access.Decision, work func() error) error {
	done := make(chan error, 1)
	go func() { done <- work() }()
	err := s.decide(ctx, c, action, client, record, d)
	if workErr := <-done; err == nil {
		err = workErr
	}
	return err
}

// recordStep records e, a step of c's request that the audit trail's ledger reads (a draft
// opened, a request received, ...), allowed, before the change it names is made.
func (s *Service) recordStep(ctx context.Context, c access.Caller, e recordvault.AuditEvent) error {
	e.Time, e.Actor, e.ActorIsClient, e.Clinic, e.Allowed = s.now().UTC(), c.ID, isClientLogin(c), c.Clinic, true
	if err := s.audit.Record(ctx, e); err != nil {
		return fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	return nil
}

// abandonStep records that the change a step recorded before it (a request received) was not
// stored after all, so that the trail's ledger does not keep it open (an overdue request that
// never was, listed as missing from the bucket); failed is why, and is returned.
func (s *Service) abandonStep(ctx context.Context, c access.Caller, e recordvault.AuditEvent, failed error) error {
	if err := s.recordStep(ctx, c, e); err != nil {
		return errors.Join(failed, err)
	}
	return failed
}

// isClientLogin reports whether c acts as a client, through their own login.
func isClientLogin(c access.Caller) bool { return slices.Contains(c.Roles, recordvault.RoleClient) }

// refused is the decision for what does not exist: recorded like any refusal.
func refused(rule string) access.Decision { return access.Decision{Rule: rule} }

// loadClient reads a client's profile for an access decision; a missing client is nil.
func (s *Service) loadClient(ctx context.Context, c access.Caller, client string) (*clinic.Client, error) {
	cl, err := s.clinic.LoadClient(ctx, c.Clinic, client)
	if errors.Is(err, recordvault.ErrNotFound) {
		return nil, nil
	}
	return cl, s.auditTampering(ctx, c, client, err)
}

// auditTampering records in the audit trail that stored clinic state (a client's profile,
// or the roster when client is "") failed its integrity check while c's request read it,
// and returns err. Nothing is decided on such state: the request fails.
func (s *Service) auditTampering(ctx context.Context, c access.Caller, client string, err error) error {
	if errors.Is(err, clinic.ErrTampered) {
		rule := "client profile failed its integrity check"
		if client == "" {
			rule = "clinic roster failed its integrity check"
		}
		return s.integrityFailure(ctx, recordvault.AuditEvent{Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Client: client}, rule, err)
	}
	return err
}

// integrityFailure records in the audit trail that stored state failed its integrity check
// while who's request read it (rule says which), and returns err, the request's answer:
// nothing is decided on such state. When the event cannot be recorded, that is added to err.
func (s *Service) integrityFailure(ctx context.Context, who recordvault.AuditEvent, rule string, err error) error {
	who.Time, who.Action, who.Allowed, who.Rule = s.now().UTC(), "integrity_failure", false, rule
	if aerr := s.audit.Record(ctx, who); aerr != nil {
		return fmt.Errorf("%w (and the audit trail could not record it: %w)", err, aerr)
	}
	return err
}
