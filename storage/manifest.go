package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/recordvault/recordvault"
)

// Manifest is the one small object that describes a record: its ids, its category, the
// Transit key and the wrapped data key, its sealed fields and its attachments. It holds no
// plaintext: field values are ciphertexts (crypto.SealField), names are fixed schema names.
type Manifest struct {
	Version    int               `json:"v"`
	Clinic     string            `json:"clinic"`
	Client     string            `json:"client"`
	Record     string            `json:"record"`
	Category   string            `json:"category"`
	TransitKey string            `json:"transit_key"`
	WrappedKey string            `json:"wrapped_key"`
	Fields     map[string][]byte `json:"fields"`
	Blobs      []Blob            `json:"blobs,omitempty"`
}

// Blob describes one attachment of a record, stored as its own object.
type Blob struct {
	ID            string `json:"id"`
	Size          int64  `json:"size"`           // plaintext bytes
	EncryptedSize int64  `json:"encrypted_size"` // the object's bytes
}

const (
	manifestVersion = 1
	// MaxManifestSize bounds what ParseManifest reads: a manifest holds fields, not documents.
	MaxManifestSize = 4 << 20
	maxFields       = 64
	maxBlobs        = 64
)

var (
	validName   = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,127}$`) // categories, key names, fields
	errManifest = errors.New("storage: invalid manifest")
)

// ParseManifest decodes and checks a manifest: known fields only, version 1, every id in the
// alphabet of object keys, sizes consistent. It reads at most MaxManifestSize bytes.
func ParseManifest(r io.Reader) (*Manifest, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("storage: read manifest: %w", err)
	}
	if len(b) > MaxManifestSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", errManifest, MaxManifestSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %w", errManifest, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", errManifest)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	// One form for "none", so that a parsed manifest marshals back to what it means.
	if len(m.Blobs) == 0 {
		m.Blobs = nil
	}
	if m.Fields == nil {
		m.Fields = map[string][]byte{}
	}
	return &m, nil
}

func (m *Manifest) check() error {
	if m.Version != manifestVersion {
		return fmt.Errorf("%w: version %d", errManifest, m.Version)
	}
	for _, id := range []string{m.Clinic, m.Client, m.Record} {
		if !recordvault.ValidID(id) {
			return fmt.Errorf("%w: malformed id", errManifest)
		}
	}
	if !validName.MatchString(m.Category) || !validName.MatchString(m.TransitKey) {
		return fmt.Errorf("%w: malformed category or key name", errManifest)
	}
	if m.WrappedKey == "" || len(m.Fields) > maxFields || len(m.Blobs) > maxBlobs {
		return fmt.Errorf("%w: missing key, or too many fields or blobs", errManifest)
	}
	for name := range m.Fields {
		if !validName.MatchString(name) {
			return fmt.Errorf("%w: malformed field name", errManifest)
		}
	}
	for _, b := range m.Blobs {
		if !recordvault.ValidID(b.ID) || b.Size < 0 || b.EncryptedSize <= b.Size {
			return fmt.Errorf("%w: malformed blob", errManifest)
		}
	}
	return nil
}

// marshal encodes a manifest after checking it, so that nothing unparseable is ever stored.
func (m *Manifest) marshal() ([]byte, error) {
	m.Version = manifestVersion
	if err := m.check(); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}
