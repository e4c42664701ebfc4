// Package otp issues and checks the one-time codes by which a recipient without a login
// (an attorney, a school) proves to be the recipient of a download token: a code is sent to
// the address the release names, lives five minutes, is sent at most three times per token,
// allows five wrong tries, and is used once. Only a MAC of the code is stored, computed by
// Vault Transit with the clinic's client-index key over a prefix nothing else uses, so a
// bucket reader cannot test the million codes against it.
package otp

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/recordvault/recordvault/storage/object"
)

// The limits of codes.
const (
	TTL         = 5 * time.Minute
	MaxSends    = 3
	MaxAttempts = 5
	digits      = 8
)

// Store keeps code states.
type Store interface {
	ReadCode(ctx context.Context, clinic, jti string) (*State, string, error)
	WriteCode(ctx context.Context, c *State, etag string) (string, error)
}

// MAC computes the keyed MAC of input for a clinic (vault.Keyring.HMAC with its index key).
type MAC func(ctx context.Context, clinic string, input []byte) ([]byte, error)

// Service sends and checks codes.
type Service struct {
	store Store
	mac   MAC
	now   func() time.Time
}

// New returns a Service over store and mac, reading the time from now (time.Now when nil).
func New(store Store, mac MAC, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, mac: mac, now: now}
}

// ErrRefused is the one answer for a wrong, expired, used or exhausted code, or one asked
// for too often.
var ErrRefused = errors.New("otp: refused")

func (s *Service) macOf(ctx context.Context, clinic, jti, code string) (string, error) {
	m, err := s.mac(ctx, clinic, []byte("recordvault/download-code/v1\x00"+jti+"\x00"+code))
	if err != nil {
		return "", fmt.Errorf("otp: mac: %w", err)
	}
	return hex.EncodeToString(m), nil
}

// New makes a fresh code for the token jti and returns it for delivery; an earlier code of
// the token stops working. At most MaxSends codes are made per token.
func (s *Service) New(ctx context.Context, clinic, jti string) (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		return "", err
	}
	code := fmt.Sprintf("%0*d", digits, n)
	mac, err := s.macOf(ctx, clinic, jti, code)
	if err != nil {
		return "", err
	}
	st, etag, err := s.store.ReadCode(ctx, clinic, jti)
	switch {
	case errors.Is(err, object.ErrNotFound):
		st, etag = &State{Clinic: clinic, JTI: jti}, ""
	case err != nil:
		return "", fmt.Errorf("otp: read: %w", err)
	}
	if st.Sends >= MaxSends || st.Used {
		return "", ErrRefused
	}
	st.MAC, st.Expires, st.Sends, st.Attempts = mac, s.now().Add(TTL), st.Sends+1, 0
	if _, err := s.store.WriteCode(ctx, st, etag); errors.Is(err, object.ErrExists) || errors.Is(err, object.ErrChanged) {
		return "", ErrRefused // another request for a code won the race
	} else if err != nil {
		return "", fmt.Errorf("otp: write: %w", err)
	}
	return code, nil
}

// Check uses code for the token jti: nil once, ErrRefused for a wrong, expired, used or
// exhausted one (a wrong try is counted).
func (s *Service) Check(ctx context.Context, clinic, jti, code string) error {
	st, etag, err := s.store.ReadCode(ctx, clinic, jti)
	if errors.Is(err, object.ErrNotFound) {
		return ErrRefused
	}
	if err != nil {
		return fmt.Errorf("otp: read: %w", err)
	}
	if st.Used || st.Attempts >= MaxAttempts || !s.now().Before(st.Expires) || len(code) != digits {
		return ErrRefused
	}
	mac, err := s.macOf(ctx, clinic, jti, code)
	if err != nil {
		return err
	}
	right := hmac.Equal([]byte(mac), []byte(st.MAC))
	if right {
		st.Used = true
	} else {
		st.Attempts++
	}
	if _, err := s.store.WriteCode(ctx, st, etag); errors.Is(err, object.ErrChanged) {
		return ErrRefused // a racing check used or counted it first
	} else if err != nil {
		return fmt.Errorf("otp: write: %w", err)
	}
	if !right {
		return ErrRefused
	}
	return nil
}

// Download sessions. A redemption opens a session in which the recipient fetches the copy, and
// fetches it again or resumes it after a dropped connection, for SessionTTL. Its secret goes to
// the recipient once, in the redemption's answer; only a MAC of the secret and of what the
// session allows is stored, so a bucket writer can neither read a secret nor widen a session.

// SessionTTL is how long a download session lasts.
const SessionTTL = 10 * time.Minute

// NewSession returns a fresh secret for the session of token jti and the MAC that binds it to
// bound, the session's description.
func (s *Service) NewSession(ctx context.Context, clinic, jti string, bound []byte) (secret, mac string, err error) {
	secret = rand.Text()
	mac, err = s.sessionMAC(ctx, clinic, jti, secret, bound)
	return secret, mac, err
}

// CheckSession reports nil when secret and bound are the ones mac was made for, ErrRefused
// otherwise.
func (s *Service) CheckSession(ctx context.Context, clinic, jti, secret string, bound []byte, mac string) error {
	want, err := s.sessionMAC(ctx, clinic, jti, secret, bound)
	if err != nil {
		return err
	}
	if !hmac.Equal([]byte(want), []byte(mac)) {
		return ErrRefused
	}
	return nil
}

func (s *Service) sessionMAC(ctx context.Context, clinic, jti, secret string, bound []byte) (string, error) {
	input := append([]byte("recordvault/download-session/v1\x00"+jti+"\x00"+secret+"\x00"), bound...)
	m, err := s.mac(ctx, clinic, input)
	if err != nil {
		return "", fmt.Errorf("otp: session mac: %w", err)
	}
	return hex.EncodeToString(m), nil
}
