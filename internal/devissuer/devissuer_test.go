package devissuer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/auth"
)

// serve starts an issuer with one clinician, dr-lee of clinic c1, and its server.
func serve(t *testing.T) (*Issuer, *httptest.Server) {
	t.Helper()
	var iss *Issuer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { iss.Handler().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	iss, err := New(srv.URL, "recordvault", map[string]User{"dr-lee": {Name: "Lee", Clinic: "c1", Roles: []recordvault.Role{recordvault.RoleClinician}}})
	if err != nil {
		t.Fatal(err)
	}
	return iss, srv
}

// Any client-<name> is a client login of the clinic ClientLogins names, verified by the
// service's own check; other unknown subjects, and client logins before ClientLogins, are
// not minted.
func TestClientLoginsOnDemand(t *testing.T) {
	iss, srv := serve(t)
	if _, err := iss.Mint("client-ana"); err == nil {
		t.Fatal("a client login minted before ClientLogins")
	}
	iss.ClientLogins("c1")
	v, err := auth.NewVerifier(context.Background(), auth.Config{Issuer: srv.URL, Audience: "recordvault", JWKSURL: iss.JWKSURL()})
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"client-ana", "client-walkthrough-2"} {
		tok, err := iss.Mint(sub)
		if err != nil {
			t.Fatalf("%s: %v", sub, err)
		}
		c, err := v.Verify(context.Background(), tok)
		if err != nil || c.Subject != sub || c.Clinic != "c1" || !slices.Equal(c.Roles, []recordvault.Role{recordvault.RoleClient}) {
			t.Errorf("%s: %+v, %v; want a client of c1", sub, c, err)
		}
	}
	for _, sub := range []string{"client-", "dr-new", "client-a/b", "admin-client-x"} {
		if _, err := iss.Mint(sub); err == nil {
			t.Errorf("%q minted", sub)
		}
	}
}

// The device authorization flow, driven by golang.org/x/oauth2 as the CLI drives it: pending
// until a user approves the code, then a token for that user, once.
func TestDeviceFlow(t *testing.T) {
	ctx := context.Background()
	iss, srv := serve(t)
	cfg := &oauth2.Config{ClientID: "recordvault-cli", Endpoint: oauth2.Endpoint{DeviceAuthURL: srv.URL + "/device_authorization", TokenURL: srv.URL + "/token"}}
	device, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Exchange(ctx, "", oauth2.SetAuthURLParam("grant_type", DeviceGrant), oauth2.SetAuthURLParam("device_code", device.DeviceCode)); err == nil {
		t.Fatal("a token before approval")
	}
	page, err := http.Get(device.VerificationURIComplete)
	if err != nil || page.StatusCode != http.StatusOK {
		t.Fatalf("the approval page: %v", err)
	}
	page.Body.Close()
	approve := func(user string) int {
		resp, err := http.PostForm(srv.URL+"/device", url.Values{"user_code": {device.UserCode}, "user": {user}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := approve("nobody"); got != http.StatusNotFound {
		t.Fatalf("approved as an unknown user: %d", got)
	}
	if got := approve("dr-lee"); got != http.StatusOK {
		t.Fatalf("approval: %d", got)
	}
	tok, err := cfg.DeviceAccessToken(ctx, device)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(ctx, auth.Config{Issuer: srv.URL, Audience: "recordvault", JWKSURL: iss.JWKSURL()})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := v.Verify(ctx, tok.AccessToken); err != nil || p.Subject != "dr-lee" {
		t.Fatalf("the device's token: %+v, %v", p, err)
	}
	if _, err := cfg.DeviceAccessToken(ctx, device); err == nil {
		t.Fatal("a second token for one approval")
	}
}

// The authorization code flow with PKCE, driven by golang.org/x/oauth2 and checked by
// go-oidc as the portal does: the sign-in page, a code back at the redirect URI, exchanged
// once and only with its verifier, for an access token the service verifies and an ID token
// for the portal carrying its nonce.
func TestAuthorizationCodeFlow(t *testing.T) {
	ctx := context.Background()
	iss, srv := serve(t)
	iss.ClientLogins("c1")
	provider, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: "recordvault-portal", Endpoint: provider.Endpoint(), RedirectURL: "http://127.0.0.1:1/portal/callback",
		Scopes: []string{oidc.ScopeOpenID}}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("state1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce1"))
	page, err := http.Get(authURL)
	if err != nil || page.StatusCode != http.StatusOK {
		t.Fatalf("the sign-in page: %v", err)
	}
	page.Body.Close()
	if plain, _ := http.Get(srv.URL + "/authorize?response_type=code&client_id=x&redirect_uri=http://a/"); plain.StatusCode != http.StatusBadRequest {
		t.Errorf("a request without PKCE: %d", plain.StatusCode)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(user, client string) *url.URL {
		form, _ := url.ParseQuery(strings.SplitN(authURL, "?", 2)[1])
		form.Set("user", user)
		form.Set("client", client)
		resp, err := noRedirect.PostForm(srv.URL+"/authorize", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			return nil
		}
		back, _ := resp.Location()
		return back
	}
	if signIn("nobody", "") != nil {
		t.Fatal("signed in as an unknown user")
	}
	back := signIn("dr-lee", "ana")
	if back == nil || back.Query().Get("state") != "state1" || !strings.HasPrefix(back.String(), cfg.RedirectURL+"?") {
		t.Fatalf("back at %v", back)
	}
	code := back.Query().Get("code")
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Fatal("exchanged with another verifier")
	}
	back = signIn("dr-lee", "ana")
	tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("a code exchanged twice")
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}).Verify(ctx, raw)
	if err != nil || id.Subject != "client-ana" || id.Nonce != "nonce1" {
		t.Fatalf("the ID token: %+v, %v", id, err)
	}
	v, err := auth.NewVerifier(ctx, auth.Config{Issuer: srv.URL, Audience: "recordvault", JWKSURL: iss.JWKSURL()})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := v.Verify(ctx, tok.AccessToken); err != nil || p.Subject != "client-ana" || p.Clinic != "c1" {
		t.Fatalf("the access token: %+v, %v", p, err)
	}
}
