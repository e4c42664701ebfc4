package clinic

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/vault/vaulttest"
)

// countingKeyring counts the HMAC calls made of the stand-in keyring.
type countingKeyring struct {
	vaulttest.Keyring
	hmacs atomic.Int64
}

func (k *countingKeyring) HMAC(ctx context.Context, keyName string, input []byte) ([]byte, error) {
	k.hmacs.Add(1)
	return k.Keyring.HMAC(ctx, keyName, input)
}

// Every change to a stored profile or roster made outside the service is refused when read,
// whether the reading process vouched for the earlier content or never saw it; and a tag
// cannot be carried over from another object. A process that keeps a checked copy decides on
// that copy, never on the edit, and refuses the edit once the copy expires. (Putting back an
// earlier genuine version, tag and all, is rollback: docs/THREAT_MODEL.md.)
func TestTamperedStateRefused(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	clock := newTestClock()
	svc := New(vaulttest.Keyring{}, store, clock.now)
	for _, sub := range []string{"dr-lee", "dr-mallory"} {
		if err := svc.PutClinician(ctx, "c1", recordvault.Clinician{Subject: sub, Name: sub}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := svc.CreateClient(ctx, "c1", jo, []string{"dr-lee"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.LinkAccount(ctx, a, "login-jo"); err != nil {
		t.Fatal(err)
	}
	b, err := svc.CreateClient(ctx, "c1", recordvault.Identity{FullName: "B", DateOfBirth: "1990-01-01"}, []string{"dr-mallory"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.LinkAccount(ctx, b, "login-mallory"); err != nil {
		t.Fatal(err)
	}
	genuine := store.profiles[a.ID]
	profileEdits := map[string]func(p *Profile){
		"joins the care team":      func(p *Profile) { p.CareTeam = append(p.CareTeam, "dr-mallory") },
		"replaces the care team":   func(p *Profile) { p.CareTeam = []string{"dr-mallory"} },
		"empties the care team":    func(p *Profile) { p.CareTeam = nil },
		"takes another's account":  func(p *Profile) { p.Account = store.profiles[b.ID].Account },
		"changes the blind index":  func(p *Profile) { p.Index = store.profiles[b.ID].Index },
		"swaps the wrapped key":    func(p *Profile) { p.WrappedKey = store.profiles[b.ID].WrappedKey },
		"moves the creation date":  func(p *Profile) { p.Created = p.Created.AddDate(-1, 0, 0) },
		"copies another's tag":     func(p *Profile) { p.CareTeam, p.Tag = []string{"dr-mallory"}, store.profiles[b.ID].Tag },
		"takes another's content":  func(p *Profile) { *p = store.profiles[b.ID]; p.Client = a.ID },
		"drops an identity field":  func(p *Profile) { p.Fields = map[string][]byte{} },
		"renames the transit key":  func(p *Profile) { p.TransitKey = "rv-c1-progress-note" },
		"adds a field of its own":  func(p *Profile) { p.Fields = map[string][]byte{"email": []byte("x")} },
		"moves to another clinic":  func(p *Profile) { p.Clinic = "c2" },
		"reorders the care team":   func(p *Profile) { p.CareTeam = []string{"dr-mallory", "dr-lee"} },
		"adds a second care team":  func(p *Profile) { p.CareTeam = []string{"dr-lee", "dr-lee"} },
		"sets the account of none": func(p *Profile) { p.Account = p.Index },
	}
	for name, edit := range profileEdits {
		store.profiles[a.ID] = genuine
		if _, err := svc.LoadClient(ctx, "c1", a.ID); err != nil { // the writer keeps a checked copy
			t.Fatal(err)
		}
		p := genuine
		p.Fields = map[string][]byte{}
		for k, v := range genuine.Fields {
			p.Fields[k] = v
		}
		edit(&p)
		store.profiles[a.ID] = p
		if got, err := svc.LoadClient(ctx, "c1", a.ID); err != nil || got.p.Digest() != genuine.Digest() {
			t.Errorf("%s, read by the writer holding a checked copy: %v, %v; want the copy", name, got, err)
		}
		clock.add(KeptFor)
		if _, err := svc.LoadClient(ctx, "c1", a.ID); !errors.Is(err, ErrTampered) {
			t.Errorf("%s, read by the writer once its copy expired: %v", name, err)
		}
		if _, err := New(vaulttest.Keyring{}, store, nil).LoadClient(ctx, "c1", a.ID); !errors.Is(err, ErrTampered) {
			t.Errorf("%s, read by a fresh process: %v", name, err)
		}
	}
	// Content once tagged is genuine whatever its tag field says; a process that has not seen
	// it checks the tag.
	for name, tag := range map[string]string{"no tag": "", "a bit flipped": string(genuine.Tag[0]^1) + genuine.Tag[1:]} {
		p := genuine
		p.Tag = tag
		store.profiles[a.ID] = p
		if _, err := New(vaulttest.Keyring{}, store, nil).LoadClient(ctx, "c1", a.ID); !errors.Is(err, ErrTampered) {
			t.Errorf("genuine content with %s, read by a fresh process: %v", name, err)
		}
	}
	store.profiles[a.ID] = genuine
	if _, err := New(vaulttest.Keyring{}, store, nil).LoadClient(ctx, "c1", a.ID); err != nil {
		t.Fatalf("genuine profile: %v", err)
	}

	// The roster: licensing oneself is refused, and the edit is not made good by the next
	// change the service makes to the roster, which starts from what is stored.
	if _, err := svc.Clinicians(ctx, "c1"); err != nil { // the writer keeps a checked copy
		t.Fatal(err)
	}
	st := *store.staff
	st.Clinicians = []recordvault.Clinician{{Subject: "dr-lee", Name: "dr-lee"}, {Subject: "dr-mallory", Name: "dr-mallory", Licensed: true}}
	store.staff = &st
	if got, err := svc.Clinicians(ctx, "c1"); err != nil || len(got) != 2 || got[1].Licensed {
		t.Errorf("the roster read by the writer holding a checked copy: %+v, %v; want the copy", got, err)
	}
	if err := svc.PutClinician(ctx, "c1", recordvault.Clinician{Subject: "dr-new", Name: "dr-new"}); !errors.Is(err, ErrTampered) {
		t.Errorf("roster change on a tampered roster, by the writer holding a checked copy: %v", err)
	}
	clock.add(KeptFor)
	for _, reader := range []*Service{svc, New(vaulttest.Keyring{}, store, nil)} {
		if _, err := reader.Clinicians(ctx, "c1"); !errors.Is(err, ErrTampered) {
			t.Errorf("licensed by a bucket edit: %v", err)
		}
		if err := reader.PutClinician(ctx, "c1", recordvault.Clinician{Subject: "dr-new", Name: "dr-new"}); !errors.Is(err, ErrTampered) {
			t.Errorf("roster change on a tampered roster: %v", err)
		}
		if _, err := reader.CreateClient(ctx, "c1", jo, []string{"dr-lee"}); !errors.Is(err, ErrTampered) {
			t.Errorf("care team checked against a tampered roster: %v", err)
		}
	}
	if store.staff.Clinicians[1].Licensed != true || len(store.staff.Clinicians) != 2 {
		t.Fatalf("the tampered roster was rewritten: %+v", store.staff.Clinicians)
	}
}

// Content this process tagged or checked is not checked again: an access decision about an
// unchanged client costs no Vault call. A changed profile is checked once.
func TestStateCheckedOnce(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	keys := &countingKeyring{}
	writer := New(keys, store, nil)
	c, err := writer.CreateClient(ctx, "c1", jo, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := newTestClock()
	reader := New(keys, store, clock.now)
	for _, step := range []struct {
		svc   *Service
		calls int64
	}{{writer, 0}, {reader, 1}, {reader, 0}, {reader, 0}} {
		before := keys.hmacs.Load()
		if _, err := step.svc.LoadClient(ctx, "c1", c.ID); err != nil {
			t.Fatal(err)
		}
		if got := keys.hmacs.Load() - before; got != step.calls {
			t.Fatalf("%d HMAC calls to load, want %d", got, step.calls)
		}
	}
	if err := writer.LinkAccount(ctx, c, "login-jo"); err != nil {
		t.Fatal(err)
	}
	clock.add(KeptFor) // the reader's copy expires: it reads the changed profile
	before := keys.hmacs.Load()
	for range 3 {
		if _, err := reader.LoadClient(ctx, "c1", c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := keys.hmacs.Load() - before; got != 1 {
		t.Fatalf("%d HMAC calls for three loads of a changed profile, want 1", got)
	}
}

// The set of vouched-for digests stays bounded.
func TestKnownStatesBounded(t *testing.T) {
	tags := newStateTags(vaulttest.Keyring{})
	for i := range maxKnownStates + 100 {
		tags.remember([32]byte{byte(i), byte(i >> 8), byte(i >> 16)})
	}
	if len(tags.known) != maxKnownStates {
		t.Fatalf("%d digests remembered, bound %d", len(tags.known), maxKnownStates)
	}
}

// teamOfTwo has writer put dr-lee and dr-mallory on clinic c1's roster, licensed, and
// create a client with both on the care team.
func teamOfTwo(t *testing.T, writer *Service) *Client {
	t.Helper()
	ctx := context.Background()
	for _, sub := range []string{"dr-lee", "dr-mallory"} {
		if err := writer.PutClinician(ctx, "c1", recordvault.Clinician{Subject: sub, Name: sub, Licensed: true}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := writer.CreateClient(ctx, "c1", jo, []string{"dr-lee", "dr-mallory"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// An older genuine profile or roster put back by a bucket writer, tag and all, is refused by
// a process that has seen the later revision, whether it wrote it or read it, once the copy
// it keeps of that revision expires (until then it decides on the copy); a process that has
// seen neither cannot tell (docs/THREAT_MODEL.md).
func TestRolledBackStateRefused(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	clock := newTestClock()
	writer := New(vaulttest.Keyring{}, store, clock.now)
	reader := New(vaulttest.Keyring{}, store, clock.now)
	c := teamOfTwo(t, writer)
	withMallory, roster := store.profiles[c.ID], *store.staff
	if _, err := reader.LoadClient(ctx, "c1", c.ID); err != nil {
		t.Fatal(err)
	}
	if err := writer.SetCareTeam(ctx, c, []string{"dr-lee"}); err != nil {
		t.Fatal(err)
	}
	if err := writer.PutClinician(ctx, "c1", recordvault.Clinician{Subject: "dr-mallory", Name: "dr-mallory"}); err != nil { // licence lapsed
		t.Fatal(err)
	}
	if got := store.profiles[c.ID].Revision; got != withMallory.Revision+1 {
		t.Fatalf("revision %d after one change of %d", got, withMallory.Revision)
	}
	clock.add(KeptFor)                               // the reader's copy of the earlier revision expires (no log tells it of the change)
	for _, svc := range []*Service{writer, reader} { // both read the later revision, and keep it
		if _, err := svc.LoadClient(ctx, "c1", c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Clinicians(ctx, "c1"); err != nil {
			t.Fatal(err)
		}
	}

	store.profiles[c.ID], store.staff = withMallory, &roster // put back, tags and all
	for name, svc := range map[string]*Service{"writer": writer, "reader": reader} {
		if got, err := svc.LoadClient(ctx, "c1", c.ID); err != nil || slices.Contains(got.CareTeam, "dr-mallory") {
			t.Errorf("the rolled-back profile, read by the %s holding a copy of the later one: %v, %v; want the copy", name, got, err)
		}
		if got, err := svc.Clinicians(ctx, "c1"); err != nil || got[1].Licensed {
			t.Errorf("the rolled-back roster, read by the %s holding a copy of the later one: %v, %v; want the copy", name, got, err)
		}
	}
	clock.add(KeptFor)
	for name, svc := range map[string]*Service{"writer": writer, "reader": reader} {
		if _, err := svc.LoadClient(ctx, "c1", c.ID); !errors.Is(err, ErrTampered) {
			t.Errorf("the rolled-back profile, read by the %s: %v", name, err)
		}
		if _, err := svc.Clinicians(ctx, "c1"); !errors.Is(err, ErrTampered) {
			t.Errorf("the rolled-back roster, read by the %s: %v", name, err)
		}
	}
	if got, err := New(vaulttest.Keyring{}, store, nil).LoadClient(ctx, "c1", c.ID); err != nil || !slices.Contains(got.CareTeam, "dr-mallory") {
		t.Fatalf("a process that saw no later revision: %v, %v (the limit this test documents)", got, err)
	}
}

// sharedLog is a RevisionLog every process reads (as the audit trail is): each process's view
// passes what was logged to that process when it recalls.
type sharedLog struct {
	mu      sync.Mutex
	logged  []loggedRevision
	recalls int
}

type loggedRevision struct {
	clinic, client string
	revision       uint64
}

type logView struct {
	*sharedLog
	svc *Service
}

func (v logView) Revised(_ context.Context, clinic, client string, revision uint64) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.logged = append(v.logged, loggedRevision{clinic, client, revision})
	return nil
}

func (v logView) Recall(_ context.Context, clinic string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.recalls++
	for _, r := range v.logged {
		if r.clinic == clinic {
			v.svc.Witness(r.clinic, r.client, r.revision)
		}
	}
	return nil
}

// A process learns another replica's revisions at most a second after it last recalled: a
// care team changed elsewhere and rolled back in the bucket is refused here once that second
// has passed, without this process reading the trail for anything else; within the second,
// no more than one recall is made however many reads there are.
func TestOtherReplicasRevisionsRecalled(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	log := &sharedLog{}
	clock := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	writer := New(vaulttest.Keyring{}, store, nil)
	writer.UseRevisionLog(logView{log, writer})
	reader := New(vaulttest.Keyring{}, store, func() time.Time { return clock })
	reader.UseRevisionLog(logView{log, reader})
	c := teamOfTwo(t, writer)
	withMallory := store.profiles[c.ID]
	if _, err := reader.LoadClient(ctx, "c1", c.ID); err != nil {
		t.Fatal(err)
	}
	if err := writer.SetCareTeam(ctx, c, []string{"dr-lee"}); err != nil { // elsewhere
		t.Fatal(err)
	}
	store.profiles[c.ID] = withMallory // put back, tag and all

	recalls := log.recalls
	clock = clock.Add(500 * time.Millisecond)
	for range 3 {
		if got, err := reader.LoadClient(ctx, "c1", c.ID); err != nil || !slices.Contains(got.CareTeam, "dr-mallory") {
			t.Fatalf("within the second: %v, %v (the limit this test documents)", got, err)
		}
	}
	if log.recalls != recalls {
		t.Fatalf("%d recalls within the second", log.recalls-recalls)
	}
	clock = clock.Add(600 * time.Millisecond)
	if _, err := reader.LoadClient(ctx, "c1", c.ID); !errors.Is(err, ErrTampered) {
		t.Fatalf("a second on, the rolled-back care team: %v", err)
	}
}

// A checked profile or roster is kept: deciding on it again reads nothing from the bucket. A
// change made by another replica is seen once its revision is recalled from the log (within
// recallEvery), and one whose revision never reached the log once the copy is KeptFor old.
func TestCheckedStateKept(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	log := &sharedLog{}
	clock := newTestClock()
	writer := New(vaulttest.Keyring{}, store, nil)
	writer.UseRevisionLog(logView{log, writer})
	reader := New(vaulttest.Keyring{}, store, clock.now)
	reader.UseRevisionLog(logView{log, reader})
	c := teamOfTwo(t, writer)

	load := func() *Client {
		t.Helper()
		got, err := reader.LoadClient(ctx, "c1", c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reader.Clinicians(ctx, "c1"); err != nil {
			t.Fatal(err)
		}
		return got
	}
	reads := store.readCount()
	load()
	if got := store.readCount() - reads; got != 2 {
		t.Fatalf("%d reads to load a client and the roster first, want 2", got)
	}
	reads = store.readCount()
	for range 5 {
		load()
	}
	if got := store.readCount() - reads; got != 0 {
		t.Fatalf("%d reads to load them five times more, want 0", got)
	}

	if err := writer.SetCareTeam(ctx, c, []string{"dr-lee"}); err != nil { // elsewhere, logged
		t.Fatal(err)
	}
	clock.add(recallEvery)
	if got := load(); !slices.Equal(got.CareTeam, []string{"dr-lee"}) {
		t.Fatalf("care team %v a recall after a logged change, want [dr-lee]", got.CareTeam)
	}

	writer.UseRevisionLog(nil) // a replica that stores a change and fails before logging it
	if err := writer.SetCareTeam(ctx, c, []string{"dr-lee", "dr-mallory"}); err != nil {
		t.Fatal(err)
	}
	clock.add(KeptFor - time.Millisecond)
	if got := load(); !slices.Equal(got.CareTeam, []string{"dr-lee"}) {
		t.Fatalf("care team %v within KeptFor of an unlogged change: want the copy (the limit this test documents)", got.CareTeam)
	}
	clock.add(2 * time.Millisecond)
	if got := load(); !slices.Equal(got.CareTeam, []string{"dr-lee", "dr-mallory"}) {
		t.Fatalf("care team %v KeptFor after an unlogged change, want both", got.CareTeam)
	}
}

// The kept copies stay bounded.
func TestKeptStateBounded(t *testing.T) {
	k := &kept{entries: map[string]keptState{}}
	for i := range maxKept + 100 {
		k.keep(strconv.Itoa(i), keptState{revision: 1})
	}
	if len(k.entries) != maxKept {
		t.Fatalf("%d copies kept, bound %d", len(k.entries), maxKept)
	}
}
