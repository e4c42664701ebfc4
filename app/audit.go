package app

import (
	"context"
	"errors"
	"strings"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/audit"
)

// Trail verifies and reads a clinic's tamper-evident audit chain (*audit.Chain).
type Trail interface {
	Verify(ctx context.Context, clinic string, earlier *audit.Head) (audit.Head, error)
	Scan(ctx context.Context, clinic string, from audit.Head, each func(recordvault.AuditEvent) error) (audit.Head, error)
	LoadCheckpoint(ctx context.Context, clinic, name string) (audit.Checkpoint, error)
	SaveCheckpoint(ctx context.Context, clinic, name string, cp audit.Checkpoint) error
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
		// The message names block numbers only; drop the package prefix for the reader.
		return &TrailCheck{Verified: head, Problem: strings.TrimPrefix(err.Error(), audit.ErrBroken.Error()+": ")}, nil
	}
	if err != nil {
		return nil, err
	}
	return &TrailCheck{Intact: true, Verified: head}, nil
}
