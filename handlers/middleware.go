package handlers

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// securityHeaders sets what every response carries: nothing here may be cached by a browser
// or a proxy, and no response may be sniffed into another content type.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status a handler wrote, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (flushing, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// requestLog is what the request log line learns along the way; the router fills in the route.
type requestLog struct {
	route string
	start time.Time
}

type requestLogKey struct{}

// logRequests logs one line per request at the boundary: method, route template, status and
// duration. Never the raw path, query string, headers or body: ids in a path are not PHI, but
// a query string or a token could be.
func logRequests(logger *slog.Logger, obs Observer, tracer trace.Tracer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestIDHeader)
		if !validRequestID.MatchString(id) {
			id = strings.ToLower(rand.Text()[:16])
		}
		w.Header().Set(requestIDHeader, id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		info := &requestLog{route: "unmatched", start: start}
		var span trace.Span
		if tracer != nil { // a caller's traceparent joins its trace
			var ctx context.Context
			ctx, span = tracer.Start(otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header)), "HTTP "+r.Method,
				trace.WithSpanKind(trace.SpanKindServer))
			r = r.WithContext(ctx)
		}
		defer func() {
			// A panic still gets its request line, as the 500 recoverPanics will answer; the
			// panic goes on to it.
			status, v := rec.status, recover()
			if v != nil {
				status = http.StatusInternalServerError
			}
			took := time.Since(start)
			logger.InfoContext(r.Context(), "request", "method", r.Method, "route", info.route,
				"status", status, "duration_ms", took.Milliseconds())
			if obs != nil {
				obs.Request(r.Method, info.route, status, took)
			}
			if span != nil {
				span.SetName(r.Method + " " + info.route)
				span.SetAttributes(attribute.String("http.request.method", r.Method), attribute.String("http.route", info.route),
					attribute.Int("http.response.status_code", status), attribute.String("request_id", id))
				if status >= http.StatusInternalServerError {
					span.SetStatus(codes.Error, http.StatusText(status))
				}
				span.End()
			}
			if v != nil {
				panic(v)
			}
		}()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestLogKey{}, info)))
	})
}

// requestIDHeader carries a request's id, in every answer and (from a proxy that set one) in
// the request: every log line of the request carries it (WithRequestIDs). The body never
// does, so that answers meant to be identical (unknown and forbidden) stay so.
const requestIDHeader = "X-Request-Id"

// validRequestID is what an incoming request id must be to be kept: anything else is replaced,
// so that no caller writes what it likes into the logs.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

type requestIDKey struct{}

// requestID is the id of the request ctx belongs to ("" outside one).
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// WithRequestIDs adds the request's id to every record logged with a request's context.
func WithRequestIDs(h slog.Handler) slog.Handler { return requestIDs{h} }

type requestIDs struct{ slog.Handler }

func (h requestIDs) Handle(ctx context.Context, r slog.Record) error {
	if id := requestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDs{h.Handler.WithAttrs(attrs)}
}
func (h requestIDs) WithGroup(name string) slog.Handler { return requestIDs{h.Handler.WithGroup(name)} }

// Observer is told of every request answered (its route template, method, status and time)
// and of the downloads in flight; metrics.Metrics is the service's.
type Observer interface {
	Request(method, route string, status int, d time.Duration)
	DownloadStarted() (done func())
}

// WithTracer makes every request a span of tracer (package tracing), named by its route
// template, under which the calls it makes to Vault and S3 are traced.
func WithTracer(tracer trace.Tracer) Option {
	return func(o *serverOptions) { o.tracer = tracer }
}

// WithObserver has obs told of every request and download (metrics).
func WithObserver(obs Observer) Option {
	return func(o *serverOptions) { o.observer = obs }
}

// downloadRoutes are the routes that send a released copy or an attachment.
var downloadRoutes = map[string]bool{"/downloads": true, "/downloads/session": true, "/r/download": true,
	"/portal/copies/{release}": true, "/v1/clients/{client}/records/{record}/attachments/{attachment}": true}

// noteRoute is router middleware: it records the matched route's template for logRequests,
// and counts a download in flight with obs (nil: none) while its handler runs.
func noteRoute(obs Observer) mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tpl, err := mux.CurrentRoute(r).GetPathTemplate()
			if info, ok := r.Context().Value(requestLogKey{}).(*requestLog); ok && err == nil {
				info.route = tpl
			}
			if obs != nil && downloadRoutes[tpl] && (r.Method == http.MethodGet || r.Method == http.MethodPost) {
				defer obs.DownloadStarted()()
			}
			next.ServeHTTP(w, r)
		})
	}
}

// recoverPanics turns a panic into a 500 problem. The panic value is not logged, only its type:
// a value built from a record could carry PHI.
func recoverPanics(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				writeProblem(w, r, logger, fmt.Errorf("panic of type %T", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// requestBudget bounds what an API request waits on its dependencies, however many calls it
// makes: each Vault or S3 call is bounded on its own (a 3 s stall limit, two tries), but a
// request that reads a profile, a manifest and writes an audit block in turn could stack those
// bounds past 10 s while a storage set stalls (one MinIO node of four gone: 9–10 s seen in the
// cluster suite). Past it, the calls fail and the request is answered 503 with Retry-After.
const requestBudget = 8 * time.Second

// unbudgeted are the API routes whose work grows with what they carry or walk, each bounded
// its own way instead: attachments stream (stall limits and body deadlines), a rewrap goes
// batch by batch, a trail check and a sweep walk what is stored.
var unbudgeted = map[string]bool{
	"/v1/clients/{client}/records/{record}/attachments":              true,
	"/v1/clients/{client}/records/{record}/attachments/{attachment}": true,
	"/v1/keys/{category}/rewrap":                                     true,
	"/v1/audit/verify":                                               true,
	"/v1/maintenance/sweep-uploads":                                  true,
}

// budgetDependencies puts each API request but the unbudgeted under requestBudget.
func budgetDependencies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route := mux.CurrentRoute(r); route != nil {
			if tpl, err := route.GetPathTemplate(); err == nil && unbudgeted[tpl] {
				next.ServeHTTP(w, r)
				return
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestBudget)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
