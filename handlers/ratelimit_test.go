package handlers

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// An address past its burst on the routes without a login is answered 429 problem+json with
// Retry-After, while the /v1 routes are not limited by it; another address is not affected.
func TestRateLimitPerAddress(t *testing.T) {
	h := NewServer(slog.New(slog.DiscardHandler), nil, fakeVerifier{}, nil, WithRateLimits(rate.Every(time.Hour), 3, 1, 1))
	get := func(path, addr string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = addr
		req.Header.Set("Authorization", "Bearer good")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for i := range 3 {
		if rec := get("/r", "192.0.2.1:1000"); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i, rec.Code)
		}
	}
	rec := get("/r", "192.0.2.1:1001")
	var p problem
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Content-Type") != "application/problem+json" ||
		json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Code != codeRateLimited {
		t.Fatalf("past the burst: %d %s", rec.Code, rec.Body)
	}
	if after, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || after < 60 {
		t.Fatalf("Retry-After %q, want the hour's wait in seconds", rec.Header().Get("Retry-After"))
	}
	if rec := get("/r", "192.0.2.2:1000"); rec.Code != http.StatusOK {
		t.Fatalf("another address: %d", rec.Code)
	}
	if rec := get("/v1/me", "192.0.2.1:1002"); rec.Code != http.StatusOK {
		t.Fatalf("an authenticated route from the limited address: %d", rec.Code)
	}
}

// One download token is limited whatever address it comes from; another token is not, and
// no token is not counted.
func TestRateLimitPerToken(t *testing.T) {
	o := serverOptions{addrRate: rate.Inf, addrBurst: 1, tokenRate: rate.Every(time.Minute), tokenBurst: 2}
	lim := newLimits(slog.New(slog.DiscardHandler), o)
	for i := range 2 {
		if err := lim.byToken("tok-a"); err != nil {
			t.Fatalf("use %d within the burst: %v", i, err)
		}
	}
	err := lim.byToken("tok-a")
	if after, ok := retryAfterOf(err); !ok || after == "0" {
		t.Fatalf("past the burst: %v (Retry-After %q)", err, after)
	}
	if err := lim.byToken("tok-b"); err != nil {
		t.Fatalf("another token: %v", err)
	}
	for range 5 {
		if err := lim.byToken(""); err != nil {
			t.Fatalf("no token: %v", err)
		}
	}
}

// The limiter forgets idle keys when it holds too many, and keeps the busy ones.
func TestLimiterForgetsIdleKeys(t *testing.T) {
	l := newLimiter(rate.Every(time.Hour), 1)
	now := time.Unix(0, 0)
	l.now = func() time.Time { return now }
	if l.allow("busy") != nil {
		t.Fatal("first use refused")
	}
	l.keys["idle"] = rate.NewLimiter(l.every, l.burst)
	l.forgetIdle(now)
	if _, ok := l.keys["idle"]; ok {
		t.Error("an idle key was kept")
	}
	if _, ok := l.keys["busy"]; !ok {
		t.Error("a busy key was forgotten")
	}
}
