package disclosure

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/storage/object"
)

// The disclosures' part of the bucket. Every component is a random id, never PHI:
//
//	c/<clinic>/p/<client>/d/<kind>/<id>   a disclosure document of the client, by kind, so that
//	                                      listing one kind (the authorizations a release
//	                                      weighs) reads none of another (the releases)
//	c/<clinic>/t/<jti>             a redeemed download token: its use, and the session it opened

// Stored is one document of the release engine about a client as it is stored: an
// authorization, a court order, a release, an access request. Its body is sealed with its own
// data key, wrapped by the clinic's disclosure key; Kind and Status are kept in the clear for
// listing and checked against the sealed body when it is opened.
type Stored struct {
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

const maxStoredSize = 1 << 20

var errStored = errors.New("disclosure: invalid stored document")

func documentsPrefix(clinic, client, kind string) string {
	return "c/" + clinic + "/p/" + client + "/d/" + kind + "/"
}
func tokenKey(clinic, jti string) string { return "c/" + clinic + "/t/" + jti }

func (d *Stored) check() error {
	if d.Version != 1 || !recordvault.ValidIDs(d.Clinic, d.Client, d.ID) || !recordvault.ValidName(d.Kind) ||
		!recordvault.ValidName(d.Status) || !recordvault.ValidName(d.TransitKey) || d.WrappedKey == "" || len(d.Body) == 0 {
		return errStored
	}
	return nil
}

// Bucket is Store over object storage, in the layout above.
type Bucket struct{ objects object.Store }

// NewBucket returns the disclosures' Store in objects.
func NewBucket(objects object.Store) *Bucket { return &Bucket{objects: objects} }

var _ Store = (*Bucket)(nil)

// CreateDisclosure stores a new disclosure document; object.ErrExists if its id is taken.
func (b *Bucket) CreateDisclosure(ctx context.Context, d *Stored) (string, error) {
	return b.write(ctx, d, "")
}

// ReplaceDisclosure stores d in place of the document whose ETag is etag; object.ErrChanged
// if another writer replaced it first.
func (b *Bucket) ReplaceDisclosure(ctx context.Context, d *Stored, etag string) (string, error) {
	if etag == "" {
		return "", errors.New("disclosure: replace without an ETag")
	}
	return b.write(ctx, d, etag)
}

func (b *Bucket) write(ctx context.Context, d *Stored, etag string) (string, error) {
	d.Version = 1
	if err := d.check(); err != nil {
		return "", err
	}
	body, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	return object.Write(ctx, b.objects, documentsPrefix(d.Clinic, d.Client, d.Kind)+d.ID, body, etag)
}

// ReadDisclosure reads one disclosure document of a client, of kind, with its ETag.
func (b *Bucket) ReadDisclosure(ctx context.Context, clinic, client, kind, id string) (*Stored, string, error) {
	if !recordvault.ValidIDs(clinic, client, id) || !recordvault.ValidName(kind) {
		return nil, "", errStored
	}
	var d Stored
	etag, err := object.ReadJSON(ctx, b.objects, documentsPrefix(clinic, client, kind)+id, maxStoredSize, &d)
	if err != nil {
		return nil, "", err
	}
	if err := d.check(); err != nil {
		return nil, "", err
	}
	if d.Clinic != clinic || d.Client != client || d.Kind != kind || d.ID != id {
		return nil, "", errStored
	}
	return &d, etag, nil
}

// ListDisclosures returns the ids of a client's disclosure documents of kind, in id order.
func (b *Bucket) ListDisclosures(ctx context.Context, clinic, client, kind string) ([]string, error) {
	if !recordvault.ValidIDs(clinic, client) || !recordvault.ValidName(kind) {
		return nil, errStored
	}
	return object.ListIDs(ctx, b.objects, documentsPrefix(clinic, client, kind), "", 0)
}

// MaxTokenUseSize bounds what a redemption's record holds (its download session).
const MaxTokenUseSize = 4 << 10

// UseToken records that the download token jti has been redeemed, holding body (the download
// session it opened), with a conditional create: of two redemptions of one token, however
// they race (two replicas included), exactly one succeeds and the other gets
// object.ErrExists.
func (b *Bucket) UseToken(ctx context.Context, clinic, jti string, body []byte) error {
	if !recordvault.ValidIDs(clinic, jti) || len(body) > MaxTokenUseSize {
		return errors.New("disclosure: invalid token use")
	}
	_, err := b.objects.Create(ctx, tokenKey(clinic, jti), body)
	return err
}

// ReadTokenUse reads what UseToken stored for the token jti; object.ErrNotFound when it was
// not redeemed.
func (b *Bucket) ReadTokenUse(ctx context.Context, clinic, jti string) ([]byte, error) {
	if !recordvault.ValidIDs(clinic, jti) {
		return nil, errors.New("disclosure: invalid token")
	}
	body, _, err := b.objects.Read(ctx, tokenKey(clinic, jti), MaxTokenUseSize)
	return body, err
}
