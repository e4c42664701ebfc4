// Package clinic keeps what a clinic knows about its people: clients (identity sealed field
// by field, found by a blind index), their care teams, and the clinic's clinicians. Like
// package records it talks to neither Vault nor S3 itself: it is given a Keyring and a Store.
//
// Identity fields are sealed with a per-client data key wrapped by the clinic's
// client-identity Transit key. Finding a client by exact full name and date of birth uses a
// blind index: HMAC-SHA-256 computed by Transit with the clinic's client-index key (which
// never leaves Vault) over the normalised name and date (recordvault.IndexInput), stored as
// the name of an empty object. Someone who reads the bucket cannot test a guess against it.
// Profiles and the roster, which access decisions read, carry a tag computed in Vault
// (state.go): someone who writes the bucket cannot forge a care team or a licence.
package clinic

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/crypto"
	"github.com/recordvault/recordvault/seal"
	"github.com/recordvault/recordvault/storage/object"
	"github.com/recordvault/recordvault/transit"
)

// Store is what the service needs of object storage.
type Store interface {
	CreateProfile(ctx context.Context, p *Profile) (string, error)
	ReplaceProfile(ctx context.Context, p *Profile, etag string) (string, error)
	DeleteProfile(ctx context.Context, clinic, client string) error
	ReadProfile(ctx context.Context, clinic, client string) (*Profile, string, error)
	ListClients(ctx context.Context, clinic, after string, limit int) ([]string, error)
	AddIndex(ctx context.Context, clinic, index, client string) error
	RemoveIndex(ctx context.Context, clinic, index, client string) error
	FindIndex(ctx context.Context, clinic, index string) ([]string, error)
	ReadStaff(ctx context.Context, clinic string) (*Staff, string, error)
	WriteStaff(ctx context.Context, st *Staff, etag string) (string, error)
}

// identityCategory names identity fields in their crypto binding, apart from every record
// category.
const identityCategory = "client_identity"

// IdentityKeyName is the Transit key that wraps a clinic's client identity data keys.
func IdentityKeyName(clinic string) string { return transit.Name(clinic, transit.ClientIdentity) }

// IndexKeyName is the Transit key whose HMAC key computes a clinic's blind index.
func IndexKeyName(clinic string) string { return transit.Name(clinic, transit.ClientIndex) }

// Service keeps clients, care teams and clinicians.
type Service struct {
	keys  seal.Keyring
	tags  *stateTags
	revs  *revisions
	kept  *kept // checked profiles and rosters (state.go)
	store Store

	revLog   RevisionLog
	recallMu sync.Mutex
	recalled map[string]time.Time // when each clinic's revisions were last recalled
	rand     io.Reader
	now      func() time.Time
}

// New returns a Service over keys and store, reading the time from now (time.Now when nil).
func New(keys seal.Keyring, store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{keys: keys, tags: newStateTags(keys), revs: &revisions{seen: map[string]uint64{}}, kept: &kept{entries: map[string]keptState{}}, recalled: map[string]time.Time{}, store: store, rand: rand.Reader, now: now}
}

// Client is a loaded client: ids and care team, identity still sealed.
type Client struct {
	ID, Clinic string
	Created    time.Time
	CareTeam   []string
	p          *Profile
	etag       string
}

func loaded(p *Profile, etag string) *Client {
	return &Client{ID: p.Client, Clinic: p.Clinic, Created: p.Created, CareTeam: slices.Clone(p.CareTeam), p: p, etag: etag}
}

