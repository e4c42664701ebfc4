package seal_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/recordvault/recordvault/crypto"
	"github.com/recordvault/recordvault/seal"
	"github.com/recordvault/recordvault/vault/vaulttest"
)

// A key made under a context opens what it sealed when unwrapped under that context; under
// another, every key of the batch fails with ErrUnwrap; a malformed data key fails the same.
func TestNewAndOpenKeys(t *testing.T) {
	ctx, keys := context.Background(), vaulttest.Keyring{}
	binding := crypto.Binding{Clinic: "c1", Category: "progress_note", Record: "r1", Name: "plan"}
	key, wrapped, err := seal.NewKey(ctx, keys, "rv-c1-progress-note", []byte("record r1"))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := key.SealField(rand.Reader, binding, []byte("plan"))
	key.Destroy()
	if err != nil {
		t.Fatal(err)
	}
	opened, err := seal.OpenKeys(ctx, keys, "rv-c1-progress-note", []seal.WrappedKey{{Wrapped: wrapped, Context: []byte("record r1")}})
	if err != nil || len(opened) != 1 {
		t.Fatalf("OpenKeys: %v", err)
	}
	if plain, err := opened[0].OpenField(binding, sealed); err != nil || !bytes.Equal(plain, []byte("plan")) {
		t.Fatalf("opened %q, %v", plain, err)
	}
	if _, err := seal.OpenKeys(ctx, keys, "rv-c1-progress-note", []seal.WrappedKey{{Wrapped: wrapped, Context: []byte("record r1")},
		{Wrapped: wrapped, Context: []byte("record r2")}}); !errors.Is(err, seal.ErrUnwrap) {
		t.Fatalf("a key under another context: %v, want ErrUnwrap", err)
	}
	if _, err := seal.OpenKey(ctx, short{}, "k", seal.WrappedKey{}); !errors.Is(err, seal.ErrUnwrap) {
		t.Fatalf("a malformed data key: %v, want ErrUnwrap", err)
	}
}

// short unwraps every key to too few bytes.
type short struct{ vaulttest.Keyring }

func (short) UnwrapDataKeys(context.Context, string, []seal.WrappedKey) ([][]byte, error) {
	return [][]byte{make([]byte, 7)}, nil
}
