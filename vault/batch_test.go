package vault

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recordvault/recordvault/seal"
)

// fakeTransit answers Transit's decrypt with batch_input as Vault does: each item's plaintext
// (here the SHA-256 of its ciphertext and context), or 400 when an item fails (a ciphertext
// "vault:v1:bad"). The first call is held until release is closed, so that the calls behind
// it queue.
type fakeTransit struct {
	release chan struct{}
	mu      sync.Mutex
	sizes   []int // the items of each decrypt call, in order
}

func (f *fakeTransit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/v1/transit/decrypt/") {
		http.NotFound(w, r)
		return
	}
	var body struct {
		BatchInput []struct{ Ciphertext, Context string } `json:"batch_input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	first := len(f.sizes) == 0
	f.sizes = append(f.sizes, len(body.BatchInput))
	f.mu.Unlock()
	if first {
		<-f.release
	}
	var results []map[string]string
	failed := false
	for _, item := range body.BatchInput {
		if item.Ciphertext == "vault:v1:bad" {
			results, failed = append(results, map[string]string{"error": "cipher: message authentication failed"}), true
			continue
		}
		sum := sha256.Sum256([]byte(item.Ciphertext + "|" + item.Context))
		results = append(results, map[string]string{"plaintext": base64.StdEncoding.EncodeToString(sum[:])})
	}
	w.Header().Set("Content-Type", "application/json")
	if failed {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []string{"batch item failed"}})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"batch_results": results}})
}

func (f *fakeTransit) calls() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.sizes...)
}

func expectedKey(k seal.WrappedKey) []byte {
	sum := sha256.Sum256([]byte(k.Wrapped + "|" + base64.StdEncoding.EncodeToString(k.Context)))
	return sum[:]
}

// unwrapBehindAHeldCall unwraps first alone, holds Vault's answer to it until every one of
// rest is queued behind it, and returns each unwrap's result.
func unwrapBehindAHeldCall(t *testing.T, first seal.WrappedKey, rest []seal.WrappedKey) (*fakeTransit, [][]byte, []error) {
	t.Helper()
	f := &fakeTransit{release: make(chan struct{})}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New(Config{Addr: srv.URL, Token: "test"})
	if err != nil {
		t.Fatal(err)
	}
	const keyName = "rv-c1-progress-note"
	ctx := context.Background()
	keys := append([]seal.WrappedKey{first}, rest...)
	got, errs := make([][]byte, len(keys)), make([]error, len(keys))
	var wg sync.WaitGroup
	unwrap := func(i int) {
		defer wg.Done()
		out, err := c.UnwrapDataKeys(ctx, keyName, []seal.WrappedKey{keys[i]})
		if err == nil {
			got[i] = out[0]
		}
		errs[i] = err
	}
	wg.Add(len(keys))
	go unwrap(0)
	waitFor(t, func() bool { return len(f.calls()) == 1 })
	for i := 1; i < len(keys); i++ {
		go unwrap(i)
	}
	waitFor(t, func() bool { return c.pending("transit/decrypt/"+keyName) == len(rest) })
	close(f.release)
	wg.Wait()
	return f, got, errs
}

// waitFor polls cond: the goroutines it waits on queue in the batcher or block in the fake
// server, where no event can be handed to the test.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		<-tick.C
	}
}

// pending counts the calls queued on path.
func (c *Client) pending(path string) int {
	c.batches.mu.Lock()
	defer c.batches.mu.Unlock()
	if q := c.batches.paths[path]; q != nil {
		return len(q.pending)
	}
	return 0
}

func wrapped(i int) seal.WrappedKey {
	return seal.WrappedKey{Wrapped: fmt.Sprintf("vault:v1:key%d", i), Context: []byte(fmt.Sprintf("record-%d", i))}
}

// Unwraps that arrive while one is in flight go to Vault together, in one call, and each
// request gets its own key back.
func TestUnwrapsShareACall(t *testing.T) {
	var rest []seal.WrappedKey
	for i := 1; i <= 10; i++ {
		rest = append(rest, wrapped(i))
	}
	f, got, errs := unwrapBehindAHeldCall(t, wrapped(0), rest)
	if calls := f.calls(); len(calls) != 2 || calls[0] != 1 || calls[1] != 10 {
		t.Fatalf("decrypt calls carried %v items, want [1 10]", calls)
	}
	for i, k := range append([]seal.WrappedKey{wrapped(0)}, rest...) {
		if errs[i] != nil || string(got[i]) != string(expectedKey(k)) {
			t.Errorf("unwrap %d: %x, %v; want its own key", i, got[i], errs[i])
		}
	}
}

// A key that fails in a shared call fails only the request it belongs to: Vault refuses the
// batch as a whole, and the batcher asks again for each request alone.
func TestSharedCallRefusalFailsOnlyItsRequest(t *testing.T) {
	rest := []seal.WrappedKey{wrapped(1), {Wrapped: "vault:v1:bad", Context: []byte("record-x")}, wrapped(3)}
	f, got, errs := unwrapBehindAHeldCall(t, wrapped(0), rest)
	for i, k := range append([]seal.WrappedKey{wrapped(0)}, rest...) {
		if i == 2 {
			if !errors.Is(errs[i], seal.ErrUnwrap) {
				t.Errorf("the tampered key: %v, want seal.ErrUnwrap", errs[i])
			}
			continue
		}
		if errs[i] != nil || string(got[i]) != string(expectedKey(k)) {
			t.Errorf("unwrap %d: %x, %v; want its own key", i, got[i], errs[i])
		}
	}
	if calls := f.calls(); len(calls) != 5 || calls[1] != 3 {
		t.Errorf("decrypt calls carried %v items, want [1 3 1 1 1]: the shared call, then one per request", calls)
	}
}

// A request that gives up while queued is not sent, and the others are answered.
func TestQueuedUnwrapGivesUp(t *testing.T) {
	f := &fakeTransit{release: make(chan struct{})}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, err := New(Config{Addr: srv.URL, Token: "test"})
	if err != nil {
		t.Fatal(err)
	}
	const keyName = "rv-c1-progress-note"
	first := make(chan error, 1)
	go func() {
		_, err := c.UnwrapDataKeys(context.Background(), keyName, []seal.WrappedKey{wrapped(0)})
		first <- err
	}()
	waitFor(t, func() bool { return len(f.calls()) == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := c.UnwrapDataKeys(ctx, keyName, []seal.WrappedKey{wrapped(1)})
		gaveUp <- err
	}()
	waitFor(t, func() bool { return c.pending("transit/decrypt/"+keyName) == 1 })
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Errorf("the request that gave up: %v, want context.Canceled", err)
	}
	close(f.release)
	if err := <-first; err != nil {
		t.Errorf("the first request: %v", err)
	}
	waitFor(t, func() bool { return c.pending("transit/decrypt/"+keyName) == 0 })
	if calls := f.calls(); len(calls) != 1 {
		t.Errorf("decrypt calls carried %v items, want [1]: nothing sent for the request that gave up", calls)
	}
}
