package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/recordvault/recordvault"
)

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
	Revision     uint64 `json:"revision,omitempty"` // one more at each change
	Tag          string `json:"tag"`                // authenticates the roster (see Digest)
}

const (
	maxProfileSize = 256 << 10
	maxStaffSize   = 4 << 20
	// MaxCareTeam bounds the clinicians of one client's care team.
	MaxCareTeam = 64
	// MaxStaff bounds a clinic's roster.
	MaxStaff = 10000
)

var (
	validIndex = regexp.MustCompile(`^[0-9a-f]{64}$`)
	errProfile = errors.New("storage: invalid profile")
	errStaff   = errors.New("storage: invalid staff roster")
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
		panic("storage: digest of an unencodable " + label) // plain structs of strings, times and bytes
	}
	h := sha256.New()
	h.Write([]byte("recordvault/state/v1/" + label + "\x00"))
	h.Write(b)
	return [sha256.Size]byte(h.Sum(nil))
}

func profileKey(clinic, client string) string { return "c/" + clinic + "/p/" + client + "/profile" }
func indexPrefix(clinic, index string) string { return "c/" + clinic + "/i/" + index + "/" }
func staffKey(clinic string) string           { return "c/" + clinic + "/staff" }

func (p *Profile) check() error {
	if p.Version != 1 || !recordvault.ValidID(p.Clinic) || !recordvault.ValidID(p.Client) ||
		!validName.MatchString(p.TransitKey) || p.WrappedKey == "" || !validIndex.MatchString(p.Index) ||
		len(p.Fields) > maxFields || len(p.CareTeam) > MaxCareTeam || (p.Account != "" && !validIndex.MatchString(p.Account)) ||
		!validIndex.MatchString(p.Tag) {
		return errProfile
	}
	for name := range p.Fields {
		if !validName.MatchString(name) {
			return errProfile
		}
	}
	for _, s := range p.CareTeam {
		if !recordvault.ValidSubject(s) {
			return errProfile
		}
	}
	return nil
}

func (s *Staff) check() error {
	if s.Version != 1 || !recordvault.ValidID(s.Clinic) || len(s.Clinicians) > MaxStaff || !validIndex.MatchString(s.Tag) {
		return errStaff
	}
	seen := make(map[string]bool, len(s.Clinicians))
	for _, c := range s.Clinicians {
		if !recordvault.ValidSubject(c.Subject) || seen[c.Subject] || len(c.Name) > 200 {
			return errStaff
		}
		seen[c.Subject] = true
	}
	return nil
}

// CreateProfile stores a new client's profile; ErrExists if the id is taken.
func (s *Store) CreateProfile(ctx context.Context, p *Profile) (etag string, err error) {
	return s.writeProfile(ctx, p, "")
}

// ReplaceProfile stores p in place of the profile whose ETag is etag; ErrChanged if another
// writer replaced it first.
func (s *Store) ReplaceProfile(ctx context.Context, p *Profile, etag string) (string, error) {
	if etag == "" {
		return "", errors.New("storage: replace without an ETag")
	}
	return s.writeProfile(ctx, p, etag)
}

func (s *Store) writeProfile(ctx context.Context, p *Profile, etag string) (string, error) {
	p.Version = 1
	if err := p.check(); err != nil {
		return "", err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	return s.put(ctx, profileKey(p.Clinic, p.Client), bytes.NewReader(b), int64(len(b)), etag)
}

// DeleteProfile removes a profile: the clean-up after a client whose index failed to store.
func (s *Store) DeleteProfile(ctx context.Context, clinic, client string) error {
	if err := checkIDs(clinic, client); err != nil {
		return err
	}
	return s.remove(ctx, profileKey(clinic, client))
}

// ReadProfile reads a client's profile, with its ETag for a later replace.
func (s *Store) ReadProfile(ctx context.Context, clinic, client string) (*Profile, string, error) {
	if err := checkIDs(clinic, client); err != nil {
		return nil, "", err
	}
	obj, info, err := s.open(ctx, profileKey(clinic, client))
	if err != nil {
		return nil, "", err
	}
	defer obj.Close()
	var p Profile
	if err := decodeStrict(obj, maxProfileSize, &p); err != nil {
		return nil, "", fmt.Errorf("%w: %w", errProfile, err)
	}
	if err := p.check(); err != nil {
		return nil, "", err
	}
	if p.Clinic != clinic || p.Client != client {
		return nil, "", fmt.Errorf("%w: ids do not match its place", errProfile)
	}
	return &p, info.ETag, nil
}

// ListClients returns up to limit client ids of a clinic in id order, after the id after.
func (s *Store) ListClients(ctx context.Context, clinic, after string, limit int) ([]string, error) {
	if err := checkIDs(clinic); err != nil {
		return nil, err
	}
	// Profiles are c/<clinic>/p/<client>/profile: list the client "directories" one level down.
	return s.listDirs(ctx, "c/"+clinic+"/p/", after, limit)
}

// AddIndex records that client has the blind index value index (hex).
func (s *Store) AddIndex(ctx context.Context, clinic, index, client string) error {
	if err := checkIDs(clinic, client); err != nil || !validIndex.MatchString(index) {
		return errors.New("storage: invalid index entry")
	}
	if _, err := s.create(ctx, indexPrefix(clinic, index)+client, bytes.NewReader(nil), 0); err != nil && !errors.Is(err, ErrExists) {
		return err
	}
	return nil
}

// RemoveIndex removes the record that client has the blind index value index.
func (s *Store) RemoveIndex(ctx context.Context, clinic, index, client string) error {
	if err := checkIDs(clinic, client); err != nil || !validIndex.MatchString(index) {
		return errors.New("storage: invalid index entry")
	}
	return s.remove(ctx, indexPrefix(clinic, index)+client)
}

// FindIndex returns the clients whose blind index value is index.
func (s *Store) FindIndex(ctx context.Context, clinic, index string) ([]string, error) {
	if err := checkIDs(clinic); err != nil || !validIndex.MatchString(index) {
		return nil, errors.New("storage: invalid index")
	}
	return s.listIDs(ctx, indexPrefix(clinic, index), "", 0)
}

// ReadStaff reads a clinic's roster, with its ETag ("" and an empty roster when there is
// none yet).
func (s *Store) ReadStaff(ctx context.Context, clinic string) (*Staff, string, error) {
	if err := checkIDs(clinic); err != nil {
		return nil, "", err
	}
	obj, info, err := s.open(ctx, staffKey(clinic))
	if errors.Is(err, ErrNotFound) {
		return &Staff{Version: 1, Clinic: clinic}, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	defer obj.Close()
	var st Staff
	if err := decodeStrict(obj, maxStaffSize, &st); err != nil {
		return nil, "", fmt.Errorf("%w: %w", errStaff, err)
	}
	if err := st.check(); err != nil || st.Clinic != clinic {
		return nil, "", errStaff
	}
	return &st, info.ETag, nil
}

// WriteStaff stores a clinic's roster: created when etag is "", else replacing the roster
// whose ETag is etag (ErrChanged if another writer replaced it first).
func (s *Store) WriteStaff(ctx context.Context, st *Staff, etag string) (string, error) {
	st.Version = 1
	if err := st.check(); err != nil {
		return "", err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	newETag, err := s.put(ctx, staffKey(st.Clinic), bytes.NewReader(b), int64(len(b)), etag)
	if errors.Is(err, ErrExists) {
		return "", ErrChanged // created by another writer since it was read
	}
	return newETag, err
}
