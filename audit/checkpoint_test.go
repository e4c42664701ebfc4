package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/vault/vaulttest"
)

// A checkpoint saved by one process is loaded by another, and the chain read on from its
// head; one that is forged, moved to another clinic or name, or not as far along as the
// stored one, is not taken.
func TestCheckpoints(t *testing.T) {
	ctx := context.Background()
	store := newBlockStore()
	chain := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil)
	recordAll(t, "c1", 4, chain)
	head, err := chain.Scan(ctx, "c1", audit.Head{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.LoadCheckpoint(ctx, "c1", "ledger"); !errors.Is(err, audit.ErrNoCheckpoint) {
		t.Fatalf("before any: %v", err)
	}
	saved := audit.Checkpoint{Head: head, State: json.RawMessage(`{"n":4}`)}
	if err := chain.SaveCheckpoint(ctx, "c1", "ledger", saved); err != nil {
		t.Fatal(err)
	}
	other := audit.NewChain(store, vaulttest.Keyring{}, quietLogger(), nil)
	got, err := other.LoadCheckpoint(ctx, "c1", "ledger")
	if err != nil || !reflect.DeepEqual(got.Head, head) || string(got.State) != `{"n":4}` {
		t.Fatalf("loaded %+v %s, %v", got.Head, got.State, err)
	}
	recordAll(t, "c1", 3, chain)
	var more int
	if h, err := other.Scan(ctx, "c1", got.Head, func(recordvault.AuditEvent) error { more++; return nil }); err != nil || more != 3 || h.Events != 7 {
		t.Fatalf("read on from the checkpoint: %+v, %v, %d events", h, err, more)
	}

	// Not as far along as the stored one: the stored one stays.
	if err := chain.SaveCheckpoint(ctx, "c1", "ledger", audit.Checkpoint{Head: audit.Head{}, State: json.RawMessage(`{"n":0}`)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := other.LoadCheckpoint(ctx, "c1", "ledger"); string(got.State) != `{"n":4}` {
		t.Fatalf("an earlier checkpoint replaced a later one: %s", got.State)
	}

	genuine := store.checkpoints["c1/ledger"]
	for name, forged := range map[string][]byte{
		"state changed":      []byte(strings.Replace(string(genuine), `{"n":4}`, `{"n":5}`, 1)),
		"head changed":       []byte(strings.Replace(string(genuine), `"blocks":`, `"blocks":1`, 1)),
		"signature dropped":  []byte(strings.Replace(string(genuine), `"sig":"vault:`, `"sig":"xault:`, 1)),
		"not JSON":           []byte("{"),
		"an unknown member":  []byte(strings.Replace(string(genuine), `{"checkpoint"`, `{"x":1,"checkpoint"`, 1)),
		"another clinic's":   nil,
		"another checkpoint": nil,
	} {
		switch name {
		case "another clinic's":
			recordAll(t, "c2", 1, chain)
			h, _ := chain.Scan(ctx, "c2", audit.Head{}, nil)
			if err := chain.SaveCheckpoint(ctx, "c2", "ledger", audit.Checkpoint{Head: h, State: json.RawMessage(`{}`)}); err != nil {
				t.Fatal(err)
			}
			forged = store.checkpoints["c2/ledger"]
		case "another checkpoint":
			if err := chain.SaveCheckpoint(ctx, "c1", "other", saved); err != nil {
				t.Fatal(err)
			}
			forged = store.checkpoints["c1/other"]
		}
		if string(forged) == string(genuine) {
			t.Fatalf("%s: the forgery changed nothing", name)
		}
		store.checkpoints["c1/ledger"] = forged
		if _, err := other.LoadCheckpoint(ctx, "c1", "ledger"); !errors.Is(err, audit.ErrNoCheckpoint) {
			t.Errorf("%s: loaded (%v)", name, err)
		}
	}
	// A failing checkpoint is replaced by the next save.
	if err := chain.SaveCheckpoint(ctx, "c1", "ledger", saved); err != nil {
		t.Fatal(err)
	}
	if got, err := other.LoadCheckpoint(ctx, "c1", "ledger"); err != nil || !reflect.DeepEqual(got.Head, head) {
		t.Fatalf("after a save over a forgery: %+v, %v", got, err)
	}
}
