package vault

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
)

// HMAC returns HMAC-SHA-256 of input under version 1 of keyName's HMAC key, computed by
// Transit: the key never leaves Vault, so the result cannot be recomputed, or a guess
// checked, by anyone who reads the bucket. Version 1 is pinned so that a value computed today
// still matches after the key is rotated: it is a blind index, looked up, not a ciphertext.
func (c *Client) HMAC(ctx context.Context, keyName string, input []byte) ([]byte, error) {
	if err := checkKeyName(keyName); err != nil {
		return nil, err
	}
	s, err := c.api.Logical().WriteWithContext(ctx, c.mount+"/hmac/"+keyName+"/sha2-256", map[string]any{
		"input":       base64.StdEncoding.EncodeToString(input),
		"key_version": 1,
	})
	if err != nil {
		return nil, c.failed(ctx, err, "hmac with %s", keyName)
	}
	if s == nil {
		return nil, errors.New("vault: hmac: empty response")
	}
	v, _ := s.Data["hmac"].(string)
	mac, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(v, "vault:v1:"))
	if !strings.HasPrefix(v, "vault:v1:") || err != nil || len(mac) != 32 {
		return nil, errors.New("vault: hmac: malformed response")
	}
	return mac, nil
}
