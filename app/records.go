package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/audit/ledger"
	"github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/records"
	"golang.org/x/sync/errgroup"
)

// Records: drafts written and signed, read, listed; a signed record never changes.

// NewRecord is a record as a caller writes it: fields as JSON values, checked against the
// category's schema here.
type NewRecord struct {
	Category          recordvault.Category       `json:"category"`
	OtherParticipants []string                   `json:"other_participants,omitempty"`
	Fields            map[string]json.RawMessage `json:"fields"`
	Sign              bool                       `json:"sign,omitempty"`
}

// RecordView is a record as an API caller sees it.
type RecordView struct {
	ID           string                     `json:"id"`
	Category     recordvault.Category       `json:"category"`
	Participants []string                   `json:"participants"`
	Author       string                     `json:"author"`
	Status       recordvault.Status         `json:"status"`
	Created      time.Time                  `json:"created"`
	Updated      time.Time                  `json:"updated"`
	Part2        bool                       `json:"part2,omitempty"` // a 42 CFR Part 2 record
	Fields       map[string]json.RawMessage `json:"fields,omitempty"`
	Attachments  []AttachmentView           `json:"attachments"`
	Addenda      []AddendumView             `json:"addenda"`
	Amendments   []*recordvault.Amendment   `json:"amendments"` // requests to amend it, with what followed each
}

// AttachmentView describes one attachment.
type AttachmentView struct {
	ID        string `json:"id"`
	Size      int64  `json:"size"`
	MediaType string `json:"media_type,omitempty"`
}

// AddendumView is one addendum of a record.
type AddendumView struct {
	ID      string    `json:"id"`
	Author  string    `json:"author"`
	Created time.Time `json:"created"`
	Text    string    `json:"text"`
	// Concerns are the fields of the record it is about; none: the whole record. A released
	// copy carries it when they overlap the fields released (policy.Accompanies).
	Concerns []string `json:"concerns,omitempty"`
}

func summary(d *records.Document) *RecordView {
	v := &RecordView{ID: d.ID, Category: d.Category, Participants: d.Participants, Author: d.Author, Status: d.Status,
		Created: d.Created, Updated: d.Updated, Part2: d.Category == recordvault.SUDRecord,
		Attachments: []AttachmentView{}, Addenda: []AddendumView{}, Amendments: []*recordvault.Amendment{}}
	for _, b := range d.Attachments {
		v.Attachments = append(v.Attachments, AttachmentView{ID: b.ID, Size: b.Size, MediaType: b.MediaType})
	}
	return v
}

// CreateRecord stores a new record about client (and other participants), written by the
// caller.
func (s *Service) CreateRecord(ctx context.Context, c access.Caller, client string, nr NewRecord) (*RecordView, error) {
	fields, err := recordvault.ValidateFields(nr.Category, nr.Fields)
	if err != nil {
		return nil, err
	}
	if nr.Sign && nr.Category == recordvault.Evaluation {
		return nil, errEvaluationNeedsDocument
	}
	participants := append([]string{client}, nr.OtherParticipants...)
	if len(participants) > records.MaxParticipants {
		return nil, recordvault.Errorf(recordvault.EINVALID, "a record has at most %d participants", records.MaxParticipants)
	}
	seen := map[string]bool{}
	var cls []*clinic.Client
	missing := false
	for _, p := range participants {
		if seen[p] {
			return nil, recordvault.Errorf(recordvault.EINVALID, "each participant is named once")
		}
		seen[p] = true
		cl, err := s.loadClient(ctx, c, p)
		if err != nil {
			return nil, err
		}
		missing = missing || cl == nil
		cls = append(cls, cl)
	}
	d := refused("no such client")
	if !missing {
		d = access.Decide(c, access.WriteRecord, access.Target{Clinic: c.Clinic, Category: nr.Category, Author: c.ID,
			Participants: participants, CareTeams: careTeams(cls...)})
	}
	if !d.Allowed {
		return nil, s.decide(ctx, c, "create_record", client, "", d)
	}
	// An allowed write is recorded while the record is sealed (its data key is a Vault
	// call): nothing is stored until the events are (records.NewRecord.Before), and nothing
	// is sealed for a refused write.
	id := recordvault.NewID()
	recorded := make(chan error, 1)
	go func() {
		err := s.decide(ctx, c, "create_record", client, "", d)
		if err == nil && !nr.Sign {
			err = s.recordStep(ctx, c, recordvault.AuditEvent{Action: "draft_opened", Client: client, Record: id,
				Rule: "a draft is changed and signed by its author"})
		}
		recorded <- err
	}()
	var auditErr error
	waited := false
	wait := func() error {
		if !waited {
			auditErr, waited = <-recorded, true
		}
		return auditErr
	}
	doc, err := s.records.Create(ctx, records.NewRecord{ID: id, Clinic: c.Clinic, Category: nr.Category, Participants: participants,
		Author: c.ID, Sign: nr.Sign, Fields: fields, Before: wait})
	if werr := wait(); werr != nil {
		return nil, werr // the audit's failure is the answer: nothing was stored
	}
	if err != nil {
		return nil, err
	}
	v := summary(doc)
	v.Fields = nil
	return v, nil
}

