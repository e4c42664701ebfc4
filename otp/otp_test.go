package otp

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/recordvault/recordvault/storage/object"
)

type fakeStore struct {
	mu    sync.Mutex
	codes map[string][]byte
	etags map[string]int
}

func (f *fakeStore) ReadCode(_ context.Context, _, jti string) (*State, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.codes[jti]
	if !ok {
		return nil, "", object.ErrNotFound
	}
	var c State
	err := json.Unmarshal(b, &c)
	return &c, strconv.Itoa(f.etags[jti]), err
}

func (f *fakeStore) WriteCode(_ context.Context, c *State, etag string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.codes[c.JTI]; ok && etag == "" {
		return "", object.ErrExists
	}
	if etag != "" && etag != strconv.Itoa(f.etags[c.JTI]) {
		return "", object.ErrChanged
	}
	f.codes[c.JTI], _ = json.Marshal(c)
	f.etags[c.JTI]++
	return strconv.Itoa(f.etags[c.JTI]), nil
}

func mac(_ context.Context, clinic string, input []byte) ([]byte, error) {
	m := sha256.Sum256(append([]byte(clinic), input...))
	return m[:], nil
}

func newService() (*Service, *time.Time) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	return New(&fakeStore{codes: map[string][]byte{}, etags: map[string]int{}}, mac, func() time.Time { return now }), &now
}

func TestCodeOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := newService()
	code, err := s.New(ctx, "c", "j1")
	if err != nil || len(code) != digits {
		t.Fatalf("code %q, %v", code, err)
	}
	if err := s.Check(ctx, "c", "j1", other(code)); !errors.Is(err, ErrRefused) {
		t.Fatalf("a wrong code: %v", err)
	}
	if err := s.Check(ctx, "c", "j2", code); !errors.Is(err, ErrRefused) {
		t.Fatalf("the code for another token: %v", err)
	}
	if err := s.Check(ctx, "c", "j1", code); err != nil {
		t.Fatalf("the right code: %v", err)
	}
	if err := s.Check(ctx, "c", "j1", code); !errors.Is(err, ErrRefused) {
		t.Fatalf("the code reused: %v", err)
	}
	if _, err := s.New(ctx, "c", "j1"); !errors.Is(err, ErrRefused) {
		t.Fatalf("a new code after use: %v", err)
	}
}

func TestCodeLimits(t *testing.T) {
	ctx := context.Background()
	s, now := newService()
	code, _ := s.New(ctx, "c", "j1")
	*now = now.Add(TTL)
	if err := s.Check(ctx, "c", "j1", code); !errors.Is(err, ErrRefused) {
		t.Fatalf("an expired code: %v", err)
	}
	second, err := s.New(ctx, "c", "j1")
	if err != nil {
		t.Fatal(err)
	}
	if code != second {
		if err := s.Check(ctx, "c", "j1", code); !errors.Is(err, ErrRefused) {
			t.Fatalf("the replaced code: %v", err)
		}
	}
	for range MaxAttempts {
		_ = s.Check(ctx, "c", "j1", other(second))
	}
	if err := s.Check(ctx, "c", "j1", second); !errors.Is(err, ErrRefused) {
		t.Fatalf("the right code after %d wrong tries: %v", MaxAttempts, err)
	}
	if _, err := s.New(ctx, "c", "j1"); err != nil {
		t.Fatalf("the third code: %v", err)
	}
	if _, err := s.New(ctx, "c", "j1"); !errors.Is(err, ErrRefused) {
		t.Fatalf("a fourth code: %v", err)
	}
}

// other is a code that is not code.
func other(code string) string {
	if code == "00000000" {
		return "11111111"
	}
	return "00000000"
}
