// Package records stores and reads encrypted records: it is where the keyring (Vault
// Transit), the envelope cryptography and the object store meet. It talks to neither Vault
// nor S3 itself; it is given a Keyring and a Store (packages vault and storage implement
// them), so it can be tested with fakes.
//
// Writing a record costs one Keyring call (a fresh data key) and one object PUT for a note
// without attachments, plus one streamed PUT per attachment. Reading costs one GET of the
// manifest and one Keyring call to unwrap its data key. The plaintext data key lives only for
// the duration of the call (or of an attachment's reader) and is zeroed afterwards.
package records

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/crypto"
	"github.com/recordvault/recordvault/storage"
	"github.com/recordvault/recordvault/vault"
)

// Keyring is what the service needs of Vault Transit.
type Keyring interface {
	EnsureKey(ctx context.Context, name string) error
	NewDataKey(ctx context.Context, keyName string, keyContext []byte) (vault.DataKey, error)
	UnwrapDataKeys(ctx context.Context, keyName string, keys []vault.WrappedKey) ([][]byte, error)
	RewrapDataKeys(ctx context.Context, keyName string, keys []vault.WrappedKey) ([]string, error)
	RotateKey(ctx context.Context, keyName string) error
	SetMinDecryptionVersion(ctx context.Context, keyName string, version int) error
}

// Store is what the service needs of object storage.
type Store interface {
	CreateManifest(ctx context.Context, m *storage.Manifest) (string, error)
	ReadManifest(ctx context.Context, clinic, client, record string) (*storage.Manifest, string, error)
	ReplaceManifest(ctx context.Context, m *storage.Manifest, etag string) (string, error)
	ListRecords(ctx context.Context, clinic, client string) ([]string, error)
	ListClinicRecords(ctx context.Context, clinic string) ([]storage.RecordRef, error)
	CreateBlob(ctx context.Context, clinic, client, record, blob string, r io.Reader, size int64) (string, error)
	OpenBlob(ctx context.Context, clinic, client, record, blob string) (io.ReadCloser, int64, error)
	OpenBlobRange(ctx context.Context, clinic, client, record, blob string, start, length int64) (io.ReadCloser, error)
	DeleteBlob(ctx context.Context, clinic, client, record, blob string) error
}

// Attachments stream through a prefetcher of prefetchDepth buffers of prefetchSize bytes in
// each direction: 4 MiB per stream, whatever the attachment's size.
const (
	prefetchSize  = 1 << 20
	prefetchDepth = 4
)

// Service stores and reads records.
type Service struct {
	keys  Keyring
	store Store
	rand  io.Reader
}

// New returns a Service over keys and store.
func New(keys Keyring, store Store) *Service {
	return &Service{keys: keys, store: store, rand: rand.Reader}
}

// KeyName is the Transit key of a clinic's category. Clinic ids are letters and digits only,
// so "rv-<clinic>-" is a prefix no other clinic's keys share: a Vault policy can grant one
// clinic's keys by that prefix.
func KeyName(clinic string, category recordvault.Category) string {
	return "rv-" + clinic + "-" + strings.ReplaceAll(string(category), "_", "-")
}

// ProvisionClinic creates (or checks) the clinic's Transit key of every category. It runs
// once per clinic, so that writing a record needs no key check.
func (s *Service) ProvisionClinic(ctx context.Context, clinic string) error {
	for _, c := range recordvault.Categories {
		if err := s.keys.EnsureKey(ctx, KeyName(clinic, c)); err != nil {
			return fmt.Errorf("records: provision clinic: %w", err)
		}
	}
	return nil
}

// NewRecord is a record to store: plaintext fields and attachments.
type NewRecord struct {
	Clinic, Client string
	Category       recordvault.Category
	Fields         map[string][]byte
	Attachments    []NewAttachment
}

// NewAttachment is one attachment's content, exactly Size bytes read from Body.
type NewAttachment struct {
	Body io.Reader
	Size int64
}

// Record is a stored record with the fields that were asked for, decrypted.
type Record struct {
	ID, Clinic, Client string
	Category           recordvault.Category
	Fields             map[string][]byte
	Attachments        []storage.Blob
}

func newID() string { return strings.ToLower(rand.Text()) }

