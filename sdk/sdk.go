// Package sdk is the Go client of recordvault's HTTP API.
//
// Every route of docs/openapi.yaml has a typed method, generated into api.gen.go by
// oapi-codegen (`go generate ./sdk`; TestGeneratedMatchesSpec fails when the two differ).
// New wraps the generated client with what it leaves to its caller:
//
//   - a bearer token on every request, from an oauth2.TokenSource (WithTokenSource);
//   - every answer that is not a success returned as an *Error, built from the RFC 9457
//     problem the service sends, which errors.Is matches against ErrNotFound, ErrInvalid,
//     ErrConflict and the other sentinels; a success is the only thing a method returns
//     without an error, so its typed field (JSON200, JSON201) is set;
//   - idempotent requests (GET, HEAD, PUT, DELETE) retried when the service answers 503 or
//     429, after its Retry-After, a bounded number of times within a bounded wait
//     (WithRetries); a POST is never sent twice.
//
// Uploads and downloads stream: the ...WithBody methods take an io.Reader (an attachment's
// length goes with it: ContentLength), and the methods without "WithResponse" return the
// *http.Response whose body the caller reads (a ranged read sets GetAttachmentParams.Range). "Client" in the API means a clinic's client, the
// person a record is about; the Go type of the API client is ClientWithResponses.
package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Option configures New.
type Option func(*doer)

// WithTokenSource sets where bearer tokens come from (an OIDC login, a service account, a
// fixed token: oauth2.StaticTokenSource). Without one, requests carry no token.
func WithTokenSource(ts oauth2.TokenSource) Option { return func(d *doer) { d.tokens = ts } }

// WithHTTP sends requests with hc (timeouts, proxies, TLS) instead of a client whose
// requests may take up to DefaultTimeout.
func WithHTTP(hc *http.Client) Option { return func(d *doer) { d.http = hc } }

// WithRetries sets how many times an idempotent request is sent again after a 503 or 429,
// and the longest the client waits before one attempt (a longer Retry-After ends the
// retries). 0 retries turns them off.
func WithRetries(retries int, maxWait time.Duration) Option {
	return func(d *doer) { d.retries, d.maxWait = retries, maxWait }
}

// ContentLength sends a streamed body's length, which the service needs of an attachment
// (it refuses a body of unknown length rather than store part of one): pass it to
// AddAttachmentWithBody with the io.Reader of exactly n bytes.
func ContentLength(n int64) RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.ContentLength = n
		return nil
	}
}

// Defaults of New.
const (
	// DefaultTimeout bounds a request without a deadline of its own, body included (the
	// service answers within 10 s; a large attachment's transfer takes longer: pass a client
	// of your own, WithHTTP, for those).
	DefaultTimeout = 5 * time.Minute
	DefaultRetries = 3
	DefaultMaxWait = 10 * time.Second
)

// New returns a client of the service at baseURL (for example http://127.0.0.1:8080).
func New(baseURL string, opts ...Option) (*ClientWithResponses, error) {
	d := &doer{http: &http.Client{Timeout: DefaultTimeout}, retries: DefaultRetries, maxWait: DefaultMaxWait, sleep: sleep}
	for _, o := range opts {
		o(d)
	}
	return NewClientWithResponses(strings.TrimSuffix(baseURL, "/"), WithHTTPClient(d))
}

// doer sends the generated client's requests (HttpRequestDoer): token, retries, problems.
type doer struct {
	http    *http.Client
	tokens  oauth2.TokenSource
	retries int
	maxWait time.Duration
	sleep   func(ctx context.Context, d time.Duration) error
}

