package records

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/storage/object"
)

// The records' part of the bucket. Every component is a random id, never PHI:
//
//	c/<clinic>/p/<client>/r/<record>   a record's manifest, under its first participant (its home);
//	                                   under each other participant, a link naming the home
//	c/<clinic>/k/<record>/<child>      the manifest of an addendum or amendment request of record
//	c/<clinic>/b/<record>/<blob>       an attachment's encrypted stream
//	c/<clinic>/p/<client>/h/<home>     an empty marker: client takes part in a record stored
//	                                   under home (the index of client's homes)
//
// A single-client record is one object: writing it is one PUT, reading it one GET. A
// client's records (their own, and those they take part in) are listed by the prefix
// c/<clinic>/p/<client>/r/, which reads no other client's objects.

// Objects is what the records keep their manifests and attachments in: small objects, and
// attachments' encrypted streams (package storage implements it).
type Objects interface {
	object.Store
	CreateStream(ctx context.Context, key string, r io.Reader, size int64) (etag string, err error)
	OpenStream(ctx context.Context, key string) (io.ReadCloser, int64, error)
	OpenRange(ctx context.Context, key string, start, length int64) (io.ReadCloser, error)
	AbortUnfinished(ctx context.Context, key string) error
}

// Bucket is Store over object storage, in the layout above.
type Bucket struct{ objects Objects }

// NewBucket returns the records' Store in objects.
func NewBucket(objects Objects) *Bucket { return &Bucket{objects: objects} }

var _ Store = (*Bucket)(nil)

// Ref names a stored document: a record as reached through one of its participants (Client),
// or an addendum or amendment request through its record (Parent).
type Ref struct {
	Clinic, Client, Parent, Record string
}

func (r Ref) key() (string, error) {
	switch {
	case r.Client != "" && r.Parent == "" && recordvault.ValidIDs(r.Clinic, r.Client, r.Record):
		return participantPrefix(r.Clinic, r.Client) + r.Record, nil
	case r.Parent != "" && r.Client == "" && recordvault.ValidIDs(r.Clinic, r.Parent, r.Record):
		return childPrefix(r.Clinic, r.Parent) + r.Record, nil
	}
	return "", errors.New("records: invalid reference")
}

// RefOf is where m is stored: under its parent, or under its first participant.
func RefOf(m *Manifest) Ref {
	if m.Parent != "" {
		return Ref{Clinic: m.Clinic, Parent: m.Parent, Record: m.Record}
	}
	home := ""
	if len(m.Participants) > 0 {
		home = m.Participants[0]
	}
	return Ref{Clinic: m.Clinic, Client: home, Record: m.Record}
}

func blobKey(clinic, record, blob string) string     { return "c/" + clinic + "/b/" + record + "/" + blob }
func participantPrefix(clinic, client string) string { return "c/" + clinic + "/p/" + client + "/r/" }
func childPrefix(clinic, parent string) string       { return "c/" + clinic + "/k/" + parent + "/" }

var errInvalidID = errors.New("records: invalid id")

// link is what stands under a record's other participants: the id of its home.
type link struct {
	Home string `json:"link"`
}

// maxLinkSize bounds a link object.
const maxLinkSize = 256

// CreateManifest stores a new document's manifest; object.ErrExists if the id is taken.
func (b *Bucket) CreateManifest(ctx context.Context, m *Manifest) (etag string, err error) {
	return b.writeManifest(ctx, m, "")
}

// ReplaceManifest stores m in place of the manifest whose ETag is etag; object.ErrChanged if
// another writer replaced it first.
func (b *Bucket) ReplaceManifest(ctx context.Context, m *Manifest, etag string) (newETag string, err error) {
	if etag == "" {
		return "", errors.New("records: replace without an ETag")
	}
	return b.writeManifest(ctx, m, etag)
}

func (b *Bucket) writeManifest(ctx context.Context, m *Manifest, etag string) (string, error) {
	key, err := RefOf(m).key()
	if err != nil {
		return "", err
	}
	body, err := m.marshal()
	if err != nil {
		return "", err
	}
	return object.Write(ctx, b.objects, key, body, etag)
}

