package records

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/storage/object"
)

// Manifest is the one small object that describes a stored document: a record, an addendum
// to one, or an amendment request about one. It holds its ids, kind, category, participants,
// author and status (what access decisions need before anything is decrypted), the Transit
// key and the wrapped data key, its sealed fields and its attachments. It holds no plaintext:
// field values are ciphertexts (crypto.SealField), names are fixed schema names, and Meta is
// a sealed copy of the descriptive fields, which the records package checks after unwrapping
// so that a manifest edited in the bucket cannot change who wrote or may read a document.
type Manifest struct {
	Version      int       `json:"v"`
	Clinic       string    `json:"clinic"`
	Record       string    `json:"record"`
	Kind         string    `json:"kind"`
	Parent       string    `json:"parent,omitempty"` // the record an addendum or amendment request belongs to
	Category     string    `json:"category"`
	Participants []string  `json:"participants"` // client ids
	Author       string    `json:"author"`       // the subject of the clinician (or client) who wrote it
	Status       string    `json:"status"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	// Revision counts the changes made to the document since it was created: the audit trail
	// records a draft's, so that an earlier draft put back is found.
	Revision   uint64            `json:"revision,omitempty"`
	TransitKey string            `json:"transit_key"`
	WrappedKey string            `json:"wrapped_key"`
	Meta       []byte            `json:"meta"`
	Fields     map[string][]byte `json:"fields"`
	Blobs      []Blob            `json:"blobs,omitempty"`
}

// Blob describes one attachment of a record, stored as its own object.
type Blob struct {
	ID            string `json:"id"`
	Size          int64  `json:"size"`           // plaintext bytes
	EncryptedSize int64  `json:"encrypted_size"` // the object's bytes
	MediaType     string `json:"media_type,omitempty"`
}

const (
	manifestVersion = 1
	// MaxManifestSize bounds what ParseManifest reads: a manifest holds fields, not documents.
	MaxManifestSize = 4 << 20
	maxFields       = 64
	maxBlobs        = 64
	// MaxParticipants bounds the clients of one record (a group session).
	MaxParticipants = 32
)

var (
	validMediaType = regexp.MustCompile(`^[a-z]{1,32}/[a-z0-9.+-]{1,64}$`)
	errManifest    = errors.New("records: invalid manifest")
)

// ParseManifest decodes and checks a manifest: known fields only, version 1, every id in the
// alphabet of object keys, sizes consistent. It reads at most MaxManifestSize bytes.
func ParseManifest(r io.Reader) (*Manifest, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if len(b) > MaxManifestSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", errManifest, MaxManifestSize)
	}
	return parseManifest(b)
}

func parseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := object.DecodeStrict(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", errManifest, err)
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
	if !recordvault.ValidID(m.Clinic) || !recordvault.ValidID(m.Record) || (m.Parent != "" && !recordvault.ValidID(m.Parent)) {
		return fmt.Errorf("%w: malformed id", errManifest)
	}
	if len(m.Participants) == 0 || len(m.Participants) > MaxParticipants {
		return fmt.Errorf("%w: no participants, or too many", errManifest)
	}
	for _, p := range m.Participants {
		if !recordvault.ValidID(p) {
			return fmt.Errorf("%w: malformed participant id", errManifest)
		}
	}
	if !recordvault.ValidSubject(m.Author) {
		return fmt.Errorf("%w: malformed author", errManifest)
	}
	for _, n := range []string{m.Kind, m.Status, m.Category, m.TransitKey} {
		if !recordvault.ValidName(n) {
			return fmt.Errorf("%w: malformed kind, status, category or key name", errManifest)
		}
	}
	if m.WrappedKey == "" || len(m.Meta) == 0 || len(m.Fields) > maxFields || len(m.Blobs) > maxBlobs {
		return fmt.Errorf("%w: missing key or meta, or too many fields or blobs", errManifest)
	}
	for name := range m.Fields {
		if !recordvault.ValidName(name) {
			return fmt.Errorf("%w: malformed field name", errManifest)
		}
	}
	for _, b := range m.Blobs {
		if !recordvault.ValidID(b.ID) || b.Size < 0 || b.EncryptedSize <= b.Size ||
			(b.MediaType != "" && !validMediaType.MatchString(b.MediaType)) {
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
