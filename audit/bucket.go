package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/storage/object"
)

// The audit trail's part of the bucket (docs/FORMAT.md).
//
// A block is one signed link of a clinic's chain, stored at c/<clinic>/a/<part>/<seq>: seq in
// 16 decimal digits, part (seq / 1,000) in 13, so that key order is chain order and no
// listing walks more than a thousand blocks (MinIO lists a prefix by walking it, so a flat
// chain's listing slowed as it grew). Blocks are only ever created (If-None-Match): never
// replaced, never deleted by the service.
//
// A checkpoint is a reader's signed summary of the chain up to a head, stored at
// c/<clinic>/ac/<name> so that a new process resumes reading the chain there instead of at
// its first block.
//
// An acknowledged loss is a clinic privacy officer's signed statement that blocks of the
// chain are lost for good, stored at c/<clinic>/al/<first>/<resume>: first is the first lost
// block, resume the block the chain goes on from, both in 16 digits. A reader that finds the
// chain broken at first reads the losses stored there; should a resumed block be lost in its
// turn, the break can be acknowledged again with a later one. Losses are only ever created,
// like blocks.

// Retained is what the chain keeps its blocks and losses in: small objects, created under
// the audit retention (Object Lock) when the bucket has one, whose earlier versions a reader
// can still read and an operator restore (package storage implements it).
type Retained interface {
	object.Store
	CreateRetained(ctx context.Context, key string, body []byte) error
	ReadVersions(ctx context.Context, key string, limit int64, max int) ([][]byte, error)
	RestoreVersion(ctx context.Context, key string, genuine []byte) error
	Reinstate(ctx context.Context, key string, genuine []byte) error
}

const (
	// MaxBlockSize bounds a stored audit block.
	MaxBlockSize = 4 << 20
	// MaxBlockVersions bounds the versions of one block a reader reads.
	MaxBlockVersions = 16
	// MaxCheckpointSize bounds a stored checkpoint.
	MaxCheckpointSize = 16 << 20
	// MaxLossSize bounds a stored acknowledged loss.
	MaxLossSize = 64 << 10
	// MaxLosses bounds the losses acknowledged from one block that a reader reads.
	MaxLosses = 16

	seqDigits  = 16
	partDigits = 13
	partBlocks = 1000
)

// ErrStrayObject is returned when a clinic's audit prefix holds an object that is not a
// block: something other than the service wrote there.
var ErrStrayObject = errors.New("audit: an object in the chain's place is not a block")

func blocksPrefix(clinic string) string { return "c/" + clinic + "/a/" }
func partName(part uint64) string       { return fmt.Sprintf("%0*d", partDigits, part) }
func seqName(seq uint64) string         { return fmt.Sprintf("%0*d", seqDigits, seq) }

func partPrefix(clinic string, part uint64) string {
	return blocksPrefix(clinic) + partName(part) + "/"
}

// BlockKey is the object key of block seq of clinic's chain (docs/FORMAT.md).
func BlockKey(clinic string, seq uint64) string {
	return partPrefix(clinic, seq/partBlocks) + seqName(seq)
}

func checkpointKey(clinic, name string) string { return "c/" + clinic + "/ac/" + name }

func lossPrefix(clinic string, first uint64) string {
	return "c/" + clinic + "/al/" + seqName(first) + "/"
}

// LossKey is the object key of the acknowledged loss of clinic's chain from block first to
// block resume.
func LossKey(clinic string, first, resume uint64) string {
	return lossPrefix(clinic, first) + seqName(resume)
}

var errClinic = errors.New("audit: invalid clinic id")

// Bucket is BlockStore (and Restorer) over object storage, in the layout above.
type Bucket struct{ objects Retained }

// NewBucket returns the chain's BlockStore in objects.
func NewBucket(objects Retained) *Bucket { return &Bucket{objects: objects} }

var _ Restorer = (*Bucket)(nil)

// CreateAuditBlock stores block seq of clinic's chain; object.ErrExists if that block is
// there.
func (b *Bucket) CreateAuditBlock(ctx context.Context, clinic string, seq uint64, body []byte) error {
	if !recordvault.ValidID(clinic) {
		return errClinic
	}
	if len(body) > MaxBlockSize {
		return errors.New("audit: block too large")
	}
	return b.objects.CreateRetained(ctx, BlockKey(clinic, seq), body)
}

// ReadAuditBlock returns block seq of clinic's chain; object.ErrNotFound if there is none.
func (b *Bucket) ReadAuditBlock(ctx context.Context, clinic string, seq uint64) ([]byte, error) {
	if !recordvault.ValidID(clinic) {
		return nil, errClinic
	}
	body, _, err := b.objects.Read(ctx, BlockKey(clinic, seq), MaxBlockSize)
	return body, err
}

// ReadAuditBlockVersions returns every stored version of block seq of clinic's chain, newest
// first, delete markers left out (at most MaxBlockVersions of them): in a versioned bucket
// the genuine bytes of a block hidden by a delete marker or a newer version are among them.
// In a bucket without versioning, only the current one.
func (b *Bucket) ReadAuditBlockVersions(ctx context.Context, clinic string, seq uint64) ([][]byte, error) {
	if !recordvault.ValidID(clinic) {
		return nil, errClinic
	}
	return b.objects.ReadVersions(ctx, BlockKey(clinic, seq), MaxBlockSize, MaxBlockVersions)
}

