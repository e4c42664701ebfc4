package crypto

import (
	"fmt"
	"io"
)

// A sealed field is: version (1 byte) ‖ nonce (12 bytes) ‖ AES-256-GCM ciphertext and tag,
// with the field's binding as associated data.
const (
	fieldNonceSize = 12
	fieldOverhead  = 1 + fieldNonceSize + 16
)

// SealField encrypts one field's plaintext for its place b, with a nonce from rand.
func (k *RecordKey) SealField(rand io.Reader, b Binding, plaintext []byte) ([]byte, error) {
	if err := b.valid(); err != nil {
		return nil, err
	}
	out := make([]byte, 1+fieldNonceSize, fieldOverhead+len(plaintext))
	out[0] = formatVersion
	if _, err := io.ReadFull(rand, out[1:]); err != nil {
		return nil, fmt.Errorf("recordvault/crypto: nonce: %w", err)
	}
	return k.fields.Seal(out, out[1:], plaintext, b.encode("field")), nil
}

// OpenField decrypts a sealed field for its place b. Any failure is ErrAuthentication.
func (k *RecordKey) OpenField(b Binding, sealed []byte) ([]byte, error) {
	if b.valid() != nil || len(sealed) < fieldOverhead || sealed[0] != formatVersion {
		return nil, ErrAuthentication
	}
	plaintext, err := k.fields.Open(nil, sealed[1:1+fieldNonceSize], sealed[1+fieldNonceSize:], b.encode("field"))
	if err != nil {
		return nil, ErrAuthentication
	}
	return plaintext, nil
}
