package rvtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
	"golang.org/x/oauth2"

	"github.com/recordvault/recordvault/sdk"
)

// Images of the container stack, as deploy/servers/images.sh (`make images`) tags them:
// Vault's and MinIO's at the versions of deploy/versions.env (TestImagesMatchVersions), and
// recordvault's own, the service and the development issuer, built from the checkout.
const (
	VaultImage     = "recordvault-vault:1.21.0"
	MinIOImage     = "recordvault-minio:v0.0.0-20260212201848-7aac2a2c5b7c"
	ServiceImage   = "recordvault-service:local"
	DevIssuerImage = "recordvault-devissuer:local"
)

// DemoClinic is the clinic of the stack's demo users: dr-lee and dr-patel (clinicians, on
// the roster, licensed), admin-kim (clinic admin), client-jo (a client login); and a client
// login for any client-<name>.
const DemoClinic = "democlinic"

// Stack is recordvault with its Vault, MinIO and development issuer, each in a container on
// a network of its own, the service reached from the host at URL.
type Stack struct {
	URL    string // the service, from the host
	Clinic string // DemoClinic, provisioned

	issuerURL string // the issuer, from the host
	vault     *Vault
	minio     *MinIO
	issuer    testcontainers.Container
	service   testcontainers.Container
	network   *testcontainers.DockerNetwork
}

// issuerInside is the issuer's URL on the stack's network: what its tokens carry as "iss",
// and where the service fetches its keys.
const issuerInside = "http://issuer:8081"

// Start starts the stack and returns it once the service is ready and the demo clinic's
// roster is set. Terminate it when done, whether or not Start failed (what started is
// stopped).
func Start(ctx context.Context) (*Stack, error) {
	s := &Stack{Clinic: DemoClinic}
	if err := CheckImages(ctx, VaultImage, MinIOImage, ServiceImage, DevIssuerImage); err != nil {
		return s, err
	}
	var err error
	if s.network, err = tcnetwork.New(ctx); err != nil {
		return s, fmt.Errorf("rvtest: network: %w", err)
	}
	if s.vault, err = StartVault(ctx, VaultImage, tcnetwork.WithNetwork([]string{"vault"}, s.network)); err != nil {
		return s, err
	}
	if s.minio, err = StartMinIO(ctx, MinIOImage, tcnetwork.WithNetwork([]string{"minio"}, s.network)); err != nil {
		return s, err
	}
	const bucket = "recordvault"
	mc, err := s.minio.Client(ctx)
	if err == nil {
		err = mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{})
	}
	if err != nil {
		return s, fmt.Errorf("rvtest: bucket: %w", err)
	}
	if s.issuer, s.issuerURL, err = startIssuer(ctx, s.network); err != nil {
		return s, err
	}
	if s.service, s.URL, err = startService(ctx, s.network, "recordvault", map[string]string{
		"VAULT_ADDR": "http://vault:8200", "VAULT_TOKEN": s.vault.RootToken,
		"RECORDVAULT_S3_ENDPOINT": "minio:9000", "RECORDVAULT_S3_BUCKET": bucket,
		"RECORDVAULT_S3_ACCESS_KEY": s.minio.User, "RECORDVAULT_S3_SECRET_KEY": s.minio.Password,
	}); err != nil {
		return s, err
	}
	return s, s.seedRoster(ctx)
}

// startIssuer starts the development issuer on network as "issuer"; it returns the container
// and the issuer's URL from the host.
func startIssuer(ctx context.Context, network *testcontainers.DockerNetwork) (testcontainers.Container, string, error) {
	issuer, err := testcontainers.Run(ctx, DevIssuerImage,
		testcontainers.WithCmd("-listen", "0.0.0.0:8081", "-url", issuerInside, "-clinic", DemoClinic),
		loopbackPorts("8081/tcp"), tcnetwork.WithNetwork([]string{"issuer"}, network),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/jwks.json").WithPort("8081/tcp").WithStartupTimeout(30*time.Second)),
	)
	if err != nil {
		return issuer, "", fmt.Errorf("rvtest: issuer: %w", err)
	}
	url, err := endpoint(ctx, issuer, "8081/tcp")
	return issuer, url, err
}

