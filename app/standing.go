package app

import (
	"context"
	"errors"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/policy"
)

// A login of role client stands to a client in one of three ways: it is the client's own
// account (LinkAccount); it is a personal representative's (LinkRepresentative), whose
// acting for the client the policy decides each time from what the clinic knows of them,
// the client's age and the clinic's jurisdiction (policy.Represents), and whose signing for
// the client likewise (policy.SignsFor); or it is nothing to the client.

// standing is how a client-role login stands to one client.
type standing struct {
	caller access.Caller
	client string
	self   bool
	rep    *clinic.Representative // a personal representative's login
	// acts and why: the policy's decision on the representative acting for the client;
	// signs and signWhy, on their signing for the client.
	acts    policy.Outcome
	why     policy.Reason
	signs   bool
	signWhy policy.Reason
}

// standingOf finds how c, a client-role login, stands to client. It reads the client's
// identity (their age) and the clinic's jurisdiction only for a representative.
func (s *Service) standingOf(ctx context.Context, c access.Caller, client string) (*standing, error) {
	st := &standing{caller: c, client: client}
	if !recordvault.ValidID(client) {
		return st, nil
	}
	own, err := s.clinic.ClientOfAccount(ctx, c.Clinic, c.ID)
	if err != nil {
		return nil, err
	}
	if own == client {
		st.self = true
		return st, nil
	}
	cl, err := s.clinic.LoadClient(ctx, c.Clinic, client)
	if errors.Is(err, recordvault.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	rep, ok, err := s.clinic.RepresentativeOf(ctx, cl, c.ID)
	if err != nil || !ok {
		return st, err
	}
	st.rep = &rep
	person, j, err := s.personAndLaw(ctx, c, cl, rep)
	if err != nil {
		return nil, err
	}
	day := s.now().UTC().Format(time.DateOnly)
	st.acts, st.why = policy.Represents(j, day, person, rep.Representation)
	st.signWhy, st.signs = policy.SignsFor(j, day, person)
	return st, nil
}

// personAndLaw are the facts about cl the policy weighs for a representative, and the law
// the clinic practises under.
func (s *Service) personAndLaw(ctx context.Context, c access.Caller, cl *clinic.Client, rep clinic.Representative) (policy.Person, policy.Jurisdiction, error) {
	id, err := s.clinic.Identity(ctx, cl)
	if err != nil {
		return policy.Person{}, policy.Jurisdiction{}, err
	}
	staff, err := s.clinicState(ctx, c)
	if err != nil {
		return policy.Person{}, policy.Jurisdiction{}, err
	}
	code, _ := s.jurisdictionIn(staff)
	return policy.Person{DateOfBirth: id.DateOfBirth, ConsentedToOwnCare: rep.ConsentedToOwnCare}, policy.Jurisdictions[code], nil
}

// decision is the access decision the standing makes, with its rule.
func (st *standing) decision() access.Decision {
	switch {
	case st.self:
		return access.Decision{Allowed: true, Rule: "a client reaches their own file (45 CFR 164.524, 164.526, 164.528)"}
	case st.rep != nil && st.acts == policy.Approve:
		return access.Decision{Allowed: true, Rule: "a personal representative acts for the client (45 CFR 164.502(g))"}
	case st.rep != nil:
		return refused("the representative may not act for the client now: " + st.why.Text + " (" + st.why.Citation + ")")
	}
	return refused("a client reaches only their own file")
}

// ownCopy reports whether r releases a copy to the standing's login: to the client
// themselves for their own account, to the representative for theirs.
func (st *standing) ownCopy(r *ReleaseView) bool {
	if st.self {
		return r.Recipient.Kind == policy.ToClient && r.Recipient.ID == st.client
	}
	return st.rep != nil && r.Recipient.Kind == policy.ToRepresentative && r.Recipient.For == st.client && r.Recipient.ID == st.caller.ID
}

// representativeAuthority says, on an authorization a representative signs, what makes them
// one (164.508(c)(1)(vi)).
func representativeAuthority(rep *clinic.Representative) string {
	switch {
	case rep.Relationship == "parent" || rep.Relationship == "guardian":
		return rep.Relationship + ", on the clinic's file as personal representative"
	case rep.Authority:
		return "legal authority to act for the client, on the clinic's file"
	}
	return "personal representative on the clinic's file"
}
