package policy

import (
	"slices"
	"time"

	"github.com/recordvault/recordvault"
)

// Authorization is a client's written permission to disclose (45 CFR 164.508(c)); for a
// 42 CFR Part 2 record, a consent with the elements of 2.31 (Part2).
type Authorization struct {
	ID      string `json:"id,omitempty"`
	Subject string `json:"subject,omitempty"` // the client the information is about
	// SignedBy is who signed: the Subject, or their personal representative, whose authority
	// is then described in RepresentativeAuthority (164.508(c)(1)(vi)).
	SignedBy                string `json:"signed_by,omitempty"`
	RepresentativeAuthority string `json:"representative_authority,omitempty"`
	Signed                  string `json:"signed,omitempty"`       // the date of signature, YYYY-MM-DD
	Description             string `json:"description,omitempty"`  // a specific description of the information (c)(1)(i)
	Discloser               string `json:"discloser,omitempty"`    // who may disclose (c)(1)(ii)
	Recipient               string `json:"recipient,omitempty"`    // who may receive: a recipient id (c)(1)(iii)
	Purpose                 string `json:"purpose,omitempty"`      // (c)(1)(iv)
	Expires                 string `json:"expires,omitempty"`      // an expiry date, YYYY-MM-DD, or
	ExpiryEvent             string `json:"expiry_event,omitempty"` // an expiry event (c)(1)(v)
	ExpiryEventOccurred     bool   `json:"expiry_event_occurred,omitempty"`
	RevocationStatement     bool   `json:"revocation_statement,omitempty"`   // the statement of the right to revoke (c)(2)(i)
	ConditioningStatement   bool   `json:"conditioning_statement,omitempty"` // the statement on conditioning treatment (c)(2)(ii)
	RedisclosureStatement   bool   `json:"redisclosure_statement,omitempty"` // the statement that information may be redisclosed (c)(2)(iii)
	// Categories is what it describes. A psychotherapy-note authorization names psychotherapy
	// notes and nothing else (164.508(a)(2), (b)(3)(ii)).
	Categories    []recordvault.Category `json:"categories,omitempty"`
	Psychotherapy bool                   `json:"psychotherapy,omitempty"`
	Fields        []string               `json:"fields,omitempty"`  // when it describes only some fields; empty: whole documents
	Part2         bool                   `json:"part2,omitempty"`   // written as a 42 CFR 2.31 consent
	Revoked       bool                   `json:"revoked,omitempty"` // revoked in writing (164.508(b)(5)): ends every release relying on it
	// RecordedBy is the staff login that put the form on file; the caller fills it in from
	// its own record of the form, which keeps it apart from the form's elements.
	RecordedBy string `json:"-"`
}

// Missing lists the required elements of 164.508(c) the authorization lacks.
func (a Authorization) Missing() []string {
	var m []string
	for _, e := range []struct {
		name    string
		missing bool
	}{
		{"description of the information", a.Description == ""},
		{"who may disclose", a.Discloser == ""},
		{"recipient", a.Recipient == ""},
		{"purpose", a.Purpose == ""},
		{"expiry date or event", a.Expires == "" && a.ExpiryEvent == ""},
		{"signature", a.SignedBy == ""},
		{"date of signature", !validDate(a.Signed)},
		{"representative's authority", a.SignedBy != "" && a.SignedBy != a.Subject && a.RepresentativeAuthority == ""},
		{"statement of the right to revoke", !a.RevocationStatement},
		{"statement on conditioning", !a.ConditioningStatement},
		{"statement on redisclosure", !a.RedisclosureStatement},
		{"information described", len(a.Categories) == 0},
	} {
		if e.missing {
			m = append(m, e.name)
		}
	}
	return m
}

// expired reports whether the authorization's date or event has passed on day (YYYY-MM-DD).
func (a Authorization) expired(day string) bool {
	if a.Expires != "" {
		return day > a.Expires
	}
	return a.ExpiryEventOccurred
}

func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// Order is a court order (164.512(e)(1)(i)): it releases only what it expressly covers.
type Order struct {
	ID        string                 `json:"id,omitempty"`
	Recipient string                 `json:"recipient,omitempty"` // the attorney (or court) it directs the records to
	Documents []string               `json:"documents,omitempty"` // the documents it names, if it names any
	From      string                 `json:"from,omitempty"`
	To        string                 `json:"to,omitempty"`     // the range of dates of service it covers, YYYY-MM-DD
	Fields    []string               `json:"fields,omitempty"` // the fields it covers; empty: whole documents
	Scope     []recordvault.Category `json:"scope,omitempty"`  // the categories it covers; psychotherapy notes only when named
	// Part2SubpartE: an order under 42 CFR Part 2 subpart E (2.64, 2.65), the only order that
	// reaches SUD records.
	Part2SubpartE bool `json:"part2_subpart_e,omitempty"`
	// RecordedBy is the staff login that recorded the order.
	RecordedBy string `json:"recorded_by,omitempty"`
}

// Covers reports whether the order reaches the document: its category, its id when the
// order names documents, and its date of service.
func (o Order) Covers(d Document) bool {
	if !slices.Contains(o.Scope, d.Category) {
		return false
	}
	if len(o.Documents) > 0 && !slices.Contains(o.Documents, d.ID) {
		return false
	}
	return d.DateOfService >= o.From && d.DateOfService <= o.To
}

