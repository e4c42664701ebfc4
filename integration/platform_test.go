//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/recordvault/recordvault/handlers"
	"github.com/recordvault/recordvault/records"
	"github.com/recordvault/recordvault/rvtest"
	"github.com/recordvault/recordvault/storage/object"
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

// Our store writes a manifest; MinIO's own API reads back exactly the bytes of it. A second
// create of the same record is refused and leaves the first as it was; a replace with a stale
// ETag is refused too. A second participant's link reads the same manifest; a third client,
// named by no link, reads nothing.
func TestStorageWriteReadBack(t *testing.T) {
	ctx := context.Background()
	store, bucket := newStore(t, shared.minio)
	manifests := records.NewBucket(store)
	home, other := newID(), newID()
	m := &records.Manifest{Clinic: newID(), Record: newID(), Kind: "record", Category: "progress_note", Participants: []string{home, other},
		Author: "dr-lee", Status: "draft", TransitKey: "k", WrappedKey: "vault:v1:first", Meta: []byte("sealed"),
		Fields: map[string][]byte{"plan": []byte("sealed")}}
	ref := records.RefOf(m)
	etag, err := manifests.CreateManifest(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := shared.minio.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for obj := range raw.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		keys = append(keys, obj.Key)
	}
	if len(keys) != 1 {
		t.Fatalf("bucket holds %v, want one manifest", keys)
	}
	obj, err := raw.GetObject(ctx, bucket, keys[0], minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fromMinIO, err := records.ParseManifest(obj)
	if err != nil || fromMinIO.WrappedKey != "vault:v1:first" || string(fromMinIO.Fields["plan"]) != "sealed" {
		t.Fatalf("read back through MinIO's API: %+v, %v", fromMinIO, err)
	}

	second := *m
	second.WrappedKey = "vault:v1:overwrite"
	if _, err := manifests.CreateManifest(ctx, &second); !errors.Is(err, object.ErrExists) {
		t.Fatalf("second create: err = %v, want ErrExists", err)
	}
	got, gotETag, err := manifests.ReadManifest(ctx, ref)
	if err != nil || got.WrappedKey != "vault:v1:first" || gotETag != etag {
		t.Fatalf("after refused overwrite: %+v %s, %v", got, gotETag, err)
	}
	if err := manifests.LinkParticipant(ctx, m.Clinic, other, home, m.Record); err != nil {
		t.Fatal(err)
	}
	viaLink, linkETag, err := manifests.ReadManifest(ctx, records.Ref{Clinic: m.Clinic, Client: other, Record: m.Record})
	if err != nil || viaLink.WrappedKey != "vault:v1:first" || linkETag != etag {
		t.Fatalf("through the link: %+v %s, %v", viaLink, linkETag, err)
	}
	for _, client := range []string{home, other} {
		if ids, err := manifests.ListClientRecords(ctx, m.Clinic, client, "", 0); err != nil || len(ids) != 1 || ids[0] != m.Record {
			t.Fatalf("%s's records: %v, %v", client, ids, err)
		}
	}
	if _, _, err := manifests.ReadManifest(ctx, records.Ref{Clinic: m.Clinic, Client: newID(), Record: m.Record}); !errors.Is(err, object.ErrNotFound) {
		t.Fatalf("through a client with no link: err = %v, want ErrNotFound", err)
	}
	if _, err := manifests.ReplaceManifest(ctx, &second, etag); err != nil {
		t.Fatalf("replace with the current ETag: %v", err)
	}
	if _, err := manifests.ReplaceManifest(ctx, m, etag); !errors.Is(err, object.ErrChanged) {
		t.Fatalf("replace with a stale ETag: err = %v, want ErrChanged", err)
	}
	if _, _, err := manifests.ReadManifest(ctx, records.Ref{Clinic: m.Clinic, Client: home, Record: newID()}); !errors.Is(err, object.ErrNotFound) {
		t.Fatalf("read missing: err = %v, want ErrNotFound", err)
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

// Fifty writers create the same record at once: exactly one succeeds, the other 49 are told
// the record exists, and the stored manifest is the winner's.
func TestConcurrentCreatorsOneWins(t *testing.T) {
	ctx := context.Background()
	store, _ := newStore(t, shared.minio)
	clinic, client, record := newID(), newID(), newID()
	const writers = 50
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			_, errs[i] = records.NewBucket(store).CreateManifest(ctx, &records.Manifest{Clinic: clinic, Record: record, Kind: "record",
				Category: "progress_note", Participants: []string{client}, Author: "dr-lee", Status: "draft", TransitKey: "k",
				WrappedKey: fmt.Sprintf("vault:v1:writer%d", i), Meta: []byte("sealed"), Fields: map[string][]byte{}})
		})
	}
	wg.Wait()
	winner, exists := -1, 0
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("writers %d and %d both created the record", winner, i)
			}
			winner = i
		case errors.Is(err, object.ErrExists):
			exists++
		default:
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	got, _, err := records.NewBucket(store).ReadManifest(ctx, records.Ref{Clinic: clinic, Client: client, Record: record})
	if winner < 0 || exists != writers-1 || err != nil || got.WrappedKey != fmt.Sprintf("vault:v1:writer%d", winner) {
		t.Fatalf("winner %d, %d told it exists, stored %+v, %v", winner, exists, got, err)
	}
}
