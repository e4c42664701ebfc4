// Package devissuer is a development-only OpenID Connect issuer: it holds an ECDSA P-256
// signing key, serves its discovery document and JWKS, and mints tokens for seeded demo users.
// `make dev` runs it on loopback so the service's real token verification (package auth) can
// be used without an identity provider. The recordvault binary never contains it.
package devissuer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/auth"
)

// User is a seeded demo user.
type User struct {
	Name   string             `json:"name"`
	Clinic string             `json:"clinic"`
	Roles  []recordvault.Role `json:"roles"`
}

// DemoUsers are the development stack's users of clinic, one of each role: dr-lee and
// dr-patel (clinicians), admin-kim (clinic admin), client-jo (client).
func DemoUsers(clinic string) map[string]User {
	return map[string]User{
		"dr-lee":    {Name: "Dr. Ana Lee", Clinic: clinic, Roles: []recordvault.Role{recordvault.RoleClinician}},
		"dr-patel":  {Name: "Dr. Raj Patel", Clinic: clinic, Roles: []recordvault.Role{recordvault.RoleClinician}},
		"admin-kim": {Name: "Kim (front office)", Clinic: clinic, Roles: []recordvault.Role{recordvault.RoleClinicAdmin}},
		"client-jo": {Name: "Jo (client)", Clinic: clinic, Roles: []recordvault.Role{recordvault.RoleClient}},
	}
}

// Issuer mints tokens for its users and serves the keys to verify them.
type Issuer struct {
	url      string
	audience string
	key      *ecdsa.PrivateKey
	kid      string
	jwks     json.RawMessage
	users    map[string]User
	// clientsOf is the clinic of the client logins minted on demand (ClientLogins): any
	// subject "client-<name>" not among users. "" when there are none.
	clientsOf string
	now       func() time.Time

	mu      sync.Mutex
	devices map[string]*deviceGrant // by device code (DeviceGrant)
	codes   map[string]*codeGrant   // by authorization code (the portal's sign-in)
}

// codeGrant is one authorization code (OAuth 2.0 authorization code grant with PKCE, RFC
// 7636, S256 only), given to subject for one client and redirect URI.
type codeGrant struct {
	clientID, redirectURI, challenge, nonce, subject string
	expires                                          time.Time
}

// codeTTL is how long an authorization code can be exchanged.
const codeTTL = time.Minute

// deviceGrant is one device authorization (RFC 8628) waiting for, or given, a user's approval.
type deviceGrant struct {
	userCode string
	expires  time.Time
	subject  string // who approved it; "" while pending
}

// DeviceGrant is the OAuth grant type of the device authorization flow (RFC 8628).
const DeviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// deviceTTL is how long a device code waits for approval.
const deviceTTL = 10 * time.Minute

// ClientPrefix starts the subject of every client login minted on demand.
const ClientPrefix = "client-"

// ClientLogins makes the issuer mint a login of role client in clinic for any subject
// "client-<name>" (a valid subject) not among its seeded users, so that walkthroughs,
// examples and tests can link a fresh client account each time they run on the same stack.
func (i *Issuer) ClientLogins(clinic string) { i.clientsOf = clinic }

// TokenTTL is how long a minted token lives.
const TokenTTL = time.Hour

// New returns an issuer at url (what tokens carry as "iss") for audience, with users keyed
// by subject.
func New(url, audience string, users map[string]User) (*Issuer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	kid := strings.ToLower(rand.Text()[:16])
	jwk, err := jwkset.NewJWKFromKey(key.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
		ALG: jwkset.AlgES256, KID: kid, USE: jwkset.UseSig}})
	if err != nil {
		return nil, fmt.Errorf("devissuer: jwk: %w", err)
	}
	set := jwkset.NewMemoryStorage()
	if err := set.KeyWrite(context.Background(), jwk); err != nil {
		return nil, err
	}
	raw, err := set.JSONPublic(context.Background())
	if err != nil {
		return nil, err
	}
	return &Issuer{url: strings.TrimSuffix(url, "/"), audience: audience, key: key, kid: kid, jwks: raw, users: users, now: time.Now,
		devices: map[string]*deviceGrant{}, codes: map[string]*codeGrant{}}, nil
}

// URL is the issuer's address, what its tokens carry as "iss".
func (i *Issuer) URL() string { return i.url }

// JWKSURL is where the issuer serves its keys.
func (i *Issuer) JWKSURL() string { return i.url + "/jwks.json" }

// Mint returns a signed token for the user with the given subject.
func (i *Issuer) Mint(subject string) (string, error) {
	u, ok := i.user(subject)
	if !ok {
		return "", fmt.Errorf("devissuer: no user %q", subject)
	}
	now := i.now()
	roles := make([]string, len(u.Roles))
	for k, r := range u.Roles {
		roles[k] = string(r)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: i.url, Subject: subject, Audience: jwt.ClaimStrings{i.audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(TokenTTL)),
			ID: rand.Text()},
		Clinic: u.Clinic, Roles: roles,
	})
	tok.Header["kid"] = i.kid
	return tok.SignedString(i.key)
}

