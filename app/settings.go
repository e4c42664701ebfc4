package app

import (
	"context"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/policy"
)

// Clinic settings. The law a clinic practises under is the clinic's, not the deployment's: a
// deployment serving an Illinois clinic and a Texas clinic decides each by its own. A clinic
// admin sets it (audited; kept with the roster under its tag and revision, so a bucket writer
// can neither forge nor roll it back); until then the deployment's default applies
// (RECORDVAULT_JURISDICTION, the federal rules alone when unset). Every release decision and
// access request's clock is made under the setting read for that request, and names it.

// ClinicView is a clinic's settings as its callers see them.
type ClinicView struct {
	Clinic string `json:"clinic"`
	// Name and Contact are how the clinic names itself and is reached on its copies; "" until
	// an admin sets them.
	Name         string `json:"name"`
	Contact      string `json:"contact"`
	Jurisdiction string `json:"jurisdiction"`
	// Default: no admin has set the jurisdiction; the deployment's default applies.
	Default bool `json:"jurisdiction_is_default"`
	// Jurisdictions are those the policy knows, any of which an admin may set.
	Jurisdictions []string `json:"jurisdictions"`
}

// clinicState reads the caller's clinic's roster and settings; a state that fails its check
// is audited as tampering.
func (s *Service) clinicState(ctx context.Context, c access.Caller) (*clinic.Staff, error) {
	st, err := s.clinic.State(ctx, c.Clinic)
	if err != nil {
		return nil, s.auditTampering(ctx, c, "", err)
	}
	return st, nil
}

// jurisdictionIn returns the law a clinic in state st practises under, and whether it is the
// deployment's default rather than the clinic's setting.
func (s *Service) jurisdictionIn(st *clinic.Staff) (string, bool) {
	if st.Jurisdiction != "" {
		return st.Jurisdiction, false
	}
	return s.jurisdiction, true
}

// GetClinic returns the caller's clinic's settings; anyone of the clinic may read them.
func (s *Service) GetClinic(ctx context.Context, c access.Caller) (*ClinicView, error) {
	if err := s.decide(ctx, c, "read_clinic", "", "", access.Decision{Allowed: c.Clinic != "", Rule: "the clinic's settings are its callers' to read"}); err != nil {
		return nil, err
	}
	return s.clinicView(ctx, c)
}

// SetJurisdiction sets the law the caller's clinic practises under: clinic admins only.
func (s *Service) SetJurisdiction(ctx context.Context, c access.Caller, jurisdiction string) (*ClinicView, error) {
	if _, ok := policy.Jurisdictions[jurisdiction]; !ok {
		return nil, recordvault.Errorf(recordvault.EINVALID, "jurisdiction: one of %v", jurisdictions())
	}
	if err := s.decide(ctx, c, "set_jurisdiction", "", "", access.Decide(c, access.ManageClinic, access.Target{Clinic: c.Clinic})); err != nil {
		return nil, err
	}
	if err := s.recordStep(ctx, c, recordvault.AuditEvent{Action: "jurisdiction_set", Rule: "the clinic practises under " + jurisdiction}); err != nil {
		return nil, err
	}
	if err := s.clinic.SetJurisdiction(ctx, c.Clinic, jurisdiction); err != nil {
		return nil, s.auditTampering(ctx, c, "", err)
	}
	return s.clinicView(ctx, c)
}

// SetClinicProfile sets how the caller's clinic names itself and is reached (address,
// telephone), printed on the copies it releases: clinic admins only, audited.
func (s *Service) SetClinicProfile(ctx context.Context, c access.Caller, name, contact string) (*ClinicView, error) {
	name, contact = strings.TrimSpace(name), strings.TrimSpace(contact)
	if name == "" || len(name) > clinic.MaxClinicName || len(contact) > clinic.MaxClinicContact || !utf8.ValidString(name+contact) {
		return nil, recordvault.Errorf(recordvault.EINVALID, "name: required, at most %d bytes; contact: at most %d bytes", clinic.MaxClinicName, clinic.MaxClinicContact)
	}
	if err := s.decide(ctx, c, "set_clinic_profile", "", "", access.Decide(c, access.ManageClinic, access.Target{Clinic: c.Clinic})); err != nil {
		return nil, err
	}
	if err := s.clinic.SetProfile(ctx, c.Clinic, name, contact); err != nil {
		return nil, s.auditTampering(ctx, c, "", err)
	}
	return s.clinicView(ctx, c)
}

func (s *Service) clinicView(ctx context.Context, c access.Caller) (*ClinicView, error) {
	st, err := s.clinicState(ctx, c)
	if err != nil {
		return nil, err
	}
	j, dflt := s.jurisdictionIn(st)
	return &ClinicView{Clinic: c.Clinic, Name: st.Name, Contact: st.Contact, Jurisdiction: j, Default: dflt, Jurisdictions: jurisdictions()}, nil
}

func jurisdictions() []string { return slices.Sorted(maps.Keys(policy.Jurisdictions)) }
