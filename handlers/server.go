// Package handlers is recordvault's HTTP layer: routing, encoding, errors as RFC 9457
// problem+json, and request logging at the boundary. It holds no domain rules; it decodes a
// request, calls a service, and encodes the answer.
package handlers

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
)

// ReadinessCheck is one dependency /readyz reports on.
type ReadinessCheck struct {
	Name  string
	Ready func(context.Context) error
}

// NewServer returns the recordvault HTTP handler: health endpoints without authentication,
// everything under /v1 behind bearer tokens checked by verifier.
func NewServer(logger *slog.Logger, checks []ReadinessCheck, verifier TokenVerifier) http.Handler {
	var h http.Handler = newRouter(logger, checks, verifier)
	h = securityHeaders(h)
	h = logRequests(logger, h)
	h = recoverPanics(logger, h)
	return h
}

// newRouter returns the router with every route; NewServer wraps it in the middleware that
// applies to all requests.
func newRouter(logger *slog.Logger, checks []ReadinessCheck, verifier TokenVerifier) *mux.Router {
	r := mux.NewRouter()
	r.Use(noteRoute)
	addRoutes(r, logger, checks, verifier)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, logger, errNoRoute)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, logger, errMethod)
	})
	return r
}
