package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/audit"
)

// The ledger reads each kind of event the way the accounting, the rollback checks and the
// overdue listings rely on, ignores refusals and events that name nothing, and forgets used
// tokens once expired and disclosures once older than any accounting reaches.
func TestLedgerEvents(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	events := []recordvault.AuditEvent{
		{Time: at(0), Action: "release_decision", Client: "c1", Record: "n1", Release: "r1", Participants: []string{"c1", "c2"}, Accounted: true, Allowed: true},
		{Time: at(1), Action: "release_decision", Client: "c1", Record: "n1", Release: "r2", Allowed: true},                   // not accounted
		{Time: at(2), Action: "release_decision", Client: "c1", Record: "n1", Release: "r3", Accounted: true, Allowed: false}, // refused
		{Time: at(3), Action: "download", Client: "c1", Record: "n1", Release: "r1", Accounted: true, TokenID: "j1", ContentHash: "sha256:ab", Allowed: true},
		{Time: at(4), Action: "download", Client: "c1", Release: "r2", TokenID: "j2", Allowed: true},
		{Time: at(5), Action: "download", Client: "c1", Release: "r2", TokenID: "j3", Allowed: false, Rule: "the token was used before"},
		{Time: at(6), Action: "end_release", Client: "c1", Release: "r2", Allowed: true},
		{Time: at(7), Action: "end_authorization", Client: "c1", Authorization: "a1", Allowed: true},
		{Time: at(8), Action: "amendment_requested", Client: "c1", Record: "n1", Amendment: "m1", Allowed: true},
		{Time: at(9), Action: "amendment_requested", Client: "c1", Record: "n1", Amendment: "m2", Allowed: true},
		{Time: at(10), Action: "amendment_decided", Client: "c1", Record: "n1", Amendment: "m1", Allowed: true},
		{Time: at(11), Action: "access_request_received", Client: "c1", AccessRequest: "q1", Allowed: true},
		{Time: at(12), Action: "access_request_received", Client: "c1", AccessRequest: "q2", Allowed: true},
		{Time: at(13), Action: "access_request_answered", Client: "c1", AccessRequest: "q2", Allowed: true},
		{Time: at(13), Action: "amendment_requested", Client: "c1", Record: "n1", Amendment: "m3", Allowed: true},
		{Time: at(13), Action: "amendment_abandoned", Client: "c1", Record: "n1", Amendment: "m3", Allowed: true},
		{Time: at(13), Action: "access_request_received", Client: "c1", AccessRequest: "q3", Allowed: true},
		{Time: at(13), Action: "access_request_abandoned", Client: "c1", AccessRequest: "q3", Allowed: true},
		{Time: at(13), Action: "release_decision", Client: "c1", Record: "n1", Release: "r5", Accounted: true, Allowed: true},
		{Time: at(13), Action: "release_abandoned", Client: "c1", Record: "n1", Release: "r5", Allowed: true},
		{Time: at(14), Action: "read_record", Client: "c1", Record: "n1", Allowed: true}, // names nothing the ledger keeps
		{Time: at(15), Action: "draft_opened", Client: "c1", Record: "d1", Allowed: true},
		{Time: at(16), Action: "draft_opened", Client: "c1", Record: "d2", Allowed: true},
		{Time: at(17), Action: "draft_signed", Client: "c1", Record: "d1", Allowed: true},
		{Time: at(17), Action: "draft_opened", Client: "c1", Record: "d3", Allowed: true},
		{Time: at(17), Action: "draft_revised", Client: "c1", Record: "d3", Revision: 2, Allowed: true},
		{Time: at(17), Action: "draft_revised", Client: "c1", Record: "d3", Revision: 1, Allowed: true},  // another replica's, read late
		{Time: at(17), Action: "draft_revised", Client: "c1", Record: "d2", Revision: 1, Allowed: false}, // refused: changes nothing
		{Time: at(18), Action: "send_code", Release: "r4", TokenID: "j4", Allowed: true},
		{Time: at(19), Action: "download", Release: "r4", TokenID: "j4", Allowed: false, Rule: ReasonWrongCode},
		{Time: at(20), Action: "download", Release: "r4", TokenID: "j4", Allowed: false, Rule: ReasonWrongCode},
		{Time: at(21), Action: "download", Release: "r4", TokenID: "j4", Allowed: false, Rule: "no one-time code"}, // not a code tried
		{Time: at(22), Action: "send_code", Release: "r4", TokenID: "j4", Allowed: true},
		{Time: at(23), Action: "state_revised", Client: "c1", Revision: 3, Allowed: true},
		{Time: at(24), Action: "state_revised", Client: "c1", Revision: 2, Allowed: true}, // another replica's, read late
		{Time: at(25), Action: "state_revised", Revision: 5, Allowed: true},               // the roster
		{Time: at(26), Action: "release_decision", Actor: "dr-a", Client: "c1", Record: "n1", Release: "w1", Awaits: recordvault.AwaitsResolution},
		{Time: at(26), Action: "release_decision", Actor: "dr-a", Client: "c1", Record: "n1", Release: "w2", Awaits: recordvault.AwaitsReview, Allowed: true},
		{Time: at(26), Action: "release_decision", Actor: "dr-a", Client: "c1", Record: "n1", Release: "w3", Awaits: recordvault.AwaitsReview},
		{Time: at(26), Action: "release_decision", Actor: "dr-a", Client: "c1", Record: "n1", Release: "w4", Awaits: recordvault.AwaitsResolution},
		{Time: at(27), Action: "review_decision", Client: "c1", Record: "n1", Release: "w3"}, // upheld: a refusal, still the end of the wait
		{Time: at(27), Action: "resolve_release", Client: "c1", Record: "n1", Release: "w4", Allowed: true},
	}
	cl := &Clinic{State: newState()}
	for _, e := range events {
		if err := cl.add(e); err != nil {
			t.Fatal(err)
		}
	}
	cl.forget()
	if want := []Approval{{At: at(0), Release: "r1", Client: "c1", Record: "n1", Participants: []string{"c1", "c2"}}}; !reflect.DeepEqual(cl.Approvals, want) {
		t.Errorf("approvals %+v, want %+v", cl.Approvals, want)
	}
	if len(cl.Downloads) != 1 || !slices.Equal(cl.Downloads["r1"], []time.Time{at(3)}) {
		t.Errorf("downloads %v", cl.Downloads)
	}
	if !maps.Equal(cl.Downloaded, map[string]bool{"r1": true, "r2": true}) {
		t.Errorf("downloaded %v", cl.Downloaded)
	}
	if !maps.Equal(cl.Ended, map[string]bool{"r2": true}) || !maps.Equal(cl.Revoked, map[string]bool{"a1": true}) {
		t.Errorf("ended %v, revoked %v", cl.Ended, cl.Revoked)
	}
	if !maps.Equal(cl.Used, map[string]time.Time{"j1": at(3), "j2": at(4)}) {
		t.Errorf("used %v", cl.Used)
	}
	if want := map[string]Waiting{
		"w1": {At: at(26), Client: "c1", Record: "n1", Awaits: recordvault.AwaitsResolution, By: "dr-a"},
		"w2": {At: at(26), Client: "c1", Record: "n1", Awaits: recordvault.AwaitsReview, By: "dr-a"},
	}; !maps.Equal(cl.Waiting, want) {
		t.Errorf("waiting %v, want %v", cl.Waiting, want)
	}
	if want := map[string]Delivery{
		recordvault.CertificationCode("j1"): {At: at(3), Release: "r1", Client: "c1", Record: "n1", ContentHash: "sha256:ab"},
		recordvault.CertificationCode("j2"): {At: at(4), Release: "r2", Client: "c1"},
	}; !maps.Equal(cl.Certified, want) {
		t.Errorf("certified %v, want %v", cl.Certified, want)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(cl.Open)), []string{"m2"}) || !slices.Equal(slices.Sorted(maps.Keys(cl.OpenAccess)), []string{"q1"}) {
		t.Errorf("open amendments %v, open access requests %v", cl.Open, cl.OpenAccess)
	}
	if !maps.Equal(cl.Drafts, map[string]uint64{"d2": 0, "d3": 2}) {
		t.Errorf("drafts %v", cl.Drafts)
	}
	if want := map[string]CodeUse{"j4": {First: at(18), Sends: 2, Failures: 2}}; !maps.Equal(cl.Codes, want) {
		t.Errorf("codes %v, want %v", cl.Codes, want)
	}
	if want := map[string]uint64{"c1": 3, "": 5}; !maps.Equal(cl.Revisions, want) || !slices.Equal(cl.fresh, []revision{{"c1", 3}, {"", 5}}) {
		t.Errorf("revisions %v, fresh %v", cl.Revisions, cl.fresh)
	}

	// 16 minutes on, the tokens are forgotten; six years and two days on, the disclosure and
	// the certification of its copy.
	cl.add(recordvault.AuditEvent{Time: at(4 + usedTokenKept), Action: "read_record", Allowed: true})
	cl.forget()
	if !maps.Equal(cl.Used, map[string]time.Time{"j2": at(4)}) {
		t.Errorf("used after 16 minutes: %v", cl.Used)
	}
	cl.add(recordvault.AuditEvent{Time: t0.AddDate(AccountingYears, 0, 2), Action: "read_record", Allowed: true})
	cl.forget()
	if len(cl.Used) != 0 || len(cl.Codes) != 0 || len(cl.Approvals) != 0 || len(cl.Downloads) != 0 || len(cl.Certified) != 0 || !cl.Ended["r2"] || !cl.Revoked["a1"] {
		t.Errorf("after six years: used %v, approvals %v, downloads %v, certified %v, ended %v, revoked %v", cl.Used, cl.Approvals, cl.Downloads, cl.Certified, cl.Ended, cl.Revoked)
	}
}

