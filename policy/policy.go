// Package policy decides releases. Given one document, one recipient, one legal basis and
// the facts on file (authorizations, a court order, subpoena assurances, a clinician's
// attestation, who the people are), Decide answers approve, deny or needs review, with the
// fields released, the rule and citation behind every reason, whether the release enters the
// client's accounting of disclosures, and the obligations it carries. It does no I/O: the
// caller gathers the facts, and the decision can be checked against a table
// (../shared/DOMAIN.md has the rules with their citations).
//
// Each check that can refuse is tried in a fixed order; the first refusal decides and is
// the decision's Rule. An approval's Rule is its basis.
package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/recordvault/recordvault"
)

// Basis is the legal basis of a release.
type Basis string

const (
	RightOfAccess              Basis = "right_of_access"
	ByAuthorization            Basis = "authorization"
	PsychotherapyAuthorization Basis = "psychotherapy_authorization"
	CourtOrder                 Basis = "court_order"
	Subpoena                   Basis = "subpoena"
	SeriousThreat              Basis = "serious_threat"
	AbuseReport                Basis = "abuse_report"
	Treatment                  Basis = "treatment"
	// AmendmentNotice sends an accepted amendment, with the document it amends, to someone
	// who received that document before (164.526(c)(3)).
	AmendmentNotice Basis = "amendment_notice"
)

// basisLabels say each basis in plain words, for the people who read a copy or an accounting.
var basisLabels = map[Basis]string{
	RightOfAccess:              "the client's request for their own records (right of access)",
	ByAuthorization:            "the client's written authorization",
	PsychotherapyAuthorization: "the client's written authorization for psychotherapy notes",
	CourtOrder:                 "a court order",
	Subpoena:                   "a subpoena or other lawful process",
	SeriousThreat:              "preventing or lessening a serious threat to health or safety",
	AbuseReport:                "a report of abuse, neglect or domestic violence that the law requires",
	Treatment:                  "treatment by another health care provider",
	AmendmentNotice:            "notice of an amendment the client asked for",
}

// BasisLabel says b in plain words; b itself when it has none.
func BasisLabel(b Basis) string {
	if l, ok := basisLabels[b]; ok {
		return l
	}
	return string(b)
}

// RecipientKind is who a release goes to.
type RecipientKind string

const (
	ToClient           RecipientKind = "client"
	ToRepresentative   RecipientKind = "personal_representative"
	ToAttorney         RecipientKind = "attorney"
	ToSchool           RecipientKind = "school"
	ToProvider         RecipientKind = "provider"
	ToThreatenedPerson RecipientKind = "threatened_person"
	ToAuthority        RecipientKind = "authority"
)

// Outcome is what Decide answers.
type Outcome string

const (
	Approve     Outcome = "approve"
	Deny        Outcome = "deny"
	NeedsReview Outcome = "needs_review" // a person with authority must decide; nothing is released meanwhile
)

// basisRule is what a basis allows and requires.
type basisRule struct {
	recipients []RecipientKind
	citation   string
	// compelled: the law requires or permits the release without the client's permission, so
	// the participants' authorizations are not needed.
	compelled bool
	// minimumNecessary: the release names the fields it needs (164.502(b), 164.514(d)).
	minimumNecessary bool
	// accounted: the release enters the accounting of disclosures (164.528); otherwise
	// exempt names the exemption.
	accounted bool
	exempt    string
}

// RecipientKinds lists every kind of recipient.
var RecipientKinds = []RecipientKind{ToClient, ToRepresentative, ToAttorney, ToSchool, ToProvider, ToThreatenedPerson, ToAuthority}

var anyone = RecipientKinds

