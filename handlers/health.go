package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
)

// handleHealthz answers whether the process is alive; it checks no dependency.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, r, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// readiness is the body of /readyz: each check's outcome, "ok" or the reason it failed.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// handleReadyz runs every check concurrently and answers 200 only when all pass, 503 with each
// failing check's reason otherwise. Reasons name dependencies and addresses, never PHI; the
// endpoint belongs on an operator-only listener in production.
func handleReadyz(logger *slog.Logger, checks []ReadinessCheck) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outcomes := runChecks(r.Context(), checks)
		status, body := http.StatusOK, readiness{Status: "ready", Checks: map[string]string{}}
		for i, c := range checks {
			if err := outcomes[i]; err != nil {
				status, body.Status = http.StatusServiceUnavailable, "not ready"
				body.Checks[c.Name] = err.Error()
				logger.WarnContext(r.Context(), "not ready", "check", c.Name, "err", err)
				continue
			}
			body.Checks[c.Name] = "ok"
		}
		encode(w, r, status, body)
	})
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
