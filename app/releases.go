package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/audit/ledger"
	"github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/disclosure"
	"github.com/recordvault/recordvault/policy"
	"github.com/recordvault/recordvault/records"
)

// Releases. Every disclosure is a release: one document, one recipient, one legal basis,
// decided by package policy on the facts on file, and stored (sealed, package disclosure)
// whatever the outcome, so that refusals are on record too. Staff ask for releases: a
// clinician who may read the document (a psychotherapy note's author alone), whether on a
// client's written request, a representative's, an authorization, or their own attestation
// of a threat or of abuse. Authorizations are recorded by the clinic admins and the client's
// care team (who may see the client), checked for every element of 164.508(c) on the way in,
// and revoked the same way; revoking one ends every release that relies on it at once.

// Kinds and statuses of disclosure documents.
const (
	kindAuthorization = "authorization"
	kindRelease       = "release"

	authorizationActive  = "active"
	authorizationRevoked = "revoked"

	ReleaseApproved    = "approved"
	ReleaseDenied      = "denied"
	ReleaseNeedsReview = "needs_review"
	ReleaseRevoked     = "revoked"
)

// Releases are usable (for downloads) for DefaultReleaseDays unless asked otherwise, and
// never longer than MaxReleaseDays.
const (
	DefaultReleaseDays = 30
	MaxReleaseDays     = 90
)

// maxEvidenceText bounds each free-text element of evidence.
const maxEvidenceText = 2000

func evidenceText(values ...string) error {
	for _, v := range values {
		if len(v) > maxEvidenceText || !utf8.ValidString(v) {
			return recordvault.Errorf(recordvault.EINVALID, "text elements are UTF-8 of at most %d bytes", maxEvidenceText)
		}
	}
	return nil
}

// loadClientAs reads a client's profile and decides action on it, audited as event: one
// answer for unknown and forbidden.
func (s *Service) loadClientAs(ctx context.Context, c access.Caller, event string, action access.Action, client string) (*clinic.Client, error) {
	cl, err := s.loadClient(ctx, c, client)
	if err != nil {
		return nil, err
	}
	d := refused("no such client")
	if cl != nil {
		d = access.Decide(c, action, access.Target{Clinic: c.Clinic, Participants: []string{client}, CareTeams: careTeams(cl)})
	}
	if err := s.decide(ctx, c, event, client, "", d); err != nil {
		return nil, err
	}
	return cl, nil
}

// loadClientOrSelf decides, audited as event, whether the caller may read client's releases
// and accounting: staff as for the client's identity (clinic admins, the care team), and a
// caller of role client when client is their own (45 CFR 164.524, 164.528), or when they act
// for client as personal representative (164.502(g), as policy.Represents decides). One
// answer for unknown and forbidden. It returns the standing of a client-role caller (nil
// for staff).
func (s *Service) loadClientOrSelf(ctx context.Context, c access.Caller, event, client string) (*standing, error) {
	if !onlyOwnCopies(c) {
		_, err := s.loadClientAs(ctx, c, event, access.ReadClient, client)
		return nil, err
	}
	st, err := s.standingOf(ctx, c, client)
	if err != nil {
		return nil, err
	}
	if err := s.decide(ctx, c, event, client, "", st.decision()); err != nil {
		return nil, err
	}
	return st, nil
}

// loadDisclosure reads one disclosure document of kind about client and decodes its body
// into v; an unknown one is recordvault.ErrNotFound.
func loadDisclosure[T any](ctx context.Context, s *Service, clinic, client, id, kind string, v *T) (*disclosure.Doc, error) {
	doc, err := s.disclosures.Load(ctx, clinic, client, id, kind)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(doc.Body, v); err != nil {
		return nil, disclosure.ErrUnreadable
	}
	return doc, nil
}