var bases = map[Basis]basisRule{
	RightOfAccess: {recipients: []RecipientKind{ToClient, ToRepresentative}, citation: "45 CFR 164.524(a)(1)",
		exempt: "45 CFR 164.528(a)(1)(ii)"},
	ByAuthorization:            {recipients: anyone, citation: "45 CFR 164.508(a)(1)", exempt: "45 CFR 164.528(a)(1)(iv)"},
	PsychotherapyAuthorization: {recipients: anyone, citation: "45 CFR 164.508(a)(2)", exempt: "45 CFR 164.528(a)(1)(iv)"},
	CourtOrder: {recipients: []RecipientKind{ToAttorney, ToAuthority}, citation: "45 CFR 164.512(e)(1)(i)",
		compelled: true, accounted: true},
	Subpoena: {recipients: []RecipientKind{ToAttorney}, citation: "45 CFR 164.512(e)(1)(ii)",
		compelled: true, minimumNecessary: true, accounted: true},
	SeriousThreat: {recipients: []RecipientKind{ToThreatenedPerson, ToAuthority, ToProvider}, citation: "45 CFR 164.512(j)(1)(i)",
		compelled: true, minimumNecessary: true, accounted: true},
	AbuseReport: {recipients: []RecipientKind{ToAuthority}, citation: "45 CFR 164.512(b)(1)(ii), (c)",
		compelled: true, minimumNecessary: true, accounted: true},
	Treatment: {recipients: []RecipientKind{ToProvider}, citation: "45 CFR 164.506(c)(2)", exempt: "45 CFR 164.528(a)(1)(i)"},
	// Not compelled: the client agrees to who is told (164.526(c)(2)), and a record of several
	// participants, or a Part 2 record, still needs every participant's authorization or
	// consent. Accounted: none of 164.528(a)(1)'s exemptions names it, and an accounting that
	// lists a notice the client agreed to misleads no one.
	AmendmentNotice: {recipients: []RecipientKind{ToRepresentative, ToAttorney, ToSchool, ToProvider, ToThreatenedPerson, ToAuthority},
		citation: "45 CFR 164.526(c)(3)", accounted: true},
}

// Bases lists every basis, in a fixed order.
var Bases = []Basis{RightOfAccess, ByAuthorization, PsychotherapyAuthorization, CourtOrder, Subpoena, SeriousThreat, AbuseReport, Treatment, AmendmentNotice}

// Recipient is who asks or receives.
type Recipient struct {
	Kind RecipientKind
	// ID is who they are: the client's id for a client; a registered recipient's id otherwise
	// (authorizations and orders name recipients by it).
	ID string
	// For is the client a personal representative acts for.
	For            string
	Representation *Representation
	// Staff: the id is a login of the clinic's staff (on its roster, or the one who asks).
	Staff bool
}

// Document is what a release would disclose: its description, never its content.
type Document struct {
	ID            string
	Category      recordvault.Category
	Participants  []string
	DateOfService string   // YYYY-MM-DD
	Fields        []string // the fields it has
	// CompiledForLitigation: information compiled in anticipation of a legal proceeding,
	// outside the right of access (164.524(a)(1)(ii)).
	CompiledForLitigation bool
}

// Person is what the rules need to know about a participant.
type Person struct {
	DateOfBirth string // YYYY-MM-DD
	Emancipated bool
	// ConsentedToOwnCare: a minor who consented to the care, or could lawfully get it without
	// a parent's consent (164.502(g)(3)(i)(A), (B)): they act for themselves.
	ConsentedToOwnCare bool
}

// Request is a release asked for.
type Request struct {
	Basis        Basis
	Recipient    Recipient
	Document     Document
	Fields       []string // the fields asked for; empty: the whole document
	Jurisdiction string   // a key of Jurisdictions
	Now          time.Time
	// RequestedBy is the login that asks for the release.
	RequestedBy string
}

// Facts are the evidence on file.
type Facts struct {
	People         map[string]Person // by client id, for every participant
	Authorizations []Authorization
	Order          *Order
	Assurances     *Assurances
	Attestation    *Attestation
	Denial         *ReviewableDenial
	Notice         *Notice
}

// Reason is one step of a decision, with the rule's citation.
type Reason struct {
	Text     string `json:"text"`
	Citation string `json:"citation"`
}

