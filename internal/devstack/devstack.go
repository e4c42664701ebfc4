// Package devstack runs recordvault's development stack as plain local processes on loopback:
// a single-node Vault with Transit, a MinIO server, and the recordvault service against them.
// It is what `make dev` runs; no Docker is needed.
//
// Vault runs as a real server with file storage in the data directory, initialized once with a
// single unseal key kept (mode 0600) in that directory, rather than in -dev mode: a -dev Vault
// forgets its keys on every restart, which would leave the records already in MinIO unreadable.
// None of this is a production set-up; deploy/compose.yaml and docs/ describe one.
package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/internal/devissuer"
	"github.com/recordvault/recordvault/storage"
	"github.com/recordvault/recordvault/vault"
)

// Config says where the stack's binaries are, where it keeps its data and which loopback ports
// it listens on.
type Config struct {
	DataDir          string
	VaultBin         string
	MinIOBin         string
	ServerBin        string
	HTTPAddr         string // the recordvault service, host:port
	OperatorAddr     string // its operator listener (readiness with reasons), host:port
	VaultPort        int
	MinIOPort        int
	MinIOConsolePort int
	IssuerPort       int // the development OIDC issuer
	Bucket           string
}

// DemoClinic is the clinic of the seeded demo users.
const DemoClinic = "democlinic"

// secrets are the stack's development credentials, created once per data directory.
type secrets struct {
	Vault       vault.InitResult `json:"vault"`
	MinIOUser   string           `json:"minio_user"`
	MinIOSecret string           `json:"minio_password"`
}

const (
	transitMount = "transit"
	startTimeout = 60 * time.Second
	stopTimeout  = 10 * time.Second
)

