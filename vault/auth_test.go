package vault

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
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
