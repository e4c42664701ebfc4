package vault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/recordvault/recordvault/seal"
)

// NewDataKey asks Transit for a fresh 256-bit data key wrapped by keyName under the derivation
// context (Transit's datakey has no associated data; with derived=true the context is what
// binds the wrapped key to its record). One Vault call: datakey takes no batch_input.
func (c *Client) NewDataKey(ctx context.Context, keyName string, keyContext []byte) (seal.DataKey, error) {
	if err := checkKeyName(keyName); err != nil {
		return seal.DataKey{}, err
	}
	s, err := c.api.Logical().WriteWithContext(ctx, c.mount+"/datakey/plaintext/"+keyName, map[string]any{
		"bits":    256,
		"context": base64.StdEncoding.EncodeToString(keyContext),
	})
	if err != nil {
		return seal.DataKey{}, c.failed(ctx, err, "datakey from %s", keyName)
	}
	plaintext, err := decodeField(s, "plaintext")
	if err != nil {
		return seal.DataKey{}, err
	}
	wrapped, _ := s.Data["ciphertext"].(string)
	if !strings.HasPrefix(wrapped, "vault:v") {
		clear(plaintext)
		return seal.DataKey{}, errors.New("vault: datakey response without a wrapped key")
	}
	return seal.DataKey{Plaintext: plaintext, Wrapped: wrapped}, nil
}

// UnwrapDataKeys unwraps keys, all wrapped by keyName, in one Vault call (batch_input),
// shared with other requests' keys (batch.go). The result is in the same order; a key that
// fails makes the whole call fail with seal.ErrUnwrap.
func (c *Client) UnwrapDataKeys(ctx context.Context, keyName string, keys []seal.WrappedKey) ([][]byte, error) {
	if err := checkKeyName(keyName); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, nil
	}
	items, err := c.shared(ctx, c.mount+"/decrypt/"+keyName, wrappedInput(keys))
	if errors.Is(err, seal.ErrUnwrap) && c.wrappedByRetiredVersion(ctx, keyName, keys) {
		return nil, fmt.Errorf("%w: %w", seal.ErrKeyVersionRetired, err)
	}
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(items))
	for i, item := range items {
		p, _ := item["plaintext"].(string)
		if out[i], err = base64.StdEncoding.DecodeString(p); err != nil || len(out[i]) != 32 {
			for _, k := range out {
				clear(k)
			}
			return nil, fmt.Errorf("%w: malformed plaintext in batch item %d", seal.ErrUnwrap, i)
		}
	}
	return out, nil
}

// wrappedInput is keys as Transit batch_input items.
func wrappedInput(keys []seal.WrappedKey) []map[string]any {
	input := make([]map[string]any, len(keys))
	for i, k := range keys {
		input[i] = map[string]any{"ciphertext": k.Wrapped, "context": base64.StdEncoding.EncodeToString(k.Context)}
	}
	return input
}

// wrappedByRetiredVersion reports whether any of keys names a version of keyName below its
// min_decryption_version, telling a retired version apart from tampering.
func (c *Client) wrappedByRetiredVersion(ctx context.Context, keyName string, keys []seal.WrappedKey) bool {
	s, err := c.api.Logical().ReadWithContext(ctx, c.mount+"/keys/"+keyName)
	if err != nil || s == nil {
		return false
	}
	n, ok := s.Data["min_decryption_version"].(json.Number)
	if !ok {
		return false
	}
	minVersion, err := n.Int64()
	if err != nil {
		return false
	}
	for _, k := range keys {
		var v int64
		if _, err := fmt.Sscanf(k.Wrapped, "vault:v%d:", &v); err == nil && v < minVersion {
			return true
		}
	}
	return false
}

// RewrapDataKeys rewraps keys under the newest version of keyName without ever exposing them
// (batch_input, one Vault call). The result is the new wrapped forms, in order.
func (c *Client) RewrapDataKeys(ctx context.Context, keyName string, keys []seal.WrappedKey) ([]string, error) {
	if err := checkKeyName(keyName); err != nil {
		return nil, err
	}
	items, err := c.batch(ctx, c.mount+"/rewrap/"+keyName, wrappedInput(keys))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(items))
	for i, item := range items {
		if out[i], _ = item["ciphertext"].(string); !strings.HasPrefix(out[i], "vault:v") {
			return nil, fmt.Errorf("%w: no ciphertext in rewrap batch item %d", seal.ErrUnwrap, i)
		}
	}
	return out, nil
}

// RotateKey adds a new version to keyName and returns it; new data keys are wrapped by it
// from now on.
func (c *Client) RotateKey(ctx context.Context, keyName string) (int, error) {
	if err := checkKeyName(keyName); err != nil {
		return 0, err
	}
	if _, err := c.api.Logical().WriteWithContext(ctx, c.mount+"/keys/"+keyName+"/rotate", nil); err != nil {
		return 0, c.failed(ctx, err, "rotate %s", keyName)
	}
	s, err := c.api.Logical().ReadWithContext(ctx, c.mount+"/keys/"+keyName)
	if err != nil {
		return 0, c.failed(ctx, err, "read key %s", keyName)
	}
	if s == nil || s.Data == nil {
		return 0, fmt.Errorf("vault: read key %s: no data", keyName)
	}
	n, _ := s.Data["latest_version"].(json.Number)
	v, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("vault: read key %s: latest_version: %w", keyName, err)
	}
	return int(v), nil
}

// SetMinDecryptionVersion makes Transit refuse to unwrap anything wrapped by a version of
// keyName below version: the step after every stored key has been rewrapped.
func (c *Client) SetMinDecryptionVersion(ctx context.Context, keyName string, version int) error {
	if err := checkKeyName(keyName); err != nil {
		return err
	}
	if _, err := c.api.Logical().WriteWithContext(ctx, c.mount+"/keys/"+keyName+"/config", map[string]any{
		"min_decryption_version": version,
	}); err != nil {
		return c.failed(ctx, err, "configure %s", keyName)
	}
	return nil
}

func decodeField(s *vaultapi.Secret, field string) ([]byte, error) {
	if s == nil {
		return nil, errors.New("vault: empty response")
	}
	v, _ := s.Data[field].(string)
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("vault: response field %s missing or malformed", field)
	}
	return b, nil
}