// DeleteManifest removes a manifest: the clean-up after a record whose links failed to store.
func (b *Bucket) DeleteManifest(ctx context.Context, m *Manifest) error {
	key, err := RefOf(m).key()
	if err != nil {
		return err
	}
	return b.objects.Delete(ctx, key)
}

// ReadManifest reads and parses the manifest of the document ref names, with its ETag for a
// later replace. A record reached through a participant other than its home is read through
// that participant's link (one more GET); either way the manifest must name the participant
// (or parent) it was reached through.
func (b *Bucket) ReadManifest(ctx context.Context, ref Ref) (*Manifest, string, error) {
	key, err := ref.key()
	if err != nil {
		return nil, "", err
	}
	body, etag, err := b.objects.Read(ctx, key, MaxManifestSize)
	if errors.Is(err, object.ErrTooLarge) {
		return nil, "", fmt.Errorf("%w: larger than %d bytes", errManifest, MaxManifestSize)
	}
	if err != nil {
		return nil, "", err
	}
	if ref.Client != "" && len(body) <= maxLinkSize && bytes.HasPrefix(body, []byte(`{"link"`)) {
		var l link
		if err := object.DecodeStrict(body, &l); err != nil || !recordvault.ValidID(l.Home) || l.Home == ref.Client {
			return nil, "", fmt.Errorf("%w: malformed link", errManifest)
		}
		m, etag, err := b.ReadManifest(ctx, Ref{Clinic: ref.Clinic, Client: l.Home, Record: ref.Record})
		if err != nil {
			return nil, "", err
		}
		if !slices.Contains(m.Participants, ref.Client) {
			return nil, "", fmt.Errorf("%w: linked from a client it does not name", errManifest)
		}
		return m, etag, nil
	}
	m, err := parseManifest(body)
	if err != nil {
		return nil, "", err
	}
	if RefOf(m) != ref {
		return nil, "", fmt.Errorf("%w: ids do not match its place", errManifest)
	}
	return m, etag, nil
}

// LinkParticipant stores, under client, a link to the record stored under home, so the record
// is listed with client's records and can be read through them.
func (b *Bucket) LinkParticipant(ctx context.Context, clinic, client, home, record string) error {
	if !recordvault.ValidIDs(clinic, client, home, record) || client == home {
		return errors.New("records: invalid link")
	}
	body, err := json.Marshal(link{Home: home})
	if err != nil {
		return err
	}
	_, err = b.objects.Create(ctx, participantPrefix(clinic, client)+record, body)
	return err
}

func homesPrefix(clinic, client string) string { return "c/" + clinic + "/p/" + client + "/h/" }

// AddHome puts home into client's index of homes (once: a home already there is kept).
func (b *Bucket) AddHome(ctx context.Context, clinic, client, home string) error {
	if !recordvault.ValidIDs(clinic, client, home) || client == home {
		return errInvalidID
	}
	if _, err := b.objects.Create(ctx, homesPrefix(clinic, client)+home, nil); err != nil && !errors.Is(err, object.ErrExists) {
		return err
	}
	return nil
}

// ListHomes returns client's index of homes, in id order.
func (b *Bucket) ListHomes(ctx context.Context, clinic, client string) ([]string, error) {
	if !recordvault.ValidIDs(clinic, client) {
		return nil, errInvalidID
	}
	return object.ListIDs(ctx, b.objects, homesPrefix(clinic, client), "", 0)
}

// UnlinkParticipant removes a participant's link: the clean-up after a failed write.
func (b *Bucket) UnlinkParticipant(ctx context.Context, clinic, client, record string) error {
	if !recordvault.ValidIDs(clinic, client, record) {
		return errInvalidID
	}
	return b.objects.Delete(ctx, participantPrefix(clinic, client)+record)
}

