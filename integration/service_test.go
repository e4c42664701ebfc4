//go:build integration

package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/recordvault/recordvault/internal/testcert"
	"go.yaml.in/yaml/v3"
)

// TestServiceTLSAndGracefulStop runs the service's binary on the real stack as production
// would serve it: TLS on its listener from certificate files, and on SIGTERM it answers not
// ready for its shutdown delay (load balancers route around it), then stops and exits 0.
func TestServiceTLSAndGracefulStop(t *testing.T) {
	e := newAPIEnv(t, nil)
	dir := t.TempDir()
	pool, err := testcert.Write(dir, "127.0.0.1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	svc := startService(t, e, dir, "VAULT_TOKEN="+shared.vault.RootToken, "RECORDVAULT_TLS_CERT_FILE="+filepath.Join(dir, "cert.pem"),
		"RECORDVAULT_TLS_KEY_FILE="+filepath.Join(dir, "key.pem"), "RECORDVAULT_SHUTDOWN_DELAY=5s", "RECORDVAULT_SHUTDOWN_GRACE=5s")
	cmd, addr, lines := svc.cmd, svc.addr, svc.lines
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	ready := func() int {
		resp, err := client.Get("https://" + addr + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	eventually(t, 30*time.Second, "the service answers ready over TLS", func() bool { return ready() == http.StatusOK })
	if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest { // Go's TLS server refuses plain HTTP so
			t.Errorf("plain HTTP to the TLS listener: %d", resp.StatusCode)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The delay is 5 s: the service answers not ready well within it, still listening.
	eventually(t, 4*time.Second, "/readyz answers 503 during the shutdown delay", func() bool {
		return ready() == http.StatusServiceUnavailable
	})
	// Its output to the end (it ends when the service exits), then its exit.
	var logged []string
	stopped := time.After(15 * time.Second)
	for open := true; open; {
		select {
		case l, ok := <-lines:
			if open = ok; ok {
				logged = append(logged, l)
			}
		case <-stopped:
			t.Fatal("the service did not stop")
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the service's exit: %v", err)
	}
	all := strings.Join(logged, "\n")
	if !strings.Contains(all, `"msg":"stopping"`) || !strings.Contains(all, `"msg":"stopped"`) || !strings.Contains(all, `"url":"https://`) {
		t.Errorf("the service's log (JSON):\n%s", all)
	}
}

// service is the service's binary running on the real stack.
type service struct {
	cmd   *exec.Cmd
	addr  string
	lines chan string // its log, line by line; closed when it exits
}

// startService builds the service's binary and starts it in development mode (plain HTTP
// to the test's Vault and MinIO) on e's bucket and issuer, with env added (how it reaches
// Vault, TLS, ...), writing its files in dir.
func startService(t *testing.T, e *apiEnv, dir string, env ...string) *service {
	t.Helper()
	ctx := context.Background()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "recordvault")
	if out, err := exec.Command("go", "build", "-C", root, "-o", bin, "./cmd/recordvault").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	vaultAddr, err := shared.vault.Addr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	endpoint, err := shared.minio.Endpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "-listen", addr)
	cmd.Env = append([]string{"RECORDVAULT_DEVELOPMENT=true", "VAULT_ADDR=" + vaultAddr,
		"RECORDVAULT_S3_ENDPOINT=" + endpoint, "RECORDVAULT_S3_ACCESS_KEY=" + shared.minio.User, "RECORDVAULT_S3_SECRET_KEY=" + shared.minio.Password,
		"RECORDVAULT_S3_BUCKET=" + e.bucket, "RECORDVAULT_OIDC_ISSUER=" + e.issuer.URL(), "RECORDVAULT_OIDC_JWKS_URL=" + e.issuer.JWKSURL(),
		"RECORDVAULT_AUDIT_LOG=" + filepath.Join(dir, "audit.jsonl")}, env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return &service{cmd: cmd, addr: addr, lines: lines}
}

// TestServiceWithoutRootCredentials: deploy/helm/recordvault/files/vault-setup.sh, run with an
// administrator's token, gives the service an AppRole with the least-privilege policy and a
// response-wrapped secret id; the service starts on those files alone (no Vault token of its
// own), provisions its clinic's keys under that policy and answers ready. The same wrapping
// token a second time stops the start, saying why.
func TestServiceWithoutRootCredentials(t *testing.T) {
	e := newAPIEnv(t, nil)
	ctx := context.Background()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	vaultCLI, err := exec.Command(filepath.Join(root, "deploy/servers/build.sh"), "vault").Output()
	if err != nil {
		t.Fatalf("the vault CLI (make images builds it): %v", err)
	}
	vaultAddr, err := shared.vault.Addr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir, secrets, clinic := t.TempDir(), t.TempDir(), newID()
	bin := t.TempDir()
	if err := os.Symlink(strings.TrimSpace(string(vaultCLI)), filepath.Join(bin, "vault")); err != nil {
		t.Fatal(err)
	}
	setup := exec.Command(filepath.Join(root, "deploy/helm/recordvault/files/vault-setup.sh"))
	setup.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "VAULT_ADDR=" + vaultAddr, "VAULT_TOKEN=" + shared.vault.RootToken,
		"RECORDVAULT_CLINICS=" + clinic, "SECRETS_DIR=" + secrets, "AUTH_MOUNT=approle-" + clinic, "POLICY_NAME=rv-" + clinic}
	if out, err := setup.CombinedOutput(); err != nil {
		t.Fatalf("vault-setup.sh: %v\n%s", err, out)
	}
	env := []string{"RECORDVAULT_CLINICS=" + clinic, "VAULT_APPROLE_MOUNT=approle-" + clinic,
		"VAULT_ROLE_ID_FILE=" + filepath.Join(secrets, "vault-role-id"), "VAULT_SECRET_ID_FILE=" + filepath.Join(secrets, "vault-secret-id"),
		"VAULT_SECRET_ID_WRAPPED=true"}
	svc := startService(t, e, dir, env...)
	eventually(t, 30*time.Second, "the service on AppRole answers ready", func() bool {
		resp, err := http.Get("http://" + svc.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	api, err := shared.vault.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if key, err := api.Logical().ReadWithContext(ctx, "transit/keys/rv-"+clinic+"-progress-note"); err != nil || key == nil {
		t.Fatalf("the clinic's keys, provisioned under the policy: %v", err)
	}

	again := startService(t, e, t.TempDir(), env...)
	var said []string
	for l := range again.lines { // to the end of its output: it stops by itself
		said = append(said, l)
	}
	if err := again.cmd.Wait(); err == nil {
		t.Fatal("a second start with the same wrapping token")
	}
	if all := strings.Join(said, "\n"); !strings.Contains(all, "a wrapping token works once") {
		t.Errorf("the second start's error: %s", all)
	}
}

// deploy/compose.yaml is a valid Compose file (docker-compose checks it, offline: this
// machine kind pulls no image), and hands the service no root credential: no VAULT_TOKEN,
// no MinIO root user, in the service's environment.
func TestComposeFile(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	compose := filepath.Join(root, "deploy", "compose.yaml")
	out, err := exec.Command("docker-compose", "-f", compose, "config").CombinedOutput()
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
	var doc struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	env := doc.Services["recordvault"].Environment
	for _, name := range []string{"VAULT_TOKEN", "RECORDVAULT_S3_ACCESS_KEY", "RECORDVAULT_S3_SECRET_KEY"} {
		if _, ok := env[name]; ok {
			t.Errorf("the service is handed %s", name)
		}
	}
	if env["VAULT_SECRET_ID_WRAPPED"] != "true" || env["VAULT_ROLE_ID_FILE"] == "" || env["RECORDVAULT_S3_SECRET_KEY_FILE"] == "" {
		t.Errorf("the service's environment: %v", env)
	}
}
