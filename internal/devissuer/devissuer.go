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
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
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
}

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
		devices: map[string]*deviceGrant{}}, nil
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
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"issuer": i.url, "jwks_uri": i.JWKSURL(), "id_token_signing_alg_values_supported": []string{"ES256"},
			"token_endpoint": i.url + "/token", "device_authorization_endpoint": i.url + "/device_authorization",
			"grant_types_supported": []string{DeviceGrant}})
	})
	mux.HandleFunc("GET /jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(i.jwks)
	})
	mux.HandleFunc("GET /users", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, i.users)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("grant_type") == DeviceGrant {
			i.deviceToken(w, r.FormValue("device_code"))
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
	return mux
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
