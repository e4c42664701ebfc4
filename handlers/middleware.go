package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
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
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		info := &requestLog{route: "unmatched", start: start}
		defer func() {
			// A panic still gets its request line, as the 500 recoverPanics will answer; the
			// panic goes on to it.
			status, v := rec.status, recover()
			if v != nil {
				status = http.StatusInternalServerError
			}
			logger.InfoContext(r.Context(), "request", "method", r.Method, "route", info.route,
				"status", status, "duration_ms", time.Since(start).Milliseconds())
			if v != nil {
				panic(v)
			}
		}()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestLogKey{}, info)))
	})
}

// noteRoute is router middleware: it records the matched route's template for logRequests.
func noteRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info, ok := r.Context().Value(requestLogKey{}).(*requestLog); ok {
			if tpl, err := mux.CurrentRoute(r).GetPathTemplate(); err == nil {
				info.route = tpl
			}
		}
		next.ServeHTTP(w, r)
	})
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
