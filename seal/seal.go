// Package seal holds the envelope's key material and the Transit operations it rests on: a
// data key (plaintext and wrapped), a wrapped key with its derivation context, and the
// Keyring that makes, unwraps and rewraps them and computes MACs. Package vault implements the
// Keyring against Vault; records, clinic state and disclosures use it without importing any
// SDK. It does no I/O.
package seal

import (
	"context"
	"errors"
)

// DataKey is a fresh data key: its plaintext, to seal with and then destroy, and the same
// key wrapped by a Transit key under the record's context, to store.
type DataKey struct {
	Plaintext []byte
	Wrapped   string // "vault:vN:…", wrapped by the category key under the record's context
}

// WrappedKey is a stored data key with the derivation context it was wrapped under.
type WrappedKey struct {
	Wrapped string
	Context []byte
}

// ErrUnwrap is returned when Transit refuses to unwrap a data key: wrong key, wrong context,
// tampered ciphertext, or a key version below min_decryption_version. Transit's own message
// is kept in the chain for the log; callers show only this.
var ErrUnwrap = errors.New("seal: data key cannot be unwrapped")

// ErrKeyVersionRetired is returned when a data key is wrapped by a key version below the key's
// min_decryption_version: it was missed by a rewrap before the old versions were retired.
var ErrKeyVersionRetired = errors.New("seal: data key wrapped by a retired key version")

// Keyring is every key operation the envelope asks of Transit.
type Keyring interface {
	EnsureKey(ctx context.Context, name string) error
	NewDataKey(ctx context.Context, keyName string, keyContext []byte) (DataKey, error)
	UnwrapDataKeys(ctx context.Context, keyName string, keys []WrappedKey) ([][]byte, error)
	RewrapDataKeys(ctx context.Context, keyName string, keys []WrappedKey) ([]string, error)
	RotateKey(ctx context.Context, keyName string) (version int, err error)
	SetMinDecryptionVersion(ctx context.Context, keyName string, version int) error
	HMAC(ctx context.Context, keyName string, input []byte) ([]byte, error)
}
