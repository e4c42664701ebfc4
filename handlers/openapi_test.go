package handlers

import (
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"go.yaml.in/yaml/v3"
)

// The OpenAPI document and the registered routes describe the same API: every route is in the
// document with its methods, and the document has no operation the service does not serve.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	raw, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi %q, want 3.1", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s %s documents no responses", method, path)
			}
		}
	}

	var served []string
	regexpPart := regexp.MustCompile(`\{([^}:]+):[^}]*\}`) // {id:[a-z0-9]+} is {id} in OpenAPI
	r := newRouter(slog.New(slog.DiscardHandler), nil, fakeVerifier{}, nil)
	err = r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		methods, err := route.GetMethods()
		if err != nil { // a prefix or subrouter, not an endpoint
			return nil
		}
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		for _, m := range methods {
			served = append(served, m+" "+regexpPart.ReplaceAllString(tpl, "{$1}"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Fatalf("routes and docs/openapi.yaml differ:\n served:     %v\n documented: %v", served, documented)
	}
	t.Logf("%d operations, documented and served", len(served))
}
