package clinic

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/storage/object"
)

// The clinic's part of the bucket. Every component is a random id or a keyed hash, never PHI:
//
//	c/<clinic>/p/<client>/profile   the client's profile (identity sealed; care team)
//	c/<clinic>/i/<index>/<client>   marker: the client's blind index (a Transit HMAC)
//	c/<clinic>/staff                the clinic's clinicians, and its settings

// Profile is a client as the clinic knows them: identity fields sealed under the clinic's
// client-identity key, the blind index of name and date of birth (so a changed identity can
// remove its old index entry), and the care team: the subjects of the clinicians who treat
// the client.
type Profile struct {
	Version    int               `json:"v"`
	Clinic     string            `json:"clinic"`
	Client     string            `json:"client"`
	Created    time.Time         `json:"created"`
	TransitKey string            `json:"transit_key"`
	WrappedKey string            `json:"wrapped_key"`
	Fields     map[string][]byte `json:"fields"`
	Index      string            `json:"index"`
	CareTeam   []string          `json:"care_team"`
	// Account is the blind index of the client's own login subject, when they have one.
	Account string `json:"account,omitempty"`
	// Representatives are the logins that may act for the client as personal
	// representatives, with what the clinic knows of each (MaxRepresentatives at most).
	Representatives []Representative `json:"representatives,omitempty"`
	// Revision counts the profile's changes: 1 when created, one more at each change.
	Revision uint64 `json:"revision,omitempty"`
	// Tag authenticates everything above (see Digest): access decisions read the care team
	// and the account without opening any sealed field.
	Tag string `json:"tag"`
}

// Staff is a clinic's roster of clinicians.
type Staff struct {
	Version    int                     `json:"v"`
	Clinic     string                  `json:"clinic"`
	Clinicians []recordvault.Clinician `json:"clinicians"`
	// Jurisdiction is the clinic's setting of the law it practises under (a key of
	// policy.Jurisdictions); empty until a clinic admin sets it. It rides with the roster so
	// that the same tag and revision keep it from being forged or rolled back.
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// Name and Contact are how the clinic names itself and is reached (address, telephone),
	// on the copies it releases; empty until a clinic admin sets them.
	Name     string `json:"name,omitempty"`
	Contact  string `json:"contact,omitempty"`
	Revision uint64 `json:"revision,omitempty"` // one more at each change
	Tag      string `json:"tag"`                // authenticates the roster (see Digest)
}

// clone is a copy of st that shares nothing a caller could change.
func (st *Staff) clone() *Staff {
	c := *st
	c.Clinicians = slices.Clone(st.Clinicians)
	return &c
}

const (
	maxProfileSize = 256 << 10
	maxStaffSize   = 4 << 20
	maxFields      = 64
	// MaxCareTeam bounds the clinicians of one client's care team.
	MaxCareTeam = 64
	// MaxStaff bounds a clinic's roster.
	MaxStaff = 10000
	// MaxClinicName and MaxClinicContact bound the clinic's name and contact.
	MaxClinicName    = 200
	MaxClinicContact = 500
)

var (
	errProfile = errors.New("clinic: invalid profile")
	errStaff   = errors.New("clinic: invalid staff roster")
)

// Digest is SHA-256 over p's canonical form: a label, then p's JSON at the current format
// version with the tag left empty. Encoding a decoded object again gives the same bytes, so a
// digest computed before a write matches the one computed after a read, and any change to a
// field changes it. The clinic authenticates this digest in Tag.
func (p Profile) Digest() [sha256.Size]byte {
	p.Version, p.Tag = 1, ""
	return digest("profile", p)
}

// Digest is SHA-256 over st's canonical form, as Profile.Digest.
func (st Staff) Digest() [sha256.Size]byte {
	st.Version, st.Tag = 1, ""
	return digest("staff", st)
}

func digest(label string, v any) [sha256.Size]byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("clinic: digest of an unencodable " + label) // plain structs of strings, times and bytes
	}
	h := sha256.New()
	h.Write([]byte("recordvault/state/v1/" + label + "\x00"))
	h.Write(b)
	return [sha256.Size]byte(h.Sum(nil))
}

func clientsPrefix(clinic string) string      { return "c/" + clinic + "/p/" }
func profileKey(clinic, client string) string { return clientsPrefix(clinic) + client + "/profile" }
func indexPrefix(clinic, index string) string { return "c/" + clinic + "/i/" + index + "/" }
func staffKey(clinic string) string           { return "c/" + clinic + "/staff" }
func validIndexEntry(clinic, index, client string) bool {
	return recordvault.ValidIDs(clinic, client) && recordvault.ValidDigest(index)
}

func (p *Profile) check() error {
	if p.Version != 1 || !recordvault.ValidIDs(p.Clinic, p.Client) ||
		!recordvault.ValidName(p.TransitKey) || p.WrappedKey == "" || !recordvault.ValidDigest(p.Index) ||
		len(p.Fields) > maxFields || len(p.CareTeam) > MaxCareTeam || (p.Account != "" && !recordvault.ValidDigest(p.Account)) ||
		!recordvault.ValidDigest(p.Tag) {
		return errProfile
	}
	for name := range p.Fields {
		if !recordvault.ValidName(name) {
			return errProfile
		}
	}
	for _, s := range p.CareTeam {
		if !recordvault.ValidSubject(s) {
			return errProfile
		}
	}
	if len(p.Representatives) > MaxRepresentatives {
		return errProfile
	}
	for _, r := range p.Representatives {
		if !recordvault.ValidDigest(r.Account) {
			return errProfile
		}
	}
	return nil
}

