//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/recordvault/recordvault/rvtest"
	"github.com/recordvault/recordvault/storage"
	"github.com/recordvault/recordvault/vault"
)

// newID returns a random lowercase id, so that tests sharing a server never collide.
func newID() string { return strings.ToLower(rand.Text()[:16]) }

// vaultClient returns our Vault client for v, with the root token.
func vaultClient(t testing.TB, v *rvtest.Vault, transport ...http.RoundTripper) *vault.Client {
	t.Helper()
	addr, err := v.Addr(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cfg := vault.Config{Addr: addr, Token: v.RootToken}
	if len(transport) > 0 {
		cfg.Transport = transport[0]
	}
	c, err := vault.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newStore returns our store for a fresh bucket on m, created; its requests go through
// transport when one is given.
func newStore(t testing.TB, m rvtest.S3, transport ...http.RoundTripper) (*storage.Store, string) {
	t.Helper()
	ctx := context.Background()
	endpoint, err := m.Endpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bucket := "t-" + newID()
	cfg := storage.Config{Endpoint: endpoint, Bucket: bucket}
	cfg.AccessKey, cfg.SecretKey = m.Credentials()
	if len(transport) > 0 {
		cfg.Transport = transport[0]
	}
	s, err := storage.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	return s, bucket
}

// eventually polls cond every 100ms until it holds or the timeout passes, and reports how
// long it took: a wait for a real server's state (a container paused, a TTL in Vault), whose
// clock no test controls. The timeout bounds the wait; it is not a speed assertion.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		<-tick.C
	}
	return time.Since(start)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// waitReadyz polls url's /readyz until it answers status, and returns its checks then.
func waitReadyz(t *testing.T, url string, status int, what string) map[string]string {
	t.Helper()
	var checks map[string]string
	took := eventually(t, 10*time.Second, what, func() bool {
		var got int
		got, checks = readyz(t, url)
		return got == status
	})
	t.Logf("%s after %v: %v", what, took, checks)
	return checks
}

// testLogger logs through t, so a failing test shows what the code under test logged.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// getObject reads the object at key, as anyone with the bucket's credentials can.
func getObject(t testing.TB, raw *minio.Client, bucket, key string) []byte {
	t.Helper()
	obj, err := raw.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// putObject writes b at key, as anyone with the bucket's credentials can.
func putObject(t testing.TB, raw *minio.Client, bucket, key string, b []byte) {
	t.Helper()
	if _, err := raw.PutObject(context.Background(), bucket, key, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

// repoRoot returns the repository's root directory, found by walking up from the working
// directory to deploy/versions.env.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "deploy", "versions.env")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("deploy/versions.env not found above the working directory")
		}
		dir = parent
	}
}
