package sdk

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// scripted answers each request with the next of its answers, and keeps what it was sent.
type scripted struct {
	mu      sync.Mutex
	answers []func(w http.ResponseWriter)
	got     []*http.Request
	bodies  []string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.got, s.bodies = append(s.got, r), append(s.bodies, string(body))
	answer := s.answers[min(len(s.got), len(s.answers))-1]
	s.mu.Unlock()
	answer(w)
}

func problemAnswer(status int, code, retryAfter string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/problem+json")
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"type":"urn:recordvault:problem:`+code+`","title":"T","status":0,"detail":"what was wrong","code":"`+code+`"}`)
	}
}

func jsonAnswer(status int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// newScripted returns a client of a server giving answers, whose waits are recorded, not slept.
func newScripted(t *testing.T, answers ...func(w http.ResponseWriter)) (*ClientWithResponses, *scripted, *[]time.Duration) {
	t.Helper()
	s := &scripted{answers: answers}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	var waits []time.Duration
	c, err := New(srv.URL, WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok-1"})))
	if err != nil {
		t.Fatal(err)
	}
	c.ClientInterface.(*Client).Client.(*doer).sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}
	return c, s, &waits
}

// A success fills the typed field; every other answer is an *Error that errors.Is matches by
// its problem code, with the problem's detail; the bearer token goes with every request.
func TestAnswersAndProblems(t *testing.T) {
	c, s, _ := newScripted(t, jsonAnswer(200, `{"id":"r1","category":"progress_note","status":"signed"}`))
	r, err := c.GetRecordWithResponse(context.Background(), "c1", "r1")
	if err != nil || r.JSON200 == nil || *r.JSON200.Id != "r1" {
		t.Fatalf("a success: %+v, %v", r, err)
	}
	if got := s.got[0].Header.Get("Authorization"); got != "Bearer tok-1" {
		t.Errorf("Authorization %q", got)
	}
	for _, tc := range []struct {
		status int
		code   string
		want   error
	}{
		{400, "invalid", ErrInvalid}, {401, "unauthorized", ErrUnauthorized}, {404, "not_found", ErrNotFound},
		{409, "conflict", ErrConflict}, {413, "too_large", ErrTooLarge}, {415, "media_type", ErrMediaType},
		{416, "range", ErrRange}, {500, "internal", ErrInternal},
	} {
		c, _, _ := newScripted(t, problemAnswer(tc.status, tc.code, ""))
		r, err := c.GetRecordWithResponse(context.Background(), "c1", "r1")
		var apiErr *Error
		if r != nil || !errors.Is(err, tc.want) || !errors.As(err, &apiErr) || apiErr.Status != tc.status || apiErr.Detail != "what was wrong" {
			t.Errorf("%d %s: %+v, %v", tc.status, tc.code, r, err)
		}
		if errors.Is(err, ErrNotFound) != (tc.want == ErrNotFound) {
			t.Errorf("%d %s matched ErrNotFound wrongly", tc.status, tc.code)
		}
	}
	// An answer without a problem body is matched by its status.
	c, _, _ = newScripted(t, func(w http.ResponseWriter) { w.WriteHeader(404) })
	if _, err := c.GetRecordWithResponse(context.Background(), "c1", "r1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a bare 404: %v", err)
	}
}

// An idempotent request answered 503 or 429 is sent again after Retry-After, its body whole,
// a bounded number of times; a POST never is; a Retry-After past the longest wait ends the
// retries.
func TestRetries(t *testing.T) {
	ctx := context.Background()
	c, s, waits := newScripted(t, problemAnswer(503, "unavailable", "1"), problemAnswer(429, "rate_limited", "2"), jsonAnswer(200, `{"id":"c1"}`))
	if _, err := c.SetCareTeamWithResponse(ctx, "c1", SetCareTeamJSONRequestBody{Clinicians: []string{"dr-lee"}}); err != nil {
		t.Fatal(err)
	}
	if len(s.got) != 3 || s.bodies[2] != s.bodies[0] || !strings.Contains(s.bodies[2], "dr-lee") {
		t.Errorf("%d requests, bodies %q; want 3, the same body each time", len(s.got), s.bodies)
	}
	if len(*waits) != 2 || (*waits)[0] != time.Second || (*waits)[1] != 2*time.Second {
		t.Errorf("waits %v, want [1s 2s] (Retry-After)", *waits)
	}

	c, s, _ = newScripted(t, problemAnswer(503, "unavailable", "1"))
	_, err := c.GetRecordWithResponse(ctx, "c1", "r1")
	var apiErr *Error
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Second || len(s.got) != 1+DefaultRetries {
		t.Errorf("always 503: %v after %d requests; want ErrUnavailable after %d", err, len(s.got), 1+DefaultRetries)
	}

	c, s, _ = newScripted(t, problemAnswer(503, "unavailable", "1"), jsonAnswer(201, `{"id":"r1"}`))
	if _, err := c.CreateRecordWithResponse(ctx, "c1", CreateRecordJSONRequestBody{}); !errors.Is(err, ErrUnavailable) || len(s.got) != 1 {
		t.Errorf("a POST answered 503: %v after %d requests; want ErrUnavailable after 1", err, len(s.got))
	}

	c, s, _ = newScripted(t, problemAnswer(503, "unavailable", "3600"), jsonAnswer(200, `{}`))
	if _, err := c.GetRecordWithResponse(ctx, "c1", "r1"); !errors.Is(err, ErrUnavailable) || len(s.got) != 1 {
		t.Errorf("Retry-After an hour: %v after %d requests; want ErrUnavailable after 1", err, len(s.got))
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "7": 7 * time.Second, "-1": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", in, got, want)
		}
	}
}
