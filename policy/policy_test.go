package policy

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// The recipients of the table, by kind: ids that authorizations and orders name.
var recipientIDs = map[RecipientKind]string{ToClient: "c1", ToRepresentative: "rep1", ToAttorney: "atty",
	ToSchool: "school", ToProvider: "prov", ToThreatenedPerson: "victim", ToAuthority: "dcfs"}

// dateOfBirth is the birth date of someone age years old on testNow, with a birthday well
// clear of it.
func dateOfBirth(age int) string { return testNow.AddDate(-age, -2, 0).Format(time.DateOnly) }

func fieldNames(c recordvault.Category) []string {
	var out []string
	for _, s := range recordvault.Schemas[c] {
		out = append(out, s.Name)
	}
	return out
}

// authorization is a complete authorization from subject to recipient for category.
func authorization(id, subject, recipient string, c recordvault.Category) Authorization {
	return Authorization{ID: id, Subject: subject, SignedBy: subject, Signed: "2026-11-01", Description: "records of care",
		Discloser: "the clinic", Recipient: recipient, Purpose: "at the client's request", Expires: "2027-11-01",
		RevocationStatement: true, ConditioningStatement: true, RedisclosureStatement: true,
		Categories: []recordvault.Category{c}, Psychotherapy: c == recordvault.PsychotherapyNote, Part2: c == recordvault.SUDRecord}
}