// Decision is Decide's answer.
type Decision struct {
	Outcome Outcome  `json:"outcome"`
	Rule    Reason   `json:"rule"`    // what decided: the first refusal, or the basis of an approval
	Reasons []Reason `json:"reasons"` // every step, in order
	Fields  []string `json:"fields"`  // released (approvals only)
	// Withheld are fields kept back by a reviewable denial (the rest is still released).
	Withheld []string `json:"withheld,omitempty"`
	// Accounted: the release enters the client's accounting of disclosures (164.528).
	Accounted bool `json:"accounted"`
	// Part2Notice: the released copy carries 42 CFR 2.32's redisclosure notice.
	Part2Notice bool `json:"part2_notice"`
	// Authorizations are the ids of the authorizations the release relies on: revoking any
	// one ends it.
	Authorizations []string `json:"authorizations,omitempty"`
	// Jurisdiction is the law the decision applied (a key of Jurisdictions).
	Jurisdiction string `json:"jurisdiction"`
}

// decision is a decision being made.
type decision struct {
	Decision
	req  Request
	f    Facts
	j    Jurisdiction
	day  string
	rule basisRule
}

func (d *decision) note(text, citation string) {
	d.Reasons = append(d.Reasons, Reason{text, citation})
}

// stop ends the decision with outcome, for the reason given.
func (d *decision) stop(outcome Outcome, text, citation string) Decision {
	d.note(text, citation)
	d.Outcome, d.Rule = outcome, Reason{text, citation}
	d.Fields, d.Withheld, d.Accounted, d.Part2Notice, d.Authorizations = nil, nil, false, false, nil
	return d.Decision
}

// Decide decides a release.
func Decide(req Request, f Facts) Decision {
	d := &decision{req: req, f: f, day: req.Now.UTC().Format(time.DateOnly)}
	d.Reasons, d.Jurisdiction = []Reason{}, req.Jurisdiction
	var ok bool
	if d.rule, ok = bases[req.Basis]; !ok {
		return d.stop(Deny, "unknown legal basis", "")
	}
	if d.j, ok = Jurisdictions[req.Jurisdiction]; !ok {
		return d.stop(Deny, "unknown jurisdiction", "")
	}
	doc := req.Document
	if !doc.Category.Valid() || len(doc.Participants) == 0 || !validDate(doc.DateOfService) {
		return d.stop(Deny, "the document is not described completely", "")
	}
	for _, p := range doc.Participants {
		if _, known := f.People[p]; !known {
			return d.stop(Deny, "a participant is not described", "")
		}
	}
	if !slices.Contains(d.rule.recipients, req.Recipient.Kind) {
		return d.stop(Deny, fmt.Sprintf("%s does not disclose to a recipient of kind %s", req.Basis, req.Recipient.Kind), d.rule.citation)
	}
	for _, name := range req.Fields {
		if !slices.Contains(doc.Fields, name) {
			return d.stop(Deny, "a field asked for is not in the document", "")
		}
	}
	for _, check := range []func() (Outcome, Reason){d.separation, d.category, d.part2, d.evidence, d.access, d.participants} {
		if o, r := check(); o != Approve {
			return d.stop(o, r.Text, r.Citation)
		}
	}
	return d.release()
}

var pass = Reason{}

// separationCitation names the rules that keep a staff login from becoming a way to content:
// the workforce's access is limited to what its role needs (164.514(d)(2)) and authorized as
// such (164.308(a)(4)).
const separationCitation = "45 CFR 164.514(d)(2), 164.308(a)(4)"

// separation keeps releases from being a door to content for the clinic's own staff: a staff
// login receives a release only as a provider, for treatment; and nobody who asks for a
// release, or recorded the order, authorization or attestation it rests on, is its recipient
// (but for a client's own copy).
func (d *decision) separation() (Outcome, Reason) {
	r := d.req.Recipient
	if r.Staff && (d.req.Basis != Treatment || r.Kind != ToProvider) {
		return Deny, Reason{"a member of the clinic's staff receives a release only as a provider, for treatment; staff reach records through their own access", separationCitation}
	}
	if r.Kind == ToClient || r.ID == "" {
		return Approve, pass
	}
	own := r.ID == d.req.RequestedBy
	if o := d.f.Order; o != nil && o.RecordedBy == r.ID {
		own = true
	}
	if a := d.f.Attestation; a != nil && a.Clinician == r.ID {
		own = true
	}
	for _, a := range d.f.Authorizations {
		own = own || a.Recipient == r.ID && a.RecordedBy == r.ID
	}
	if own {
		return Deny, Reason{"whoever asks for a release, or recorded the order, authorization or attestation it rests on, cannot be its recipient", separationCitation}
	}
	return Approve, pass
}

