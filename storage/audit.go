package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
)

// An audit block is one signed link of a clinic's audit chain (package audit), stored at
// c/<clinic>/a/<part>/<seq>: seq in 16 decimal digits, part (seq / 1,000) in 13, so that key
// order is chain order and no listing walks more than a thousand blocks (MinIO lists a
// prefix by walking it, so a flat chain's listing slowed as it grew). Blocks are only ever
// created (If-None-Match): never replaced, never deleted by the service.

// MaxAuditBlockSize bounds a stored audit block.
const MaxAuditBlockSize = 4 << 20

const (
	auditSeqDigits  = 16
	auditPartDigits = 13
	auditPartBlocks = 1000
)

func auditPrefix(clinic string) string { return "c/" + clinic + "/a/" }

func auditPartPrefix(clinic string, part uint64) string {
	return auditPrefix(clinic) + fmt.Sprintf("%0*d/", auditPartDigits, part)
}

// AuditBlockKey is the object key of block seq of clinic's chain (docs/FORMAT.md).
func AuditBlockKey(clinic string, seq uint64) string {
	return auditPartPrefix(clinic, seq/auditPartBlocks) + fmt.Sprintf("%0*d", auditSeqDigits, seq)
}

// CreateAuditBlock stores block seq of clinic's chain; ErrExists if that block is there.
func (s *Store) CreateAuditBlock(ctx context.Context, clinic string, seq uint64, body []byte) error {
	if err := checkIDs(clinic); err != nil {
		return err
	}
	if len(body) > MaxAuditBlockSize {
		return errors.New("storage: audit block too large")
	}
	return s.createAudit(ctx, AuditBlockKey(clinic, seq), body)
}

// ReadAuditBlock returns block seq of clinic's chain; ErrNotFound if there is none.
func (s *Store) ReadAuditBlock(ctx context.Context, clinic string, seq uint64) ([]byte, error) {
	if err := checkIDs(clinic); err != nil {
		return nil, err
	}
	b, _, err := s.readSmall(ctx, AuditBlockKey(clinic, seq), "", MaxAuditBlockSize, "audit block")
	return b, err
}

// readSmall reads version versionID ("" for the current one) of the object at key, of at most
// limit bytes (what names it in errors; errTooLarge past it), and its ETag; ErrNotFound if
// there is none.
func (s *Store) readSmall(ctx context.Context, key, versionID string, limit int64, what string) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	obj, info, err := s.openVersion(ctx, key, versionID)
	if err != nil {
		return nil, "", err
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, limit+1))
	if err != nil {
		return nil, "", failed("read "+what, err)
	}
	if int64(len(b)) > limit {
		return nil, "", fmt.Errorf("%w: %s", errTooLarge, what)
	}
	return b, info.ETag, nil
}

// ReadAuditBlockVersions returns every stored version of block seq of clinic's chain, newest
// first, delete markers left out (at most MaxAuditBlockVersions of them): in a versioned bucket the
// genuine bytes of a block hidden by a delete marker or a newer version are among them. In a
// bucket without versioning, only the current one.
func (s *Store) ReadAuditBlockVersions(ctx context.Context, clinic string, seq uint64) ([][]byte, error) {
	if err := checkIDs(clinic); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	key := AuditBlockKey(clinic, seq)
	var bodies [][]byte
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if obj.Err != nil {
			return nil, failed("list audit block versions", obj.Err)
		}
		if obj.Key != key || obj.IsDeleteMarker {
			continue
		}
		if len(bodies) == MaxAuditBlockVersions {
			break
		}
		b, _, err := s.readSmall(ctx, key, obj.VersionID, MaxAuditBlockSize, "audit block version")
		if errors.Is(err, errTooLarge) {
			continue // not a block this service wrote
		}
		if err != nil {
			return nil, err
		}
		bodies = append(bodies, b)
	}
	return bodies, nil
}