var errEvaluationNeedsDocument = recordvault.Errorf(recordvault.EINVALID,
	"an evaluation is signed with its document attached: create it as a draft, attach the PDF, then sign it")

// loadRecord reads a client's profile and a record through that client, always both, and
// decides action on them, audited as event: the same reads whether either exists, and one
// answer for unknown and forbidden.
func (s *Service) loadRecord(ctx context.Context, c access.Caller, event string, action access.Action, client, record string) (*records.Document, error) {
	doc, _, err := s.loadRecordAndPeople(ctx, c, event, action, client, record)
	return doc, err
}

// loadRecordAndPeople is loadRecord that also returns the profiles of the record's
// participants the decision was made on, for a caller that reads them again (a release's
// facts): the decision and what follows from it rest on one reading.
func (s *Service) loadRecordAndPeople(ctx context.Context, c access.Caller, event string, action access.Action, client, record string) (*records.Document, people, error) {
	doc, ps, d, err := s.recordDecision(ctx, c, action, client, record)
	if err != nil {
		return nil, nil, err
	}
	if err := s.decide(ctx, c, event, client, record, d); err != nil {
		return nil, nil, err
	}
	if err := s.checkStatus(ctx, c, client, doc); err != nil {
		return nil, nil, err
	}
	return doc, ps, nil
}

// people are the clients' profiles a request has read, by client id.
type people map[string]*clinic.Client

// recordDecision reads the client's profile and the record (always both, so that the work
// behind an answer tells nothing) and decides c's action on it, recording nothing yet. The
// profiles of the record's participants, read to decide, are returned with it.
func (s *Service) recordDecision(ctx context.Context, c access.Caller, action access.Action, client, record string) (*records.Document, people, access.Decision, error) {
	cl, err := s.loadClient(ctx, c, client)
	if err != nil {
		return nil, nil, access.Decision{}, err
	}
	doc, err := s.records.Load(ctx, c.Clinic, client, record)
	if err != nil && !errors.Is(err, recordvault.ErrNotFound) {
		return nil, nil, access.Decision{}, err
	}
	d := refused("no such client or record")
	ps := people{}
	if cl != nil && doc != nil && doc.Kind == recordvault.RecordDocument {
		var others []*clinic.Client
		for _, p := range doc.Participants {
			o := cl
			if p != client {
				if o, err = s.loadClient(ctx, c, p); err != nil {
					return nil, nil, access.Decision{}, err
				}
			}
			others, ps[p] = append(others, o), o
		}
		d = access.Decide(c, action, access.Target{Clinic: c.Clinic, Category: doc.Category, Author: doc.Author,
			Participants: doc.Participants, CareTeams: careTeams(others...)})
	}
	return doc, ps, d, nil
}

// checkStatus checks a draft against what the audit trail records of it.
func (s *Service) checkStatus(ctx context.Context, c access.Caller, client string, doc *records.Document) error {
	if doc.Status == recordvault.StatusDraft {
		return s.checkDraft(ctx, c, client, doc)
	}
	return nil
}

// errRolledBack answers for a record whose stored version is older than the audit trail
// allows: a draft of a record the trail records as signed.
var errRolledBack = recordvault.Errorf(recordvault.EINTERNAL, "the stored record failed its integrity check")

