//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/recordvault/recordvault/handlers"
	"github.com/recordvault/recordvault/records"
	"github.com/recordvault/recordvault/rvtest"
)

// Our client creates a Transit key; Vault's own API shows it exists with the settings the
// envelope relies on.
func TestVaultTransitKeyCreated(t *testing.T) {
	ctx := context.Background()
	name := "clinic-" + newID() + "-progress_note"
	if err := vaultClient(t, shared.vault).EnsureKey(ctx, name); err != nil {
		t.Fatal(err)
	}
	api, err := shared.vault.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key, err := api.Logical().ReadWithContext(ctx, "transit/keys/"+name)
	if err != nil || key == nil {
		t.Fatalf("read key through Vault's API: %v, %v", key, err)
	}
	for field, want := range map[string]any{"type": "aes256-gcm96", "derived": true, "exportable": false, "convergent_encryption": false} {
		if got := key.Data[field]; got != want {
			t.Errorf("key %s = %v, want %v", field, got, want)
		}
	}
	// Idempotent: ensuring it again succeeds and leaves one version.
	if err := vaultClient(t, shared.vault).EnsureKey(ctx, name); err != nil {
		t.Fatalf("second EnsureKey: %v", err)
	}
}

// A key planted under the expected name with weaker settings is refused, not used.
func TestVaultRefusesExportableKey(t *testing.T) {
	ctx := context.Background()
	name := "clinic-" + newID() + "-evaluation"
	api, err := shared.vault.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.Logical().WriteWithContext(ctx, "transit/keys/"+name, map[string]any{
		"type": "aes256-gcm96", "derived": true, "exportable": true,
	}); err != nil {
		t.Fatal(err)
	}
	err = vaultClient(t, shared.vault).EnsureKey(ctx, name)
	if err == nil || !strings.Contains(err.Error(), "unsafe settings") {
		t.Fatalf("EnsureKey on an exportable key: err = %v, want unsafe settings", err)
	}
}

// readyz answers GET /readyz on h and decodes the body.
func readyz(t *testing.T, url string) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Checks map[string]string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body.Checks
}

// /readyz follows each dependency: a paused Vault or a stopped MinIO makes it answer 503 with
// the failing check named, and recovery makes it ready again. The harness re-reads MinIO's
// mapped port after a restart, and the objects written before it are still there.
func TestReadinessFollowsDependencies(t *testing.T) {
	ctx := context.Background()
	v, err := rvtest.StartVault(ctx, shared.vaultImage)
	t.Cleanup(func() { v.Terminate(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	m, err := rvtest.StartMinIO(ctx, shared.minioImage)
	t.Cleanup(func() { m.Terminate(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	store, bucket := newStore(t, m)
	srv := httptest.NewServer(handlers.NewOperatorServer(discardLogger(), []handlers.ReadinessCheck{
		{Name: "vault", Ready: vaultClient(t, v).Ready},
		{Name: "storage", Ready: store.Ready},
	}, nil))
	defer srv.Close()

	if status, checks := readyz(t, srv.URL); status != http.StatusOK || checks["vault"] != "ok" || checks["storage"] != "ok" {
		t.Fatalf("fresh stack: %d %v", status, checks)
	}

	if err := v.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	checks := waitReadyz(t, srv.URL, http.StatusServiceUnavailable, "paused vault reported")
	if !strings.Contains(checks["vault"], "vault") || checks["storage"] != "ok" {
		t.Fatalf("paused vault: checks %v", checks)
	}
	if err := v.Unpause(ctx); err != nil {
		t.Fatal(err)
	}
	waitReadyz(t, srv.URL, http.StatusOK, "vault ready after unpause")

	kept := &records.Manifest{Clinic: newID(), Record: newID(), Kind: "record", Category: "evaluation", Participants: []string{newID()},
		Author: "dr-lee", Status: "signed", TransitKey: "k", WrappedKey: "vault:v1:x", Meta: []byte("sealed"), Fields: map[string][]byte{}}
	if _, err := records.NewBucket(store).CreateManifest(ctx, kept); err != nil {
		t.Fatal(err)
	}
	before, _ := m.Endpoint(ctx)
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	status, checks := readyz(t, srv.URL)
	if status != http.StatusServiceUnavailable || !strings.Contains(checks["storage"], "storage") || checks["vault"] != "ok" {
		t.Fatalf("stopped minio: %d %v", status, checks)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := m.Endpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("minio endpoint before stop %s, after start %s", before, after)
	raw, err := m.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "minio answers after restart", func() bool {
		n := 0
		for obj := range raw.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
			if obj.Err == nil {
				n++
			}
		}
		return n == 1
	})
}

// deploy/compose.yaml stays a valid Compose file (checked offline: nothing is pulled).
func TestComposeFileValid(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("docker-compose", "-f", filepath.Join(root, "deploy", "compose.yaml"), "config", "--quiet").CombinedOutput()
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
}
