package otp

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/storage/object"
)

// State is the state of a one-time code sent to a download token's recipient, stored at
// c/<clinic>/o/<jti>: only the MAC of the code (computed in Vault) is kept, with its expiry,
// how often a code was sent for the token, how many wrong codes were tried, and whether it
// was used.
type State struct {
	Version  int       `json:"v"`
	Clinic   string    `json:"clinic"`
	JTI      string    `json:"jti"`
	MAC      string    `json:"mac"`
	Expires  time.Time `json:"expires"`
	Sends    int       `json:"sends"`
	Attempts int       `json:"attempts"`
	Used     bool      `json:"used"`
}

const maxStateSize = 4 << 10

var errState = errors.New("otp: invalid one-time code state")

func stateKey(clinic, jti string) string { return "c/" + clinic + "/o/" + jti }

// Bucket is Store over object storage.
type Bucket struct{ objects object.Store }

// NewBucket returns the codes' Store in objects.
func NewBucket(objects object.Store) *Bucket { return &Bucket{objects: objects} }

var _ Store = (*Bucket)(nil)

// WriteCode stores a code's state: created when etag is "" (object.ErrExists if there is
// one), else replacing the state whose ETag is etag (object.ErrChanged if another writer was
// first).
func (b *Bucket) WriteCode(ctx context.Context, c *State, etag string) (string, error) {
	c.Version = 1
	if !recordvault.ValidID(c.Clinic) || !recordvault.ValidID(c.JTI) || !recordvault.ValidDigest(c.MAC) {
		return "", errState
	}
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return object.Write(ctx, b.objects, stateKey(c.Clinic, c.JTI), body, etag)
}

// ReadCode reads the code state of a token, with its ETag; object.ErrNotFound when no code
// was sent.
func (b *Bucket) ReadCode(ctx context.Context, clinic, jti string) (*State, string, error) {
	if !recordvault.ValidID(clinic) || !recordvault.ValidID(jti) {
		return nil, "", errState
	}
	var c State
	etag, err := object.ReadJSON(ctx, b.objects, stateKey(clinic, jti), maxStateSize, &c)
	if errors.Is(err, object.ErrNotFound) || errors.Is(err, recordvault.ErrUnavailable) {
		return nil, "", err
	}
	if err != nil || c.Version != 1 || c.Clinic != clinic || c.JTI != jti {
		return nil, "", errState
	}
	return &c, etag, nil
}
