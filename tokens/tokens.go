// Package tokens issues and verifies download tokens: short-lived JWTs that name one release,
// one document version, one field scope and one recipient. They are signed ES256 by a Vault
// Transit key of the clinic (`rv-<clinic>-download-signing`, ECDSA P-256, never exportable),
// so the service never holds the private key; they are verified with the public keys, read
// from Vault and cached, the key version named by the header's kid (a rotated key's older
// versions still verify the tokens they signed until those expire).
//
// A token alone does not download anything: the caller must also prove to be its recipient,
// the release must still be live, and the token is used once (package app redeems it).
package tokens

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/transit"
)

// Issuer is the iss of every download token.
const Issuer = "recordvault"

// MaxTTL is the hard cap on a token's life; the configured lifetime may only be shorter.
const MaxTTL = 15 * time.Minute

// MaxSize bounds a token presented for verification: a larger one is refused unread.
const MaxSize = 4096

// KeyName is a clinic's download-token signing key.
func KeyName(clinic string) string { return transit.Name(clinic, transit.DownloadSigning) }

// Claims are a download token's claims.
type Claims struct {
	jwt.RegisteredClaims        // iss, sub = the release, aud = the recipient, exp, nbf, iat, jti
	Clinic               string `json:"clinic"`
	Client               string `json:"client"` // the client the release is stored under
	Document             string `json:"doc"`
	// ContentHash names the released version of the document's fields (records.Fingerprint).
	ContentHash string   `json:"content_hash"`
	Fields      []string `json:"fields"`
}

// Keys is what the service needs of Vault: the signing key's public keys and JWS signing.
type Keys interface {
	EnsureSigningKey(ctx context.Context, name string) error
	SigningKeys(ctx context.Context, keyName string) (latest int, keys map[int]*ecdsa.PublicKey, err error)
	SignJWS(ctx context.Context, keyName string, version int, signingInput []byte) (string, error)
}

// ErrInvalid is the one answer for a token that is malformed, forged, expired, not yet valid,
// used, for another recipient, or anything else wrong: it says nothing of which.
var ErrInvalid = recordvault.Errorf(recordvault.EUNAUTHORIZED, "the download link is not valid")

// keyCacheTTL is how long a clinic's public keys are used before they are read again. A kid
// naming a version not among them reads them again (a rotation), but no more often than
// keyRefreshGap per key; a key that was never read is asked for at most unknownKeyRate
// times a second in all. Forged tokens naming made-up versions or clinics therefore cannot
// turn every request into a Vault call. The cache holds at most maxCachedKeys keys.
const (
	keyCacheTTL    = 5 * time.Minute
	keyRefreshGap  = time.Second
	unknownKeyRate = 10
	maxCachedKeys  = 4096
)

type cached struct {
	latest  int
	keys    map[int]*ecdsa.PublicKey // nil: the key could not be read
	fetched time.Time
}

// Service issues and verifies tokens.
type Service struct {
	keys   Keys
	ttl    time.Duration
	now    func() time.Time
	parser *jwt.Parser

	mu      sync.Mutex
	cache   map[string]cached // key name → public keys
	unknown *rate.Limiter     // reads of keys never read before
}

// New returns a Service issuing tokens that live ttl (at most MaxTTL), reading the time from
// now (time.Now when nil).
func New(keys Keys, ttl time.Duration, now func() time.Time) (*Service, error) {
	if ttl <= 0 || ttl > MaxTTL {
		return nil, fmt.Errorf("tokens: lifetime %s outside (0, %s]", ttl, MaxTTL)
	}
	if now == nil {
		now = time.Now
	}
	return &Service{keys: keys, ttl: ttl, now: now, cache: map[string]cached{}, unknown: rate.NewLimiter(unknownKeyRate, unknownKeyRate),
		parser: jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}), jwt.WithIssuer(Issuer),
			jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(now), jwt.WithStrictDecoding())}, nil
}

