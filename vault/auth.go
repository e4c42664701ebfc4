package vault

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/hashicorp/vault/api/auth/kubernetes"
)

// AppRole is the service's AppRole login. With it the client logs in itself and keeps its
// token alive; without it, Config.Token is used as given (development).
type AppRole struct {
	Mount    string // the auth mount, "approle" when empty
	RoleID   string
	SecretID string
	// Wrapped: SecretID is a response-wrapping token that holds the secret ID, unwrapped
	// once at Start (a wrapping token works once: one already used, by whoever intercepted
	// it, fails the start, which is how the interception shows).
	Wrapped bool
}

// Kubernetes is the service's login with the Kubernetes auth method: its pod's service-account
// token, read anew at every login (Kubernetes rotates projected tokens), exchanged for a Vault
// token of Role.
type Kubernetes struct {
	Mount     string // the auth mount, "kubernetes" when empty
	Role      string
	TokenFile string // the service-account token, the library's default path when empty
}

// Start logs in with AppRole or Kubernetes, if configured, and then keeps the token alive in the
// background until ctx ends: a LifetimeWatcher renews it; when the token reaches its max TTL,
// or renewal fails, the client logs in again, retrying with backoff.
// The first login's error is returned, so a service that cannot log in does not start.
func (c *Client) Start(ctx context.Context, logger *slog.Logger) error {
	if c.appRole == nil && c.kubernetes == nil {
		return nil
	}
	if c.appRole != nil && c.appRole.Wrapped && c.secretID == "" {
		unwrapper, err := c.api.Clone()
		if err != nil {
			return fmt.Errorf("vault: unwrap secret id: %w", err)
		}
		unwrapper.SetToken(c.appRole.SecretID)
		s, err := unwrapper.Logical().UnwrapWithContext(ctx, "")
		if err != nil {
			return failed(err, "unwrap secret id (a wrapping token works once)")
		}
		var id string
		if s != nil {
			id, _ = s.Data["secret_id"].(string)
		}
		if id == "" {
			return errors.New("vault: the wrapping token holds no secret id")
		}
		c.secretID = id
	}
	secret, err := c.login(ctx)
	if err != nil {
		return err
	}
	go c.keepLoggedIn(ctx, logger, secret)
	return nil
}

// authMethod is the configured login, ready to use.
func (c *Client) authMethod() (vaultapi.AuthMethod, error) {
	if k := c.kubernetes; k != nil {
		opts := []kubernetes.LoginOption{kubernetes.WithMountPath(cmp.Or(k.Mount, "kubernetes"))}
		if k.TokenFile != "" {
			opts = append(opts, kubernetes.WithServiceAccountTokenPath(k.TokenFile))
		}
		return kubernetes.NewKubernetesAuth(k.Role, opts...)
	}
	return approle.NewAppRoleAuth(c.appRole.RoleID, &approle.SecretID{FromString: c.secretID}, approle.WithMountPath(cmp.Or(c.appRole.Mount, "approle")))
}

func (c *Client) login(ctx context.Context) (*vaultapi.Secret, error) {
	method, err := c.authMethod()
	if err != nil {
		return nil, fmt.Errorf("vault: login: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	s, err := c.api.Auth().Login(ctx, method) // sets the client's token
	if err != nil {
		return nil, failed(err, "login")
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return nil, errors.New("vault: login returned no token")
	}
	c.probe.SetToken(s.Auth.ClientToken)
	return s, nil
}

func (c *Client) keepLoggedIn(ctx context.Context, logger *slog.Logger, secret *vaultapi.Secret) {
	for {
		if err := c.watch(ctx, logger, secret); err != nil {
			return // ctx ended
		}
		backoff := time.Second
		for {
			var err error
			if secret, err = c.login(ctx); err == nil {
				logger.Info("vault: logged in again")
				break
			}
			logger.Warn("vault: login failed", "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Minute)
		}
	}
}

// watch renews secret's token until it should log in again (nil) or ctx ends (ctx.Err()). It
// does not wait for the watcher's own end, which comes within a small grace period of expiry:
// a renewal shorter than the TTL the login granted means the token has reached its max TTL,
// so logging in again right then leaves most of a TTL to spare.
func (c *Client) watch(ctx context.Context, logger *slog.Logger, secret *vaultapi.Secret) error {
	w, err := c.api.NewLifetimeWatcher(&vaultapi.LifetimeWatcherInput{Secret: secret})
	if err != nil {
		logger.Warn("vault: cannot watch token", "err", err)
		return nil
	}
	go w.Start()
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.relogin:
			logger.Warn("vault: the token no longer stands; logging in again")
			return nil
		case err := <-w.DoneCh():
			logger.Info("vault: token renewal ended", "err", err)
			return nil
		case r := <-w.RenewCh():
			ttl := r.Secret.Auth.LeaseDuration
			logger.Debug("vault: token renewed", "ttl_s", ttl)
			if ttl < secret.Auth.LeaseDuration {
				logger.Info("vault: token reached its max TTL")
				return nil
			}
		}
	}
}

// IsRoot reports whether the service's token carries Vault's root policy: a token that can do
// anything in Vault, which only a development stack may run with.
func (c *Client) IsRoot(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := c.api.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return false, c.failed(ctx, err, "token lookup")
	}
	policies, err := s.TokenPolicies()
	if err != nil {
		return false, fmt.Errorf("vault: token lookup: %w", err)
	}
	return slices.Contains(policies, "root"), nil
}
