package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/audit/ledger"
	"github.com/recordvault/recordvault/policy"
	"github.com/recordvault/recordvault/records"
)

// Amendment requests (45 CFR 164.526) are recorded by staff on the client's behalf, or made
// by the client through their own login (the portal), of a record in their file (any but a
// psychotherapy note). Recording a request or a client's statement of disagreement needs
// read access to the record (the staff member must see what the client asks about);
// extending, deciding and rebutting need write access, so a psychotherapy note's requests
// are its author's to answer. Every step is audited under its
// own name, and the request, decision, disagreement and rebuttal are returned with the
// record (GetRecord) so that they travel with it.

var errAmendDraft = recordvault.Errorf(recordvault.ECONFLICT, "a draft is changed by its author: amendment requests are for signed records")

// RequestAmendment records a client's request, received on received (YYYY-MM-DD), to amend a
// signed record.
func (s *Service) RequestAmendment(ctx context.Context, c access.Caller, client, record string, in recordvault.AmendmentRequest) (*recordvault.Amendment, error) {
	if onlyOwnCopies(c) {
		in.Received = s.now().UTC().Format(time.DateOnly) // made by the client, today
	}
	req, err := recordvault.NewAmendmentRequest(in, c.ID, s.now())
	if err != nil {
		return nil, err
	}
	doc, err := s.loadAmended(ctx, c, "request_amendment", access.ReadRecord, client, record)
	if err != nil {
		return nil, err
	}
	if err := recordvault.CheckConcerns(doc.Category, in.Concerns); err != nil {
		return nil, err
	}
	if doc.Status != recordvault.StatusSigned {
		return nil, errAmendDraft
	}
	// The clock of the decision starts here: the trail lists the requests still open
	// (OverdueAmendments), whatever happens to their objects in the bucket.
	id := recordvault.NewID()
	if err := s.recordStep(ctx, c, recordvault.AuditEvent{Action: "amendment_requested", Client: client, Record: record, Amendment: id,
		Rule: "a decision is due within 60 days: 45 CFR 164.526(b)(2)"}); err != nil {
		return nil, err
	}
	parts := map[string][]byte{req.Part: req.Value}
	k, err := s.records.AddChild(ctx, doc, records.NewChild{ID: id, Kind: recordvault.AmendmentDocument, Author: c.ID,
		Status: req.Status, Fields: parts})
	if err != nil {
		return nil, s.abandonStep(ctx, c, recordvault.AuditEvent{Action: "amendment_abandoned", Client: client, Record: record, Amendment: id,
			Rule: "the request could not be stored: nothing is due"}, err)
	}
	return recordvault.AmendmentFromParts(k.ID, k.Status, parts)
}

// ExtendAmendment takes the one 30-day extension of an undecided request, with its reason.
func (s *Service) ExtendAmendment(ctx context.Context, c access.Caller, client, record, id, reason string) (*recordvault.Amendment, error) {
	return s.amend(ctx, c, "extend_amendment", access.WriteRecord, client, record, id, func(a *recordvault.Amendment) (recordvault.Step, error) {
		return a.Extend(reason, c.ID, s.now())
	})
}

// DecideAmendment accepts a request with the text that amends the record, or denies it on a
// ground of 164.526(a)(2) with an explanation.
func (s *Service) DecideAmendment(ctx context.Context, c access.Caller, client, record, id string, outcome recordvault.Status,
	amendment string, ground recordvault.DenialGround, explanation string) (*recordvault.Amendment, error) {
	return s.amend(ctx, c, "decide_amendment", access.WriteRecord, client, record, id, func(a *recordvault.Amendment) (recordvault.Step, error) {
		return a.Decide(outcome, amendment, ground, explanation, c.ID, s.now())
	})
}

// RecordDisagreement records the client's statement of disagreement with a denial.
func (s *Service) RecordDisagreement(ctx context.Context, c access.Caller, client, record, id, statement string) (*recordvault.Amendment, error) {
	return s.amend(ctx, c, "record_disagreement", access.ReadRecord, client, record, id, func(a *recordvault.Amendment) (recordvault.Step, error) {
		return a.Disagree(statement, c.ID, s.now())
	})
}

// RebutDisagreement records the clinic's rebuttal of a statement of disagreement.
func (s *Service) RebutDisagreement(ctx context.Context, c access.Caller, client, record, id, text string) (*recordvault.Amendment, error) {
	return s.amend(ctx, c, "rebut_disagreement", access.WriteRecord, client, record, id, func(a *recordvault.Amendment) (recordvault.Step, error) {
		return a.Rebut(text, c.ID, s.now())
	})
}

