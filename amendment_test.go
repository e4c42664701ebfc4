package recordvault

import (
	"strings"
	"testing"
	"time"
)

var amendNow = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

// apply stores a step the way the records package does: its part added, its status taken.
func apply(t *testing.T, a *Amendment, s Step, err error) *Amendment {
	t.Helper()
	if err != nil {
		t.Fatalf("step refused: %v", err)
	}
	if s.From != a.Status {
		t.Fatalf("step from %s, amendment is %s", s.From, a.Status)
	}
	parts := a.parts(t)
	parts[s.Part] = s.Value
	out, err := AmendmentFromParts(a.ID, s.Status, parts)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (a *Amendment) parts(t *testing.T) map[string][]byte {
	t.Helper()
	parts := map[string][]byte{}
	for name, v := range map[string]any{AmendmentRequestPart: a.Request, AmendmentExtensionPart: a.Extension,
		AmendmentDecisionPart: a.Decision, AmendmentDisagreementPart: a.Disagreement, AmendmentRebuttalPart: a.Rebuttal} {
		if s, err := step(name, v, "", ""); err != nil {
			t.Fatal(err)
		} else if string(s.Value) != "null" {
			parts[name] = s.Value
		}
	}
	return parts
}

func newAmendment(t *testing.T, received string) *Amendment {
	t.Helper()
	s, err := NewAmendmentRequest(AmendmentRequest{Received: received, Change: "The session date is wrong.", Reason: "I was away that week."}, "dr-lee", amendNow)
	if err != nil {
		t.Fatal(err)
	}
	a, err := AmendmentFromParts("a1", s.Status, map[string][]byte{s.Part: s.Value})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAmendmentDenialWithDisagreementAndRebuttal(t *testing.T) {
	a := newAmendment(t, "2026-03-01")
	if a.Due != "2026-04-30" || a.Overdue(amendNow) {
		t.Fatalf("due %s, overdue %v: want 2026-04-30, not overdue", a.Due, a.Overdue(amendNow))
	}
	s, err := a.Extend("Records are archived off site.", "dr-lee", amendNow)
	a = apply(t, a, s, err)
	if a.Due != "2026-05-30" {
		t.Fatalf("due after extension %s, want 2026-05-30", a.Due)
	}
	if _, err := a.Extend("again", "dr-lee", amendNow); ErrorCode(err) != ECONFLICT {
		t.Fatalf("second extension: %v, want conflict", err)
	}
	if _, err := a.Disagree("too early", "dr-lee", amendNow); ErrorCode(err) != ECONFLICT {
		t.Fatalf("disagreement before a denial: %v, want conflict", err)
	}
	s, err = a.Decide(StatusDenied, "", GroundAccurateAndComplete, "The calendar shows the session.", "dr-patel", amendNow)
	a = apply(t, a, s, err)
	if a.Status != StatusDenied || a.Decision.Ground != GroundAccurateAndComplete || a.Decision.By != "dr-patel" {
		t.Fatalf("after denial: %+v", a)
	}
	if _, err := a.Decide(StatusAccepted, "x", "", "", "dr-lee", amendNow); ErrorCode(err) != ECONFLICT {
		t.Fatalf("second decision: %v, want conflict", err)
	}
	if _, err := a.Rebut("too early", "dr-lee", amendNow); ErrorCode(err) != ECONFLICT {
		t.Fatalf("rebuttal before a disagreement: %v, want conflict", err)
	}
	s, err = a.Disagree("I was not there.", "dr-lee", amendNow)
	a = apply(t, a, s, err)
	s, err = a.Rebut("The client signed in at 10:00.", "dr-patel", amendNow)
	a = apply(t, a, s, err)
	if a.Disagreement.Statement != "I was not there." || a.Rebuttal.Text != "The client signed in at 10:00." {
		t.Fatalf("after rebuttal: %+v", a)
	}
	if _, err := a.Disagree("again", "dr-lee", amendNow); ErrorCode(err) != ECONFLICT {
		t.Fatalf("second disagreement: %v, want conflict", err)
	}
	if _, err := a.Rebut("again", "dr-lee", amendNow); ErrorCode(err) != ECONFLICT {
		t.Fatalf("second rebuttal: %v, want conflict", err)
	}
}

func TestAmendmentAcceptance(t *testing.T) {
	a := newAmendment(t, "2026-03-01")
	s, err := a.Decide(StatusAccepted, "The session was on 2026-02-03.", "", "", "dr-lee", amendNow)
	a = apply(t, a, s, err)
	if a.Status != StatusAccepted || a.Decision.Amendment != "The session was on 2026-02-03." {
		t.Fatalf("after acceptance: %+v", a)
	}
	if _, err := a.Disagree("x", "dr-lee", amendNow); ErrorCode(err) != ECONFLICT {
		t.Fatalf("disagreement with an acceptance: %v, want conflict", err)
	}
	if _, err := a.Extend("x", "dr-lee", amendNow); ErrorCode(err) != ECONFLICT {
		t.Fatalf("extension after the decision: %v, want conflict", err)
	}
}

func TestAmendmentDeadlines(t *testing.T) {
	a := newAmendment(t, "2026-01-01")
	if a.Due != "2026-03-02" || !a.Overdue(amendNow) {
		t.Fatalf("due %s, overdue %v: want 2026-03-02, overdue on %s", a.Due, a.Overdue(amendNow), amendNow.Format(time.DateOnly))
	}
	if _, err := a.Extend("late", "dr-lee", amendNow); ErrorCode(err) != ECONFLICT {
		t.Fatalf("extension after day 60: %v, want conflict", err)
	}
	onDay60 := time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC)
	if _, err := a.Extend("on time", "dr-lee", onDay60); err != nil {
		t.Fatalf("extension on day 60: %v", err)
	}
}

func TestAmendmentBadInput(t *testing.T) {
	long := strings.Repeat("x", MaxTextField+1)
	for name, err := range map[string]error{
		"future receipt": func() error {
			_, err := NewAmendmentRequest(AmendmentRequest{Received: "2026-03-11", Change: "c", Reason: ""}, "dr-lee", amendNow)
			return err
		}(),
		"bad date": func() error {
			_, err := NewAmendmentRequest(AmendmentRequest{Received: "03/01/2026", Change: "c", Reason: ""}, "dr-lee", amendNow)
			return err
		}(),
		"no change": func() error {
			_, err := NewAmendmentRequest(AmendmentRequest{Received: "2026-03-01", Change: "  ", Reason: ""}, "dr-lee", amendNow)
			return err
		}(),
		"long reason": func() error {
			_, err := NewAmendmentRequest(AmendmentRequest{Received: "2026-03-01", Change: "c", Reason: long}, "dr-lee", amendNow)
			return err
		}(),
		"bad utf-8": func() error {
			_, err := NewAmendmentRequest(AmendmentRequest{Received: "2026-03-01", Change: "c\xff", Reason: ""}, "dr-lee", amendNow)
			return err
		}(),
	} {
		if ErrorCode(err) != EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	a := newAmendment(t, "2026-03-01")
	for name, d := range map[string]struct {
		outcome                        Status
		amendment, ground, explanation string
	}{
		"unknown outcome":         {outcome: "maybe", amendment: "x"},
		"acceptance without text": {outcome: StatusAccepted},
		"acceptance with ground":  {outcome: StatusAccepted, amendment: "x", ground: string(GroundNotCreatedHere)},
		"denial without ground":   {outcome: StatusDenied, explanation: "x"},
		"denial, unknown ground":  {outcome: StatusDenied, ground: "dislike", explanation: "x"},
		"denial without reason":   {outcome: StatusDenied, ground: string(GroundNotInRecordSet)},
		"denial with amendment":   {outcome: StatusDenied, amendment: "x", ground: string(GroundNotInRecordSet), explanation: "x"},
	} {
		if _, err := a.Decide(d.outcome, d.amendment, DenialGround(d.ground), d.explanation, "dr-lee", amendNow); ErrorCode(err) != EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if _, err := AmendmentFromParts("a1", StatusRequested, map[string][]byte{AmendmentDecisionPart: []byte(`{}`)}); err == nil {
		t.Error("an amendment without its request was assembled")
	}
}
