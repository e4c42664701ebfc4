package handlers

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/securecookie"
	"golang.org/x/oauth2"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/app"
)

// Portal sign-in is the OpenID Connect authorization code flow with PKCE (S256), as a
// relying party of the same provider whose access tokens the API accepts: go-oidc finds the
// provider and checks the ID token (issuer, audience, expiry, nonce); the access token that
// comes with it is what the session keeps, and every request verifies it again with the
// API's own verifier, so a session never outlives its token nor grants what a bearer of that
// token could not. The session lives in a cookie, authenticated and encrypted
// (gorilla/securecookie), HttpOnly, SameSite=Lax, Secure with the __Host- prefix whenever
// the portal is reached over https; it ends after Idle without a request, after Absolute
// whatever happens, when the token expires, or on sign-out. Forms are POSTed to this origin
// only: http.CrossOriginProtection refuses a cross-site POST by its Fetch metadata or Origin.

// PortalConfig configures the client portal.
type PortalConfig struct {
	// Issuer is the OpenID Connect provider (discovery at Issuer/.well-known/openid-configuration);
	// ClientID and ClientSecret are the portal's registration with it ("" secret: a public
	// client, PKCE alone).
	Issuer, ClientID, ClientSecret string
	// PublicURL is where browsers reach the service; the provider sends them back to
	// PublicURL/portal/callback. An https URL makes the cookies Secure.
	PublicURL string
	// SessionKey authenticates (its first 32 bytes) and encrypts (the next 32) session
	// cookies: 64 bytes, the same on every replica. Nil: a random key for this process.
	SessionKey []byte
	// Idle and Absolute bound a session: 15 minutes without a request, 8 hours in all, when zero.
	Idle, Absolute time.Duration
	// Now is the clock sessions are timed by; time.Now when nil.
	Now func() time.Time
	// HTTPClient reaches the provider; every call is also bounded by providerTimeout.
	HTTPClient *http.Client
}

// Portal is the client portal's sign-in, sessions and pages.
type Portal struct {
	cfg      PortalConfig
	logger   *slog.Logger
	verifier TokenVerifier
	svc      *app.Service
	cookies  *securecookie.SecureCookie
	secure   bool
	session  string // the session cookie's name
	origin   *http.CrossOriginProtection

	mu       sync.Mutex
	provider *oidc.Provider // found on first sign-in, so the service starts while the provider is down
}

const (
	defaultIdle     = 15 * time.Minute
	defaultAbsolute = 8 * time.Hour
	signInTTL       = 10 * time.Minute // from leaving for the provider to coming back
	providerTimeout = 10 * time.Second
	signInCookie    = "rv_signin"
	// SessionKeySize is the length of PortalConfig.SessionKey.
	SessionKeySize = 64
)

// NewPortal returns the portal for cfg, checking the accounts it signs in with verifier (the
// API's) and serving pages from svc.
func NewPortal(cfg PortalConfig, logger *slog.Logger, verifier TokenVerifier, svc *app.Service) (*Portal, error) {
	public, err := url.Parse(cfg.PublicURL)
	if err != nil || (public.Scheme != "https" && public.Scheme != "http") || public.Host == "" {
		return nil, fmt.Errorf("portal: the public URL must be an absolute http or https URL")
	}
	if cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, fmt.Errorf("portal: an OpenID Connect issuer and client id are needed")
	}
	if cfg.SessionKey == nil {
		cfg.SessionKey = make([]byte, SessionKeySize)
		_, _ = rand.Read(cfg.SessionKey)
		logger.Warn("portal sessions use a key of this process: they end when it stops and are not shared with other replicas; set RECORDVAULT_PORTAL_SESSION_KEY")
	}
	if len(cfg.SessionKey) != SessionKeySize {
		return nil, fmt.Errorf("portal: the session key must be %d bytes", SessionKeySize)
	}
	if cfg.Idle == 0 {
		cfg.Idle = defaultIdle
	}
	if cfg.Absolute == 0 {
		cfg.Absolute = defaultAbsolute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: providerTimeout}
	}
	cfg.PublicURL = strings.TrimSuffix(public.String(), "/")
	cookies := securecookie.New(cfg.SessionKey[:32], cfg.SessionKey[32:]).MaxAge(int(cfg.Absolute.Seconds()))
	p := &Portal{cfg: cfg, logger: logger, verifier: verifier, svc: svc, cookies: cookies, secure: public.Scheme == "https",
		session: "rv_session", origin: http.NewCrossOriginProtection()}
	if p.secure {
		p.session = "__Host-rv_session"
	}
	return p, nil
}