// category applies the psychotherapy-note rules (164.508(a)(2)).
func (d *decision) category() (Outcome, Reason) {
	psychotherapy := d.req.Document.Category == recordvault.PsychotherapyNote
	if !psychotherapy {
		if d.req.Basis == PsychotherapyAuthorization {
			return Deny, Reason{"a psychotherapy-note authorization covers psychotherapy notes only", "45 CFR 164.508(b)(3)(ii)"}
		}
		return Approve, pass
	}
	switch d.req.Basis {
	case RightOfAccess:
		return Deny, Reason{"psychotherapy notes are outside the right of access; this denial is not reviewable", "45 CFR 164.524(a)(1)(i), (a)(2)"}
	case ByAuthorization:
		return Deny, Reason{"a general authorization never covers psychotherapy notes", "45 CFR 164.508(a)(2)"}
	case Treatment:
		return Deny, Reason{"only their author uses psychotherapy notes for treatment; others need a psychotherapy-note authorization", "45 CFR 164.508(a)(2)(i)(A)"}
	case AmendmentNotice:
		return Deny, Reason{"psychotherapy notes are outside the designated record set: no amendment of them is sent", "45 CFR 164.526(a)(1), 164.501"}
	case Subpoena:
		return Deny, Reason{"a subpoena does not reach psychotherapy notes: a psychotherapy-note authorization or an order naming them is needed", "45 CFR 164.508(a)(2)"}
	case CourtOrder:
		if o := d.f.Order; o != nil && !slices.Contains(o.Scope, recordvault.PsychotherapyNote) {
			return Deny, Reason{"the order does not name psychotherapy notes", "45 CFR 164.508(a)(2)(ii), 164.512(e)(1)(i)"}
		}
	case AbuseReport:
		return NeedsReview, Reason{"psychotherapy notes go into an abuse report only where the law requires that report; counsel decides", "45 CFR 164.508(a)(2)(ii), 164.512(a)"}
	case SeriousThreat:
		d.note("psychotherapy notes may be disclosed to avert a serious and imminent threat", "45 CFR 164.508(a)(2)(ii)")
	}
	return Approve, pass
}

// part2 applies 42 CFR Part 2 to SUD records.
func (d *decision) part2() (Outcome, Reason) {
	if d.req.Document.Category != recordvault.SUDRecord {
		return Approve, pass
	}
	d.Part2Notice = true
	d.note("a Part 2 record: the copy carries the redisclosure notice", "42 CFR 2.32")
	switch d.req.Basis {
	case Subpoena:
		return Deny, Reason{"a subpoena alone never compels disclosure of a Part 2 record: an order under subpart E is needed", "42 CFR 2.61"}
	case CourtOrder:
		if o := d.f.Order; o != nil && !o.Part2SubpartE {
			return Deny, Reason{"only an order under Part 2 subpart E reaches a Part 2 record", "42 CFR 2.64"}
		}
	case SeriousThreat:
		return NeedsReview, Reason{"without consent Part 2 allows disclosure only to medical personnel in a bona fide medical emergency; counsel decides", "42 CFR 2.51"}
	case AbuseReport:
		if a := d.f.Attestation; a == nil || !a.ChildAbuse {
			return Deny, Reason{"without consent Part 2 allows only the initial report of suspected child abuse or neglect", "42 CFR 2.12(c)(6)"}
		}
	}
	return Approve, pass
}

