package clinic

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/policy"
	"github.com/recordvault/recordvault/storage/object"
	"github.com/recordvault/recordvault/vault/vaulttest"
)

// fakeStore keeps profiles, index entries and the roster in memory.
type fakeStore struct {
	mu        sync.Mutex
	profiles  map[string]Profile
	etags     map[string]int
	index     map[string][]string
	staff     *Staff
	failIndex bool
	reads     int // profiles and rosters read
}

var _ Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{profiles: map[string]Profile{}, etags: map[string]int{}, index: map[string][]string{}}
}

func (f *fakeStore) CreateProfile(_ context.Context, p *Profile) (string, error) {
	return f.ReplaceProfile(context.Background(), p, "")
}

func (f *fakeStore) ReplaceProfile(_ context.Context, p *Profile, etag string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if etag != strconv.Itoa(f.etags[p.Client]) && etag != "" {
		return "", object.ErrChanged
	}
	f.profiles[p.Client] = *p
	f.etags[p.Client]++
	return strconv.Itoa(f.etags[p.Client]), nil
}

func (f *fakeStore) DeleteProfile(_ context.Context, _, client string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.profiles, client)
	return nil
}

func (f *fakeStore) ReadProfile(_ context.Context, _, client string) (*Profile, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	p, ok := f.profiles[client]
	if !ok {
		return nil, "", object.ErrNotFound
	}
	return &p, strconv.Itoa(f.etags[client]), nil
}

func (f *fakeStore) ListClients(_ context.Context, _, after string, limit int) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id := range f.profiles {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	return ids, nil
}

func (f *fakeStore) AddIndex(_ context.Context, _, index, client string) error {
	if f.failIndex {
		return errors.New("storage down")
	}
	f.index[index] = append(f.index[index], client)
	return nil
}

func (f *fakeStore) RemoveIndex(_ context.Context, _, index, client string) error {
	f.index[index] = slices.DeleteFunc(f.index[index], func(c string) bool { return c == client })
	return nil
}

func (f *fakeStore) FindIndex(_ context.Context, _, index string) ([]string, error) {
	return slices.Compact(slices.Sorted(slices.Values(f.index[index]))), nil
}

func (f *fakeStore) ReadStaff(_ context.Context, clinic string) (*Staff, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.staff == nil {
		return &Staff{Clinic: clinic}, "", nil
	}
	st := *f.staff
	return &st, "1", nil
}

func (f *fakeStore) WriteStaff(_ context.Context, st *Staff, _ string) (string, error) {
	f.staff = st
	return "1", nil
}

func (f *fakeStore) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// testClock is a clock a test moves.
type testClock struct{ t time.Time }

func newTestClock() *testClock           { return &testClock{t: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)} }
func (c *testClock) now() time.Time      { return c.t }
func (c *testClock) add(d time.Duration) { c.t = c.t.Add(d) }

var jo = recordvault.Identity{FullName: "José Álvarez", DateOfBirth: "2011-03-04", Email: "jo@example.test"}

