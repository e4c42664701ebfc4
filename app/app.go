// Package app is recordvault's application layer: each operation a caller asks for, with its
// access decision (package access), its audit event, and the work (packages clinic and
// records). The HTTP layer decodes and encodes around it; nothing here knows HTTP.
//
// Two rules hold for every operation:
//   - Fail closed: the decision is recorded by the Auditor before anything is returned or
//     stored; when it cannot be recorded the operation fails and nothing happens.
//   - No existence oracle: an unknown client or record and one the caller may not see are
//     answered with the same error (ENOTFOUND, "not found"), after the same storage reads
//     (the client's profile, then the record), so neither the answer nor the work behind it
//     tells a probe whether a person is a client or a record exists.
package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/audit/ledger"
	"github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/disclosure"
	"github.com/recordvault/recordvault/notify"
	"github.com/recordvault/recordvault/otp"
	"github.com/recordvault/recordvault/policy"
	"github.com/recordvault/recordvault/records"
	"github.com/recordvault/recordvault/storage"
	"github.com/recordvault/recordvault/tokens"
)

// Service runs the operations.
type Service struct {
	records      *records.Service
	clinic       *clinic.Service
	disclosures  *disclosure.Service
	tokens       *tokens.Service
	codes        *otp.Service
	notifier     notify.Notifier
	audit        recordvault.Auditor
	trail        Trail
	ledger       *ledger.Ledger // what the trail records of disclosures: accountings, ends, used tokens
	now          func() time.Time
	jurisdiction string
}

// Deps are what the Service works with.
type Deps struct {
	Records     *records.Service
	Clinic      *clinic.Service
	Disclosures *disclosure.Service
	Tokens      *tokens.Service
	Codes       *otp.Service    // one-time codes for recipients without a login
	Notifier    notify.Notifier // delivers them
	Audit       recordvault.Auditor
	Trail       Trail // the tamper-evident chain Audit records into, for verification and reading
	// CheckpointEvery is how many blocks of a clinic's trail are read between checkpoints of
	// what it records of disclosures; ledger.DefaultCheckpointEvery when 0.
	CheckpointEvery uint64
	Now             func() time.Time // the clock; time.Now when nil
	// Jurisdiction is the law the clinics practise under, a key of policy.Jurisdictions;
	// "US" (the federal rules alone) when empty.
	Jurisdiction string
}

// New returns a Service over deps.
func New(deps Deps) (*Service, error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Jurisdiction == "" {
		deps.Jurisdiction = "US"
	}
	if _, ok := policy.Jurisdictions[deps.Jurisdiction]; !ok {
		return nil, fmt.Errorf("app: unknown jurisdiction %q", deps.Jurisdiction)
	}
	s := &Service{records: deps.Records, clinic: deps.Clinic, disclosures: deps.Disclosures, tokens: deps.Tokens,
		codes: deps.Codes, notifier: deps.Notifier, audit: deps.Audit, trail: deps.Trail, ledger: ledger.New(deps.CheckpointEvery, nil),
		now: deps.Now, jurisdiction: deps.Jurisdiction}
	if deps.Clinic != nil && deps.Trail != nil {
		// Revisions of clinic state go into the trail, and come back from it to every process.
		s.ledger = ledger.New(deps.CheckpointEvery, deps.Clinic.Witness)
		deps.Clinic.UseRevisionLog(s)
	}
	return s, nil
}

var _ clinic.RevisionLog = (*Service)(nil)