// evidence checks the court order, assurances or attestation a compelled basis rests on.
func (d *decision) evidence() (Outcome, Reason) {
	switch d.req.Basis {
	case CourtOrder:
		o := d.f.Order
		switch {
		case o == nil:
			return Deny, Reason{"no court order is on file", d.rule.citation}
		case o.Recipient != d.req.Recipient.ID:
			return Deny, Reason{"the order directs the records to another recipient", d.rule.citation}
		case !o.Covers(d.req.Document):
			return Deny, Reason{"the document is outside the order's scope (documents, categories, dates of service)", d.rule.citation}
		}
		if len(o.Fields) > 0 {
			for _, name := range d.req.Fields {
				if !slices.Contains(o.Fields, name) {
					return Deny, Reason{"a field asked for is outside the order's scope", d.rule.citation}
				}
			}
		}
	case Subpoena:
		if a := d.f.Assurances; a == nil || !a.satisfied(d.day) {
			return Deny, Reason{"no satisfactory assurance: notice given and the time to object passed without an unresolved objection, or a qualified protective order", d.rule.citation}
		}
	case AmendmentNotice:
		n := d.f.Notice
		switch {
		case n == nil || !n.Accepted:
			return Deny, Reason{"only an amendment the clinic accepted is sent to earlier recipients", d.rule.citation}
		case len(n.EarlierFields) == 0:
			return Deny, Reason{"the recipient did not receive this document (released to them and downloaded) before the amendment was accepted; anyone else the client names needs an authorization", d.rule.citation}
		case !Accompanies(n.Concerns, n.EarlierFields):
			return Deny, Reason{"the recipient did not receive the part of the document the amendment concerns", d.rule.citation}
		case !n.ClientAgreed:
			return Deny, Reason{"the client's agreement to have this recipient told is needed", "45 CFR 164.526(c)(2)"}
		}
	case SeriousThreat, AbuseReport:
		a := d.f.Attestation
		if a == nil || !a.GoodFaith || a.Clinician == "" {
			return Deny, Reason{"a clinician's good-faith attestation is needed", d.rule.citation}
		}
		if d.req.Basis == SeriousThreat && a.AdmissionOfPastViolence {
			return Deny, Reason{"a client's admission of a violent crime, made in therapy, is not a ground for disclosure", "45 CFR 164.512(j)(2)"}
		}
	}
	if d.rule.minimumNecessary && len(d.req.Fields) == 0 {
		return Deny, Reason{"the release must name the fields it needs: the minimum necessary", "45 CFR 164.502(b), 164.514(d)"}
	}
	return Approve, pass
}

// age is a person's age in whole years on day.
func age(dateOfBirth, day string) (int, bool) {
	dob, err := time.Parse(time.DateOnly, dateOfBirth)
	if err != nil {
		return 0, false
	}
	now, _ := time.Parse(time.DateOnly, day)
	years := now.Year() - dob.Year()
	if now.Month() < dob.Month() || (now.Month() == dob.Month() && now.Day() < dob.Day()) {
		years--
	}
	return years, true
}

// minor returns a participant's age and whether they are an unemancipated minor.
func (d *decision) minor(client string) (int, bool) {
	return minorOf(d.j, d.day, d.f.People[client])
}

// minorOf returns p's age on day and whether they are an unemancipated minor under j.
func minorOf(j Jurisdiction, day string, p Person) (int, bool) {
	years, ok := age(p.DateOfBirth, day)
	return years, ok && !p.Emancipated && years < j.AgeOfMajority
}

// access applies the right of access: whose it is, who may act for a minor, and the
// grounds for denying it.
func (d *decision) access() (Outcome, Reason) {
	if d.req.Basis != RightOfAccess {
		return Approve, pass
	}
	if d.req.Document.CompiledForLitigation {
		return Deny, Reason{"information compiled for a legal proceeding is outside the right of access; this denial is not reviewable", "45 CFR 164.524(a)(1)(ii)"}
	}
	r := d.req.Recipient
	switch r.Kind {
	case ToClient:
		if !slices.Contains(d.req.Document.Participants, r.ID) {
			return Deny, Reason{"the right of access is to one's own records", d.rule.citation}
		}
		if years, minor := d.minor(r.ID); minor {
			band, _ := d.j.parentAccess(years)
			switch {
			case band.Access == ParentAlways:
				return Deny, Reason{fmt.Sprintf("for a child under %d the parent or guardian exercises the right", band.Under), band.Citation}
			case band.Access == ParentFederal && !d.f.People[r.ID].ConsentedToOwnCare:
				return Deny, Reason{"the parent is the minor's personal representative and exercises the right", "45 CFR 164.502(g)(3)"}
			}
		}
	case ToRepresentative:
		if o, reason := d.representative(); o != Approve {
			return o, reason
		}
	}
	return d.reviewableDenial()
}

