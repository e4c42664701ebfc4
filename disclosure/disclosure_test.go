package disclosure

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/storage/object"
	"github.com/recordvault/recordvault/vault/vaulttest"
)

// fakeStore keeps documents in memory, marshalled as the bucket would hold them.
type fakeStore struct {
	mu    sync.Mutex
	docs  map[string][]byte // client/id → JSON
	etags map[string]int
}

var _ Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore { return &fakeStore{docs: map[string][]byte{}, etags: map[string]int{}} }

func (f *fakeStore) CreateDisclosure(ctx context.Context, d *Stored) (string, error) {
	return f.ReplaceDisclosure(ctx, d, "")
}

func (f *fakeStore) ReplaceDisclosure(_ context.Context, d *Stored, etag string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := d.Client + "/" + d.Kind + "/" + d.ID
	if _, exists := f.docs[k]; (etag == "" && exists) || (etag != "" && etag != strconv.Itoa(f.etags[k])) {
		return "", object.ErrChanged
	}
	d.Version = 1
	f.docs[k], _ = json.Marshal(d)
	f.etags[k]++
	return strconv.Itoa(f.etags[k]), nil
}

func (f *fakeStore) ReadDisclosure(_ context.Context, _, client, kind, id string) (*Stored, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.docs[client+"/"+kind+"/"+id]
	if !ok {
		return nil, "", object.ErrNotFound
	}
	var d Stored
	err := json.Unmarshal(b, &d)
	return &d, strconv.Itoa(f.etags[client+"/"+kind+"/"+id]), err
}

func (f *fakeStore) ListDisclosures(_ context.Context, _, client, kind string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for k := range f.docs {
		if id, ok := strings.CutPrefix(k, client+"/"+kind+"/"); ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (f *fakeStore) UseToken(context.Context, string, string, []byte) error { return nil }
func (f *fakeStore) ReadTokenUse(context.Context, string, string) ([]byte, error) {
	return nil, object.ErrNotFound
}

// edit changes a stored authorization as someone with write access to the bucket could.
func (f *fakeStore) edit(client, id string, change func(*Stored)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var d Stored
	_ = json.Unmarshal(f.docs[client+"/authorization/"+id], &d)
	change(&d)
	f.docs[client+"/authorization/"+id], _ = json.Marshal(&d)
}

type note struct {
	Text string `json:"text"`
}

func TestCreateLoadUpdateList(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	s := New(vaulttest.Keyring{}, vaulttest.Keyring{}, store, nil)
	a, err := s.Create(ctx, "c", "p", recordvault.NewID(), "authorization", "active", note{"first"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "c", "p", recordvault.NewID(), "release", "approved", note{"other kind"}); err != nil {
		t.Fatal(err)
	}
	stale, err := s.Load(ctx, "c", "p", a.ID, "authorization")
	if err != nil || string(stale.Body) != `{"text":"first"}` {
		t.Fatalf("load: %v, %s", err, stale.Body)
	}
	if _, err := s.Load(ctx, "c", "p", a.ID, "release"); !errors.Is(err, recordvault.ErrNotFound) {
		t.Fatalf("loaded as another kind: %v", err)
	}
	if _, err := s.Load(ctx, "c", "q", a.ID, "authorization"); !errors.Is(err, recordvault.ErrNotFound) {
		t.Fatalf("loaded through another client: %v", err)
	}
	if err := s.Update(ctx, a, "revoked", note{"revoked"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, stale, "active", note{"behind"}); recordvault.ErrorCode(err) != recordvault.ECONFLICT {
		t.Fatalf("update from a stale load: %v", err)
	}
	docs, err := s.List(ctx, "c", "p", "authorization")
	if err != nil || len(docs) != 1 || docs[0].Status != "revoked" || string(docs[0].Body) != `{"text":"revoked"}` {
		t.Fatalf("list: %v, %+v", err, docs)
	}
}

// A document's clear description is checked against its seal, and a seal cannot be moved to
// another client, id or kind.
func TestEditsInTheBucketAreRefused(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	s := New(vaulttest.Keyring{}, vaulttest.Keyring{}, store, nil)
	a, err := s.Create(ctx, "c", "p", recordvault.NewID(), "authorization", "revoked", note{"x"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Create(ctx, "c", "p", recordvault.NewID(), "authorization", "active", note{"y"})
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(d *Stored){
		"status":      func(d *Stored) { d.Status = "active" },
		"body swap":   func(d *Stored) { d.Body, d.WrappedKey = b.d.Body, b.d.WrappedKey },
		"key":         func(d *Stored) { d.TransitKey = "rv-c-progress-note" },
		"sealed body": func(d *Stored) { d.Body = append([]byte{}, d.Body...); d.Body[len(d.Body)-1] ^= 1 },
	} {
		original, _ := json.Marshal(a.d)
		store.edit("p", a.ID, edit)
		if _, err := s.Load(ctx, "c", "p", a.ID, "authorization"); !errors.Is(err, ErrUnreadable) {
			t.Errorf("%s edited: %v", name, err)
		}
		store.mu.Lock()
		store.docs["p/authorization/"+a.ID] = original
		store.mu.Unlock()
	}
	moved := *a.d
	moved.Client = "q"
	if _, err := store.CreateDisclosure(ctx, &moved); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, "c", "q", a.ID, "authorization"); !errors.Is(err, ErrUnreadable) {
		t.Errorf("moved to another client: %v", err)
	}
}