func (st *Staff) check() error {
	if st.Version != 1 || !recordvault.ValidID(st.Clinic) || len(st.Clinicians) > MaxStaff || !recordvault.ValidDigest(st.Tag) ||
		len(st.Name) > MaxClinicName || len(st.Contact) > MaxClinicContact {
		return errStaff
	}
	seen := make(map[string]bool, len(st.Clinicians))
	for _, c := range st.Clinicians {
		if !recordvault.ValidSubject(c.Subject) || seen[c.Subject] || len(c.Name) > 200 {
			return errStaff
		}
		seen[c.Subject] = true
	}
	return nil
}

// Bucket is Store over object storage, in the layout above.
type Bucket struct{ objects object.Store }

// NewBucket returns the clinic's Store in objects.
func NewBucket(objects object.Store) *Bucket { return &Bucket{objects: objects} }

var _ Store = (*Bucket)(nil)

// CreateProfile stores a new client's profile; object.ErrExists if the id is taken.
func (b *Bucket) CreateProfile(ctx context.Context, p *Profile) (etag string, err error) {
	return b.writeProfile(ctx, p, "")
}

// ReplaceProfile stores p in place of the profile whose ETag is etag; object.ErrChanged if
// another writer replaced it first.
func (b *Bucket) ReplaceProfile(ctx context.Context, p *Profile, etag string) (string, error) {
	if etag == "" {
		return "", errors.New("clinic: replace without an ETag")
	}
	return b.writeProfile(ctx, p, etag)
}

func (b *Bucket) writeProfile(ctx context.Context, p *Profile, etag string) (string, error) {
	p.Version = 1
	if err := p.check(); err != nil {
		return "", err
	}
	body, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	return object.Write(ctx, b.objects, profileKey(p.Clinic, p.Client), body, etag)
}

// DeleteProfile removes a profile: the clean-up after a client whose index failed to store.
func (b *Bucket) DeleteProfile(ctx context.Context, clinic, client string) error {
	if !recordvault.ValidIDs(clinic, client) {
		return errProfile
	}
	return b.objects.Delete(ctx, profileKey(clinic, client))
}

// ReadProfile reads a client's profile, with its ETag for a later replace.
func (b *Bucket) ReadProfile(ctx context.Context, clinic, client string) (*Profile, string, error) {
	if !recordvault.ValidIDs(clinic, client) {
		return nil, "", errProfile
	}
	var p Profile
	etag, err := object.ReadJSON(ctx, b.objects, profileKey(clinic, client), maxProfileSize, &p)
	if err != nil {
		return nil, "", err
	}
	if err := p.check(); err != nil {
		return nil, "", err
	}
	if p.Clinic != clinic || p.Client != client {
		return nil, "", fmt.Errorf("%w: ids do not match its place", errProfile)
	}
	return &p, etag, nil
}

// ListClients returns up to limit client ids of a clinic in id order, after the id after.
func (b *Bucket) ListClients(ctx context.Context, clinic, after string, limit int) ([]string, error) {
	if !recordvault.ValidIDs(clinic) || (after != "" && !recordvault.ValidID(after)) {
		return nil, errors.New("clinic: invalid listing")
	}
	// Profiles are c/<clinic>/p/<client>/profile: list the client levels one down.
	return object.ListLevels(ctx, b.objects, clientsPrefix(clinic), after, limit)
}

// AddIndex records that client has the blind index value index (hex).
func (b *Bucket) AddIndex(ctx context.Context, clinic, index, client string) error {
	if !validIndexEntry(clinic, index, client) {
		return errors.New("clinic: invalid index entry")
	}
	if _, err := b.objects.Create(ctx, indexPrefix(clinic, index)+client, nil); err != nil && !errors.Is(err, object.ErrExists) {
		return err
	}
	return nil
}

// RemoveIndex removes the record that client has the blind index value index.
func (b *Bucket) RemoveIndex(ctx context.Context, clinic, index, client string) error {
	if !validIndexEntry(clinic, index, client) {
		return errors.New("clinic: invalid index entry")
	}
	return b.objects.Delete(ctx, indexPrefix(clinic, index)+client)
}

// FindIndex returns the clients whose blind index value is index.
func (b *Bucket) FindIndex(ctx context.Context, clinic, index string) ([]string, error) {
	if !recordvault.ValidIDs(clinic) || !recordvault.ValidDigest(index) {
		return nil, errors.New("clinic: invalid index")
	}
	return object.ListIDs(ctx, b.objects, indexPrefix(clinic, index), "", 0)
}

// ReadStaff reads a clinic's roster, with its ETag ("" and an empty roster when there is
// none yet).
func (b *Bucket) ReadStaff(ctx context.Context, clinic string) (*Staff, string, error) {
	if !recordvault.ValidIDs(clinic) {
		return nil, "", errStaff
	}
	var st Staff
	etag, err := object.ReadJSON(ctx, b.objects, staffKey(clinic), maxStaffSize, &st)
	if errors.Is(err, object.ErrNotFound) {
		return &Staff{Version: 1, Clinic: clinic}, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	if err := st.check(); err != nil || st.Clinic != clinic {
		return nil, "", errStaff
	}
	return &st, etag, nil
}

// WriteStaff stores a clinic's roster: created when etag is "", else replacing the roster
// whose ETag is etag (object.ErrChanged if another writer replaced it first).
func (b *Bucket) WriteStaff(ctx context.Context, st *Staff, etag string) (string, error) {
	st.Version = 1
	if err := st.check(); err != nil {
		return "", err
	}
	body, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	newETag, err := object.Write(ctx, b.objects, staffKey(st.Clinic), body, etag)
	if errors.Is(err, object.ErrExists) {
		return "", object.ErrChanged // created by another writer since it was read
	}
	return newETag, err
}
