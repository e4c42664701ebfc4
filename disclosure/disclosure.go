// Package disclosure stores the documents of the release engine about a client:
// authorizations, releases and court orders (access requests to follow). Each is one
// object whose JSON body is sealed with its own data key, wrapped by the clinic's disclosure
// Transit key, and bound to its clinic, client, id and kind, so that no body can be moved to
// another client or passed off as another kind. The kind and status are kept in the clear
// for listing, and a copy of each inside the seal is checked on every read, so a status
// edited in the bucket (a revoked authorization set back to active) is refused. Like
// packages records and clinic, it talks to neither Vault nor S3 itself.
package disclosure

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/crypto"
	"github.com/recordvault/recordvault/seal"
	"github.com/recordvault/recordvault/storage/object"
	"github.com/recordvault/recordvault/transit"
)

// Signer is what the service needs of Vault's signing: the clinic's manifest-signing key's
// signatures, made and checked by Transit.
type Signer interface {
	Sign(ctx context.Context, keyName string, message []byte) (string, error)
	Verify(ctx context.Context, keyName string, message []byte, signature string) (bool, error)
}

// Store is what the service needs of object storage.
type Store interface {
	CreateDisclosure(ctx context.Context, d *Stored) (string, error)
	ReplaceDisclosure(ctx context.Context, d *Stored, etag string) (string, error)
	ReadDisclosure(ctx context.Context, clinic, client, kind, id string) (*Stored, string, error)
	ListDisclosures(ctx context.Context, clinic, client, kind string) ([]string, error)
	UseToken(ctx context.Context, clinic, jti string, body []byte) error
	ReadTokenUse(ctx context.Context, clinic, jti string) ([]byte, error)
}

// KeyName is the Transit key that wraps a clinic's disclosure documents' data keys.
func KeyName(clinic string) string { return transit.Name(clinic, transit.Disclosure) }

// category names disclosure documents in their crypto binding, apart from every record
// category and client identities.
const category = "disclosure"

// SigningKeyName is the Transit signing key of a clinic's release manifests.
func SigningKeyName(clinic string) string { return transit.Name(clinic, transit.ManifestSigning) }

// Service stores and reads disclosure documents, and signs and verifies release manifests.
type Service struct {
	keys   seal.Keyring
	signer Signer
	store  Store
	rand   io.Reader
	now    func() time.Time
}

// New returns a Service over keys, signer and store, reading the time from now (time.Now
// when nil).
func New(keys seal.Keyring, signer Signer, store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{keys: keys, signer: signer, store: store, rand: rand.Reader, now: now}
}

// SignManifest signs a release manifest with the clinic's manifest-signing key.
func (s *Service) SignManifest(ctx context.Context, clinic string, manifest []byte) (string, error) {
	sig, err := s.signer.Sign(ctx, SigningKeyName(clinic), manifest)
	if err != nil {
		return "", fmt.Errorf("disclosure: sign manifest: %w", err)
	}
	return sig, nil
}

// VerifyManifest reports whether signature is the clinic's signature of manifest.
func (s *Service) VerifyManifest(ctx context.Context, clinic string, manifest []byte, signature string) (bool, error) {
	ok, err := s.signer.Verify(ctx, SigningKeyName(clinic), manifest, signature)
	if err != nil {
		return false, fmt.Errorf("disclosure: verify manifest: %w", err)
	}
	return ok, nil
}

// Doc is a disclosure document, its body decrypted.
type Doc struct {
	ID, Clinic, Client string
	Kind, Status       string
	Created, Updated   time.Time
	Body               json.RawMessage
	d                  *Stored
	etag               string
}

// sealed is what the seal holds: the body, with the description that is also in the clear.
type sealed struct {
	Kind    string          `json:"kind"`
	Status  string          `json:"status"`
	Created time.Time       `json:"created"`
	Updated time.Time       `json:"updated"`
	Body    json.RawMessage `json:"body"`
}

