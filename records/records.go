// Package records stores and reads encrypted documents (records, addenda, amendment
// requests): it is where the keyring (Vault Transit), the envelope cryptography and the
// object store meet. It talks to neither Vault nor S3 itself; it is given a Keyring and a
// Store (packages vault and storage implement them), so it can be tested with fakes.
//
// Writing a record costs one Keyring call (a fresh data key) and one manifest PUT, one link
// PUT per participant after the first, and one streamed PUT per attachment. Reading is split in two so that
// an access decision costs no Vault call: Load reads the manifest (one GET) and returns what
// the decision needs; Read unwraps the data key (one Keyring call), checks the sealed copy of
// the manifest's description, and opens the fields. The plaintext data key lives only for the
// duration of the call (or of an attachment's reader) and is zeroed afterwards.
//
// Signed records never change: Update and AddAttachment refuse them with ECONFLICT, and a
// change is an addendum (AddChild), linked to the record and listed with it.
package records

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/crypto"
	"github.com/recordvault/recordvault/seal"
	"github.com/recordvault/recordvault/storage/object"
	"github.com/recordvault/recordvault/transit"
)

// Store is what the service needs of object storage.
type Store interface {
	CreateManifest(ctx context.Context, m *Manifest) (string, error)
	ReadManifest(ctx context.Context, ref Ref) (*Manifest, string, error)
	ReplaceManifest(ctx context.Context, m *Manifest, etag string) (string, error)
	DeleteManifest(ctx context.Context, m *Manifest) error
	LinkParticipant(ctx context.Context, clinic, client, home, record string) error
	AddHome(ctx context.Context, clinic, client, home string) error
	ListHomes(ctx context.Context, clinic, client string) ([]string, error)
	UnlinkParticipant(ctx context.Context, clinic, client, record string) error
	ListClientRecords(ctx context.Context, clinic, client, after string, limit int) ([]string, error)
	ListChildren(ctx context.Context, clinic, parent string) ([]string, error)
	ListClinicDocuments(ctx context.Context, clinic, after string, limit int) ([]Ref, string, error)
	CreateBlob(ctx context.Context, clinic, record, blob string, r io.Reader, size int64) (string, error)
	OpenBlob(ctx context.Context, clinic, record, blob string) (io.ReadCloser, int64, error)
	OpenBlobRange(ctx context.Context, clinic, record, blob string, start, length int64) (io.ReadCloser, error)
	DeleteBlob(ctx context.Context, clinic, record, blob string) error
	BeginUpload(ctx context.Context, u Upload) error
	EndUpload(ctx context.Context, clinic, blob string) error
	ListUploads(ctx context.Context, clinic string, limit int) ([]Upload, error)
	AbortUpload(ctx context.Context, clinic, record, blob string) error
}

// Attachments stream through a prefetcher of prefetchDepth buffers of prefetchSize bytes in
// each direction: 4 MiB per stream, whatever the attachment's size.
const (
	prefetchSize  = 1 << 20
	prefetchDepth = 4
)

// Service stores and reads documents.
type Service struct {
	keys  seal.Keyring
	store Store
	rand  io.Reader
	now   func() time.Time
}

// New returns a Service over keys and store, reading the time from now (time.Now when nil).
func New(keys seal.Keyring, store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{keys: keys, store: store, rand: rand.Reader, now: now}
}

// KeyName is the Transit key of a clinic's category (package transit's table).
func KeyName(clinic string, category recordvault.Category) string {
	return transit.Name(clinic, transit.CategorySuffix(category))
}

// NewRecord is a record to store: who it is about and by, and its plaintext fields and
// attachments. Fields are checked by the caller (recordvault.ValidateFields).
type NewRecord struct {
	ID           string // the record's id when the caller names it first (recordvault.NewID); a fresh one when empty
	Clinic       string
	Category     recordvault.Category
	Participants []string // client ids: one, or several for a couples, family or group session
	Author       string   // the writing clinician's subject
	Sign         bool     // store it signed at once, rather than as a draft
	Fields       map[string][]byte
	Attachments  []NewAttachment
	// Before, when set, is called once the record is sealed and before anything is stored:
	// an error from it stores nothing and is Create's answer. The caller's audit record of
	// the write is made meanwhile, so that the data key's Vault call does not wait for it.
	Before func() error
}