func TestCreateFindAndRead(t *testing.T) {
	ctx := context.Background()
	svc := New(vaulttest.Keyring{}, newFakeStore(), nil)
	c, err := svc.CreateClient(ctx, "c1", jo, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Decomposed accents, other case, extra spaces: the same person.
	for _, name := range []string{"José Álvarez", "JOSE\u0301  a\u0301lvarez ", "josé álvarez"} {
		found, err := svc.FindClients(ctx, "c1", name, "2011-03-04")
		if err != nil || !slices.Equal(found, []string{c.ID}) {
			t.Errorf("find %q: %v, %v", name, found, err)
		}
	}
	for _, miss := range [][2]string{{"Jose Alvarez", "2011-03-04"}, {"José Álvarez", "2011-03-05"}} {
		if found, _ := svc.FindClients(ctx, "c1", miss[0], miss[1]); len(found) != 0 {
			t.Errorf("find %q: %v", miss, found)
		}
	}
	loaded, err := svc.LoadClient(ctx, "c1", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := svc.Identity(ctx, loaded); err != nil || got != jo {
		t.Fatalf("identity: %+v, %v", got, err)
	}
}

// No identity value reaches the stored profile in plain form, nor an error message.
func TestIdentityIsSealed(t *testing.T) {
	store := newFakeStore()
	c, err := New(vaulttest.Keyring{}, store, nil).CreateClient(context.Background(), "c1", jo, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := store.profiles[c.ID]
	for _, v := range jo.Fields() {
		for name, sealed := range p.Fields {
			if strings.Contains(string(sealed), v) {
				t.Errorf("field %s holds %q in plain", name, v)
			}
		}
	}
	bad := recordvault.Identity{FullName: "Secret Name\x00", DateOfBirth: "tomorrow"}
	_, err = New(vaulttest.Keyring{}, store, nil).CreateClient(context.Background(), "c1", bad, nil)
	if recordvault.ErrorCode(err) != recordvault.EINVALID || strings.Contains(err.Error(), "Secret") || strings.Contains(err.Error(), "tomorrow") {
		t.Fatalf("invalid identity: %v", err)
	}
}

func TestCreateRemovesProfileWhenIndexFails(t *testing.T) {
	store := newFakeStore()
	store.failIndex = true
	if _, err := New(vaulttest.Keyring{}, store, nil).CreateClient(context.Background(), "c1", jo, nil); err == nil {
		t.Fatal("create succeeded")
	}
	if len(store.profiles) != 0 {
		t.Fatalf("%d profiles left", len(store.profiles))
	}
}

// A care team names clinicians of the roster, each once; a change made on a stale load is
// a conflict.
func TestCareTeam(t *testing.T) {
	ctx := context.Background()
	svc := New(vaulttest.Keyring{}, newFakeStore(), nil)
	for _, sub := range []string{"dr-lee", "dr-patel"} {
		if err := svc.PutClinician(ctx, "c1", recordvault.Clinician{Subject: sub, Name: sub, Licensed: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.PutClinician(ctx, "c1", recordvault.Clinician{Subject: "dr lee", Name: "x"}); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Fatalf("subject with a space: %v", err)
	}
	for _, team := range [][]string{{"dr-nobody"}, {"dr-lee", "dr-lee"}} {
		if _, err := svc.CreateClient(ctx, "c1", jo, team); recordvault.ErrorCode(err) != recordvault.EINVALID {
			t.Errorf("team %v: %v", team, err)
		}
	}
	c, err := svc.CreateClient(ctx, "c1", jo, []string{"dr-lee"})
	if err != nil {
		t.Fatal(err)
	}
	stale, _ := svc.LoadClient(ctx, "c1", c.ID)
	if err := svc.SetCareTeam(ctx, c, []string{"dr-lee", "dr-patel"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetCareTeam(ctx, stale, nil); recordvault.ErrorCode(err) != recordvault.ECONFLICT {
		t.Fatalf("stale care team change: %v", err)
	}
	now, _ := svc.LoadClient(ctx, "c1", c.ID)
	if !slices.Equal(now.CareTeam, []string{"dr-lee", "dr-patel"}) {
		t.Fatalf("care team = %v", now.CareTeam)
	}
}

// A client's account is found by its subject, relinking moves it, and one subject is never
// two clients' account.
func TestLinkAccount(t *testing.T) {
	ctx := context.Background()
	s := New(vaulttest.Keyring{}, newFakeStore(), nil)
	a, err := s.CreateClient(ctx, "c", recordvault.Identity{FullName: "A", DateOfBirth: "1990-01-01"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateClient(ctx, "c", recordvault.Identity{FullName: "B", DateOfBirth: "1990-01-01"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := s.ClientOfAccount(ctx, "c", "login-a"); err != nil || id != "" {
		t.Fatalf("before linking: %q, %v", id, err)
	}
	if err := s.LinkAccount(ctx, a, "login-a"); err != nil {
		t.Fatal(err)
	}
	if id, err := s.ClientOfAccount(ctx, "c", "login-a"); err != nil || id != a.ID {
		t.Fatalf("linked: %q, %v", id, err)
	}
	if err := s.LinkAccount(ctx, b, "login-a"); recordvault.ErrorCode(err) != recordvault.ECONFLICT {
		t.Fatalf("another client's account: %v", err)
	}
	if err := s.LinkAccount(ctx, a, "login-a2"); err != nil {
		t.Fatal(err)
	}
	if id, _ := s.ClientOfAccount(ctx, "c", "login-a"); id != "" {
		t.Fatalf("the old subject still finds %q", id)
	}
	if id, _ := s.ClientOfAccount(ctx, "c", "login-a2"); id != a.ID {
		t.Fatalf("the new subject finds %q", id)
	}
}

// A removed clinician leaves the roster and every care team.
func TestRemoveClinician(t *testing.T) {
	ctx := context.Background()
	s := New(vaulttest.Keyring{}, newFakeStore(), nil)
	for _, sub := range []string{"dr-lee", "dr-patel"} {
		if err := s.PutClinician(ctx, "c", recordvault.Clinician{Subject: sub, Name: sub, Licensed: true}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := s.CreateClient(ctx, "c", recordvault.Identity{FullName: "A", DateOfBirth: "1990-01-01"}, []string{"dr-lee", "dr-patel"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateClient(ctx, "c", recordvault.Identity{FullName: "B", DateOfBirth: "1990-01-01"}, []string{"dr-patel"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveClinician(ctx, "c", "dr-lee"); err != nil {
		t.Fatal(err)
	}
	roster, _ := s.Clinicians(ctx, "c")
	if len(roster) != 1 || roster[0].Subject != "dr-patel" {
		t.Fatalf("roster: %+v", roster)
	}
	for _, id := range []string{a.ID, b.ID} {
		c, err := s.LoadClient(ctx, "c", id)
		if err != nil || slices.Contains(c.CareTeam, "dr-lee") || !slices.Contains(c.CareTeam, "dr-patel") {
			t.Fatalf("care team of %s: %v %v", id, err, c)
		}
	}
}

// A parent with two children: their login finds both, and what the clinic knows of it with
// each; unlinked from one, it finds the other only. A client's own login is not a
// representative's, nor the other way round.
func TestRepresentatives(t *testing.T) {
	ctx := context.Background()
	s := New(vaulttest.Keyring{}, newFakeStore(), nil)
	var kids []*Client
	for _, name := range []string{"Sam", "Ria"} {
		c, err := s.CreateClient(ctx, "c", recordvault.Identity{FullName: name, DateOfBirth: "2015-01-01"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, c)
	}
	if err := s.LinkAccount(ctx, kids[0], "sam-login"); err != nil {
		t.Fatal(err)
	}
	for i, c := range kids {
		rep := Representative{Representation: policy.Representation{Relationship: "parent", MinorInformed: i == 0}}
		if err := s.LinkRepresentative(ctx, c, "parent-login", rep); err != nil {
			t.Fatal(err)
		}
	}
	found, err := s.Represented(ctx, "c", "parent-login")
	if err != nil || len(found) != 2 {
		t.Fatalf("the parent's children: %d, %v", len(found), err)
	}
	if rep, ok, err := s.RepresentativeOf(ctx, found[slices.IndexFunc(found, func(c *Client) bool { return c.ID == kids[0].ID })], "parent-login"); err != nil || !ok ||
		rep.Relationship != "parent" || !rep.MinorInformed {
		t.Fatalf("what is known of the parent for Sam: %+v %v %v", rep, ok, err)
	}
	if got, _ := s.Represented(ctx, "c", "sam-login"); len(got) != 0 {
		t.Errorf("the child's own login represents %d", len(got))
	}
	if id, _ := s.ClientOfAccount(ctx, "c", "parent-login"); id != "" {
		t.Errorf("the parent's login is %q's own account", id)
	}
	if err := s.UnlinkRepresentative(ctx, kids[1], "parent-login"); err != nil {
		t.Fatal(err)
	}
	if err := s.UnlinkRepresentative(ctx, kids[1], "parent-login"); !errors.Is(err, recordvault.ErrNotFound) {
		t.Errorf("unlinked twice: %v", err)
	}
	if got, err := s.Represented(ctx, "c", "parent-login"); err != nil || len(got) != 1 || got[0].ID != kids[0].ID {
		t.Fatalf("after unlinking Ria: %d, %v", len(got), err)
	}
}
