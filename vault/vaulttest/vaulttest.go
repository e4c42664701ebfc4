// Package vaulttest is a stand-in for Vault Transit in unit tests: it "wraps" a data key by
// encoding it with its context, which is enough to test bookkeeping and nothing more. Tests
// that need real Transit behaviour run in package integration against a real Vault.
package vaulttest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"

	"github.com/recordvault/recordvault/seal"
	"github.com/recordvault/recordvault/vault"
)

// Keyring is the stand-in. Its data keys are all the same bytes; its HMAC key is the key's
// name.
type Keyring struct{}

var _ seal.Keyring = Keyring{}

func (Keyring) EnsureKey(context.Context, string) error { return nil }

func (Keyring) NewDataKey(_ context.Context, _ string, keyContext []byte) (seal.DataKey, error) {
	k := bytes.Repeat([]byte{7}, 32)
	return seal.DataKey{Plaintext: bytes.Clone(k), Wrapped: "vault:v1:" + base64.StdEncoding.EncodeToString(append(k, keyContext...))}, nil
}

func (Keyring) UnwrapDataKeys(_ context.Context, _ string, keys []seal.WrappedKey) ([][]byte, error) {
	var out [][]byte
	for _, k := range keys {
		b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(k.Wrapped, "vault:v1:"))
		if len(b) < 32 || !bytes.Equal(b[32:], k.Context) {
			return nil, seal.ErrUnwrap
		}
		out = append(out, b[:32])
	}
	return out, nil
}

// RewrapDataKeys gives each key back as it was: the stand-in has one version, so a rewrap's
// bookkeeping (which manifests, how many, in what pages) is what a unit test sees.
func (Keyring) RewrapDataKeys(_ context.Context, _ string, keys []seal.WrappedKey) ([]string, error) {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.Wrapped
	}
	return out, nil
}

func (Keyring) RotateKey(context.Context, string) (int, error)             { return 2, nil }
func (Keyring) SetMinDecryptionVersion(context.Context, string, int) error { return nil }

func (Keyring) HMAC(_ context.Context, keyName string, input []byte) ([]byte, error) {
	m := hmac.New(sha256.New, []byte(keyName))
	m.Write(input)
	return m.Sum(nil), nil
}

var _ vault.Signer = Keyring{}

func (Keyring) EnsureSigningKey(context.Context, string) error { return nil }

// Sign signs SHA-256(message) with the stand-in ECDSA key of keyName, as Transit does
// ("vault:v1:" and the ASN.1 signature), so that seal.VerifyWith checks it.
func (Keyring) Sign(_ context.Context, keyName string, message []byte) (string, error) {
	digest := sha256.Sum256(message)
	der, err := ecdsa.SignASN1(rand.Reader, signingKey(keyName), digest[:])
	if err != nil {
		return "", err
	}
	return "vault:v1:" + base64.StdEncoding.EncodeToString(der), nil
}

func (k Keyring) Verify(ctx context.Context, keyName string, message []byte, signature string) (bool, error) {
	_, keys, _ := k.SigningKeys(ctx, keyName)
	return seal.VerifyWith(keys, message, signature), nil
}

// signingKeys are the stand-in's ECDSA keys, one per key name, made on first use.
var signingKeys sync.Map // key name → *ecdsa.PrivateKey

func signingKey(name string) *ecdsa.PrivateKey {
	if k, ok := signingKeys.Load(name); ok {
		return k.(*ecdsa.PrivateKey)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	actual, _ := signingKeys.LoadOrStore(name, k)
	return actual.(*ecdsa.PrivateKey)
}

// SigningKeys returns the stand-in key of name as version 1.
func (Keyring) SigningKeys(_ context.Context, keyName string) (int, map[int]*ecdsa.PublicKey, error) {
	return 1, map[int]*ecdsa.PublicKey{1: &signingKey(keyName).PublicKey}, nil
}

// SignJWS signs ES256 with the stand-in key of name.
func (Keyring) SignJWS(_ context.Context, keyName string, version int, signingInput []byte) (string, error) {
	if version != 1 {
		return "", errors.New("vaulttest: only version 1")
	}
	digest := sha256.Sum256(signingInput)
	r, s, err := ecdsa.Sign(rand.Reader, signingKey(keyName), digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return base64.RawURLEncoding.EncodeToString(sig), nil
}