// Revised records a revision of clinic state in the audit trail (clinic.RevisionLog).
func (s *Service) Revised(ctx context.Context, clinicID, client string, revision uint64) error {
	rule := "roster revised"
	if client != "" {
		rule = "client profile revised"
	}
	err := s.audit.Record(ctx, recordvault.AuditEvent{Time: s.now().UTC(), Actor: "recordvault", Clinic: clinicID, Action: "state_revised",
		Client: client, Revision: revision, Allowed: true, Rule: rule})
	if err != nil {
		return fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	return nil
}

// Recall reads the clinic's audit trail on, which passes its revisions of clinic state to
// clinic.Service (clinic.RevisionLog). A trail that fails its check (audited as such) gives
// the revisions before the break: access decisions go on, on what the process knows, while
// what reads the trail itself (downloads, accountings) stops until the chain is repaired.
func (s *Service) Recall(ctx context.Context, clinicID string) error {
	err := s.readLedger(ctx, recordvault.AuditEvent{Actor: "recordvault", Clinic: clinicID}, func(*ledger.Clinic) {})
	if errors.Is(err, errTrailBroken) {
		return nil
	}
	return err
}

var errAuditUnavailable = recordvault.Errorf(recordvault.EUNAVAILABLE, "the audit trail cannot record this request; nothing was done")

// decide records a decision as an audit event; the operation goes on only when the decision
// allowed it and the event was recorded. A refusal is answered as recordvault.ErrNotFound.
func (s *Service) decide(ctx context.Context, c access.Caller, action string, client, record string, d access.Decision) error {
	err := s.audit.Record(ctx, recordvault.AuditEvent{Time: s.now().UTC(), Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Action: action,
		Client: client, Record: record, Allowed: d.Allowed, Rule: d.Rule})
	if err != nil {
		return fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	if !d.Allowed {
		return recordvault.ErrNotFound
	}
	return nil
}

// recordStep records e, a step of c's request that the audit trail's ledger reads (a draft
// opened, a request received, ...), allowed, before the change it names is made.
func (s *Service) recordStep(ctx context.Context, c access.Caller, e recordvault.AuditEvent) error {
	e.Time, e.Actor, e.ActorIsClient, e.Clinic, e.Allowed = s.now().UTC(), c.ID, isClientLogin(c), c.Clinic, true
	if err := s.audit.Record(ctx, e); err != nil {
		return fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	return nil
}

// abandonStep records that the change a step recorded before it (a request received) was not
// stored after all, so that the trail's ledger does not keep it open (an overdue request that
// never was, listed as missing from the bucket); failed is why, and is returned.
func (s *Service) abandonStep(ctx context.Context, c access.Caller, e recordvault.AuditEvent, failed error) error {
	if err := s.recordStep(ctx, c, e); err != nil {
		return errors.Join(failed, err)
	}
	return failed
}

// isClientLogin reports whether c acts as a client, through their own login.
func isClientLogin(c access.Caller) bool { return slices.Contains(c.Roles, recordvault.RoleClient) }

// refused is the decision for what does not exist: recorded like any refusal.
func refused(rule string) access.Decision { return access.Decision{Rule: rule} }

// loadClient reads a client's profile for an access decision; a missing client is nil.
func (s *Service) loadClient(ctx context.Context, c access.Caller, client string) (*clinic.Client, error) {
	cl, err := s.clinic.LoadClient(ctx, c.Clinic, client)
	if errors.Is(err, recordvault.ErrNotFound) {
		return nil, nil
	}
	return cl, s.auditTampering(ctx, c, client, err)
}

// auditTampering records in the audit trail that stored clinic state (a client's profile,
// or the roster when client is "") failed its integrity check while c's request read it,
// and returns err. Nothing is decided on such state: the request fails.
func (s *Service) auditTampering(ctx context.Context, c access.Caller, client string, err error) error {
	if errors.Is(err, clinic.ErrTampered) {
		rule := "client profile failed its integrity check"
		if client == "" {
			rule = "clinic roster failed its integrity check"
		}
		return s.integrityFailure(ctx, recordvault.AuditEvent{Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Client: client}, rule, err)
	}
	return err
}

// integrityFailure records in the audit trail that stored state failed its integrity check
// while who's request read it (rule says which), and returns err, the request's answer:
// nothing is decided on such state. When the event cannot be recorded, that is added to err.
func (s *Service) integrityFailure(ctx context.Context, who recordvault.AuditEvent, rule string, err error) error {
	who.Time, who.Action, who.Allowed, who.Rule = s.now().UTC(), "integrity_failure", false, rule
	if aerr := s.audit.Record(ctx, who); aerr != nil {
		return fmt.Errorf("%w (and the audit trail could not record it: %w)", err, aerr)
	}
	return err
}

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
	if len(participants) > storage.MaxParticipants {
		return nil, recordvault.Errorf(recordvault.EINVALID, "a record has at most %d participants", storage.MaxParticipants)
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
	if err := s.decide(ctx, c, "create_record", client, "", d); err != nil {
		return nil, err
	}
	id := recordvault.NewID()
	if !nr.Sign {
		if err := s.recordStep(ctx, c, recordvault.AuditEvent{Action: "draft_opened", Client: client, Record: id,
			Rule: "a draft is changed and signed by its author"}); err != nil {
			return nil, err
		}
	}
	doc, err := s.records.Create(ctx, records.NewRecord{ID: id, Clinic: c.Clinic, Category: nr.Category, Participants: participants,
		Author: c.ID, Sign: nr.Sign, Fields: fields})
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
	cl, err := s.loadClient(ctx, c, client)
	if err != nil {
		return nil, err
	}
	doc, err := s.records.Load(ctx, c.Clinic, client, record)
	if err != nil && !errors.Is(err, recordvault.ErrNotFound) {
		return nil, err
	}
	d := refused("no such client or record")
	if cl != nil && doc != nil && doc.Kind == recordvault.RecordDocument {
		var others []*clinic.Client
		for _, p := range doc.Participants {
			if p == client {
				others = append(others, cl)
				continue
			}
			o, err := s.loadClient(ctx, c, p)
			if err != nil {
				return nil, err
			}
			others = append(others, o)
		}
		d = access.Decide(c, action, access.Target{Clinic: c.Clinic, Category: doc.Category, Author: doc.Author,
			Participants: doc.Participants, CareTeams: careTeams(others...)})
	}
	if err := s.decide(ctx, c, event, client, record, d); err != nil {
		return nil, err
	}
	if doc.Status == recordvault.StatusDraft {
		if err := s.checkDraft(ctx, c, client, doc); err != nil {
			return nil, err
		}
	}
	return doc, nil
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
	doc, err := s.loadRecord(ctx, c, "read_record", access.ReadRecord, client, record)
	if err != nil {
		return nil, err
	}
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
	if err := s.decide(ctx, c, string(access.ListRecords), client, "", d); err != nil {
		return nil, err
	}
	ids, err := s.records.List(ctx, c.Clinic, client, after, limit)
	if err != nil {
		return nil, err
	}
	out := []*RecordView{}
	for _, id := range ids {
		doc, err := s.records.Load(ctx, c.Clinic, client, id)
		if err != nil {
			return nil, err
		}
		// Listed with the rest, but a psychotherapy note shows only to its author that it exists.
		if access.Decide(c, access.ReadRecord, access.Target{Clinic: c.Clinic, Category: doc.Category, Author: doc.Author,
			Participants: []string{client}, CareTeams: careTeams(cl)}).Allowed {
			out = append(out, summary(doc))
		}
	}
	return out, nil
}

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

func hasPDF(blobs []storage.Blob) bool {
	for _, b := range blobs {
		if b.MediaType == MediaTypePDF {
			return true
		}
	}
	return false
}

// MediaTypePDF is the one attachment type recordvault takes: documents such as evaluations.
const MediaTypePDF = "application/pdf"

// MaxAttachmentSize bounds one attachment.
const MaxAttachmentSize = 4 << 30

// AddAttachment stores a PDF of size bytes read from body on a draft record. The body must
// begin as a PDF does.
func (s *Service) AddAttachment(ctx context.Context, c access.Caller, client, record string, body io.Reader, size int64) (*AttachmentView, error) {
	doc, err := s.loadRecord(ctx, c, "add_attachment", access.SignRecord, client, record)
	if err != nil {
		return nil, err
	}
	if size <= 0 || size > MaxAttachmentSize {
		return nil, recordvault.Errorf(recordvault.ETOOLARGE, "an attachment is 1 byte to %d bytes, with its length given", int64(MaxAttachmentSize))
	}
	magic := make([]byte, 5)
	if _, err := io.ReadFull(body, magic); err != nil || string(magic) != "%PDF-" {
		return nil, recordvault.Errorf(recordvault.EMEDIATYPE, "attachments are PDF documents")
	}
	b, err := s.records.AddAttachment(ctx, doc, records.NewAttachment{Body: io.MultiReader(bytes.NewReader(magic), body), Size: size, MediaType: MediaTypePDF})
	if err != nil {
		return nil, err
	}
	if err := s.draftRevised(ctx, c, client, doc); err != nil {
		return nil, err
	}
	return &AttachmentView{ID: b.ID, Size: b.Size, MediaType: b.MediaType}, nil
}

// Opened is an open attachment: plaintext bytes [Off, Off+N) of an attachment of Size bytes.
type Opened struct {
	*records.Attachment
	Off, N, Size int64
}

// OpenAttachment opens plaintext bytes [off, off+n) of an attachment: n < 0 means to the
// end, off < 0 the last -off bytes, and a range running past the end stops at it (RFC 9110
// 14.1.2). A range that starts past the end is ERANGE, with the size in Opened.
func (s *Service) OpenAttachment(ctx context.Context, c access.Caller, client, record, blob string, off, n int64) (*Opened, error) {
	doc, err := s.loadRecord(ctx, c, "read_attachment", access.ReadRecord, client, record)
	if err != nil {
		return nil, err
	}
	for _, b := range doc.Attachments {
		if b.ID != blob {
			continue
		}
		if off, n, err = recordvault.ResolveRange(off, n, b.Size); err != nil {
			return &Opened{Size: b.Size}, errRange
		}
		a, err := s.records.OpenAttachment(ctx, doc, blob, off, n)
		if err != nil {
			return nil, err
		}
		return &Opened{Attachment: a, Off: off, N: n, Size: b.Size}, nil
	}
	return nil, recordvault.ErrNotFound
}

var errRange = recordvault.Errorf(recordvault.ERANGE, "the range is outside the attachment")

// An addendum's fields: its text, and the fields of the record it concerns (JSON; absent for
// the whole record).
const (
	addendumText     = "text"
	addendumConcerns = "concerns"
)

// AddAddendum adds an addendum to a signed record: the way a signed record is corrected.
// concerns names the fields of the record it is about (none: the whole record).
func (s *Service) AddAddendum(ctx context.Context, c access.Caller, client, record, text string, concerns []string) (*AddendumView, error) {
	if text == "" || len(text) > recordvault.MaxTextField || !utf8.ValidString(text) {
		return nil, recordvault.Errorf(recordvault.EINVALID, "an addendum's text is 1 to %d bytes of UTF-8", recordvault.MaxTextField)
	}
	doc, err := s.loadRecord(ctx, c, "add_addendum", access.WriteRecord, client, record)
	if err != nil {
		return nil, err
	}
	if err := recordvault.CheckConcerns(doc.Category, concerns); err != nil {
		return nil, err
	}
	if doc.Status != recordvault.StatusSigned {
		return nil, recordvault.Errorf(recordvault.ECONFLICT, "a draft is changed, not amended: addenda are for signed records")
	}
	fields := map[string][]byte{addendumText: []byte(text)}
	if len(concerns) > 0 {
		fields[addendumConcerns], _ = json.Marshal(concerns)
	}
	k, err := s.records.AddChild(ctx, doc, records.NewChild{Kind: recordvault.AddendumDocument, Author: c.ID,
		Status: recordvault.StatusSigned, Fields: fields})
	if err != nil {
		return nil, err
	}
	return &AddendumView{ID: k.ID, Author: k.Author, Created: k.Created, Text: text, Concerns: concerns}, nil
}