// evidence builds the facts an evidence word of the table names; words join with "+".
func evidence(t *testing.T, words string, req *Request, f *Facts) {
	t.Helper()
	doc := req.Document
	rid := req.Recipient.ID
	auth := func(subject string) Authorization {
		return authorization("a-"+subject, subject, rid, doc.Category)
	}
	for _, w := range strings.Split(words, "+") {
		switch w {
		case "none":
		case "auth": // a valid authorization from every participant
			for _, p := range doc.Participants {
				f.Authorizations = append(f.Authorizations, auth(p))
			}
		case "auth-first": // from the first participant only
			f.Authorizations = append(f.Authorizations, auth(doc.Participants[0]))
		case "auth-second": // from the second participant only
			f.Authorizations = append(f.Authorizations, auth(doc.Participants[1]))
		case "auth-revoked":
			a := auth("c1")
			a.ID += "-" + w
			a.Revoked = true
			f.Authorizations = append(f.Authorizations, a)
		case "auth-expired":
			a := auth("c1")
			a.ID += "-" + w
			a.Expires = "2026-11-21"
			f.Authorizations = append(f.Authorizations, a)
		case "auth-event":
			a := auth("c1")
			a.ID += "-" + w
			a.Expires, a.ExpiryEvent, a.ExpiryEventOccurred = "", "end of the school year", true
			f.Authorizations = append(f.Authorizations, a)
		case "auth-incomplete":
			a := auth("c1")
			a.ID += "-" + w
			a.Purpose, a.RevocationStatement = "", false
			f.Authorizations = append(f.Authorizations, a)
		case "auth-other-recipient":
			a := auth("c1")
			a.ID += "-" + w
			a.Recipient = "someone-else"
			f.Authorizations = append(f.Authorizations, a)
		case "auth-general": // a general authorization naming the document's category and progress notes
			a := auth("c1")
			a.ID += "-" + w
			a.Psychotherapy, a.Categories = false, []recordvault.Category{doc.Category, recordvault.ProgressNote}
			f.Authorizations = append(f.Authorizations, a)
		case "auth-combined": // a psychotherapy-note authorization combined with progress notes
			a := auth("c1")
			a.ID += "-" + w
			a.Psychotherapy, a.Categories = true, []recordvault.Category{recordvault.PsychotherapyNote, recordvault.ProgressNote}
			f.Authorizations = append(f.Authorizations, a)
		case "auth-other-category":
			a := auth("c1")
			a.ID += "-" + w
			a.Categories = []recordvault.Category{recordvault.Evaluation}
			if doc.Category == recordvault.Evaluation {
				a.Categories = []recordvault.Category{recordvault.ProgressNote}
			}
			f.Authorizations = append(f.Authorizations, a)
		case "auth-no-part2":
			a := auth("c1")
			a.ID += "-" + w
			a.Part2 = false
			f.Authorizations = append(f.Authorizations, a)
		case "auth-parent": // signed by the parent, with their authority
			a := auth("c1")
			a.ID += "-" + w
			a.SignedBy, a.RepresentativeAuthority = "rep1", "parent"
			f.Authorizations = append(f.Authorizations, a)
		case "auth-parent-noauthority":
			a := auth("c1")
			a.ID += "-" + w
			a.SignedBy = "rep1"
			f.Authorizations = append(f.Authorizations, a)
		case "auth-fields": // an authorization describing the plan only
			a := auth("c1")
			a.ID += "-" + w
			a.Fields = []string{"plan"}
			f.Authorizations = append(f.Authorizations, a)
		case "order":
			f.Order = &Order{ID: "o1", Recipient: rid, From: "2026-01-01", To: "2026-12-31", Scope: []recordvault.Category{doc.Category}}
		case "order-part2":
			f.Order = &Order{ID: "o1", Recipient: rid, From: "2026-01-01", To: "2026-12-31", Scope: []recordvault.Category{doc.Category}, Part2SubpartE: true}
		case "order-fields":
			f.Order = &Order{ID: "o1", Recipient: rid, From: "2026-01-01", To: "2026-12-31", Scope: []recordvault.Category{doc.Category}, Fields: []string{"plan", "progress"}}
		case "order-other-category":
			f.Order = &Order{ID: "o1", Recipient: rid, From: "2026-01-01", To: "2026-12-31", Scope: []recordvault.Category{recordvault.Evaluation}}
		case "order-earlier":
			f.Order = &Order{ID: "o1", Recipient: rid, From: "2025-01-01", To: "2025-12-31", Scope: []recordvault.Category{doc.Category}}
		case "order-other-recipient":
			f.Order = &Order{ID: "o1", Recipient: "other-atty", From: "2026-01-01", To: "2026-12-31", Scope: []recordvault.Category{doc.Category}}
		case "order-other-document":
			f.Order = &Order{ID: "o1", Recipient: rid, From: "2026-01-01", To: "2026-12-31", Scope: []recordvault.Category{doc.Category}, Documents: []string{"d2"}}
		case "assured":
			f.Assurances = &Assurances{NoticeGiven: true, ObjectionDeadline: "2026-11-15", Objection: "none"}
		case "assured-resolved":
			f.Assurances = &Assurances{NoticeGiven: true, ObjectionDeadline: "2026-11-15", Objection: "resolved"}
		case "assured-pending":
			f.Assurances = &Assurances{NoticeGiven: true, ObjectionDeadline: "2026-11-15", Objection: "pending"}
		case "assured-early":
			f.Assurances = &Assurances{NoticeGiven: true, ObjectionDeadline: "2026-11-30"}
		case "assured-no-notice":
			f.Assurances = &Assurances{ObjectionDeadline: "2026-11-15"}
		case "qpo":
			f.Assurances = &Assurances{ProtectiveOrder: true}
		case "attest":
			f.Attestation = &Attestation{Clinician: "dr-lee", GoodFaith: true}
		case "attest-child":
			f.Attestation = &Attestation{Clinician: "dr-lee", GoodFaith: true, ChildAbuse: true}
		case "attest-admission":
			f.Attestation = &Attestation{Clinician: "dr-lee", GoodFaith: true, AdmissionOfPastViolence: true}
		case "attest-unsigned":
			f.Attestation = &Attestation{GoodFaith: true}
		case "parent": // a parent; the minor told and not objecting, no compelling reason
			req.Recipient.Representation = &Representation{Relationship: "parent", MinorInformed: true}
		case "parent-objects":
			req.Recipient.Representation = &Representation{Relationship: "parent", MinorInformed: true, MinorObjects: true}
		case "parent-untold":
			req.Recipient.Representation = &Representation{Relationship: "parent"}
		case "parent-compelling":
			req.Recipient.Representation = &Representation{Relationship: "parent", MinorInformed: true, CompellingReason: true}
		case "parent-abuse":
			req.Recipient.Representation = &Representation{Relationship: "parent", MinorInformed: true, Abuse: true}
		case "parent-confidential":
			req.Recipient.Representation = &Representation{Relationship: "parent", MinorInformed: true, ParentAgreedConfidentiality: true}
		case "guardian": // a guardian with legal authority
			req.Recipient.Representation = &Representation{Relationship: "guardian", Authority: true}
		case "friend":
			req.Recipient.Representation = &Representation{Relationship: "friend"}
		case "selfcare": // the minor consented to their own care
			p := f.People["c1"]
			p.ConsentedToOwnCare = true
			f.People["c1"] = p
		case "emancipated":
			p := f.People["c1"]
			p.Emancipated = true
			f.People["c1"] = p
		case "litigation":
			req.Document.CompiledForLitigation = true
		case "harm": // a licensed clinician withholds the risk assessment
			f.Denial = &ReviewableDenial{Ground: Endangerment, DeniedBy: "dr-lee", Licensed: true, Fields: []string{"risk_assessment"}}
		case "harm-all":
			f.Denial = &ReviewableDenial{Ground: HarmToOther, DeniedBy: "dr-lee", Licensed: true}
		case "harm-upheld":
			f.Denial = &ReviewableDenial{Ground: Endangerment, DeniedBy: "dr-lee", Licensed: true, Fields: []string{"risk_assessment"},
				Review: &Review{Reviewer: "dr-patel", Licensed: true, Upheld: true}}
		case "harm-all-upheld":
			f.Denial = &ReviewableDenial{Ground: HarmToOther, DeniedBy: "dr-lee", Licensed: true, Review: &Review{Reviewer: "dr-patel", Licensed: true, Upheld: true}}
		case "harm-overturned":
			f.Denial = &ReviewableDenial{Ground: Endangerment, DeniedBy: "dr-lee", Licensed: true, Fields: []string{"risk_assessment"},
				Review: &Review{Reviewer: "dr-patel", Licensed: true}}
		case "harm-self-review":
			f.Denial = &ReviewableDenial{Ground: Endangerment, DeniedBy: "dr-lee", Licensed: true, Review: &Review{Reviewer: "dr-lee", Licensed: true}}
		case "harm-unlicensed-review":
			f.Denial = &ReviewableDenial{Ground: Endangerment, DeniedBy: "dr-lee", Licensed: true, Review: &Review{Reviewer: "intern", Upheld: true}}
		case "harm-unlicensed":
			f.Denial = &ReviewableDenial{Ground: Endangerment, DeniedBy: "intern"}
		case "harm-via-rep":
			f.Denial = &ReviewableDenial{Ground: HarmViaRepresentative, DeniedBy: "dr-lee", Licensed: true}
		case "notice": // an accepted amendment; the recipient had the whole document; the client agreed
			f.Notice = &Notice{Amendment: "m1", Accepted: true, EarlierFields: doc.Fields, ClientAgreed: true}
		case "notice-plan": // as notice, the recipient having had the plan only
			f.Notice = &Notice{Amendment: "m1", Accepted: true, EarlierFields: []string{"plan"}, ClientAgreed: true}
		case "notice-undecided":
			f.Notice = &Notice{Amendment: "m1", EarlierFields: doc.Fields, ClientAgreed: true}
		case "notice-no-earlier":
			f.Notice = &Notice{Amendment: "m1", Accepted: true, ClientAgreed: true}
		case "staff": // the recipient's id is a staff login
			req.Recipient.Staff = true
		case "asks": // the recipient is who asks for the release
			req.RequestedBy = rid
		case "order-own": // an order the recipient recorded
			f.Order = &Order{ID: "o1", Recipient: rid, From: "2026-01-01", To: "2026-12-31", Scope: []recordvault.Category{doc.Category}, RecordedBy: rid}
		case "auth-own": // every participant's authorization, recorded by the recipient
			for _, p := range doc.Participants {
				a := auth(p)
				a.RecordedBy = rid
				f.Authorizations = append(f.Authorizations, a)
			}
		case "attest-own": // the recipient attests
			f.Attestation = &Attestation{Clinician: rid, GoodFaith: true}
		case "concerns-plan": // the amendment concerns the plan (after a notice word)
			f.Notice.Concerns = []string{"plan"}
		case "concerns-risk": // the amendment concerns the risk assessment (after a notice word)
			f.Notice.Concerns = []string{"risk_assessment"}
		case "notice-unagreed":
			f.Notice = &Notice{Amendment: "m1", Accepted: true, EarlierFields: doc.Fields}
		default:
			t.Fatalf("unknown evidence %q", w)
		}
	}
}

