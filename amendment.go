package recordvault

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// A client may ask the clinic to amend a signed record (45 CFR 164.526). The request, the
// decision, the client's statement of disagreement and the clinic's rebuttal are kept as one
// document linked to the record, and each step only ever adds to it: what was asked and
// answered is never rewritten. The rules of each step are here; storing them is the records
// package's.

// DenialGround is one of the four reasons 164.526(a)(2) allows for denying an amendment.
type DenialGround string

const (
	GroundNotCreatedHere      DenialGround = "not_created_here"       // 164.526(a)(2)(i): not created by this clinic
	GroundNotInRecordSet      DenialGround = "not_in_record_set"      // (ii): not part of the designated record set
	GroundNotOpenToInspection DenialGround = "not_open_to_inspection" // (iii): not available for inspection under 164.524
	GroundAccurateAndComplete DenialGround = "accurate_and_complete"  // (iv): the record is accurate and complete
)

// DenialGrounds lists every ground, in the rule's order.
var DenialGrounds = []DenialGround{GroundNotCreatedHere, GroundNotInRecordSet, GroundNotOpenToInspection, GroundAccurateAndComplete}

// The decision is due within 60 days of receipt, or 90 with one extension whose written
// reason is given within the first 60 (164.526(b)(2)).
const (
	AmendmentDecisionDays  = 60
	AmendmentExtensionDays = 30
)

// The parts of an amendment document, one sealed field each, added in this order.
const (
	AmendmentRequestPart      = "request"
	AmendmentExtensionPart    = "extension"
	AmendmentDecisionPart     = "decision"
	AmendmentDisagreementPart = "disagreement"
	AmendmentRebuttalPart     = "rebuttal"
)

// Amendment is a request to amend a record and everything that followed it.
type Amendment struct {
	ID           string                 `json:"id"`
	Status       Status                 `json:"status"`
	Request      AmendmentRequest       `json:"request"`
	Due          string                 `json:"due"` // the last day for the decision, YYYY-MM-DD
	Extension    *AmendmentExtension    `json:"extension,omitempty"`
	Decision     *AmendmentDecision     `json:"decision,omitempty"`
	Disagreement *AmendmentDisagreement `json:"disagreement,omitempty"`
	Rebuttal     *AmendmentRebuttal     `json:"rebuttal,omitempty"`
}

// AmendmentRequest is what the client asked, as a staff member recorded it.
type AmendmentRequest struct {
	Received   string    `json:"received"`         // the day the clinic received the request, YYYY-MM-DD
	Change     string    `json:"requested_change"` // what the client wants changed
	Reason     string    `json:"reason,omitempty"` // why, in the client's words
	RecordedBy string    `json:"recorded_by"`
	RecordedAt time.Time `json:"recorded_at"`
	// Concerns are the fields of the record the request is about (none: the whole record);
	// the decision, disagreement and rebuttal concern the same (CheckConcerns).
	Concerns []string `json:"concerns,omitempty"`
}

// AmendmentExtension is the one 30-day extension, with its written reason.
type AmendmentExtension struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// AmendmentDecision accepts or denies the request. An accepted request's Amendment is the
// text that amends the record: it travels with the record as this linked document
// (164.526(c)(1)). A denial names its ground and explains it (164.526(d)(1)).
type AmendmentDecision struct {
	Outcome     Status       `json:"outcome"` // StatusAccepted or StatusDenied
	Amendment   string       `json:"amendment,omitempty"`
	Ground      DenialGround `json:"ground,omitempty"`
	Explanation string       `json:"explanation,omitempty"`
	By          string       `json:"by"`
	At          time.Time    `json:"at"`
}

// AmendmentDisagreement is the client's statement of disagreement with a denial
// (164.526(d)(1)(ii)), as a staff member recorded it.
type AmendmentDisagreement struct {
	Statement  string    `json:"statement"`
	RecordedBy string    `json:"recorded_by"`
	At         time.Time `json:"at"`
}

