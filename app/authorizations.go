package app

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/audit/ledger"
	"github.com/recordvault/recordvault/disclosure"
	"github.com/recordvault/recordvault/policy"
)

// Authorizations: a client's signed permissions (164.508(c)), recorded complete or refused
// naming what is missing, and revoked in writing, which ends every release relying on them.

// AuthorizationInput is a signed authorization form as staff record it. The client it is
// about is the path's; a form signed by a personal representative names them and their
// authority (164.508(c)(1)(vi)).
type AuthorizationInput struct {
	Description             string                 `json:"description"`
	Discloser               string                 `json:"discloser"`
	Recipient               string                 `json:"recipient"` // the recipient's id, as releases name it
	Purpose                 string                 `json:"purpose"`
	Expires                 string                 `json:"expires,omitempty"`
	ExpiryEvent             string                 `json:"expiry_event,omitempty"`
	Signed                  string                 `json:"signed"`
	Representative          string                 `json:"representative,omitempty"`
	RepresentativeAuthority string                 `json:"representative_authority,omitempty"`
	RevocationStatement     bool                   `json:"revocation_statement"`
	ConditioningStatement   bool                   `json:"conditioning_statement"`
	RedisclosureStatement   bool                   `json:"redisclosure_statement"`
	Categories              []recordvault.Category `json:"categories"`
	PsychotherapyNotes      bool                   `json:"psychotherapy_notes,omitempty"`
	Fields                  []string               `json:"fields,omitempty"`
	Part2                   bool                   `json:"part2,omitempty"`
}

// AuthorizationView is an authorization on file.
type AuthorizationView struct {
	policy.Authorization
	Status     string    `json:"status"`
	RecordedBy string    `json:"recorded_by"`
	Recorded   time.Time `json:"recorded"`
	RevokedBy  string    `json:"revoked_by,omitempty"`
}

// AddAuthorization records a client's signed authorization. An incomplete one is refused,
// naming every missing element. Given through the client's own login (the portal), it is
// signed today, electronically (the form they submitted showed the statements 164.508(c)(2)
// requires), by the client, or by their personal representative through a login of their own
// where the policy lets the representative sign for them (policy.SignsFor).
func (s *Service) AddAuthorization(ctx context.Context, c access.Caller, client string, in AuthorizationInput) (*AuthorizationView, error) {
	if onlyOwnCopies(c) {
		in.Signed, in.Representative, in.RepresentativeAuthority = s.now().UTC().Format(time.DateOnly), "", ""
	}
	if err := evidenceText(in.Description, in.Discloser, in.Purpose, in.ExpiryEvent, in.Representative, in.RepresentativeAuthority); err != nil {
		return nil, err
	}
	for _, cat := range in.Categories {
		if !cat.Valid() {
			return nil, recordvault.Errorf(recordvault.EINVALID, "categories: unknown record category")
		}
	}
	if in.Expires != "" && !validDate(in.Expires) {
		return nil, recordvault.Errorf(recordvault.EINVALID, "expires: a date as YYYY-MM-DD")
	}
	if in.Recipient != "" && !recordvault.ValidSubject(in.Recipient) {
		return nil, recordvault.Errorf(recordvault.EINVALID, "recipient: a recipient id of printable characters, no slash")
	}
	a := policy.Authorization{Subject: client, SignedBy: client, Signed: in.Signed, Description: in.Description,
		Discloser: in.Discloser, Recipient: in.Recipient, Purpose: in.Purpose, Expires: in.Expires, ExpiryEvent: in.ExpiryEvent,
		RevocationStatement: in.RevocationStatement, ConditioningStatement: in.ConditioningStatement,
		RedisclosureStatement: in.RedisclosureStatement, Categories: in.Categories, Psychotherapy: in.PsychotherapyNotes,
		Fields: in.Fields, Part2: in.Part2}
	if in.Representative != "" {
		a.SignedBy, a.RepresentativeAuthority = "representative:"+in.Representative, in.RepresentativeAuthority
	}
	if missing := a.Missing(); len(missing) > 0 {
		return nil, recordvault.Errorf(recordvault.EINVALID, "the authorization lacks required elements (45 CFR 164.508(c)): %s", strings.Join(missing, "; "))
	}
	if a.Psychotherapy && !slices.Equal(a.Categories, []recordvault.Category{recordvault.PsychotherapyNote}) {
		return nil, recordvault.Errorf(recordvault.EINVALID, "a psychotherapy-note authorization names psychotherapy notes and nothing else (45 CFR 164.508(b)(3)(ii))")
	}
	if slices.Contains(a.Categories, recordvault.PsychotherapyNote) && !a.Psychotherapy {
		return nil, recordvault.Errorf(recordvault.EINVALID, "psychotherapy notes need an authorization of their own (45 CFR 164.508(a)(2)): set psychotherapy_notes")
	}
	st, err := s.loadClientOrSelf(ctx, c, "add_authorization", client)
	if err != nil {
		return nil, err
	}
	if st != nil && st.rep != nil {
		if !st.signs {
			return nil, recordvault.Errorf(recordvault.ECONFLICT, "%s (%s)", st.signWhy.Text, st.signWhy.Citation)
		}
		a.SignedBy, a.RepresentativeAuthority = "representative:"+c.ID, representativeAuthority(st.rep)
	}
	a.ID = recordvault.NewID()
	v := &AuthorizationView{Authorization: a, Status: authorizationActive, RecordedBy: c.ID, Recorded: s.now().UTC()}
	if _, err := s.disclosures.Create(ctx, c.Clinic, client, a.ID, kindAuthorization, authorizationActive, v); err != nil {
		return nil, err
	}
	return v, nil
}

