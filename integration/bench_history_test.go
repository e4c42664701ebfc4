//go:build integration

package integration

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/records"
)

// historyNotes are the histories compared: a new client, and clients after years of weekly
// sessions and more.
var historyNotes = []int{10, 1000, 10000}

// BenchmarkClientHistory measures, over HTTP on the real stack, what a user meets per client
// as the client's history grows: one release flow (the release asked for and approved, its
// token issued, the document downloaded by the provider it names), a page of the client's
// records, and the client's releases listed, for clients holding 10, 1,000 and 10,000 notes
// in one clinic. The flows alternate between the clients in rounds, so each comparison is
// taken under the same load; it reports the p50 of each and its ratio to the newest client's
// (for the records page, to the 1,000-note client's: the first whose page is full).
// The histories are written through the records service (8 writers) before the clock starts.
//
//	go test -tags integration -run '^$' -bench BenchmarkClientHistory -benchtime 1x -timeout 30m ./integration
func BenchmarkClientHistory(b *testing.B) {
	ctx := context.Background()
	e := newAPIEnv(b, releaseUsers)
	clients := make([]string, len(historyNotes))
	documents := make([]string, len(historyNotes))
	for i, n := range historyNotes {
		clients[i] = e.clientBorn(b, "1980-01-01")
		documents[i] = e.signedNote(b, recordvault.ProgressNote, clients[i])
		start := time.Now()
		writeHistory(b, ctx, e.svc, e.clinic, clients[i], n-1)
		b.Logf("%d notes written in %v", n, time.Since(start).Round(time.Millisecond))
	}
	const rounds = 30
	flows := make([][]float64, len(historyNotes))
	pages := make([][]float64, len(historyNotes))
	lists := make([][]float64, len(historyNotes))
	timed := func(f func()) float64 {
		start := time.Now()
		f()
		return float64(time.Since(start).Microseconds()) / 1000
	}
	b.ResetTimer()
	for range b.N {
		for round := range rounds {
			for i, client := range clients {
				base := "/v1/clients/" + client
				flows[i] = append(flows[i], timed(func() {
					var r app.ReleaseView
					e.must(b, http.StatusCreated, &r, "dr-lee", "POST", base+"/releases", map[string]any{"document": documents[i],
						"basis": "treatment", "recipient": map[string]string{"kind": "provider", "id": "dr-out"}, "purpose": "consult"})
					var tok app.TokenView
					e.must(b, http.StatusCreated, &tok, "dr-lee", "POST", base+"/releases/"+r.ID+"/tokens", nil)
					e.must(b, http.StatusOK, nil, "dr-out", "POST", "/downloads", map[string]string{"token": tok.Token})
				}))
				pages[i] = append(pages[i], timed(func() { e.must(b, http.StatusOK, nil, "dr-lee", "GET", base+"/records?limit=50", nil) }))
				if round >= rounds-10 { // the last rounds: every client has as many releases as the others
					lists[i] = append(lists[i], timed(func() { e.must(b, http.StatusOK, nil, "dr-lee", "GET", base+"/releases", nil) }))
				}
			}
		}
	}
	b.StopTimer()
	for _, m := range []struct {
		name    string
		samples [][]float64
		base    int
	}{{"flow", flows, 0}, {"records-page", pages, 1}, {"releases", lists, 0}} {
		base := medianOf(m.samples[m.base])
		for i, n := range historyNotes {
			p50 := medianOf(m.samples[i])
			b.ReportMetric(p50, fmt.Sprintf("%s-p50-ms@%d", m.name, n))
			if i > m.base {
				b.ReportMetric(p50/base, fmt.Sprintf("%s-ratio@%d/%d", m.name, n, historyNotes[m.base]))
			}
		}
	}
}

// writeHistory writes n signed 2 KB progress notes about client through svc, 8 at a time.
func writeHistory(b *testing.B, ctx context.Context, svc *records.Service, clinic, client string, n int) {
	b.Helper()
	var wg sync.WaitGroup
	next := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for range next {
				if _, err := svc.Create(ctx, records.NewRecord{Clinic: clinic, Category: recordvault.ProgressNote, Participants: []string{client},
					Author: "dr-lee", Sign: true, Fields: note2KB()}); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for range n {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
}