// Put encrypts and stores rec and returns its new id. Attachments are stored first and the
// manifest last, so a manifest never names a missing attachment; if storing fails midway,
// the attachments already stored are removed.
func (s *Service) Put(ctx context.Context, rec NewRecord) (id string, err error) {
	if !rec.Category.Valid() {
		return "", recordvault.Errorf(recordvault.EINVALID, "unknown record category")
	}
	if !recordvault.ValidID(rec.Clinic) || !recordvault.ValidID(rec.Client) {
		return "", recordvault.Errorf(recordvault.EINVALID, "malformed clinic or client id")
	}
	id = newID()
	keyName := KeyName(rec.Clinic, rec.Category)
	dk, err := s.keys.NewDataKey(ctx, keyName, crypto.DataKeyContext(rec.Clinic, string(rec.Category), id))
	if err != nil {
		return "", fmt.Errorf("records: put: %w", err)
	}
	key, err := crypto.NewRecordKey(dk.Plaintext)
	if err != nil {
		return "", err
	}
	defer key.Destroy()

	m := &storage.Manifest{Clinic: rec.Clinic, Client: rec.Client, Record: id, Category: string(rec.Category),
		TransitKey: keyName, WrappedKey: dk.Wrapped, Fields: make(map[string][]byte, len(rec.Fields))}
	for name, value := range rec.Fields {
		if m.Fields[name], err = key.SealField(s.rand, s.binding(m, name), value); err != nil {
			return "", err
		}
	}
	defer func() {
		if err != nil {
			s.removeBlobs(m)
		}
	}()
	for _, a := range rec.Attachments {
		blob := storage.Blob{ID: newID(), Size: a.Size}
		enc, size, err := key.EncryptStream(s.rand, s.binding(m, blob.ID), a.Body, a.Size)
		if err != nil {
			return "", err
		}
		// Encryption runs ahead in its own goroutine while the upload sends earlier bytes.
		ahead := prefetch(enc, prefetchSize, prefetchDepth)
		_, err = s.store.CreateBlob(ctx, m.Clinic, m.Client, m.Record, blob.ID, ahead, size)
		ahead.Close()
		if err != nil {
			return "", fmt.Errorf("records: put attachment: %w", err)
		}
		blob.EncryptedSize = size
		m.Blobs = append(m.Blobs, blob)
	}
	if _, err := s.store.CreateManifest(ctx, m); err != nil {
		return "", fmt.Errorf("records: put manifest: %w", err)
	}
	return id, nil
}

// removeBlobs deletes what a failed Put stored, with a context of its own: the request's may
// be what ended it.
func (s *Service) removeBlobs(m *storage.Manifest) {
	for _, b := range m.Blobs {
		_ = s.store.DeleteBlob(context.Background(), m.Clinic, m.Client, m.Record, b.ID)
	}
}

func (s *Service) binding(m *storage.Manifest, name string) crypto.Binding {
	return crypto.Binding{Clinic: m.Clinic, Category: m.Category, Record: m.Record, Name: name}
}

// ErrUnreadable is the one error for a record whose key or ciphertext does not open: a
// tampered or moved object, a wrapped key from elsewhere, or a key version Vault no longer
// decrypts. Its message says nothing about which.
var ErrUnreadable = recordvault.Errorf(recordvault.EINTERNAL, "record cannot be decrypted")

// ErrKeyRetired is returned for a record whose data key is wrapped by a key version that has
// been retired: it was missed by a rewrap. An operator can lower the key's
// min_decryption_version, rewrap, and retire again.
var ErrKeyRetired = recordvault.Errorf(recordvault.EINTERNAL, "record cannot be decrypted: its key version has been retired")

// recordKey reads a record's manifest and unwraps its data key (one GET, one Keyring call).
func (s *Service) recordKey(ctx context.Context, clinic, client, record string) (*storage.Manifest, *crypto.RecordKey, error) {
	m, _, err := s.store.ReadManifest(ctx, clinic, client, record)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, recordvault.Errorf(recordvault.ENOTFOUND, "record not found")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("records: read manifest: %w", err)
	}
	if m.TransitKey != KeyName(m.Clinic, recordvault.Category(m.Category)) {
		return nil, nil, fmt.Errorf("records: manifest names another key: %w", ErrUnreadable)
	}
	dks, err := s.keys.UnwrapDataKeys(ctx, m.TransitKey, []vault.WrappedKey{{
		Wrapped: m.WrappedKey, Context: crypto.DataKeyContext(m.Clinic, m.Category, m.Record)}})
	if errors.Is(err, vault.ErrKeyVersionRetired) {
		return nil, nil, fmt.Errorf("records: %w: %w", ErrKeyRetired, err)
	}
	if errors.Is(err, vault.ErrUnwrap) {
		return nil, nil, fmt.Errorf("records: %w: %w", ErrUnreadable, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("records: unwrap: %w", err)
	}
	key, err := crypto.NewRecordKey(dks[0])
	if err != nil {
		return nil, nil, err
	}
	return m, key, nil
}

// Get returns a record with the named fields decrypted, or all of them when fields is nil.
// Naming a field the record does not have is an error.
func (s *Service) Get(ctx context.Context, clinic, client, record string, fields []string) (*Record, error) {
	m, key, err := s.recordKey(ctx, clinic, client, record)
	if err != nil {
		return nil, err
	}
	defer key.Destroy()
	if fields == nil {
		fields = slices.Sorted(maps.Keys(m.Fields))
	}
	rec := &Record{ID: m.Record, Clinic: m.Clinic, Client: m.Client, Category: recordvault.Category(m.Category),
		Fields: make(map[string][]byte, len(fields)), Attachments: m.Blobs}
	for _, name := range fields {
		sealed, ok := m.Fields[name]
		if !ok {
			return nil, recordvault.Errorf(recordvault.EINVALID, "the record has no field %q", name)
		}
		if rec.Fields[name], err = key.OpenField(s.binding(m, name), sealed); err != nil {
			return nil, fmt.Errorf("records: field %s: %w", name, ErrUnreadable)
		}
	}
	return rec, nil
}

// List returns the ids of a client's records.
func (s *Service) List(ctx context.Context, clinic, client string) ([]string, error) {
	ids, err := s.store.ListRecords(ctx, clinic, client)
	if err != nil {
		return nil, fmt.Errorf("records: list: %w", err)
	}
	return ids, nil
}
