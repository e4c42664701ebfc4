package app

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/audit/ledger"
)

// What waits on staff, on the law's clocks: access requests (164.524(b)(2)) and amendment
// requests (164.526(b)(2)) still open, with their due days, and releases waiting for a
// person with authority to decide, or whose denial the client may have reviewed
// (164.524(a)(4)). All of it is read from the signed trail's ledger, which lists the open
// items without a walk over any client's records; its cost follows the work open, not the
// clinic's history.

// WaitingRelease is a release waiting for a person.
type WaitingRelease struct {
	Release string    `json:"release"`
	Client  string    `json:"client"`
	Record  string    `json:"record"`
	Awaits  string    `json:"awaits"` // recordvault.AwaitsResolution or AwaitsReview
	Since   time.Time `json:"since"`
	// DecidedBy is who made the decision that waits: a denial's reviewer is someone else.
	DecidedBy string `json:"decided_by"`
}

// WaitingView is what waits on the caller: for a clinic admin, everything of the clinic; for
// a clinician, what concerns the clients whose care team they are on.
type WaitingView struct {
	AccessRequests []*AccessRequestView `json:"access_requests"`
	Amendments     []OpenAmendment      `json:"amendments"`
	Releases       []WaitingRelease     `json:"releases"`
	// Names are the full names of the clients listed, by id.
	Names map[string]string `json:"names"`
	Gaps  []LostPeriod      `json:"gaps,omitempty"`
}

// Waiting lists what waits on c, earliest due first. Each client listed is read as c may
// read them (audited as list_waiting); the clients c may not see are left out.
func (s *Service) Waiting(ctx context.Context, c access.Caller) (*WaitingView, error) {
	staff := slices.Contains(c.Roles, recordvault.RoleClinician) || slices.Contains(c.Roles, recordvault.RoleClinicAdmin)
	if !staff {
		return nil, s.decide(ctx, c, "list_waiting", "", "", refused("what waits on the clinic's clocks is for its staff"))
	}
	requests, gaps, err := s.openAccessRequests(ctx, c)
	if err != nil {
		return nil, err
	}
	amendments, _, err := s.openAmendments(ctx, c)
	if err != nil {
		return nil, err
	}
	var waiting map[string]ledger.Waiting
	who := recordvault.AuditEvent{Actor: c.ID, Clinic: c.Clinic}
	if err := s.readLedger(ctx, who, func(l *ledger.Clinic) { waiting = maps.Clone(l.Waiting) }); err != nil {
		return nil, err
	}
	v := &WaitingView{AccessRequests: []*AccessRequestView{}, Amendments: []OpenAmendment{}, Releases: []WaitingRelease{},
		Names: map[string]string{}, Gaps: gaps}
	seen := map[string]bool{} // client → c may see them
	sees := func(client string) (bool, error) {
		if ok, done := seen[client]; done {
			return ok, nil
		}
		cl, err := s.loadClientAs(ctx, c, "list_waiting", access.ReadClient, client)
		if errors.Is(err, recordvault.ErrNotFound) {
			seen[client] = false
			return false, nil
		}
		if err != nil {
			return false, err
		}
		id, err := s.clinic.Identity(ctx, cl)
		if err != nil {
			return false, err
		}
		seen[client], v.Names[client] = true, id.FullName
		return true, nil
	}
	for _, r := range requests {
		if ok, err := sees(r.Client); err != nil {
			return nil, err
		} else if ok {
			v.AccessRequests = append(v.AccessRequests, r)
		}
	}
	for _, a := range amendments {
		if ok, err := sees(a.Client); err != nil {
			return nil, err
		} else if ok {
			v.Amendments = append(v.Amendments, a)
		}
	}
	for id, w := range waiting {
		if ok, err := sees(w.Client); err != nil {
			return nil, err
		} else if ok {
			v.Releases = append(v.Releases, WaitingRelease{Release: id, Client: w.Client, Record: w.Record, Awaits: w.Awaits, Since: w.At, DecidedBy: w.By})
		}
	}
	slices.SortFunc(v.Releases, func(a, b WaitingRelease) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.Release, b.Release))
	})
	return v, nil
}
