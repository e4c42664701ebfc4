package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"

	vaultapi "github.com/hashicorp/vault/api"
)

// Operator performs the one-time set-up of a single-node Vault server for development: init
// with one unseal key, unseal, mount Transit. Production Vaults are set up by their operators;
// the service itself never needs these powers.
type Operator struct {
	api *vaultapi.Client
}

// NewOperator returns an Operator for the server at addr.
func NewOperator(addr string) (*Operator, error) {
	cfg := vaultapi.DefaultConfig()
	cfg.Address = addr
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault: new client: %w", err)
	}
	c.SetToken("")
	return &Operator{api: c}, nil
}

// InitResult is what initializing a single-node server yields. Both values are secrets.
type InitResult struct {
	RootToken string `json:"root_token"`
	UnsealKey string `json:"unseal_key"`
}

// Status reports whether the server is initialized and sealed.
func (o *Operator) Status(ctx context.Context) (initialized, sealed bool, err error) {
	st, err := o.api.Sys().SealStatusWithContext(ctx)
	if err != nil {
		return false, false, fmt.Errorf("vault: seal status: %w", err)
	}
	return st.Initialized, st.Sealed, nil
}

// Initialize initializes the server with a single unseal key.
func (o *Operator) Initialize(ctx context.Context) (InitResult, error) {
	resp, err := o.api.Sys().InitWithContext(ctx, &vaultapi.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		return InitResult{}, fmt.Errorf("vault: init: %w", err)
	}
	if len(resp.Keys) != 1 {
		return InitResult{}, fmt.Errorf("vault: init returned %d unseal keys, want 1", len(resp.Keys))
	}
	return InitResult{RootToken: resp.RootToken, UnsealKey: resp.Keys[0]}, nil
}

// Unseal unseals the server with its single key.
func (o *Operator) Unseal(ctx context.Context, key string) error {
	st, err := o.api.Sys().UnsealWithContext(ctx, key)
	if err != nil {
		return fmt.Errorf("vault: unseal: %w", err)
	}
	if st.Sealed {
		return errors.New("vault: still sealed after unseal")
	}
	return nil
}

// EnableTransit mounts the Transit engine at mount unless something is mounted there already.
func (o *Operator) EnableTransit(ctx context.Context, token, mount string) error {
	o.api.SetToken(token)
	defer o.api.SetToken("")
	mounts, err := o.api.Sys().ListMountsWithContext(ctx)
	if err != nil {
		return fmt.Errorf("vault: list mounts: %w", err)
	}
	if m, ok := mounts[strings.TrimSuffix(mount, "/")+"/"]; ok {
		if m.Type != "transit" {
			return fmt.Errorf("vault: %s is mounted as %s, not transit", mount, m.Type)
		}
		return nil
	}
	if err := o.api.Sys().MountWithContext(ctx, mount, &vaultapi.MountInput{Type: "transit"}); err != nil {
		return fmt.Errorf("vault: mount transit at %s: %w", mount, err)
	}
	return nil
}
