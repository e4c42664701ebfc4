package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Disclosure is one document of the release engine about a client: an authorization, a
// court order, a release, an access request. Its body is sealed with its own data key,
// wrapped by the clinic's disclosure key; Kind and Status are kept in the clear for listing
// and checked against the sealed body when it is opened.
type Disclosure struct {
	Version    int       `json:"v"`
	Clinic     string    `json:"clinic"`
	Client     string    `json:"client"`
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
	TransitKey string    `json:"transit_key"`
	WrappedKey string    `json:"wrapped_key"`
	Body       []byte    `json:"body"`
}

const maxDisclosureSize = 1 << 20

var errDisclosure = errors.New("storage: invalid disclosure document")

func disclosurePrefix(clinic, client string) string { return "c/" + clinic + "/p/" + client + "/d/" }

func (d *Disclosure) check() error {
	if d.Version != 1 || checkIDs(d.Clinic, d.Client, d.ID) != nil || !validName.MatchString(d.Kind) ||
		!validName.MatchString(d.Status) || !validName.MatchString(d.TransitKey) || d.WrappedKey == "" || len(d.Body) == 0 {
		return errDisclosure
	}
	return nil
}

// CreateDisclosure stores a new disclosure document; ErrExists if its id is taken.
func (s *Store) CreateDisclosure(ctx context.Context, d *Disclosure) (string, error) {
	return s.writeDisclosure(ctx, d, "")
}

// ReplaceDisclosure stores d in place of the document whose ETag is etag; ErrChanged if
// another writer replaced it first.
func (s *Store) ReplaceDisclosure(ctx context.Context, d *Disclosure, etag string) (string, error) {
	if etag == "" {
		return "", errors.New("storage: replace without an ETag")
	}
	return s.writeDisclosure(ctx, d, etag)
}

func (s *Store) writeDisclosure(ctx context.Context, d *Disclosure, etag string) (string, error) {
	d.Version = 1
	if err := d.check(); err != nil {
		return "", err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	return s.put(ctx, disclosurePrefix(d.Clinic, d.Client)+d.ID, bytes.NewReader(b), int64(len(b)), etag)
}

// ReadDisclosure reads one disclosure document of a client, with its ETag.
func (s *Store) ReadDisclosure(ctx context.Context, clinic, client, id string) (*Disclosure, string, error) {
	if err := checkIDs(clinic, client, id); err != nil {
		return nil, "", err
	}
	obj, info, err := s.open(ctx, disclosurePrefix(clinic, client)+id)
	if err != nil {
		return nil, "", err
	}
	defer obj.Close()
	var d Disclosure
	if err := decodeStrict(obj, maxDisclosureSize, &d); err != nil {
		return nil, "", fmt.Errorf("%w: %w", errDisclosure, err)
	}
	if err := d.check(); err != nil {
		return nil, "", err
	}
	if d.Clinic != clinic || d.Client != client || d.ID != id {
		return nil, "", fmt.Errorf("%w: ids do not match its place", errDisclosure)
	}
	return &d, info.ETag, nil
}

// ListDisclosures returns the ids of a client's disclosure documents, in id order.
func (s *Store) ListDisclosures(ctx context.Context, clinic, client string) ([]string, error) {
	if err := checkIDs(clinic, client); err != nil {
		return nil, err
	}
	return s.listIDs(ctx, disclosurePrefix(clinic, client), "", 0)
}

func tokenKey(clinic, jti string) string { return "c/" + clinic + "/t/" + jti }

// UseToken records that the download token jti has been redeemed, with a conditional create:
// of two redemptions of one token, however they race (two replicas included), exactly one
// succeeds and the other gets ErrExists.
func (s *Store) UseToken(ctx context.Context, clinic, jti string) error {
	if err := checkIDs(clinic, jti); err != nil {
		return err
	}
	_, err := s.create(ctx, tokenKey(clinic, jti), bytes.NewReader(nil), 0)
	return err
}