func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// endReleasesOf revokes every approved release of the clinic's clients that relies on
// authorization id of client. A multi-participant release is stored under its document's
// first participant, who may be another client: their releases are searched too.
func (s *Service) endReleasesOf(ctx context.Context, c access.Caller, client, id string) error {
	homes, err := s.releaseHomes(ctx, c.Clinic, client)
	if err != nil {
		return err
	}
	for _, home := range homes {
		docs, views, err := s.releases(ctx, c.Clinic, home)
		if err != nil {
			return err
		}
		for i, v := range views {
			if docs[i].Status != ReleaseApproved || !slices.Contains(v.Decision.Authorizations, id) {
				continue
			}
			v.Status, v.Ended = ReleaseRevoked, &Ended{At: s.now().UTC(), By: c.ID, Reason: "an authorization it relies on was revoked (45 CFR 164.508(b)(5))"}
			if err := s.disclosures.Update(ctx, docs[i], ReleaseRevoked, v); err != nil {
				return err
			}
			if err := s.audit.Record(ctx, recordvault.AuditEvent{Time: s.now().UTC(), Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Action: "end_release",
				Client: home, Record: v.Document, Release: v.ID, Allowed: true, Rule: "authorization revoked: 45 CFR 164.508(b)(5)"}); err != nil {
				return fmt.Errorf("%w: %w", errAuditUnavailable, err)
			}
		}
	}
	return nil
}

// releaseHomes lists the clients under whom releases of client's documents are stored:
// client, and the first participant of every record client takes part in under another
// (client's index of homes: as many reads however many records client has).
func (s *Service) releaseHomes(ctx context.Context, clinic, client string) ([]string, error) {
	homes, err := s.records.Homes(ctx, clinic, client)
	if err != nil {
		return nil, err
	}
	return append([]string{client}, homes...), nil
}

// RecipientInput is who a release goes to.
type RecipientInput struct {
	Kind policy.RecipientKind `json:"kind"`
	// ID is a registered recipient's id (authorizations and orders name recipients by it);
	// for the client themselves it is set to the client's id.
	ID      string `json:"id,omitempty"`
	Name    string `json:"name,omitempty"`
	Address string `json:"address,omitempty"`
	// Email is the registered address one-time codes go to, for a recipient without a login.
	Email string `json:"email,omitempty"`
	// For is the client a personal representative acts for; Representation what makes them
	// one, as the requesting clinician found it.
	For            string                 `json:"for,omitempty"`
	Representation *policy.Representation `json:"representation,omitempty"`
}

// ReleaseInput asks for a release of one document.
type ReleaseInput struct {
	Document  string         `json:"document"`
	Basis     policy.Basis   `json:"basis"`
	Recipient RecipientInput `json:"recipient"`
	Fields    []string       `json:"fields,omitempty"` // the fields asked for; all when empty
	Purpose   string         `json:"purpose"`
	ValidDays int            `json:"valid_days,omitempty"`
	// Attestation: for serious_threat and abuse_report, the requesting clinician's.
	Attestation *AttestationInput `json:"attestation,omitempty"`
	// Assurances: for a subpoena, what the requesting party has shown (164.512(e)(1)(ii)).
	Assurances *policy.Assurances `json:"assurances,omitempty"`
	// Minor: what the clinic knows of a minor participant's own consent to care.
	Minor *MinorFacts `json:"minor,omitempty"`
	// Denial: for right_of_access, the requesting clinician's judgement that access to the
	// document, or to the fields named, is likely to cause harm (164.524(a)(3)).
	Denial *DenialInput `json:"denial,omitempty"`
	// Notice: for amendment_notice, the accepted amendment sent and the client's agreement
	// that this recipient be told (164.526(c)(2), (3)).
	Notice *NoticeInput `json:"notice,omitempty"`
}

// NoticeInput names the amendment an amendment notice sends.
type NoticeInput struct {
	Amendment string `json:"amendment"`
	// ClientAgreed: the client identified this recipient, or agreed that the clinic tell them
	// (164.526(c)(2)); the clinic records that it has the client's agreement.
	ClientAgreed bool `json:"client_agreed"`
}

// DenialInput is a reviewable denial of access.
type DenialInput struct {
	Ground policy.DenialGround `json:"ground"`
	Fields []string            `json:"fields,omitempty"` // the part denied; the whole document when empty
}

// AttestationInput is the requesting clinician's attestation.
type AttestationInput struct {
	GoodFaith               bool `json:"good_faith"`
	AdmissionOfPastViolence bool `json:"admission_of_past_violence,omitempty"`
	ChildAbuse              bool `json:"child_abuse,omitempty"`
}

// MinorFacts are the facts about the client the release is about, when a minor.
type MinorFacts struct {
	Emancipated        bool `json:"emancipated,omitempty"`
	ConsentedToOwnCare bool `json:"consented_to_own_care,omitempty"`
}

