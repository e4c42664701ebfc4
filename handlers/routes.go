package handlers

import (
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
)

// addRoutes lists every route of the service, so the whole API can be read in one place.
func addRoutes(r *mux.Router, logger *slog.Logger, checks []ReadinessCheck, verifier TokenVerifier) {
	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", handleReadyz(logger, checks)).Methods(http.MethodGet, http.MethodHead)

	v1 := r.PathPrefix("/v1").Subrouter()
	v1.Use(authenticate(verifier, logger))
	v1.Handle("/me", handleMe()).Methods(http.MethodGet)
}