// portalSession is what the session cookie holds.
type portalSession struct {
	Token  string `json:"t"` // the access token, verified on every request
	Client string `json:"c"` // the client the pages show; "" for staff
	Self   bool   `json:"f"` // Client is the login's own; otherwise it acts for them as representative
	Staff  bool   `json:"w"` // a clinician's or clinic admin's login
	Name   string `json:"n"` // Client's name, or the staff member's
	You    string `json:"y"` // the signed-in person's name, as the provider gives it
	// Clients are the clients the login opens: its own, and those it represents.
	Clients []sessionClient `json:"cs,omitempty"`
	// ClinicName is the clinic's name as it was at sign-in, for headings and forms.
	ClinicName string    `json:"k"`
	Started    time.Time `json:"s"`
	Seen       time.Time `json:"l"`
}

// sessionClient is a client a session's login opens.
type sessionClient struct {
	ID   string `json:"i"`
	Name string `json:"n"`
	Self bool   `json:"s"`
}

// actFor makes c the client the session's pages show.
func (s *portalSession) actFor(c sessionClient) {
	s.Client, s.Name, s.Self = c.ID, c.Name, c.Self
	if c.Self {
		s.You = c.Name
	}
}

// save sets the cookie of session s, changed by a page, for the rest of its absolute time.
func (p *Portal) save(w http.ResponseWriter, s *portalSession) error {
	return p.setCookie(w, p.session, "/", s, p.cfg.Absolute-p.cfg.Now().Sub(s.Started))
}

// signIn is what the sign-in cookie holds between leaving for the provider and coming back.
type signIn struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Expires  time.Time `json:"e"`
}

// oauth returns the provider's OAuth configuration for the portal, finding the provider on
// first use.
func (p *Portal) oauth(ctx context.Context) (*oauth2.Config, *oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider == nil {
		ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, p.cfg.HTTPClient), providerTimeout)
		defer cancel()
		provider, err := oidc.NewProvider(ctx, p.cfg.Issuer)
		if err != nil {
			return nil, nil, recordvault.Errorf(recordvault.EUNAVAILABLE, "the sign-in provider is not answering")
		}
		p.provider = provider
	}
	return &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: p.provider.Endpoint(),
		RedirectURL: p.cfg.PublicURL + "/portal/callback", Scopes: []string{oidc.ScopeOpenID, "profile"}}, p.provider, nil
}

// handleSignIn sends the browser to the provider, with a fresh state, nonce and PKCE
// verifier kept in a short-lived cookie.
func (p *Portal) handleSignIn() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg, _, err := p.oauth(r.Context())
		if err != nil {
			p.fail(w, r, nil, err)
			return
		}
		in := signIn{State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(), Expires: p.cfg.Now().Add(signInTTL)}
		if err := p.setCookie(w, signInCookie, "/portal/", in, signInTTL); err != nil {
			p.fail(w, r, nil, err)
			return
		}
		http.Redirect(w, r, cfg.AuthCodeURL(in.State, oauth2.S256ChallengeOption(in.Verifier), oidc.Nonce(in.Nonce)), http.StatusSeeOther)
	})
}

var errSignIn = recordvault.Errorf(recordvault.EUNAUTHORIZED, "the sign-in did not complete")

// handleCallback finishes a sign-in: the state matches the one this browser left with, the
// code is exchanged with its verifier, the ID token is the provider's for this portal with
// this sign-in's nonce, and the access token is one the API accepts, of a client's own
// login linked to a client of the clinic.
func (p *Portal) handleCallback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in signIn
		ok := p.readCookie(r, signInCookie, &in) && p.cfg.Now().Before(in.Expires) && r.URL.Query().Get("state") == in.State
		p.clearCookie(w, signInCookie, "/portal/")
		if !ok || r.URL.Query().Get("code") == "" {
			p.signInFailed(w, r, "the sign-in did not match the one this browser began, or it took too long")
			return
		}
		cfg, provider, err := p.oauth(r.Context())
		if err != nil {
			p.fail(w, r, nil, err)
			return
		}
		ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), p.cfg.HTTPClient), providerTimeout)
		defer cancel()
		tok, err := cfg.Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(in.Verifier))
		if err != nil {
			p.signInFailed(w, r, "the provider refused the code")
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		id, err := provider.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, Now: p.cfg.Now}).Verify(ctx, raw)
		if err != nil || id.Nonce != in.Nonce {
			p.signInFailed(w, r, "the ID token is not this sign-in's")
			return
		}
		principal, err := p.verifier.Verify(ctx, tok.AccessToken)
		if err != nil || principal.Subject != id.Subject {
			p.signInFailed(w, r, "the access token is not the signed-in user's")
			return
		}
		c := access.Caller{ID: principal.Subject, Clinic: principal.Clinic, Roles: principal.Roles}
		now := p.cfg.Now()
		var claims struct {
			Name string `json:"name"`
		}
		_ = id.Claims(&claims)
		you := cmp.Or(claims.Name, c.ID)
		if slices.Contains(c.Roles, recordvault.RoleClinician) || slices.Contains(c.Roles, recordvault.RoleClinicAdmin) {
			p.startSession(w, r, portalSession{Token: tok.AccessToken, Staff: true, Name: you, You: you, Started: now, Seen: now})
			return
		}
		own, err := p.svc.OwnClient(ctx, c)
		if errors.Is(err, recordvault.ErrNotFound) {
			padToFloor(r)
			p.render(w, http.StatusNotFound, "problem", portalView{Title: "No records to show",
				Explanation: "This account is not linked to a client of the clinic, nor to anyone you act for. If you are a client, or a parent or guardian, ask the clinic to link your account, then sign in again."})
			return
		}
		if err != nil {
			p.fail(w, r, nil, err)
			return
		}
		session := portalSession{Token: tok.AccessToken, You: you, ClinicName: own.ClinicName, Started: now, Seen: now}
		for _, a := range own.Clients {
			session.Clients = append(session.Clients, sessionClient{ID: a.Client, Name: a.Name, Self: a.Self})
		}
		session.actFor(session.Clients[0])
		p.startSession(w, r, session)
	})
}

