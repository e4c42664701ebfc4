// Package auth authenticates recordvault's callers: bearer JWTs from an OpenID Connect issuer,
// verified with golang-jwt against the issuer's JWKS, which keyfunc fetches, caches and
// refreshes (on a timer, and when a token names a key it has not seen). Any standard issuer
// works unchanged (Keycloak, Auth0, Entra ID): configure its issuer URL, the audience it puts
// in tokens for recordvault, and its JWKS URL, and have it add two claims: "clinic" (the
// clinic's id) and "roles".
//
// Only asymmetric algorithms are accepted (no "none", no HMAC: a public key must never work as
// a shared secret), and every token must carry the configured issuer and audience, a subject,
// and an expiry. Whatever is wrong with a token, the answer is the same ErrUnauthenticated.
package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/recordvault/recordvault"
)

// Principal is an authenticated caller.
type Principal struct {
	Subject string
	Clinic  string
	Roles   []recordvault.Role
}

// Config names the issuer whose tokens are accepted.
type Config struct {
	Issuer   string
	Audience string
	JWKSURL  string
	// Leeway tolerates clock skew with the issuer on exp, nbf and iat; 30 s when zero.
	Leeway time.Duration
}

// ErrUnauthenticated is the one answer to any token that is missing, malformed, expired,
// badly signed or meant for someone else.
var ErrUnauthenticated = recordvault.Errorf(recordvault.EUNAUTHORIZED, "missing or invalid bearer token")

// MaxTokenSize bounds the tokens Verify parses.
const MaxTokenSize = 8 << 10

// acceptedAlgorithms are the asymmetric signature algorithms of OIDC issuers.
var acceptedAlgorithms = []string{"ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"}

// Verifier checks bearer tokens.
type Verifier struct {
	keys   keyfunc.Keyfunc
	parser *jwt.Parser
}

// NewVerifier returns a Verifier for cfg. The JWKS is fetched in the background and refreshed
// until ctx ends.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" || cfg.JWKSURL == "" {
		return nil, errors.New("auth: issuer, audience and JWKS URL are required")
	}
	keys, err := keyfunc.NewDefaultCtx(ctx, []string{cfg.JWKSURL})
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS %s: %w", cfg.JWKSURL, err)
	}
	leeway := cfg.Leeway
	if leeway == 0 {
		leeway = 30 * time.Second
	}
	return &Verifier{keys: keys, parser: jwt.NewParser(
		jwt.WithValidMethods(acceptedAlgorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
	)}, nil
}

// Claims are the token's claims recordvault reads.
type Claims struct {
	jwt.RegisteredClaims
	Clinic string   `json:"clinic"`
	Roles  []string `json:"roles"`
}

// Verify checks token and returns its caller. Roles it does not know are ignored.
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	if token == "" || len(token) > MaxTokenSize {
		return Principal{}, ErrUnauthenticated
	}
	var c Claims
	if _, err := v.parser.ParseWithClaims(token, &c, v.keys.KeyfuncCtx(ctx)); err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	if !recordvault.ValidSubject(c.Subject) || !recordvault.ValidID(c.Clinic) {
		return Principal{}, fmt.Errorf("%w: no subject or clinic", ErrUnauthenticated)
	}
	p := Principal{Subject: c.Subject, Clinic: c.Clinic}
	for _, r := range c.Roles {
		if slices.Contains(recordvault.Roles, recordvault.Role(r)) {
			p.Roles = append(p.Roles, recordvault.Role(r))
		}
	}
	return p, nil
}