// mintIDToken returns an OpenID Connect ID token for subject, for the relying party clientID,
// carrying nonce.
func (i *Issuer) mintIDToken(subject, clientID, nonce string) (string, error) {
	u, ok := i.user(subject)
	if !ok {
		return "", fmt.Errorf("devissuer: no user %q", subject)
	}
	now := i.now()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, idClaims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: i.url, Subject: subject, Audience: jwt.ClaimStrings{clientID},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(TokenTTL))},
		Nonce: nonce, Name: u.Name,
	})
	tok.Header["kid"] = i.kid
	return tok.SignedString(i.key)
}

// idClaims are an ID token's claims (OpenID Connect Core 2).
type idClaims struct {
	jwt.RegisteredClaims
	Nonce string `json:"nonce"`
	Name  string `json:"name,omitempty"`
}

// user is the seeded user with subject, or a client login minted on demand.
func (i *Issuer) user(subject string) (User, bool) {
	if u, ok := i.users[subject]; ok {
		return u, true
	}
	if i.clientsOf == "" || !strings.HasPrefix(subject, ClientPrefix) || len(subject) == len(ClientPrefix) || !recordvault.ValidSubject(subject) {
		return User{}, false
	}
	return User{Name: subject, Clinic: i.clientsOf, Roles: []recordvault.Role{recordvault.RoleClient}}, true
}

// Handler serves the discovery document, the JWKS, the user list, the token endpoint and
// the device authorization flow (RFC 8628, for the CLI's login):
//
//	GET  /.well-known/openid-configuration
//	GET  /jwks.json
//	GET  /users                 the seeded users, to pick one
//	POST /token?user=<subject>  a token for that user, or for any client-<name> after
//	                            ClientLogins (development only)
//	POST /token                 grant_type=urn:ietf:params:oauth:grant-type:device_code:
//	                            the device's token once a user approved it
//	POST /device_authorization  a device code and the user code to approve it with
//	GET  /device?user_code=…    the page where a developer approves a user code as a user
//	POST /device                user_code, user: the approval
//	GET  /authorize             the sign-in page of the authorization code flow (PKCE S256
//	                            required), for the client portal
//	POST /authorize             the user picked: back to redirect_uri with a code
//	POST /token                 grant_type=authorization_code: the code, with its verifier,
//	                            for an access token and an ID token
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"issuer": i.url, "jwks_uri": i.JWKSURL(), "id_token_signing_alg_values_supported": []string{"ES256"},
			"token_endpoint": i.url + "/token", "device_authorization_endpoint": i.url + "/device_authorization",
			"authorization_endpoint": i.url + "/authorize", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "code_challenge_methods_supported": []string{"S256"},
			"scopes_supported": []string{"openid", "profile"}, "grant_types_supported": []string{DeviceGrant, "authorization_code"}})
	})
	mux.HandleFunc("GET /jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(i.jwks)
	})
	mux.HandleFunc("GET /users", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, i.users)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		switch r.FormValue("grant_type") {
		case DeviceGrant:
			i.deviceToken(w, r.FormValue("device_code"))
			return
		case "authorization_code":
			i.codeToken(w, r)
			return
		}
		tok, err := i.Mint(r.URL.Query().Get("user"))
		if err != nil {
			http.Error(w, "unknown user; GET /users lists them (and any client-<name> is a client login when the issuer mints them)", http.StatusNotFound)
			return
		}
		writeToken(w, tok)
	})
	mux.HandleFunc("POST /device_authorization", func(w http.ResponseWriter, r *http.Request) {
		device, user := strings.ToLower(rand.Text()), rand.Text()[:8]
		i.mu.Lock()
		for code, g := range i.devices { // forget the expired ones
			if i.now().After(g.expires) {
				delete(i.devices, code)
			}
		}
		i.devices[device] = &deviceGrant{userCode: user, expires: i.now().Add(deviceTTL)}
		i.mu.Unlock()
		writeJSON(w, map[string]any{"device_code": device, "user_code": user, "verification_uri": i.url + "/device",
			"verification_uri_complete": i.url + "/device?user_code=" + user, "expires_in": int(deviceTTL.Seconds()), "interval": 1})
	})
	mux.HandleFunc("GET /device", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = devicePage.Execute(w, map[string]any{"Code": r.URL.Query().Get("user_code"), "Users": i.Users()})
	})
	mux.HandleFunc("POST /device", func(w http.ResponseWriter, r *http.Request) {
		subject := r.FormValue("user")
		if _, ok := i.user(subject); !ok {
			http.Error(w, "unknown user", http.StatusNotFound)
			return
		}
		if !i.approve(r.FormValue("user_code"), subject) {
			http.Error(w, "unknown or expired code", http.StatusNotFound)
			return
		}
		_, _ = io.WriteString(w, "Approved: return to your terminal.\n")
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
			q.Get("client_id") == "" || !strings.HasPrefix(q.Get("redirect_uri"), "http") {
			http.Error(w, "an authorization request needs response_type=code, client_id, redirect_uri and a PKCE S256 code_challenge", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self' http: https:; base-uri 'none'; frame-ancestors 'none'")
		_ = signInPage.Execute(w, map[string]any{"Query": q, "Users": i.Users(), "AnyClient": i.clientsOf != ""})
	})
	mux.HandleFunc("POST /authorize", func(w http.ResponseWriter, r *http.Request) {
		subject := r.FormValue("user")
		if other := strings.TrimSpace(r.FormValue("client")); other != "" {
			subject = ClientPrefix + other
		}
		if _, ok := i.user(subject); !ok {
			http.Error(w, "unknown user", http.StatusNotFound)
			return
		}
		redirect, err := url.Parse(r.FormValue("redirect_uri"))
		if err != nil || r.FormValue("code_challenge") == "" || r.FormValue("client_id") == "" {
			http.Error(w, "a malformed authorization request", http.StatusBadRequest)
			return
		}
		code := strings.ToLower(rand.Text())
		i.mu.Lock()
		for c, g := range i.codes { // forget the expired ones
			if i.now().After(g.expires) {
				delete(i.codes, c)
			}
		}
		i.codes[code] = &codeGrant{clientID: r.FormValue("client_id"), redirectURI: redirect.String(), challenge: r.FormValue("code_challenge"),
			nonce: r.FormValue("nonce"), subject: subject, expires: i.now().Add(codeTTL)}
		i.mu.Unlock()
		q := redirect.Query()
		q.Set("code", code)
		q.Set("state", r.FormValue("state"))
		redirect.RawQuery = q.Encode()
		http.Redirect(w, r, redirect.String(), http.StatusSeeOther)
	})
	return mux
}

// codeToken exchanges an authorization code, once, for an access token and an ID token: the
// same client and redirect URI it was given for, and the verifier whose S256 hash is its
// challenge (RFC 7636 4.6).
func (i *Issuer) codeToken(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	g, ok := i.codes[r.FormValue("code")]
	delete(i.codes, r.FormValue("code"))
	i.mu.Unlock()
	sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
	clientID := r.FormValue("client_id")
	if user, _, basic := r.BasicAuth(); basic {
		clientID = user
	}
	if !ok || i.now().After(g.expires) || g.clientID != clientID || g.redirectURI != r.FormValue("redirect_uri") ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		oauthError(w, "invalid_grant")
		return
	}
	access, err := i.Mint(g.subject)
	if err != nil {
		oauthError(w, "access_denied")
		return
	}
	id, err := i.mintIDToken(g.subject, g.clientID, g.nonce)
	if err != nil {
		oauthError(w, "access_denied")
		return
	}
	writeJSON(w, map[string]any{"access_token": access, "id_token": id, "token_type": "Bearer", "expires_in": int(TokenTTL.Seconds())})
}

