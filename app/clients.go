package app

import (
	"context"
	"slices"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/policy"
)

// Clients, care teams and the roster: taken in, found, read and changed by staff.

// ClientView is a client as an API caller sees them.
type ClientView struct {
	ID       string                `json:"id"`
	Created  time.Time             `json:"created"`
	CareTeam []string              `json:"care_team"`
	Identity *recordvault.Identity `json:"identity,omitempty"`
}

// CreateClient takes in a new client. A clinician who does so joins the care team.
func (s *Service) CreateClient(ctx context.Context, c access.Caller, id recordvault.Identity, team []string) (*ClientView, error) {
	d := access.Decide(c, access.CreateClient, access.Target{Clinic: c.Clinic})
	if d.Allowed && !slices.Contains(c.Roles, recordvault.RoleClinicAdmin) {
		team = []string{c.ID} // a clinician takes in their own client; admins assign teams
	}
	if err := s.decide(ctx, c, "create_client", "", "", d); err != nil {
		return nil, err
	}
	cl, err := s.clinic.CreateClient(ctx, c.Clinic, id, team)
	if err != nil {
		return nil, err
	}
	return &ClientView{ID: cl.ID, Created: cl.Created, CareTeam: cl.CareTeam, Identity: &id}, nil
}

func careTeams(cls ...*clinic.Client) map[string][]string {
	m := map[string][]string{}
	for _, cl := range cls {
		if cl != nil {
			m[cl.ID] = cl.CareTeam
		}
	}
	return m
}

// GetClient returns a client with their identity.
func (s *Service) GetClient(ctx context.Context, c access.Caller, client string) (*ClientView, error) {
	cl, err := s.loadClient(ctx, c, client)
	if err != nil {
		return nil, err
	}
	d := refused("no such client")
	if cl != nil {
		d = access.Decide(c, access.ReadClient, access.Target{Clinic: c.Clinic, Participants: []string{client}, CareTeams: careTeams(cl)})
	}
	if err := s.decide(ctx, c, "read_client", client, "", d); err != nil {
		return nil, err
	}
	id, err := s.clinic.Identity(ctx, cl)
	if err != nil {
		return nil, err
	}
	return &ClientView{ID: cl.ID, Created: cl.Created, CareTeam: cl.CareTeam, Identity: &id}, nil
}

// FindClients returns the clients with exactly this name and date of birth that the caller
// may know about: all of them for a clinic admin, those on their care team for a clinician.
func (s *Service) FindClients(ctx context.Context, c access.Caller, fullName, dateOfBirth string) ([]ClientView, error) {
	d := access.Decide(c, access.CreateClient, access.Target{Clinic: c.Clinic}) // who takes in clients may look them up
	if err := s.decide(ctx, c, "find_clients", "", "", d); err != nil {
		return nil, err
	}
	ids, err := s.clinic.FindClients(ctx, c.Clinic, fullName, dateOfBirth)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		// A match reads the client's profile; a miss reads one that is not there, so that
		// the work does not tell whether anyone matched (the HTTP layer pads the time too).
		if _, err := s.loadClient(ctx, c, recordvault.NewID()); err != nil {
			return nil, err
		}
	}
	out := []ClientView{}
	for _, id := range ids {
		cl, err := s.loadClient(ctx, c, id)
		if err != nil {
			return nil, err
		}
		if cl == nil || !access.Decide(c, access.ReadClient, access.Target{Clinic: c.Clinic, Participants: []string{id}, CareTeams: careTeams(cl)}).Allowed {
			continue
		}
		out = append(out, ClientView{ID: cl.ID, Created: cl.Created, CareTeam: cl.CareTeam})
	}
	return out, nil
}

// ListClients returns a page of the clinic's client ids, for clinic admins.
func (s *Service) ListClients(ctx context.Context, c access.Caller, after string, limit int) ([]string, error) {
	if err := s.decide(ctx, c, "list_clients", "", "", access.Decide(c, access.ManageClinic, access.Target{Clinic: c.Clinic})); err != nil {
		return nil, err
	}
	return s.clinic.ListClients(ctx, c.Clinic, after, limit)
}

