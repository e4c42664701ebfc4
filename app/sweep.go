package app

import (
	"context"
	"fmt"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
)

// SweepView is what a sweep of the clinic's unfinished attachment uploads did.
type SweepView struct {
	Aborted int `json:"aborted"` // uploads begun before the cut-off and never completed, aborted
	Young   int `json:"young"`   // unfinished uploads begun since, left alone (they may be in progress)
}

// MinSweepAge is the youngest unfinished upload a sweep may abort: anything younger may still
// be streaming.
const MinSweepAge = time.Minute

// SweepUnfinished aborts the clinic's attachment uploads begun more than olderThan ago and
// never completed, for its admins: what a replica killed mid-upload leaves behind. No record
// names an unfinished upload, so nothing is lost; the sweep and its counts are audited.
func (s *Service) SweepUnfinished(ctx context.Context, c access.Caller, olderThan time.Duration) (*SweepView, error) {
	if olderThan < MinSweepAge {
		return nil, recordvault.Errorf(recordvault.EINVALID, "older_than: %v at least (a younger upload may be in progress)", MinSweepAge)
	}
	if err := s.decide(ctx, c, "sweep_uploads", "", "", access.Decide(c, access.ManageClinic, access.Target{Clinic: c.Clinic})); err != nil {
		return nil, err
	}
	sw, err := s.records.SweepUnfinished(ctx, c.Clinic, olderThan)
	if err != nil {
		return nil, err
	}
	if err := s.recordStep(ctx, c, recordvault.AuditEvent{Action: "uploads_swept", Rule: fmt.Sprintf("%d unfinished attachment uploads aborted, %d younger than %v left", sw.Aborted, sw.Young, olderThan)}); err != nil {
		return nil, err
	}
	return &SweepView{Aborted: sw.Aborted, Young: sw.Young}, nil
}