// NewAttachment is one attachment's content, exactly Size bytes read from Body.
type NewAttachment struct {
	Body      io.Reader
	Size      int64
	MediaType string
}

// Info describes a stored document: everything but its content. Access decisions are made
// on it, before anything is decrypted.
type Info struct {
	ID, Clinic   string
	Kind         recordvault.DocumentKind
	Parent       string
	Category     recordvault.Category
	Participants []string
	Author       string
	Status       recordvault.Status
	Created      time.Time
	Updated      time.Time
	Revision     uint64 // the changes made since its creation
	Attachments  []Blob
}

// Document is a loaded document: its Info, and its manifest for Read and the writes.
type Document struct {
	Info
	m    *Manifest
	etag string
}

// Create encrypts and stores a new record and returns it. Attachments are stored first, then
// the manifest under the first participant, then links under the others, so nothing ever
// names what is missing; if storing fails midway, what was already stored is removed.
func (s *Service) Create(ctx context.Context, rec NewRecord) (*Document, error) {
	if !rec.Category.Valid() {
		return nil, recordvault.Errorf(recordvault.EINVALID, "unknown record category")
	}
	status := recordvault.StatusDraft
	if rec.Sign {
		status = recordvault.StatusSigned
	}
	id, err := idOrNew(rec.ID)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Clinic: rec.Clinic, Record: id, Kind: string(recordvault.RecordDocument),
		Category: string(rec.Category), Participants: rec.Participants, Author: rec.Author, Status: string(status)}
	return s.create(ctx, m, rec.Fields, rec.Attachments, rec.Before)
}

// idOrNew is the id a caller named for a new document, or a fresh one.
func idOrNew(id string) (string, error) {
	if id == "" {
		return recordvault.NewID(), nil
	}
	if !recordvault.ValidID(id) {
		return "", recordvault.Errorf(recordvault.EINVALID, "malformed document id")
	}
	return id, nil
}

// NewChild is an addendum or amendment request to store with a record.
type NewChild struct {
	ID     string // the child's id when the caller names it first (recordvault.NewID); a fresh one when empty
	Kind   recordvault.DocumentKind
	Author string
	Status recordvault.Status
	Fields map[string][]byte
}

// AddChild stores an addendum or amendment request of parent, under parent's category key
// (it is as sensitive as the record it belongs to), and links it to parent.
func (s *Service) AddChild(ctx context.Context, parent *Document, c NewChild) (*Document, error) {
	if parent.Kind != recordvault.RecordDocument || (c.Kind != recordvault.AddendumDocument && c.Kind != recordvault.AmendmentDocument) {
		return nil, recordvault.Errorf(recordvault.EINVALID, "addenda and amendment requests belong to records")
	}
	id, err := idOrNew(c.ID)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Clinic: parent.Clinic, Record: id, Kind: string(c.Kind), Parent: parent.ID,
		Category: string(parent.Category), Participants: parent.Participants, Author: c.Author, Status: string(c.Status)}
	return s.create(ctx, m, c.Fields, nil, nil)
}

func (s *Service) create(ctx context.Context, m *Manifest, fields map[string][]byte, attachments []NewAttachment, before func() error) (_ *Document, err error) {
	if !recordvault.ValidID(m.Clinic) || len(m.Participants) == 0 || len(m.Participants) > MaxParticipants {
		return nil, recordvault.Errorf(recordvault.EINVALID, "malformed clinic id, or no participants or too many")
	}
	for _, p := range m.Participants {
		if !recordvault.ValidID(p) {
			return nil, recordvault.Errorf(recordvault.EINVALID, "malformed participant id")
		}
	}
	m.Created = s.now().UTC()
	m.Updated = m.Created
	m.TransitKey = KeyName(m.Clinic, recordvault.Category(m.Category))
	key, wrapped, err := seal.NewKey(ctx, s.keys, m.TransitKey, crypto.DataKeyContext(m.Clinic, m.Category, m.Record))
	if err != nil {
		return nil, fmt.Errorf("records: create: %w", err)
	}
	defer key.Destroy()
	m.WrappedKey = wrapped
	m.Fields = make(map[string][]byte, len(fields))
	if err := s.sealFields(key, m, fields); err != nil {
		return nil, err
	}
	if before != nil {
		if err := before(); err != nil {
			return nil, err
		}
	}
	var begun []string
	defer func() { s.endUploads(ctx, m.Clinic, begun) }() // after the clean-up below
	defer func() {
		if err != nil {
			s.removeBlobs(ctx, m.Clinic, m.Record, m.Blobs)
		}
	}()
	for _, a := range attachments {
		blob, err := s.storeBlob(ctx, key, m, a)
		if blob.ID != "" {
			begun = append(begun, blob.ID)
		}
		if err != nil {
			return nil, err
		}
		m.Blobs = append(m.Blobs, blob)
	}
	if err := s.sealMeta(key, m); err != nil {
		return nil, err
	}
	etag, err := s.store.CreateManifest(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("records: create manifest: %w", err)
	}
	if m.Parent == "" {
		for _, p := range m.Participants[1:] {
			// The home goes into p's index before the link, so that whatever p can reach
			// through a link is under a home the index names.
			if err = s.store.AddHome(ctx, m.Clinic, p, m.Participants[0]); err != nil {
				s.unlink(ctx, m)
				return nil, fmt.Errorf("records: index participant: %w", err)
			}
			if err = s.store.LinkParticipant(ctx, m.Clinic, p, m.Participants[0], m.Record); err != nil {
				s.unlink(ctx, m)
				return nil, fmt.Errorf("records: link participant: %w", err)
			}
		}
	}
	return document(m, etag), nil
}