// authorizations reads every authorization about client (one Vault call), marking revoked
// those the audit trail records as revoked (revoked, from revocations): an authorization's
// record can be rolled back to its active version by a bucket writer, the trail cannot.
func (s *Service) authorizations(ctx context.Context, clinic, client string, revoked map[string]bool) ([]*disclosure.Doc, []AuthorizationView, error) {
	docs, err := s.disclosures.List(ctx, clinic, client, kindAuthorization)
	if err != nil {
		return nil, nil, err
	}
	views := make([]AuthorizationView, len(docs))
	for i, d := range docs {
		if err := json.Unmarshal(d.Body, &views[i]); err != nil || views[i].ID != d.ID || views[i].Subject != client {
			return nil, nil, disclosure.ErrUnreadable
		}
		views[i].Revoked = d.Status == authorizationRevoked || revoked[d.ID]
		if revoked[d.ID] {
			views[i].Status = authorizationRevoked
		}
	}
	return docs, views, nil
}

// revocations returns the authorizations the clinic's audit trail records as revoked, read on
// for c's request about client.
func (s *Service) revocations(ctx context.Context, c access.Caller, client string) (map[string]bool, error) {
	var revoked map[string]bool
	who := recordvault.AuditEvent{Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Client: client}
	err := s.readLedger(ctx, who, func(l *ledger.Clinic) { revoked = maps.Clone(l.Revoked) })
	return revoked, err
}

// ListAuthorizations returns a client's authorizations, active and revoked, to staff and to
// the client's own login.
func (s *Service) ListAuthorizations(ctx context.Context, c access.Caller, client string) ([]AuthorizationView, error) {
	if _, err := s.loadClientOrSelf(ctx, c, "list_authorizations", client); err != nil {
		return nil, err
	}
	revoked, err := s.revocations(ctx, c, client)
	if err != nil {
		return nil, err
	}
	_, views, err := s.authorizations(ctx, c.Clinic, client, revoked)
	if views == nil {
		views = []AuthorizationView{}
	}
	return views, err
}

// RevokeAuthorization records a client's written revocation (164.508(b)(5)) and ends every
// release that relies on it: recorded by staff, or made by the client through their own login.
func (s *Service) RevokeAuthorization(ctx context.Context, c access.Caller, client, id string) (*AuthorizationView, error) {
	if _, err := s.loadClientOrSelf(ctx, c, "revoke_authorization", client); err != nil {
		return nil, err
	}
	var v AuthorizationView
	doc, err := loadDisclosure(ctx, s, c.Clinic, client, id, kindAuthorization, &v)
	if err != nil {
		return nil, err
	}
	if doc.Status == authorizationRevoked {
		return nil, recordvault.Errorf(recordvault.ECONFLICT, "the authorization is revoked already")
	}
	v.Revoked, v.Status, v.RevokedBy = true, authorizationRevoked, c.ID
	if err := s.recordStep(ctx, c, recordvault.AuditEvent{Action: "end_authorization", Client: client, Authorization: id,
		Rule: "revoked in writing: 45 CFR 164.508(b)(5)"}); err != nil {
		return nil, err
	}
	if err := s.disclosures.Update(ctx, doc, authorizationRevoked, v); err != nil {
		return nil, err
	}
	return &v, s.endReleasesOf(ctx, c, v.Subject, id)
}
