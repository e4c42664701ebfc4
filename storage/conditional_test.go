package storage

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeS3 is the little of S3 that Ready touches: the bucket's existence and objects put and
// deleted, with If-None-Match and If-Match honoured only when honours is set.
type fakeS3 struct {
	honours bool
	mu      sync.Mutex
	objects map[string]string // key: ETag
	puts    int
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := strings.TrimPrefix(r.URL.Path, "/bucket/")
	switch {
	case r.Method == http.MethodHead && r.URL.Path == "/bucket/":
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodPut:
		f.puts++
		body, _ := io.ReadAll(r.Body)
		sum := md5.Sum(body)
		etag := `"` + hex.EncodeToString(sum[:]) + `"`
		current, exists := f.objects[key]
		if f.honours && (r.Header.Get("If-None-Match") == "*" && exists ||
			r.Header.Get("If-Match") != "" && r.Header.Get("If-Match") != current) {
			w.WriteHeader(http.StatusPreconditionFailed)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>`)
			return
		}
		f.objects[key] = etag
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodDelete:
		delete(f.objects, key)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotImplemented)
	}
}

// Storage that ignores conditional writes is refused readiness with a clear message, and
// never marked ready; storage that honours them is ready, probed once, and the scratch
// object is gone afterwards.
func TestReadyRefusesStorageWithoutConditionalWrites(t *testing.T) {
	for _, honours := range []bool{false, true} {
		fake := &fakeS3{honours: honours, objects: map[string]string{}}
		srv := httptest.NewServer(fake)
		s, err := New(Config{Endpoint: strings.TrimPrefix(srv.URL, "http://"), AccessKey: "k", SecretKey: "secret-key", Bucket: "bucket", Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			err = s.Ready(context.Background())
		}
		fake.mu.Lock()
		puts, left := fake.puts, len(fake.objects)
		fake.mu.Unlock()
		switch {
		case honours && (err != nil || puts != 4):
			t.Errorf("storage honouring conditional writes: %v after %d puts, want ready after 4 (probed once)", err, puts)
		case !honours && !errors.Is(err, ErrNoConditionalWrites):
			t.Errorf("storage ignoring conditional writes: %v, want ErrNoConditionalWrites", err)
		case !honours && !strings.Contains(err.Error(), "a second create of one key did not fail"):
			t.Errorf("the refusal does not say what failed: %v", err)
		case left != 0:
			t.Errorf("the probe left %d objects behind", left)
		}
		srv.Close()
	}
}