// unlink removes the manifest and links of a record that failed to store, going on when
// the request's context is cancelled (that may be what ended it); each storage call has its
// own deadline.
func (s *Service) unlink(ctx context.Context, m *Manifest) {
	ctx = context.WithoutCancel(ctx)
	for _, p := range m.Participants[1:] {
		_ = s.store.UnlinkParticipant(ctx, m.Clinic, p, m.Record)
	}
	_ = s.store.DeleteManifest(ctx, m)
}

// endUploads removes the records of uploads that ended (their record names them now, or the
// failure was cleaned up), going on when the request's context is cancelled.
func (s *Service) endUploads(ctx context.Context, clinic string, blobs []string) {
	ctx = context.WithoutCancel(ctx)
	for _, b := range blobs {
		_ = s.store.EndUpload(ctx, clinic, b)
	}
}

// removeBlobs removes attachments stored for a record that failed to store, as unlink does.
func (s *Service) removeBlobs(ctx context.Context, clinic, record string, blobs []Blob) {
	ctx = context.WithoutCancel(ctx)
	for _, b := range blobs {
		_ = s.store.DeleteBlob(ctx, clinic, record, b.ID)
	}
}

func (s *Service) sealFields(key *crypto.RecordKey, m *Manifest, fields map[string][]byte) error {
	for name, value := range fields {
		sealed, err := key.SealField(s.rand, binding(m, name), value)
		if err != nil {
			return err
		}
		m.Fields[name] = sealed
	}
	return nil
}

// storeBlob encrypts and uploads one attachment of m.
func (s *Service) storeBlob(ctx context.Context, key *crypto.RecordKey, m *Manifest, a NewAttachment) (Blob, error) {
	blob := Blob{ID: recordvault.NewID(), Size: a.Size, MediaType: a.MediaType}
	if err := s.store.BeginUpload(ctx, Upload{Ref: RefOf(m), Blob: blob.ID, Began: s.now().UTC()}); err != nil {
		return Blob{}, fmt.Errorf("records: store attachment: %w", err)
	}
	enc, size, err := key.EncryptStream(s.rand, binding(m, blob.ID), a.Body, a.Size)
	if err != nil {
		return blob, err
	}
	// Encryption runs ahead in its own goroutine while the upload sends earlier bytes.
	ahead := prefetch(enc, prefetchSize, prefetchDepth)
	_, err = s.store.CreateBlob(ctx, m.Clinic, m.Record, blob.ID, ahead, size)
	ahead.Close()
	if err != nil {
		return blob, fmt.Errorf("records: store attachment: %w", err)
	}
	blob.EncryptedSize = size
	return blob, nil
}

func binding(m *Manifest, name string) crypto.Binding {
	return crypto.Binding{Clinic: m.Clinic, Category: m.Category, Record: m.Record, Name: name}
}

// metaBinding is the place of a manifest's sealed description. No field can have this name:
// field names start with a letter.
const metaBinding = "$meta"