// CreateClient stores a new client with identity id and care team team (clinicians of the
// clinic's roster), and indexes it. The profile is written first and the index entry last,
// so a client is never found before it exists; if indexing fails the profile is removed.
func (s *Service) CreateClient(ctx context.Context, clinic string, id recordvault.Identity, team []string) (*Client, error) {
	if err := id.Validate(s.now()); err != nil {
		return nil, err
	}
	if err := s.checkTeam(ctx, clinic, team); err != nil {
		return nil, err
	}
	index, err := s.index(ctx, clinic, id.FullName, id.DateOfBirth)
	if err != nil {
		return nil, err
	}
	p := &Profile{Clinic: clinic, Client: recordvault.NewID(), Created: s.now().UTC(), TransitKey: IdentityKeyName(clinic),
		Index: index, CareTeam: team, Fields: map[string][]byte{}, Revision: 1}
	key, wrapped, err := seal.NewKey(ctx, s.keys, p.TransitKey, crypto.DataKeyContext(clinic, identityCategory, p.Client))
	if err != nil {
		return nil, fmt.Errorf("clinic: create client: %w", err)
	}
	defer key.Destroy()
	p.WrappedKey = wrapped
	for name, v := range id.Fields() {
		if p.Fields[name], err = key.SealField(s.rand, binding(p, name), []byte(v)); err != nil {
			return nil, err
		}
	}
	if err := s.tagProfile(ctx, p); err != nil {
		return nil, err
	}
	etag, err := s.store.CreateProfile(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("clinic: store client: %w", err)
	}
	s.Witness(clinic, p.Client, p.Revision) // the first revision: nothing older to put back, nothing to log
	s.keepProfile(p, etag)
	if err := s.store.AddIndex(ctx, clinic, index, p.Client); err != nil {
		_ = s.store.DeleteProfile(context.WithoutCancel(ctx), clinic, p.Client) // the clean-up outlives a cancelled request
		return nil, fmt.Errorf("clinic: index client: %w", err)
	}
	return loaded(p, etag), nil
}

func binding(p *Profile, name string) crypto.Binding {
	return crypto.Binding{Clinic: p.Clinic, Category: identityCategory, Record: p.Client, Name: name}
}

// index computes the blind index value of a name and date of birth (one Vault call).
func (s *Service) index(ctx context.Context, clinic, fullName, dateOfBirth string) (string, error) {
	mac, err := s.keys.HMAC(ctx, IndexKeyName(clinic), recordvault.IndexInput(fullName, dateOfBirth))
	if err != nil {
		return "", fmt.Errorf("clinic: blind index: %w", err)
	}
	return hex.EncodeToString(mac), nil
}

// tagProfile sets p's tag for its content as it stands.
func (s *Service) tagProfile(ctx context.Context, p *Profile) (err error) {
	p.Tag, err = s.tags.tag(ctx, p.Clinic, p.Digest())
	return err
}

// LoadClient reads a client's profile (one GET) and checks its tag (a Vault call, unless this
// exact profile was checked before): ids and care team, for access decisions. ErrTampered
// when the profile was changed outside the service.
func (s *Service) LoadClient(ctx context.Context, clinic, client string) (*Client, error) {
	if !recordvault.ValidID(clinic) || !recordvault.ValidID(client) {
		return nil, recordvault.ErrNotFound
	}
	if err := s.recall(ctx, clinic); err != nil {
		return nil, err
	}
	key := profileRevisionKey(clinic, client)
	if e, ok := s.kept.get(key, s.revs.latest(key), s.now()); ok {
		return loaded(e.profile, e.etag), nil
	}
	p, etag, err := s.store.ReadProfile(ctx, clinic, client)
	if errors.Is(err, object.ErrNotFound) {
		return nil, recordvault.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("clinic: read client: %w", err)
	}
	if err := s.tags.check(ctx, clinic, p.Digest(), p.Tag); err != nil {
		return nil, fmt.Errorf("clinic: client %s: %w", client, err)
	}
	if err := s.revs.see(key, p.Revision); err != nil {
		return nil, fmt.Errorf("clinic: client %s: revision %d is older than one seen: %w", client, p.Revision, err)
	}
	s.keepProfile(p, etag)
	return loaded(p, etag), nil
}

// keepProfile keeps p, checked or stored by this process, for the next decisions on it.
func (s *Service) keepProfile(p *Profile, etag string) {
	s.kept.keep(profileRevisionKey(p.Clinic, p.Client), keptState{revision: p.Revision, etag: etag, profile: p, at: s.now()})
}

// ErrUnreadable is the one error for a profile whose key or fields do not open.
var ErrUnreadable = recordvault.Errorf(recordvault.EINTERNAL, "client identity cannot be decrypted")

