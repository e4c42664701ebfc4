package audit

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/recordvault/recordvault/vault/vaulttest"
)

// rotatingSigner signs with the newest of its versions, as Transit does after a rotation, and
// counts how often its public keys are read.
type rotatingSigner struct {
	vaulttest.Keyring
	versions []*ecdsa.PrivateKey
	reads    int
}

func (r *rotatingSigner) rotate() {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	r.versions = append(r.versions, k)
}

func (r *rotatingSigner) Sign(_ context.Context, _ string, message []byte) (string, error) {
	digest := sha256.Sum256(message)
	der, err := ecdsa.SignASN1(rand.Reader, r.versions[len(r.versions)-1], digest[:])
	return fmt.Sprintf("vault:v%d:", len(r.versions)) + base64.StdEncoding.EncodeToString(der), err
}

func (r *rotatingSigner) SigningKeys(context.Context, string) (int, map[int]*ecdsa.PublicKey, error) {
	r.reads++
	keys := map[int]*ecdsa.PublicKey{}
	for i, k := range r.versions {
		keys[i+1] = &k.PublicKey
	}
	return len(r.versions), keys, nil
}

// The public keys are read once per check, and again only when a signature names a newer
// version than those read: a key rotated while a chain is walked does not break it, and a
// bad signature does not turn into a Vault call per block.
func TestSignatureCheckReadsKeysOnce(t *testing.T) {
	ctx := context.Background()
	signer := &rotatingSigner{}
	signer.rotate()
	chain := NewChain(nil, signer, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	verify := signatures(chain.publicKeys("c1"))
	sign := func(m string) string {
		sig, err := signer.Sign(ctx, "", []byte(m))
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	first := sign("block 0")
	if ok, err := verify(ctx, []byte("block 0"), first); !ok || err != nil || signer.reads != 1 {
		t.Fatalf("first check: %v %v after %d reads", ok, err, signer.reads)
	}
	signer.rotate()
	second := sign("block 1")
	for _, c := range []struct {
		message, signature string
		valid              bool
		reads              int
	}{
		{"block 0", first, true, 1},
		{"block 1", second, true, 2}, // version 2 appeared after the first read
		{"block 1", first, false, 2},
		{"block 0", "vault:v1:AAAA", false, 2},
		{"block 0", "vault:v9:AAAA", false, 3}, // a version not seen: read again, still invalid
	} {
		ok, err := verify(ctx, []byte(c.message), c.signature)
		if err != nil || ok != c.valid || signer.reads != c.reads {
			t.Fatalf("%q: valid %v (%v) after %d reads; want %v after %d", c.signature[:12], ok, err, signer.reads, c.valid, c.reads)
		}
	}
}
