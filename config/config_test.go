package config

import (
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/CONFIGURATION.md's table from Settings")

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func noFiles(string) ([]byte, error) { return nil, errors.New("no such file") }

func minimal() map[string]string {
	return map[string]string{"VAULT_ADDR": "https://vault.internal:8200", "VAULT_ROLE_ID": "role", "VAULT_SECRET_ID": "s3cret-id",
		"RECORDVAULT_S3_ENDPOINT": "s3.internal:9000", "RECORDVAULT_S3_ACCESS_KEY": "recordvault", "RECORDVAULT_S3_SECRET_KEY": "s3cret-key",
		"RECORDVAULT_OIDC_ISSUER": "https://id.example.org"}
}

// Defaults apply, and differ in development where the table says so.
func TestLoadDefaults(t *testing.T) {
	v, err := Load(env(minimal()), noFiles)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"RECORDVAULT_LISTEN": "127.0.0.1:8080", "RECORDVAULT_S3_TLS": "true", "RECORDVAULT_LOG_FORMAT": "json",
		"RECORDVAULT_DOWNLOAD_TTL": "10m", "RECORDVAULT_S3_BUCKET": "recordvault", "RECORDVAULT_JURISDICTION": "US"} {
		if got := v.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	dev := minimal()
	dev[Development], dev["VAULT_ADDR"], dev["VAULT_ROLE_ID"], dev["VAULT_SECRET_ID"], dev["VAULT_TOKEN"] = "true", "http://127.0.0.1:8200", "", "", "root"
	v, err = Load(env(dev), noFiles)
	if err != nil || !v.Development() || v.Get("RECORDVAULT_S3_TLS") != "false" {
		t.Fatalf("development: %v, S3 TLS %q", err, v.Get("RECORDVAULT_S3_TLS"))
	}
}

// Every wrong setting is named at once; a secret's value never appears in the error.
func TestLoadNamesEveryWrongSetting(t *testing.T) {
	bad := minimal()
	delete(bad, "RECORDVAULT_OIDC_ISSUER")
	bad["RECORDVAULT_LISTEN"] = "8080"
	bad["RECORDVAULT_DOWNLOAD_TTL"] = "2h"
	bad["RECORDVAULT_JURISDICTION"] = "US-TX"
	bad["RECORDVAULT_PORTAL_SESSION_KEY"] = "hunter2-not-a-key"
	bad["RECORDVAULT_LOG_LEVEL"] = "loud"
	bad["RECORDVAULT_TLS_CERT_FILE"] = "/etc/recordvault/tls.crt"
	bad["RECORDVAULT_SHUTDOWN_GRACE"] = "0s"
	_, err := Load(env(bad), noFiles)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, name := range []string{"RECORDVAULT_OIDC_ISSUER: required", `RECORDVAULT_LISTEN="8080"`, "RECORDVAULT_DOWNLOAD_TTL", "RECORDVAULT_JURISDICTION",
		"RECORDVAULT_PORTAL_SESSION_KEY: 64 bytes", "RECORDVAULT_LOG_LEVEL", "RECORDVAULT_TLS_CERT_FILE and RECORDVAULT_TLS_KEY_FILE: set both",
		"RECORDVAULT_SHUTDOWN_GRACE"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error does not name %s:\n%v", name, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error shows a secret:\n%v", err)
	}
}

// Outside development: no plain HTTP to Vault, no development mailbox, and a way into Vault.
func TestLoadProductionRules(t *testing.T) {
	bad := minimal()
	bad["VAULT_ADDR"] = "http://vault:8200"
	bad["RECORDVAULT_DEV_MAILBOX"] = "/tmp/mailbox"
	bad["VAULT_SECRET_ID"] = ""
	_, err := Load(env(bad), noFiles)
	for _, want := range []string{"VAULT_ADDR: https outside development", "RECORDVAULT_DEV_MAILBOX: development only", "VAULT_ROLE_ID and VAULT_SECRET_ID"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
}

// A secret comes from NAME_FILE (a mounted secret), its line end trimmed; not from both.
func TestSecretFiles(t *testing.T) {
	e := minimal()
	delete(e, "RECORDVAULT_S3_SECRET_KEY")
	e["RECORDVAULT_S3_SECRET_KEY_FILE"] = "/run/secrets/s3"
	files := func(path string) ([]byte, error) {
		if path == "/run/secrets/s3" {
			return []byte("from-a-file\n"), nil
		}
		return nil, errors.New("no such file")
	}
	v, err := Load(env(e), files)
	if err != nil || v.Get("RECORDVAULT_S3_SECRET_KEY") != "from-a-file" {
		t.Fatalf("%v %q", err, v.Get("RECORDVAULT_S3_SECRET_KEY"))
	}
	e["RECORDVAULT_S3_SECRET_KEY"] = "inline"
	if _, err := Load(env(e), files); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("both given: %v", err)
	}
	delete(e, "RECORDVAULT_S3_SECRET_KEY")
	e["RECORDVAULT_S3_SECRET_KEY_FILE"] = "/run/secrets/missing"
	if _, err := Load(env(e), files); err == nil || !strings.Contains(err.Error(), "RECORDVAULT_S3_SECRET_KEY_FILE") {
		t.Errorf("a missing file: %v", err)
	}
}

// docs/CONFIGURATION.md holds this table, as Markdown writes it (go test ./config -update
// rewrites it).
func TestConfigurationDoc(t *testing.T) {
	const path = "../docs/CONFIGURATION.md"
	const begin, end = "<!-- settings: begin -->\n", "<!-- settings: end -->"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers around its table", path)
	}
	got, want := doc[i+len(begin):j], Markdown()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s's table is not the settings' table: go test ./config -update", path)
}