// approve gives the pending device grant with userCode to subject.
func (i *Issuer) approve(userCode, subject string) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, g := range i.devices {
		if g.userCode == userCode && g.subject == "" && i.now().Before(g.expires) {
			g.subject = subject
			return true
		}
	}
	return false
}

// deviceToken answers a device's token request as RFC 8628 3.5 says: pending until a user
// approves it, then a token once, then an invalid grant.
func (i *Issuer) deviceToken(w http.ResponseWriter, deviceCode string) {
	i.mu.Lock()
	g, ok := i.devices[deviceCode]
	var subject string
	switch {
	case !ok || i.now().After(g.expires):
		delete(i.devices, deviceCode)
	case g.subject == "":
		i.mu.Unlock()
		oauthError(w, "authorization_pending")
		return
	default:
		subject = g.subject
		delete(i.devices, deviceCode)
	}
	i.mu.Unlock()
	if subject == "" {
		oauthError(w, "expired_token")
		return
	}
	tok, err := i.Mint(subject)
	if err != nil {
		oauthError(w, "access_denied")
		return
	}
	writeToken(w, tok)
}

func writeToken(w http.ResponseWriter, tok string) {
	writeJSON(w, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(TokenTTL.Seconds())})
}

func oauthError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

var devicePage = template.Must(template.New("device").Parse(`<!doctype html>
<title>recordvault development sign-in</title>
<h1>Sign a device in (development issuer)</h1>
<form method="post" action="/device">
<label>Code <input name="user_code" value="{{.Code}}"></label>
<label>As <select name="user">{{range .Users}}<option>{{.}}</option>{{end}}</select></label>
<button>Approve</button>
</form>
`))

var signInPage = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Sign in (development issuer)</title>
<main>
<h1>Sign in (development issuer)</h1>
<p>This development issuer signs you in as any demo user, with no password.</p>
<form method="post" action="/authorize">
{{range $k, $v := .Query}}<input type="hidden" name="{{$k}}" value="{{index $v 0}}">
{{end}}<label for="user">Sign in as</label>
<select id="user" name="user">{{range .Users}}<option>{{.}}</option>{{end}}</select>
{{if .AnyClient}}<label for="client">or as the client login client-</label>
<input id="client" name="client" autocomplete="off">{{end}}
<button type="submit" id="signin">Sign in</button>
</form>
</main>
`))

// Users returns the subjects of the seeded users, sorted.
func (i *Issuer) Users() []string {
	var s []string
	for k := range i.users {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
