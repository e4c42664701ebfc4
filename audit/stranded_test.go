package audit_test

import (
	"testing"

	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/storage"
	"github.com/recordvault/recordvault/storage/s3fake"
	"github.com/recordvault/recordvault/vault/vaulttest"
)

// Over the S3 protocol (package storage on s3fake): the chain's last block, stranded by a
// write the storage refused, is written again by the next writer to find the end, which
// chains after it; the chain then checks intact with every event, no operator involved. A
// block stranded in the middle is written again by the check.
func TestStrandedEndOverS3(t *testing.T) {
	ctx := t.Context()
	fake := s3fake.New()
	t.Cleanup(fake.Close)
	store, err := storage.New(storage.Config{Endpoint: fake.Endpoint(), AccessKey: "k", SecretKey: "secret-key", Bucket: "trail", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	blocks := audit.NewBucket(store)
	first := audit.NewChain(blocks, vaulttest.Keyring{}, quietLogger(), nil)
	for i := range 3 {
		if err := first.Record(ctx, event("c1", i)); err != nil {
			t.Fatal(err)
		}
	}
	fake.Strand("trail", audit.BlockKey("c1", 2))
	if err := audit.NewChain(blocks, vaulttest.Keyring{}, quietLogger(), nil).Record(ctx, event("c1", 3)); err != nil {
		t.Fatal(err)
	}
	h, err := audit.NewChain(blocks, vaulttest.Keyring{}, quietLogger(), nil).Verify(ctx, "c1", nil)
	if err != nil || h.Blocks != 4 || h.Events != 4 {
		t.Fatalf("verify: %+v, %v; want 4 blocks, 4 events", h, err)
	}

	fake.Strand("trail", audit.BlockKey("c1", 1))
	if _, err := blocks.ReadAuditBlock(ctx, "c1", 1); err == nil {
		t.Fatal("block 1 reads while stranded")
	}
	h, err = audit.NewChain(blocks, vaulttest.Keyring{}, quietLogger(), nil).Verify(ctx, "c1", nil)
	if err != nil || h.Blocks != 4 || h.Events != 4 {
		t.Fatalf("verify with block 1 stranded: %+v, %v; want 4 blocks, 4 events", h, err)
	}
	if _, err := blocks.ReadAuditBlock(ctx, "c1", 1); err != nil {
		t.Fatalf("block 1 after the check: %v", err)
	}
}
