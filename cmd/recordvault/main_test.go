package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/recordvault/recordvault/storage"
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

type readiness struct{ err error }

func (r readiness) Ready(context.Context) error { return r.err }

// Storage that ignores conditional writes stops the start; storage that does not answer yet
// does not (readiness reports it).
func TestRefuseUnfitStorage(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	if err := refuseUnfitStorage(context.Background(), readiness{fmt.Errorf("probe: %w", storage.ErrNoConditionalWrites)}, logger); err == nil ||
		!strings.Contains(err.Error(), "RECORDVAULT_S3_ENDPOINT") {
		t.Errorf("storage ignoring conditional writes: %v", err)
	}
	if err := refuseUnfitStorage(context.Background(), readiness{errors.New("storage unreachable")}, logger); err != nil {
		t.Errorf("storage down at start: %v", err)
	}
	if err := refuseUnfitStorage(context.Background(), readiness{}, logger); err != nil {
		t.Errorf("fit storage: %v", err)
	}
}