// Identity decrypts a loaded client's identity (one Vault call).
func (s *Service) Identity(ctx context.Context, c *Client) (recordvault.Identity, error) {
	if c.p.TransitKey != IdentityKeyName(c.Clinic) {
		return recordvault.Identity{}, ErrUnreadable
	}
	key, err := seal.OpenKey(ctx, s.keys, c.p.TransitKey, seal.WrappedKey{Wrapped: c.p.WrappedKey,
		Context: crypto.DataKeyContext(c.Clinic, identityCategory, c.ID)})
	if errors.Is(err, seal.ErrUnwrap) {
		return recordvault.Identity{}, ErrUnreadable
	}
	if err != nil {
		return recordvault.Identity{}, fmt.Errorf("clinic: unwrap identity: %w", err)
	}
	defer key.Destroy()
	fields := make(map[string]string, len(c.p.Fields))
	for name, sealed := range c.p.Fields {
		v, err := key.OpenField(binding(c.p, name), sealed)
		if err != nil {
			return recordvault.Identity{}, ErrUnreadable
		}
		fields[name] = string(v)
	}
	return recordvault.IdentityFromFields(fields), nil
}

// FindClients returns the ids of the clinic's clients with exactly this full name (after
// normalisation) and date of birth.
func (s *Service) FindClients(ctx context.Context, clinic, fullName, dateOfBirth string) ([]string, error) {
	index, err := s.index(ctx, clinic, fullName, dateOfBirth)
	if err != nil {
		return nil, err
	}
	ids, err := s.store.FindIndex(ctx, clinic, index)
	if err != nil {
		return nil, fmt.Errorf("clinic: find clients: %w", err)
	}
	return ids, nil
}

// ListClients returns up to limit client ids in id order, after the id after.
func (s *Service) ListClients(ctx context.Context, clinic, after string, limit int) ([]string, error) {
	ids, err := s.store.ListClients(ctx, clinic, after, limit)
	if err != nil {
		return nil, fmt.Errorf("clinic: list clients: %w", err)
	}
	return ids, nil
}

var errChanged = recordvault.Errorf(recordvault.ECONFLICT, "the client changed while this request was made; read it again")

// SetCareTeam replaces a client's care team with team, if the client has not changed since
// it was loaded.
func (s *Service) SetCareTeam(ctx context.Context, c *Client, team []string) error {
	if err := s.checkTeam(ctx, c.Clinic, team); err != nil {
		return err
	}
	return s.replaceProfile(ctx, c, func(p *Profile) { p.CareTeam = team })
}

// replaceProfile stores c's profile as change leaves it, tagged anew, if the client has not
// changed since c was loaded; c then holds what was stored.
func (s *Service) replaceProfile(ctx context.Context, c *Client, change func(p *Profile)) error {
	p := *c.p
	change(&p)
	p.Revision++
	if err := s.tagProfile(ctx, &p); err != nil {
		return err
	}
	etag, err := s.store.ReplaceProfile(ctx, &p, c.etag)
	if errors.Is(err, object.ErrChanged) {
		return errChanged
	}
	if err != nil {
		return fmt.Errorf("clinic: store client: %w", err)
	}
	*c = *loaded(&p, etag)
	s.keepProfile(&p, etag)
	return s.revised(ctx, p.Clinic, p.Client, p.Revision)
}

// LinkAccount makes subject, a login of role client, the client's own account, replacing
// any earlier one. The profile keeps only the subject's blind index, and an index entry finds
// the client from it; a subject already linked to another client is refused.
func (s *Service) LinkAccount(ctx context.Context, c *Client, subject string) error {
	mac, err := s.keys.HMAC(ctx, IndexKeyName(c.Clinic), recordvault.AccountIndexInput(subject))
	if err != nil {
		return fmt.Errorf("clinic: account index: %w", err)
	}
	index := hex.EncodeToString(mac)
	if linked, err := s.accountClients(ctx, c.Clinic, index); err != nil {
		return err
	} else if len(linked) > 0 && !slices.Equal(linked, []string{c.ID}) {
		return recordvault.Errorf(recordvault.ECONFLICT, "the account is another client's")
	}
	if err := s.store.AddIndex(ctx, c.Clinic, index, c.ID); err != nil {
		return fmt.Errorf("clinic: index account: %w", err)
	}
	old := c.p.Account
	if err := s.replaceProfile(ctx, c, func(p *Profile) { p.Account = index }); err != nil {
		return err
	}
	if old != "" && old != index {
		if err := s.store.RemoveIndex(ctx, c.Clinic, old, c.ID); err != nil {
			return fmt.Errorf("clinic: unindex old account: %w", err)
		}
	}
	return nil
}