// RestoreAuditBlock makes genuine, one of the stored versions of block seq of clinic's
// chain, the current one again, by removing every version and delete marker put on top of it
// (newest first). It needs the right to delete object versions, which an operator has and
// the service need not; under Object Lock the genuine version itself cannot be removed.
// ErrNotFound when no stored version has those bytes.
func (s *Store) RestoreAuditBlock(ctx context.Context, clinic string, seq uint64, genuine []byte) error {
	if err := checkIDs(clinic); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	key := AuditBlockKey(clinic, seq)
	var above []string // version ids newer than the genuine one, newest first
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if obj.Err != nil {
			return failed("list audit block versions", obj.Err)
		}
		if obj.Key != key {
			continue
		}
		if !obj.IsDeleteMarker && obj.Size == int64(len(genuine)) {
			b, _, err := s.readSmall(ctx, key, obj.VersionID, MaxAuditBlockSize, "audit block version")
			if err != nil {
				return err
			}
			if bytes.Equal(b, genuine) {
				for _, id := range above {
					if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{VersionID: id}); err != nil {
						return failed(fmt.Sprintf("remove a version over audit block %d", seq), err)
					}
				}
				return nil
			}
		}
		above = append(above, obj.VersionID)
	}
	return ErrNotFound
}

// errTooLarge is returned by readSmall for an object past its limit.
var errTooLarge = errors.New("storage: object too large")

// MaxAuditBlockVersions bounds the versions of one block a reader reads.
const MaxAuditBlockVersions = 16

// ErrStrayAuditObject is returned when a clinic's audit prefix holds an object that is not a
// block: something other than the service wrote there.
var ErrStrayAuditObject = errors.New("storage: an object in the audit chain's place is not a block")

// ListAuditBlocks returns the sequence numbers of clinic's stored blocks in order, from
// from onwards, at most limit of them. It lists the chain's parts from from's on, and the
// blocks of each, so that neither listing walks more than it must; anything else under the
// chain's prefix is ErrStrayAuditObject.
func (s *Store) ListAuditBlocks(ctx context.Context, clinic string, from uint64, limit int) ([]uint64, error) {
	if err := checkIDs(clinic); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prefix := auditPrefix(clinic)
	first := from / auditPartBlocks
	var seqs []uint64
	parts := s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix,
		StartAfter: strings.TrimSuffix(auditPartPrefix(clinic, first), "/")})
	for obj := range parts {
		if obj.Err != nil {
			return nil, failed("list audit parts", obj.Err)
		}
		name, isPart := strings.CutSuffix(strings.TrimPrefix(obj.Key, prefix), "/")
		part, err := strconv.ParseUint(name, 10, 64)
		if !isPart || err != nil || len(name) != auditPartDigits {
			return nil, ErrStrayAuditObject
		}
		if part < first {
			continue
		}
		opts := minio.ListObjectsOptions{Prefix: obj.Key, Recursive: true, MaxKeys: limit}
		if part == first && from > 0 {
			opts.StartAfter = AuditBlockKey(clinic, from-1)
		}
		for b := range s.client.ListObjects(ctx, s.bucket, opts) {
			if b.Err != nil {
				return nil, failed("list audit blocks", b.Err)
			}
			name := strings.TrimPrefix(b.Key, obj.Key)
			seq, err := strconv.ParseUint(name, 10, 64)
			if err != nil || len(name) != auditSeqDigits || seq/auditPartBlocks != part {
				return nil, ErrStrayAuditObject
			}
			seqs = append(seqs, seq)
			if len(seqs) == limit {
				return seqs, nil
			}
		}
	}
	return seqs, nil
}

// An audit checkpoint is a reader's signed summary of a clinic's audit chain up to a head
// (package audit), stored at c/<clinic>/ac/<name> so that a new process resumes reading the
// chain there instead of at its first block.

// MaxAuditCheckpointSize bounds a stored audit checkpoint.
const MaxAuditCheckpointSize = 16 << 20

func auditCheckpointKey(clinic, name string) string { return "c/" + clinic + "/ac/" + name }