// ReleaseView is a release: what was asked, what was decided and why.
type ReleaseView struct {
	ID              string               `json:"id"`
	Client          string               `json:"client"`
	Document        string               `json:"document"`
	Category        recordvault.Category `json:"category"`
	DateOfService   string               `json:"date_of_service"`
	DocumentVersion time.Time            `json:"document_version"` // the document's last change when released
	Basis           policy.Basis         `json:"basis"`
	Recipient       RecipientInput       `json:"recipient"`
	Purpose         string               `json:"purpose"`
	Asked           []string             `json:"asked,omitempty"`
	Decision        policy.Decision      `json:"decision"`
	Status          string               `json:"status"`
	Jurisdiction    string               `json:"jurisdiction"`
	RequestedBy     string               `json:"requested_by"`
	Created         time.Time            `json:"created"`
	ValidUntil      time.Time            `json:"valid_until"`
	Ended           *Ended               `json:"ended,omitempty"`
	Order           string               `json:"order,omitempty"` // the court order it was made under
	Minor           *MinorFacts          `json:"minor,omitempty"`
	Notice          *NoticeInput         `json:"notice,omitempty"` // the amendment an amendment notice sends
	// Denial is a reviewable denial behind the decision, with its review once there is one;
	// Earlier are the decisions a review replaced.
	Denial  *policy.ReviewableDenial `json:"denial,omitempty"`
	Earlier []policy.Decision        `json:"earlier_decisions,omitempty"`
	home    string                   // the client it is stored under
}

// Ended says when, by whom and why a release was ended before its time.
type Ended struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Reason string    `json:"reason"`
}

var statusOf = map[policy.Outcome]string{policy.Approve: ReleaseApproved, policy.Deny: ReleaseDenied, policy.NeedsReview: ReleaseNeedsReview}