// ClientOfAccount returns the client whose own account subject is: "" when there is none.
func (s *Service) ClientOfAccount(ctx context.Context, clinic, subject string) (string, error) {
	mac, err := s.keys.HMAC(ctx, IndexKeyName(clinic), recordvault.AccountIndexInput(subject))
	if err != nil {
		return "", fmt.Errorf("clinic: account index: %w", err)
	}
	linked, err := s.accountClients(ctx, clinic, hex.EncodeToString(mac))
	if err != nil || len(linked) != 1 {
		return "", err
	}
	return linked[0], nil
}

// accountClients returns the clients whose profile names index as their account (an index
// entry left by an interrupted relink is ignored).
func (s *Service) accountClients(ctx context.Context, clinic, index string) ([]string, error) {
	ids, err := s.store.FindIndex(ctx, clinic, index)
	if err != nil {
		return nil, fmt.Errorf("clinic: find account: %w", err)
	}
	var out []string
	for _, id := range ids {
		c, err := s.LoadClient(ctx, clinic, id)
		if errors.Is(err, recordvault.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if c.p.Account == index {
			out = append(out, id)
		}
	}
	return out, nil
}

// checkTeam requires every member of a care team to be a distinct clinician of the roster.
func (s *Service) checkTeam(ctx context.Context, clinic string, team []string) error {
	if len(team) > MaxCareTeam {
		return recordvault.Errorf(recordvault.EINVALID, "a care team has at most %d clinicians", MaxCareTeam)
	}
	if len(team) == 0 {
		return nil
	}
	st, _, err := s.readStaff(ctx, clinic)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, sub := range team {
		if seen[sub] || !slices.ContainsFunc(st.Clinicians, func(c recordvault.Clinician) bool { return c.Subject == sub }) {
			return recordvault.Errorf(recordvault.EINVALID, "care team members must be distinct clinicians of the clinic")
		}
		seen[sub] = true
	}
	return nil
}

// Clinicians returns the clinic's roster, by subject.
func (s *Service) Clinicians(ctx context.Context, clinic string) ([]recordvault.Clinician, error) {
	st, _, err := s.readStaff(ctx, clinic)
	if err != nil {
		return nil, err
	}
	return st.Clinicians, nil
}

// readStaff returns the clinic's roster, checked (a roster never stored is empty): the copy
// kept from an earlier read when it may be used (state.go), else read from the bucket. The
// result is the caller's to change.
func (s *Service) readStaff(ctx context.Context, clinic string) (*Staff, string, error) {
	if err := s.recall(ctx, clinic); err != nil {
		return nil, "", err
	}
	key := rosterRevisionKey(clinic)
	if e, ok := s.kept.get(key, s.revs.latest(key), s.now()); ok {
		return e.staff.clone(), e.etag, nil
	}
	return s.readStoredStaff(ctx, clinic)
}

// readStoredStaff reads the clinic's roster from the bucket and checks its tag and revision.
func (s *Service) readStoredStaff(ctx context.Context, clinic string) (*Staff, string, error) {
	if err := s.recall(ctx, clinic); err != nil {
		return nil, "", err
	}
	st, etag, err := s.store.ReadStaff(ctx, clinic)
	if err != nil {
		return nil, "", fmt.Errorf("clinic: read staff: %w", err)
	}
	if etag != "" {
		if err := s.tags.check(ctx, clinic, st.Digest(), st.Tag); err != nil {
			return nil, "", fmt.Errorf("clinic: roster: %w", err)
		}
	}
	if err := s.revs.see(rosterRevisionKey(clinic), st.Revision); err != nil {
		return nil, "", fmt.Errorf("clinic: roster: revision %d is older than one seen: %w", st.Revision, err)
	}
	s.keepStaff(st, etag)
	return st, etag, nil
}

// keepStaff keeps a copy of st, checked or stored by this process.
func (s *Service) keepStaff(st *Staff, etag string) {
	s.kept.keep(rosterRevisionKey(st.Clinic), keptState{revision: st.Revision, etag: etag, staff: st.clone(), at: s.now()})
}

// PutClinician adds a clinician to the roster, or updates their name and licence.
func (s *Service) PutClinician(ctx context.Context, clinic string, c recordvault.Clinician) error {
	if !recordvault.ValidSubject(c.Subject) || c.Name == "" || len(c.Name) > 200 {
		return recordvault.Errorf(recordvault.EINVALID, "a clinician needs a subject (no spaces or slashes) and a name of at most 200 bytes")
	}
	return s.editStaff(ctx, clinic, func(st *Staff) {
		list := slices.DeleteFunc(slices.Clone(st.Clinicians), func(x recordvault.Clinician) bool { return x.Subject == c.Subject })
		list = append(list, c)
		slices.SortFunc(list, func(a, b recordvault.Clinician) int { return strings.Compare(a.Subject, b.Subject) })
		st.Clinicians = list
	})
}

// RemoveClinician takes a clinician off the roster and off every care team they are on, so
// that their login, should the identity provider still accept it, opens nothing. Care teams
// are changed first and the roster last: a failure part-way leaves them on the roster, where
// the removal can be run again.
func (s *Service) RemoveClinician(ctx context.Context, clinic, subject string) error {
	for after := ""; ; {
		ids, err := s.ListClients(ctx, clinic, after, 200)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := s.leaveCareTeam(ctx, clinic, id, subject); err != nil {
				return err
			}
		}
		if len(ids) < 200 {
			break
		}
		after = ids[len(ids)-1]
	}
	return s.editStaff(ctx, clinic, func(st *Staff) {
		st.Clinicians = slices.DeleteFunc(slices.Clone(st.Clinicians), func(x recordvault.Clinician) bool { return x.Subject == subject })
	})
}