// RestoreAuditBlock makes genuine, one of the stored versions of block seq of clinic's chain,
// the current one again (storage's RestoreVersion); object.ErrNotFound when no stored version
// has those bytes.
func (b *Bucket) RestoreAuditBlock(ctx context.Context, clinic string, seq uint64, genuine []byte) error {
	if !recordvault.ValidID(clinic) {
		return errClinic
	}
	return b.objects.RestoreVersion(ctx, BlockKey(clinic, seq), genuine)
}

// ListAuditBlocks returns the sequence numbers of clinic's stored blocks in order, from from
// onwards, at most limit of them. It lists the chain's parts from from's on, and the blocks
// of each, so that neither listing walks more than it must; anything else under the chain's
// prefix is ErrStrayObject.
func (b *Bucket) ListAuditBlocks(ctx context.Context, clinic string, from uint64, limit int) ([]uint64, error) {
	if !recordvault.ValidID(clinic) {
		return nil, errClinic
	}
	first := from / partBlocks
	after := ""
	if first > 0 {
		after = partName(first-1) + "/"
	}
	parts, err := b.objects.List(ctx, blocksPrefix(clinic), after, 0)
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	for _, p := range parts {
		name, isPart := strings.CutSuffix(p, "/")
		part, err := strconv.ParseUint(name, 10, 64)
		if !isPart || err != nil || len(name) != partDigits {
			return nil, ErrStrayObject
		}
		if part < first {
			continue
		}
		after, left := "", 0
		if part == first && from%partBlocks > 0 {
			after = seqName(from - 1)
		}
		if limit > 0 {
			left = limit - len(seqs)
		}
		blocks, err := b.objects.List(ctx, partPrefix(clinic, part), after, left)
		if err != nil {
			return nil, err
		}
		for _, name := range blocks {
			seq, err := strconv.ParseUint(name, 10, 64)
			if err != nil || len(name) != seqDigits || seq/partBlocks != part {
				return nil, ErrStrayObject
			}
			seqs = append(seqs, seq)
		}
		if limit > 0 && len(seqs) >= limit {
			break
		}
	}
	return seqs, nil
}

// ReadAuditCheckpoint returns clinic's checkpoint called name and its ETag;
// object.ErrNotFound if there is none.
func (b *Bucket) ReadAuditCheckpoint(ctx context.Context, clinic, name string) ([]byte, string, error) {
	if !recordvault.ValidID(clinic) || !recordvault.ValidName(name) {
		return nil, "", errors.New("audit: invalid checkpoint name")
	}
	return b.objects.Read(ctx, checkpointKey(clinic, name), MaxCheckpointSize)
}

// PutAuditCheckpoint stores clinic's checkpoint called name: created when etag is ""
// (object.ErrExists if one is there), else in place of the one whose ETag is etag
// (object.ErrChanged if another writer replaced it first).
func (b *Bucket) PutAuditCheckpoint(ctx context.Context, clinic, name string, body []byte, etag string) error {
	if !recordvault.ValidID(clinic) || !recordvault.ValidName(name) {
		return errors.New("audit: invalid checkpoint name")
	}
	if len(body) > MaxCheckpointSize {
		return errors.New("audit: checkpoint too large")
	}
	_, err := object.Write(ctx, b.objects, checkpointKey(clinic, name), body, etag)
	return err
}

// CreateAuditLoss stores the acknowledged loss of clinic's chain from block first to block
// resume; object.ErrExists if that one is there.
func (b *Bucket) CreateAuditLoss(ctx context.Context, clinic string, first, resume uint64, body []byte) error {
	if !recordvault.ValidID(clinic) {
		return errClinic
	}
	if len(body) > MaxLossSize {
		return errors.New("audit: loss too large")
	}
	return b.objects.CreateRetained(ctx, LossKey(clinic, first, resume), body)
}

// ReadAuditLosses returns the acknowledged losses of clinic's chain from block first, in key
// order: none when there are none, an error when there are more than MaxLosses.
func (b *Bucket) ReadAuditLosses(ctx context.Context, clinic string, first uint64) ([][]byte, error) {
	if !recordvault.ValidID(clinic) {
		return nil, errClinic
	}
	names, err := b.objects.List(ctx, lossPrefix(clinic, first), "", MaxLosses+1)
	if err != nil {
		return nil, err
	}
	if len(names) > MaxLosses {
		return nil, errors.New("audit: too many losses from one block")
	}
	bodies := make([][]byte, 0, len(names))
	for _, name := range names {
		if strings.HasSuffix(name, "/") {
			continue // a deeper level: not a loss
		}
		body, _, err := b.objects.Read(ctx, lossPrefix(clinic, first)+name, MaxLossSize)
		if errors.Is(err, object.ErrNotFound) {
			continue // removed since it was listed
		}
		if err != nil {
			return nil, err
		}
		bodies = append(bodies, body)
	}
	return bodies, nil
}

// ReinstateAuditBlock writes genuine, the newest stored version of block seq of clinic's
// chain, again when the block's key reads as absent (a version stranded by a write the
// storage answered with an error: storage's Reinstate); object.ErrExists when a delete marker
// or another version hides it, which is an operator's to restore.
func (b *Bucket) ReinstateAuditBlock(ctx context.Context, clinic string, seq uint64, genuine []byte) error {
	if !recordvault.ValidID(clinic) {
		return errClinic
	}
	return b.objects.Reinstate(ctx, BlockKey(clinic, seq), genuine)
}
