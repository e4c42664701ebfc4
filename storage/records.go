package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/recordvault/recordvault"
)

// Object layout. Every component is a random id (or a fixed category name), never PHI:
//
//	c/<clinic>/p/<client>/r/<record>            the record's manifest
//	c/<clinic>/p/<client>/b/<record>/<blob>     an attachment's encrypted stream
//
// A client's records are listed by the prefix c/<clinic>/p/<client>/r/, which reads no other
// client's objects.

func checkIDs(ids ...string) error {
	for _, id := range ids {
		if !recordvault.ValidID(id) {
			return errors.New("storage: invalid id")
		}
	}
	return nil
}

func recordsPrefix(clinic, client string) string { return "c/" + clinic + "/p/" + client + "/r/" }

func manifestKey(clinic, client, record string) string {
	return recordsPrefix(clinic, client) + record
}

func blobKey(clinic, client, record, blob string) string {
	return "c/" + clinic + "/p/" + client + "/b/" + record + "/" + blob
}

// CreateManifest stores a new record's manifest; ErrExists if the record exists.
func (s *Store) CreateManifest(ctx context.Context, m *Manifest) (etag string, err error) {
	b, err := m.marshal()
	if err != nil {
		return "", err
	}
	return s.create(ctx, manifestKey(m.Clinic, m.Client, m.Record), bytes.NewReader(b), int64(len(b)))
}

// ReplaceManifest stores m in place of the manifest whose ETag is etag; ErrChanged if another
// writer replaced it first.
func (s *Store) ReplaceManifest(ctx context.Context, m *Manifest, etag string) (newETag string, err error) {
	b, err := m.marshal()
	if err != nil {
		return "", err
	}
	return s.put(ctx, manifestKey(m.Clinic, m.Client, m.Record), bytes.NewReader(b), int64(len(b)), etag)
}

// ReadManifest reads and parses a record's manifest, with its ETag for a later replace.
func (s *Store) ReadManifest(ctx context.Context, clinic, client, record string) (*Manifest, string, error) {
	if err := checkIDs(clinic, client, record); err != nil {
		return nil, "", err
	}
	obj, info, err := s.open(ctx, manifestKey(clinic, client, record))
	if err != nil {
		return nil, "", err
	}
	defer obj.Close()
	m, err := ParseManifest(obj)
	if err != nil {
		return nil, "", err
	}
	if m.Clinic != clinic || m.Client != client || m.Record != record {
		return nil, "", fmt.Errorf("%w: ids do not match its place", errManifest)
	}
	return m, info.ETag, nil
}

// ListRecords returns the ids of a client's records, reading only that client's prefix.
func (s *Store) ListRecords(ctx context.Context, clinic, client string) ([]string, error) {
	if err := checkIDs(clinic, client); err != nil {
		return nil, err
	}
	prefix := recordsPrefix(clinic, client)
	var ids []string
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("storage: list records: %w", obj.Err)
		}
		ids = append(ids, strings.TrimPrefix(obj.Key, prefix))
	}
	return ids, nil
}

// CreateBlob streams exactly size bytes of an attachment's encrypted form to its object.
func (s *Store) CreateBlob(ctx context.Context, clinic, client, record, blob string, r io.Reader, size int64) (etag string, err error) {
	if err := checkIDs(clinic, client, record, blob); err != nil {
		return "", err
	}
	return s.create(ctx, blobKey(clinic, client, record, blob), r, size)
}

// OpenBlob returns a reader of an attachment's whole object and the object's size as the
// server reports it.
func (s *Store) OpenBlob(ctx context.Context, clinic, client, record, blob string) (io.ReadCloser, int64, error) {
	if err := checkIDs(clinic, client, record, blob); err != nil {
		return nil, 0, err
	}
	obj, info, err := s.open(ctx, blobKey(clinic, client, record, blob))
	if err != nil {
		return nil, 0, err
	}
	return obj, info.Size, nil
}

// OpenBlobRange returns a reader of bytes [start, start+length) of an attachment's object.
func (s *Store) OpenBlobRange(ctx context.Context, clinic, client, record, blob string, start, length int64) (io.ReadCloser, error) {
	if err := checkIDs(clinic, client, record, blob); err != nil {
		return nil, err
	}
	if start < 0 || length <= 0 {
		return nil, errors.New("storage: invalid range")
	}
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(start, start+length-1); err != nil {
		return nil, fmt.Errorf("storage: range: %w", err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, blobKey(clinic, client, record, blob), opts)
	if err != nil {
		return nil, fmt.Errorf("storage: open blob: %w", err)
	}
	return obj, nil
}

// DeleteBlob removes an attachment's object: the clean-up after a record that failed to store.
func (s *Store) DeleteBlob(ctx context.Context, clinic, client, record, blob string) error {
	if err := checkIDs(clinic, client, record, blob); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, blobKey(clinic, client, record, blob), minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("storage: delete blob: %w", err)
	}
	return nil
}

// RecordRef names one stored record.
type RecordRef struct{ Clinic, Client, Record string }

// ListClinicRecords returns every record of a clinic, for work that must visit them all
// (rewrapping after a key rotation).
func (s *Store) ListClinicRecords(ctx context.Context, clinic string) ([]RecordRef, error) {
	if err := checkIDs(clinic); err != nil {
		return nil, err
	}
	prefix := "c/" + clinic + "/p/"
	var refs []RecordRef
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("storage: list clinic records: %w", obj.Err)
		}
		// <client>/r/<record>; blobs (<client>/b/…) are skipped.
		parts := strings.Split(strings.TrimPrefix(obj.Key, prefix), "/")
		if len(parts) == 3 && parts[1] == "r" {
			refs = append(refs, RecordRef{Clinic: clinic, Client: parts[0], Record: parts[2]})
		}
	}
	return refs, nil
}
