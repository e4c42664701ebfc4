// Package handlers is recordvault's HTTP layer: routing, encoding, errors as RFC 9457
// problem+json, and request logging at the boundary. It holds no domain rules; it decodes a
// request, calls a service, and encodes the answer.
package handlers

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/recordvault/recordvault/app"
)

// ReadinessCheck is one dependency /readyz reports on.
type ReadinessCheck struct {
	Name  string
	Ready func(context.Context) error
}

// NewServer returns the recordvault HTTP handler: health endpoints without authentication,
// everything under /v1 behind bearer tokens checked by verifier and served by svc; opts adjust
// it (WithBodyDeadline).
func NewServer(logger *slog.Logger, checks []ReadinessCheck, verifier TokenVerifier, svc *app.Service, opts ...Option) http.Handler {
	o := serverOptions{bodyGrace: defaultBodyGrace, minBodyRate: defaultMinBodyRate,
		addrRate: defaultAddrRate, addrBurst: defaultAddrBurst, tokenRate: defaultTokenRate, tokenBurst: defaultTokenBurst}
	for _, opt := range opts {
		opt(&o)
	}
	var h http.Handler = newRouter(logger, checks, verifier, svc, newLimits(logger, o), o.portal, o.observer)
	h = bodyDeadline(o, h)
	h = limitHeaders(logger, h)
	h = securityHeaders(h)
	h = logRequests(logger, o.observer, o.tracer, h)
	h = recoverPanics(logger, h)
	return h
}

// newRouter returns the router with every route; NewServer wraps it in the middleware that
// applies to all requests.
//
// Paths are matched as sent (encoded, uncleaned), so that an id carrying "..", "%2F" or any
// other path character reaches its handler and is refused there as malformed.
func newRouter(logger *slog.Logger, checks []ReadinessCheck, verifier TokenVerifier, svc *app.Service, lim *limits, portal *Portal, obs Observer) *mux.Router {
	r := mux.NewRouter().UseEncodedPath().SkipClean(true)
	r.Use(noteRoute(obs))
	addRoutes(r, logger, checks, verifier, svc, lim, portal)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, logger, errNoRoute)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, logger, errMethod)
	})
	return r
}