// ListClientRecords returns up to limit ids of the records a client takes part in, in id
// order, starting after the id after ("" for the first page), reading only that client's
// prefix.
func (b *Bucket) ListClientRecords(ctx context.Context, clinic, client, after string, limit int) ([]string, error) {
	if !recordvault.ValidIDs(clinic, client) || (after != "" && !recordvault.ValidID(after)) {
		return nil, errors.New("records: invalid listing")
	}
	return object.ListIDs(ctx, b.objects, participantPrefix(clinic, client), after, limit)
}

// ListChildren returns the ids of a record's addenda and amendment requests, in id order.
func (b *Bucket) ListChildren(ctx context.Context, clinic, parent string) ([]string, error) {
	if !recordvault.ValidIDs(clinic, parent) {
		return nil, errInvalidID
	}
	return object.ListIDs(ctx, b.objects, childPrefix(clinic, parent), "", 0)
}

// ListClinicDocuments returns references to up to limit documents of a clinic after the
// cursor after ("" from the start), in key order, and the cursor to go on from ("" at the
// end): records under each participant (a record of several is named once per participant),
// then addenda and amendment requests under their record. It is for work that must visit them
// all, a page at a time and resumable: rewrapping after a key rotation, rebuilding the homes
// index. One page lists at most limit levels (clients, records) and limit ids, whatever the
// clinic's size; a page can come back short, with a cursor, past levels with none.
func (b *Bucket) ListClinicDocuments(ctx context.Context, clinic, after string, limit int) ([]Ref, string, error) {
	if !recordvault.ValidID(clinic) || limit <= 0 {
		return nil, "", errInvalidID
	}
	c, err := parseCursor(after)
	if err != nil {
		return nil, "", err
	}
	var refs []Ref
	phases := []string{"p", "k"}
	for i, phase := range phases {
		if at := slices.Index(phases, c.phase); i < at {
			continue
		} else if i > at {
			c = cursor{phase: phase}
		}
		prefix, sub := "c/"+clinic+"/"+phase+"/", ""
		if phase == "p" {
			sub = "r/"
		}
		ref := func(level, id string) Ref {
			if phase == "p" {
				return Ref{Clinic: clinic, Client: level, Record: id}
			}
			return Ref{Clinic: clinic, Parent: level, Record: id}
		}
		take := func(level, afterID string) (bool, error) { // the page is full
			ids, err := object.ListIDs(ctx, b.objects, prefix+level+"/"+sub, afterID, limit-len(refs))
			if err != nil {
				return false, err
			}
			for _, id := range ids {
				refs = append(refs, ref(level, id))
				c.level, c.id = level, id
			}
			return len(refs) == limit, nil
		}
		if c.level != "" && c.id != "" {
			if full, err := take(c.level, c.id); err != nil || full {
				return refs, c.String(), err
			}
		}
		levels, err := object.ListLevels(ctx, b.objects, prefix, c.level, limit)
		if err != nil {
			return nil, "", err
		}
		for _, level := range levels {
			if full, err := take(level, ""); err != nil || full {
				return refs, c.String(), err
			}
			c.level, c.id = level, ""
		}
		if len(levels) == limit { // there may be more levels
			return refs, c.String(), nil
		}
	}
	return refs, "", nil
}

// cursor is where a listing of a clinic's documents stopped: in phase p (records under
// clients) or k (children under records), at level (a client, a record), after id there
// ("" when the level was visited whole).
type cursor struct{ phase, level, id string }

func (c cursor) String() string { return c.phase + "/" + c.level + "/" + c.id }

func parseCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{phase: "p"}, nil
	}
	parts := strings.Split(s, "/")
	if len(parts) != 3 || (parts[0] != "p" && parts[0] != "k") || !recordvault.ValidID(parts[1]) || (parts[2] != "" && !recordvault.ValidID(parts[2])) {
		return cursor{}, recordvault.Errorf(recordvault.EINVALID, "after: a cursor from a previous page")
	}
	return cursor{phase: parts[0], level: parts[1], id: parts[2]}, nil
}