var _ HttpRequestDoer = (*doer)(nil)

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	if d.tokens != nil {
		tok, err := d.tokens.Token()
		if err != nil {
			return nil, fmt.Errorf("recordvault: bearer token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	for attempt := 0; ; attempt++ {
		resp, err := d.http.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode < 400 {
			return resp, nil
		}
		apiErr := problem(resp)
		wait, again := d.retryAfter(req, apiErr, attempt)
		if !again {
			return nil, apiErr
		}
		if err := d.sleep(req.Context(), wait); err != nil {
			return nil, errors.Join(apiErr, err)
		}
		if req, err = rewound(req); err != nil {
			return nil, errors.Join(apiErr, err)
		}
	}
}

// retryAfter says whether req, answered e on attempt (from 0), is sent again, and after how
// long: the service's Retry-After, or 250 ms doubling without one.
func (d *doer) retryAfter(req *http.Request, e *Error, attempt int) (time.Duration, bool) {
	if attempt >= d.retries || e.Status != http.StatusServiceUnavailable && e.Status != http.StatusTooManyRequests || !idempotent(req) {
		return 0, false
	}
	wait := e.RetryAfter
	if wait == 0 {
		wait = 250 * time.Millisecond << attempt
	}
	return wait, wait <= d.maxWait
}

// idempotent reports whether sending req twice does no more than sending it once, and its
// body can be sent again.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	}
	return false
}

// rewound is req ready to be sent again, its body from the start.
func rewound(req *http.Request) (*http.Request, error) {
	again := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("recordvault: resend body: %w", err)
		}
		again.Body = body
	}
	return again, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Error is an answer of the service that is not a success: its RFC 9457 problem.
type Error struct {
	Status int    // the HTTP status
	Code   string // the problem's code: not_found, invalid, conflict, too_large, media_type, range, unauthorized, unavailable, rate_limited, internal
	Title  string
	Detail string // what was wrong, never a value sent
	// RetryAfter is when the service asked to be tried again (503, 429), or 0.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("recordvault: %d %s", e.Status, e.Code)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Sentinels that errors.Is matches against an *Error, by its code (or status, for an answer
// without a problem).
var (
	ErrInvalid      = errors.New("recordvault: invalid request")                        // 400
	ErrUnauthorized = errors.New("recordvault: no valid credentials")                   // 401
	ErrNotFound     = errors.New("recordvault: not found")                              // 404: unknown or not the caller's, never told apart
	ErrConflict     = errors.New("recordvault: conflict")                               // 409
	ErrTooLarge     = errors.New("recordvault: too large")                              // 413
	ErrMediaType    = errors.New("recordvault: unsupported media type")                 // 415
	ErrRange        = errors.New("recordvault: range not satisfiable")                  // 416
	ErrTooMany      = errors.New("recordvault: too many requests")                      // 429
	ErrUnavailable  = errors.New("recordvault: a dependency is unavailable, try again") // 503
	ErrInternal     = errors.New("recordvault: internal error")                         // 500
)

// sentinels maps each sentinel to the problem code and status it stands for.
var sentinels = []struct {
	err    error
	code   string
	status int
}{
	{ErrInvalid, "invalid", http.StatusBadRequest},
	{ErrUnauthorized, "unauthorized", http.StatusUnauthorized},
	{ErrNotFound, "not_found", http.StatusNotFound},
	{ErrConflict, "conflict", http.StatusConflict},
	{ErrTooLarge, "too_large", http.StatusRequestEntityTooLarge},
	{ErrMediaType, "media_type", http.StatusUnsupportedMediaType},
	{ErrRange, "range", http.StatusRequestedRangeNotSatisfiable},
	{ErrTooMany, "rate_limited", http.StatusTooManyRequests},
	{ErrUnavailable, "unavailable", http.StatusServiceUnavailable},
	{ErrInternal, "internal", http.StatusInternalServerError},
}

// Is matches e against the sentinel of its code, or of its status when it has none.
func (e *Error) Is(target error) bool {
	for _, s := range sentinels {
		if s.err == target {
			return e.Code == s.code || e.Code == "" && e.Status == s.status
		}
	}
	return false
}

// maxProblem bounds the problem body read from an answer.
const maxProblem = 64 << 10

// problem reads resp, an answer that is not a success, into an *Error, and closes its body.
func problem(resp *http.Response) *Error {
	defer resp.Body.Close()
	e := &Error{Status: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	var p struct {
		Title, Detail, Code string
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxProblem))
	if strings.Contains(resp.Header.Get("Content-Type"), "json") && json.Unmarshal(body, &p) == nil {
		e.Title, e.Detail, e.Code = p.Title, p.Detail, p.Code
	}
	if e.Title == "" {
		e.Title = http.StatusText(resp.StatusCode)
	}
	return e
}

// parseRetryAfter reads a Retry-After header: seconds, or an HTTP date. 0 when absent or
// malformed.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
