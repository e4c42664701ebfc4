// Package object is what the domain packages know of object storage: a Store of small
// objects kept by key with conditional writes, its errors, and strict JSON encoding of the
// objects they keep there. It imports no SDK, so that records, clinic state, disclosures,
// one-time codes and the audit chain each own their types and their part of the bucket's key
// layout (docs/ARCHITECTURE.md lists it whole) without depending on the S3 client; package
// storage implements Store over S3.
package object

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/recordvault/recordvault"
)

// Store keeps small objects by key. Keys are ids, fixed words and keyed hashes joined by
// slashes, never PHI; the store refuses any other. Every write is conditional, so that two
// writers never silently overwrite each other.
type Store interface {
	// Create stores body at key only if nothing is there (ErrExists otherwise) and returns
	// its ETag.
	Create(ctx context.Context, key string, body []byte) (etag string, err error)
	// Replace stores body at key only if the object there has ETag etag (ErrChanged
	// otherwise) and returns the new ETag.
	Replace(ctx context.Context, key string, body []byte, etag string) (newETag string, err error)
	// Read returns the object at key, of at most limit bytes (ErrTooLarge past it), and its
	// ETag; ErrNotFound if there is none.
	Read(ctx context.Context, key string, limit int64) (body []byte, etag string, err error)
	// Delete removes the object at key; removing what is not there is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the names one level under prefix (which ends in "/"), in key order: an
	// object's name as it is, a deeper level's with a trailing "/". It starts after the name
	// after ("" for the first) and returns at most limit names (all when limit is 0). Keep
	// objects and levels under different prefixes: with a limit, a prefix that holds both
	// may be listed out of order.
	List(ctx context.Context, prefix, after string, limit int) ([]string, error)
}

var (
	// ErrExists is Create's answer when the object is already there.
	ErrExists = errors.New("object exists")
	// ErrChanged is Replace's answer when the object changed since it was read.
	ErrChanged = errors.New("object changed since it was read")
	// ErrNotFound is the answer for an object that is not there. It is storage's, not the
	// domain's recordvault.ErrNotFound: a missing object the domain expected is a fault,
	// and each package says which misses mean "unknown".
	ErrNotFound = errors.New("object not found")
	// ErrTooLarge is Read's answer for an object past its limit.
	ErrTooLarge = errors.New("object too large")
)

// Write stores body at key: created when etag is "", else replacing the object whose ETag is
// etag.
func Write(ctx context.Context, st Store, key string, body []byte, etag string) (string, error) {
	if etag == "" {
		return st.Create(ctx, key, body)
	}
	return st.Replace(ctx, key, body, etag)
}

// ReadJSON reads the object at key, of at most limit bytes, into v with DecodeStrict and
// returns its ETag.
func ReadJSON(ctx context.Context, st Store, key string, limit int64, v any) (string, error) {
	b, etag, err := st.Read(ctx, key, limit)
	if err != nil {
		return "", err
	}
	if err := DecodeStrict(b, v); err != nil {
		return "", err
	}
	return etag, nil
}

// DecodeStrict decodes the one JSON document in b into v: no unknown fields, nothing after it.
func DecodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if dec.More() {
		return errors.New("decode: trailing data")
	}
	return nil
}

// ListIDs lists the objects directly under prefix that are named by an id, as Store.List
// does; anything else there is not the service's and is never handed on.
func ListIDs(ctx context.Context, st Store, prefix, after string, limit int) ([]string, error) {
	names, err := st.List(ctx, prefix, after, limit)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(names, func(n string) bool { return !recordvault.ValidID(n) }), nil
}

// ListLevels lists the ids that name a deeper level directly under prefix (as each client's
// c/<clinic>/p/<client>/ under c/<clinic>/p/), in key order, after the id after, at most limit
// of them (all when limit is 0).
func ListLevels(ctx context.Context, st Store, prefix, after string, limit int) ([]string, error) {
	if after != "" {
		after += "/"
	}
	names, err := st.List(ctx, prefix, after, limit)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, n := range names {
		if id, ok := strings.CutSuffix(n, "/"); ok && recordvault.ValidID(id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
