//go:build integration

// Package integration tests recordvault against a real Vault and a real MinIO, started as
// containers by the rvtest. Without a Docker engine or the images these tests fail; they
// never skip.
package integration

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/recordvault/recordvault/rvtest"
)

// shared servers for tests that neither stop nor pause them; fault tests start their own.
var shared struct {
	vault      *rvtest.Vault
	minio      *rvtest.MinIO
	vaultImage string
	minioImage string
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	rvtest.Configure()
	ctx := context.Background()
	var err error
	shared.vaultImage, shared.minioImage = rvtest.VaultImage, rvtest.MinIOImage
	err = rvtest.CheckImages(ctx, shared.vaultImage, shared.minioImage)
	if err == nil {
		shared.vault, err = rvtest.StartVault(ctx, shared.vaultImage)
		defer shared.vault.Terminate(ctx)
	}
	if err == nil {
		shared.minio, err = rvtest.StartMinIO(ctx, shared.minioImage)
		defer shared.minio.Terminate(ctx)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: cannot start the real stack: %v\n", err)
		return 1
	}
	return m.Run()
}
