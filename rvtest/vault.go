package rvtest

import (
	"context"
	"crypto/rand"
	"fmt"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/testcontainers/testcontainers-go"
	tcvault "github.com/testcontainers/testcontainers-go/modules/vault"
)

// Vault is a dev-mode Vault server in a container, with Transit mounted at "transit".
// Dev mode keeps everything in memory: after Stop and Start it is empty again (Start mounts
// Transit anew); Pause and Unpause keep its state.
type Vault struct {
	server
	vc      *tcvault.VaultContainer
	bridged bool // Addr is on the Docker bridge (OnBridge)
	// RootToken is the dev server's root token. Tests use it to check through Vault's own API;
	// the service under test should get a token of its own policy.
	RootToken string
}

// StartVault starts a Vault container from image and mounts Transit; opts customise the
// container further (OnCPUs).
func StartVault(ctx context.Context, image string, opts ...testcontainers.ContainerCustomizer) (*Vault, error) {
	token := rand.Text()
	vc, err := tcvault.Run(ctx, image, append([]testcontainers.ContainerCustomizer{tcvault.WithToken(token), loopbackPorts("8200/tcp")}, opts...)...)
	v := &Vault{vc: vc, RootToken: token}
	if vc != nil {
		v.ctr = vc
	}
	if err != nil {
		return v, fmt.Errorf("rvtest: start vault: %w", err)
	}
	return v, v.mountTransit(ctx)
}

// Start starts a stopped Vault again and, its memory being empty, mounts Transit anew.
func (v *Vault) Start(ctx context.Context) error {
	if err := v.server.Start(ctx); err != nil {
		return err
	}
	return v.mountTransit(ctx)
}

// Addr is the server's address as seen from the host; it changes after Stop and Start. After
// OnBridge it is BridgeAddr.
func (v *Vault) Addr(ctx context.Context) (string, error) {
	if v.bridged {
		return v.BridgeAddr(ctx)
	}
	return v.vc.HttpHostAddress(ctx)
}

// OnBridge makes Addr, and every client made from it, reach Vault on the Docker bridge.
func (v *Vault) OnBridge() { v.bridged = true }

// BridgeAddr is the server's address on the Docker bridge, without a port forwarder.
func (v *Vault) BridgeAddr(ctx context.Context) (string, error) {
	hostPort, err := v.bridgeAddr(ctx, 8200)
	return "http://" + hostPort, err
}

// Client returns a client of Vault's own API with the root token, for checking what the
// service did without going through the service's code.
func (v *Vault) Client(ctx context.Context) (*vaultapi.Client, error) {
	addr, err := v.Addr(ctx)
	if err != nil {
		return nil, err
	}
	cfg := vaultapi.DefaultConfig()
	cfg.Address = addr
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	c.SetToken(v.RootToken)
	return c, nil
}

func (v *Vault) mountTransit(ctx context.Context) error {
	c, err := v.Client(ctx)
	if err != nil {
		return err
	}
	if err := c.Sys().MountWithContext(ctx, "transit", &vaultapi.MountInput{Type: "transit"}); err != nil {
		return fmt.Errorf("rvtest: mount transit: %w", err)
	}
	return nil
}