// CreateRelease decides a release of one of client's documents and stores it, whatever the
// outcome; the decision is audited with its citation.
func (s *Service) CreateRelease(ctx context.Context, c access.Caller, client string, in ReleaseInput) (*ReleaseView, error) {
	if err := s.checkReleaseInput(&in); err != nil {
		return nil, err
	}
	doc, ps, err := s.loadRecordAndPeople(ctx, c, "request_release", access.ReadRecord, client, in.Document)
	if err != nil {
		return nil, err
	}
	if doc.Status != recordvault.StatusSigned {
		return nil, recordvault.Errorf(recordvault.ECONFLICT, "only signed records are released")
	}
	if in.Recipient.Kind == policy.ToClient {
		in.Recipient.ID = client
	}
	req, facts, err := s.releaseFacts(ctx, c, client, doc, ps, in)
	if err != nil {
		return nil, err
	}
	if in.Recipient.Kind == policy.ToProvider && in.Recipient.Email == "" && !req.Recipient.Staff {
		return nil, errNoDeliveryRoute
	}
	if in.Recipient.Kind == policy.ToRepresentative && in.Recipient.Email == "" {
		if linked, err := s.representsByLogin(ctx, c.Clinic, in.Recipient.For, in.Recipient.ID); err != nil {
			return nil, err
		} else if !linked {
			return nil, errNoDeliveryRoute
		}
	}
	var denied []string
	if in.Denial != nil {
		denied = in.Denial.Fields
	}
	for _, f := range slices.Concat(in.Fields, denied) {
		if !slices.Contains(req.Document.Fields, f) {
			return nil, recordvault.Errorf(recordvault.EINVALID, "fields: a field named is not in the document")
		}
	}
	if in.Denial != nil {
		licensed, err := s.licensed(ctx, c)
		if err != nil {
			return nil, err
		}
		facts.Denial = &policy.ReviewableDenial{Ground: in.Denial.Ground, DeniedBy: c.ID, Licensed: licensed, Fields: denied}
	}
	decision := policy.Decide(req, facts)
	now := s.now().UTC()
	v := s.releaseView(c, client, doc, in, req, decision, now)
	v.Denial = facts.Denial
	awaits := ""
	switch {
	case decision.Outcome == policy.NeedsReview:
		awaits = recordvault.AwaitsResolution
	case v.Denial != nil:
		awaits = recordvault.AwaitsReview
	}
	if err := s.audit.Record(ctx, recordvault.AuditEvent{Time: now, Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Action: "release_decision",
		Client: client, Record: doc.ID, Release: v.ID, Participants: doc.Participants, Accounted: accounted(decision), Allowed: decision.Outcome == policy.Approve,
		Awaits: awaits, Rule: fmt.Sprintf("%s: %s (%s)", decision.Outcome, decision.Rule.Text, decision.Rule.Citation)}); err != nil {
		return nil, fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	if err := s.storeRelease(ctx, c.Clinic, v); err != nil {
		return nil, s.releasesAbandoned(ctx, c, []*ReleaseView{v}, err)
	}
	return v, nil
}

// releasesAbandoned records that releases whose decisions the trail holds could not be
// stored (or stored with that decision), so that the trail's ledger drops their approvals and
// no accounting lists a disclosure that never was; failed is why, and is returned.
func (s *Service) releasesAbandoned(ctx context.Context, c access.Caller, rs []*ReleaseView, failed error) error {
	for _, r := range rs {
		failed = s.abandonStep(ctx, c, recordvault.AuditEvent{Action: "release_abandoned", Client: r.Client, Record: r.Document, Release: r.ID,
			Rule: "the release could not be stored: nothing was disclosed"}, failed)
	}
	return failed
}

// releaseView is the release a decision on in makes.
func (s *Service) releaseView(c access.Caller, client string, doc *records.Document, in ReleaseInput, req policy.Request,
	decision policy.Decision, now time.Time) *ReleaseView {
	return &ReleaseView{ID: recordvault.NewID(), Client: client, Document: doc.ID, Category: doc.Category,
		DateOfService: req.Document.DateOfService, DocumentVersion: doc.Updated, Basis: in.Basis, Recipient: in.Recipient,
		Purpose: in.Purpose, Asked: in.Fields, Decision: decision, Status: statusOf[decision.Outcome], Jurisdiction: req.Jurisdiction,
		RequestedBy: c.ID, Created: now, ValidUntil: now.AddDate(0, 0, in.ValidDays), Minor: in.Minor, Notice: in.Notice, home: doc.Participants[0]}
}

// onRoster reports whether id names a clinician on the roster of state st. Clinic admins are
// on no roster: redemption refuses their logins.
func onRoster(st *clinic.Staff, id string) bool {
	return slices.ContainsFunc(st.Clinicians, func(cl recordvault.Clinician) bool { return cl.Subject == id })
}

// licensed reports whether the caller is a licensed health care professional on the
// clinic's roster.
func (s *Service) licensed(ctx context.Context, c access.Caller) (bool, error) {
	roster, err := s.clinic.Clinicians(ctx, c.Clinic)
	if err != nil {
		return false, s.auditTampering(ctx, c, "", err)
	}
	i := slices.IndexFunc(roster, func(cl recordvault.Clinician) bool { return cl.Subject == c.ID })
	return i >= 0 && roster[i].Licensed, nil
}

// ReviewDenial records the decision of a licensed clinician who did not take part in a
// reviewable denial (164.524(a)(4), (d)(4)): the denial upheld, or overturned and the
// document released whole. The review is final: a release is reviewed once.
func (s *Service) ReviewDenial(ctx context.Context, c access.Caller, client, id string, upheld bool) (*ReleaseView, error) {
	r, err := s.GetRelease(ctx, c, client, id)
	if err != nil {
		return nil, err
	}
	if r.Denial == nil || r.Denial.Review != nil || r.Status == ReleaseRevoked {
		return nil, recordvault.Errorf(recordvault.ECONFLICT, "only a reviewable denial not yet reviewed is reviewed, once")
	}
	doc, ps, err := s.loadRecordAndPeople(ctx, c, "review_denial", access.ReadRecord, client, r.Document)
	if err != nil {
		return nil, err
	}
	licensed, err := s.licensed(ctx, c)
	if err != nil {
		return nil, err
	}
	req, facts, err := s.releaseFacts(ctx, c, client, doc, ps, ReleaseInput{Basis: r.Basis, Recipient: r.Recipient, Fields: r.Asked, Minor: r.Minor})
	if err != nil {
		return nil, err
	}
	req.RequestedBy = r.RequestedBy
	denial := *r.Denial
	denial.Review = &policy.Review{Reviewer: c.ID, Licensed: licensed, Upheld: upheld}
	facts.Denial = &denial
	decision := policy.Decide(req, facts)
	if decision.Outcome == policy.NeedsReview {
		return nil, recordvault.Errorf(recordvault.ECONFLICT, "%s (%s)", decision.Rule.Text, decision.Rule.Citation)
	}
	if err := s.audit.Record(ctx, recordvault.AuditEvent{Time: s.now().UTC(), Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Action: "review_decision",
		Client: client, Record: doc.ID, Release: r.ID, Accounted: accounted(decision), Allowed: decision.Outcome == policy.Approve,
		Rule: fmt.Sprintf("release %s: %s: %s (%s)", r.ID, decision.Outcome, decision.Rule.Text, decision.Rule.Citation)}); err != nil {
		return nil, fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	r.Denial = &denial
	if err := s.redecide(ctx, c.Clinic, doc, r, decision); err != nil {
		return nil, s.releasesAbandoned(ctx, c, []*ReleaseView{r}, err)
	}
	return r, nil
}

// redecide stores a release with a new decision, keeping the one it replaces.
func (s *Service) redecide(ctx context.Context, clinic string, doc *records.Document, r *ReleaseView, decision policy.Decision) error {
	r.Earlier = append(r.Earlier, r.Decision)
	r.Decision, r.Status = decision, statusOf[decision.Outcome]
	return s.saveRelease(ctx, clinic, doc, r)
}

// saveRelease stores a changed release of doc, where it lives: with doc's first participant.
func (s *Service) saveRelease(ctx context.Context, clinic string, doc *records.Document, r *ReleaseView) error {
	stored, err := s.disclosures.Load(ctx, clinic, doc.Participants[0], r.ID, kindRelease)
	if err != nil {
		return err
	}
	return s.disclosures.Update(ctx, stored, r.Status, r)
}

// RevokeRelease ends an approved release before its window closes (a client withdrew their
// request, a mistake was found): every token issued for it fails from now on.
func (s *Service) RevokeRelease(ctx context.Context, c access.Caller, client, id, reason string) (*ReleaseView, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, recordvault.Errorf(recordvault.EINVALID, "reason: why the release ends is required")
	}
	if err := evidenceText(reason); err != nil {
		return nil, err
	}
	r, err := s.GetRelease(ctx, c, client, id)
	if err != nil {
		return nil, err
	}
	if r.Status != ReleaseApproved {
		return nil, recordvault.Errorf(recordvault.ECONFLICT, "only an approved release is revoked")
	}
	doc, err := s.records.Load(ctx, c.Clinic, client, r.Document)
	if err != nil {
		return nil, err
	}
	r.Status, r.Ended = ReleaseRevoked, &Ended{At: s.now().UTC(), By: c.ID, Reason: reason}
	if err := s.audit.Record(ctx, recordvault.AuditEvent{Time: s.now().UTC(), Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Action: "end_release",
		Client: client, Record: doc.ID, Release: r.ID, Allowed: true, Rule: "release " + r.ID + " revoked"}); err != nil {
		return nil, fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	if err := s.saveRelease(ctx, c.Clinic, doc, r); err != nil {
		return nil, err
	}
	return r, nil
}

// ResolveRelease records the decision of a clinic admin, as privacy officer, on a release
// the policy sent for review (a Part 2 record in an emergency, psychotherapy notes in a
// report the law may require): released with the fields asked for, or refused, for the
// reason given.
func (s *Service) ResolveRelease(ctx context.Context, c access.Caller, client, id string, approve bool, reason string) (*ReleaseView, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, recordvault.Errorf(recordvault.EINVALID, "reason: the reviewer's reason is required")
	}
	if err := evidenceText(reason); err != nil {
		return nil, err
	}
	if _, err := s.loadClientAs(ctx, c, "resolve_release", access.ManageClinic, client); err != nil {
		return nil, err
	}
	r, err := s.GetRelease(ctx, c, client, id)
	if err != nil {
		return nil, err
	}
	if r.Status != ReleaseNeedsReview {
		return nil, recordvault.Errorf(recordvault.ECONFLICT, "only a release waiting for review is resolved")
	}
	doc, err := s.records.Load(ctx, c.Clinic, client, r.Document)
	if err != nil {
		return nil, err
	}
	req, _, err := s.releaseFacts(ctx, c, client, doc, nil, ReleaseInput{Basis: r.Basis, Recipient: r.Recipient, Fields: r.Asked, Minor: r.Minor})
	if err != nil {
		return nil, err
	}
	decision := policy.Resolve(req, r.Decision, approve, c.ID, reason)
	if err := s.audit.Record(ctx, recordvault.AuditEvent{Time: s.now().UTC(), Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Action: "resolve_release",
		Client: client, Record: doc.ID, Release: r.ID, Accounted: accounted(decision), Allowed: decision.Outcome == policy.Approve,
		Rule: fmt.Sprintf("release %s: %s (%s)", r.ID, decision.Outcome, decision.Rule.Citation)}); err != nil {
		return nil, fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	if err := s.redecide(ctx, c.Clinic, doc, r, decision); err != nil {
		return nil, s.releasesAbandoned(ctx, c, []*ReleaseView{r}, err)
	}
	return r, nil
}

// storeRelease stores a release with its document's first participant, where every
// participant's listing and accounting look for it.
func (s *Service) storeRelease(ctx context.Context, clinic string, v *ReleaseView) error {
	_, err := s.disclosures.Create(ctx, clinic, v.home, v.ID, kindRelease, v.Status, v)
	return err
}

func (s *Service) checkReleaseInput(in *ReleaseInput) error {
	if !recordvault.ValidID(in.Document) {
		return recordvault.Errorf(recordvault.EINVALID, "document: a record id")
	}
	if !slices.Contains(policy.Bases, in.Basis) {
		return recordvault.Errorf(recordvault.EINVALID, "basis: one of the legal bases")
	}
	if in.Basis == policy.CourtOrder {
		return recordvault.Errorf(recordvault.EINVALID, "basis: court-order releases are made by recording the order (POST .../court-orders)")
	}
	if !slices.Contains(policy.RecipientKinds, in.Recipient.Kind) {
		return recordvault.Errorf(recordvault.EINVALID, "recipient.kind: one of the kinds of recipient")
	}
	if in.Recipient.ID != "" && !recordvault.ValidSubject(in.Recipient.ID) {
		return recordvault.Errorf(recordvault.EINVALID, "recipient.id: printable characters, no slash")
	}
	if in.Recipient.For != "" && !recordvault.ValidID(in.Recipient.For) {
		return recordvault.Errorf(recordvault.EINVALID, "recipient.for: a client id")
	}
	if in.ValidDays == 0 {
		in.ValidDays = DefaultReleaseDays
	}
	if in.ValidDays < 1 || in.ValidDays > MaxReleaseDays {
		return recordvault.Errorf(recordvault.EINVALID, "valid_days: 1 to %d", MaxReleaseDays)
	}
	if d := in.Denial; d != nil && (in.Basis != policy.RightOfAccess || !slices.Contains(policy.DenialGrounds, d.Ground) || len(d.Fields) > 64) {
		return recordvault.Errorf(recordvault.EINVALID, "denial: a ground of 45 CFR 164.524(a)(3), for a right_of_access request only")
	}
	if n := in.Notice; (in.Basis == policy.AmendmentNotice) != (n != nil) || n != nil && !recordvault.ValidID(n.Amendment) {
		return recordvault.Errorf(recordvault.EINVALID, "notice: the accepted amendment an amendment_notice sends, for that basis only")
	}
	if len(in.Fields) > 64 {
		return recordvault.Errorf(recordvault.EINVALID, "fields: at most 64")
	}
	if err := checkDeliveryRoute(in.Recipient, true); err != nil {
		return err
	}
	return evidenceText(in.Purpose, in.Recipient.Name, in.Recipient.Address)
}

// representsByLogin reports whether subject's login is linked as a personal representative of
// client: a release to them is downloaded with that login, no address needed.
func (s *Service) representsByLogin(ctx context.Context, clinic, client, subject string) (bool, error) {
	if !recordvault.ValidID(client) || !recordvault.ValidSubject(subject) {
		return false, nil
	}
	cl, err := s.clinic.LoadClient(ctx, clinic, client)
	if errors.Is(err, recordvault.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, ok, err := s.clinic.RepresentativeOf(ctx, cl, subject)
	return ok, err
}

// checkDeliveryRoute checks a recipient's registered address. A recipient without a login
// proves who they are with a one-time code sent there, so one is required for every
// recipient but the client, whose own login is their proof; mayHaveLogin admits its absence
// for a provider, who may be a clinician of the clinic, and for a personal representative,
// who may have a login linked to the client (CreateRelease then requires it unless the
// provider is on the roster, or the representative's login is linked).
func checkDeliveryRoute(r RecipientInput, mayHaveLogin bool) error {
	e := r.Email
	if e != "" && (len(e) > 254 || !strings.Contains(e, "@") || strings.ContainsFunc(e, unicode.IsSpace) || !utf8.ValidString(e)) {
		return recordvault.Errorf(recordvault.EINVALID, "recipient.email: an email address")
	}
	if e == "" && r.Kind != policy.ToClient && !(mayHaveLogin && (r.Kind == policy.ToProvider || r.Kind == policy.ToRepresentative)) {
		return errNoDeliveryRoute
	}
	return nil
}

var errNoDeliveryRoute = recordvault.Errorf(recordvault.EINVALID,
	"recipient.email: a recipient without a login of the clinic needs a registered address, where their one-time code is sent")

// releaseFacts gathers what the policy needs: the document's description and date of
// service, every participant's date of birth, their authorizations, and the evidence given
// with the request. known holds the profiles already read to decide on doc (nil: none), read
// again only for the participants it lacks.
func (s *Service) releaseFacts(ctx context.Context, c access.Caller, client string, doc *records.Document, known people, in ReleaseInput) (policy.Request, policy.Facts, error) {
	var fields []string
	for _, spec := range recordvault.Schemas[doc.Category] {
		if doc.HasField(spec.Name) {
			fields = append(fields, spec.Name)
		}
	}
	// The date of service is the one field a decision reads (a court order's date range);
	// nothing else is decrypted to decide.
	dateOfService := doc.Created.Format(time.DateOnly)
	if doc.HasField("date_of_service") {
		d, err := s.records.Read(ctx, doc, []string{"date_of_service"})
		if err != nil {
			return policy.Request{}, policy.Facts{}, err
		}
		dateOfService = string(d["date_of_service"])
	}
	st, err := s.clinicState(ctx, c)
	if err != nil {
		return policy.Request{}, policy.Facts{}, err
	}
	// A staff login: the one who asks, or a clinician on the roster.
	staff := in.Recipient.ID != "" && (in.Recipient.ID == c.ID || onRoster(st, in.Recipient.ID))
	jurisdiction, _ := s.jurisdictionIn(st)
	req := policy.Request{Basis: in.Basis, Jurisdiction: jurisdiction, Now: s.now(), Fields: in.Fields, RequestedBy: c.ID,
		Recipient: policy.Recipient{Kind: in.Recipient.Kind, ID: in.Recipient.ID, For: in.Recipient.For, Representation: in.Recipient.Representation,
			Staff: staff},
		Document: policy.Document{ID: doc.ID, Category: doc.Category, Participants: doc.Participants, DateOfService: dateOfService, Fields: fields}}
	facts := policy.Facts{People: map[string]policy.Person{}, Assurances: in.Assurances}
	revoked, err := s.revocations(ctx, c, client)
	if err != nil {
		return req, facts, err
	}
	for _, p := range doc.Participants {
		cl, ok := known[p]
		if !ok {
			if cl, err = s.loadClient(ctx, c, p); err != nil {
				return req, facts, err
			}
		}
		if cl == nil {
			return req, facts, recordvault.ErrNotFound
		}
		id, err := s.clinic.Identity(ctx, cl)
		if err != nil {
			return req, facts, err
		}
		person := policy.Person{DateOfBirth: id.DateOfBirth}
		if p == client && in.Minor != nil {
			person.Emancipated, person.ConsentedToOwnCare = in.Minor.Emancipated, in.Minor.ConsentedToOwnCare
		}
		facts.People[p] = person
		_, auths, err := s.authorizations(ctx, c.Clinic, p, revoked)
		if err != nil {
			return req, facts, err
		}
		for _, a := range auths {
			a.Authorization.RecordedBy = a.RecordedBy
			facts.Authorizations = append(facts.Authorizations, a.Authorization)
		}
	}
	if a := in.Attestation; a != nil {
		facts.Attestation = &policy.Attestation{Clinician: c.ID, GoodFaith: a.GoodFaith, AdmissionOfPastViolence: a.AdmissionOfPastViolence, ChildAbuse: a.ChildAbuse}
	}
	if in.Notice != nil {
		if facts.Notice, err = s.noticeFacts(ctx, c, client, doc, in); err != nil {
			return req, facts, err
		}
	}
	return req, facts, nil
}

// noticeFacts finds what an amendment notice rests on: whether the amendment of doc it names
// was accepted, and the fields of doc its recipient received before that: released to them
// and downloaded, as the audit trail records (a release revoked before anyone downloaded it
// gave them nothing, and a notice must not be the first disclosure).
func (s *Service) noticeFacts(ctx context.Context, c access.Caller, client string, doc *records.Document, in ReleaseInput) (*policy.Notice, error) {
	n := &policy.Notice{Amendment: in.Notice.Amendment, ClientAgreed: in.Notice.ClientAgreed}
	k, err := s.records.LoadChild(ctx, doc, n.Amendment)
	if errors.Is(err, recordvault.ErrNotFound) || err == nil && k.Kind != recordvault.AmendmentDocument {
		return n, nil // no such amendment: not accepted
	}
	if err != nil {
		return nil, err
	}
	a, err := s.accepted(ctx, k)
	if err != nil || a == nil {
		return n, err
	}
	n.Accepted, n.Concerns = true, a.Request.Concerns
	earlier, err := s.releasedBefore(ctx, c.Clinic, client, doc.ID, a.Decision.At)
	if err != nil {
		return nil, err
	}
	downloaded := map[string]bool{}
	who := recordvault.AuditEvent{Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Client: client, Record: doc.ID}
	if err := s.readLedger(ctx, who, func(l *ledger.Clinic) {
		for _, r := range earlier {
			downloaded[r.ID] = l.Downloaded[r.ID]
		}
	}); err != nil {
		return nil, err
	}
	for _, r := range earlier {
		if r.Recipient.ID == in.Recipient.ID && downloaded[r.ID] {
			for _, f := range r.Decision.Fields {
				if !slices.Contains(n.EarlierFields, f) {
					n.EarlierFields = append(n.EarlierFields, f)
				}
			}
		}
	}
	return n, nil
}

// releases reads every release stored under home.
func (s *Service) releases(ctx context.Context, clinic, home string) ([]*disclosure.Doc, []ReleaseView, error) {
	docs, err := s.disclosures.List(ctx, clinic, home, kindRelease)
	if err != nil {
		return nil, nil, err
	}
	views := make([]ReleaseView, len(docs))
	for i, d := range docs {
		if err := json.Unmarshal(d.Body, &views[i]); err != nil || views[i].ID != d.ID {
			return nil, nil, disclosure.ErrUnreadable
		}
	}
	return docs, views, nil
}

// ListReleases returns every release of a client's documents, newest first: to staff, all
// of them; to a client-role login, the copies released to it (standing.ownCopy).
func (s *Service) ListReleases(ctx context.Context, c access.Caller, client string) ([]ReleaseView, error) {
	st, err := s.loadClientOrSelf(ctx, c, "list_releases", client)
	if err != nil {
		return nil, err
	}
	out, err := s.clientReleases(ctx, c.Clinic, client)
	if err != nil || st == nil {
		return out, err
	}
	return slices.DeleteFunc(out, func(r ReleaseView) bool { return !st.ownCopy(&r) }), nil
}

// onlyOwnCopies reports whether c is a login of role client (a client's own, or a personal
// representative's), which sees only the releases made to it. Disclosures to others reach
// the client through the accounting (164.528), which leaves out what the law exempts or
// suspends; the release records themselves would show a disclosure whose accounting an
// agency has suspended (164.528(a)(2)), and abuse reports the clinic need not tell of
// (164.512(c)(2)).
func onlyOwnCopies(c access.Caller) bool {
	return isClientLogin(c) && !slices.Contains(c.Roles, recordvault.RoleClinician) && !slices.Contains(c.Roles, recordvault.RoleClinicAdmin)
}

// clientReleases reads the releases of every document client takes part in.
func (s *Service) clientReleases(ctx context.Context, clinic, client string) ([]ReleaseView, error) {
	homes, err := s.releaseHomes(ctx, clinic, client)
	if err != nil {
		return nil, err
	}
	out := []ReleaseView{}
	for _, home := range homes {
		_, views, err := s.releases(ctx, clinic, home)
		if err != nil {
			return nil, err
		}
		for _, v := range views {
			if v.Client == client || home == client || s.takesPart(ctx, clinic, client, v.Document) {
				out = append(out, v)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b ReleaseView) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// takesPart reports whether client is a participant of record.
func (s *Service) takesPart(ctx context.Context, clinic, client, record string) bool {
	_, err := s.records.Load(ctx, clinic, client, record)
	return err == nil
}

// GetRelease returns one release of a client's documents.
func (s *Service) GetRelease(ctx context.Context, c access.Caller, client, id string) (*ReleaseView, error) {
	st, err := s.loadClientOrSelf(ctx, c, "read_release", client)
	if err != nil {
		return nil, err
	}
	r, err := s.findRelease(ctx, c.Clinic, client, id)
	if err == nil && st != nil && !st.ownCopy(r) {
		return nil, recordvault.ErrNotFound
	}
	return r, err
}
