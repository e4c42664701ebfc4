package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/auth"
	"github.com/recordvault/recordvault/internal/devissuer"
)

const (
	issuer   = "https://issuer.test"
	audience = "recordvault"
	kid      = "key-1"
)

// jwksServer serves the public half of key under kid.
func jwksServer(t *testing.T, key *ecdsa.PrivateKey) *httptest.Server {
	t.Helper()
	jwk, err := jwkset.NewJWKFromKey(key.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{ALG: jwkset.AlgES256, KID: kid, USE: jwkset.UseSig}})
	if err != nil {
		t.Fatal(err)
	}
	set := jwkset.NewMemoryStorage()
	set.KeyWrite(context.Background(), jwk)
	raw, _ := set.JSONPublic(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(raw) }))
	t.Cleanup(srv.Close)
	return srv
}

func validClaims() auth.Claims {
	now := time.Now()
	return auth.Claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: issuer, Subject: "dr-lee", Audience: jwt.ClaimStrings{audience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute))},
		Clinic: "clinic1", Roles: []string{"clinician", "astronaut"}}
}

func sign(t *testing.T, c jwt.Claims, key *ecdsa.PrivateKey, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	v, err := auth.NewVerifier(ctx, auth.Config{Issuer: issuer, Audience: audience, JWKSURL: jwksServer(t, key).URL})
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, validClaims(), key, kid)
	p, err := v.Verify(ctx, good)
	if err != nil || p.Subject != "dr-lee" || p.Clinic != "clinic1" || !slices.Equal(p.Roles, []recordvault.Role{recordvault.RoleClinician}) {
		t.Fatalf("valid token: %+v, %v", p, err)
	}

	with := func(f func(*auth.Claims)) string {
		c := validClaims()
		f(&c)
		return sign(t, c, key, kid)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(key.Public())
	hmacWithPublicKey, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims()).SignedString(pubDER)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	parts := strings.Split(good, ".")
	tamperedPayload := parts[0] + "." + strings.Replace(parts[1], parts[1][10:14], "AAAA", 1) + "." + parts[2]
	escalated := parts[0] + "." + strings.Split(with(func(c *auth.Claims) { c.Roles = []string{"clinic_admin"} }), ".")[1] + "." + parts[2]

	for name, token := range map[string]string{
		"empty":                            "",
		"garbage":                          "not.a.jwt",
		"alg none":                         none,
		"HS256 signed with the public key": hmacWithPublicKey,
		"signed by another key, same kid":  sign(t, validClaims(), other, kid),
		"unknown kid":                      sign(t, validClaims(), other, "key-2"),
		"payload tampered":                 tamperedPayload,
		"roles swapped under a signature":  escalated,
		"signature stripped":               parts[0] + "." + parts[1] + ".",
		"expired":                          with(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour)) }),
		"no expiry":                        with(func(c *auth.Claims) { c.ExpiresAt = nil }),
		"not yet valid":                    with(func(c *auth.Claims) { c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour)) }),
		"issued in the future":             with(func(c *auth.Claims) { c.IssuedAt = jwt.NewNumericDate(time.Now().Add(time.Hour)) }),
		"another issuer":                   with(func(c *auth.Claims) { c.Issuer = "https://evil.test" }),
		"another audience":                 with(func(c *auth.Claims) { c.Audience = jwt.ClaimStrings{"other-service"} }),
		"no subject":                       with(func(c *auth.Claims) { c.Subject = "" }),
		"a subject with a slash":           with(func(c *auth.Claims) { c.Subject = "a/b" }),
		"a subject with a space":           with(func(c *auth.Claims) { c.Subject = "dr lee" }),
		"no clinic":                        with(func(c *auth.Claims) { c.Clinic = "" }),
		"clinic with a path":               with(func(c *auth.Claims) { c.Clinic = "../clinic2" }),
		"oversized":                        with(func(c *auth.Claims) { c.ID = strings.Repeat("x", auth.MaxTokenSize) }),
	} {
		p, err := v.Verify(ctx, token)
		if !errors.Is(err, auth.ErrUnauthenticated) || p.Subject != "" {
			t.Errorf("%s: %+v, %v; want ErrUnauthenticated", name, p, err)
		}
	}
}

// The development issuer's tokens verify against its own JWKS.
func TestDevIssuerTokensVerify(t *testing.T) {
	ctx := context.Background()
	var iss *devissuer.Issuer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { iss.Handler().ServeHTTP(w, r) }))
	defer srv.Close()
	iss, err := devissuer.New(srv.URL, audience, map[string]devissuer.User{
		"dr-lee": {Name: "Dr. Lee", Clinic: "clinic1", Roles: []recordvault.Role{recordvault.RoleClinician}}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(ctx, auth.Config{Issuer: srv.URL, Audience: audience, JWKSURL: iss.JWKSURL()})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Mint("dr-lee")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := v.Verify(ctx, tok); err != nil || p.Subject != "dr-lee" || !slices.Contains(p.Roles, recordvault.RoleClinician) {
		t.Fatalf("dev token: %+v, %v", p, err)
	}
	if _, err := iss.Mint("nobody"); err == nil {
		t.Fatal("minted a token for an unknown user")
	}
}