// description is the part of a manifest that Meta seals: everything that says what the
// document is and who may see it, and which fields and attachments it has.
func description(m *Manifest) ([]byte, error) {
	return json.Marshal(struct {
		Kind, Parent, Category string
		Participants           []string
		Author, Status         string
		Created, Updated       time.Time
		Revision               uint64 `json:",omitempty"` // absent from descriptions sealed before revisions were kept
		Fields                 []string
		Blobs                  []Blob
	}{m.Kind, m.Parent, m.Category, m.Participants, m.Author, m.Status, m.Created, m.Updated, m.Revision,
		slices.Sorted(maps.Keys(m.Fields)), m.Blobs})
}

func (s *Service) sealMeta(key *crypto.RecordKey, m *Manifest) error {
	d, err := description(m)
	if err != nil {
		return err
	}
	m.Meta, err = key.SealField(s.rand, binding(m, metaBinding), d)
	return err
}

func (s *Service) checkMeta(key *crypto.RecordKey, m *Manifest) error {
	want, err := description(m)
	if err != nil {
		return err
	}
	got, err := key.OpenField(binding(m, metaBinding), m.Meta)
	if err != nil || !bytes.Equal(got, want) {
		return ErrUnreadable
	}
	return nil
}

// HasField reports whether the document has the named field (sealed; nothing is decrypted).
func (d *Document) HasField(name string) bool {
	_, ok := d.m.Fields[name]
	return ok
}

func document(m *Manifest, etag string) *Document {
	return &Document{m: m, etag: etag, Info: Info{ID: m.Record, Clinic: m.Clinic, Kind: recordvault.DocumentKind(m.Kind),
		Parent: m.Parent, Category: recordvault.Category(m.Category), Participants: m.Participants, Author: m.Author,
		Status: recordvault.Status(m.Status), Created: m.Created, Updated: m.Updated, Revision: m.Revision, Attachments: m.Blobs}}
}

// ErrUnreadable is the one error for a document whose key or ciphertext does not open: a
// tampered or moved object, a wrapped key from elsewhere, or a key version Vault no longer
// decrypts. Its message says nothing about which.
var ErrUnreadable = recordvault.Errorf(recordvault.EINTERNAL, "record cannot be decrypted")

// ErrKeyRetired is returned for a document whose data key is wrapped by a key version that
// has been retired: it was missed by a rewrap. An operator can lower the key's
// min_decryption_version, rewrap, and retire again.
var ErrKeyRetired = recordvault.Errorf(recordvault.EINTERNAL, "record cannot be decrypted: its key version has been retired")

// Load reads the manifest of a record as reached through one of its participants (one GET;
// two through a participant other than the first): enough to decide on access, nothing
// decrypted.
func (s *Service) Load(ctx context.Context, clinic, client, id string) (*Document, error) {
	return s.load(ctx, Ref{Clinic: clinic, Client: client, Record: id})
}

// LoadChild reads the manifest of an addendum or amendment request of parent.
func (s *Service) LoadChild(ctx context.Context, parent *Document, id string) (*Document, error) {
	d, err := s.load(ctx, Ref{Clinic: parent.Clinic, Parent: parent.ID, Record: id})
	if err != nil {
		return nil, err
	}
	if !slices.Equal(d.Participants, parent.Participants) || d.Category != parent.Category {
		return nil, fmt.Errorf("records: addendum does not match its record: %w", ErrUnreadable)
	}
	return d, nil
}

func (s *Service) load(ctx context.Context, ref Ref) (*Document, error) {
	for _, id := range []string{ref.Clinic, ref.Client + ref.Parent, ref.Record} {
		if !recordvault.ValidID(id) {
			return nil, recordvault.ErrNotFound
		}
	}
	m, etag, err := s.store.ReadManifest(ctx, ref)
	if errors.Is(err, object.ErrNotFound) {
		return nil, recordvault.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("records: read manifest: %w", err)
	}
	return document(m, etag), nil
}

