package records

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/recordvault/recordvault/storage/object"
)

// Sweep is what a sweep of a clinic's attachment uploads found and did.
type Sweep struct {
	// Aborted: uploads begun before the cut-off whose writer died before its record named the
	// attachment (a replica killed mid-stream, or between the upload and the record's
	// update): what was sent is aborted, a completed object removed. Nothing reads either.
	Aborted int
	// Young: uploads begun after the cut-off, left alone (they may be in progress).
	Young int
}

// maxSweep bounds the uploads one sweep visits; the next sweep takes the rest.
const maxSweep = 1000

// SweepUnfinished cleans up after the clinic's attachment uploads begun more than olderThan
// ago whose writer died (see Upload). An attachment is named by its record only once its
// upload is complete, so one its record does not name is part of no record: removing it loses
// nothing. One its record names is kept; only its upload's record is removed.
func (s *Service) SweepUnfinished(ctx context.Context, clinic string, olderThan time.Duration) (Sweep, error) {
	var sw Sweep
	uploads, err := s.store.ListUploads(ctx, clinic, maxSweep)
	if err != nil {
		return sw, fmt.Errorf("records: sweep: %w", err)
	}
	cutoff := s.now().Add(-olderThan)
	for _, u := range uploads {
		if u.Began.After(cutoff) {
			sw.Young++
			continue
		}
		m, _, err := s.store.ReadManifest(ctx, u.Ref)
		switch {
		case errors.Is(err, object.ErrNotFound) || err == nil && !slices.ContainsFunc(m.Blobs, func(b Blob) bool { return b.ID == u.Blob }):
			if err := s.store.AbortUpload(ctx, clinic, u.Ref.Record, u.Blob); err != nil {
				return sw, fmt.Errorf("records: sweep: %w", err)
			}
			if err := s.store.DeleteBlob(ctx, clinic, u.Ref.Record, u.Blob); err != nil {
				return sw, fmt.Errorf("records: sweep: %w", err)
			}
			sw.Aborted++
		case err != nil:
			return sw, fmt.Errorf("records: sweep: %w", err)
		}
		if err := s.store.EndUpload(ctx, clinic, u.Blob); err != nil {
			return sw, fmt.Errorf("records: sweep: %w", err)
		}
	}
	return sw, nil
}
