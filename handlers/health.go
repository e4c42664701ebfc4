package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/gorilla/mux"
)

// handleHealthz answers whether the process is alive; it checks no dependency.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, r, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// readiness is the body of /readyz: ready or not and, on the operator listener, each
// check's outcome, "ok" or the reason it failed.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

// handleReadyz runs every check concurrently and answers 200 only when all pass, 503 with
// Retry-After otherwise. With detail (the operator listener) it names each check's outcome and
// the reason of each failure (dependencies and addresses, never PHI); without (the public
// listener) it says ready or not and nothing else. Failures are logged either way.
func handleReadyz(logger *slog.Logger, checks []ReadinessCheck, detail bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outcomes := runChecks(r.Context(), checks)
		status, body := http.StatusOK, readiness{Status: "ready", Checks: map[string]string{}}
		for i, c := range checks {
			if err := outcomes[i]; err != nil {
				status, body.Status = http.StatusServiceUnavailable, "not ready"
				w.Header().Set("Retry-After", retryAfter)
				body.Checks[c.Name] = err.Error()
				logger.WarnContext(r.Context(), "not ready", "check", c.Name, "err", err)
				continue
			}
			body.Checks[c.Name] = "ok"
		}
		if !detail {
			body.Checks = nil
		}
		encode(w, r, status, body)
	})
}

// NewOperatorServer returns the handler of the operator listener (RECORDVAULT_OPERATOR_LISTEN),
// for the operators' network only: /readyz with each check's outcome and reason, and
// /healthz.
func NewOperatorServer(logger *slog.Logger, checks []ReadinessCheck, metrics http.Handler) http.Handler {
	r := mux.NewRouter()
	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", handleReadyz(logger, checks, true)).Methods(http.MethodGet, http.MethodHead)
	if metrics != nil {
		r.Handle("/metrics", metrics).Methods(http.MethodGet)
	}
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeProblem(w, r, logger, errNoRoute) })
	return recoverPanics(logger, logRequests(logger, nil, nil, securityHeaders(r)))
}

func runChecks(ctx context.Context, checks []ReadinessCheck) []error {
	outcomes := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { outcomes[i] = c.Ready(ctx) })
	}
	wg.Wait()
	return outcomes
}
