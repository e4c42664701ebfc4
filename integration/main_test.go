//go:build integration

// Package integration tests recordvault against a real Vault and a real MinIO, started as
// containers by the rvtest. Without a Docker engine or the images these tests fail; they
// never skip.
package integration

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/recordvault/recordvault/rvtest"
)

// shared servers for tests that neither stop nor pause them; fault tests start their own.
var shared struct {
	vault      *rvtest.Vault
	minio      *rvtest.MinIO
	vaultImage string
	minioImage string
	seaweedfs  *rvtest.SeaweedFS // started by the first test that needs it (sharedSeaweedFS)
}

// sharedSeaweedFS is the SeaweedFS server the tests on a second S3 share, started on first use.
var sharedSeaweedFS = sync.OnceValues(func() (*rvtest.SeaweedFS, error) {
	ctx := context.Background()
	if err := rvtest.CheckImages(ctx, rvtest.SeaweedFSImage); err != nil {
		return nil, err
	}
	var err error
	shared.seaweedfs, err = rvtest.StartSeaweedFS(ctx, rvtest.SeaweedFSImage)
	return shared.seaweedfs, err
})

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
	defer func() { shared.seaweedfs.Terminate(ctx) }()
	return m.Run()
}
