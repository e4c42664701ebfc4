package storage_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/recordvault/recordvault/storage"
	"github.com/recordvault/recordvault/storage/object"
	"github.com/recordvault/recordvault/storage/s3fake"
)

func newFakeStore(t *testing.T) *storage.Store {
	t.Helper()
	s, _ := newFakeServer(t)
	return s
}

// newFakeServer is newFakeStore with its fake endpoint, for a test that acts on the endpoint.
func newFakeServer(t *testing.T) (*storage.Store, *s3fake.Server) {
	t.Helper()
	fake := s3fake.New()
	t.Cleanup(fake.Close)
	s, err := storage.New(storage.Config{Endpoint: fake.Endpoint(), AccessKey: "k", SecretKey: "secret-key", Bucket: "objects", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, fake
}

// The conditional writes and bounded reads every domain package builds on: a second create
// is refused, a replace naming a stale ETag is refused, a read past its limit is refused, a
// missing object is object.ErrNotFound, and a key outside the alphabet never reaches storage.
func TestObjectsConditional(t *testing.T) {
	ctx := t.Context()
	s := newFakeStore(t)
	etag, err := s.Create(ctx, "c/x/staff", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "c/x/staff", []byte("two")); !errors.Is(err, object.ErrExists) {
		t.Errorf("second create: %v", err)
	}
	next, err := s.Replace(ctx, "c/x/staff", []byte("three"), etag)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replace(ctx, "c/x/staff", []byte("four"), etag); !errors.Is(err, object.ErrChanged) {
		t.Errorf("replace naming a stale ETag: %v", err)
	}
	if body, got, err := s.Read(ctx, "c/x/staff", 5); err != nil || string(body) != "three" || got != next {
		t.Errorf("read: %q %q %v", body, got, err)
	}
	if _, _, err := s.Read(ctx, "c/x/staff", 4); !errors.Is(err, object.ErrTooLarge) {
		t.Errorf("read past its limit: %v", err)
	}
	if _, _, err := s.Read(ctx, "c/x/none", 5); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("read of nothing: %v", err)
	}
	for _, key := range []string{"c/x/Jane Doe", "c/../x", "/c/x"} {
		if _, err := s.Create(ctx, key, nil); err == nil || errors.Is(err, object.ErrExists) {
			t.Errorf("create at %q: %v", key, err)
		}
	}
	if err := s.Delete(ctx, "c/x/staff"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "c/x/staff"); err != nil {
		t.Errorf("deleting what is not there: %v", err)
	}
}

// A listing names what is one level under its prefix, objects as they are and deeper levels
// with their slash, in key order; it pages after a name (a level's whole content included)
// and stops at its limit.
func TestObjectsList(t *testing.T) {
	ctx := t.Context()
	s := newFakeStore(t)
	for _, key := range []string{"c/x/p/a/profile", "c/x/p/a/r/1", "c/x/p/b/profile", "c/x/p/c/r/2", "c/x/p/obj", "c/y/p/z/profile"} {
		if _, err := s.Create(ctx, key, []byte("-")); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		prefix, after string
		limit         int
		want          []string
	}{
		{"c/x/p/", "", 0, []string{"a/", "b/", "c/", "obj"}},
		{"c/x/p/", "a/", 0, []string{"b/", "c/", "obj"}},
		{"c/x/p/", "a/", 1, []string{"b/"}},
		{"c/x/p/", "c/", 0, []string{"obj"}},
		{"c/x/p/a/", "", 0, []string{"profile", "r/"}},
		{"c/x/p/a/r/", "", 0, []string{"1"}},
		{"c/x/p/a/r/", "1", 0, nil},
		{"c/q/", "", 0, nil},
	} {
		got, err := s.List(ctx, c.prefix, c.after, c.limit)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("List(%q, %q, %d) = %q, %v; want %q", c.prefix, c.after, c.limit, got, err, c.want)
		}
	}
	for _, bad := range [][2]string{{"c/x/p", ""}, {"c/x/p/", "A"}, {"c/x/p/", "../"}, {"c/X/", ""}} {
		if _, err := s.List(ctx, bad[0], bad[1], 0); err == nil {
			t.Errorf("List(%q, %q) taken", bad[0], bad[1])
		}
	}
}

// A version stranded by a refused write (listed and readable by its version id, while its key
// reads as absent) is written again by Reinstate when it is the bytes asked for, and by an
// operator's RestoreVersion; nothing else is written over or in place of it.
func TestReinstateStranded(t *testing.T) {
	ctx := t.Context()
	s, fake := newFakeServer(t)
	const key = "c/x/a/0000000000000/0000000000000007"
	genuine := []byte("block 7, sealed")
	if err := s.CreateRetained(ctx, key, genuine); err != nil {
		t.Fatal(err)
	}
	if err := s.Reinstate(ctx, key, genuine); err != nil {
		t.Fatalf("reinstate what the key reads: %v", err)
	}
	fake.Strand("objects", key)
	if _, _, err := s.Read(ctx, key, 64); !errors.Is(err, object.ErrNotFound) {
		t.Fatalf("the stranded key reads: %v", err)
	}
	if versions, err := s.ReadVersions(ctx, key, 64, 4); err != nil || len(versions) != 1 || string(versions[0]) != string(genuine) {
		t.Fatalf("its versions: %q, %v", versions, err)
	}
	if err := s.Reinstate(ctx, key, []byte("block 7, forged")); !errors.Is(err, object.ErrExists) {
		t.Fatalf("reinstate other bytes: %v", err)
	}
	if err := s.Reinstate(ctx, key, genuine); err != nil {
		t.Fatal(err)
	}
	if body, _, err := s.Read(ctx, key, 64); err != nil || string(body) != string(genuine) {
		t.Fatalf("reinstated: %q, %v", body, err)
	}
	fake.Strand("objects", key)
	if err := s.RestoreVersion(ctx, key, genuine); err != nil {
		t.Fatal(err)
	}
	if body, _, err := s.Read(ctx, key, 64); err != nil || string(body) != string(genuine) {
		t.Fatalf("restored: %q, %v", body, err)
	}
	if err := s.Reinstate(ctx, "c/x/a/0000000000000/0000000000000008", genuine); !errors.Is(err, object.ErrNotFound) {
		t.Fatalf("reinstate what was never stored: %v", err)
	}
}