// representative decides whether the recipient acts for the client (164.502(g)).
func (d *decision) representative() (Outcome, Reason) {
	r := d.req.Recipient
	if !slices.Contains(d.req.Document.Participants, r.For) || r.Representation == nil {
		return Deny, Reason{"not shown to be the personal representative of a participant", "45 CFR 164.502(g)(1)"}
	}
	o, reason, note := represents(d.j, d.day, d.f.People[r.For], *r.Representation)
	if note.Text != "" {
		d.note(note.Text, note.Citation)
	}
	return o, reason
}

// Represents decides whether a person with representation rep acts for client, on day
// (YYYY-MM-DD), under jurisdiction j, as personal representative (164.502(g)): exercising
// the client's rights (access, amendment, an accounting) and signing for them. Deny comes
// with the rule that decides it, in words the client portal shows.
func Represents(j Jurisdiction, day string, client Person, rep Representation) (Outcome, Reason) {
	o, reason, _ := represents(j, day, client, rep)
	return o, reason
}

// represents is Represents, with the note an approval for a minor carries.
func represents(j Jurisdiction, day string, client Person, rep Representation) (Outcome, Reason, Reason) {
	if rep.Abuse {
		return Deny, Reason{"the clinic believes treating this person as representative could endanger the client", "45 CFR 164.502(g)(5)"}, Reason{}
	}
	years, minor := minorOf(j, day, client)
	if !minor {
		if !rep.Authority {
			return Deny, Reason{"a representative of an adult needs legal authority to act for them", "45 CFR 164.502(g)(2)"}, Reason{}
		}
		return Approve, pass, Reason{}
	}
	if rep.Relationship != "parent" && rep.Relationship != "guardian" && !rep.Authority {
		return Deny, Reason{"only a parent, guardian or other person with legal authority acts for a minor", "45 CFR 164.502(g)(3)"}, Reason{}
	}
	band, _ := j.parentAccess(years)
	switch band.Access {
	case ParentIfMinorAgrees:
		if !rep.MinorInformed || rep.MinorObjects || rep.CompellingReason {
			return Deny, Reason{"a parent of a minor of 12 to 17 has access only if the minor is told, does not object, and the therapist finds no compelling reason to deny", band.Citation}, Reason{}
		}
	case ParentFederal:
		if client.ConsentedToOwnCare || rep.ParentAgreedConfidentiality {
			return Deny, Reason{"the minor consented to their own care, or the parent agreed to confidentiality: the minor acts for themselves", band.Citation}, Reason{}
		}
	}
	return Approve, pass, Reason{"the recipient acts for the minor", band.Citation}
}

// SignsFor reports why a personal representative may not sign an authorization for client
// on day, under j, though they represent them: a minor who controls the release of their
// own records from an age, or who consented to their own care, signs for themselves.
func SignsFor(j Jurisdiction, day string, client Person) (Reason, bool) {
	years, minor := minorOf(j, day, client)
	if minor && j.MinorControlsFrom > 0 && years >= j.MinorControlsFrom {
		return Reason{fmt.Sprintf("from age %d the minor controls the release of their own records", j.MinorControlsFrom), j.MinorControlsCitation}, false
	}
	if minor && client.ConsentedToOwnCare {
		return Reason{"the minor consented to their own care and authorizes its release", "45 CFR 164.502(g)(3)"}, false
	}
	return Reason{}, true
}