var errNotAccepted = recordvault.Errorf(recordvault.ECONFLICT, "only an accepted amendment is sent to earlier recipients (164.526(c)(3))")

// AmendmentRecipients lists the releases that disclosed a record before an amendment of it
// was accepted, with their recipients: the clinic must make reasonable efforts to inform
// them, and anyone the client names, of the amendment (164.526(c)(3)). Every release whose
// decision approved it counts, whatever its status now: a release revoked or expired since
// may have been downloaded. Asked of whoever may decide the amendment (write access).
func (s *Service) AmendmentRecipients(ctx context.Context, c access.Caller, client, record, id string) ([]ReleaseView, error) {
	doc, k, err := s.loadAmendment(ctx, c, "list_amendment_recipients", access.WriteRecord, client, record, id)
	if err != nil {
		return nil, err
	}
	a, err := s.accepted(ctx, k)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, errNotAccepted
	}
	return s.releasedBefore(ctx, c.Clinic, client, doc.ID, a.Decision.At)
}

// accepted returns amendment request k once it is accepted, and nil while it is not.
func (s *Service) accepted(ctx context.Context, k *records.Document) (*recordvault.Amendment, error) {
	_, a, err := s.amendment(ctx, k)
	if err != nil || a.Decision == nil || a.Decision.Outcome != recordvault.StatusAccepted {
		return nil, err
	}
	return a, nil
}

// releasedBefore lists the releases of a client's document approved before a time, whatever
// their status now: a release revoked or expired since may have been downloaded.
func (s *Service) releasedBefore(ctx context.Context, clinic, client, document string, at time.Time) ([]ReleaseView, error) {
	all, err := s.clientReleases(ctx, clinic, client)
	if err != nil {
		return nil, err
	}
	out := []ReleaseView{}
	for _, r := range all {
		if r.Document == document && r.Decision.Outcome == policy.Approve && r.Created.Before(at) {
			out = append(out, r)
		}
	}
	return out, nil
}

// loadAmendment loads an amendment request of a record the caller may act on.
func (s *Service) loadAmendment(ctx context.Context, c access.Caller, event string, action access.Action, client, record, id string) (*records.Document, *records.Document, error) {
	doc, err := s.loadAmended(ctx, c, event, action, client, record)
	if err != nil {
		return nil, nil, err
	}
	k, err := s.records.LoadChild(ctx, doc, id)
	if errors.Is(err, recordvault.ErrNotFound) || (err == nil && k.Kind != recordvault.AmendmentDocument) {
		return nil, nil, recordvault.ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	return doc, k, nil
}

// loadAmended reads the record an amendment step concerns, for a caller who may take it:
// staff by action on the record; a client's own login, for their own request or statement of
// disagreement (read), a record of their file.
func (s *Service) loadAmended(ctx context.Context, c access.Caller, event string, action access.Action, client, record string) (*records.Document, error) {
	if onlyOwnCopies(c) && action == access.ReadRecord {
		return s.loadOwnRecord(ctx, c, event, client, record)
	}
	return s.loadRecord(ctx, c, event, action, client, record)
}

// amend loads an amendment request of a record the caller may act on, takes the next step
// and stores it.
func (s *Service) amend(ctx context.Context, c access.Caller, event string, action access.Action, client, record, id string,
	next func(*recordvault.Amendment) (recordvault.Step, error)) (*recordvault.Amendment, error) {
	_, k, err := s.loadAmendment(ctx, c, event, action, client, record, id)
	if err != nil {
		return nil, err
	}
	parts, a, err := s.amendment(ctx, k)
	if err != nil {
		return nil, err
	}
	step, err := next(a)
	if err != nil {
		return nil, err
	}
	if step.From == recordvault.StatusRequested && step.Status != recordvault.StatusRequested {
		if err := s.recordStep(ctx, c, recordvault.AuditEvent{Action: "amendment_decided", Client: client, Record: record, Amendment: id,
			Rule: "request " + string(step.Status) + ": 45 CFR 164.526(d), (e)"}); err != nil {
			return nil, err
		}
	}
	if err := s.records.AppendAmendment(ctx, k, step); err != nil {
		return nil, err
	}
	parts[step.Part] = step.Value
	return recordvault.AmendmentFromParts(k.ID, k.Status, parts)
}

// amendment decrypts and assembles a stored amendment request.
func (s *Service) amendment(ctx context.Context, k *records.Document) (map[string][]byte, *recordvault.Amendment, error) {
	parts, err := s.records.Read(ctx, k, nil)
	if err != nil {
		return nil, nil, err
	}
	a, err := recordvault.AmendmentFromParts(k.ID, k.Status, parts)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", records.ErrUnreadable, err)
	}
	return parts, a, nil
}

