package handlers

import (
	"log/slog"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"go.yaml.in/yaml/v3"

	"github.com/recordvault/recordvault/app"
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
	portal, err := NewPortal(PortalConfig{Issuer: "http://issuer.invalid", ClientID: "recordvault-portal", PublicURL: "http://127.0.0.1:8080",
		SessionKey: make([]byte, SessionKeySize)}, slog.New(slog.DiscardHandler), fakeVerifier{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := newRouter(slog.New(slog.DiscardHandler), nil, fakeVerifier{}, nil, newLimits(slog.New(slog.DiscardHandler), serverOptions{}), portal, nil)
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

// The request bodies the document describes name exactly the JSON fields the service decodes
// (the decoder refuses unknown fields, so a field missing from either side is a bug).
func TestOpenAPIBodiesMatchTypes(t *testing.T) {
	raw, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]any{
		"AuthorizationInput": app.AuthorizationInput{},
		"ReleaseInput":       app.ReleaseInput{},
		"OrderInput":         app.OrderInput{},
		"AccessRequestInput": app.AccessRequestInput{},
		"SuspensionInput":    app.SuspensionInput{},
		"NewRecord":          app.NewRecord{},
	} {
		schema, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("no schema %s", name)
			continue
		}
		documented := slices.Sorted(maps.Keys(schema.Properties))
		decoded := jsonFields(reflect.TypeOf(body))
		if !slices.Equal(documented, decoded) {
			t.Errorf("%s: documented %v, decoded %v", name, documented, decoded)
		}
	}
}

// jsonFields lists the JSON names of a struct's fields, embedded structs' included.
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous:
			out = append(out, jsonFields(f.Type)...)
		case name != "" && name != "-":
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
