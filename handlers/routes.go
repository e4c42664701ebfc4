package handlers

import (
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
)

// addRoutes lists every route of the service, so the whole API can be read in one place.
func addRoutes(r *mux.Router, logger *slog.Logger, checks []ReadinessCheck) {
	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", handleReadyz(logger, checks)).Methods(http.MethodGet, http.MethodHead)
}
