//go:build integration

// Package integration tests recordvault against a real Vault and a real MinIO, started as
// containers by the harness. Without a Docker engine or the images these tests fail; they
// never skip.
package integration

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/recordvault/recordvault/integration/harness"
)

// shared servers for tests that neither stop nor pause them; fault tests start their own.
var shared struct {
	vault      *harness.Vault
	minio      *harness.MinIO
	vaultImage string
	minioImage string
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	harness.Configure()
	ctx := context.Background()
	var err error
	shared.vaultImage, shared.minioImage, err = harness.Images()
	if err == nil {
		err = harness.CheckImages(ctx, shared.vaultImage, shared.minioImage)
	}
	if err == nil {
		shared.vault, err = harness.StartVault(ctx, shared.vaultImage)
		defer shared.vault.Terminate(ctx)
	}
	if err == nil {
		shared.minio, err = harness.StartMinIO(ctx, shared.minioImage)
		defer shared.minio.Terminate(ctx)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: cannot start the real stack: %v\n", err)
		return 1
	}
	return m.Run()
}
