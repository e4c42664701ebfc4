package rvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
)

// Backup is what a restore needs: a Raft snapshot of Vault (`vault operator raft snapshot
// save`), with the unseal key and root token it was taken under (a restored cluster unseals
// with the snapshot's keys), and a copy of every object of the bucket, as a replica site holds
// it.
type Backup struct {
	Snapshot             []byte
	UnsealKey, RootToken string
	Objects              map[string][]byte
}

// Backup takes a Raft snapshot and copies the bucket.
func (c *Cluster) Backup(ctx context.Context) (*Backup, error) {
	v, err := c.leaderVault(ctx)
	if err != nil {
		return nil, err
	}
	var snap bytes.Buffer
	if err := v.Sys().RaftSnapshotWithContext(ctx, &snap); err != nil {
		return nil, fmt.Errorf("rvtest: raft snapshot: %w", err)
	}
	b := &Backup{Snapshot: snap.Bytes(), UnsealKey: c.UnsealKey, RootToken: c.RootToken, Objects: map[string][]byte{}}
	s3, err := c.S3(ctx, 0)
	if err != nil {
		return nil, err
	}
	for o := range s3.ListObjects(ctx, clusterBucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("rvtest: list: %w", o.Err)
		}
		obj, err := s3.GetObject(ctx, clusterBucket, o.Key, minio.GetObjectOptions{})
		if err != nil {
			return nil, fmt.Errorf("rvtest: copy %s: %w", o.Key, err)
		}
		body, err := io.ReadAll(obj)
		obj.Close()
		if err != nil {
			return nil, fmt.Errorf("rvtest: copy %s: %w", o.Key, err)
		}
		b.Objects[o.Key] = body
	}
	return b, nil
}

// Destroy removes every replica, Vault node and MinIO node with its volume: the loss a restore
// drill rehearses. The network and the issuer stay.
func (c *Cluster) Destroy(ctx context.Context) error {
	var errs []error
	for _, r := range c.Replicas {
		errs = append(errs, r.Terminate(ctx))
	}
	for _, n := range append(append([]*Node{}, c.Vaults...), c.MinIOs...) {
		errs = append(errs, n.Terminate(ctx))
	}
	c.Replicas, c.Vaults, c.MinIOs = nil, nil, nil
	return errors.Join(errs...)
}

// Restore brings a destroyed cluster back from b: new Vault nodes restore the snapshot (and so
// its keys, policy and AppRole) and unseal with its key, a new MinIO set gets the bucket and
// the service's user again and every object copied back, and new replicas start on them.
func (c *Cluster) Restore(ctx context.Context, b *Backup) error {
	if err := c.startVaultNodes(ctx); err != nil {
		return err
	}
	v, err := c.Vault(ctx, 0)
	if err != nil {
		return err
	}
	if err := v.Sys().RaftSnapshotRestoreWithContext(ctx, bytes.NewReader(b.Snapshot), true); err != nil {
		return fmt.Errorf("rvtest: raft snapshot restore: %w", err)
	}
	c.UnsealKey, c.RootToken = b.UnsealKey, b.RootToken
	if err := c.joinVaults(ctx); err != nil {
		return err
	}
	if err := c.startMinIOs(ctx); err != nil {
		return err
	}
	s3, err := c.S3(ctx, 0)
	if err != nil {
		return err
	}
	for key, body := range b.Objects {
		if _, err := s3.PutObject(ctx, clusterBucket, key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
			return fmt.Errorf("rvtest: restore %s: %w", key, err)
		}
	}
	for range c.cfg.Replicas {
		if _, err := c.StartReplica(ctx); err != nil {
			return err
		}
	}
	return nil
}