// SetCareTeam replaces a client's care team.
func (s *Service) SetCareTeam(ctx context.Context, c access.Caller, client string, team []string) (*ClientView, error) {
	cl, err := s.loadClient(ctx, c, client)
	if err != nil {
		return nil, err
	}
	d := refused("no such client")
	if cl != nil {
		d = access.Decide(c, access.ManageClinic, access.Target{Clinic: c.Clinic})
	}
	if err := s.decide(ctx, c, "set_care_team", client, "", d); err != nil {
		return nil, err
	}
	if err := s.clinic.SetCareTeam(ctx, cl, team); err != nil {
		return nil, err
	}
	return &ClientView{ID: cl.ID, Created: cl.Created, CareTeam: cl.CareTeam}, nil
}

// Clinicians returns the clinic's roster, to its admins and clinicians.
func (s *Service) Clinicians(ctx context.Context, c access.Caller) ([]recordvault.Clinician, error) {
	if err := s.decide(ctx, c, "list_clinicians", "", "", access.Decide(c, access.CreateClient, access.Target{Clinic: c.Clinic})); err != nil {
		return nil, err
	}
	roster, err := s.clinic.Clinicians(ctx, c.Clinic)
	return roster, s.auditTampering(ctx, c, "", err)
}

// PutClinician adds a clinician to the roster or updates them.
func (s *Service) PutClinician(ctx context.Context, c access.Caller, cl recordvault.Clinician) error {
	if err := s.decide(ctx, c, "put_clinician", "", "", access.Decide(c, access.ManageClinic, access.Target{Clinic: c.Clinic})); err != nil {
		return err
	}
	return s.clinic.PutClinician(ctx, c.Clinic, cl)
}

// RemoveClinician takes a clinician off the roster and every care team: from then on their
// login opens no client's records.
func (s *Service) RemoveClinician(ctx context.Context, c access.Caller, subject string) error {
	if err := s.decide(ctx, c, "remove_clinician", "", "", access.Decide(c, access.ManageClinic, access.Target{Clinic: c.Clinic})); err != nil {
		return err
	}
	if !recordvault.ValidSubject(subject) {
		return recordvault.Errorf(recordvault.EINVALID, "malformed subject")
	}
	return s.clinic.RemoveClinician(ctx, c.Clinic, subject)
}

// LinkAccount makes subject, a login of role client, the client's own account, through which
// they read their releases and accounting.
func (s *Service) LinkAccount(ctx context.Context, c access.Caller, client, subject string) error {
	if !recordvault.ValidSubject(subject) {
		return recordvault.Errorf(recordvault.EINVALID, "subject: the login's subject, printable characters, no slash")
	}
	cl, err := s.loadClientAs(ctx, c, "link_account", access.ManageClinic, client)
	if err != nil {
		return err
	}
	return s.clinic.LinkAccount(ctx, cl, subject)
}

// OwnClientView is who a client-role login is to the clinic, for the client portal: the
// client whose own account it is, and the clients it represents, each with what the policy
// lets it do for them now.
type OwnClientView struct {
	ClinicName string      // the clinic's name ("" until an admin sets it)
	Clients    []ActingFor // the client themselves first, then those the login represents
}

// ActingFor is a client a login opens in the portal.
type ActingFor struct {
	Client string // the client's id
	Name   string // their full name
	Self   bool   // the login is the client's own account
	// Acts: the login may act for the client now (always, for their own); Why says why not,
	// in words, with the rule's citation.
	Acts bool
	Why  string
	// Signs: the login may sign authorizations for the client; SignWhy says why not.
	Signs   bool
	SignWhy string
}