// row is one case of testdata/policy_table.txt.
type row struct {
	line                                                           int
	basis, category, recipient, parts, age, juris, evidence, asked string
	outcome, released, accounted, citation                         string
}

func readTable(t *testing.T) []row {
	t.Helper()
	var rows []row
	table, err := os.ReadFile("testdata/policy_table.txt")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(table))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "|")
		if len(c) != 12 {
			t.Fatalf("table line %d: %d columns, want 12", n, len(c))
		}
		for i := range c {
			c[i] = strings.TrimSpace(c[i])
		}
		rows = append(rows, row{n, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11]})
	}
	return rows
}

func (r row) request(t *testing.T) (Request, Facts) {
	t.Helper()
	category := recordvault.Category(r.category)
	parts := []string{"c1"}
	if r.parts == "2" {
		parts = append(parts, "c2")
	}
	age, err := strconv.Atoi(r.age)
	if err != nil {
		t.Fatalf("line %d: age %q", r.line, r.age)
	}
	f := Facts{People: map[string]Person{"c1": {DateOfBirth: dateOfBirth(age)}, "c2": {DateOfBirth: dateOfBirth(41)}}}
	kind := RecipientKind(r.recipient)
	req := Request{Basis: Basis(r.basis), Jurisdiction: r.juris, Now: testNow, RequestedBy: "dr-lee",
		Recipient: Recipient{Kind: kind, ID: recipientIDs[kind]},
		Document:  Document{ID: "d1", Category: category, Participants: parts, DateOfService: "2026-06-01", Fields: fieldNames(category)}}
	if kind == ToRepresentative {
		req.Recipient.For = "c1"
	}
	if r.asked != "*" {
		req.Fields = strings.Split(r.asked, ",")
	}
	evidence(t, r.evidence, &req, &f)
	return req, f
}