// checkDraft checks that the trail records doc as a draft still, at its revision or an
// earlier one: a signed record's manifest never changes again, so a bucket writer who puts
// back one of its drafts (older text, open to changes again) is found here, and so is one
// who puts a draft back to an earlier revision. Only drafts pay the trail read. A draft
// created while audit records were being lost (an acknowledged audit.Loss) is taken as one:
// the events that opened and revised it may be among them, and its author's work is not
// refused for that.
func (s *Service) checkDraft(ctx context.Context, c access.Caller, client string, doc *records.Document) error {
	var revision uint64
	opened, lost := false, false
	who := recordvault.AuditEvent{Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Client: client, Record: doc.ID}
	if err := s.readLedger(ctx, who, func(l *ledger.Clinic) {
		revision, opened = l.Drafts[doc.ID]
		lost = slices.ContainsFunc(l.Head().Losses, func(loss audit.Loss) bool { return during(loss, doc.Created) })
	}); err != nil {
		return err
	}
	switch {
	case lost || opened && doc.Revision >= revision:
		return nil
	case opened:
		return s.integrityFailure(ctx, who, fmt.Sprintf("a draft at revision %d, the audit trail records revision %d (a draft rolled back)", doc.Revision, revision), errRolledBack)
	}
	return s.integrityFailure(ctx, who, "a draft the audit trail does not record as one (a signed record rolled back)", errRolledBack)
}

