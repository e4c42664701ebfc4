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
)

// TestServiceTLSAndGracefulStop runs the service's binary on the real stack as production
// would serve it: TLS on its listener from certificate files, and on SIGTERM it answers not
// ready for its shutdown delay (load balancers route around it), then stops and exits 0.
func TestServiceTLSAndGracefulStop(t *testing.T) {
	e := newAPIEnv(t, nil)
	ctx := context.Background()
	dir := t.TempDir()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "recordvault")
	if out, err := exec.Command("go", "build", "-C", root, "-o", bin, "./cmd/recordvault").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	pool, err := testcert.Write(dir, "127.0.0.1", time.Time{})
	if err != nil {
		t.Fatal(err)
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
	cmd.Env = []string{"RECORDVAULT_DEVELOPMENT=true", "VAULT_ADDR=" + vaultAddr, "VAULT_TOKEN=" + shared.vault.RootToken,
		"RECORDVAULT_S3_ENDPOINT=" + endpoint, "RECORDVAULT_S3_ACCESS_KEY=" + shared.minio.User, "RECORDVAULT_S3_SECRET_KEY=" + shared.minio.Password,
		"RECORDVAULT_S3_BUCKET=" + e.bucket, "RECORDVAULT_OIDC_ISSUER=" + e.issuer.URL(), "RECORDVAULT_OIDC_JWKS_URL=" + e.issuer.JWKSURL(),
		"RECORDVAULT_AUDIT_LOG=" + filepath.Join(dir, "audit.jsonl"), "RECORDVAULT_TLS_CERT_FILE=" + filepath.Join(dir, "cert.pem"),
		"RECORDVAULT_TLS_KEY_FILE=" + filepath.Join(dir, "key.pem"), "RECORDVAULT_SHUTDOWN_DELAY=5s", "RECORDVAULT_SHUTDOWN_GRACE=5s"}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

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
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the service's exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the service did not stop")
	}
	var logged []string
	for l := range lines {
		logged = append(logged, l)
	}
	all := strings.Join(logged, "\n")
	if !strings.Contains(all, `"msg":"stopping"`) || !strings.Contains(all, `"msg":"stopped"`) || !strings.Contains(all, `"url":"https://`) {
		t.Errorf("the service's log (JSON):\n%s", all)
	}
}
