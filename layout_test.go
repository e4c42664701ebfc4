package recordvault_test

import (
	"os"
	"os/exec"
	"regexp"
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
// minio-go (rvtest, which starts the real stack for tests, checks the servers through them too); crypto/ does no
// I/O; the policy, the access rules and the Transit key table import nothing but the domain
// and the standard library, and pull in neither SDK; the domain and application packages do
// not depend on the Vault SDK.
func TestLayout(t *testing.T) {
	sdk := map[string][]string{
		"github.com/hashicorp/vault/api": {module + "/vault", module + "/rvtest"},
		"github.com/minio/minio-go/v7":   {module + "/storage", module + "/rvtest"},
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
	// The domain, application and HTTP packages meet Vault and S3 through interfaces declared
	// where they are used (package seal's Keyring, each package's own Signer and Store over
	// storage/object): neither SDK is among their dependencies, and storage/object itself
	// imports nothing but the domain.
	domain := []string{"./records", "./clinic", "./disclosure", "./audit/...", "./app", "./otp", "./tokens",
		"./handlers", "./render", "./storage/object", "./notify"}
	for _, dep := range imports(t, true, domain...)[""] {
		for prefix := range sdk {
			if strings.HasPrefix(dep, prefix) {
				t.Errorf("a domain, application or HTTP package depends on %s", dep)
			}
		}
	}
}

// The package map that opens docs/ARCHITECTURE.md is true to the code: a row for every
// package of the module, naming exactly the module packages it imports.
func TestPackageMap(t *testing.T) {
	doc, err := os.ReadFile("docs/ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	name := func(path string) string {
		if path == module {
			return "recordvault"
		}
		return strings.TrimPrefix(path, module+"/")
	}
	ticked := regexp.MustCompile("`([^`]+)`")
	_, section, _ := strings.Cut(string(doc), "\n## Package map\n")
	section, _, _ = strings.Cut(section, "\n## ")
	mapped := map[string][]string{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		pkg := ticked.FindStringSubmatch(cells[1])[1]
		var imps []string
		for _, m := range ticked.FindAllStringSubmatch(cells[3], -1) {
			imps = append(imps, m[1])
		}
		mapped[pkg] = imps
	}
	for pkg, imps := range imports(t, false, "./...") {
		var want []string
		for _, imp := range imps {
			if imp == module || strings.HasPrefix(imp, module+"/") {
				want = append(want, name(imp))
			}
		}
		got, ok := mapped[name(pkg)]
		switch {
		case !ok:
			t.Errorf("docs/ARCHITECTURE.md's package map has no row for %s", name(pkg))
		case !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))):
			t.Errorf("the package map says %s imports %v; it imports %v", name(pkg), got, want)
		}
		delete(mapped, name(pkg))
	}
	for pkg := range mapped {
		t.Errorf("the package map lists %s, which is not a package", pkg)
	}
}
