package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/recordvault/recordvault/sdk"
)

// credentials is the saved login.
type credentials struct {
	Issuer      string    `json:"issuer"`
	AccessToken string    `json:"access_token"`
	Expiry      time.Time `json:"expiry"`
}

const credentialsFile = "credentials.json"

var errNotLoggedIn = errors.New("not logged in, or the login has expired: run recordvault-cli login")

// cliClientID is the OAuth client the command line logs in as.
const cliClientID = "recordvault-cli"

func (e *env) loginCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "login",
		Short: "Log in through the identity provider (device authorization)",
		Long: `login asks the identity provider (` + EnvIssuer + `, default ` + DefaultIssuer + `) for a code,
prints where to approve it, waits until you have, and keeps the token in the configuration
directory (` + EnvConfigDir + `), readable by you alone.`,
		Example: `  recordvault-cli login
  RECORDVAULT_ISSUER=https://idp.example.org/realms/clinic recordvault-cli login`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := e.deviceConfig(cmd)
			if err != nil {
				return err
			}
			auth, err := cfg.DeviceAuth(ctx)
			if err != nil {
				return fmt.Errorf("device authorization: %w", err)
			}
			fmt.Fprintf(e.stderr, "To log in, open %s\n(or %s and enter the code %s), then come back.\n",
				auth.VerificationURIComplete, auth.VerificationURI, auth.UserCode)
			tok, err := cfg.DeviceAccessToken(ctx, auth)
			if err != nil {
				return fmt.Errorf("login: %w", err)
			}
			expiry := tok.Expiry
			if expiry.IsZero() {
				expiry = e.now().Add(time.Hour)
			}
			if err := e.saveCredentials(credentials{Issuer: e.issuer(), AccessToken: tok.AccessToken, Expiry: expiry}); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Logged in until %s.\n", expiry.Local().Format(time.DateTime))
			return nil
		},
	}
}

// deviceConfig discovers the issuer's device authorization and token endpoints.
func (e *env) deviceConfig(cmd *cobra.Command) (*oauth2.Config, error) {
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, e.issuer()+"/.well-known/openid-configuration", nil)
	if err != nil {
		return nil, usagef("%s: %v", EnvIssuer, err)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("the identity provider: %w", err)
	}
	defer resp.Body.Close()
	var disc struct {
		Device string `json:"device_authorization_endpoint"`
		Token  string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&disc); err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the identity provider's discovery document: %d %v", resp.StatusCode, err)
	}
	if disc.Device == "" || disc.Token == "" {
		return nil, errors.New("the identity provider offers no device authorization")
	}
	return &oauth2.Config{ClientID: cliClientID, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{DeviceAuthURL: disc.Device, TokenURL: disc.Token}}, nil
}

func (e *env) logoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "logout",
		Short:   "Forget the saved login",
		Example: `  recordvault-cli logout`,
		Args:    args(),
		RunE: func(*cobra.Command, []string) error {
			dir, err := e.configDir()
			if err != nil {
				return err
			}
			if err := os.Remove(filepath.Join(dir, credentialsFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			return nil
		},
	}
}

// saveCredentials writes c where only the user can read it.
func (e *env) saveCredentials(c credentials) error {
	dir, err := e.configDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("configuration directory: %w", err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, credentialsFile+".*")
	if err != nil {
		return fmt.Errorf("save the login: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, credentialsFile))
}

// tokenSource is RECORDVAULT_TOKEN, or the saved login while it lasts.
func (e *env) tokenSource() (oauth2.TokenSource, error) {
	if t := e.getenv(EnvToken); t != "" {
		return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: t}), nil
	}
	dir, err := e.configDir()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, credentialsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNotLoggedIn
	}
	if err != nil {
		return nil, fmt.Errorf("the saved login: %w", err)
	}
	var c credentials
	if err := json.Unmarshal(b, &c); err != nil || c.AccessToken == "" {
		return nil, fmt.Errorf("the saved login is unreadable (log in again): %v", err)
	}
	if !e.now().Before(c.Expiry) {
		return nil, errNotLoggedIn
	}
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: c.AccessToken, Expiry: c.Expiry}), nil
}

func (e *env) whoamiCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Who the service takes you for",
		Example: `  recordvault-cli whoami
  recordvault-cli whoami --json   # subject, clinic, roles as JSON`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) { return c.Me(cmd.Context()) },
				func(w io.Writer, v map[string]any) error {
					_, err := fmt.Fprintf(w, "%s of clinic %s, roles %s\n", str(v, "subject"), str(v, "clinic"), str(v, "roles"))
					return err
				})
		},
	}
}