// TestPolicyTable checks every case of the table: outcome, the fields released, whether the
// release is accounted for, and the citation of the rule that decided.
func TestPolicyTable(t *testing.T) {
	rows := readTable(t)
	if len(rows) < 150 {
		t.Fatalf("%d cases, want at least 150", len(rows))
	}
	seen := map[string]int{}
	for _, r := range rows {
		key := strings.Join([]string{r.basis, r.category, r.recipient, r.parts, r.age, r.juris, r.evidence, r.asked}, "|")
		if first, dup := seen[key]; dup {
			t.Errorf("line %d repeats the case of line %d", r.line, first)
		}
		seen[key] = r.line
		req, f := r.request(t)
		d := Decide(req, f)
		released := "-"
		if d.Outcome == Approve {
			released = strings.Join(d.Fields, ",")
			if slices.Equal(d.Fields, sorted(req.Document.Fields)) {
				released = "*"
			}
		}
		accounted := map[bool]string{true: "y", false: "n"}[d.Accounted]
		got := fmt.Sprintf("%s %s %s %s", d.Outcome, released, accounted, d.Rule.Citation)
		want := fmt.Sprintf("%s %s %s %s", r.outcome, r.released, r.accounted, r.citation)
		if got != want {
			t.Errorf("line %d (%s %s to %s, %s participant(s), age %s, %s, %s, asked %s):\n got  %s (%s)\n want %s",
				r.line, r.basis, r.category, r.recipient, r.parts, r.age, r.juris, r.evidence, r.asked, got, d.Rule.Text, want)
		}
		if d.Outcome != Approve && (len(d.Fields) > 0 || d.Accounted) {
			t.Errorf("line %d: a refusal releases %v", r.line, d.Fields)
		}
		if d.Jurisdiction != r.juris {
			t.Errorf("line %d: the decision names jurisdiction %q, want %q", r.line, d.Jurisdiction, r.juris)
		}
		if d.Rule.Text == "" || len(d.Reasons) == 0 {
			t.Errorf("line %d: a decision without its reasons", r.line)
		}
		for _, reason := range d.Reasons {
			if reason.Citation == "" && d.Outcome == Approve {
				t.Errorf("line %d: an approval's reason without a citation: %q", r.line, reason.Text)
			}
		}
	}
	t.Logf("%d cases", len(rows))
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// Every SUD approval carries the 2.32 notice, and no other does; a release relying on
// authorizations names them all, so revoking any one ends it.
func TestPolicyObligations(t *testing.T) {
	for _, r := range readTable(t) {
		req, f := r.request(t)
		d := Decide(req, f)
		if d.Outcome != Approve {
			continue
		}
		if d.Part2Notice != (req.Document.Category == recordvault.SUDRecord) {
			t.Errorf("line %d: Part 2 notice %v for %s", r.line, d.Part2Notice, req.Document.Category)
		}
		for _, id := range d.Authorizations {
			i := slices.IndexFunc(f.Authorizations, func(a Authorization) bool { return a.ID == id })
			f.Authorizations[i].Revoked = true
			if again := Decide(req, f); again.Outcome == Approve {
				t.Errorf("line %d: still approved with authorization %s revoked", r.line, id)
			}
			f.Authorizations[i].Revoked = false
		}
	}
}

func TestAuthorizationMissingElements(t *testing.T) {
	a := Authorization{Subject: "c1", SignedBy: "rep1", Signed: "yesterday"}
	want := []string{"description of the information", "who may disclose", "recipient", "purpose", "expiry date or event",
		"date of signature", "representative's authority", "statement of the right to revoke", "statement on conditioning",
		"statement on redisclosure", "information described"}
	if got := a.Missing(); !slices.Equal(got, want) {
		t.Fatalf("missing %q\nwant    %q", got, want)
	}
	if m := authorization("a", "c1", "atty", recordvault.ProgressNote).Missing(); len(m) != 0 {
		t.Fatalf("a complete authorization lacks %q", m)
	}
}

func TestAge(t *testing.T) {
	for _, c := range []struct {
		dob, day string
		want     int
	}{{"2012-11-22", "2026-11-22", 14}, {"2012-11-23", "2026-11-22", 13}, {"2012-12-01", "2026-11-22", 13}, {"2012-02-29", "2026-02-28", 13}, {"2012-02-29", "2026-03-01", 14}} {
		if got, _ := age(c.dob, c.day); got != c.want {
			t.Errorf("born %s, on %s: %d, want %d", c.dob, c.day, got, c.want)
		}
	}
}

// A release that needed review is approved or refused by a person with authority; only a
// pending decision is approved so, with the fields asked for.
func TestResolve(t *testing.T) {
	req := Request{Basis: SeriousThreat, Jurisdiction: "US", Now: testNow, Fields: []string{"note"},
		Recipient: Recipient{Kind: ToThreatenedPerson, ID: "victim"},
		Document:  Document{ID: "d1", Category: recordvault.SUDRecord, Participants: []string{"c1"}, DateOfService: "2026-06-01", Fields: fieldNames(recordvault.SUDRecord)}}
	f := Facts{People: map[string]Person{"c1": {DateOfBirth: dateOfBirth(40)}}, Attestation: &Attestation{Clinician: "dr-lee", GoodFaith: true}}
	pending := Decide(req, f)
	if pending.Outcome != NeedsReview {
		t.Fatalf("pending: %+v", pending)
	}
	ok := Resolve(req, pending, true, "privacy-officer", "bona fide emergency")
	if ok.Outcome != Approve || !slices.Equal(ok.Fields, []string{"note"}) || !ok.Accounted || !ok.Part2Notice || ok.Rule.Citation != "45 CFR 164.512(j)(1)(i)" {
		t.Fatalf("approved on review: %+v", ok)
	}
	if no := Resolve(req, pending, false, "privacy-officer", "no emergency"); no.Outcome != Deny || len(no.Fields) != 0 || no.Rule.Citation != "42 CFR 2.51" {
		t.Fatalf("refused on review: %+v", no)
	}
	if self := Resolve(req, pending, true, "victim", "bona fide emergency"); self.Outcome != Deny || self.Rule.Citation != separationCitation {
		t.Fatalf("a reviewer releasing to themselves: %+v", self)
	}
	denied := Decide(Request{Basis: "gossip"}, Facts{})
	if again := Resolve(req, denied, true, "privacy-officer", "x"); again.Outcome != Deny {
		t.Fatalf("a denial approved on review: %+v", again)
	}
}

// A linked document goes with a copy exactly when what it concerns overlaps what the copy
// releases; one about the whole document goes with any copy that releases anything.
func TestAccompanies(t *testing.T) {
	for _, c := range []struct {
		concerns, released []string
		want               bool
	}{
		{nil, []string{"plan"}, true},
		{nil, nil, false},
		{[]string{"plan"}, []string{"plan", "progress"}, true},
		{[]string{"risk_assessment"}, []string{"date_of_service", "diagnosis_codes"}, false},
		{[]string{"risk_assessment", "plan"}, []string{"plan"}, true},
		{[]string{"plan"}, nil, false},
	} {
		if got := Accompanies(c.concerns, c.released); got != c.want {
			t.Errorf("Accompanies(%v, %v) = %v, want %v", c.concerns, c.released, got, c.want)
		}
	}
}

// A Part 2 copy carries 2.32's notice, every other copy the redisclosure caution, never both.
func TestNotices(t *testing.T) {
	if n := Notices(Decision{Part2Notice: true}); len(n) != 1 || n[0] != Part2NoticeText {
		t.Errorf("a Part 2 copy's notices: %q", n)
	}
	if n := Notices(Decision{}); len(n) != 1 || n[0] != RedisclosureCaution {
		t.Errorf("another copy's notices: %q", n)
	}
}

// Every basis reads in plain words on a copy and in an accounting.
func TestEveryBasisHasALabel(t *testing.T) {
	for _, b := range []Basis{RightOfAccess, ByAuthorization, PsychotherapyAuthorization, CourtOrder, Subpoena, SeriousThreat, AbuseReport, Treatment, AmendmentNotice} {
		if BasisLabel(b) == string(b) || BasisLabel(b) == "" {
			t.Errorf("%s has no label", b)
		}
	}
}

// Who acts for a client outside any one release, as the client portal asks: a parent of an
// Illinois child under 12 always; of a 13-year-old only once the child is told and does not
// object; never one the clinic believes endangers the child; for an adult, only with legal
// authority. From 12 an Illinois minor signs their own authorizations.
func TestRepresentsAndSignsFor(t *testing.T) {
	il, us := Jurisdictions["US-IL"], Jurisdictions["US"]
	const day = "2026-12-05"
	child, teen, adult := Person{DateOfBirth: "2017-01-01"}, Person{DateOfBirth: "2013-06-01"}, Person{DateOfBirth: "1990-01-01"}
	parent := Representation{Relationship: "parent"}
	told := Representation{Relationship: "parent", MinorInformed: true}
	for _, c := range []struct {
		name   string
		j      Jurisdiction
		client Person
		rep    Representation
		want   Outcome
		cites  string
	}{
		{"IL, 9, parent", il, child, parent, Approve, ""},
		{"IL, 13, parent, child not told", il, teen, parent, Deny, "740 ILCS 110/4(a)(3)"},
		{"IL, 13, parent, child told", il, teen, told, Approve, ""},
		{"IL, 13, child objects", il, teen, Representation{Relationship: "parent", MinorInformed: true, MinorObjects: true}, Deny, "740 ILCS 110/4(a)(3)"},
		{"US, 13, parent", us, teen, parent, Approve, ""},
		{"US, 13, consented to own care", us, Person{DateOfBirth: teen.DateOfBirth, ConsentedToOwnCare: true}, parent, Deny, "45 CFR 164.502(g)(3)"},
		{"US, 13, abuse", us, teen, Representation{Relationship: "parent", Abuse: true}, Deny, "45 CFR 164.502(g)(5)"},
		{"US, adult, parent", us, adult, parent, Deny, "45 CFR 164.502(g)(2)"},
		{"US, adult, power of attorney", us, adult, Representation{Relationship: "other", Authority: true}, Approve, ""},
	} {
		got, why := Represents(c.j, day, c.client, c.rep)
		if got != c.want || (c.want == Deny && (why.Citation != c.cites || why.Text == "")) {
			t.Errorf("%s: %s (%+v), want %s citing %q", c.name, got, why, c.want, c.cites)
		}
	}
	if why, ok := SignsFor(il, day, teen); ok || why.Citation != "740 ILCS 110/5" {
		t.Errorf("a parent signing for an Illinois 13-year-old: %v %+v", ok, why)
	}
	if _, ok := SignsFor(il, day, child); !ok {
		t.Error("a parent may not sign for an Illinois 9-year-old")
	}
	if _, ok := SignsFor(us, day, teen); !ok {
		t.Error("a parent may not sign for a 13-year-old under federal rules")
	}
}
