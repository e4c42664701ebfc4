package storage

import (
	"testing"
	"time"
)

func TestCheckKey(t *testing.T) {
	for key, ok := range map[string]bool{
		"c/0a1b/records/r9":        true,
		"c/0a1b/blobs/r9.bin":      true,
		"t/abc-def_1":              true,
		"":                         false,
		"/leading/slash":           false,
		"c/../etc":                 false,
		"c/UPPER":                  false,
		"c/name with space":        false,
		"c/jane.doe@example.com":   false,
		"a/b/c/d/e/f/g/h/too-deep": false,
		"c//empty":                 false,
	} {
		if err := checkKey(key); (err == nil) != ok {
			t.Errorf("checkKey(%q) = %v, want ok=%v", key, err, ok)
		}
	}
}

// Audit retention is whole days from the environment; anything else is refused, never taken
// for none (a typo must not turn the lock off unnoticed).
func TestConfigFromEnvRetention(t *testing.T) {
	env := func(value string) func(string) string {
		return func(k string) string {
			if k == "RECORDVAULT_AUDIT_RETENTION_DAYS" {
				return value
			}
			return ""
		}
	}
	for value, want := range map[string]time.Duration{"": 0, "0": 0, "2192": 2192 * 24 * time.Hour} {
		cfg, err := ConfigFromEnv(env(value))
		if err != nil || cfg.AuditRetention != want || cfg.Bucket != "recordvault" {
			t.Errorf("%q: %v, %v", value, cfg.AuditRetention, err)
		}
	}
	for _, value := range []string{"6y", "-1", "1.5", "99999999"} {
		if _, err := ConfigFromEnv(env(value)); err == nil {
			t.Errorf("%q taken", value)
		}
	}
}
