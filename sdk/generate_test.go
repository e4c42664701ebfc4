package sdk

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// api.gen.go is what oapi-codegen makes of docs/openapi.yaml now: a route added to the API
// (TestOpenAPIMatchesRoutes keeps the document in step with the handlers) is in the client
// once `go generate ./sdk` has run, and this fails until it has.
func TestGeneratedMatchesSpec(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "api.gen.go")
	cfg, err := os.ReadFile("oapi-codegen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg = bytes.Replace(cfg, []byte("\noutput: api.gen.go\n"), []byte("\noutput: "+out+"\n"), 1)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "tool", "oapi-codegen", "-config", filepath.Join(dir, "config.yaml"), "../docs/openapi.yaml")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, b)
	}
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("api.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Fatal("sdk/api.gen.go is not what docs/openapi.yaml generates: run go generate ./sdk")
	}
}
