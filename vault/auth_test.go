package vault

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/recordvault/recordvault"
)

// IsRoot reads the token's policies from Vault's token lookup: a root token is one, a
// service's policy token is not.
func TestIsRoot(t *testing.T) {
	for _, c := range []struct {
		policies []string
		want     bool
	}{{[]string{"root"}, true}, {[]string{"default", "recordvault"}, false}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v1/auth/token/lookup-self" {
				http.NotFound(w, r)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"policies": c.policies}})
		}))
		v, err := New(Config{Addr: srv.URL, Token: "t"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.IsRoot(context.Background())
		srv.Close()
		if err != nil || got != c.want {
			t.Errorf("policies %v: root %v, %v; want %v", c.policies, got, err, c.want)
		}
	}
}

// A call refused with 403 is unavailable (503 to its request, retried) when its token no
// longer stands: when Vault says so in the answer ("invalid token"), even if the client has
// logged in again before it looks (the race that answered a record's create 500 in the
// cluster suite), and when the token's own lookup is refused. A 403 for a token that stands
// is the policy's refusal, not unavailability; only a token that does not stand now asks
// for a login.
func TestRevokedTokenIsUnavailable(t *testing.T) {
	for _, c := range []struct {
		name        string
		refusal     []string // the datakey call's errors
		standsNow   bool     // lookup-self's answer
		unavailable bool
		relogin     bool
	}{
		{"revoked, logged in again since", []string{"permission denied", "invalid token"}, true, true, false},
		{"revoked, not yet logged in again", []string{"permission denied", "invalid token"}, false, true, true},
		{"refused by the policy", []string{"permission denied"}, true, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/v1/auth/token/lookup-self" && c.standsNow {
					_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"policies": []string{"default"}}})
					return
				}
				errs := []string{"permission denied", "invalid token"}
				if r.URL.Path != "/v1/auth/token/lookup-self" {
					errs = c.refusal
				}
				w.WriteHeader(http.StatusForbidden)
				_ = json.NewEncoder(w).Encode(map[string]any{"errors": errs})
			}))
			defer srv.Close()
			v, err := New(Config{Addr: srv.URL, Token: "t"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.NewDataKey(t.Context(), "rv-c1-progress-note", []byte("record"))
			if err == nil || errors.Is(err, recordvault.ErrUnavailable) != c.unavailable {
				t.Fatalf("%v; want unavailable %v", err, c.unavailable)
			}
			if asked := len(v.relogin) == 1; asked != c.relogin {
				t.Fatalf("login asked for: %v; want %v", asked, c.relogin)
			}
		})
	}
}
