//go:build integration

package integration

import (
	"bytes"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/handlers"
)

// floodOutcome is what a flood of anonymous refusals met, and what authenticated reads took
// beside it.
type floodOutcome struct {
	refused, limited, other int64         // anonymous answers: 401, 429 (with Retry-After), anything else
	quiet, flooded          time.Duration // p99 of authenticated reads without and with the flood
	readErrors              int64
}

// flood sends n anonymous download attempts with tokens that verify as nobody's to url (or,
// with health, n GET /healthz: the cheapest request there is, as a baseline), from 8 senders,
// while 4 readers read a note as its clinician; before it, the same readers read alone for as
// many reads. Both are bounded in count.
func flood(t testing.TB, e *apiEnv, url string, n int, health bool) floodOutcome {
	t.Helper()
	client := e.clientBorn(t, "1980-01-01")
	note := e.signedNote(t, recordvault.ProgressNote, client)
	path := url + "/v1/clients/" + client + "/records/" + note
	tok, err := e.issuer.Mint("dr-lee")
	if err != nil {
		t.Fatal(err)
	}
	var out floodOutcome
	read := func(reads int) time.Duration {
		var mu sync.Mutex
		var took []time.Duration
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range reads / 4 {
					req, _ := http.NewRequest(http.MethodGet, path, nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					start := time.Now()
					resp, err := http.DefaultClient.Do(req)
					d := time.Since(start)
					if err != nil || resp.StatusCode != http.StatusOK {
						atomic.AddInt64(&out.readErrors, 1)
					}
					if resp != nil {
						resp.Body.Close()
					}
					mu.Lock()
					took = append(took, d)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.Sort(took)
		return took[len(took)*99/100]
	}
	const reads = 400
	out.quiet = read(reads)
	var sent atomic.Int64
	done := make(chan struct{})
	var senders sync.WaitGroup
	for range 8 {
		senders.Go(func() {
			body := []byte(`{"token":"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln","code":"12345678"}`)
			for sent.Add(1) <= int64(n) {
				var resp *http.Response
				var err error
				if health {
					resp, err = http.Get(url + "/healthz")
				} else {
					resp, err = http.Post(url+"/downloads", "application/json", bytes.NewReader(body))
				}
				switch {
				case health && err == nil && resp.StatusCode == http.StatusOK:
					atomic.AddInt64(&out.refused, 1)
				case err != nil:
					atomic.AddInt64(&out.other, 1)
					continue
				case resp.StatusCode == http.StatusUnauthorized:
					atomic.AddInt64(&out.refused, 1)
				case resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "":
					atomic.AddInt64(&out.limited, 1)
				default:
					atomic.AddInt64(&out.other, 1)
				}
				resp.Body.Close()
			}
		})
	}
	go func() { senders.Wait(); close(done) }()
	out.flooded = read(reads)
	<-done
	return out
}

// TestAPIAnonymousFlood: 10,000 anonymous download attempts from one address, beside
// authenticated reads: past the address's burst they are answered 429 with Retry-After before
// any work; none fails otherwise; every authenticated read is served. The p99 of the reads
// without and with the flood is logged here and measured by BenchmarkAnonymousFlood.
func TestAPIAnonymousFlood(t *testing.T) {
	e := newAPIEnv(t, releaseUsers)
	url := e.serve(t, handlers.DefaultRateLimits())
	start := time.Now()
	out := flood(t, e, url, 10_000, false)
	took := time.Since(start)
	// The address's burst, and one a second after it, are served (and refused as invalid).
	if maxServed := int64(30 + took.Seconds() + 1); out.refused > maxServed || out.limited < 10_000-maxServed || out.other != 0 {
		t.Errorf("anonymous attempts: %d refused, %d limited, %d other in %v; want at most %d refused", out.refused, out.limited, out.other, took, maxServed)
	}
	if out.readErrors != 0 {
		t.Errorf("%d authenticated reads failed beside the flood", out.readErrors)
	}
	t.Logf("authenticated read p99: %v quiet, %v beside 10,000 anonymous attempts", out.quiet, out.flooded)
}

// BenchmarkAnonymousFlood reports the p99 of authenticated reads (4 readers) without and
// beside 10,000 anonymous refused download attempts from 8 senders, with the default limits
// and with the limits lifted (every attempt verified, refused and audited), and beside 10,000
// health checks from the same senders: what any 10,000 requests from this load generator
// cost the readers on these two shared cores.
func BenchmarkAnonymousFlood(b *testing.B) {
	for _, c := range []struct {
		name   string
		opt    handlers.Option
		health bool
	}{{"limited", handlers.DefaultRateLimits(), false}, {"unlimited", handlers.WithRateLimits(rate.Inf, 1, rate.Inf, 1), false},
		{"healthz", handlers.DefaultRateLimits(), true}} {
		b.Run(c.name, func(b *testing.B) {
			e := newAPIEnv(b, releaseUsers)
			url := e.serve(b, c.opt)
			for b.Loop() {
				out := flood(b, e, url, 10_000, c.health)
				b.ReportMetric(float64(out.quiet.Microseconds())/1000, "quiet-p99-ms")
				b.ReportMetric(float64(out.flooded.Microseconds())/1000, "flooded-p99-ms")
				b.ReportMetric(float64(out.flooded)/float64(out.quiet), "p99-ratio")
			}
		})
	}
}
