// Package vault is the only code in recordvault that talks to HashiCorp Vault.
//
// The service uses Vault's Transit engine for every key operation, so no category key ever
// leaves Vault: one Transit key per (clinic, record category), each record's data key wrapped
// by it. This file holds the client and its readiness probe; key operations build on it.
package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/internal/stall"
	"github.com/recordvault/recordvault/seal"
)

var _ seal.Keyring = (*Client)(nil)

// Config is what the service needs to reach Vault.
type Config struct {
	Addr         string      // e.g. http://127.0.0.1:8200
	Token        string      // a token, used as given (development)
	AppRole      *AppRole    // or an AppRole login, kept alive by Start
	Kubernetes   *Kubernetes // or a Kubernetes login, kept alive by Start
	TransitMount string      // the Transit mount path, "transit" when empty
	// Transport, when set, carries every request (custom TLS, proxies, instrumentation).
	Transport http.RoundTripper
	// Instrument, when set, wraps the transport (the given one, or the stall-bounded
	// default) to observe every call (metrics.Dependency).
	Instrument func(http.RoundTripper) http.RoundTripper
}

// Client is a Vault client bound to one Transit mount.
type Client struct {
	api   *vaultapi.Client
	probe *vaultapi.Client // no retries, short timeout: readiness must answer within seconds
	mount string
	// appRole or kubernetes, when set, is how the client logs in (and in again).
	appRole    *AppRole
	kubernetes *Kubernetes
	// secretID is the AppRole secret id the client logs in with: appRole's, or what its
	// wrapping token held once Start has unwrapped it.
	secretID string
	relogin  chan struct{} // a token found revoked asks for a login now (askRelogin)
	batches  batcher       // Transit calls shared by concurrent requests (batch.go)
}

// maxIdleConns is how many idle connections to Vault the client keeps for reuse.
const maxIdleConns = 64

// callTimeout bounds one call to Vault, retry included, however it progresses; each read and
// write on its connection must also progress within stall.Limit.
const callTimeout = 10 * time.Second

// failed wraps err, from the call that format describes, marked recordvault.ErrUnavailable
// when it says Vault did not answer (in time) or answered that it cannot serve now (sealed,
// a standby without a leader, overloaded).
func failed(err error, format string, args ...any) error {
	var resp *vaultapi.ResponseError
	if stall.Unavailable(err) || errors.As(err, &resp) && (resp.StatusCode >= http.StatusInternalServerError || resp.StatusCode == http.StatusTooManyRequests) {
		return fmt.Errorf("%w: vault: %s: %w", recordvault.ErrUnavailable, fmt.Sprintf(format, args...), err)
	}
	return fmt.Errorf("vault: %s: %w", fmt.Sprintf(format, args...), err)
}

// failed is the package's failed for a call made with the client's token. A 403 may mean that
// the token was revoked or ended early rather than that the policy refuses the call: when
// Vault says the token itself no longer stands, the call is unavailable (503 to the request,
// which its client retries) and the client logs in again at once instead of at its next
// renewal. The call's own answer says so ("invalid token") even when the client has logged in
// again meanwhile, so that a call sent with the old token is not taken for a refusal (a 500);
// the lookup covers a Vault that says less.
func (c *Client) failed(ctx context.Context, err error, format string, args ...any) error {
	if forbidden(err) {
		stale := invalidToken(err)
		if !c.tokenStands(ctx) {
			c.askRelogin()
			stale = true
		}
		if stale {
			return fmt.Errorf("%w: vault: %s: the service's token no longer stands: %w", recordvault.ErrUnavailable, fmt.Sprintf(format, args...), err)
		}
	}
	return failed(err, format, args...)
}

func forbidden(err error) bool {
	var resp *vaultapi.ResponseError
	return errors.As(err, &resp) && resp.StatusCode == http.StatusForbidden
}

// invalidToken reports whether Vault refused a call because it does not know the token it
// was sent with (revoked or expired): Vault adds "invalid token" to "permission denied" then,
// and only then.
func invalidToken(err error) bool {
	var resp *vaultapi.ResponseError
	return errors.As(err, &resp) && slices.Contains(resp.Errors, "invalid token")
}

