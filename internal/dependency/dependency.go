// Package dependency names the service's calls to Vault and S3 the way its metrics and
// traces label them: by operation, never by an id.
package dependency

import (
	"net/http"
	"strings"
)

// Operation names a call to dependency ("vault" or "s3") without an id: a Vault API path's
// first two parts (transit/datakey, auth/token), which name no key or clinic; an S3 call's
// method.
func Operation(dependency string, r *http.Request) string {
	if dependency != "vault" {
		return r.Method
	}
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/v1/"), "/", 3)
	if len(parts) < 2 {
		return parts[0]
	}
	return parts[0] + "/" + parts[1]
}

// RoundTripperFunc is a function that carries requests, as http.HandlerFunc handles them.
type RoundTripperFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f RoundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
