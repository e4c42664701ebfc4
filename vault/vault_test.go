package vault

import (
	"context"
	"strings"
	"testing"
)

// Invalid names are refused before any request: nothing a person typed reaches a Vault path.
func TestEnsureKeyRefusesInvalidNames(t *testing.T) {
	c, err := New(Config{Addr: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "../sys/policy", "a/b", "Jane Doe", strings.Repeat("a", 129), "-leading"} {
		if err := c.EnsureKey(context.Background(), name); err == nil || !strings.Contains(err.Error(), "invalid transit key name") {
			t.Errorf("EnsureKey(%q) = %v, want invalid name", name, err)
		}
	}
}

func TestNewRequiresAddress(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without address succeeded")
	}
}