// A checkpoint of another format is not taken: the ledger reads the chain from its start.
func TestLedgerCheckpointFormat(t *testing.T) {
	for name, c := range map[string]struct {
		state string
		taken bool
	}{
		"this format":     {fmt.Sprintf(`{"format":%d,"ended":{"r1":true}}`, ledgerFormat), true},
		"an older format": {fmt.Sprintf(`{"format":%d,"ended":{"r1":true}}`, ledgerFormat-1), false},
		"format 2":        {`{"format":2,"ended":{"r1":true},"drafts":{"d1":true}}`, false},
		"no format":       {`{"ended":{"r1":true}}`, false},
		"a later format":  {fmt.Sprintf(`{"format":%d,"ended":{"r1":true}}`, ledgerFormat+1), false},
		"not JSON":        {`{`, false},
	} {
		trail := checkpointTrail{cp: audit.Checkpoint{Head: audit.Head{Blocks: 7, Events: 9, Hash: "ab"}, State: json.RawMessage(c.state)}}
		cl := &Clinic{}
		if err := cl.load(context.Background(), trail, "c1"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if taken := cl.head.Blocks == 7 && cl.Ended["r1"]; taken != c.taken || !cl.loaded || cl.Drafts == nil || cl.Codes == nil {
			t.Errorf("%s: head %+v, ended %v, taken %v; want %v", name, cl.head, cl.Ended, taken, c.taken)
		}
	}
}

// checkpointTrail is a Trail with one checkpoint and nothing else (its other methods are
// not called).
type checkpointTrail struct {
	Trail
	cp audit.Checkpoint
}

func (c checkpointTrail) LoadCheckpoint(context.Context, string, string) (audit.Checkpoint, error) {
	return c.cp, nil
}

// gatedTrail is a Trail of no events whose reads wait at a gate and are counted.
type gatedTrail struct {
	Trail
	entered chan struct{} // a read has begun
	gate    chan struct{} // reads go on once it is closed
	reads   atomic.Int32
}

func (g *gatedTrail) LoadCheckpoint(context.Context, string, string) (audit.Checkpoint, error) {
	return audit.Checkpoint{}, audit.ErrNoCheckpoint
}

func (g *gatedTrail) Scan(_ context.Context, _ string, from audit.Head, _ func(recordvault.AuditEvent) error) (audit.Head, error) {
	g.reads.Add(1)
	g.entered <- struct{}{}
	<-g.gate
	return from, nil
}

// Readers that arrive while the trail is being read wait, then share one read that began
// after they arrived; a reader never takes a read that began before it arrived.
func TestLedgerReadsCoalesce(t *testing.T) {
	trail := &gatedTrail{entered: make(chan struct{}, 100), gate: make(chan struct{})}
	l := New(0, nil)
	read := func() {
		if err := l.Read(context.Background(), trail, "c1", func(*Clinic) {}); err != nil {
			t.Error(err)
		}
	}
	var first, waiting, arrived sync.WaitGroup
	first.Go(read)
	<-trail.entered // the first read is under way: the readers below arrive after it began
	arrived.Add(10)
	l.arrivedHook = arrived.Done
	for range 10 {
		waiting.Go(read)
	}
	arrived.Wait()
	close(trail.gate)
	first.Wait()
	waiting.Wait()
	if n := trail.reads.Load(); n != 2 {
		t.Fatalf("%d reads of the trail for 11 readers, 10 of them arriving during the first; want 2", n)
	}
}
