package vault

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/recordvault/recordvault/transit"
)

// SigningKeyType is the Transit key type recordvault signs with: ECDSA P-256, so signatures
// can also be marshalled as JWS (ES256) for download tokens.
const SigningKeyType = transit.ECDSA

// Signer signs and verifies with Transit signing keys; the private keys never leave Vault.
type Signer interface {
	EnsureSigningKey(ctx context.Context, name string) error
	Sign(ctx context.Context, keyName string, message []byte) (string, error)
	Verify(ctx context.Context, keyName string, message []byte, signature string) (bool, error)
	SigningKeys(ctx context.Context, keyName string) (latest int, keys map[int]*ecdsa.PublicKey, err error)
	SignJWS(ctx context.Context, keyName string, version int, signingInput []byte) (string, error)
}

var _ Signer = (*Client)(nil)

// EnsureSigningKey creates the Transit key name as a non-exportable ecdsa-p256 key, or, when
// it exists, checks that it was created that way.
func (c *Client) EnsureSigningKey(ctx context.Context, name string) error {
	if err := checkKeyName(name); err != nil {
		return err
	}
	path := c.mount + "/keys/" + name
	if _, err := c.api.Logical().WriteWithContext(ctx, path, map[string]any{"type": SigningKeyType, "exportable": false}); err != nil {
		return c.failed(ctx, err, "create signing key %s", name)
	}
	secret, err := c.api.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return c.failed(ctx, err, "read signing key %s", name)
	}
	if secret == nil || secret.Data["type"] != SigningKeyType || secret.Data["exportable"] != false || secret.Data["allow_plaintext_backup"] == true {
		return fmt.Errorf("vault: signing key %s missing or with unsafe settings", name)
	}
	return nil
}

// Sign returns Transit's signature of SHA-256(message) with keyName, as "vault:vN:...".
func (c *Client) Sign(ctx context.Context, keyName string, message []byte) (string, error) {
	if err := checkKeyName(keyName); err != nil {
		return "", err
	}
	s, err := c.api.Logical().WriteWithContext(ctx, c.mount+"/sign/"+keyName+"/sha2-256", map[string]any{
		"input": base64.StdEncoding.EncodeToString(message),
	})
	if err != nil {
		return "", c.failed(ctx, err, "sign with %s", keyName)
	}
	if s == nil {
		return "", errors.New("vault: sign: empty response")
	}
	sig, _ := s.Data["signature"].(string)
	if !strings.HasPrefix(sig, "vault:v") {
		return "", errors.New("vault: sign: malformed response")
	}
	return sig, nil
}

// Verify reports whether signature is keyName's signature of message. A malformed signature
// is not valid; only a failure to ask Vault is an error.
func (c *Client) Verify(ctx context.Context, keyName string, message []byte, signature string) (bool, error) {
	if err := checkKeyName(keyName); err != nil {
		return false, err
	}
	if !strings.HasPrefix(signature, "vault:v") || len(signature) > 1024 {
		return false, nil
	}
	s, err := c.api.Logical().WriteWithContext(ctx, c.mount+"/verify/"+keyName+"/sha2-256", map[string]any{
		"input":     base64.StdEncoding.EncodeToString(message),
		"signature": signature,
	})
	var re *vaultapi.ResponseError
	if errors.As(err, &re) && re.StatusCode == 400 {
		return false, nil // Vault's answer to a signature it cannot parse
	}
	if err != nil {
		return false, c.failed(ctx, err, "verify with %s", keyName)
	}
	if s == nil {
		return false, errors.New("vault: verify: empty response")
	}
	valid, _ := s.Data["valid"].(bool)
	return valid, nil
}

// SigningKeys returns keyName's public keys by version and its latest version, so that
// tokens can name the version that signs them (kid) and be verified without Vault holding
// the private key's use.
func (c *Client) SigningKeys(ctx context.Context, keyName string) (int, map[int]*ecdsa.PublicKey, error) {
	if err := checkKeyName(keyName); err != nil {
		return 0, nil, err
	}
	s, err := c.api.Logical().ReadWithContext(ctx, c.mount+"/keys/"+keyName)
	if err != nil {
		return 0, nil, c.failed(ctx, err, "read signing key %s", keyName)
	}
	if s == nil {
		return 0, nil, fmt.Errorf("vault: signing key %s missing", keyName)
	}
	return PublicKeys(keyName, s.Data)
}

// PublicKeys reads a Transit signing key's public keys by version, and its latest version,
// from the key's data as Vault returns it (transit/keys/<name>, numbers as json.Number):
// what SigningKeys asks Vault for, or what `vault read -format=json` wrote to a file for a
// verifier that has no access to Vault.
func PublicKeys(keyName string, data map[string]any) (int, map[int]*ecdsa.PublicKey, error) {
	if data["type"] != SigningKeyType {
		return 0, nil, fmt.Errorf("vault: signing key %s is not %s", keyName, SigningKeyType)
	}
	n, _ := data["latest_version"].(json.Number)
	latest64, err := n.Int64()
	if err != nil {
		return 0, nil, fmt.Errorf("vault: signing key %s: latest_version: %w", keyName, err)
	}
	latest := int(latest64)
	raw, _ := data["keys"].(map[string]any)
	keys := make(map[int]*ecdsa.PublicKey, len(raw))
	for v, k := range raw {
		version, err := strconv.Atoi(v)
		entry, _ := k.(map[string]any)
		pemKey, _ := entry["public_key"].(string)
		block, _ := pem.Decode([]byte(pemKey))
		if err != nil || block == nil {
			return 0, nil, fmt.Errorf("vault: signing key %s: malformed public key %s", keyName, v)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		ec, ok := pub.(*ecdsa.PublicKey)
		if err != nil || !ok || ec.Curve != elliptic.P256() {
			return 0, nil, fmt.Errorf("vault: signing key %s: version %s is not a P-256 key", keyName, v)
		}
		keys[version] = ec
	}
	if keys[latest] == nil {
		return 0, nil, fmt.Errorf("vault: signing key %s: no public key for its latest version", keyName)
	}
	return latest, keys, nil
}

// SignJWS signs a JWS signing input (header.payload) with version of keyName, ES256: the
// signature is returned base64url-encoded as JWS wants it (r||s, not ASN.1).
func (c *Client) SignJWS(ctx context.Context, keyName string, version int, signingInput []byte) (string, error) {
	if err := checkKeyName(keyName); err != nil {
		return "", err
	}
	s, err := c.api.Logical().WriteWithContext(ctx, c.mount+"/sign/"+keyName+"/sha2-256", map[string]any{
		"input":                base64.StdEncoding.EncodeToString(signingInput),
		"key_version":          version,
		"marshaling_algorithm": "jws",
	})
	if err != nil {
		return "", c.failed(ctx, err, "sign with %s", keyName)
	}
	if s == nil {
		return "", errors.New("vault: sign: empty response")
	}
	sig, _ := s.Data["signature"].(string)
	prefix := fmt.Sprintf("vault:v%d:", version)
	if !strings.HasPrefix(sig, prefix) {
		return "", errors.New("vault: sign: malformed response")
	}
	return strings.TrimPrefix(sig, prefix), nil
}