// ErrUnreadable is the one error for a document whose key or seal does not open, or whose
// description does not match its seal.
var ErrUnreadable = recordvault.Errorf(recordvault.EINTERNAL, "disclosure document cannot be decrypted")

func binding(d *Stored) crypto.Binding {
	return crypto.Binding{Clinic: d.Clinic, Category: category + "/" + d.Client, Record: d.ID, Name: d.Kind}
}

func dataKeyContext(d *Stored) []byte {
	return crypto.DataKeyContext(d.Clinic, category+"/"+d.Client, d.ID)
}

// Create seals and stores a new document id (from recordvault.NewID) of kind with status about client.
func (s *Service) Create(ctx context.Context, clinic, client, id, kind, status string, body any) (*Doc, error) {
	d := &Stored{Clinic: clinic, Client: client, ID: id, Kind: kind, Status: status, TransitKey: KeyName(clinic)}
	if !recordvault.ValidID(clinic) || !recordvault.ValidID(client) || !recordvault.ValidID(id) {
		return nil, recordvault.Errorf(recordvault.EINVALID, "malformed clinic, client or document id")
	}
	d.Created = s.now().UTC()
	d.Updated = d.Created
	key, wrapped, err := seal.NewKey(ctx, s.keys, d.TransitKey, dataKeyContext(d))
	if err != nil {
		return nil, fmt.Errorf("disclosure: create: %w", err)
	}
	defer key.Destroy()
	d.WrappedKey = wrapped
	plain, err := s.seal(key, d, body)
	if err != nil {
		return nil, err
	}
	etag, err := s.store.CreateDisclosure(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("disclosure: store: %w", err)
	}
	return &Doc{ID: d.ID, Clinic: clinic, Client: client, Kind: kind, Status: status, Created: d.Created, Updated: d.Updated,
		Body: plain, d: d, etag: etag}, nil
}

// seal puts body, with d's description, under key into d.Body, and returns body as JSON.
func (s *Service) seal(key *crypto.RecordKey, d *Stored, body any) (json.RawMessage, error) {
	plain, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	inner, err := json.Marshal(sealed{Kind: d.Kind, Status: d.Status, Created: d.Created, Updated: d.Updated, Body: plain})
	if err != nil {
		return nil, err
	}
	if d.Body, err = key.SealField(s.rand, binding(d), inner); err != nil {
		return nil, err
	}
	return plain, nil
}

// Load reads and decrypts one document of a client, which must be of kind (one GET, one
// Vault call). A document of another kind is not found.
func (s *Service) Load(ctx context.Context, clinic, client, id, kind string) (*Doc, error) {
	if !recordvault.ValidIDs(clinic, client, id) || !recordvault.ValidName(kind) {
		return nil, recordvault.ErrNotFound
	}
	d, etag, err := s.store.ReadDisclosure(ctx, clinic, client, kind, id)
	if errors.Is(err, object.ErrNotFound) {
		return nil, recordvault.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("disclosure: read: %w", err)
	}
	docs, err := s.open(ctx, []*Stored{d}, []string{etag})
	if err != nil {
		return nil, err
	}
	return docs[0], nil
}

// List reads and decrypts every document of kind about client (one GET each, one Vault call
// for them all), oldest first. Documents of other kinds are not read.
func (s *Service) List(ctx context.Context, clinic, client, kind string) ([]*Doc, error) {
	ids, err := s.store.ListDisclosures(ctx, clinic, client, kind)
	if err != nil {
		return nil, fmt.Errorf("disclosure: list: %w", err)
	}
	ds, etags := make([]*Stored, len(ids)), make([]string, len(ids))
	for i, id := range ids {
		if ds[i], etags[i], err = s.store.ReadDisclosure(ctx, clinic, client, kind, id); err != nil {
			return nil, fmt.Errorf("disclosure: read: %w", err)
		}
	}
	docs, err := s.open(ctx, ds, etags)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(docs, func(a, b *Doc) int { return a.Created.Compare(b.Created) })
	return docs, nil
}

