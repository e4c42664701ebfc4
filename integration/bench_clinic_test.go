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

// BenchmarkClinicSize measures what one client's requests cost in a clinic of 10,000 records
// and in one of 100,000: two clinics side by side (each its own service and bucket on the
// same MinIO and Vault), each with a client of 100 notes among other clients of 100 records
// each, and the same requests run in alternating rounds over HTTP: a page of 50 of the
// client's records, the client's releases listed, and a release flow (release, token,
// download). It reports each p50 and the ratio of the large clinic's to the small one's.
// The other clients' records are stored as manifests straight through the records' bucket
// (their content is never read; the bucket and its layout are what a large clinic is).
//
//	go test -tags integration -run '^$' -bench BenchmarkClinicSize -benchtime 1x -timeout 30m ./integration
func BenchmarkClinicSize(b *testing.B) {
	ctx := context.Background()
	sizes := []int{10000, 100000}
	type clinicEnv struct {
		e                *apiEnv
		client, document string
	}
	clinics := make([]clinicEnv, len(sizes))
	for i, size := range sizes {
		e := newCountedAPIEnv(b, releaseUsers)
		client := e.clientBorn(b, "1980-01-01")
		document := e.signedNote(b, recordvault.ProgressNote, client)
		writeHistory(b, ctx, e.svc, e.clinic, client, 99)
		start := time.Now()
		fillClinic(b, ctx, records.NewBucket(e.store), e.clinic, size-100)
		b.Logf("a clinic of %d records filled in %v", size, time.Since(start).Round(time.Second))
		clinics[i] = clinicEnv{e, client, document}
	}
	const rounds = 30
	pages, lists, flows := make([][]float64, len(sizes)), make([][]float64, len(sizes)), make([][]float64, len(sizes))
	timed := func(f func()) float64 {
		start := time.Now()
		f()
		return float64(time.Since(start).Microseconds()) / 1000
	}
	b.ResetTimer()
	for range b.N {
		for range rounds {
			for i, c := range clinics {
				base := "/v1/clients/" + c.client
				pages[i] = append(pages[i], timed(func() { c.e.must(b, http.StatusOK, nil, "dr-lee", "GET", base+"/records?limit=50", nil) }))
				lists[i] = append(lists[i], timed(func() { c.e.must(b, http.StatusOK, nil, "dr-lee", "GET", base+"/releases", nil) }))
				flows[i] = append(flows[i], timed(func() {
					var r app.ReleaseView
					c.e.must(b, http.StatusCreated, &r, "dr-lee", "POST", base+"/releases", map[string]any{"document": c.document,
						"basis": "treatment", "recipient": map[string]string{"kind": "provider", "id": "dr-out"}, "purpose": "consult"})
					var tok app.TokenView
					c.e.must(b, http.StatusCreated, &tok, "dr-lee", "POST", base+"/releases/"+r.ID+"/tokens", nil)
					c.e.must(b, http.StatusOK, nil, "dr-out", "POST", "/downloads", map[string]string{"token": tok.Token})
				}))
			}
		}
	}
	b.StopTimer()
	for _, m := range []struct {
		name    string
		samples [][]float64
	}{{"records-page", pages}, {"releases", lists}, {"flow", flows}} {
		small, large := medianOf(m.samples[0]), medianOf(m.samples[1])
		b.ReportMetric(small, fmt.Sprintf("%s-p50-ms@%d", m.name, sizes[0]))
		b.ReportMetric(large, fmt.Sprintf("%s-p50-ms@%d", m.name, sizes[1]))
		b.ReportMetric(large/small, m.name+"-ratio")
	}
}

// fillClinic stores n record manifests of other clients in clinic, 100 to a client, 16 at a
// time, through the records' bucket.
func fillClinic(b *testing.B, ctx context.Context, bucket *records.Bucket, clinic string, n int) {
	b.Helper()
	var wg sync.WaitGroup
	next := make(chan string)
	for range 16 {
		wg.Go(func() {
			for client := range next {
				m := &records.Manifest{Clinic: clinic, Record: newID(), Kind: "record", Category: "progress_note", Participants: []string{client},
					Author: "dr-lee", Status: "signed", TransitKey: "rv-fill", WrappedKey: "vault:v1:fill", Meta: []byte("sealed"),
					Fields: map[string][]byte{"plan": make([]byte, 1024)}}
				if _, err := bucket.CreateManifest(ctx, m); err != nil {
					b.Error(err)
				}
			}
		})
	}
	client := newID()
	for i := range n {
		if i%100 == 0 {
			client = newID()
		}
		next <- client
	}
	close(next)
	wg.Wait()
}