// ReadAuditCheckpoint returns clinic's checkpoint called name and its ETag; ErrNotFound if
// there is none.
func (s *Store) ReadAuditCheckpoint(ctx context.Context, clinic, name string) ([]byte, string, error) {
	if err := checkIDs(clinic); err != nil || !validName.MatchString(name) {
		return nil, "", errors.New("storage: invalid audit checkpoint name")
	}
	return s.readSmall(ctx, auditCheckpointKey(clinic, name), "", MaxAuditCheckpointSize, "audit checkpoint")
}

// PutAuditCheckpoint stores clinic's checkpoint called name: created when etag is "" (ErrExists
// if one is there), else in place of the one whose ETag is etag (ErrChanged if another
// writer replaced it first).
func (s *Store) PutAuditCheckpoint(ctx context.Context, clinic, name string, body []byte, etag string) error {
	if err := checkIDs(clinic); err != nil || !validName.MatchString(name) {
		return errors.New("storage: invalid audit checkpoint name")
	}
	if len(body) > MaxAuditCheckpointSize {
		return errors.New("storage: audit checkpoint too large")
	}
	_, err := s.put(ctx, auditCheckpointKey(clinic, name), bytes.NewReader(body), int64(len(body)), etag)
	return err
}

// An acknowledged loss of audit blocks (package audit) is a clinic privacy officer's signed
// statement that blocks of the chain are lost for good, stored at
// c/<clinic>/al/<first>/<resume>: first is the first lost block, resume the block the chain
// goes on from, both in 16 digits. A reader that finds the chain broken at first reads the
// losses stored there; should a resumed block be lost in its turn, the break can be
// acknowledged again with a later one. Losses are only ever created, like blocks.

// MaxAuditLossSize bounds a stored acknowledged loss.
const MaxAuditLossSize = 64 << 10

// MaxAuditLosses bounds the losses acknowledged from one block that a reader reads.
const MaxAuditLosses = 16

func auditLossPrefix(clinic string, first uint64) string {
	return "c/" + clinic + "/al/" + fmt.Sprintf("%0*d/", auditSeqDigits, first)
}

// AuditLossKey is the object key of the acknowledged loss of clinic's chain from block first
// to block resume.
func AuditLossKey(clinic string, first, resume uint64) string {
	return auditLossPrefix(clinic, first) + fmt.Sprintf("%0*d", auditSeqDigits, resume)
}

// CreateAuditLoss stores the acknowledged loss of clinic's chain from block first to block
// resume; ErrExists if that one is there.
func (s *Store) CreateAuditLoss(ctx context.Context, clinic string, first, resume uint64, body []byte) error {
	if err := checkIDs(clinic); err != nil {
		return err
	}
	if len(body) > MaxAuditLossSize {
		return errors.New("storage: audit loss too large")
	}
	return s.createAudit(ctx, AuditLossKey(clinic, first, resume), body)
}

// ReadAuditLosses returns the acknowledged losses of clinic's chain from block first, in key
// order: none when there are none, an error when there are more than MaxAuditLosses.
func (s *Store) ReadAuditLosses(ctx context.Context, clinic string, first uint64) ([][]byte, error) {
	if err := checkIDs(clinic); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var keys []string
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: auditLossPrefix(clinic, first), Recursive: true}) {
		if obj.Err != nil {
			return nil, failed("list audit losses", obj.Err)
		}
		if keys = append(keys, obj.Key); len(keys) > MaxAuditLosses {
			return nil, errors.New("storage: too many audit losses from one block")
		}
	}
	bodies := make([][]byte, 0, len(keys))
	for _, key := range keys {
		b, _, err := s.readSmall(ctx, key, "", MaxAuditLossSize, "audit loss")
		if errors.Is(err, ErrNotFound) {
			continue // removed since it was listed
		}
		if err != nil {
			return nil, err
		}
		bodies = append(bodies, b)
	}
	return bodies, nil
}
