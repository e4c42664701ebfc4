package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/recordvault/recordvault"
)

// Object layout. Every component is a random id, a keyed hash or a fixed word, never PHI:
//
//	c/<clinic>/p/<client>/r/<record>       a record's manifest, under its first participant (its home);
//	                                       under each other participant, a link naming the home
//	c/<clinic>/k/<record>/<child>          the manifest of an addendum or amendment request of record
//	c/<clinic>/b/<record>/<blob>           an attachment's encrypted stream
//	c/<clinic>/p/<client>/profile          the client's profile (identity sealed; care team)
//	c/<clinic>/i/<index>/<client>          marker: the client's blind index (a Transit HMAC)
//	c/<clinic>/staff                       the clinic's clinicians
//
// A single-client record is one object: writing it is one PUT, reading it one GET. A
// client's records (their own, and those they take part in) are listed by the prefix
// c/<clinic>/p/<client>/r/, which reads no other client's objects.

// Ref names a stored document: a record as reached through one of its participants (Client),
// or an addendum or amendment request through its record (Parent).
type Ref struct {
	Clinic, Client, Parent, Record string
}

func (r Ref) key() (string, error) {
	switch {
	case r.Client != "" && r.Parent == "" && checkIDs(r.Clinic, r.Client, r.Record) == nil:
		return "c/" + r.Clinic + "/p/" + r.Client + "/r/" + r.Record, nil
	case r.Parent != "" && r.Client == "" && checkIDs(r.Clinic, r.Parent, r.Record) == nil:
		return childPrefix(r.Clinic, r.Parent) + r.Record, nil
	}
	return "", errors.New("storage: invalid reference")
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

func checkIDs(ids ...string) error {
	for _, id := range ids {
		if !recordvault.ValidID(id) {
			return errors.New("storage: invalid id")
		}
	}
	return nil
}

func blobKey(clinic, record, blob string) string     { return "c/" + clinic + "/b/" + record + "/" + blob }
func participantPrefix(clinic, client string) string { return "c/" + clinic + "/p/" + client + "/r/" }
func childPrefix(clinic, parent string) string       { return "c/" + clinic + "/k/" + parent + "/" }

// link is what stands under a record's other participants: the id of its home.
type link struct {
	Home string `json:"link"`
}

// maxLinkSize bounds a link object.
const maxLinkSize = 256

// CreateManifest stores a new document's manifest; ErrExists if the id is taken.
func (s *Store) CreateManifest(ctx context.Context, m *Manifest) (etag string, err error) {
	return s.writeManifest(ctx, m, "")
}

// ReplaceManifest stores m in place of the manifest whose ETag is etag; ErrChanged if another
// writer replaced it first.
func (s *Store) ReplaceManifest(ctx context.Context, m *Manifest, etag string) (newETag string, err error) {
	if etag == "" {
		return "", errors.New("storage: replace without an ETag")
	}
	return s.writeManifest(ctx, m, etag)
}

func (s *Store) writeManifest(ctx context.Context, m *Manifest, etag string) (string, error) {
	key, err := RefOf(m).key()
	if err != nil {
		return "", err
	}
	b, err := m.marshal()
	if err != nil {
		return "", err
	}
	return s.put(ctx, key, bytes.NewReader(b), int64(len(b)), etag)
}

// DeleteManifest removes a manifest: the clean-up after a record whose links failed to store.
func (s *Store) DeleteManifest(ctx context.Context, m *Manifest) error {
	key, err := RefOf(m).key()
	if err != nil {
		return err
	}
	return s.remove(ctx, key)
}

// ReadManifest reads and parses the manifest of the document ref names, with its ETag for a
// later replace. A record reached through a participant other than its home is read through
// that participant's link (one more GET); either way the manifest must name the participant
// (or parent) it was reached through.
func (s *Store) ReadManifest(ctx context.Context, ref Ref) (*Manifest, string, error) {
	key, err := ref.key()
	if err != nil {
		return nil, "", err
	}
	obj, info, err := s.open(ctx, key)
	if err != nil {
		return nil, "", err
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, MaxManifestSize+1))
	if err != nil {
		return nil, "", failed("read manifest", err)
	}
	if ref.Client != "" && len(b) <= maxLinkSize && bytes.HasPrefix(b, []byte(`{"link"`)) {
		var l link
		if err := decodeStrict(bytes.NewReader(b), maxLinkSize, &l); err != nil || !recordvault.ValidID(l.Home) || l.Home == ref.Client {
			return nil, "", fmt.Errorf("%w: malformed link", errManifest)
		}
		m, etag, err := s.ReadManifest(ctx, Ref{Clinic: ref.Clinic, Client: l.Home, Record: ref.Record})
		if err != nil {
			return nil, "", err
		}
		if !slices.Contains(m.Participants, ref.Client) {
			return nil, "", fmt.Errorf("%w: linked from a client it does not name", errManifest)
		}
		return m, etag, nil
	}
	m, err := ParseManifest(bytes.NewReader(b))
	if err != nil {
		return nil, "", err
	}
	if RefOf(m) != ref {
		return nil, "", fmt.Errorf("%w: ids do not match its place", errManifest)
	}
	return m, info.ETag, nil
}

// LinkParticipant stores, under client, a link to the record stored under home, so the record
// is listed with client's records and can be read through them.
func (s *Store) LinkParticipant(ctx context.Context, clinic, client, home, record string) error {
	if err := checkIDs(clinic, client, home, record); err != nil || client == home {
		return errors.New("storage: invalid link")
	}
	b, err := json.Marshal(link{Home: home})
	if err != nil {
		return err
	}
	_, err = s.create(ctx, participantPrefix(clinic, client)+record, bytes.NewReader(b), int64(len(b)))
	return err
}