// startSession sets the cookie of a new session s and sends the browser to its start.
func (p *Portal) startSession(w http.ResponseWriter, r *http.Request, s portalSession) {
	if err := p.setCookie(w, p.session, "/", s, p.cfg.Absolute); err != nil {
		p.fail(w, r, nil, err)
		return
	}
	to := "/portal/"
	if s.Staff {
		to = "/portal/staff"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// signInFailed answers a sign-in that did not complete, saying why in the log only.
func (p *Portal) signInFailed(w http.ResponseWriter, r *http.Request, why string) {
	p.logger.Info("portal sign-in failed", "why", why)
	p.render(w, http.StatusUnauthorized, "problem", portalView{Title: "Sign-in did not work",
		Explanation: "The sign-in did not complete, or took too long. Please sign in again."})
}

// handleSignOut ends the session.
func (p *Portal) handleSignOut() http.Handler {
	return p.origin.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.clearCookie(w, p.session, "/")
		http.Redirect(w, r, "/portal/?m=signed-out", http.StatusSeeOther)
	}))
}

// current returns the request's live session and its caller, renewing its idle time; ok is
// false (the cookie cleared) when there is none, or it ended.
func (p *Portal) current(w http.ResponseWriter, r *http.Request) (*portalSession, access.Caller, bool) {
	var s portalSession
	if _, err := r.Cookie(p.session); err != nil {
		return nil, access.Caller{}, false
	}
	now := p.cfg.Now()
	if !p.readCookie(r, p.session, &s) || now.Sub(s.Seen) > p.cfg.Idle || now.Sub(s.Started) > p.cfg.Absolute {
		p.clearCookie(w, p.session, "/")
		return nil, access.Caller{}, false
	}
	principal, err := p.verifier.Verify(r.Context(), s.Token)
	if err != nil {
		p.clearCookie(w, p.session, "/")
		return nil, access.Caller{}, false
	}
	s.Seen = now
	if err := p.save(w, &s); err != nil {
		return nil, access.Caller{}, false
	}
	return &s, access.Caller{ID: principal.Subject, Clinic: principal.Clinic, Roles: principal.Roles}, true
}

// signedIn serves page to a signed-in client, and sends anyone else to the start; its POSTs
// come from this origin only.
func (p *Portal) signedIn(page func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller)) http.Handler {
	return p.origin.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, hadOne := r.Cookie(p.session)
		s, c, ok := p.current(w, r)
		if !ok {
			to := "/portal/"
			if hadOne == nil {
				to += "?m=expired"
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		page(w, r, s, c)
	}))
}

func (p *Portal) setCookie(w http.ResponseWriter, name, path string, v any, ttl time.Duration) error {
	value, err := p.cookies.Encode(name, v)
	if err != nil {
		return fmt.Errorf("portal: cookie: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: int(ttl.Seconds()), HttpOnly: true, Secure: p.secure,
		SameSite: http.SameSiteLaxMode})
	return nil
}

func (p *Portal) readCookie(r *http.Request, name string, v any) bool {
	c, err := r.Cookie(name)
	return err == nil && p.cookies.Decode(name, c.Value, v) == nil
}

func (p *Portal) clearCookie(w http.ResponseWriter, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
}