// reviewableDenial applies a licensed clinician's judgement of harm, and its review.
func (d *decision) reviewableDenial() (Outcome, Reason) {
	den := d.f.Denial
	if den == nil {
		return Approve, pass
	}
	switch {
	case !den.Licensed:
		return NeedsReview, Reason{"only a licensed health care professional may deny access on a ground of harm", "45 CFR 164.524(a)(3)"}
	case den.Ground == HarmViaRepresentative && d.req.Recipient.Kind != ToRepresentative:
		return NeedsReview, Reason{"harm through a representative is a ground only for a representative's request", "45 CFR 164.524(a)(3)(iii)"}
	case !slices.Contains(DenialGrounds, den.Ground):
		return NeedsReview, Reason{"the denial names no ground of 164.524(a)(3)", "45 CFR 164.524(a)(3)"}
	}
	withheld := den.Fields
	if len(withheld) == 0 {
		withheld = d.req.Document.Fields
	}
	if rv := den.Review; rv != nil {
		if !rv.Licensed || rv.Reviewer == "" || rv.Reviewer == den.DeniedBy {
			return NeedsReview, Reason{"the review is by a licensed health care professional who did not take part in the denial", "45 CFR 164.524(a)(4)"}
		}
		if !rv.Upheld {
			d.note("the reviewing professional overturned the denial; the review is final", "45 CFR 164.524(d)(4)")
			return Approve, pass
		}
		d.note("the reviewing professional upheld the denial; the review is final", "45 CFR 164.524(d)(4)")
	} else {
		d.note("withheld on a ground of harm; the client may have the denial reviewed", "45 CFR 164.524(a)(3), (d)(2)(iv)")
	}
	d.Withheld = withheld
	if len(withheld) >= len(d.req.Document.Fields) && containsAll(withheld, d.req.Document.Fields) {
		return Deny, Reason{"access is denied on a ground of harm, to the whole document", "45 CFR 164.524(a)(3)"}
	}
	d.note("the rest of the document is released", "45 CFR 164.524(d)(1)")
	return Approve, pass
}

func containsAll(set, items []string) bool {
	for _, it := range items {
		if !slices.Contains(set, it) {
			return false
		}
	}
	return true
}

// participants requires, where the law does not compel the release, a valid authorization
// from every participant the release is not for: each one's own, or their representative's.
func (d *decision) participants() (Outcome, Reason) {
	doc := d.req.Document
	need := d.req.Basis == ByAuthorization || d.req.Basis == PsychotherapyAuthorization ||
		(!d.rule.compelled && (len(doc.Participants) > 1 || doc.Category == recordvault.SUDRecord))
	if !need {
		return Approve, pass
	}
	for _, p := range doc.Participants {
		if d.req.Basis == RightOfAccess && (p == d.req.Recipient.ID || p == d.req.Recipient.For) {
			continue // the client's own access, or their representative's
		}
		a, reason := d.authorizationFor(p)
		if a == nil {
			return Deny, reason
		}
		d.Authorizations = append(d.Authorizations, a.ID)
	}
	if len(doc.Participants) > 1 {
		d.note("every participant has authorized the release", "45 CFR 164.508(a)(1)")
	}
	return Approve, pass
}

// authorizationFor finds a valid authorization from participant p for this release, or the
// reason none of those on file is one.
func (d *decision) authorizationFor(p string) (*Authorization, Reason) {
	reason := Reason{"no authorization from every participant is on file", "45 CFR 164.508(a)(1)"}
	if d.req.Basis == PsychotherapyAuthorization {
		reason.Citation = "45 CFR 164.508(a)(2)"
	}
	if d.req.Document.Category == recordvault.SUDRecord {
		reason = Reason{"no written consent from every participant is on file", "42 CFR 2.31, 2.33"}
	}
	for i := range d.f.Authorizations {
		a := &d.f.Authorizations[i]
		if a.Subject != p {
			continue
		}
		if r, ok := d.invalid(a); ok {
			reason = r
			continue
		}
		return a, Reason{}
	}
	return nil, reason
}

