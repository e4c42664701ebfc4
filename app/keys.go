package app

import (
	"context"
	"fmt"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
)

// Key lifecycle, for clinic admins: rotate a category key (a new version wraps new data
// keys), rewrap every data key it wraps under the new version (a page of the clinic's
// documents at a time, resumable from the cursor each page returns), then retire the old
// versions (Vault refuses to unwrap with them: a record a rewrap missed can no longer be
// read, and says so). Each step is audited with what it did. Psychotherapy notes, progress
// notes, evaluations and SUD records each have their own key, rotated on its own.

// KeyView is a category key after a step of its lifecycle.
type KeyView struct {
	Category recordvault.Category `json:"category"`
	Version  int                  `json:"version,omitempty"` // the version now wrapping new data keys (rotate)
}

// RewrapView is one page of a rewrap.
type RewrapView struct {
	Category  recordvault.Category `json:"category"`
	Rewrapped int                  `json:"rewrapped"`      // data keys rewrapped in this page
	Next      string               `json:"next,omitempty"` // the cursor to go on from
	Done      bool                 `json:"done"`           // every document has been visited
}

// MaxRewrapPage bounds the documents one rewrap page visits.
const MaxRewrapPage = 1000

func (s *Service) keyStep(ctx context.Context, c access.Caller, event string, category recordvault.Category) error {
	if !category.Valid() {
		return recordvault.Errorf(recordvault.EINVALID, "category: one of the record categories")
	}
	return s.decide(ctx, c, event, "", "", access.Decide(c, access.ManageClinic, access.Target{Clinic: c.Clinic}))
}

// RotateKey adds a new version to the clinic's key of category.
func (s *Service) RotateKey(ctx context.Context, c access.Caller, category recordvault.Category) (*KeyView, error) {
	if err := s.keyStep(ctx, c, "rotate_key", category); err != nil {
		return nil, err
	}
	v, err := s.records.RotateKey(ctx, c.Clinic, category)
	if err != nil {
		return nil, err
	}
	if err := s.recordStep(ctx, c, recordvault.AuditEvent{Action: "key_rotated", Rule: fmt.Sprintf("%s key: version %d wraps new data keys", category, v)}); err != nil {
		return nil, err
	}
	return &KeyView{Category: category, Version: v}, nil
}

// RewrapKeys rewraps the data keys of category among up to limit of the clinic's documents
// after the cursor after, under the key's newest version.
func (s *Service) RewrapKeys(ctx context.Context, c access.Caller, category recordvault.Category, after string, limit int) (*RewrapView, error) {
	if limit <= 0 || limit > MaxRewrapPage {
		return nil, recordvault.Errorf(recordvault.EINVALID, "limit: 1 to %d documents", MaxRewrapPage)
	}
	if err := s.keyStep(ctx, c, "rewrap_keys", category); err != nil {
		return nil, err
	}
	n, next, err := s.records.RewrapPage(ctx, c.Clinic, category, after, limit)
	if err != nil {
		return nil, err
	}
	if err := s.recordStep(ctx, c, recordvault.AuditEvent{Action: "keys_rewrapped", Rule: fmt.Sprintf("%s key: %d data keys rewrapped", category, n)}); err != nil {
		return nil, err
	}
	return &RewrapView{Category: category, Rewrapped: n, Next: next, Done: next == ""}, nil
}

// RetireKeyVersions makes Vault refuse every data key of category wrapped by a version of the
// clinic's key below minVersion: the step after a rotation and a complete rewrap.
func (s *Service) RetireKeyVersions(ctx context.Context, c access.Caller, category recordvault.Category, minVersion int) (*KeyView, error) {
	if minVersion < 2 {
		return nil, recordvault.Errorf(recordvault.EINVALID, "min_version: 2 or more (the versions below it are retired)")
	}
	if err := s.keyStep(ctx, c, "retire_key_versions", category); err != nil {
		return nil, err
	}
	if err := s.records.RetireKeyVersions(ctx, c.Clinic, category, minVersion); err != nil {
		return nil, err
	}
	if err := s.recordStep(ctx, c, recordvault.AuditEvent{Action: "key_versions_retired", Rule: fmt.Sprintf("%s key: versions below %d retired", category, minVersion)}); err != nil {
		return nil, err
	}
	return &KeyView{Category: category, Version: minVersion}, nil
}
