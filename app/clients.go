package app

import (
	"context"
	"slices"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/clinic"
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

// OwnClientView is who a client's own login is, for the client portal.
type OwnClientView struct {
	Client     string // the client's id
	Name       string // their full name
	ClinicName string // the clinic's name ("" until an admin sets it)
}

// OwnClient returns the client whose own account c is (LinkAccount), for the client portal;
// recordvault.ErrNotFound for a login linked to no client, or not of role client. Audited as
// a reading of the client's own profile.
func (s *Service) OwnClient(ctx context.Context, c access.Caller) (*OwnClientView, error) {
	if !onlyOwnCopies(c) {
		return nil, s.decide(ctx, c, "read_own_client", "", "", refused("only a client's own login has a client of its own"))
	}
	own, err := s.clinic.ClientOfAccount(ctx, c.Clinic, c.ID)
	if err != nil {
		return nil, err
	}
	if own == "" {
		return nil, s.decide(ctx, c, "read_own_client", "", "", refused("the login is linked to no client"))
	}
	cl, err := s.clinic.LoadClient(ctx, c.Clinic, own)
	if err != nil {
		return nil, err
	}
	identity, err := s.clinic.Identity(ctx, cl)
	if err != nil {
		return nil, err
	}
	st, err := s.clinicState(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.decide(ctx, c, "read_own_client", own, "", access.Decision{Allowed: true, Rule: "a client reads their own profile (45 CFR 164.524)"}); err != nil {
		return nil, err
	}
	return &OwnClientView{Client: own, Name: identity.FullName, ClinicName: st.Name}, nil
}