// UnlinkParticipant removes a participant's link: the clean-up after a failed write.
func (s *Store) UnlinkParticipant(ctx context.Context, clinic, client, record string) error {
	if err := checkIDs(clinic, client, record); err != nil {
		return err
	}
	return s.remove(ctx, participantPrefix(clinic, client)+record)
}

// ListClientRecords returns up to limit ids of the records a client takes part in, in id
// order, starting after the id after ("" for the first page), reading only that client's
// prefix.
func (s *Store) ListClientRecords(ctx context.Context, clinic, client, after string, limit int) ([]string, error) {
	if err := checkIDs(clinic, client); err != nil {
		return nil, err
	}
	return s.listIDs(ctx, participantPrefix(clinic, client), after, limit)
}

// ListChildren returns the ids of a record's addenda and amendment requests, in id order.
func (s *Store) ListChildren(ctx context.Context, clinic, parent string) ([]string, error) {
	if err := checkIDs(clinic, parent); err != nil {
		return nil, err
	}
	return s.listIDs(ctx, childPrefix(clinic, parent), "", 0)
}

// ListClinicDocuments returns a reference to every document of a clinic (records under each
// participant, so a record of several is named once per participant; addenda and amendment
// requests under their record), for work that must visit them all: rewrapping after a key
// rotation.
func (s *Store) ListClinicDocuments(ctx context.Context, clinic string) ([]Ref, error) {
	if err := checkIDs(clinic); err != nil {
		return nil, err
	}
	prefix := "c/" + clinic + "/"
	var refs []Ref
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, failed("list clinic documents", obj.Err)
		}
		parts := strings.Split(strings.TrimPrefix(obj.Key, prefix), "/")
		switch {
		case len(parts) == 4 && parts[0] == "p" && parts[2] == "r":
			refs = append(refs, Ref{Clinic: clinic, Client: parts[1], Record: parts[3]})
		case len(parts) == 3 && parts[0] == "k":
			refs = append(refs, Ref{Clinic: clinic, Parent: parts[1], Record: parts[2]})
		}
	}
	return refs, nil
}

// CreateBlob streams exactly size bytes of an attachment's encrypted form to its object.
func (s *Store) CreateBlob(ctx context.Context, clinic, record, blob string, r io.Reader, size int64) (etag string, err error) {
	if err := checkIDs(clinic, record, blob); err != nil {
		return "", err
	}
	return s.create(ctx, blobKey(clinic, record, blob), r, size)
}

// OpenBlob returns a reader of an attachment's whole object and the object's size as the
// server reports it.
func (s *Store) OpenBlob(ctx context.Context, clinic, record, blob string) (io.ReadCloser, int64, error) {
	if err := checkIDs(clinic, record, blob); err != nil {
		return nil, 0, err
	}
	obj, info, err := s.open(ctx, blobKey(clinic, record, blob))
	if err != nil {
		return nil, 0, err
	}
	return obj, info.Size, nil
}

// OpenBlobRange returns a reader of bytes [start, start+length) of an attachment's object.
func (s *Store) OpenBlobRange(ctx context.Context, clinic, record, blob string, start, length int64) (io.ReadCloser, error) {
	if err := checkIDs(clinic, record, blob); err != nil {
		return nil, err
	}
	if start < 0 || length <= 0 {
		return nil, errors.New("storage: invalid range")
	}
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(start, start+length-1); err != nil {
		return nil, failed("range", err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, blobKey(clinic, record, blob), opts)
	if err != nil {
		return nil, failed("open blob", err)
	}
	return obj, nil
}

// DeleteBlob removes an attachment's object: the clean-up after a record that failed to store.
func (s *Store) DeleteBlob(ctx context.Context, clinic, record, blob string) error {
	if err := checkIDs(clinic, record, blob); err != nil {
		return err
	}
	return s.remove(ctx, blobKey(clinic, record, blob))
}

// listIDs returns the last path component of the objects under prefix in key order, after
// the id after, at most limit of them (all when limit is 0).
func (s *Store) listIDs(ctx context.Context, prefix, after string, limit int) ([]string, error) {
	return s.list(ctx, prefix, after, limit, true)
}

// listDirs returns the ids that name "directories" one level under prefix (as
// c/<clinic>/p/<client>/ under c/<clinic>/p/), in key order, after the id after, at most
// limit of them (all when limit is 0).
func (s *Store) listDirs(ctx context.Context, prefix, after string, limit int) ([]string, error) {
	return s.list(ctx, prefix, after, limit, false)
}

func (s *Store) list(ctx context.Context, prefix, after string, limit int, objects bool) ([]string, error) {
	opts := minio.ListObjectsOptions{Prefix: prefix, Recursive: objects}
	if after != "" {
		if !recordvault.ValidID(after) {
			return nil, errors.New("storage: invalid id")
		}
		// Past the id and everything under it: "/" sorts below every id character, and
		// \x7f above it.
		opts.StartAfter = prefix + after
		if !objects {
			opts.StartAfter += "/\x7f"
		}
	}
	if limit > 0 {
		opts.MaxKeys = limit
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine once enough ids are read
	var ids []string
	for obj := range s.client.ListObjects(ctx, s.bucket, opts) {
		if obj.Err != nil {
			return nil, failed("list", obj.Err)
		}
		id := strings.TrimPrefix(obj.Key, prefix)
		if !objects {
			id = strings.TrimSuffix(id, "/")
		}
		if !recordvault.ValidID(id) {
			continue // not one of ours (a deeper key); never handed on
		}
		ids = append(ids, id)
		if limit > 0 && len(ids) == limit {
			break
		}
	}
	return ids, nil
}