// Run starts the stack, prints how to use it to out, and keeps it running until ctx ends; then
// it stops the service first and its dependencies after it. A dependency that dies while the
// stack runs is logged and left dead, so that the service's /readyz can be seen to report it.
func Run(ctx context.Context, cfg Config, logger *slog.Logger, out io.Writer) (err error) {
	for _, dir := range []string{cfg.DataDir, filepath.Join(cfg.DataDir, "vault"), filepath.Join(cfg.DataDir, "minio"), filepath.Join(cfg.DataDir, "logs")} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("devstack: %w", err)
		}
	}
	sec, err := loadSecrets(cfg.DataDir)
	if err != nil {
		return err
	}

	vaultLog, err := openLog(cfg, "vault")
	if err != nil {
		return err
	}
	defer vaultLog.Close()
	minioLog, err := openLog(cfg, "minio")
	if err != nil {
		return err
	}
	defer minioLog.Close()

	var running []*process // in start order; stopped in reverse, before the logs close
	defer func() {
		for i := len(running) - 1; i >= 0; i-- {
			running[i].stop(logger)
		}
	}()

	vaultAddr := "http://127.0.0.1:" + strconv.Itoa(cfg.VaultPort)
	vaultConfig := filepath.Join(cfg.DataDir, "vault", "config.hcl")
	if err := os.WriteFile(vaultConfig, []byte(vaultHCL(cfg)), 0o600); err != nil {
		return fmt.Errorf("devstack: write vault config: %w", err)
	}
	p, err := start(logger, "vault", cfg.VaultBin, []string{"server", "-config=" + vaultConfig},
		[]string{"HOME=" + filepath.Join(cfg.DataDir, "vault")}, vaultLog)
	if err != nil {
		return err
	}
	running = append(running, p)
	if err := setUpVault(ctx, vaultAddr, cfg.DataDir, &sec); err != nil {
		return err
	}

	minioAddr := "127.0.0.1:" + strconv.Itoa(cfg.MinIOPort)
	p, err = start(logger, "minio", cfg.MinIOBin, []string{"server", "--address", minioAddr,
		"--console-address", "127.0.0.1:" + strconv.Itoa(cfg.MinIOConsolePort), filepath.Join(cfg.DataDir, "minio")},
		[]string{"HOME=" + filepath.Join(cfg.DataDir, "minio"), "MINIO_ROOT_USER=" + sec.MinIOUser,
			"MINIO_ROOT_PASSWORD=" + sec.MinIOSecret}, minioLog)
	if err != nil {
		return err
	}
	running = append(running, p)
	if err := waitHTTP(ctx, "http://"+minioAddr+"/minio/health/live"); err != nil {
		return fmt.Errorf("devstack: minio did not start (see %s): %w", minioLog.Name(), err)
	}
	store, err := storage.New(storage.Config{Endpoint: minioAddr, AccessKey: sec.MinIOUser, SecretKey: sec.MinIOSecret, Bucket: cfg.Bucket})
	if err != nil {
		return err
	}
	// MinIO reports itself live a moment before it serves S3 ("Server not initialized yet").
	if err := retry(ctx, func() error { return store.EnsureBucket(ctx) }); err != nil {
		return err
	}

	if err := seedRoster(ctx, vaultAddr, sec.Vault.RootToken, store); err != nil {
		return err
	}

	issuerURL := "http://127.0.0.1:" + strconv.Itoa(cfg.IssuerPort)
	issuer, err := devissuer.New(issuerURL, "recordvault", devissuer.DemoUsers(DemoClinic))
	if err != nil {
		return err
	}
	issuer.ClientLogins(DemoClinic) // any client-<name>: a walkthrough links a fresh account each run
	issuerLn, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(cfg.IssuerPort))
	if err != nil {
		return fmt.Errorf("devstack: development issuer: %w", err)
	}
	issuerSrv := &http.Server{Handler: issuer.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go issuerSrv.Serve(issuerLn)
	defer issuerSrv.Close()

	p, err = start(logger, "recordvault", cfg.ServerBin, []string{"-listen", cfg.HTTPAddr}, []string{
		"RECORDVAULT_DEVELOPMENT=true", // a root token, plain HTTP on loopback, the mailbox file
		"RECORDVAULT_LOG_FORMAT=text",
		"RECORDVAULT_OIDC_ISSUER=" + issuerURL,
		"RECORDVAULT_OIDC_JWKS_URL=" + issuer.JWKSURL(),
		"VAULT_ADDR=" + vaultAddr,
		"VAULT_TOKEN=" + sec.Vault.RootToken,
		"RECORDVAULT_TRANSIT_MOUNT=" + transitMount,
		"RECORDVAULT_S3_ENDPOINT=" + minioAddr,
		"RECORDVAULT_S3_ACCESS_KEY=" + sec.MinIOUser,
		"RECORDVAULT_S3_SECRET_KEY=" + sec.MinIOSecret,
		"RECORDVAULT_S3_BUCKET=" + cfg.Bucket,
		"RECORDVAULT_CLINICS=" + DemoClinic,
		"RECORDVAULT_AUDIT_LOG=" + filepath.Join(cfg.DataDir, "logs", "audit.jsonl"),
		"RECORDVAULT_DEV_MAILBOX=" + filepath.Join(cfg.DataDir, "mailbox.txt"),
		"RECORDVAULT_OPERATOR_LISTEN=" + cfg.OperatorAddr,
	}, out)
	if err != nil {
		return err
	}
	running = append(running, p)
	url := "http://" + cfg.HTTPAddr
	// Stop waiting as soon as the service exits: it says why on its output.
	waitCtx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-waitCtx.Done():
		}
	}()
	err = waitHTTP(waitCtx, url+"/readyz")
	cancel()
	if err != nil {
		return fmt.Errorf("devstack: recordvault did not become ready: %w", err)
	}
	fmt.Fprintf(out, banner, url, url, "http://"+cfg.OperatorAddr, issuerURL, issuerURL, url, strings.Join(issuer.Users(), ", "), vaultAddr,
		filepath.Join(cfg.DataDir, "secrets.json"), "http://127.0.0.1:"+strconv.Itoa(cfg.MinIOConsolePort), filepath.Join(cfg.DataDir, "logs"))

	for {
		select {
		case <-ctx.Done():
			logger.Info("stopping")
			return nil
		case <-p.done:
			return fmt.Errorf("devstack: recordvault exited: %w", p.err)
		}
	}
}

const banner = `
recordvault is running at %s  (development stack; Ctrl-C stops all of it)

  curl %s/readyz              ready or not
  curl %s/readyz              the operator listener: each check and why it failed

  Authenticate as a seeded demo user of the development issuer at %s:
    TOKEN=$(curl -s -X POST '%s/token?user=dr-lee' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
    curl -H "Authorization: Bearer $TOKEN" %s/v1/me
  Users: %s, and any client-<name> (a client login of the demo clinic)

  Vault:   %s  (root token and unseal key, development only: %s)
  MinIO:   console at %s, same file
  Logs:    %s

`