// invalid reports why an authorization does not allow this release.
func (d *decision) invalid(a *Authorization) (Reason, bool) {
	doc := d.req.Document
	if a.Revoked {
		return Reason{"the authorization was revoked", "45 CFR 164.508(b)(5)"}, true
	}
	if m := a.Missing(); len(m) > 0 {
		return Reason{"the authorization lacks: " + strings.Join(m, ", "), "45 CFR 164.508(b)(2)(ii), (c)"}, true
	}
	if a.expired(d.day) {
		return Reason{"the authorization has expired", "45 CFR 164.508(b)(2)(i)"}, true
	}
	if a.Recipient != d.req.Recipient.ID {
		return Reason{"the authorization names another recipient", "45 CFR 164.508(c)(1)(iii)"}, true
	}
	if a.Psychotherapy && (len(a.Categories) != 1 || a.Categories[0] != recordvault.PsychotherapyNote) {
		return Reason{"a psychotherapy-note authorization may not be combined with another", "45 CFR 164.508(b)(3)(ii)"}, true
	}
	if doc.Category == recordvault.PsychotherapyNote && !a.Psychotherapy {
		return Reason{"the authorization does not name psychotherapy notes specifically", "45 CFR 164.508(a)(2)"}, true
	}
	if !slices.Contains(a.Categories, doc.Category) {
		return Reason{"the authorization does not describe this information", "45 CFR 164.508(c)(1)(i)"}, true
	}
	if doc.Category == recordvault.SUDRecord && !a.Part2 {
		return Reason{"a Part 2 record needs a consent with the elements of 42 CFR 2.31", "42 CFR 2.31"}, true
	}
	if a.SignedBy != a.Subject {
		if reason, ok := SignsFor(d.j, d.day, d.f.People[a.Subject]); !ok {
			return reason, true
		}
	}
	return Reason{}, false
}

// release computes the fields of an approved release.
func (d *decision) release() Decision {
	doc := d.req.Document
	fields := slices.Clone(doc.Fields)
	keep := func(allowed []string) {
		if len(allowed) > 0 {
			fields = slices.DeleteFunc(fields, func(f string) bool { return !slices.Contains(allowed, f) })
		}
	}
	keep(d.req.Fields)
	if d.req.Basis == CourtOrder {
		keep(d.f.Order.Fields)
	}
	if d.req.Basis == AmendmentNotice {
		keep(d.f.Notice.EarlierFields) // what the recipient has: nothing more goes with the amendment
	}
	for _, a := range d.f.Authorizations {
		if slices.Contains(d.Authorizations, a.ID) {
			keep(a.Fields)
		}
	}
	fields = slices.DeleteFunc(fields, func(f string) bool { return slices.Contains(d.Withheld, f) })
	if len(fields) == 0 {
		return d.stop(Deny, "nothing the basis allows is left to release", d.rule.citation)
	}
	slices.Sort(fields)
	d.Fields = fields
	d.Outcome = Approve
	d.Rule = Reason{"released under " + string(d.req.Basis), d.rule.citation}
	d.Accounted = d.rule.accounted
	if d.rule.accounted {
		d.note("the disclosure enters the client's accounting", "45 CFR 164.528(a)")
	} else {
		d.note("the disclosure is exempt from the accounting", d.rule.exempt)
	}
	d.Reasons = append([]Reason{d.Rule}, d.Reasons...)
	return d.Decision
}

// Resolve is the decision of a person with authority (the clinic's privacy officer or
// counsel) on a release that needed review: approved with the fields asked for (all of the
// document's when none were named), or denied, for reason. The rule that asked for the review
// stays among the reasons.
func Resolve(req Request, pending Decision, approve bool, by, reason string) Decision {
	d := Decision{Reasons: append(slices.Clone(pending.Reasons), Reason{fmt.Sprintf("reviewed by %s: %s", by, reason), pending.Rule.Citation}),
		Jurisdiction: req.Jurisdiction}
	rule := bases[req.Basis]
	if !approve || pending.Outcome != NeedsReview {
		d.Outcome, d.Rule = Deny, Reason{"refused on review: " + reason, pending.Rule.Citation}
		return d
	}
	if req.Recipient.ID != "" && req.Recipient.ID == by {
		d.Outcome, d.Rule = Deny, Reason{"the reviewer cannot release to themselves", separationCitation}
		return d
	}
	d.Fields = slices.Clone(req.Fields)
	if len(d.Fields) == 0 {
		d.Fields = slices.Clone(req.Document.Fields)
	}
	slices.Sort(d.Fields)
	d.Outcome, d.Rule = Approve, Reason{"released on review under " + string(req.Basis) + ": " + reason, rule.citation}
	d.Accounted, d.Part2Notice, d.Authorizations = rule.accounted, req.Document.Category == recordvault.SUDRecord, pending.Authorizations
	return d
}
