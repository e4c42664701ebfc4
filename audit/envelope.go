package audit

import (
	"context"
	"encoding/json"
	"fmt"
)

// What a clinic's audit key signs (blocks, checkpoints, acknowledged losses) is stored as an
// envelope of exactly two members: the statement's bytes, kept as written, under its kind's
// name, and "sig", Transit's signature over the kind's label and those bytes, so that a
// statement of one kind never passes for another (docs/FORMAT.md).
type kind struct{ member, label string }

var (
	blockKind      = kind{"block", "recordvault/audit-block/v1\x00"}
	checkpointKind = kind{"checkpoint", "recordvault/audit-checkpoint/v1\x00"}
	lossKind       = kind{"loss", "recordvault/audit-loss/v1\x00"}
)

// signed is what the audit key signs for raw, a statement of kind k.
func (k kind) signed(raw []byte) []byte { return append([]byte(k.label), raw...) }

// verifyFunc checks a signature of the clinic's audit key over message.
type verifyFunc func(ctx context.Context, message []byte, signature string) (bool, error)

// seal signs raw, a statement of kind k about clinic, and returns its envelope.
func (c *Chain) seal(ctx context.Context, clinic string, k kind, raw []byte) ([]byte, error) {
	sig, err := c.signer.Sign(ctx, SigningKeyName(clinic), k.signed(raw))
	if err != nil {
		return nil, fmt.Errorf("audit: sign %s: %w", k.member, err)
	}
	body, err := json.Marshal(map[string]any{k.member: json.RawMessage(raw), "sig": sig})
	if err != nil {
		return nil, fmt.Errorf("audit: encode %s: %w", k.member, err)
	}
	return body, nil
}

// open returns the statement an envelope of kind k holds and whether its signature verifies;
// raw is nil when body is not such an envelope.
func open(ctx context.Context, k kind, body []byte, verify verifyFunc) (raw json.RawMessage, ok bool, err error) {
	var env map[string]json.RawMessage
	var sig string
	if json.Unmarshal(body, &env) != nil || len(env) != 2 || len(env[k.member]) == 0 || json.Unmarshal(env["sig"], &sig) != nil {
		return nil, false, nil
	}
	ok, err = verify(ctx, k.signed(env[k.member]), sig)
	if err != nil {
		return nil, false, fmt.Errorf("audit: verify %s: %w", k.member, err)
	}
	return env[k.member], ok, nil
}
