package transit

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/hashicorp/hcl"
)

// policyPath is one path of a Vault policy.
type policyPath struct {
	Capabilities      []string         `hcl:"capabilities"`
	AllowedParameters map[string][]any `hcl:"allowed_parameters"`
}

// readPolicy decodes deploy/helm/recordvault/files/recordvault-policy.hcl.
func readPolicy(t *testing.T) map[string]policyPath {
	t.Helper()
	b, err := os.ReadFile("../deploy/helm/recordvault/files/recordvault-policy.hcl")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Path map[string]policyPath `hcl:"path"`
	}
	if err := hcl.Decode(&p, string(b)); err != nil {
		t.Fatal(err)
	}
	if len(p.Path) == 0 {
		t.Fatal("the policy decodes to no paths")
	}
	return p.Path
}

// The least-privilege policy grants each key of the table exactly what its row says and
// names no key that is not in the table: creating AES keys only derived and not exportable
// and signing keys only as non-exportable ECDSA; retiring old versions only for keys that
// retire; trimming none; HMAC, signing and verifying only with the keys that do so.
func TestPolicyMatchesTable(t *testing.T) {
	paths := readPolicy(t)
	has := func(path string, capability string) bool {
		return slices.Contains(paths[path].Capabilities, capability)
	}
	const prefix = "transit/keys/rv-CLINIC-"
	aes := paths[prefix+"*"]
	if !slices.Equal(aes.AllowedParameters["type"], []any{AES}) || !slices.Equal(aes.AllowedParameters["derived"], []any{true}) ||
		!slices.Equal(aes.AllowedParameters["exportable"], []any{false}) || slices.Contains(aes.Capabilities, "delete") {
		t.Errorf("the keys glob: %+v", aes)
	}
	for _, glob := range []string{"transit/datakey/plaintext/rv-CLINIC-*", "transit/decrypt/rv-CLINIC-*", "transit/rewrap/rv-CLINIC-*"} {
		if !has(glob, "update") {
			t.Errorf("%s: not granted; the wrapping keys need it", glob)
		}
	}
	for _, k := range Keys {
		name := "rv-CLINIC-" + k.Suffix
		if !has("transit/keys/"+name+"/trim", "deny") {
			t.Errorf("%s: trimming is not denied", name)
		}
		config := paths["transit/keys/"+name+"/config"]
		if _, retires := config.AllowedParameters["min_decryption_version"]; k.Retires != retires || k.Retires != has("transit/keys/"+name+"/config", "update") ||
			!k.Retires && !has("transit/keys/"+name+"/config", "deny") {
			t.Errorf("%s: config %+v, want retiring old versions %v and nothing else", name, config, k.Retires)
		}
		if k.Type == ECDSA {
			own := paths["transit/keys/"+name]
			if !slices.Equal(own.AllowedParameters["type"], []any{ECDSA}) || !slices.Equal(own.AllowedParameters["exportable"], []any{false}) {
				t.Errorf("%s: created as %+v, want a non-exportable ECDSA key", name, own)
			}
		}
		for use, path := range map[Use]string{HMAC: "transit/hmac/" + name + "/sha2-256", Sign: "transit/sign/" + name + "/sha2-256",
			Verify: "transit/verify/" + name + "/sha2-256"} {
			if slices.Contains(k.Uses, use) != has(path, "update") {
				t.Errorf("%s: %s granted %v, want %v", name, use, has(path, "update"), slices.Contains(k.Uses, use))
			}
		}
		symmetric := slices.Contains(k.Uses, Wrap) || slices.Contains(k.Uses, HMAC)
		if k.Type == AES && !symmetric || k.Type == ECDSA && (symmetric || !slices.Contains(k.Uses, Sign)) {
			t.Errorf("%s: an AES key wraps or MACs; an ECDSA key signs and does neither", name)
		}
	}
	named := regexp.MustCompile(`rv-CLINIC-([a-z0-9-]+)`)
	for path := range paths {
		for _, m := range named.FindAllStringSubmatch(path, -1) {
			if !slices.ContainsFunc(Keys, func(k Key) bool { return k.Suffix == m[1] }) {
				t.Errorf("the policy names %s, which is no key of the table", path)
			}
		}
	}
}

// Key names are the clinic's prefix and the row's suffix; suffixes are distinct.
func TestNames(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys {
		if seen[k.Suffix] || !regexp.MustCompile(`^[a-z0-9-]+$`).MatchString(k.Suffix) {
			t.Errorf("suffix %q repeated or malformed", k.Suffix)
		}
		seen[k.Suffix] = true
	}
	if got := Name("c1", CategorySuffix("psychotherapy_note")); got != "rv-c1-psychotherapy-note" {
		t.Errorf("Name = %q", got)
	}
}