// open unwraps the data keys of ds in one batch and opens each seal.
func (s *Service) open(ctx context.Context, ds []*Stored, etags []string) ([]*Doc, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	wrapped := make([]seal.WrappedKey, len(ds))
	for i, d := range ds {
		if d.TransitKey != KeyName(d.Clinic) {
			return nil, ErrUnreadable
		}
		wrapped[i] = seal.WrappedKey{Wrapped: d.WrappedKey, Context: dataKeyContext(d)}
	}
	keys, err := seal.OpenKeys(ctx, s.keys, KeyName(ds[0].Clinic), wrapped)
	if errors.Is(err, seal.ErrUnwrap) {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("disclosure: unwrap: %w", err)
	}
	defer func() {
		for _, k := range keys {
			k.Destroy()
		}
	}()
	out := make([]*Doc, len(ds))
	for i, d := range ds {
		if out[i], err = openOne(d, etags[i], keys[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func openOne(d *Stored, etag string, key *crypto.RecordKey) (*Doc, error) {
	inner, err := key.OpenField(binding(d), d.Body)
	if err != nil {
		return nil, ErrUnreadable
	}
	var in sealed
	if err := json.Unmarshal(inner, &in); err != nil || in.Kind != d.Kind || in.Status != d.Status ||
		!in.Created.Equal(d.Created) || !in.Updated.Equal(d.Updated) {
		return nil, ErrUnreadable
	}
	return &Doc{ID: d.ID, Clinic: d.Clinic, Client: d.Client, Kind: d.Kind, Status: d.Status, Created: d.Created,
		Updated: d.Updated, Body: in.Body, d: d, etag: etag}, nil
}

var errChanged = recordvault.Errorf(recordvault.ECONFLICT, "the document changed while this request was made; read it again")

// Update replaces a loaded document's status and body, if nobody changed it since it was
// loaded (one Vault call, one conditional PUT).
func (s *Service) Update(ctx context.Context, doc *Doc, status string, body any) error {
	d := *doc.d
	d.Status = status
	d.Updated = s.now().UTC()
	key, err := seal.OpenKey(ctx, s.keys, d.TransitKey, seal.WrappedKey{Wrapped: d.WrappedKey, Context: dataKeyContext(&d)})
	if errors.Is(err, seal.ErrUnwrap) {
		return fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if err != nil {
		return fmt.Errorf("disclosure: unwrap: %w", err)
	}
	defer key.Destroy()
	plain, err := s.seal(key, &d, body)
	if err != nil {
		return err
	}
	etag, err := s.store.ReplaceDisclosure(ctx, &d, doc.etag)
	if errors.Is(err, object.ErrChanged) {
		return errChanged
	}
	if err != nil {
		return fmt.Errorf("disclosure: replace: %w", err)
	}
	doc.Status, doc.Updated, doc.Body, doc.d, doc.etag = status, d.Updated, plain, &d, etag
	return nil
}

// ErrTokenUsed is the answer for a download token redeemed before.
var ErrTokenUsed = errors.New("disclosure: download token used")

// UseToken records the redemption of download token jti, holding the download session it
// opens; of two racing redemptions exactly one succeeds, the other gets ErrTokenUsed.
func (s *Service) UseToken(ctx context.Context, clinic, jti string, session []byte) error {
	err := s.store.UseToken(ctx, clinic, jti, session)
	if errors.Is(err, object.ErrExists) {
		return ErrTokenUsed
	}
	if err != nil {
		return fmt.Errorf("disclosure: use token: %w", err)
	}
	return nil
}

// ErrNoSession is the answer for a download session that was never opened.
var ErrNoSession = errors.New("disclosure: no such download session")

// TokenSession reads the download session the redemption of token jti opened.
func (s *Service) TokenSession(ctx context.Context, clinic, jti string) ([]byte, error) {
	b, err := s.store.ReadTokenUse(ctx, clinic, jti)
	if errors.Is(err, object.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("disclosure: read token use: %w", err)
	}
	return b, nil
}
