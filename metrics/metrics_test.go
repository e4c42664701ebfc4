package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/recordvault/recordvault/internal/dependency"
)

// Every call, request, commit and download shows in the exposition, labelled by route,
// operation and outcome only: a key name in a Vault path, or an id in a route, never does.
func TestMetrics(t *testing.T) {
	m := New()
	vault := m.Dependency("vault")(dependency.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		switch {
		case strings.Contains(r.URL.Path, "/hmac/"):
			return &http.Response{StatusCode: http.StatusServiceUnavailable, Body: http.NoBody}, nil
		case strings.Contains(r.URL.Path, "/sign/"):
			return nil, errors.New("connection refused")
		}
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
	}))
	s3 := m.Dependency("s3")(dependency.RoundTripperFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
	}))
	for _, path := range []string{"/v1/transit/datakey/plaintext/rv-clinic7-progress-note", "/v1/transit/datakey/plaintext/rv-clinic8-evaluation",
		"/v1/transit/hmac/rv-clinic7-index/sha2-256", "/v1/transit/sign/rv-clinic7-audit/sha2-256"} {
		req, _ := http.NewRequest(http.MethodPost, "http://vault:8200"+path, nil)
		_, _ = vault.RoundTrip(req)
	}
	req, _ := http.NewRequest(http.MethodPut, "http://minio:9000/recordvault/c/clinic7/p/x/profile", nil)
	_, _ = s3.RoundTrip(req)
	m.Request(http.MethodGet, "/v1/clients/{client}", http.StatusNotFound, 30*time.Millisecond)
	done := m.DownloadStarted()
	m.AuditCommit(5*time.Millisecond, nil)
	m.AuditCommit(5*time.Millisecond, errors.New("vault down"))
	queued := 3
	m.AuditQueue(func() int { return queued })

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		`recordvault_dependency_call_duration_seconds_count{dependency="vault",operation="transit/datakey",outcome="ok"} 2`,
		`recordvault_dependency_call_duration_seconds_count{dependency="vault",operation="transit/hmac",outcome="error"} 1`,
		`recordvault_dependency_call_duration_seconds_count{dependency="vault",operation="transit/sign",outcome="error"} 1`,
		`recordvault_dependency_call_duration_seconds_count{dependency="s3",operation="PUT",outcome="ok"} 1`,
		`recordvault_http_request_duration_seconds_count{method="GET",route="/v1/clients/{client}",status="4xx"} 1`,
		`recordvault_downloads_in_flight 1`,
		`recordvault_audit_commit_duration_seconds_count{outcome="ok"} 1`,
		`recordvault_audit_commit_duration_seconds_count{outcome="error"} 1`,
		`recordvault_audit_queue_events 3`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the exposition lacks %s", want)
		}
	}
	for _, never := range []string{"clinic7", "rv-", "profile"} {
		if strings.Contains(text, never) {
			t.Errorf("the exposition names %q", never)
		}
	}
	done()
	rec = httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if body, _ := io.ReadAll(rec.Body); !strings.Contains(string(body), "recordvault_downloads_in_flight 0") {
		t.Error("a finished download is still in flight")
	}
}
