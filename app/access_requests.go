package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
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

// Access requests (164.524(b)): a client's or representative's request for their records,
// recorded by staff with the day it was received, and answered on the clinic's clock (HIPAA's
// 30 days, one 30-day extension with its written reason given inside the first 30; a
// stricter state's where the clinic practises under one). A request is answered by the
// releases (approved, or denied in writing) made for it. A request's receipt and its answer
// are events naming it, so the audit trail's ledger knows the open ones, and clinic admins
// list the overdue ones without a walk over every client.

const (
	kindAccessRequest = "access_request"

	accessRequestOpen     = "open"
	accessRequestAnswered = "answered"
)

// AccessRequestInput is a request for records as staff record it.
type AccessRequestInput struct {
	Received    string         `json:"received"` // YYYY-MM-DD, the day the clinic received it
	RequestedBy RecipientInput `json:"requested_by"`
	Description string         `json:"description"`      // what was asked for
	Format      string         `json:"format,omitempty"` // the form and format asked for
}

// AccessRequestView is a recorded access request and where it stands.
type AccessRequestView struct {
	ID           string                  `json:"id"`
	Client       string                  `json:"client"`
	Request      AccessRequestInput      `json:"request"`
	Jurisdiction string                  `json:"jurisdiction"`
	Due          string                  `json:"due"`
	Citation     string                  `json:"citation"` // the rule the clock follows
	Overdue      bool                    `json:"overdue"`
	Extension    *policy.AccessExtension `json:"extension,omitempty"`
	Status       string                  `json:"status"`
	Releases     []string                `json:"releases,omitempty"` // the releases that answered it
	RecordedBy   string                  `json:"recorded_by"`
	Recorded     time.Time               `json:"recorded"`
	Answered     *time.Time              `json:"answered,omitempty"`
	// Unavailable marks, in the overdue listing, a request the audit trail records as open
	// whose document cannot be read (deleted or altered in the bucket).
	Unavailable bool `json:"unavailable,omitempty"`
}

func (v *AccessRequestView) clock() policy.AccessRequest {
	return policy.AccessRequest{Received: v.Request.Received, Jurisdiction: v.Jurisdiction, Extension: v.Extension}
}

// refresh sets the due day and whether the request is overdue on now.
func (v *AccessRequestView) refresh(now time.Time) error {
	d, err := v.clock().Deadline()
	if err != nil {
		return err
	}
	v.Due, v.Overdue = d.Due(), v.Status == accessRequestOpen && d.Overdue(now)
	v.Citation = policy.Jurisdictions[v.Jurisdiction].AccessCitation
	return nil
}

// CreateAccessRequest records a request for a client's records: by staff, as received; by
// the client's own login or their personal representative's (the portal), made by them today,
// whatever the input says of its day and requester.
func (s *Service) CreateAccessRequest(ctx context.Context, c access.Caller, client string, in AccessRequestInput) (*AccessRequestView, error) {
	if onlyOwnCopies(c) {
		in.Received, in.RequestedBy = s.now().In(time.UTC).Format(time.DateOnly), RecipientInput{Kind: policy.ToClient, ID: client}
	}
	day, err := time.Parse(time.DateOnly, in.Received)
	if err != nil || day.After(s.now()) {
		return nil, recordvault.Errorf(recordvault.EINVALID, "received: the day the request arrived, as YYYY-MM-DD, not in the future")
	}
	if k := in.RequestedBy.Kind; k != policy.ToClient && k != policy.ToRepresentative {
		return nil, recordvault.Errorf(recordvault.EINVALID, "requested_by.kind: client or personal_representative")
	}
	if err := evidenceText(in.Description, in.Format, in.RequestedBy.Name, in.RequestedBy.Address, in.RequestedBy.ID); err != nil {
		return nil, err
	}
	who, err := s.loadClientOrSelf(ctx, c, "record_access_request", client)
	if err != nil {
		return nil, err
	}
	if who != nil && who.rep != nil {
		in.RequestedBy = RecipientInput{Kind: policy.ToRepresentative, ID: c.ID, For: client}
	}
	st, err := s.clinicState(ctx, c)
	if err != nil {
		return nil, err
	}
	jurisdiction, _ := s.jurisdictionIn(st)
	v := &AccessRequestView{ID: recordvault.NewID(), Client: client, Request: in, Jurisdiction: jurisdiction, Status: accessRequestOpen,
		RecordedBy: c.ID, Recorded: s.now().UTC()}
	if err := v.refresh(s.now()); err != nil {
		return nil, err
	}
	if err := s.recordStep(ctx, c, recordvault.AuditEvent{Action: "access_request_received", Client: client, AccessRequest: v.ID,
		Rule: "answer due " + v.Due + ": " + v.Citation}); err != nil {
		return nil, err
	}
	if _, err := s.disclosures.Create(ctx, c.Clinic, client, v.ID, kindAccessRequest, v.Status, v); err != nil {
		return nil, s.abandonStep(ctx, c, recordvault.AuditEvent{Action: "access_request_abandoned", Client: client, AccessRequest: v.ID,
			Rule: "the request could not be stored: nothing is due"}, err)
	}
	return v, nil
}