// OwnClient returns who c is to the clinic, for the client portal; recordvault.ErrNotFound
// for a login that is no client's own account nor anyone's representative, or not of role
// client. Audited as a reading of each client's profile.
func (s *Service) OwnClient(ctx context.Context, c access.Caller) (*OwnClientView, error) {
	if !onlyOwnCopies(c) {
		return nil, s.decide(ctx, c, "read_own_client", "", "", refused("only a client-role login has clients of its own"))
	}
	ids := []string{}
	own, err := s.clinic.ClientOfAccount(ctx, c.Clinic, c.ID)
	if err != nil {
		return nil, err
	}
	if own != "" {
		ids = append(ids, own)
	}
	represented, err := s.clinic.Represented(ctx, c.Clinic, c.ID)
	if err != nil {
		return nil, err
	}
	for _, cl := range represented {
		if cl.ID != own {
			ids = append(ids, cl.ID)
		}
	}
	if len(ids) == 0 {
		return nil, s.decide(ctx, c, "read_own_client", "", "", refused("the login is linked to no client"))
	}
	st, err := s.clinicState(ctx, c)
	if err != nil {
		return nil, err
	}
	v := &OwnClientView{ClinicName: st.Name}
	for _, id := range ids {
		who, err := s.standingOf(ctx, c, id)
		if err != nil {
			return nil, err
		}
		cl, err := s.clinic.LoadClient(ctx, c.Clinic, id)
		if err != nil {
			return nil, err
		}
		identity, err := s.clinic.Identity(ctx, cl)
		if err != nil {
			return nil, err
		}
		d := who.decision()
		if err := s.decide(ctx, c, "read_own_client", id, "", access.Decision{Allowed: true, Rule: "who the login is to the client: " + d.Rule}); err != nil {
			return nil, err
		}
		a := ActingFor{Client: id, Name: identity.FullName, Self: who.self, Acts: d.Allowed, Signs: who.self || who.signs}
		if !a.Acts {
			a.Why = who.why.Text + " (" + who.why.Citation + ")"
		}
		if !a.Signs {
			a.SignWhy = who.signWhy.Text + " (" + who.signWhy.Citation + ")"
		}
		v.Clients = append(v.Clients, a)
	}
	return v, nil
}

// RepresentativeInput is what the clinic knows of a personal representative (164.502(g)):
// their relationship ("parent", "guardian", or "other" with legal authority) and the facts
// policy.Represents weighs.
type RepresentativeInput struct {
	policy.Representation
	// ConsentedToOwnCare: the client, a minor, consented to this care or could lawfully get
	// it without a parent (164.502(g)(3)(i)(A), (B)).
	ConsentedToOwnCare bool `json:"consented_to_own_care,omitempty"`
}

// LinkRepresentative records subject's login as a personal representative of client, with
// what the clinic knows of them (replacing what it knew): clinic admins. What the login may
// then do for the client, the policy decides each time.
func (s *Service) LinkRepresentative(ctx context.Context, c access.Caller, client, subject string, in RepresentativeInput) error {
	if !recordvault.ValidSubject(subject) {
		return recordvault.Errorf(recordvault.EINVALID, "subject: the login's subject, printable characters, no slash")
	}
	if !slices.Contains([]string{"parent", "guardian", "other"}, in.Relationship) {
		return recordvault.Errorf(recordvault.EINVALID, "relationship: parent, guardian or other (with legal authority)")
	}
	cl, err := s.loadClientAs(ctx, c, "link_representative", access.ManageClinic, client)
	if err != nil {
		return err
	}
	if own, err := s.clinic.ClientOfAccount(ctx, c.Clinic, subject); err != nil {
		return err
	} else if own == client {
		return recordvault.Errorf(recordvault.ECONFLICT, "the login is the client's own account")
	}
	return s.clinic.LinkRepresentative(ctx, cl, subject, clinic.Representative{Representation: in.Representation, ConsentedToOwnCare: in.ConsentedToOwnCare})
}

// UnlinkRepresentative ends subject's standing as a personal representative of client:
// clinic admins.
func (s *Service) UnlinkRepresentative(ctx context.Context, c access.Caller, client, subject string) error {
	if !recordvault.ValidSubject(subject) {
		return recordvault.Errorf(recordvault.EINVALID, "subject: the login's subject, printable characters, no slash")
	}
	cl, err := s.loadClientAs(ctx, c, "unlink_representative", access.ManageClinic, client)
	if err != nil {
		return err
	}
	return s.clinic.UnlinkRepresentative(ctx, cl, subject)
}
