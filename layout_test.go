package recordvault_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/recordvault/recordvault"

// imports lists, by package, what each package of the module imports directly (deps false)
// or at all (deps true), from go list.
func imports(t *testing.T, deps bool, pkgs ...string) map[string][]string {
	t.Helper()
	args := []string{"list", "-f", `{{.ImportPath}} {{join .Imports " "}}`}
	if deps {
		args = []string{"list", "-deps", "-f", `{{.ImportPath}}`}
	}
	out, err := exec.Command("go", append(args, pkgs...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if deps {
			m[""] = append(m[""], f[0])
			continue
		}
		m[f[0]] = f[1:]
	}
	return m
}

// The layout the architecture promises: only vault/ imports the Vault SDK and only storage/
// minio-go (the integration harness checks the servers through them too); crypto/ does no
// I/O; the policy, the access rules and the Transit key table import nothing but the domain
// and the standard library, and pull in neither SDK; the domain and application packages do
// not depend on the Vault SDK.
func TestLayout(t *testing.T) {
	sdk := map[string][]string{
		"github.com/hashicorp/vault/api": {module + "/vault", module + "/integration/harness"},
		"github.com/minio/minio-go/v7":   {module + "/storage", module + "/integration/harness"},
	}
	for pkg, imps := range imports(t, false, "./...") {
		for _, imp := range imps {
			for prefix, allowed := range sdk {
				if strings.HasPrefix(imp, prefix) && !slices.Contains(allowed, pkg) {
					t.Errorf("%s imports %s: only %v may", pkg, imp, allowed)
				}
			}
		}
	}
	io := []string{"net", "net/http", "os", "os/exec", "io/fs", "path/filepath"}
	for pkg, imps := range imports(t, false, "./crypto", "./policy", "./access", "./transit", ".") {
		for _, imp := range imps {
			if slices.Contains(io, imp) || strings.HasPrefix(imp, module+"/") {
				t.Errorf("%s, pure, imports %s", pkg, imp)
			}
		}
	}
	for _, dep := range imports(t, true, "./crypto", "./policy", "./access", "./transit", "./seal")[""] {
		for prefix := range sdk {
			if strings.HasPrefix(dep, prefix) {
				t.Errorf("a pure package depends on %s", dep)
			}
		}
	}
	// The HTTP layer and the renderer speak domain and application types only.
	for pkg, imps := range imports(t, false, "./handlers", "./render") {
		for _, imp := range imps {
			if imp == module+"/storage" || imp == module+"/vault" {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
	// The domain and application packages meet Vault through interfaces (package seal's
	// Keyring, each package's own Signer): the Vault SDK is not among their dependencies.
	// (minio-go still is, through storage's types: the next step of issue 18.)
	for _, dep := range imports(t, true, "./records", "./clinic", "./disclosure", "./audit/...", "./app", "./otp", "./tokens")[""] {
		if strings.HasPrefix(dep, "github.com/hashicorp/vault/api") {
			t.Errorf("a domain or application package depends on %s", dep)
		}
	}
}
