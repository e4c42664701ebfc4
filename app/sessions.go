package app

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/disclosure"
	"github.com/recordvault/recordvault/otp"
	"github.com/recordvault/recordvault/tokens"
)

// Download sessions. A single-use link must survive a dropped connection: the recipient
// chooses the copy's format before redeeming, and the redemption, still once per token, opens
// a session of otp.SessionTTL in which that copy is fetched again, or resumed with Range, as
// the same bytes (it is produced at the session's time each time). The session is stored in
// the token's use record; its secret goes to the recipient once, in the redemption's answer
// (never in a URL), with a MAC of it and of what the session allows kept by Vault's key. A
// recipient who proved who they are with a login must present that login again; one who used
// a one-time code presents the secret. Every fetch is audited; so is each delivery of the
// copy in full (download_delivered).

// Formats of a released copy.
const (
	FormatJSON = "json"
	FormatPDF  = "pdf"
	FormatZIP  = "zip"
)

// Formats lists the formats, in a fixed order.
var Formats = []string{FormatJSON, FormatPDF, FormatZIP}

// FormatDocument asks for the copy as a person opens it: the PDF, or the ZIP bundle when
// attached documents go with it (the recipient page's choice). A redemption settles it.
const FormatDocument = "document"

// Session is a download session: what the recipient presents again, the copy's format, the
// time the copy is produced at (every fetch makes the same bytes) and when the session ends.
type Session struct {
	Value    string
	Format   string
	Produced time.Time
	Expires  time.Time
}

// sessionState is what a token's use record holds.
type sessionState struct {
	Version int           `json:"v"`
	Claims  tokens.Claims `json:"claims"`
	Format  string        `json:"format"`
	Subject string        `json:"subject,omitempty"` // the login that redeemed, when one did
	Created time.Time     `json:"created"`
	Expires time.Time     `json:"expires"`
	MAC     string        `json:"mac,omitempty"`
}

// bound is what the session's MAC covers: everything but the MAC.
func (st sessionState) bound() []byte {
	st.MAC = ""
	b, _ := json.Marshal(st) // plain strings, times and slices
	return b
}

// openSession makes the session a redemption of claims by proof opens, and its use record.
func (s *Service) openSession(ctx context.Context, proof Proof, claims *tokens.Claims, format string) (*Session, []byte, error) {
	now := s.now().UTC()
	st := sessionState{Version: 1, Claims: *claims, Format: format, Created: now, Expires: now.Add(otp.SessionTTL)}
	if proof.Caller != nil {
		st.Subject = proof.Caller.ID
	}
	secret, mac, err := s.codes.NewSession(ctx, claims.Clinic, claims.ID, st.bound())
	if err != nil {
		return nil, nil, err
	}
	st.MAC = mac
	body, err := json.Marshal(st)
	if err != nil {
		return nil, nil, err
	}
	return &Session{Value: claims.Clinic + "." + claims.ID + "." + secret, Format: format, Produced: st.Created, Expires: st.Expires}, body, nil
}

// Resume fetches again, within its session, the copy a redemption released: for the recipient
// who redeemed it, until the session ends, while the release is still live. A refusal is the
// one tokens.ErrInvalid, audited with its reason.
func (s *Service) Resume(ctx context.Context, proof Proof, value string) (*ReleasedCopy, *Session, error) {
	st, reason, err := s.session(ctx, proof, value)
	if err != nil {
		return nil, nil, err
	}
	var claims *tokens.Claims
	if st != nil {
		claims = &st.Claims
	}
	if reason != "" {
		return nil, nil, s.refuseDownload(ctx, proof, claims, reason)
	}
	lv, reason, err := s.liveRelease(ctx, claims, true)
	if err != nil {
		return nil, nil, err
	}
	if reason != "" {
		return nil, nil, s.refuseDownload(ctx, proof, claims, reason)
	}
	released, err := s.releasedCopy(ctx, lv.doc, lv.release, claims)
	if err != nil {
		return nil, nil, err
	}
	if err := s.recordDownload(ctx, proof, claims, lv.release, "download_resumed"); err != nil {
		return nil, nil, err
	}
	return released, &Session{Value: value, Format: st.Format, Produced: st.Created, Expires: st.Expires}, nil
}

// session reads and checks the session value names: its MAC, its time, and the proof.
func (s *Service) session(ctx context.Context, proof Proof, value string) (*sessionState, string, error) {
	parts := strings.Split(value, ".")
	if len(parts) != 3 || !recordvault.ValidID(parts[0]) || !recordvault.ValidID(parts[1]) || parts[2] == "" || len(parts[2]) > 64 {
		return nil, "a malformed download session", nil
	}
	clinic, jti, secret := parts[0], parts[1], parts[2]
	body, err := s.disclosures.TokenSession(ctx, clinic, jti)
	if errors.Is(err, disclosure.ErrNoSession) {
		return nil, "no such download session", nil
	} else if err != nil {
		return nil, "", err
	}
	var st sessionState
	if err := json.Unmarshal(body, &st); err != nil || st.Version != 1 || st.Claims.Clinic != clinic || st.Claims.ID != jti ||
		!slices.Contains(Formats, st.Format) {
		return nil, "a download session that does not parse", nil
	}
	if err := s.codes.CheckSession(ctx, clinic, jti, secret, st.bound(), st.MAC); errors.Is(err, otp.ErrRefused) {
		return &st, "a wrong download session secret, or a session altered in the bucket", nil
	} else if err != nil {
		return nil, "", err
	}
	switch c := proof.Caller; {
	case !s.now().Before(st.Expires):
		return &st, "the download session has ended", nil
	case st.Subject != "" && (c == nil || c.ID != st.Subject || c.Clinic != clinic):
		return &st, "the download session belongs to another login", nil
	}
	return &st, "", nil
}

// Delivered records that a session's copy went out in full.
func (s *Service) Delivered(ctx context.Context, proof Proof, c *ReleasedCopy) error {
	return s.recordDownload(ctx, proof, c.claims, c.release, "download_delivered")
}
