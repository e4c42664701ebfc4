package vault

import (
	"context"
	"fmt"
	"regexp"

	"github.com/recordvault/recordvault/transit"
)

// KeyType is the only Transit key type recordvault wraps data keys with.
const KeyType = transit.AES

// validKeyName keeps key names to characters that are safe in a Vault path segment. Names are
// built from random ids, never from anything a person typed.
var validKeyName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,127}$`)

// ProvisionClinic creates (or checks) every Transit key of the clinic, as package transit's
// table lists them. It runs once per clinic at start, so that no request needs a key check.
func (c *Client) ProvisionClinic(ctx context.Context, clinic string) error {
	for _, k := range transit.Keys {
		ensure := c.EnsureKey
		if k.Type == transit.ECDSA {
			ensure = c.EnsureSigningKey
		}
		if err := ensure(ctx, transit.Name(clinic, k.Suffix)); err != nil {
			return fmt.Errorf("vault: provision clinic: %w", err)
		}
	}
	return nil
}

func checkKeyName(name string) error {
	if !validKeyName.MatchString(name) {
		return fmt.Errorf("vault: invalid transit key name %q", name)
	}
	return nil
}

// EnsureKey creates the Transit key name as an aes256-gcm96 key with derived=true and
// exportable=false, or, when it exists, checks that it was created that way. A key of the
// same name with other settings (exportable, convergent, another type) is refused rather than
// used: it could have been planted to weaken the envelope.
func (c *Client) EnsureKey(ctx context.Context, name string) error {
	if err := checkKeyName(name); err != nil {
		return err
	}
	path := c.mount + "/keys/" + name
	_, err := c.api.Logical().WriteWithContext(ctx, path, map[string]any{
		"type":       KeyType,
		"derived":    true,
		"exportable": false,
	})
	if err != nil {
		return c.failed(ctx, err, "create transit key %s", name)
	}
	secret, err := c.api.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return c.failed(ctx, err, "read transit key %s", name)
	}
	if secret == nil {
		return fmt.Errorf("vault: transit key %s vanished after creation", name)
	}
	d := secret.Data
	if d["type"] != KeyType || d["derived"] != true || d["exportable"] != false ||
		d["convergent_encryption"] == true || d["allow_plaintext_backup"] == true {
		return fmt.Errorf("vault: transit key %s exists with unsafe settings (type=%v derived=%v exportable=%v convergent=%v)",
			name, d["type"], d["derived"], d["exportable"], d["convergent_encryption"])
	}
	return nil
}