// startService starts a recordvault service on network as alias, for the demo clinic, with
// the issuer of startIssuer and env (how it reaches Vault and S3) added; it returns the
// container, once ready, and the service's URL from the host.
func startService(ctx context.Context, network *testcontainers.DockerNetwork, alias string, env map[string]string) (testcontainers.Container, string, error) {
	all := map[string]string{
		"RECORDVAULT_DEVELOPMENT": "true", // plain HTTP to Vault and MinIO inside the test network
		"RECORDVAULT_OIDC_ISSUER": issuerInside, "RECORDVAULT_OIDC_JWKS_URL": issuerInside + "/jwks.json",
		"RECORDVAULT_CLINICS": DemoClinic, "RECORDVAULT_AUDIT_LOG": "/tmp/audit.jsonl",
		"RECORDVAULT_DEV_MAILBOX": "/tmp/mailbox.txt", "RECORDVAULT_SHUTDOWN_DELAY": "0s",
	}
	maps.Copy(all, env)
	service, err := testcontainers.Run(ctx, ServiceImage, testcontainers.WithEnv(all),
		loopbackPorts("8080/tcp"), tcnetwork.WithNetwork([]string{alias}, network),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/readyz").WithPort("8080/tcp").WithStartupTimeout(60*time.Second)),
	)
	if err != nil {
		return service, "", fmt.Errorf("rvtest: recordvault %s: %w", alias, err)
	}
	url, err := endpoint(ctx, service, "8080/tcp")
	return service, url, err
}

// seedRoster puts the demo clinicians on the clinic's roster, licensed, as its admin.
func (s *Stack) seedRoster(ctx context.Context) error {
	return seedRoster(ctx, s.Client)
}

func seedRoster(ctx context.Context, client func(user string) (*sdk.ClientWithResponses, error)) error {
	admin, err := client("admin-kim")
	if err != nil {
		return err
	}
	licensed := true
	for sub, name := range map[string]string{"dr-lee": "Dr. Ana Lee", "dr-patel": "Dr. Raj Patel"} {
		if _, err := admin.PutClinicianWithResponse(ctx, sub, sdk.PutClinicianJSONRequestBody{Name: name, Licensed: &licensed}); err != nil {
			return fmt.Errorf("rvtest: roster: %w", err)
		}
	}
	return nil
}

// endpoint is http://host:port of a container's port, from the host.
func endpoint(ctx context.Context, c testcontainers.Container, port string) (string, error) {
	host, err := c.PortEndpoint(ctx, port, "http")
	if err != nil {
		return "", fmt.Errorf("rvtest: endpoint: %w", err)
	}
	return host, nil
}

// Token mints a bearer token for user: a demo user, or any client-<name>.
func (s *Stack) Token(ctx context.Context, user string) (string, error) {
	return mintToken(ctx, s.issuerURL, user)
}

// mintToken asks the development issuer at issuerURL for a token for user.
func mintToken(ctx context.Context, issuerURL, user string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, issuerURL+"/token?user="+user, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("rvtest: token: %w", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("rvtest: token for %s: %d %v", user, resp.StatusCode, err)
	}
	return tok.AccessToken, nil
}

// Client returns the Go client of the service, logged in as user (see Token).
func (s *Stack) Client(user string) (*sdk.ClientWithResponses, error) {
	return newClient(s.URL, s.issuerURL, user)
}

// newClient is the Go client of the service at url, logged in as user with tokens of the
// issuer at issuerURL.
func newClient(url, issuerURL, user string) (*sdk.ClientWithResponses, error) {
	return sdk.New(url, sdk.WithTokenSource(oauth2.ReuseTokenSource(nil, &mintedTokens{issuerURL: issuerURL, user: user})))
}

// mintedTokens mints a fresh token for user whenever the last one ran out.
type mintedTokens struct {
	issuerURL string
	user      string
}

func (m *mintedTokens) Token() (*oauth2.Token, error) {
	// oauth2.TokenSource passes no context: the mint is bounded here instead.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := mintToken(ctx, m.issuerURL, m.user)
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: tok, Expiry: time.Now().Add(50 * time.Minute)}, nil
}

// Terminate stops and removes every container of the stack and its network.
func (s *Stack) Terminate(ctx context.Context) error {
	var errs []error
	for _, c := range []testcontainers.Container{s.service, s.issuer} {
		if c != nil {
			errs = append(errs, c.Terminate(ctx))
		}
	}
	if s.minio != nil {
		errs = append(errs, s.minio.Terminate(ctx))
	}
	if s.vault != nil {
		errs = append(errs, s.vault.Terminate(ctx))
	}
	if s.network != nil {
		errs = append(errs, s.network.Remove(ctx))
	}
	return errors.Join(errs...)
}