// GetRecord returns a record with its fields, addenda and amendment requests, decrypted.
func (s *Service) GetRecord(ctx context.Context, c access.Caller, client, record string) (*RecordView, error) {
	doc, _, d, err := s.recordDecision(ctx, c, access.ReadRecord, client, record)
	if err != nil {
		return nil, err
	}
	if !d.Allowed {
		return nil, s.decide(ctx, c, string(access.ReadRecord), client, record, d)
	}
	// An allowed read is recorded while the record is opened, so that the answer waits for
	// the longer of the two, not their sum: nothing opened is returned unless the event is
	// stored (fail closed), and nothing is opened for a refused read.
	var v *RecordView
	err = s.decideWhile(ctx, c, string(access.ReadRecord), client, record, d, func() (err error) {
		v, err = s.openRecord(ctx, doc)
		return err
	})
	if err == nil {
		err = s.checkStatus(ctx, c, client, doc)
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// openRecord decrypts a record's fields, addenda and amendment requests.
func (s *Service) openRecord(ctx context.Context, doc *records.Document) (*RecordView, error) {
	fields, err := s.records.Read(ctx, doc, nil)
	if err != nil {
		return nil, err
	}
	v := summary(doc)
	v.Fields = make(map[string]json.RawMessage, len(fields))
	for name, value := range fields {
		if v.Fields[name], err = recordvault.FieldJSON(doc.Category, name, value); err != nil {
			return nil, err
		}
	}
	if v.Addenda, v.Amendments, err = s.children(ctx, doc); err != nil {
		return nil, err
	}
	return v, nil
}

// children decrypts a record's addenda and amendment requests, oldest first.
func (s *Service) children(ctx context.Context, doc *records.Document) ([]AddendumView, []*recordvault.Amendment, error) {
	kids, err := s.records.Children(ctx, doc)
	if err != nil {
		return nil, nil, err
	}
	addenda, amendments := []AddendumView{}, []*recordvault.Amendment{}
	for _, k := range kids {
		if k.Kind == recordvault.AmendmentDocument {
			_, a, err := s.amendment(ctx, k)
			if err != nil {
				return nil, nil, err
			}
			amendments = append(amendments, a)
			continue
		}
		f, err := s.records.Read(ctx, k, nil)
		if err != nil {
			return nil, nil, err
		}
		a := AddendumView{ID: k.ID, Author: k.Author, Created: k.Created, Text: string(f[addendumText])}
		if c, ok := f[addendumConcerns]; ok && json.Unmarshal(c, &a.Concerns) != nil {
			return nil, nil, records.ErrUnreadable
		}
		addenda = append(addenda, a)
	}
	return addenda, amendments, nil
}

// ListRecords returns a page of a client's records, described but not decrypted.
func (s *Service) ListRecords(ctx context.Context, c access.Caller, client, after string, limit int) ([]*RecordView, error) {
	cl, err := s.loadClient(ctx, c, client)
	if err != nil {
		return nil, err
	}
	d := refused("no such client")
	if cl != nil {
		d = access.Decide(c, access.ListRecords, access.Target{Clinic: c.Clinic, Participants: []string{client}, CareTeams: careTeams(cl)})
	}
	if !d.Allowed {
		return nil, s.decide(ctx, c, string(access.ListRecords), client, "", d)
	}
	// The page is read while the listing is recorded; it is returned only once the event is.
	var docs []*records.Document
	err = s.decideWhile(ctx, c, string(access.ListRecords), client, "", d, func() (err error) {
		docs, err = s.listPage(ctx, c.Clinic, client, after, limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := []*RecordView{}
	for _, doc := range docs {
		// Listed with the rest, but a psychotherapy note shows only to its author that it exists.
		if access.Decide(c, access.ReadRecord, access.Target{Clinic: c.Clinic, Category: doc.Category, Author: doc.Author,
			Participants: []string{client}, CareTeams: careTeams(cl)}).Allowed {
			out = append(out, summary(doc))
		}
	}
	return out, nil
}

// listPage reads a page of a client's records: their ids, then their manifests,
// listPageReads at a time, so that a page costs a few round trips to storage, not one per
// record.
func (s *Service) listPage(ctx context.Context, clinic, client, after string, limit int) ([]*records.Document, error) {
	ids, err := s.records.List(ctx, clinic, client, after, limit)
	if err != nil {
		return nil, err
	}
	docs := make([]*records.Document, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(listPageReads)
	for i, id := range ids {
		g.Go(func() (err error) {
			docs[i], err = s.loadListed(gctx, clinic, client, id)
			return err
		})
	}
	return docs, g.Wait()
}

// loadListed reads the manifest of a record that a listing of client's records has just
// named. Not found then is the storage contradicting itself (MinIO, a moment after its set's
// restart, has listed a record whose manifest it answered "not found"), not an answer about
// the client: unavailable, to be asked again shortly, never a 404 for a client that exists,
// nor a record silently left out.
func (s *Service) loadListed(ctx context.Context, clinic, client, id string) (*records.Document, error) {
	doc, err := s.records.Load(ctx, clinic, client, id)
	if errors.Is(err, recordvault.ErrNotFound) {
		return nil, fmt.Errorf("records: a record listed reads as absent: %w", recordvault.ErrUnavailable)
	}
	return doc, err
}

// listPageReads bounds the manifests of one page of a listing read at once.
const listPageReads = 8

// UpdateRecord replaces a draft's fields; a signed record answers ECONFLICT.
func (s *Service) UpdateRecord(ctx context.Context, c access.Caller, client, record string, raw map[string]json.RawMessage) (*RecordView, error) {
	doc, err := s.loadRecord(ctx, c, "update_record", access.SignRecord, client, record)
	if err != nil {
		return nil, err
	}
	fields, err := recordvault.ValidateFields(doc.Category, raw)
	if err != nil {
		return nil, err
	}
	if err := s.records.Update(ctx, doc, fields); err != nil {
		return nil, err
	}
	if err := s.draftRevised(ctx, c, client, doc); err != nil {
		return nil, err
	}
	return summary(doc), nil
}

// draftRevised records the revision a change gave a draft, once it is stored: recorded
// before, a change that then failed would leave the trail ahead of the bucket, and the draft
// refused as rolled back for good. (A process that stops in between leaves the trail a
// revision behind: that one step back would then go unnoticed.)
func (s *Service) draftRevised(ctx context.Context, c access.Caller, client string, doc *records.Document) error {
	return s.recordStep(ctx, c, recordvault.AuditEvent{Action: "draft_revised", Client: client, Record: doc.ID, Revision: doc.Revision,
		Rule: "a draft is changed and signed by its author"})
}

// SignRecord makes a draft final.
func (s *Service) SignRecord(ctx context.Context, c access.Caller, client, record string) (*RecordView, error) {
	doc, err := s.loadRecord(ctx, c, "sign_record", access.SignRecord, client, record)
	if err != nil {
		return nil, err
	}
	if doc.Category == recordvault.Evaluation && doc.Status == recordvault.StatusDraft &&
		!hasPDF(doc.Attachments) {
		return nil, errEvaluationNeedsDocument
	}
	wasDraft := doc.Status == recordvault.StatusDraft
	if err := s.records.Sign(ctx, doc); err != nil {
		return nil, err
	}
	if wasDraft { // recorded once signed, like a revision (draftRevised)
		if err := s.recordStep(ctx, c, recordvault.AuditEvent{Action: "draft_signed", Client: client, Record: doc.ID,
			Rule: "signed: final, changed only by addenda and amendments"}); err != nil {
			return nil, err
		}
	}
	return summary(doc), nil
}