// leaveCareTeam takes subject off one client's care team, retrying a few times when another
// writer changed the profile first.
func (s *Service) leaveCareTeam(ctx context.Context, clinic, client, subject string) error {
	for range 3 {
		c, err := s.LoadClient(ctx, clinic, client)
		if errors.Is(err, recordvault.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !slices.Contains(c.CareTeam, subject) {
			return nil
		}
		team := slices.DeleteFunc(slices.Clone(c.CareTeam), func(x string) bool { return x == subject })
		if err := s.SetCareTeam(ctx, c, team); !errors.Is(err, errChanged) {
			return err
		}
	}
	return errChanged
}

// State returns the clinic's state, checked: its roster and its settings (the jurisdiction,
// "" when no admin has set it), for a caller that needs both from one read.
func (s *Service) State(ctx context.Context, clinic string) (*Staff, error) {
	st, _, err := s.readStaff(ctx, clinic)
	return st, err
}

// SetJurisdiction sets the law the clinic practises under; the caller checks that it is one
// the policy knows.
func (s *Service) SetJurisdiction(ctx context.Context, clinic, jurisdiction string) error {
	return s.editStaff(ctx, clinic, func(st *Staff) { st.Jurisdiction = jurisdiction })
}

// SetProfile sets how the clinic names itself and is reached, for the copies it releases; the
// caller checks the text.
func (s *Service) SetProfile(ctx context.Context, clinic, name, contact string) error {
	return s.editStaff(ctx, clinic, func(st *Staff) { st.Name, st.Contact = name, contact })
}

// editStaff applies edit to the clinic's state (roster and settings) and stores it, retrying
// a few times when another writer got there first.
func (s *Service) editStaff(ctx context.Context, clinic string, edit func(*Staff)) error {
	for range 3 {
		st, etag, err := s.readStoredStaff(ctx, clinic) // a change starts from what is stored
		if err != nil {
			return err
		}
		edit(st)
		st.Revision++
		if st.Tag, err = s.tags.tag(ctx, clinic, st.Digest()); err != nil {
			return err
		}
		if etag, err = s.store.WriteStaff(ctx, st, etag); !errors.Is(err, object.ErrChanged) {
			if err != nil {
				return fmt.Errorf("clinic: store staff: %w", err)
			}
			s.keepStaff(st, etag)
			return s.revised(ctx, clinic, "", st.Revision)
		}
	}
	return errChanged
}
