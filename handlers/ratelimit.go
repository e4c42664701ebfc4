package handlers

import (
	"crypto/sha256"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/recordvault/recordvault"
)

// Rate limits. The routes that take no login (downloads, one-time codes, the recipient page)
// are open to anyone; each of their requests reads the bucket, may call Vault, and is audited.
// So that anonymous traffic can neither slow the service for others nor fill its disks, they
// are limited per client address, and every use of one download token is limited per token
// (its hash: the token itself is never kept), each with a token bucket
// (golang.org/x/time/rate). A request over a limit is answered 429 problem+json with
// Retry-After, before any work and without an audit event: it decided nothing.

// Default limits: a recipient's whole flow (page, code, download, a retry or two) fits in a
// token's burst; an address may open a few links a minute, and a burst of them.
const (
	defaultAddrRate   = rate.Limit(1)   // anonymous requests a second, per address
	defaultAddrBurst  = 30              // at once
	defaultTokenRate  = rate.Limit(0.1) // uses of one token a second
	defaultTokenBurst = 8
	// maxLimiterKeys bounds the addresses and tokens remembered; past it, keys whose bucket
	// is full again (idle) are forgotten first.
	maxLimiterKeys = 100_000
)

// WithRateLimits sets the limits on the routes without a login: per client address, and per
// download token. Values that are not positive leave the defaults.
func WithRateLimits(perAddress rate.Limit, addressBurst int, perToken rate.Limit, tokenBurst int) Option {
	return func(o *serverOptions) {
		if perAddress > 0 && addressBurst > 0 {
			o.addrRate, o.addrBurst = perAddress, addressBurst
		}
		if perToken > 0 && tokenBurst > 0 {
			o.tokenRate, o.tokenBurst = perToken, tokenBurst
		}
	}
}

// codeRateLimited answers a request over a limit.
const codeRateLimited = "rate_limited"

// tooMany is a request over a limit, and when to try again.
type tooMany struct {
	err        *recordvault.Error
	retryAfter time.Duration
}

func (e *tooMany) Error() string { return e.err.Error() }
func (e *tooMany) Unwrap() error { return e.err }

// limiter keeps one token bucket per key.
type limiter struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	keys  map[string]*rate.Limiter
	now   func() time.Time
}

func newLimiter(every rate.Limit, burst int) *limiter {
	return &limiter{every: every, burst: burst, keys: map[string]*rate.Limiter{}, now: time.Now}
}

// allow takes one request of key from its bucket, or says how long until one would be there.
func (l *limiter) allow(key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	lim, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= maxLimiterKeys {
			l.forgetIdle(now)
		}
		lim = rate.NewLimiter(l.every, l.burst)
		l.keys[key] = lim
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return &tooMany{err: recordvault.Errorf(codeRateLimited, "too many requests: try again later"), retryAfter: d}
	}
	return nil
}

// forgetIdle drops the keys whose bucket is full: forgetting them changes nothing.
func (l *limiter) forgetIdle(now time.Time) {
	for k, lim := range l.keys {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.keys, k)
		}
	}
}

// limits are the server's limiters.
type limits struct {
	addr, token *limiter
	logger      *slog.Logger
}

func newLimits(logger *slog.Logger, o serverOptions) *limits {
	return &limits{addr: newLimiter(o.addrRate, o.addrBurst), token: newLimiter(o.tokenRate, o.tokenBurst), logger: logger}
}

// byToken takes one use of a download token; "" (no token) is not limited here, and fails
// on its own.
func (l *limits) byToken(token string) error {
	if token == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(token))
	return l.token.allow(string(sum[:]))
}

// byAddress limits next per client address, answering 429 problem+json over the limit.
func (l *limits) byAddress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		if err := l.addr.allow(host); err != nil {
			writeProblem(w, r, l.logger, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// retryAfterOf is the Retry-After of err in whole seconds, at least one, when it is a
// request over a limit.
func retryAfterOf(err error) (string, bool) {
	var t *tooMany
	if !errors.As(err, &t) {
		return "", false
	}
	return strconv.Itoa(int(math.Ceil(max(t.retryAfter, time.Second).Seconds()))), true
}

// DefaultRateLimits is the default limits, for a caller that set others before.
func DefaultRateLimits() Option {
	return WithRateLimits(defaultAddrRate, defaultAddrBurst, defaultTokenRate, defaultTokenBurst)
}