// tokenStands reports whether Vault still knows the client's token (lookup-self, which the
// default policy grants every token, answers 403 for a revoked or expired one). Anything but
// that answer counts as standing: the caller's own error then speaks.
func (c *Client) tokenStands(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	_, err := c.probe.Auth().Token().LookupSelfWithContext(ctx)
	return !forbidden(err)
}

// askRelogin wakes the login keeper (Start), if it is not already awake.
func (c *Client) askRelogin() {
	select {
	case c.relogin <- struct{}{}:
	default:
	}
}

// probeTimeout bounds one readiness check, so that a dead Vault is reported quickly.
const probeTimeout = 2 * time.Second

// New returns a client for cfg. It does not contact Vault: Start logs in (with AppRole),
// Ready checks.
func New(cfg Config) (*Client, error) {
	if cfg.Addr == "" {
		return nil, errors.New("vault: no address configured")
	}
	mount := cfg.TransitMount
	if mount == "" {
		mount = "transit"
	}
	apiCfg := vaultapi.DefaultConfig()
	apiCfg.Address = cfg.Addr
	if cfg.Transport != nil {
		apiCfg.HttpClient.Transport = cfg.Transport
	} else if t, ok := apiCfg.HttpClient.Transport.(*http.Transport); ok {
		// Vault's default pool keeps GOMAXPROCS+1 idle connections per host: fewer than the
		// requests a busy service has in flight, so each burst would open new connections.
		t.MaxIdleConnsPerHost = maxIdleConns
		stall.Transport(t, stall.Limit)
	}
	if cfg.Instrument != nil {
		apiCfg.HttpClient.Transport = cfg.Instrument(apiCfg.HttpClient.Transport)
	}
	// One retry at most, soon: a stalled Vault answers no better a moment later, and the
	// request waiting on it is answered 503 within seconds instead.
	apiCfg.Timeout, apiCfg.MaxRetries, apiCfg.MinRetryWait, apiCfg.MaxRetryWait = callTimeout, 1, 100*time.Millisecond, 300*time.Millisecond
	c, err := vaultapi.NewClient(apiCfg)
	if err != nil {
		return nil, fmt.Errorf("vault: new client: %w", err)
	}
	c.SetToken(cfg.Token)
	probe, err := c.Clone()
	if err != nil {
		return nil, fmt.Errorf("vault: clone client: %w", err)
	}
	probe.SetToken(cfg.Token)
	probe.SetMaxRetries(0)
	probe.SetClientTimeout(probeTimeout)
	client := &Client{api: c, probe: probe, mount: mount, kubernetes: cfg.Kubernetes, relogin: make(chan struct{}, 1)}
	if cfg.AppRole != nil {
		appRole := *cfg.AppRole // the client's own copy: a caller changing theirs changes no login
		client.appRole = &appRole
		if !appRole.Wrapped {
			client.secretID = appRole.SecretID
		}
	}
	return client, nil
}

// Ready reports whether Vault is reachable, initialized and unsealed, and whether the Transit
// mount answers with this client's token. The error says which of these failed.
func (c *Client) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	health, err := c.probe.Sys().HealthWithContext(ctx)
	if err != nil {
		return fmt.Errorf("vault unreachable: %w", err)
	}
	switch {
	case !health.Initialized:
		return errors.New("vault not initialized")
	case health.Sealed:
		return errors.New("vault sealed")
	}
	// The cheapest authenticated Transit call, and one a least-privilege policy can grant
	// without exposing any key: eight random bytes from the mount.
	if _, err := c.probe.Logical().WriteWithContext(ctx, c.mount+"/random/8", nil); err != nil {
		if forbidden(err) && !c.tokenStands(ctx) {
			c.askRelogin()
			return fmt.Errorf("vault: the service's token no longer stands (logging in again): %w", err)
		}
		return fmt.Errorf("vault transit mount %q not usable: %w", c.mount, err)
	}
	return nil
}
