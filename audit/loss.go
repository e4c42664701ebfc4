package audit

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/recordvault/recordvault/storage/object"
)

// A Loss is a clinic privacy officer's acknowledgment that blocks of the clinic's chain are
// lost for good (their genuine bytes gone with the backups): signed by the clinic's audit key
// and stored beside the chain, it lets readers go on past the break, from the block it names,
// instead of stopping there for ever. It bridges exactly one break: it names the hash of the
// last block verified before it and the hash of the block the chain resumes from, so it
// covers no other gap, and a bucket writer can neither forge one (no Transit) nor move one.
// What the lost blocks recorded stays lost: every walk over a loss reports it (Head.Losses),
// and the period it spans (From to Until) is what an accounting of disclosures must say it
// may be missing.
type Loss struct {
	Version int    `json:"v"`
	Clinic  string `json:"clinic"`
	// First is the first block that failed its check; After the hex SHA-256 of block First-1,
	// the last one verified (zeros when First is 0).
	First uint64 `json:"first"`
	After string `json:"after"`
	// Resume is the block the chain goes on from (First itself when that block is intact but
	// does not follow its predecessor), ResumeHash the hex SHA-256 of its bytes.
	Resume     uint64 `json:"resume"`
	ResumeHash string `json:"resume_hash"`
	// Problem is the break as the check found it (block numbers only).
	Problem string `json:"problem"`
	// From and Until bound when the lost events were recorded: the seal of block First-1
	// (zero when First is 0) and that of block Resume.
	From  time.Time `json:"from,omitzero"`
	Until time.Time `json:"until"`
	// Acknowledged is when, By who (the privacy officer's subject), Reference the clinic's
	// own reference for the incident (its ticket), if it gave one.
	Acknowledged time.Time `json:"acknowledged"`
	By           string    `json:"by"`
	Reference    string    `json:"reference,omitempty"`
}

// ErrNotAtBreak is returned by AcknowledgeLoss when the chain does not break where the loss
// is said to begin: only a break that a check found can be acknowledged.
var ErrNotAtBreak = errors.New("audit: the chain does not break at that block")

// ErrAcknowledged is returned by AcknowledgeLoss when the break is acknowledged already (by
// another request, maybe at the same moment): the chain goes on past it.
var ErrAcknowledged = errors.New("audit: the loss is acknowledged already")

// ErrRestorable is returned by AcknowledgeLoss when the block is not lost: its genuine version
// is still stored, and restoring it mends the chain.
var ErrRestorable = errors.New("audit: the block's genuine version is still stored")

// ErrNothingToResume is returned by AcknowledgeLoss when no block after the break passes its
// check yet: the chain's end is what is damaged. Writers record on after a damaged last block
// (Chain.head), so the next event gives the loss a block to resume at.
var ErrNothingToResume = errors.New("audit: no block after the break passes its check")

// AcknowledgeLoss records that the blocks of clinic's chain from first on, up to the next
// block that passes its check, are lost for good, by (a privacy officer's subject), with the
// clinic's incident reference. The chain must break at first, as Verify finds it (losses
// acknowledged before are gone past); ErrAcknowledged if a loss from there is acknowledged
// already, ErrNotAtBreak if the chain does not break there, ErrNothingToResume if no later
// block can be gone on from. Whoever calls it records the acknowledgment in the trail.
func (c *Chain) AcknowledgeLoss(ctx context.Context, clinic string, first uint64, by, reference string) (Loss, error) {
	verify := c.verifier(clinic)
	h, err := walk{store: c.store, clinic: clinic, verify: verify}.scan(ctx, Head{})
	var brk *breakError
	if slices.ContainsFunc(h.Losses, func(l Loss) bool { return l.First == first }) {
		return Loss{}, ErrAcknowledged
	}
	if err == nil || errors.As(err, &brk) && (brk.seq != first || h.Blocks != first) {
		return Loss{}, ErrNotAtBreak
	}
	if brk != nil && brk.restorable {
		return Loss{}, ErrRestorable
	}
	if brk == nil {
		return Loss{}, err // not a break a loss can bridge (a stray object), or no answer
	}
	loss := Loss{Version: 1, Clinic: clinic, First: first, After: h.Hash, Problem: brk.msg, Acknowledged: c.now().UTC(), By: by, Reference: reference}
	if first == 0 {
		loss.After = hex.EncodeToString(make([]byte, sha256.Size))
	} else {
		raw, err := readBlock(ctx, c.store, clinic, first-1, verify)
		if err != nil {
			return Loss{}, err
		}
		if loss.From, err = sealed(raw); err != nil {
			return Loss{}, err
		}
	}
	seqs, err := c.store.ListAuditBlocks(ctx, clinic, first, listPage)
	if err != nil {
		return Loss{}, err
	}
	for i, seq := range seqs {
		raw, err := readBlock(ctx, c.store, clinic, seq, verify)
		if errors.As(err, &brk) {
			continue
		}
		if err != nil {
			return Loss{}, err
		}
		sum := sha256.Sum256(raw)
		if i+1 < len(seqs) && seqs[i+1] == seq+1 {
			// A block in place and signed that its successor does not follow is not the
			// chain's (a block from another history put in a lost one's place): go on from
			// the successor. One that fails its own check is a later break, acknowledged
			// on its own.
			next, err := readBlock(ctx, c.store, clinic, seq+1, verify)
			var b block
			if err == nil && json.Unmarshal(next, &b) == nil && b.Prev != hex.EncodeToString(sum[:]) {
				continue
			}
		}
		loss.Resume, loss.ResumeHash = seq, hex.EncodeToString(sum[:])
		if loss.Until, err = sealed(raw); err != nil {
			return Loss{}, err
		}
		return loss, c.storeLoss(ctx, loss)
	}
	return Loss{}, ErrNothingToResume
}