// Assurances are what a subpoena without an order needs (164.512(e)(1)(ii)): notice to the
// client and the time to object passed with no objection or objections resolved (A), or a
// qualified protective order (B).
type Assurances struct {
	NoticeGiven       bool   `json:"notice_given,omitempty"`
	ObjectionDeadline string `json:"objection_deadline,omitempty"` // YYYY-MM-DD
	Objection         string `json:"objection,omitempty"`          // "", "none", "pending" or "resolved"
	ProtectiveOrder   bool   `json:"protective_order,omitempty"`
}

func (a Assurances) satisfied(day string) bool {
	if a.ProtectiveOrder {
		return true
	}
	return a.NoticeGiven && validDate(a.ObjectionDeadline) && day > a.ObjectionDeadline &&
		(a.Objection == "" || a.Objection == "none" || a.Objection == "resolved")
}

// Notice is what an amendment notice rests on (164.526(c)): the amendment of the document,
// whether the clinic accepted it, the fields released to this recipient before it was
// accepted, and the client's agreement that this recipient be told (164.526(c)(2)).
type Notice struct {
	Amendment     string   `json:"amendment,omitempty"`
	Accepted      bool     `json:"accepted,omitempty"`
	EarlierFields []string `json:"earlier_fields,omitempty"` // received before (released and downloaded); empty: nothing
	ClientAgreed  bool     `json:"client_agreed,omitempty"`
	// Concerns are the fields the amendment concerns; empty: the whole document.
	Concerns []string `json:"concerns,omitempty"`
}

// Attestation is a clinician's statement behind a serious-threat disclosure
// (164.512(j)(1)(i)) or an abuse report (164.512(b), (c)).
type Attestation struct {
	Clinician string `json:"clinician,omitempty"`
	// GoodFaith: the clinician believes in good faith that the disclosure is necessary to
	// prevent or lessen a serious and imminent threat to a person or the public, or that the
	// abuse or neglect is to be reported.
	GoodFaith bool `json:"good_faith,omitempty"`
	// AdmissionOfPastViolence: the belief rests on the client's admission, in therapy, of a
	// violent crime: 164.512(j)(2) forbids disclosing on that ground.
	AdmissionOfPastViolence bool `json:"admission_of_past_violence,omitempty"`
	ChildAbuse              bool `json:"child_abuse,omitempty"` // a report of suspected child abuse or neglect (Part 2 allows its initial report, 2.12(c)(6))
}

// Representation is what makes a personal representative (164.502(g)) and the facts a
// jurisdiction's rules for minors turn on.
type Representation struct {
	Relationship string `json:"relationship,omitempty"` // "parent" or "guardian" (or another with legal authority)
	Authority    bool   `json:"authority,omitempty"`    // legal authority to act for the client is on file
	// Abuse: the clinic reasonably believes the representative has abused or neglected the
	// client, or that treating them as representative could endanger the client (164.502(g)(5)).
	Abuse bool `json:"abuse,omitempty"`
	// ParentAgreedConfidentiality: the parent agreed that the minor's care is confidential
	// between minor and clinician (164.502(g)(3)(i)(C)).
	ParentAgreedConfidentiality bool `json:"parent_agreed_confidentiality,omitempty"`
	// Illinois, 12 to 17 (740 ILCS 110/4(a)(3)): the minor was told of the request, does not
	// object, and the therapist finds no compelling reason to deny.
	MinorInformed    bool `json:"minor_informed,omitempty"`
	MinorObjects     bool `json:"minor_objects,omitempty"`
	CompellingReason bool `json:"compelling_reason,omitempty"`
}

// ReviewableDenial is a licensed clinician's judgement that access to all or part of a
// document would cause harm (164.524(a)(3)), and any review of it (164.524(a)(4), (d)(4)).
type ReviewableDenial struct {
	Ground   DenialGround `json:"ground,omitempty"`
	DeniedBy string       `json:"denied_by,omitempty"`
	Licensed bool         `json:"licensed,omitempty"`
	Fields   []string     `json:"fields,omitempty"` // the part denied; empty: the whole document
	Review   *Review      `json:"review,omitempty"`
}

// DenialGround is one of 164.524(a)(3)'s grounds.
type DenialGround string

const (
	Endangerment          DenialGround = "endangerment"            // (a)(3)(i)
	HarmToOther           DenialGround = "harm_to_other"           // (a)(3)(ii)
	HarmViaRepresentative DenialGround = "harm_via_representative" // (a)(3)(iii)
)

// DenialGrounds lists the grounds, in the rule's order.
var DenialGrounds = []DenialGround{Endangerment, HarmToOther, HarmViaRepresentative}

// Review is the decision of a licensed clinician who did not take part in the denial; it is
// final.
type Review struct {
	Reviewer string `json:"reviewer,omitempty"`
	Licensed bool   `json:"licensed,omitempty"`
	Upheld   bool   `json:"upheld,omitempty"`
}

// AccompaniesCitation names the rules that decide which linked documents go with a copy: a
// denied amendment's request, denial, disagreement and rebuttal go with later disclosures of
// the information they concern (164.526(d)(5)), an accepted amendment with the record it
// amends (164.526(c)(1)), and a copy that names its fields carries nothing beyond them
// (164.514(d)).
const AccompaniesCitation = "45 CFR 164.526(c)(1), (d)(5), 164.514(d)"

// Accompanies reports whether a linked document (an addendum, an amendment request and what
// followed it) that concerns the fields named (none: the whole document) goes with a copy
// releasing the fields released: exactly when the two overlap.
func Accompanies(concerns, released []string) bool {
	if len(concerns) == 0 {
		return len(released) > 0
	}
	return slices.ContainsFunc(concerns, func(f string) bool { return slices.Contains(released, f) })
}