// setUpVault waits for the Vault server, initializes it on first use, unseals it and mounts
// Transit.
func setUpVault(ctx context.Context, addr, dataDir string, sec *secrets) error {
	op, err := vault.NewOperator(addr)
	if err != nil {
		return err
	}
	var initialized, sealed bool
	err = retry(ctx, func() error {
		initialized, sealed, err = op.Status(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("devstack: vault did not start: %w", err)
	}
	if !initialized {
		if sec.Vault, err = op.Initialize(ctx); err != nil {
			return err
		}
		if err := saveSecrets(dataDir, *sec); err != nil {
			return err
		}
		sealed = true
	}
	if sealed {
		if sec.Vault.UnsealKey == "" {
			return errors.New("devstack: vault is initialized but its unseal key is not in the data directory; remove the directory to start afresh")
		}
		if err := op.Unseal(ctx, sec.Vault.UnsealKey); err != nil {
			return err
		}
	}
	return retry(ctx, func() error { return op.EnableTransit(ctx, sec.Vault.RootToken, transitMount) })
}

// vaultHCL is the development Vault's configuration. Once unsealed, Vault also listens on a
// cluster port, VaultPort+1, which must be free too.
func vaultHCL(cfg Config) string {
	return fmt.Sprintf(`storage "file" {
  path = %q
}
listener "tcp" {
  address         = "127.0.0.1:%d"
  cluster_address = "127.0.0.1:%d"
  tls_disable     = true
}
api_addr      = "http://127.0.0.1:%d"
disable_mlock = true
ui            = true
`, filepath.Join(cfg.DataDir, "vault", "data"), cfg.VaultPort, cfg.VaultPort+1, cfg.VaultPort)
}

// openLog opens the log file of a dependency, appending: the data directory outlives a run.
func openLog(cfg Config, name string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(cfg.DataDir, "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("devstack: open log for %s: %w", name, err)
	}
	return f, nil
}

func loadSecrets(dataDir string) (secrets, error) {
	var sec secrets
	b, err := os.ReadFile(filepath.Join(dataDir, "secrets.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
		sec.MinIOUser = "recordvault-dev"
		sec.MinIOSecret = randomHex(20)
		return sec, saveSecrets(dataDir, sec)
	case err != nil:
		return sec, fmt.Errorf("devstack: read secrets: %w", err)
	}
	if err := json.Unmarshal(b, &sec); err != nil {
		return sec, fmt.Errorf("devstack: parse secrets: %w", err)
	}
	return sec, nil
}

func saveSecrets(dataDir string, sec secrets) error {
	b, err := json.MarshalIndent(sec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dataDir, "secrets.json"), b, 0o600); err != nil {
		return fmt.Errorf("devstack: write secrets: %w", err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}

// retry calls f every 100ms until it succeeds, ctx ends or startTimeout passes.
func retry(ctx context.Context, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitHTTP waits until url answers 200.
func waitHTTP(ctx context.Context, url string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	return retry(ctx, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s answered %d", url, resp.StatusCode)
		}
		return nil
	})
}

// seedRoster puts the demo clinicians on the demo clinic's roster, so that they can take in
// clients and be named on care teams. Kept as it is when it exists already. It goes through
// package clinic, as the service would, so that the roster carries its tag.
func seedRoster(ctx context.Context, vaultAddr, token string, store *storage.Store) error {
	_, etag, err := clinic.NewBucket(store).ReadStaff(ctx, DemoClinic)
	if err != nil || etag != "" {
		return err
	}
	vc, err := vault.New(vault.Config{Addr: vaultAddr, Token: token, TransitMount: transitMount})
	if err != nil {
		return err
	}
	people := clinic.New(vc, clinic.NewBucket(store), nil)
	if err := vc.ProvisionClinic(ctx, DemoClinic); err != nil {
		return fmt.Errorf("devstack: provision the demo clinic: %w", err)
	}
	demoUsers := devissuer.DemoUsers(DemoClinic)
	for _, sub := range slices.Sorted(maps.Keys(demoUsers)) {
		if u := demoUsers[sub]; slices.Contains(u.Roles, recordvault.RoleClinician) {
			if err := people.PutClinician(ctx, DemoClinic, recordvault.Clinician{Subject: sub, Name: u.Name, Licensed: true}); err != nil {
				return fmt.Errorf("devstack: seed the demo roster: %w", err)
			}
		}
	}
	return nil
}
