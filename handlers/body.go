package handlers

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/recordvault/recordvault"
)

// Request bodies get a deadline of their own. Go's server bounds a body only through
// ReadTimeout, which would cut a 500 MB evaluation on a slow line as surely as a stalled one;
// without a bound, a client that trickles bodies holds a handler (and, for an attachment, an
// upload in progress) per connection for as long as it likes. Here a body must arrive within
// a grace period plus the time its length takes at a modest rate, and a body that misses it,
// or breaks off, is answered as a problem in its own words rather than as an internal error.
const (
	defaultBodyGrace   = 30 * time.Second
	defaultMinBodyRate = 64 << 10 // bytes a second: a 500 MB attachment may take 2 h 10 min
)

var (
	errBodyTimeout = recordvault.Errorf(codeTimeout, "the request body did not arrive in time")
	errBodyBroken  = recordvault.Errorf(recordvault.EINVALID, "the request body ended before its length or could not be read")
)

// Option adjusts the server NewServer returns.
type Option func(*serverOptions)

type serverOptions struct {
	portal                *Portal
	observer              Observer
	tracer                trace.Tracer
	bodyGrace             time.Duration
	minBodyRate           int64
	addrRate, tokenRate   rate.Limit
	addrBurst, tokenBurst int
}

// WithPortal serves the client portal p under /portal/.
func WithPortal(p *Portal) Option {
	return func(o *serverOptions) { o.portal = p }
}

// WithBodyDeadline sets how long a request body may take to arrive: grace, plus its length
// at minRate bytes a second (a body other than an attachment counts as the largest JSON body
// at most). The default is 30 s and 64 KiB/s; values that are not positive leave it.
func WithBodyDeadline(grace time.Duration, minRate int64) Option {
	return func(o *serverOptions) {
		if grace > 0 && minRate > 0 {
			o.bodyGrace, o.minBodyRate = grace, minRate
		}
	}
}

// bodyDeadline puts each request body under a deadline on its connection, as long as a
// JSON body at most may take (allowBody extends it for an attachment), and answers for the
// body's failures (deadlineBody).
func bodyDeadline(o serverOptions, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		b := &deadlineBody{ReadCloser: r.Body, rc: http.NewResponseController(w), start: time.Now(), o: o}
		length := r.ContentLength
		if length < 0 || length > maxJSONBody {
			length = maxJSONBody
		}
		b.allow(length)
		r.Body = b
		next.ServeHTTP(w, r)
	})
}

// allowBody gives a request body the time length bytes take, for handlers that take bodies
// larger than JSON's.
func allowBody(r *http.Request, length int64) {
	if b, ok := r.Body.(*deadlineBody); ok {
		b.allow(length)
	}
}

// deadlineBody is a request body under bodyDeadline. Its read errors become problems: a
// missed deadline errBodyTimeout, any other errBodyBroken; and the first is kept, because a
// failed body read also makes the server cancel the request's context, so that whatever the
// handler was doing with it (an upload to the storage) fails as "cancelled": writeProblem
// answers with the body's failure, the cause, instead. Once the body is read to its end, Go's
// server lifts the deadline itself as it starts reading the connection in the background (to
// notice a client that leaves), so a request that goes on answering past it keeps its context
// (TestBodyDeadlineLiftedOnceRead).
type deadlineBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	start  time.Time
	o      serverOptions
	mu     sync.Mutex
	failed error
}

// allow sets the body's deadline to what length bytes take from the request's start. Where
// deadlines are not supported (a test's recorder) the body stays unbounded; on a connection
// setting one does not fail.
func (b *deadlineBody) allow(length int64) {
	_ = b.rc.SetReadDeadline(b.start.Add(b.o.bodyGrace + time.Duration(length/b.o.minBodyRate)*time.Second))
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == nil, err == io.EOF:
		return n, err
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = errBodyTimeout
	default:
		err = errBodyBroken
	}
	b.mu.Lock()
	if b.failed == nil {
		b.failed = err
	}
	b.mu.Unlock()
	return n, err
}

// bodyFailure is the error a request's body failed with, or nil.
func bodyFailure(r *http.Request) error {
	b, ok := r.Body.(*deadlineBody)
	if !ok {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failed
}
