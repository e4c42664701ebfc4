package tokens

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/recordvault/recordvault/vault/vaulttest"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func claims() Claims {
	return Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "release1", Audience: jwt.ClaimStrings{"smith-law"}},
		Clinic: "c1", Client: "p1", Document: "d1", ContentHash: "sha256:00", Fields: []string{"plan"}}
}

func newService(t *testing.T) *Service {
	t.Helper()
	s, err := New(vaulttest.Keyring{}, 10*time.Minute, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sign makes a token with the clinic's real (stand-in) key over any claims and header.
func sign(t testing.TB, c jwt.Claims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	tok.Header["kid"] = KeyName("c1") + ":v1"
	for k, v := range header {
		tok.Header[k] = v
	}
	input, err := tok.SigningString()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := vaulttest.Keyring{}.SignJWS(context.Background(), KeyName("c1"), 1, []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + sig
}

// full is a complete set of claims, as Issue would make them at now.
func full(edit func(*Claims)) Claims {
	c := claims()
	c.Issuer, c.ID = Issuer, "jti1"
	c.IssuedAt, c.NotBefore, c.ExpiresAt = jwt.NewNumericDate(now), jwt.NewNumericDate(now), jwt.NewNumericDate(now.Add(10*time.Minute))
	if edit != nil {
		edit(&c)
	}
	return c
}

func TestIssueAndVerify(t *testing.T) {
	s := newService(t)
	tok, exp, err := s.Issue(context.Background(), claims(), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(10 * time.Minute)) {
		t.Fatalf("expires %s, want 10 minutes from now", exp)
	}
	c, err := s.Verify(context.Background(), tok)
	if err != nil || c.Subject != "release1" || c.Audience[0] != "smith-law" || c.ID == "" || c.Fields[0] != "plan" {
		t.Fatalf("verify: %v, %+v", err, c)
	}
	short, exp, err := s.Issue(context.Background(), claims(), now.Add(3*time.Minute))
	if err != nil || !exp.Equal(now.Add(3*time.Minute)) {
		t.Fatalf("a token past its release's window: %s, %v", exp, err)
	}
	if _, err := s.Verify(context.Background(), short); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Issue(context.Background(), claims(), now.Add(-time.Second)); err == nil {
		t.Fatal("a token issued after its release's window")
	}
	if _, err := New(vaulttest.Keyring{}, 16*time.Minute, nil); err == nil {
		t.Fatal("a lifetime over the cap was accepted")
	}
}

// Every forged, altered or stale token is refused with the one error.
func TestVerifyRefuses(t *testing.T) {
	s := newService(t)
	good := sign(t, full(nil), nil)
	if _, err := s.Verify(context.Background(), good); err != nil {
		t.Fatalf("the control token: %v", err)
	}
	_, keys, _ := vaulttest.Keyring{}.SigningKeys(context.Background(), KeyName("c1"))
	der, _ := x509.MarshalPKIXPublicKey(keys[1])
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, full(nil)).SignedString(der)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, full(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherTok := jwt.NewWithClaims(jwt.SigningMethodES256, full(nil))
	otherTok.Header["kid"] = KeyName("c1") + ":v1"
	forged, _ := otherTok.SignedString(other)
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"plan"`, `"risk"`, 1))) + "." + parts[2]
	for name, tok := range map[string]string{
		"alg none":                  none,
		"HS256 with the public key": hs,
		"another key":               forged,
		"tampered scope":            tampered,
		"signature dropped":         parts[0] + "." + parts[1] + ".",
		"oversized":                 good + strings.Repeat("A", MaxSize),
		"garbage":                   "not.a.token",
		"expired":                   sign(t, full(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Second)) }), nil),
		"not yet valid":             sign(t, full(func(c *Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Minute)) }), nil),
		"issued in the future":      sign(t, full(func(c *Claims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Minute)) }), nil),
		"no expiry":                 sign(t, full(func(c *Claims) { c.ExpiresAt = nil }), nil),
		"no not-before":             sign(t, full(func(c *Claims) { c.NotBefore = nil }), nil),
		"no issued-at":              sign(t, full(func(c *Claims) { c.IssuedAt = nil }), nil),
		"lives over the cap":        sign(t, full(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(MaxTTL + time.Second)) }), nil),
		"another issuer":            sign(t, full(func(c *Claims) { c.Issuer = "evil" }), nil),
		"two audiences":             sign(t, full(func(c *Claims) { c.Audience = jwt.ClaimStrings{"smith-law", "jones"} }), nil),
		"no audience":               sign(t, full(func(c *Claims) { c.Audience = nil }), nil),
		"no release":                sign(t, full(func(c *Claims) { c.Subject = "" }), nil),
		"no jti":                    sign(t, full(func(c *Claims) { c.ID = "" }), nil),
		"no content hash":           sign(t, full(func(c *Claims) { c.ContentHash = "" }), nil),
		"no fields":                 sign(t, full(func(c *Claims) { c.Fields = nil }), nil),
		"malformed document":        sign(t, full(func(c *Claims) { c.Document = "../d" }), nil),
		"another clinic's claim":    sign(t, full(func(c *Claims) { c.Clinic = "c2" }), nil),
		"kid of another key":        sign(t, full(nil), map[string]any{"kid": "rv-c1-manifest-signing:v1"}),
		"unknown key version":       sign(t, full(nil), map[string]any{"kid": KeyName("c1") + ":v7"}),
		"no kid":                    sign(t, full(nil), map[string]any{"kid": nil}),
		"ES384 header":              sign(t, full(nil), map[string]any{"alg": "ES384"}),
	} {
		c, err := s.Verify(context.Background(), tok)
		if !errors.Is(err, ErrInvalid) || c != nil {
			t.Errorf("%s: %v, %+v", name, err, c)
		}
	}
}

// countingKeys counts reads of public keys.
type countingKeys struct {
	vaulttest.Keyring
	reads atomic.Int64
}

func (k *countingKeys) SigningKeys(ctx context.Context, keyName string) (int, map[int]*ecdsa.PublicKey, error) {
	k.reads.Add(1)
	if !strings.HasPrefix(keyName, "rv-c1-") {
		return 0, nil, errors.New("no such key")
	}
	return k.Keyring.SigningKeys(ctx, keyName)
}

// Forged tokens naming made-up key versions or clinics do not each cost a Vault read.
func TestVerifyBoundsKeyReads(t *testing.T) {
	keys := &countingKeys{}
	clock := now
	s, err := New(keys, 10*time.Minute, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(context.Background(), sign(t, full(nil), nil)); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		s.Verify(context.Background(), sign(t, full(nil), map[string]any{"kid": fmt.Sprintf("%s:v%d", KeyName("c1"), i+2)}))
		s.Verify(context.Background(), sign(t, full(func(c *Claims) { c.Clinic = fmt.Sprintf("x%d", i) }),
			map[string]any{"kid": KeyName(fmt.Sprintf("x%d", i)) + ":v1"}))
	}
	if n := keys.reads.Load(); n > 1+unknownKeyRate {
		t.Fatalf("%d key reads for 200 forged tokens", n)
	}
	clock = clock.Add(keyRefreshGap)
	s.Verify(context.Background(), sign(t, full(nil), map[string]any{"kid": KeyName("c1") + ":v2"}))
	if _, err := s.Verify(context.Background(), sign(t, full(nil), nil)); err != nil {
		t.Fatalf("the real key after the flood: %v", err)
	}
}

// FuzzVerify: whatever the bytes, Verify does not panic, and nothing but the genuine token
// verifies as its claims.
func FuzzVerify(f *testing.F) {
	s, err := New(vaulttest.Keyring{}, 10*time.Minute, func() time.Time { return now })
	if err != nil {
		f.Fatal(err)
	}
	good := sign(f, full(nil), nil)
	f.Add(good)
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := s.Verify(context.Background(), token)
		if err == nil && (token != good || c.ID != "jti1") {
			t.Fatalf("a token other than the genuine one verified: %q", token)
		}
	})
}