// accessRequests reads a client's access requests, oldest first.
func (s *Service) accessRequests(ctx context.Context, clinic, client string) ([]*disclosure.Doc, []*AccessRequestView, error) {
	docs, err := s.disclosures.List(ctx, clinic, client, kindAccessRequest)
	if err != nil {
		return nil, nil, err
	}
	views := make([]*AccessRequestView, len(docs))
	for i, d := range docs {
		views[i] = &AccessRequestView{}
		if err := json.Unmarshal(d.Body, views[i]); err != nil || views[i].ID != d.ID || views[i].Status != d.Status {
			return nil, nil, disclosure.ErrUnreadable
		}
		if err := views[i].refresh(s.now()); err != nil {
			return nil, nil, err
		}
	}
	return docs, views, nil
}

// ListAccessRequests returns a client's access requests with their due days, to staff and to
// the client's own login.
func (s *Service) ListAccessRequests(ctx context.Context, c access.Caller, client string) ([]*AccessRequestView, error) {
	if _, err := s.loadClientOrSelf(ctx, c, "list_access_requests", client); err != nil {
		return nil, err
	}
	_, views, err := s.accessRequests(ctx, c.Clinic, client)
	if views == nil {
		views = []*AccessRequestView{}
	}
	return views, err
}

// changeAccessRequest loads one open access request of a client and stores what change
// makes of it.
func (s *Service) changeAccessRequest(ctx context.Context, c access.Caller, event, client, id string, change func(*AccessRequestView) error) (*AccessRequestView, error) {
	if _, err := s.loadClientAs(ctx, c, event, access.ReadClient, client); err != nil {
		return nil, err
	}
	var v AccessRequestView
	doc, err := loadDisclosure(ctx, s, c.Clinic, client, id, kindAccessRequest, &v)
	if err != nil {
		return nil, err
	}
	if v.Status != accessRequestOpen {
		return nil, recordvault.Errorf(recordvault.ECONFLICT, "the request has been answered")
	}
	if err := change(&v); err != nil {
		return nil, err
	}
	if err := v.refresh(s.now()); err != nil {
		return nil, err
	}
	if v.Status == accessRequestAnswered {
		if err := s.recordStep(ctx, c, recordvault.AuditEvent{Action: "access_request_answered", Client: client, AccessRequest: id,
			Rule: "answered by " + strings.Join(v.Releases, ", ")}); err != nil {
			return nil, err
		}
	}
	if err := s.disclosures.Update(ctx, doc, v.Status, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// ExtendAccessRequest takes the request's one extension, with its written reason, where the
// clinic's clock allows one and within the first period.
func (s *Service) ExtendAccessRequest(ctx context.Context, c access.Caller, client, id, reason string) (*AccessRequestView, error) {
	if err := evidenceText(reason); err != nil {
		return nil, err
	}
	return s.changeAccessRequest(ctx, c, "extend_access_request", client, id, func(v *AccessRequestView) error {
		ext, err := v.clock().Extend(reason, c.ID, s.now())
		if err != nil {
			return err
		}
		v.Extension = &ext
		return nil
	})
}

// AnswerAccessRequest closes a request with the releases made for it: each a decided release
// (approved, or denied in writing) of one of the client's documents.
func (s *Service) AnswerAccessRequest(ctx context.Context, c access.Caller, client, id string, releases []string) (*AccessRequestView, error) {
	if len(releases) == 0 || len(releases) > 1000 {
		return nil, recordvault.Errorf(recordvault.EINVALID, "releases: 1 to 1000 release ids")
	}
	return s.changeAccessRequest(ctx, c, "answer_access_request", client, id, func(v *AccessRequestView) error {
		rs, err := s.clientReleases(ctx, c.Clinic, client)
		if err != nil {
			return err
		}
		for _, id := range releases {
			i := slices.IndexFunc(rs, func(r ReleaseView) bool { return r.ID == id })
			if i < 0 || rs[i].Basis != policy.RightOfAccess || rs[i].Status == ReleaseNeedsReview {
				return recordvault.Errorf(recordvault.EINVALID, "releases: decided right-of-access releases of this client's documents")
			}
		}
		now := s.now().UTC()
		v.Status, v.Releases, v.Answered = accessRequestAnswered, releases, &now
		return nil
	})
}

// OverdueAccessRequests lists the clinic's open access requests past their due day, for
// clinic admins, earliest due first. The open requests come from the audit trail; one whose
// document cannot be read is listed as unavailable.
func (s *Service) OverdueAccessRequests(ctx context.Context, c access.Caller) (*Overdue[*AccessRequestView], error) {
	if err := s.decide(ctx, c, "list_overdue_access_requests", "", "", access.Decide(c, access.ManageClinic, access.Target{Clinic: c.Clinic})); err != nil {
		return nil, err
	}
	open, gaps, err := s.openAccessRequests(ctx, c)
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(open, func(v *AccessRequestView) bool { return !v.Overdue && !v.Unavailable })
	return &Overdue[*AccessRequestView]{Items: out, Gaps: gaps}, nil
}

// openAccessRequests reads the clinic's access requests the audit trail records as open,
// earliest due first, with the periods whose records were lost.
func (s *Service) openAccessRequests(ctx context.Context, c access.Caller) ([]*AccessRequestView, []LostPeriod, error) {
	open := map[string]ledger.OpenRequest{}
	var gaps []LostPeriod
	who := recordvault.AuditEvent{Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic}
	if err := s.readLedger(ctx, who, func(l *ledger.Clinic) {
		maps.Copy(open, l.OpenAccess)
		gaps = lostPeriods(l.Head().Losses, time.Time{})
	}); err != nil {
		return nil, nil, err
	}
	out := []*AccessRequestView{}
	for id, o := range open {
		v := &AccessRequestView{}
		_, err := loadDisclosure(ctx, s, c.Clinic, o.Client, id, kindAccessRequest, v)
		switch {
		case errors.Is(err, recordvault.ErrNotFound) || errors.Is(err, disclosure.ErrUnreadable):
			v = &AccessRequestView{ID: id, Client: o.Client, Unavailable: true}
		case err != nil:
			return nil, nil, err
		default:
			if err := v.refresh(s.now()); err != nil {
				return nil, nil, err
			}
		}
		out = append(out, v)
	}
	slices.SortStableFunc(out, func(a, b *AccessRequestView) int {
		return cmp.Or(cmp.Compare(a.Due, b.Due), open[a.ID].At.Compare(open[b.ID].At))
	})
	return out, gaps, nil
}
