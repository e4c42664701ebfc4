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

// MaxTokenUseSize bounds what a redemption's record holds (its download session).
const MaxTokenUseSize = 4 << 10

// UseToken records that the download token jti has been redeemed, holding body (the download
// session it opened), with a conditional create: of two redemptions of one token, however
// they race (two replicas included), exactly one succeeds and the other gets ErrExists.
func (s *Store) UseToken(ctx context.Context, clinic, jti string, body []byte) error {
	if err := checkIDs(clinic, jti); err != nil {
		return err
	}
	if len(body) > MaxTokenUseSize {
		return errors.New("storage: a token's use record is too large")
	}
	_, err := s.create(ctx, tokenKey(clinic, jti), bytes.NewReader(body), int64(len(body)))
	return err
}

// ReadTokenUse reads what UseToken stored for the token jti; ErrNotFound when it was not
// redeemed.
func (s *Store) ReadTokenUse(ctx context.Context, clinic, jti string) ([]byte, error) {
	if err := checkIDs(clinic, jti); err != nil {
		return nil, err
	}
	b, _, err := s.readSmall(ctx, tokenKey(clinic, jti), "", MaxTokenUseSize, "token use")
	return b, err
}

// Code is the state of a one-time code sent to a download token's recipient: only the MAC of
// the code (computed in Vault) is kept, with its expiry, how often a code was sent for the
// token, how many wrong codes were tried, and whether it was used.
type Code struct {
	Version  int       `json:"v"`
	Clinic   string    `json:"clinic"`
	JTI      string    `json:"jti"`
	MAC      string    `json:"mac"`
	Expires  time.Time `json:"expires"`
	Sends    int       `json:"sends"`
	Attempts int       `json:"attempts"`
	Used     bool      `json:"used"`
}

const maxCodeSize = 4 << 10

var errCode = errors.New("storage: invalid one-time code state")

func codeKey(clinic, jti string) string { return "c/" + clinic + "/o/" + jti }

// WriteCode stores a code's state: created when etag is "" (ErrExists if there is one),
// else replacing the state whose ETag is etag (ErrChanged if another writer was first).
func (s *Store) WriteCode(ctx context.Context, c *Code, etag string) (string, error) {
	c.Version = 1
	if checkIDs(c.Clinic, c.JTI) != nil || !validIndex.MatchString(c.MAC) {
		return "", errCode
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return s.put(ctx, codeKey(c.Clinic, c.JTI), bytes.NewReader(b), int64(len(b)), etag)
}

// ReadCode reads the code state of a token, with its ETag; ErrNotFound when no code was sent.
func (s *Store) ReadCode(ctx context.Context, clinic, jti string) (*Code, string, error) {
	if err := checkIDs(clinic, jti); err != nil {
		return nil, "", err
	}
	obj, info, err := s.open(ctx, codeKey(clinic, jti))
	if err != nil {
		return nil, "", err
	}
	defer obj.Close()
	var c Code
	if err := decodeStrict(obj, maxCodeSize, &c); err != nil || c.Version != 1 || c.Clinic != clinic || c.JTI != jti {
		return nil, "", errCode
	}
	return &c, info.ETag, nil
}
