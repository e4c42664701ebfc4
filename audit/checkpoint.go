package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/recordvault/recordvault/storage/object"
)

// A Checkpoint is what a reader of a clinic's chain keeps of the events up to a head (its
// own summary, say the disclosures they record), stored in the bucket and signed by the
// clinic's audit key, so that a new process resumes reading the chain at that head instead
// of at its first block. A bucket writer cannot forge one; putting back an older one only
// makes the reader read more; a deleted or failing one makes it read from the start.
type Checkpoint struct {
	Head  Head            `json:"head"`
	State json.RawMessage `json:"state"`
}

type checkpointBody struct {
	Version int    `json:"v"`
	Clinic  string `json:"clinic"`
	Name    string `json:"name"`
	Checkpoint
}

// ErrNoCheckpoint is returned by LoadCheckpoint when there is no checkpoint to resume from.
var ErrNoCheckpoint = errors.New("audit: no checkpoint")

// LoadCheckpoint returns clinic's checkpoint called name. ErrNoCheckpoint when none is
// stored or the stored one fails its check (logged as an error: someone other than the
// service wrote it); the reader then starts from the chain's first block.
func (c *Chain) LoadCheckpoint(ctx context.Context, clinic, name string) (Checkpoint, error) {
	cp, _, err := c.readCheckpoint(ctx, clinic, name)
	return cp, err
}

// SaveCheckpoint stores cp as clinic's checkpoint called name, unless the stored one is as
// far along the chain already. A checkpoint saved by another replica meanwhile wins.
func (c *Chain) SaveCheckpoint(ctx context.Context, clinic, name string, cp Checkpoint) error {
	stored, etag, err := c.readCheckpoint(ctx, clinic, name)
	if err == nil && stored.Head.Blocks >= cp.Head.Blocks {
		return nil
	}
	if err != nil && !errors.Is(err, ErrNoCheckpoint) {
		return err
	}
	raw, err := json.Marshal(checkpointBody{Version: 1, Clinic: clinic, Name: name, Checkpoint: cp})
	if err != nil {
		return fmt.Errorf("audit: encode checkpoint: %w", err)
	}
	body, err := c.seal(ctx, clinic, checkpointKind, raw)
	if err != nil {
		return err
	}
	err = c.store.PutAuditCheckpoint(ctx, clinic, name, body, etag)
	if errors.Is(err, object.ErrExists) || errors.Is(err, object.ErrChanged) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit: store checkpoint: %w", err)
	}
	return nil
}

// readCheckpoint reads and checks clinic's checkpoint called name; the ETag is that of the
// stored object, whether it passed its check or not, for replacing it.
func (c *Chain) readCheckpoint(ctx context.Context, clinic, name string) (Checkpoint, string, error) {
	body, etag, err := c.store.ReadAuditCheckpoint(ctx, clinic, name)
	if errors.Is(err, object.ErrNotFound) {
		return Checkpoint{}, "", ErrNoCheckpoint
	}
	if err != nil {
		return Checkpoint{}, "", fmt.Errorf("audit: read checkpoint: %w", err)
	}
	raw, ok, err := open(ctx, checkpointKind, body, c.verifier(clinic))
	if err != nil {
		return Checkpoint{}, "", err
	}
	var cp checkpointBody
	if !ok || json.Unmarshal(raw, &cp) != nil || cp.Version != 1 || cp.Clinic != clinic || cp.Name != name {
		c.logger.Error("audit checkpoint failed its check; reading the chain from its start", "clinic", clinic, "checkpoint", name)
		return Checkpoint{}, etag, ErrNoCheckpoint
	}
	return cp.Checkpoint, etag, nil
}