// AmendmentRebuttal is the clinic's answer to a statement of disagreement (164.526(d)(3)).
type AmendmentRebuttal struct {
	Text string    `json:"text"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

// text checks one free-text value of an amendment step.
func text(name, v string, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return Errorf(EINVALID, "%s: required", name)
	}
	if len(v) > MaxTextField || !utf8.ValidString(v) {
		return Errorf(EINVALID, "%s: UTF-8 text of at most %d bytes", name, MaxTextField)
	}
	return nil
}

// NewAmendmentRequest checks a request (received on a day as YYYY-MM-DD, not in the future;
// the change asked for; the client's reason; the fields it concerns, checked against the
// record's category by CheckConcerns) and returns it, recorded by by, as the first step of a
// new amendment document.
func NewAmendmentRequest(in AmendmentRequest, by string, now time.Time) (Step, error) {
	day, err := time.Parse(time.DateOnly, in.Received)
	if err != nil || day.After(now) {
		return Step{}, Errorf(EINVALID, "received: the day the request arrived, as YYYY-MM-DD, not in the future")
	}
	if err := text("requested_change", in.Change, true); err != nil {
		return Step{}, err
	}
	if err := text("reason", in.Reason, false); err != nil {
		return Step{}, err
	}
	return step(AmendmentRequestPart, AmendmentRequest{Received: in.Received, Change: in.Change, Reason: in.Reason, Concerns: in.Concerns,
		RecordedBy: by, RecordedAt: now.UTC()}, "", StatusRequested)
}

// AmendmentFromParts assembles an amendment from its stored parts.
func AmendmentFromParts(id string, status Status, parts map[string][]byte) (*Amendment, error) {
	a := &Amendment{ID: id, Status: status}
	for name, dst := range map[string]any{AmendmentRequestPart: &a.Request, AmendmentExtensionPart: &a.Extension,
		AmendmentDecisionPart: &a.Decision, AmendmentDisagreementPart: &a.Disagreement, AmendmentRebuttalPart: &a.Rebuttal} {
		if p, ok := parts[name]; ok {
			if err := json.Unmarshal(p, dst); err != nil { // its error could quote the text: not kept
				return nil, fmt.Errorf("amendment part %s does not parse", name)
			}
		}
	}
	if _, ok := parts[AmendmentRequestPart]; !ok {
		return nil, fmt.Errorf("amendment without its request")
	}
	a.Due = a.deadline().Due()
	return a, nil
}

// deadline is the clock of the decision.
func (a *Amendment) deadline() Deadline {
	return Deadline{Received: a.Request.Received, Days: AmendmentDecisionDays, ExtensionDays: AmendmentExtensionDays, Extended: a.Extension != nil}
}

// Overdue reports whether the request is still undecided after its last day.
func (a *Amendment) Overdue(now time.Time) bool {
	return a.Status == StatusRequested && a.deadline().Overdue(now)
}

// Step is one addition to an amendment: the part to add, as JSON, and the status after it.
type Step struct {
	Part   string
	Value  []byte
	From   Status // the status the amendment must still have when the step is stored
	Status Status
}

func step(part string, v any, from, to Status) (Step, error) {
	b, err := json.Marshal(v)
	return Step{Part: part, Value: b, From: from, Status: to}, err
}

func stateError(format string, args ...any) error { return Errorf(ECONFLICT, format, args...) }

// Extend takes the one 30-day extension, with its reason, within the first 60 days.
func (a *Amendment) Extend(reason, by string, now time.Time) (Step, error) {
	if a.Status != StatusRequested {
		return Step{}, stateError("only an undecided request is extended")
	}
	if err := a.deadline().CanExtend(now); err != nil {
		return Step{}, err
	}
	if err := text("reason", reason, true); err != nil {
		return Step{}, err
	}
	return step(AmendmentExtensionPart, AmendmentExtension{Reason: reason, By: by, At: now.UTC()}, StatusRequested, StatusRequested)
}

// Decide accepts the request with the text that amends the record, or denies it on one of
// DenialGrounds with an explanation.
func (a *Amendment) Decide(outcome Status, amendment string, ground DenialGround, explanation, by string, now time.Time) (Step, error) {
	if a.Status != StatusRequested {
		return Step{}, stateError("the request has been decided already")
	}
	d := AmendmentDecision{Outcome: outcome, By: by, At: now.UTC()}
	switch outcome {
	case StatusAccepted:
		if ground != "" || explanation != "" {
			return Step{}, Errorf(EINVALID, "an acceptance has no ground or explanation: only the amendment")
		}
		if err := text("amendment", amendment, true); err != nil {
			return Step{}, err
		}
		d.Amendment = amendment
	case StatusDenied:
		if amendment != "" {
			return Step{}, Errorf(EINVALID, "a denial has no amendment")
		}
		if !slices.Contains(DenialGrounds, ground) {
			return Step{}, Errorf(EINVALID, "ground: a denial names one of the grounds of 45 CFR 164.526(a)(2): %s", joinGrounds())
		}
		if err := text("explanation", explanation, true); err != nil {
			return Step{}, err
		}
		d.Ground, d.Explanation = ground, explanation
	default:
		return Step{}, Errorf(EINVALID, "outcome: accepted or denied")
	}
	return step(AmendmentDecisionPart, d, StatusRequested, outcome)
}

func joinGrounds() string {
	s := make([]string, len(DenialGrounds))
	for i, g := range DenialGrounds {
		s[i] = string(g)
	}
	return strings.Join(s, ", ")
}

// Disagree records the client's statement of disagreement with a denial, once.
func (a *Amendment) Disagree(statement, by string, now time.Time) (Step, error) {
	if a.Status != StatusDenied || a.Disagreement != nil {
		return Step{}, stateError("a statement of disagreement answers a denial, once")
	}
	if err := text("statement", statement, true); err != nil {
		return Step{}, err
	}
	return step(AmendmentDisagreementPart, AmendmentDisagreement{Statement: statement, RecordedBy: by, At: now.UTC()}, StatusDenied, StatusDenied)
}

// Rebut records the clinic's rebuttal of a statement of disagreement, once.
func (a *Amendment) Rebut(rebuttal, by string, now time.Time) (Step, error) {
	if a.Disagreement == nil || a.Rebuttal != nil {
		return Step{}, stateError("a rebuttal answers a statement of disagreement, once")
	}
	if err := text("text", rebuttal, true); err != nil {
		return Step{}, err
	}
	return step(AmendmentRebuttalPart, AmendmentRebuttal{Text: rebuttal, By: by, At: now.UTC()}, StatusDenied, StatusDenied)
}
