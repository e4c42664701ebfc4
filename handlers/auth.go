package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/auth"
)

// TokenVerifier checks a bearer token; auth.Verifier is the one the service uses.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (auth.Principal, error)
}

var _ TokenVerifier = (*auth.Verifier)(nil)

type principalKey struct{}

// authenticate admits requests that carry a valid bearer token and puts their principal in
// the context. Every other request gets the same 401 problem, whatever was wrong with it.
func authenticate(v TokenVerifier, logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			p, err := v.Verify(r.Context(), token)
			if !strings.EqualFold(scheme, "Bearer") || err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="recordvault"`)
				writeProblem(w, r, logger, auth.ErrUnauthenticated)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
		})
	}
}

// principal returns the caller authenticate admitted.
func principal(ctx context.Context) auth.Principal {
	p, _ := ctx.Value(principalKey{}).(auth.Principal)
	return p
}

// me is the body of GET /v1/me.
type me struct {
	Subject string             `json:"subject"`
	Clinic  string             `json:"clinic"`
	Roles   []recordvault.Role `json:"roles"`
}

// handleMe answers who the bearer token says the caller is.
func handleMe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principal(r.Context())
		encode(w, r, http.StatusOK, me{Subject: p.Subject, Clinic: p.Clinic, Roles: p.Roles})
	})
}
