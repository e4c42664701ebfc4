package app

import (
	"context"
	"maps"
	"slices"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
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
	Clinic       string `json:"clinic"`
	Jurisdiction string `json:"jurisdiction"`
	// Default: no admin has set the jurisdiction; the deployment's default applies.
	Default bool `json:"jurisdiction_is_default"`
	// Jurisdictions are those the policy knows, any of which an admin may set.
	Jurisdictions []string `json:"jurisdictions"`
}

// jurisdictionOf returns the law clinic practises under, and whether it is the deployment's
// default rather than the clinic's setting.
func (s *Service) jurisdictionOf(ctx context.Context, clinic string) (string, bool, error) {
	j, err := s.clinic.Jurisdiction(ctx, clinic)
	if err != nil || j != "" {
		return j, false, err
	}
	return s.jurisdiction, true, nil
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

func (s *Service) clinicView(ctx context.Context, c access.Caller) (*ClinicView, error) {
	j, dflt, err := s.jurisdictionOf(ctx, c.Clinic)
	if err != nil {
		return nil, s.auditTampering(ctx, c, "", err)
	}
	return &ClinicView{Clinic: c.Clinic, Jurisdiction: j, Default: dflt, Jurisdictions: jurisdictions()}, nil
}

func jurisdictions() []string { return slices.Sorted(maps.Keys(policy.Jurisdictions)) }