// publicKeys returns a key's public keys and latest version, read again when stale or when
// version is not among them.
func (s *Service) publicKeys(ctx context.Context, keyName string, version int) (cached, error) {
	s.mu.Lock()
	c, ok := s.cache[keyName]
	s.mu.Unlock()
	age := s.now().Sub(c.fetched)
	switch {
	case ok && c.keys != nil && age < keyCacheTTL && (version == 0 || c.keys[version] != nil):
		return c, nil
	case ok && age < keyRefreshGap && c.keys == nil:
		return cached{}, errors.New("tokens: public keys could not be read a moment ago")
	case ok && age < keyRefreshGap && version != 0:
		return c, nil // read a moment ago: the version is unknown
	case (!ok || c.keys == nil) && !s.unknown.AllowN(s.now(), 1):
		return cached{}, errors.New("tokens: too many reads of unknown keys")
	}
	latest, keys, err := s.keys.SigningKeys(ctx, keyName)
	c = cached{latest: latest, keys: keys, fetched: s.now()}
	if err != nil {
		c.keys = nil
	}
	s.mu.Lock()
	if _, known := s.cache[keyName]; known || len(s.cache) < maxCachedKeys {
		s.cache[keyName] = c
	}
	s.mu.Unlock()
	if err != nil {
		return cached{}, fmt.Errorf("tokens: public keys: %w", err)
	}
	return c, nil
}

func kid(keyName string, version int) string { return keyName + ":v" + strconv.Itoa(version) }

// Issue signs a token for c, valid from now for the service's lifetime or until notAfter,
// whichever is first. It fills iss, iat, nbf, exp and jti; c names the rest.
func (s *Service) Issue(ctx context.Context, c Claims, notAfter time.Time) (string, time.Time, error) {
	now := s.now().Truncate(time.Second)
	exp := now.Add(s.ttl)
	if notAfter.Before(exp) {
		exp = notAfter.Truncate(time.Second)
	}
	if !exp.After(now) {
		return "", time.Time{}, recordvault.Errorf(recordvault.ECONFLICT, "the release's window has closed")
	}
	c.Issuer, c.ID = Issuer, strings.ToLower(rand.Text())
	c.IssuedAt, c.NotBefore, c.ExpiresAt = jwt.NewNumericDate(now), jwt.NewNumericDate(now), jwt.NewNumericDate(exp)
	keyName := KeyName(c.Clinic)
	keys, err := s.publicKeys(ctx, keyName, 0)
	if err != nil {
		return "", time.Time{}, err
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	t.Header["kid"] = kid(keyName, keys.latest)
	input, err := t.SigningString()
	if err != nil {
		return "", time.Time{}, err
	}
	sig, err := s.keys.SignJWS(ctx, keyName, keys.latest, []byte(input))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("tokens: sign: %w", err)
	}
	return input + "." + sig, exp, nil
}

// Verify checks a token's signature (ES256 only, with the key its kid names, which must be
// the download key of the clinic it claims), its issuer and times (exp, nbf and iat required;
// no more than MaxTTL from iat to exp), and that it names a release, a recipient, a document
// and a content hash. Whether the release is live and the caller its recipient is the
// caller's to check.
func (s *Service) Verify(ctx context.Context, token string) (*Claims, error) {
	if len(token) > MaxSize {
		return nil, ErrInvalid
	}
	var c Claims
	_, err := s.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		name, version, ok := parseKid(t.Header["kid"])
		claimed, _ := t.Claims.(*Claims)
		if !ok || claimed == nil || !recordvault.ValidID(claimed.Clinic) || name != KeyName(claimed.Clinic) {
			return nil, errors.New("kid does not name the clinic's download key")
		}
		keys, err := s.publicKeys(ctx, name, version)
		if err != nil {
			return nil, err
		}
		if keys.keys[version] == nil {
			return nil, errors.New("unknown key version")
		}
		return keys.keys[version], nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	// jwt checks iat only when present: a token without it is refused here, not dereferenced.
	if c.NotBefore == nil || c.IssuedAt == nil || c.ExpiresAt.Sub(c.IssuedAt.Time) > MaxTTL || len(c.Audience) != 1 || c.Audience[0] == "" ||
		!recordvault.ValidID(c.Subject) || !recordvault.ValidID(c.ID) || !recordvault.ValidID(c.Client) ||
		!recordvault.ValidID(c.Document) || !strings.HasPrefix(c.ContentHash, "sha256:") || len(c.Fields) == 0 {
		return nil, ErrInvalid
	}
	return &c, nil
}

func parseKid(v any) (string, int, bool) {
	s, _ := v.(string)
	name, version, ok := strings.Cut(s, ":v")
	n, err := strconv.Atoi(version)
	return name, n, ok && err == nil && n > 0
}