// key unwraps a document's data key (one Keyring call) and checks the manifest's sealed
// description with it.
func (s *Service) key(ctx context.Context, m *Manifest) (*crypto.RecordKey, error) {
	if m.TransitKey != KeyName(m.Clinic, recordvault.Category(m.Category)) {
		return nil, fmt.Errorf("records: manifest names another key: %w", ErrUnreadable)
	}
	key, err := seal.OpenKey(ctx, s.keys, m.TransitKey, seal.WrappedKey{
		Wrapped: m.WrappedKey, Context: crypto.DataKeyContext(m.Clinic, m.Category, m.Record)})
	if errors.Is(err, seal.ErrKeyVersionRetired) {
		return nil, fmt.Errorf("records: %w: %w", ErrKeyRetired, err)
	}
	if errors.Is(err, seal.ErrUnwrap) {
		return nil, fmt.Errorf("records: %w: %w", ErrUnreadable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("records: unwrap: %w", err)
	}
	if err := s.checkMeta(key, m); err != nil {
		key.Destroy()
		return nil, err
	}
	return key, nil
}

// Read decrypts the named fields of a loaded document, or all of them when fields is nil.
// Naming a field the document does not have is an error.
func (s *Service) Read(ctx context.Context, d *Document, fields []string) (map[string][]byte, error) {
	key, err := s.key(ctx, d.m)
	if err != nil {
		return nil, err
	}
	defer key.Destroy()
	if fields == nil {
		fields = slices.Sorted(maps.Keys(d.m.Fields))
	}
	out := make(map[string][]byte, len(fields))
	for _, name := range fields {
		sealed, ok := d.m.Fields[name]
		if !ok {
			return nil, recordvault.Errorf(recordvault.EINVALID, "the record has no field %q", name)
		}
		if out[name], err = key.OpenField(binding(d.m, name), sealed); err != nil {
			return nil, fmt.Errorf("records: field %s: %w", name, ErrUnreadable)
		}
	}
	return out, nil
}

// errSigned refuses every change to a signed document.
var errSigned = recordvault.Errorf(recordvault.ECONFLICT, "signed records never change; add an addendum instead")

// errChanged answers a write that lost a race with another.
var errChanged = recordvault.Errorf(recordvault.ECONFLICT, "the record changed while this request was made; read it again")

// Update replaces a draft's fields with fields (all of them: what is not named is removed).
func (s *Service) Update(ctx context.Context, d *Document, fields map[string][]byte) error {
	if err := draft(d); err != nil {
		return err
	}
	return s.change(ctx, d, func(key *crypto.RecordKey, m *Manifest) error {
		m.Fields = make(map[string][]byte, len(fields))
		return s.sealFields(key, m, fields)
	})
}

// Sign makes a draft final. Signing is the author's: the caller checks who asks.
func (s *Service) Sign(ctx context.Context, d *Document) error {
	if err := draft(d); err != nil {
		return err
	}
	return s.change(ctx, d, func(_ *crypto.RecordKey, m *Manifest) error {
		m.Status = string(recordvault.StatusSigned)
		return nil
	})
}

// AddAttachment encrypts and stores one more attachment of a draft.
func (s *Service) AddAttachment(ctx context.Context, d *Document, a NewAttachment) (Blob, error) {
	var blob Blob
	if err := draft(d); err != nil {
		return blob, err
	}
	err := s.change(ctx, d, func(key *crypto.RecordKey, m *Manifest) (err error) {
		if blob, err = s.storeBlob(ctx, key, m, a); err != nil {
			return err
		}
		m.Blobs = append(m.Blobs, blob)
		return nil
	})
	if err != nil && blob.EncryptedSize > 0 {
		s.removeBlobs(ctx, d.Clinic, d.ID, []Blob{blob})
	}
	if blob.ID != "" {
		s.endUploads(ctx, d.Clinic, []string{blob.ID})
	}
	return blob, err
}

// draft refuses a change to anything but a draft record.
func draft(d *Document) error {
	if d.Kind != recordvault.RecordDocument || d.Status != recordvault.StatusDraft {
		return errSigned
	}
	return nil
}

// errAmendmentState refuses an amendment step that does not follow from the request's state.
var errAmendmentState = recordvault.Errorf(recordvault.ECONFLICT, "the amendment request is not in the state this step follows")

// AppendAmendment stores one step of an amendment request: its part added (parts are added,
// never replaced) and its status moved from step.From to step.Status.
func (s *Service) AppendAmendment(ctx context.Context, d *Document, step recordvault.Step) error {
	if d.Kind != recordvault.AmendmentDocument || d.Status != step.From {
		return errAmendmentState
	}
	if _, ok := d.m.Fields[step.Part]; ok {
		return errAmendmentState
	}
	return s.change(ctx, d, func(key *crypto.RecordKey, m *Manifest) error {
		m.Status = string(step.Status)
		return s.sealFields(key, m, map[string][]byte{step.Part: step.Value})
	})
}

// change applies edit to a document and stores the result, if nobody changed it since it
// was loaded.
func (s *Service) change(ctx context.Context, d *Document, edit func(*crypto.RecordKey, *Manifest) error) error {
	key, err := s.key(ctx, d.m)
	if err != nil {
		return err
	}
	defer key.Destroy()
	m := *d.m
	m.Fields = maps.Clone(d.m.Fields)
	m.Blobs = slices.Clone(d.m.Blobs)
	if err := edit(key, &m); err != nil {
		return err
	}
	m.Updated = s.now().UTC()
	m.Revision++
	if err := s.sealMeta(key, &m); err != nil {
		return err
	}
	etag, err := s.store.ReplaceManifest(ctx, &m, d.etag)
	if errors.Is(err, object.ErrChanged) {
		return errChanged
	}
	if err != nil {
		return fmt.Errorf("records: replace manifest: %w", err)
	}
	*d = *document(&m, etag)
	return nil
}

// Children loads a record's addenda and amendment requests, oldest first.
func (s *Service) Children(ctx context.Context, parent *Document) ([]*Document, error) {
	ids, err := s.store.ListChildren(ctx, parent.Clinic, parent.ID)
	if err != nil {
		return nil, fmt.Errorf("records: list addenda: %w", err)
	}
	var out []*Document
	for _, id := range ids {
		d, err := s.LoadChild(ctx, parent, id)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	slices.SortStableFunc(out, func(a, b *Document) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// List returns up to limit ids of a client's records, in id order, after the id after.
func (s *Service) List(ctx context.Context, clinic, client, after string, limit int) ([]string, error) {
	ids, err := s.store.ListClientRecords(ctx, clinic, client, after, limit)
	if err != nil {
		return nil, fmt.Errorf("records: list: %w", err)
	}
	return ids, nil
}

// Homes returns the other clients under whom records client takes part in are stored (each
// such record's first participant), from client's index: as many reads as a page of homes,
// however many records client has. What is stored under a home (a record, its releases) is
// for the caller to check against client.
func (s *Service) Homes(ctx context.Context, clinic, client string) ([]string, error) {
	homes, err := s.store.ListHomes(ctx, clinic, client)
	if err != nil {
		return nil, fmt.Errorf("records: homes: %w", err)
	}
	return homes, nil
}

// listPage is how many documents a walk of a clinic's documents lists at a time.
const listPage = 500

// EachDocument calls visit with every document of clinic, a page at a time, stopping at
// visit's first error.
func EachDocument(ctx context.Context, store Store, clinic string, visit func(Ref) error) error {
	after := ""
	for {
		refs, next, err := store.ListClinicDocuments(ctx, clinic, after, listPage)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			if err := visit(ref); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		after = next
	}
}

// RebuildHomes restores every client's index of homes in a clinic from the records
// themselves: the repair for an index lost or damaged in the bucket (cmd/recordvault-reindex).
// It reads every record's manifest, in the clear and without a key (an operator's batch,
// never a request's work), and returns how many links it found.
func RebuildHomes(ctx context.Context, store Store, clinic string) (int, error) {
	links := 0
	err := EachDocument(ctx, store, clinic, func(ref Ref) error {
		if ref.Client == "" {
			return nil // an addendum or amendment request: under its record, not a client
		}
		m, _, err := store.ReadManifest(ctx, ref)
		if err != nil {
			return err
		}
		if home := m.Participants[0]; home != ref.Client {
			if err := store.AddHome(ctx, clinic, ref.Client, home); err != nil {
				return err
			}
			links++
		}
		return nil
	})
	if err != nil {
		return links, fmt.Errorf("records: rebuild homes: %w", err)
	}
	return links, nil
}

// Fingerprint names the exact stored version of some of a document's fields: SHA-256 over
// the document's id and each named field's name and sealed form, in name order. It is
// computed from ciphertext, so it says nothing of the content, and it changes whenever one
// of those fields is sealed again. A field the document lacks counts as empty.
func Fingerprint(d *Document, fields []string) string {
	h := sha256.New()
	h.Write([]byte(d.ID))
	for _, name := range slices.Sorted(slices.Values(fields)) {
		sealed := d.m.Fields[name]
		fmt.Fprintf(h, "\x00%s\x00%d\x00", name, len(sealed))
		h.Write(sealed)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
