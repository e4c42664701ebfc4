package records

import (
	"context"
	"errors"
	"fmt"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/crypto"
	"github.com/recordvault/recordvault/seal"
	"github.com/recordvault/recordvault/storage/object"
)

// rewrapBatch bounds one Transit rewrap call.
const rewrapBatch = 100

// Key lifecycle: a category key is rotated (a new version wraps new data keys), every data
// key it wraps is rewrapped under the new version (a page of the clinic's documents at a time,
// resumable from the cursor each page returns), and only then are the old versions retired
// (Transit refuses to unwrap with them). Only manifests are rewritten: a record's data key
// does not change, so its attachments stay as they are.

// RotateKey adds a new version to a clinic's category key and returns it: new data keys are
// wrapped by it from now on.
func (s *Service) RotateKey(ctx context.Context, clinic string, category recordvault.Category) (int, error) {
	v, err := s.keys.RotateKey(ctx, KeyName(clinic, category))
	if err != nil {
		return 0, fmt.Errorf("records: rotate: %w", err)
	}
	return v, nil
}

// RotateCategory rotates a clinic's category key and rewraps every data key it wraps, so that
// the old version can then be retired (RetireKeyVersions).
func (s *Service) RotateCategory(ctx context.Context, clinic string, category recordvault.Category) (rewrapped int, err error) {
	if _, err := s.RotateKey(ctx, clinic, category); err != nil {
		return 0, err
	}
	after := ""
	for {
		n, next, err := s.RewrapPage(ctx, clinic, category, after, rewrapBatch)
		rewrapped += n
		if err != nil || next == "" {
			return rewrapped, err
		}
		after = next
	}
}

type stored struct {
	m    *Manifest
	etag string
}

// RewrapPage rewraps, under the category key's newest version, the data keys of category
// among up to limit of a clinic's documents after the cursor after ("" from the start). It
// returns how many it rewrapped and the cursor to go on from ("" when every document has
// been visited): a rewrap stopped anywhere goes on from its last cursor.
func (s *Service) RewrapPage(ctx context.Context, clinic string, category recordvault.Category, after string, limit int) (int, string, error) {
	refs, next, err := s.store.ListClinicDocuments(ctx, clinic, after, limit)
	if err != nil {
		return 0, "", fmt.Errorf("records: rewrap: %w", err)
	}
	var pending []stored
	done := 0
	flush := func() error {
		if err := s.rewrapBatch(ctx, KeyName(clinic, category), pending); err != nil {
			return err
		}
		done += len(pending)
		pending = pending[:0]
		return nil
	}
	for _, ref := range refs {
		m, etag, err := s.store.ReadManifest(ctx, ref)
		if err != nil {
			return done, "", fmt.Errorf("records: rewrap: %w", err)
		}
		if m.Category != string(category) || RefOf(m) != ref {
			continue // another category's, or a record reached through a link: rewrapped at home
		}
		if pending = append(pending, stored{m, etag}); len(pending) == rewrapBatch {
			if err := flush(); err != nil {
				return done, "", err
			}
		}
	}
	if err := flush(); err != nil {
		return done, "", err
	}
	return done, next, nil
}

// rewrapBatch rewraps the batch's keys in one Transit call and replaces each manifest if it
// has not changed since it was read; one that has is rewrapped again on its own.
func (s *Service) rewrapBatch(ctx context.Context, keyName string, batch []stored) error {
	if len(batch) == 0 {
		return nil
	}
	keys := make([]seal.WrappedKey, len(batch))
	for i, b := range batch {
		keys[i] = seal.WrappedKey{Wrapped: b.m.WrappedKey, Context: crypto.DataKeyContext(b.m.Clinic, b.m.Category, b.m.Record)}
	}
	rewrapped, err := s.keys.RewrapDataKeys(ctx, keyName, keys)
	if err != nil {
		return fmt.Errorf("records: rewrap: %w", err)
	}
	for i, b := range batch {
		b.m.WrappedKey = rewrapped[i]
		_, err := s.store.ReplaceManifest(ctx, b.m, b.etag)
		if errors.Is(err, object.ErrChanged) {
			err = s.rewrapAgain(ctx, keyName, b.m)
		}
		if err != nil {
			return fmt.Errorf("records: rewrap: %w", err)
		}
	}
	return nil
}

// rewrapAgain rereads a manifest that changed under a rewrap and rewraps it alone, a few
// times at most.
func (s *Service) rewrapAgain(ctx context.Context, keyName string, m *Manifest) error {
	var err error
	for range 3 {
		var fresh *Manifest
		var etag string
		if fresh, etag, err = s.store.ReadManifest(ctx, RefOf(m)); err != nil {
			return err
		}
		var w []string
		if w, err = s.keys.RewrapDataKeys(ctx, keyName, []seal.WrappedKey{{Wrapped: fresh.WrappedKey,
			Context: crypto.DataKeyContext(fresh.Clinic, fresh.Category, fresh.Record)}}); err != nil {
			return err
		}
		fresh.WrappedKey = w[0]
		if _, err = s.store.ReplaceManifest(ctx, fresh, etag); !errors.Is(err, object.ErrChanged) {
			return err
		}
	}
	return err
}

// RetireKeyVersions makes Vault refuse every data key of a clinic's category wrapped by a key
// version below minVersion: the step after a rotation and a complete rewrap. A record that
// was missed can no longer be read, and says so (ErrKeyRetired).
func (s *Service) RetireKeyVersions(ctx context.Context, clinic string, category recordvault.Category, minVersion int) error {
	if err := s.keys.SetMinDecryptionVersion(ctx, KeyName(clinic, category), minVersion); err != nil {
		return fmt.Errorf("records: retire key versions: %w", err)
	}
	return nil
}
