//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/handlers"
	"github.com/recordvault/recordvault/rvtest"
)

// answerBound is the longest a request may wait on a dependency that is stalled or gone: the
// client below gives up then, and the test fails.
const answerBound = 10 * time.Second

// faultTraffic writes notes and lists records through the API while a dependency is taken
// away, and keeps what was acknowledged.
type faultTraffic struct {
	mint   func(user string) (string, error)
	url    string
	client string
	http   *http.Client
	mu     sync.Mutex
	acked  []string      // notes answered 201
	after  time.Duration // the longest answer of the last round
}

// round sends writers notes and one listing at once, and checks each answer: 201 or 200, or
// 503 problem+json with Retry-After; never another status, never later than answerBound.
// It returns how many were answered 503.
func (f *faultTraffic) round(t *testing.T, writers int) (unavailable int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	f.after = 0
	for i := range writers + 1 {
		wg.Go(func() {
			method, path, body := "POST", "/v1/clients/"+f.client+"/records", any(map[string]any{"category": "progress_note",
				"fields": progressNote("plan " + newID()), "sign": true})
			if i == writers {
				method, body = "GET", nil
			}
			start := time.Now()
			status, h, b, err := f.send(t, method, path, body)
			mu.Lock()
			defer mu.Unlock()
			f.after = max(f.after, time.Since(start))
			switch {
			case err != nil:
				t.Errorf("%s %s: no answer within %v: %v", method, path, answerBound, err)
			case status == http.StatusServiceUnavailable:
				unavailable++
				var p struct{ Code string }
				if h.Get("Retry-After") == "" || h.Get("Content-Type") != "application/problem+json" || json.Unmarshal(b, &p) != nil || p.Code != "unavailable" {
					t.Errorf("%s %s: 503 without Retry-After or problem+json: %v %s", method, path, h, b)
				}
			case method == "POST" && status == http.StatusCreated:
				var rec app.RecordView
				if err := json.Unmarshal(b, &rec); err != nil {
					t.Errorf("a note's answer: %v", err)
				}
				f.mu.Lock()
				f.acked = append(f.acked, rec.ID)
				f.mu.Unlock()
			case method == "GET" && status == http.StatusOK:
			default:
				t.Errorf("%s %s: %d %s", method, path, status, b)
			}
		})
	}
	wg.Wait()
	return unavailable
}

// checkNothingLost checks through the service at url that every note acknowledged is listed
// and that every record listed reads whole, signed: nothing acknowledged is lost, nothing
// half-written shows.
func (f *faultTraffic) checkNothingLost(t *testing.T, url string) {
	t.Helper()
	// A dependency just given back may still answer a moment of 503s (MinIO takes its write
	// locks back, Vault elects): those are asked again, for up to 30 s.
	get := func(path string, out any) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			status, _, b, err := (&faultTraffic{mint: f.mint, url: url, http: f.http}).send(t, "GET", path, nil)
			if status == http.StatusServiceUnavailable && time.Now().Before(deadline) {
				time.Sleep(500 * time.Millisecond)
				continue
			}
			if err != nil || status != http.StatusOK || json.Unmarshal(b, out) != nil {
				t.Fatalf("GET %s: %d %v %s", path, status, err, b)
			}
			return
		}
	}
	var listed struct{ Items []*app.RecordView }
	get("/v1/clients/"+f.client+"/records?limit=200", &listed)
	ids := make([]string, len(listed.Items))
	for i, r := range listed.Items {
		ids[i] = r.ID
	}
	for _, id := range f.acked {
		if !slices.Contains(ids, id) {
			t.Errorf("acknowledged note %s is not listed", id)
		}
	}
	for _, id := range ids {
		var rec app.RecordView
		get("/v1/clients/"+f.client+"/records/"+id, &rec)
		if rec.Status != recordvault.StatusSigned || len(rec.Fields) != 7 {
			t.Errorf("record %s reads %s with %d fields", id, rec.Status, len(rec.Fields))
		}
	}
	t.Logf("%d notes acknowledged, %d listed, each read whole", len(f.acked), len(ids))
}

func (f *faultTraffic) send(t *testing.T, method, path string, body any) (int, http.Header, []byte, error) {
	t.Helper()
	j, _ := json.Marshal(body)
	if body == nil {
		j = nil
	}
	req, _ := http.NewRequest(method, f.url+path, bytes.NewReader(j))
	tok, err := f.mint("dr-lee")
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// TestAPIDependencyFaults: with traffic on the API, MinIO and Vault are paused (connections
// hang) and stopped (connections refused) in turn. While each is away, every request is
// answered within 10 s, 503 problem+json with Retry-After, and /readyz is 503; when it comes
// back, the service serves again by itself. Afterwards every note acknowledged is readable
// and every record listed reads whole: nothing acknowledged is lost, nothing half-written
// shows.
func TestAPIDependencyFaults(t *testing.T) {
	ctx := context.Background()
	v, err := rvtest.StartVault(ctx, shared.vaultImage)
	t.Cleanup(func() { v.Terminate(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	m, err := rvtest.StartMinIO(ctx, shared.minioImage, rvtest.OnHostPort("9000/tcp", freePort(t)))
	t.Cleanup(func() { m.Terminate(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	e := newAPIEnvOn(t, v, m, "US", releaseUsers)
	store, _ := newStore(t, m)
	srv := httptest.NewServer(handlers.NewServer(discardLogger(), []handlers.ReadinessCheck{
		{Name: "vault", Ready: e.vault.Ready}, {Name: "storage", Ready: store.Ready}}, e.verifier, e.api))
	t.Cleanup(srv.Close)
	f := &faultTraffic{mint: e.issuer.Mint, url: srv.URL, client: e.clientBorn(t, "1970-01-01"), http: &http.Client{Timeout: answerBound}}
	if n := f.round(t, 4); n != 0 {
		t.Fatalf("%d requests unavailable before any fault", n)
	}

	for _, fault := range []struct {
		name           string
		take, giveBack func(context.Context) error
	}{
		{"minio paused", m.Pause, m.Unpause},
		{"minio stopped", m.Stop, m.Start},
		{"vault paused", v.Pause, v.Unpause},
	} {
		if err := fault.take(ctx); err != nil {
			t.Fatalf("%s: %v", fault.name, err)
		}
		if n := f.round(t, 2); n != 3 {
			t.Errorf("%s: %d of 3 requests answered 503", fault.name, n)
		}
		t.Logf("%s: 3 requests answered 503 within %v", fault.name, f.after)
		if status, checks := readyz(t, srv.URL); status != http.StatusServiceUnavailable {
			t.Errorf("%s: /readyz %d %v", fault.name, status, checks)
		}
		if err := fault.giveBack(ctx); err != nil {
			t.Fatalf("%s: give back: %v", fault.name, err)
		}
		waitReadyz(t, srv.URL, http.StatusOK, fault.name+": ready again")
		eventually(t, 30*time.Second, fault.name+": serving again", func() bool { return f.round(t, 1) == 0 })
		if t.Failed() {
			t.FailNow()
		}
	}

	f.checkNothingLost(t, srv.URL)

	// A Vault that is gone (its dev-mode memory with it) is answered 503 as fast.
	if err := v.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.round(t, 2); n != 3 {
		t.Errorf("vault stopped: %d of 3 requests answered 503", n)
	}
	t.Logf("vault stopped: 3 requests answered 503 within %v", f.after)
}
