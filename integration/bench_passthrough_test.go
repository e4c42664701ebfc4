//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/recordvault/recordvault/app"
)

// BenchmarkAttachmentHTTP compares 256 MiB attachments through recordvault's HTTP API
// (uploaded to a draft with POST …/attachments, encrypted as they stream; downloaded with
// GET …/attachments/{id}, decrypted as they stream, audited before either answers) with a
// pass-through baseline: a bare Go HTTP server on the same loopback that only streams request
// bodies to the same MinIO and objects back, the extra hop any service in front of storage
// adds. Rounds alternate the two, each a fresh upload and one download; it reports the median
// ratio recordvault / pass-through of each direction (rates, so above 1 is faster) and the
// median MB/s.
//
//	go test -tags integration -run '^$' -bench BenchmarkAttachmentHTTP -benchtime 1x -timeout 30m ./integration
func BenchmarkAttachmentHTTP(b *testing.B) {
	const size, rounds = 256 << 20, 5
	ctx := context.Background()
	e := newCountedAPIEnv(b, releaseUsers)
	client := e.clientBorn(b, "1980-01-01")
	pass := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := "pass/" + strings.TrimPrefix(r.URL.Path, "/")
		switch r.Method {
		case http.MethodPut:
			if _, err := e.raw.PutObject(r.Context(), e.bucket, name, r.Body, r.ContentLength, minio.PutObjectOptions{}); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
			}
		case http.MethodGet:
			obj, err := e.raw.GetObject(r.Context(), e.bucket, name, minio.GetObjectOptions{})
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer obj.Close()
			io.Copy(w, obj)
		}
	}))
	b.Cleanup(pass.Close)
	bearer := func() string {
		tok, err := e.issuer.Mint("dr-lee")
		if err != nil {
			b.Fatal(err)
		}
		return "Bearer " + tok
	}
	do := func(method, url, auth string, body io.Reader, contentType string, out any) {
		req, err := http.NewRequestWithContext(ctx, method, url, body)
		if err != nil {
			b.Fatal(err)
		}
		if body != nil {
			req.ContentLength, req.Header["Content-Type"] = size, []string{contentType}
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			err = json.NewDecoder(resp.Body).Decode(out)
		} else if n, cerr := io.Copy(io.Discard, resp.Body); cerr != nil || (method == http.MethodGet && n != size) {
			err = fmt.Errorf("%d of %d bytes: %v", n, size, cerr)
		}
		if err != nil || resp.StatusCode >= 300 {
			b.Fatalf("%s %s: %d %v", method, url, resp.StatusCode, err)
		}
	}
	pdf := func() io.Reader { return io.MultiReader(strings.NewReader("%PDF-"), newRepeating(size-5)) }
	timed := func(f func()) float64 {
		start := time.Now()
		f()
		return time.Since(start).Seconds()
	}
	for range b.N {
		up, down, rvUp, rvDown := make([]float64, rounds), make([]float64, rounds), make([]float64, rounds), make([]float64, rounds)
		for i := range rounds {
			var rec app.RecordView
			e.must(b, http.StatusCreated, &rec, "dr-lee", "POST", "/v1/clients/"+client+"/records", map[string]any{"category": "evaluation",
				"fields": map[string]any{"date_of_service": "2026-11-02", "summary": "scanned report"}})
			path := e.url + "/v1/clients/" + client + "/records/" + rec.ID + "/attachments"
			passUp := timed(func() { do(http.MethodPut, pass.URL+"/blob", "", pdf(), "application/pdf", nil) })
			var att app.AttachmentView
			rvUp[i] = timed(func() { do(http.MethodPost, path, bearer(), pdf(), "application/pdf", &att) })
			passDown := timed(func() { do(http.MethodGet, pass.URL+"/blob", "", nil, "", nil) })
			rvDown[i] = timed(func() { do(http.MethodGet, path+"/"+att.ID, bearer(), nil, "", nil) })
			up[i], down[i] = passUp/rvUp[i], passDown/rvDown[i]
		}
		reportSpread(b, up, "upload-ratio", "upload-min-ratio", "upload-max-ratio")
		reportSpread(b, down, "download-ratio", "download-min-ratio", "download-max-ratio")
		b.ReportMetric(size/(1<<20)/medianOf(rvUp), "recordvault-upload-MB/s")
		b.ReportMetric(size/(1<<20)/medianOf(rvDown), "recordvault-download-MB/s")
	}
}
