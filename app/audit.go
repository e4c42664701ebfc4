package app

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/audit/ledger"
)

// Trail verifies and reads a clinic's tamper-evident audit chain (*audit.Chain).
type Trail interface {
	Verify(ctx context.Context, clinic string, earlier *audit.Head) (audit.Head, error)
	Scan(ctx context.Context, clinic string, from audit.Head, each func(recordvault.AuditEvent) error) (audit.Head, error)
	LoadCheckpoint(ctx context.Context, clinic, name string) (audit.Checkpoint, error)
	SaveCheckpoint(ctx context.Context, clinic, name string, cp audit.Checkpoint) error
	AcknowledgeLoss(ctx context.Context, clinic string, first uint64, by, reference string) (audit.Loss, error)
}

var _ Trail = (*audit.Chain)(nil)

// TrailCheck is the answer to a verification of the clinic's audit trail.
type TrailCheck struct {
	Intact bool `json:"intact"`
	// Verified is what was verified: the whole chain when Intact, else everything before the
	// first break. Kept outside recordvault, it lets a later check show that nothing was cut
	// off the end.
	Verified audit.Head `json:"verified"`
	Problem  string     `json:"problem,omitempty"` // the first break, by block number
}

var errNoTrail = recordvault.Errorf(recordvault.EUNAVAILABLE, "this deployment keeps no tamper-evident audit trail")

// VerifyAuditTrail walks the caller's clinic's audit chain, for its admins (the privacy
// officer), and, given the head an earlier check returned, checks that the chain still
// reaches it unchanged. The check itself is recorded first.
func (s *Service) VerifyAuditTrail(ctx context.Context, c access.Caller, earlier *audit.Head) (*TrailCheck, error) {
	d := access.Decide(c, access.ManageClinic, access.Target{Clinic: c.Clinic})
	if err := s.decide(ctx, c, "verify_audit_trail", "", "", d); err != nil {
		return nil, err
	}
	if s.trail == nil {
		return nil, errNoTrail
	}
	return TrailCheckOf(s.trail.Verify(ctx, c.Clinic, earlier))
}

// TrailCheckOf is the answer for a verification's result: a broken chain is an answer, with
// its problem; any other error stays an error.
func TrailCheckOf(head audit.Head, err error) (*TrailCheck, error) {
	if errors.Is(err, audit.ErrBroken) {
		return &TrailCheck{Verified: head, Problem: audit.Problem(err)}, nil
	}
	if err != nil {
		return nil, err
	}
	return &TrailCheck{Intact: true, Verified: head}, nil
}

// validIncidentReference is what an incident reference may be: a ticket number, never text a
// person typed about anyone.
var validIncidentReference = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

// AcknowledgeAuditLoss records, for clinic admins (the privacy officer), that the blocks of
// the clinic's audit trail from block first on are lost for good (restoring them from
// backups failed): readers then go on past the break, and the accounting of disclosures says
// which period it may be missing (audit.Loss). Only the first break a verification reports
// can be acknowledged; reference is the clinic's own incident reference, if any. The
// acknowledgment is recorded in the trail.
func (s *Service) AcknowledgeAuditLoss(ctx context.Context, c access.Caller, first uint64, reference string) (*audit.Loss, error) {
	if reference != "" && !validIncidentReference.MatchString(reference) {
		return nil, recordvault.Errorf(recordvault.EINVALID, "reference: the clinic's incident reference, 1 to 64 letters, digits and . _ : -")
	}
	d := access.Decide(c, access.ManageClinic, access.Target{Clinic: c.Clinic})
	if err := s.decide(ctx, c, "acknowledge_audit_loss", "", "", d); err != nil {
		return nil, err
	}
	if s.trail == nil {
		return nil, errNoTrail
	}
	loss, err := s.trail.AcknowledgeLoss(ctx, c.Clinic, first, c.ID, reference)
	switch {
	case errors.Is(err, audit.ErrAcknowledged):
		return nil, recordvault.Errorf(recordvault.ECONFLICT, "the loss from block %d is acknowledged already", first)
	case errors.Is(err, audit.ErrRestorable):
		return nil, recordvault.Errorf(recordvault.ECONFLICT, "block %d is not lost: its genuine version is still stored in the bucket, and restoring it mends the trail", first)
	case errors.Is(err, audit.ErrNotAtBreak):
		return nil, recordvault.Errorf(recordvault.ECONFLICT, "the audit trail does not break at block %d: only the first break a verification reports can be acknowledged", first)
	case errors.Is(err, audit.ErrNothingToResume):
		return nil, recordvault.Errorf(recordvault.ECONFLICT, "no block after the break at block %d passes its check yet: the trail goes on after it with the next event recorded", first)
	case errors.Is(err, audit.ErrBroken):
		return nil, recordvault.Errorf(recordvault.ECONFLICT, "%s: it must be removed from storage before the loss can be acknowledged again", audit.Problem(err))
	case err != nil:
		return nil, err
	}
	rule := fmt.Sprintf("audit block %d does not follow the block before it, which was replaced: acknowledged; the trail goes on from it", loss.First)
	if loss.Resume > loss.First {
		rule = fmt.Sprintf("audit blocks %d to %d acknowledged as lost; the trail goes on from block %d", loss.First, loss.Resume-1, loss.Resume)
	}
	if err := s.recordStep(ctx, c, recordvault.AuditEvent{Action: "audit_loss_acknowledged", Rule: rule}); err != nil {
		return nil, err
	}
	return &loss, nil
}

// lossClockSlack widens a lost period for the clocks of the replicas that recorded its
// events, and for events that joined a block while the one before it was being sealed.
const lossClockSlack = time.Minute

// during reports whether t falls in the period whose events loss took with it.
func during(loss audit.Loss, t time.Time) bool {
	return !t.Before(loss.From.Add(-lossClockSlack)) && !t.After(loss.Until.Add(lossClockSlack))
}

// errTrailBroken answers a request that needs the trail when the trail fails its check.
var errTrailBroken = recordvault.Errorf(recordvault.EINTERNAL, "the audit trail failed its integrity check")

// readLedger brings the ledger of who's clinic up to the trail's end and calls view with it.
// A trail that fails its check is audited as an integrity failure, who being the caller
// whose request met it, and answered as errTrailBroken.
func (s *Service) readLedger(ctx context.Context, who recordvault.AuditEvent, view func(*ledger.Clinic)) error {
	if s.trail == nil {
		return errNoTrail
	}
	err := s.ledger.Read(ctx, s.trail, who.Clinic, view)
	if !errors.Is(err, audit.ErrBroken) {
		return err
	}
	return s.integrityFailure(ctx, who, "the audit trail failed its integrity check", fmt.Errorf("%w: %w", errTrailBroken, err))
}