// OpenAmendment is an amendment request still undecided, as the audit trail records it.
type OpenAmendment struct {
	Client    string `json:"client"`
	Record    string `json:"record"`
	Amendment string `json:"amendment"`
	Due       string `json:"due,omitempty"` // YYYY-MM-DD
	Overdue   bool   `json:"overdue,omitempty"`
	// Unavailable marks a request the audit trail records as undecided whose document cannot
	// be read (deleted or altered in the bucket): listed, for its due day cannot be known.
	Unavailable bool `json:"unavailable,omitempty"`
}

// OverdueAmendments lists, for clinic admins, the clinic's amendment requests still
// undecided after their due day (60 days, or 90 with the extension: 164.526(b)(2)), earliest
// due first. The undecided requests come from the audit trail, not from a walk of every
// record; the due day is read from each one's sealed request, and nothing else is shown.
func (s *Service) OverdueAmendments(ctx context.Context, c access.Caller) (*Overdue[OpenAmendment], error) {
	if err := s.decide(ctx, c, "list_overdue_amendments", "", "", access.Decide(c, access.ManageClinic, access.Target{Clinic: c.Clinic})); err != nil {
		return nil, err
	}
	open, gaps, err := s.openAmendments(ctx, c)
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(open, func(a OpenAmendment) bool { return !a.Overdue && !a.Unavailable })
	return &Overdue[OpenAmendment]{Items: out, Gaps: gaps}, nil
}

// openAmendments reads the clinic's amendment requests the audit trail records as
// undecided, earliest due first, with the periods whose records were lost.
func (s *Service) openAmendments(ctx context.Context, c access.Caller) ([]OpenAmendment, []LostPeriod, error) {
	open := map[string]ledger.OpenRequest{}
	var gaps []LostPeriod
	who := recordvault.AuditEvent{Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic}
	if err := s.readLedger(ctx, who, func(l *ledger.Clinic) {
		maps.Copy(open, l.Open)
		gaps = lostPeriods(l.Head().Losses, time.Time{})
	}); err != nil {
		return nil, nil, err
	}
	out := []OpenAmendment{}
	now := s.now()
	for id, o := range open {
		entry := OpenAmendment{Client: o.Client, Record: o.Record, Amendment: id}
		a, err := s.storedAmendment(ctx, c.Clinic, o, id)
		switch {
		case errors.Is(err, recordvault.ErrNotFound) || errors.Is(err, records.ErrUnreadable):
			entry.Unavailable = true
		case err != nil:
			return nil, nil, err
		default:
			entry.Due, entry.Overdue = a.Due, a.Overdue(now)
		}
		out = append(out, entry)
	}
	slices.SortFunc(out, func(a, b OpenAmendment) int {
		return cmp.Or(cmp.Compare(a.Due, b.Due), cmp.Compare(open[a.Amendment].At.UnixNano(), open[b.Amendment].At.UnixNano()))
	})
	return out, gaps, nil
}

// Overdue is an overdue listing read from the audit trail, with the periods whose records
// were lost (an acknowledged audit.Loss): a request received in one may be missing from it.
type Overdue[T any] struct {
	Items []T          `json:"items"`
	Gaps  []LostPeriod `json:"gaps,omitempty"`
}

// storedAmendment reads amendment request id of o's record, in the service only.
func (s *Service) storedAmendment(ctx context.Context, clinic string, o ledger.OpenRequest, id string) (*recordvault.Amendment, error) {
	doc, err := s.records.Load(ctx, clinic, o.Client, o.Record)
	if err != nil {
		return nil, err
	}
	k, err := s.records.LoadChild(ctx, doc, id)
	if err != nil {
		return nil, err
	}
	if k.Kind != recordvault.AmendmentDocument {
		return nil, records.ErrUnreadable
	}
	_, a, err := s.amendment(ctx, k)
	return a, err
}
