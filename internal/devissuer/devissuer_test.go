package devissuer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/auth"
)

// Any client-<name> is a client login of the clinic ClientLogins names, verified by the
// service's own check; other unknown subjects, and client logins before ClientLogins, are
// not minted.
func TestClientLoginsOnDemand(t *testing.T) {
	var iss *Issuer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { iss.Handler().ServeHTTP(w, r) }))
	defer srv.Close()
	iss, err := New(srv.URL, "recordvault", map[string]User{"dr-lee": {Name: "Lee", Clinic: "c1", Roles: []recordvault.Role{recordvault.RoleClinician}}})
	if err != nil {
		t.Fatal(err)
	}
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
