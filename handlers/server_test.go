package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/auth"
	"github.com/recordvault/recordvault/tracing"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"golang.org/x/time/rate"
)

func newTestServer(t *testing.T, checks ...ReadinessCheck) (http.Handler, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	return NewServer(slog.New(slog.NewTextHandler(&logs, nil)), checks, fakeVerifier{}, nil), &logs
}

func do(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestHealthz(t *testing.T) {
	h, _ := newTestServer(t)
	rec := do(h, http.MethodGet, "/healthz")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"ok"`) {
		t.Fatalf("healthz: %d %s", rec.Code, rec.Body)
	}
	for header, want := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if got := rec.Header().Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
}

// The operator listener's /readyz names each check's outcome and reason; the public one says
// ready or not, with the same status, and nothing else.
func TestReadyzReportsEachCheck(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("vault unreachable: connection refused") }
	for _, tc := range []struct {
		name   string
		checks []ReadinessCheck
		status int
		want   map[string]string
	}{
		{"all ready", []ReadinessCheck{{"vault", ok}, {"storage", ok}}, 200, map[string]string{"vault": "ok", "storage": "ok"}},
		{"vault down", []ReadinessCheck{{"vault", down}, {"storage", ok}}, 503, map[string]string{"vault": "vault unreachable: connection refused", "storage": "ok"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			public, _ := newTestServer(t, tc.checks...)
			rec := do(public, http.MethodGet, "/readyz")
			if want := map[int]string{200: `{"status":"ready"}`, 503: `{"status":"not ready"}`}[tc.status]; rec.Code != tc.status ||
				strings.TrimSpace(rec.Body.String()) != want || (tc.status == 503) != (rec.Header().Get("Retry-After") != "") {
				t.Fatalf("public readyz: %d %v %s, want %d %s", rec.Code, rec.Header(), rec.Body, tc.status, want)
			}
			rec = do(NewOperatorServer(slog.New(slog.DiscardHandler), tc.checks, nil), http.MethodGet, "/readyz")
			var body readiness
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tc.status || len(body.Checks) != len(tc.want) {
				t.Fatalf("operator readyz: %d %+v", rec.Code, body)
			}
			for k, v := range tc.want {
				if body.Checks[k] != v {
					t.Errorf("check %s = %q, want %q", k, body.Checks[k], v)
				}
			}
		})
	}
}

func TestProblemsForUnknownRouteAndMethod(t *testing.T) {
	h, _ := newTestServer(t)
	for _, tc := range []struct {
		method, target string
		status         int
		code           string
	}{
		{http.MethodGet, "/v1/nothing-here", 404, "not_found"},
		{http.MethodPost, "/healthz", 405, "method_not_allowed"},
	} {
		rec := do(h, tc.method, tc.target)
		if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.target, ct)
		}
		var p problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if rec.Code != tc.status || p.Status != tc.status || p.Code != tc.code || p.Type != "urn:recordvault:problem:"+tc.code || p.Title == "" {
			t.Errorf("%s %s: %d %+v", tc.method, tc.target, rec.Code, p)
		}
	}
}

// Every application code has a status in the single table; any other error is answered 500
// without its text.
func TestStatusTableCoversCodes(t *testing.T) {
	for _, code := range []string{recordvault.EINVALID, recordvault.ENOTFOUND, recordvault.ECONFLICT,
		recordvault.ETOOLARGE, recordvault.EUNAUTHORIZED, recordvault.EUNAVAILABLE, recordvault.EINTERNAL} {
		if statusOf[code] < 400 {
			t.Errorf("code %s has no error status", code)
		}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, slog.New(slog.DiscardHandler), errors.New("dial 10.0.0.1: detail"))
	})
	if rec := do(h, http.MethodGet, "/"); rec.Code != 500 || strings.Contains(rec.Body.String(), "10.0.0.1") {
		t.Fatalf("plain error: %d %s", rec.Code, rec.Body)
	}
}

const canary = "CANARY-7f3a-PHI"

// A panic is answered 500 and logged by type only; the request log names the route template
// and never the query string.
func TestPanicsAndLogsCarryNoRequestData(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	h := recoverPanics(logger, logRequests(logger, nil, nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("record text " + canary)
	})))
	rec := do(h, http.MethodGet, "/v1/x?name="+canary)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("panic: status %d", rec.Code)
	}
	if strings.Contains(rec.Body.String(), canary) || strings.Contains(logs.String(), canary) {
		t.Fatalf("canary leaked: body %s logs %s", rec.Body, logs.String())
	}
	if !strings.Contains(logs.String(), "panic of type string") || !strings.Contains(logs.String(), "msg=request method=GET route=unmatched status=500") {
		t.Fatalf("panic, or its request line, not logged: %s", logs.String())
	}

	srv, srvLogs := newTestServer(t)
	do(srv, http.MethodGet, "/healthz?q="+canary)
	if l := srvLogs.String(); strings.Contains(l, canary) || !strings.Contains(l, "route=/healthz") || !strings.Contains(l, "status=200") {
		t.Fatalf("request log: %s", l)
	}
}

// fakeVerifier accepts the token "good" as dr-lee of clinic c1, and nothing else.
type fakeVerifier struct{}

func (fakeVerifier) Verify(_ context.Context, token string) (auth.Principal, error) {
	if token != "good" {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	return auth.Principal{Subject: "dr-lee", Clinic: "c1", Roles: []recordvault.Role{recordvault.RoleClinician}}, nil
}

func TestV1NeedsABearerToken(t *testing.T) {
	h, _ := newTestServer(t)
	var bodies []string
	for _, header := range []string{"", "Bearer", "Bearer bad", "Basic good", "bearer  good", "Token good"} {
		req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" ||
			rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("Authorization %q: %d %v", header, rec.Code, rec.Header())
		}
		bodies = append(bodies, rec.Body.String())
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Fatalf("401 bodies differ: %q vs %q", b, bodies[0])
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
	req.Header.Set("Authorization", "Bearer good")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var got me
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK || got.Subject != "dr-lee" || got.Clinic != "c1" {
		t.Fatalf("with a good token: %d %s", rec.Code, rec.Body)
	}
}

// Every answer carries its request's id, and so does every log line logged with the
// request's context; a proxy's id is kept when it is a plain token, replaced otherwise.
func TestRequestIDs(t *testing.T) {
	var logs bytes.Buffer
	h := NewServer(slog.New(WithRequestIDs(slog.NewJSONHandler(&logs, nil))), nil, fakeVerifier{}, nil)
	for _, c := range []struct{ sent, kept string }{{"", ""}, {"edge-42.a", "edge-42.a"}, {"bad id\nforged=1", ""}, {strings.Repeat("x", 65), ""}} {
		logs.Reset()
		req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
		if c.sent != "" {
			req.Header.Set("X-Request-Id", c.sent)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		id := w.Header().Get("X-Request-Id")
		if (c.kept != "" && id != c.kept) || (c.kept == "" && (!validRequestID.MatchString(id) || id == c.sent)) {
			t.Errorf("sent %q: answered with id %q", c.sent, id)
		}
		var line struct {
			Msg       string `json:"msg"`
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line.Msg != "request" || line.RequestID != id {
			t.Errorf("sent %q: the request's log line %s", c.sent, logs.Bytes())
		}
	}
}

// fakeObserver records what NewServer tells its observer.
type fakeObserver struct {
	mu               sync.Mutex
	routes           []string
	started, stopped int
}

func (o *fakeObserver) Request(method, route string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.routes = append(o.routes, fmt.Sprintf("%s %s %d", method, route, status))
}

func (o *fakeObserver) DownloadStarted() func() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.started++
	return func() { o.mu.Lock(); o.stopped++; o.mu.Unlock() }
}

// The observer is told each request by its route template, never the path as sent, and of
// each download while it runs, one that fails included.
func TestObserver(t *testing.T) {
	obs := &fakeObserver{}
	h := NewServer(slog.New(slog.DiscardHandler), nil, fakeVerifier{}, nil, WithObserver(obs), WithRateLimits(rate.Inf, 1, rate.Inf, 1))
	for _, c := range []struct{ method, path string }{{"GET", "/v1/clients/c7abc/records"}, {"GET", "/nowhere"}, {"POST", "/downloads"}} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.method, c.path, strings.NewReader(`{"token":"x"}`)))
	}
	want := []string{"GET /v1/clients/{client}/records 401", "GET unmatched 404", "POST /downloads 415"}
	if !slices.Equal(obs.routes, want) {
		t.Errorf("observed %q, want %q", obs.routes, want)
	}
	if obs.started != 1 || obs.stopped != 1 {
		t.Errorf("downloads started %d, ended %d; want 1 each", obs.started, obs.stopped)
	}
}

// With a tracer, each request is a server span named by its method and route template, with
// the route and status as attributes; a caller's traceparent joins its trace; the path as
// sent appears nowhere.
func TestRequestSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tracer, shutdown, err := tracing.New(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())
	h := NewServer(slog.New(slog.DiscardHandler), nil, fakeVerifier{}, nil, WithTracer(tracer))
	req := httptest.NewRequest(http.MethodGet, "/v1/clients/c7abc/records", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	attrs := map[string]string{}
	for _, a := range s.Attributes() {
		attrs[string(a.Key)] = a.Value.Emit()
	}
	if s.Name() != "GET /v1/clients/{client}/records" || attrs["http.route"] != "/v1/clients/{client}/records" || attrs["http.response.status_code"] != "401" ||
		s.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("the request's span: %q %v, trace %s", s.Name(), attrs, s.SpanContext().TraceID())
	}
	for k, v := range attrs {
		if strings.Contains(v, "c7abc") {
			t.Errorf("the span carries the path as sent: %s=%s", k, v)
		}
	}
}
