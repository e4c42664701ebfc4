package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// A wrong configuration stops the service before it reaches Vault or S3, naming every
// setting that is wrong.
func TestRunRefusesAWrongConfiguration(t *testing.T) {
	env := map[string]string{"VAULT_ADDR": "http://vault:8200", "VAULT_TOKEN": "t", "RECORDVAULT_S3_ENDPOINT": "minio",
		"RECORDVAULT_DOWNLOAD_TTL": "1h"}
	err := run(context.Background(), []string{"recordvault"}, func(k string) string { return env[k] }, io.Discard)
	if err == nil {
		t.Fatal("started")
	}
	for _, want := range []string{"RECORDVAULT_OIDC_ISSUER: required", `RECORDVAULT_S3_ENDPOINT="minio": host:port`, "RECORDVAULT_DOWNLOAD_TTL",
		"RECORDVAULT_S3_ACCESS_KEY: required", "VAULT_ADDR: https outside development"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%v", want, err)
		}
	}
}