// storeLoss signs and stores loss.
func (c *Chain) storeLoss(ctx context.Context, loss Loss) error {
	raw, err := json.Marshal(loss)
	if err != nil {
		return fmt.Errorf("audit: encode loss: %w", err)
	}
	body, err := c.seal(ctx, loss.Clinic, lossKind, raw)
	if err != nil {
		return err
	}
	err = c.store.CreateAuditLoss(ctx, loss.Clinic, loss.First, loss.Resume, body)
	if errors.Is(err, object.ErrExists) {
		// Either another request stored the same loss since the walk, or the walk stopped at
		// the break because the loss stored there fails its check.
		h, _ := walk{store: c.store, clinic: loss.Clinic, verify: c.verifier(loss.Clinic)}.scan(ctx, Head{})
		if slices.ContainsFunc(h.Losses, func(l Loss) bool { return l.First == loss.First }) {
			return ErrAcknowledged
		}
		return broken("an acknowledged loss from block %d to block %d is stored and fails its check", loss.First, loss.Resume)
	}
	if err != nil {
		return fmt.Errorf("audit: store loss: %w", err)
	}
	return nil
}

// sealed returns the seal time of a block's bytes (checked already).
func sealed(raw []byte) (time.Time, error) {
	var b block
	if err := json.Unmarshal(raw, &b); err != nil {
		return time.Time{}, fmt.Errorf("audit: decode block: %w", err)
	}
	return b.Sealed, nil
}

// bridge goes on past broken, a break at block h.Blocks whose predecessor's hash is prev, by
// a loss acknowledged there: it must check (signed, this clinic's, naming this place and
// prev), and the block it resumes from must be stored, signed, in place and the one it
// names. The first stored loss that passes is taken (a later one is acknowledged when an
// earlier one's resumed block is lost in its turn). It returns where the walk got to, past
// the resumed block, whose events went to each; brk itself when no loss is stored there,
// and a break at the same place when none passes, so that it can be acknowledged again.
func (w walk) bridge(ctx context.Context, h Head, prev []byte, brk *breakError) (Head, []byte, error) {
	bodies, err := w.store.ReadAuditLosses(ctx, w.clinic, h.Blocks)
	if err != nil {
		return h, prev, fmt.Errorf("audit: read losses: %w", err)
	}
	if len(bodies) == 0 {
		return h, prev, brk
	}
	failed := ""
	for _, body := range bodies {
		loss, resumed, reason, err := w.checkLoss(ctx, h.Blocks, prev, body)
		if err != nil {
			return h, prev, err
		}
		if reason != "" {
			failed = cmp.Or(failed, reason)
			continue
		}
		var b block
		if err := json.Unmarshal(resumed, &b); err != nil {
			return h, prev, broken("block %d is malformed", loss.Resume)
		}
		reached := Head{Blocks: loss.Resume + 1, Events: h.Events + len(b.Events), Hash: loss.ResumeHash, Losses: append(slices.Clone(h.Losses), loss)}
		if e := w.earlier; e != nil && (reached.Blocks == e.Blocks && reached.Hash != e.Hash || e.Blocks == loss.Resume && b.Prev != e.Hash) {
			// An earlier head at the resumed block, or at the lost block just before it (which
			// the resumed block names), must still be the chain's; further inside the loss, no
			// block is left to check it against.
			return h, prev, broken("block %d is not the one the earlier head names", e.Blocks-1)
		}
		if err := w.emit(b.Events); err != nil {
			return h, prev, err
		}
		sum := sha256.Sum256(resumed)
		return reached, sum[:], nil
	}
	return h, prev, brokenAt(h.Blocks, "%s; %s", brk.msg, failed)
}

// checkLoss checks body, a loss stored for a break at block first whose predecessor's hash is
// prev, and reads the block it resumes from: the reason it does not pass, or "".
func (w walk) checkLoss(ctx context.Context, first uint64, prev, body []byte) (Loss, json.RawMessage, string, error) {
	raw, ok, err := open(ctx, lossKind, body, w.verify)
	if err != nil {
		return Loss{}, nil, "", err
	}
	var loss Loss
	if !ok || json.Unmarshal(raw, &loss) != nil || loss.Version != 1 || loss.Clinic != w.clinic || loss.First != first ||
		loss.After != hex.EncodeToString(prev) || loss.Resume < loss.First {
		return Loss{}, nil, "the loss acknowledged there fails its check", nil
	}
	resumed, err := readBlock(ctx, w.store, w.clinic, loss.Resume, w.verify)
	if err != nil && !errors.Is(err, ErrBroken) {
		return Loss{}, nil, "", err
	}
	sum := sha256.Sum256(resumed)
	if err != nil || hex.EncodeToString(sum[:]) != loss.ResumeHash {
		return Loss{}, nil, fmt.Sprintf("block %d, which the loss acknowledged there resumes at, fails its check", loss.Resume), nil
	}
	return loss, resumed, "", nil
}