// CreateBlob streams exactly size bytes of an attachment's encrypted form to its object.
func (b *Bucket) CreateBlob(ctx context.Context, clinic, record, blob string, r io.Reader, size int64) (etag string, err error) {
	if !recordvault.ValidIDs(clinic, record, blob) {
		return "", errInvalidID
	}
	return b.objects.CreateStream(ctx, blobKey(clinic, record, blob), r, size)
}

// OpenBlob returns a reader of an attachment's whole object and the object's size as the
// server reports it.
func (b *Bucket) OpenBlob(ctx context.Context, clinic, record, blob string) (io.ReadCloser, int64, error) {
	if !recordvault.ValidIDs(clinic, record, blob) {
		return nil, 0, errInvalidID
	}
	return b.objects.OpenStream(ctx, blobKey(clinic, record, blob))
}

// OpenBlobRange returns a reader of bytes [start, start+length) of an attachment's object.
func (b *Bucket) OpenBlobRange(ctx context.Context, clinic, record, blob string, start, length int64) (io.ReadCloser, error) {
	if !recordvault.ValidIDs(clinic, record, blob) {
		return nil, errInvalidID
	}
	return b.objects.OpenRange(ctx, blobKey(clinic, record, blob), start, length)
}

// Upload is an attachment's upload under way. It is written before the first byte is sent
// and removed once the record names the attachment, or once a failure is cleaned up: one left
// behind says that its writer died in the middle (a replica killed), which a sweep finds by
// listing these, whatever the storage can list of unfinished uploads (MinIO lists them only
// by exact key).
type Upload struct {
	Ref   Ref // the record's
	Blob  string
	Began time.Time
}

func uploadPrefix(clinic string) string { return "c/" + clinic + "/u/" }

// maxUploadRecord bounds an upload's record.
const maxUploadRecord = 1 << 10

// BeginUpload records u as under way.
func (b *Bucket) BeginUpload(ctx context.Context, u Upload) error {
	if !recordvault.ValidIDs(u.Ref.Clinic, u.Ref.Record, u.Blob) {
		return errInvalidID
	}
	body, err := json.Marshal(u)
	if err != nil {
		return err
	}
	_, err = b.objects.Create(ctx, uploadPrefix(u.Ref.Clinic)+u.Blob, body)
	return err
}

// EndUpload removes the record of an upload that ended, well or not.
func (b *Bucket) EndUpload(ctx context.Context, clinic, blob string) error {
	if !recordvault.ValidIDs(clinic, blob) {
		return errInvalidID
	}
	return b.objects.Delete(ctx, uploadPrefix(clinic)+blob)
}

// ListUploads returns up to limit of the clinic's uploads under way, or left so.
func (b *Bucket) ListUploads(ctx context.Context, clinic string, limit int) ([]Upload, error) {
	if !recordvault.ValidID(clinic) {
		return nil, errInvalidID
	}
	names, err := b.objects.List(ctx, uploadPrefix(clinic), "", limit)
	if err != nil {
		return nil, err
	}
	var uploads []Upload
	for _, name := range names {
		var u Upload
		if _, err := object.ReadJSON(ctx, b.objects, uploadPrefix(clinic)+name, maxUploadRecord, &u); errors.Is(err, object.ErrNotFound) {
			continue // ended meanwhile
		} else if err != nil {
			return nil, err
		}
		if u.Ref.Clinic == clinic && u.Blob == name {
			uploads = append(uploads, u)
		}
	}
	return uploads, nil
}

// AbortUpload aborts whatever of an attachment's upload was sent and never completed.
func (b *Bucket) AbortUpload(ctx context.Context, clinic, record, blob string) error {
	if !recordvault.ValidIDs(clinic, record, blob) {
		return errInvalidID
	}
	return b.objects.AbortUnfinished(ctx, blobKey(clinic, record, blob))
}

// DeleteBlob removes an attachment's object: the clean-up after a record that failed to store.
func (b *Bucket) DeleteBlob(ctx context.Context, clinic, record, blob string) error {
	if !recordvault.ValidIDs(clinic, record, blob) {
		return errInvalidID
	}
	return b.objects.Delete(ctx, blobKey(clinic, record, blob))
}
