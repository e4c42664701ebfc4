//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/recordvault/recordvault/app"
)

// BenchmarkNotesHTTP compares what a user meets through HTTP with raw minio-go on the same
// MinIO, in rounds of one second each, alternating so that each ratio compares two
// measurements taken a second apart under the same load: signed 2 KB progress notes written
// through POST /v1/clients/{c}/records (audited before they answer) by 8 writers against raw
// 2 KB PutObjects by 8; and notes read through GET …/records/{r} (audited before they answer)
// against raw 2 KB GetObjects, by 8 and by 64 readers. It reports the median ratio of each
// and the median rates.
//
//	go test -tags integration -run '^$' -bench BenchmarkNotesHTTP -benchtime 1x -timeout 30m ./integration
func BenchmarkNotesHTTP(b *testing.B) {
	notesHTTP(b, newCountedAPIEnv(b, releaseUsers))
}

// BenchmarkNotesHTTPStorageBound is BenchmarkNotesHTTP where the storage is the limit
// (storageBoundServers): MinIO alone on one core; Vault, the service and the load clients on
// the other.
//
//	go test -tags integration -run '^$' -bench BenchmarkNotesHTTPStorageBound -benchtime 1x -timeout 30m ./integration
func BenchmarkNotesHTTPStorageBound(b *testing.B) {
	v, m := storageBoundServers(b)
	notesHTTP(b, newCountedAPIEnvOn(b, v, m, releaseUsers))
}

// notesHTTP runs BenchmarkNotesHTTP's rounds on e.
func notesHTTP(b *testing.B, e *apiEnv) {
	const rounds, window = 9, time.Second
	ctx := context.Background()
	client := e.clientBorn(b, "1980-01-01")
	// A 2 KB progress note: the schema's fields, the plan filling it out.
	fields := progressNote(strings.Repeat("p", 2048-200))
	payload := bytes.Repeat([]byte("x"), 2048)
	var ids []string
	for range 64 {
		var rec app.RecordView
		e.must(b, http.StatusCreated, &rec, "dr-lee", "POST", "/v1/clients/"+client+"/records", map[string]any{"category": "progress_note", "fields": fields, "sign": true})
		ids = append(ids, rec.ID)
		if _, err := e.raw.PutObject(ctx, e.bucket, "raw/"+rec.ID, bytes.NewReader(payload), int64(len(payload)), minio.PutObjectOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	transport := http.DefaultTransport.(*http.Transport)
	idle := transport.MaxIdleConnsPerHost
	transport.MaxIdleConnsPerHost = 64
	defer func() { transport.MaxIdleConnsPerHost = idle }()
	var n atomic.Int64
	rate := func(workers int, op func(i int) error) float64 {
		var done atomic.Int64
		deadline := time.Now().Add(window)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; time.Now().Before(deadline); i += workers {
					if err := op(i); err != nil {
						b.Error(err)
						return
					}
					done.Add(1)
				}
			})
		}
		wg.Wait()
		return float64(done.Load()) / window.Seconds()
	}
	status := func(want int, user, method, path string, body any) error {
		resp := e.send(b, user, method, path, body)
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != want {
			return fmt.Errorf("%s %s: %d %v", method, path, resp.StatusCode, err)
		}
		return nil
	}
	rawPut := func(int) error {
		_, err := e.raw.PutObject(ctx, e.bucket, fmt.Sprintf("raw/w%d", n.Add(1)), bytes.NewReader(payload), int64(len(payload)), minio.PutObjectOptions{})
		return err
	}
	write := func(int) error {
		return status(http.StatusCreated, "dr-lee", "POST", "/v1/clients/"+client+"/records", map[string]any{"category": "progress_note", "fields": fields, "sign": true})
	}
	rawGet := func(i int) error {
		obj, err := e.raw.GetObject(ctx, e.bucket, "raw/"+ids[i%len(ids)], minio.GetObjectOptions{})
		if err != nil {
			return err
		}
		defer obj.Close()
		_, err = io.Copy(io.Discard, obj)
		return err
	}
	read := func(i int) error {
		return status(http.StatusOK, "dr-lee", "GET", "/v1/clients/"+client+"/records/"+ids[i%len(ids)], nil)
	}
	pairs := []struct {
		name    string
		workers int
		raw, rv func(int) error
	}{{"write-8", 8, rawPut, write}, {"read-8", 8, rawGet, read}, {"read-64", 64, rawGet, read}}
	for _, p := range pairs { // warm both paths' connections
		rate(p.workers, p.raw)
		rate(p.workers, p.rv)
	}
	b.ResetTimer()
	for range b.N {
		for _, p := range pairs {
			ratios, raws, rvs := make([]float64, rounds), make([]float64, rounds), make([]float64, rounds)
			for i := range rounds {
				raws[i] = rate(p.workers, p.raw)
				rvs[i] = rate(p.workers, p.rv)
				ratios[i] = rvs[i] / raws[i]
			}
			reportSpread(b, ratios, p.name+"-ratio", p.name+"-min-ratio", p.name+"-max-ratio")
			b.ReportMetric(medianOf(raws), p.name+"-raw/s")
			b.ReportMetric(medianOf(rvs), p.name+"-http/s")
		}
	}
}
