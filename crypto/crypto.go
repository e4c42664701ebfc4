// Package crypto is recordvault's envelope cryptography: field encryption and a chunked
// streaming AEAD for attachments, both under a record's data key. It is pure: it works on byte
// slices, io.Reader and io.Writer, and does no network or disk I/O. docs/FORMAT.md is the
// specification; testdata/vectors.json holds vectors generated from fixed randomness.
//
// Every record has its own 256-bit data key, wrapped by Vault Transit (package vault). From it
// HKDF-SHA256 derives one subkey for the record's fields and, for each attachment, a key and a
// key-commitment value bound to a random salt and the attachment's place (clinic, category,
// record, name). Every ciphertext is bound to its place through associated data, so it cannot
// be moved to another field, record, category or clinic without failing to open.
//
// Any failure to authenticate, whatever its cause (a flipped bit, a truncated or reordered
// stream, a wrong key, a wrong place), is reported as the single error ErrAuthentication, and
// no plaintext of a failing unit is ever returned.
package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrAuthentication is the one error for any ciphertext that fails to open.
var ErrAuthentication = errors.New("recordvault/crypto: message authentication failed")

// DataKeySize is the size of a record's data key: AES-256.
const DataKeySize = 32

// formatVersion is bound into every derivation and every field's associated data.
const formatVersion = 1

// Binding names the place a ciphertext belongs to. It is authenticated, not encrypted, and
// holds random ids and fixed names only, never PHI.
type Binding struct {
	Clinic   string
	Category string
	Record   string
	Name     string // the field's name, or the attachment's id
}

// encode returns the unambiguous byte form of b for purpose: the format label and version,
// then each component with a two-byte big-endian length.
func (b Binding) encode(purpose string) []byte {
	out := fmt.Appendf(nil, "recordvault/v%d/%s", formatVersion, purpose)
	for _, s := range []string{b.Clinic, b.Category, b.Record, b.Name} {
		out = binary.BigEndian.AppendUint16(out, uint16(len(s)))
		out = append(out, s...)
	}
	return out
}

func (b Binding) valid() error {
	for _, s := range []string{b.Clinic, b.Category, b.Record, b.Name} {
		if s == "" || len(s) > 255 {
			return errors.New("recordvault/crypto: binding components must be 1 to 255 bytes")
		}
	}
	return nil
}

// RecordKey holds a record's data key and what is derived from it. Destroy zeroes the key.
type RecordKey struct {
	dataKey []byte
	fields  cipher.AEAD
}

// NewRecordKey takes ownership of dataKey (DataKeySize bytes): the caller must not use or
// zero it afterwards; Destroy does.
func NewRecordKey(dataKey []byte) (*RecordKey, error) {
	if len(dataKey) != DataKeySize {
		return nil, fmt.Errorf("recordvault/crypto: data key is %d bytes, want %d", len(dataKey), DataKeySize)
	}
	fieldKey, err := hkdf.Key(sha256.New, dataKey, nil, fmt.Sprintf("recordvault/v%d/field-key", formatVersion), 32)
	if err != nil {
		return nil, err
	}
	defer clear(fieldKey)
	aead, err := newGCM(fieldKey)
	if err != nil {
		return nil, err
	}
	return &RecordKey{dataKey: dataKey, fields: aead}, nil
}

// Destroy zeroes the data key. The AES key schedules derived from it live in the standard
// library's cipher values, which cannot be cleared; they become garbage with k.
func (k *RecordKey) Destroy() {
	clear(k.dataKey)
	k.dataKey, k.fields = nil, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// DataKeyContext is the Transit derivation context a record's data key is wrapped under: it
// names the clinic, category and record, so a wrapped key copied to another record, category
// or clinic cannot be unwrapped there.
func DataKeyContext(clinic, category, record string) []byte {
	return Binding{Clinic: clinic, Category: category, Record: record, Name: "data-key"}.encode("data-key")
}
