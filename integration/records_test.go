//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/crypto"
	"github.com/recordvault/recordvault/records"
)

// recordsEnv is a records service on the shared Vault and a fresh bucket of the shared MinIO,
// for one provisioned clinic.
type recordsEnv struct {
	svc    *records.Service
	clinic string
	bucket string
	raw    *minio.Client
}

func newRecordsEnv(t *testing.T) *recordsEnv {
	t.Helper()
	ctx := context.Background()
	store, bucket := newStore(t, shared.minio)
	vc := vaultClient(t, shared.vault)
	svc := records.New(vc, records.NewBucket(store), nil)
	e := &recordsEnv{svc: svc, clinic: newID(), bucket: bucket}
	if err := vc.ProvisionClinic(ctx, e.clinic); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.raw, err = shared.minio.Client(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// bucketObjects returns every object of the bucket with its content and user metadata.
func bucketObjects(t *testing.T, raw *minio.Client, bucket string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	for info := range raw.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, WithMetadata: true}) {
		if info.Err != nil {
			t.Fatal(info.Err)
		}
		obj, err := raw.GetObject(ctx, bucket, info.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(obj)
		if err != nil {
			t.Fatal(err)
		}
		var meta strings.Builder
		for k, v := range info.UserMetadata {
			meta.WriteString(k + "=" + v + "\n")
		}
		out[info.Key] = append(b, meta.String()...)
	}
	return out
}

func (e *recordsEnv) etags(t *testing.T, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for info := range e.raw.ListObjects(context.Background(), e.bucket, minio.ListObjectsOptions{Recursive: true, Prefix: prefix}) {
		out[info.Key] = info.ETag
	}
	return out
}

// createRecord stores a signed record of one client by dr-lee.
func (e *recordsEnv) createRecord(ctx context.Context, clinic, client string, category recordvault.Category, fields map[string][]byte, attachments ...[]byte) (string, error) {
	rec := records.NewRecord{Clinic: clinic, Category: category, Participants: []string{client}, Author: "dr-lee", Sign: true, Fields: fields}
	for _, a := range attachments {
		rec.Attachments = append(rec.Attachments, records.NewAttachment{Body: bytes.NewReader(a), Size: int64(len(a))})
	}
	d, err := e.svc.Create(ctx, rec)
	if err != nil {
		return "", err
	}
	return d.ID, nil
}

// readRecord loads and decrypts a record of e's clinic.
func (e *recordsEnv) readRecord(ctx context.Context, client, id string, fields []string) (*records.Document, map[string][]byte, error) {
	d, err := e.svc.Load(ctx, e.clinic, client, id)
	if err != nil {
		return nil, nil, err
	}
	f, err := e.svc.Read(ctx, d, fields)
	return d, f, err
}

// openAttachment loads a record of e's clinic and opens one of its attachments.
func (e *recordsEnv) openAttachment(ctx context.Context, client, id, blob string, off, n int64) (*records.Attachment, error) {
	d, err := e.svc.Load(ctx, e.clinic, client, id)
	if err != nil {
		return nil, err
	}
	return e.svc.OpenAttachment(ctx, d, blob, off, n)
}

func manifestKey(clinic, client, id string) string {
	return "c/" + clinic + "/p/" + client + "/r/" + id
}

func readAll(t *testing.T, a *records.Attachment, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := io.ReadAll(a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestRecordRoundTripEveryCategory(t *testing.T) {
	ctx := context.Background()
	e := newRecordsEnv(t)
	client := newID()
	attachment := randomBytes(2*crypto.ChunkSize + 123)
	var ids []string
	for _, category := range recordvault.Categories {
		fields := map[string][]byte{"summary": []byte("summary of " + string(category)), "plan": []byte("plan"), "empty": {}}
		id, err := e.createRecord(ctx, e.clinic, client, category, fields, attachment)
		if err != nil {
			t.Fatalf("%s: create: %v", category, err)
		}
		ids = append(ids, id)
		rec, got, err := e.readRecord(ctx, client, id, nil)
		if err != nil || rec.Category != category || !maps.EqualFunc(got, fields, bytes.Equal) {
			t.Fatalf("%s: read: %+v, %v", category, rec, err)
		}
		_, sub, err := e.readRecord(ctx, client, id, []string{"plan"})
		if err != nil || len(sub) != 1 || string(sub["plan"]) != "plan" {
			t.Fatalf("%s: read subset: %q, %v", category, sub, err)
		}
		if _, _, err := e.readRecord(ctx, client, id, []string{"nonexistent"}); recordvault.ErrorCode(err) != recordvault.EINVALID {
			t.Fatalf("%s: unknown field: %v", category, err)
		}
		blob := rec.Attachments[0].ID
		a, err := e.openAttachment(ctx, client, id, blob, 0, -1)
		if got := readAll(t, a, err); !bytes.Equal(got, attachment) {
			t.Fatalf("%s: whole attachment differs (%d bytes)", category, len(got))
		}
		for _, r := range [][2]int64{{0, 1}, {crypto.ChunkSize - 3, 10}, {crypto.ChunkSize, crypto.ChunkSize}, {2 * crypto.ChunkSize, 123}, {5, -1}} {
			a, err := e.openAttachment(ctx, client, id, blob, r[0], r[1])
			got := readAll(t, a, err)
			want := attachment[r[0]:]
			if r[1] >= 0 {
				want = want[:r[1]]
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: range %v: %d bytes differ", category, r, len(got))
			}
		}
	}
	listed, err := e.svc.List(ctx, e.clinic, client, "", 0)
	if err != nil || !slices.Equal(slices.Sorted(slices.Values(listed)), slices.Sorted(slices.Values(ids))) {
		t.Fatalf("list = %v, %v; want %v", listed, err, ids)
	}
	if other, err := e.svc.List(ctx, e.clinic, newID(), "", 0); err != nil || len(other) != 0 {
		t.Fatalf("another client's list = %v, %v", other, err)
	}
	page, err := e.svc.List(ctx, e.clinic, client, "", 2)
	if err != nil || len(page) != 2 {
		t.Fatalf("first page = %v, %v", page, err)
	}
	if rest, err := e.svc.List(ctx, e.clinic, client, page[1], 10); err != nil || !slices.Equal(append(page, rest...), slices.Sorted(slices.Values(ids))) {
		t.Fatalf("pages %v then %v, %v; want %v", page, rest, err, ids)
	}
	if _, _, err := e.readRecord(ctx, client, newID(), nil); recordvault.ErrorCode(err) != recordvault.ENOTFOUND {
		t.Fatalf("missing record: %v", err)
	}
}

// Records of different categories are wrapped by different Transit keys: through Vault's own
// API, a record's wrapped key opens under its own category key and under no other.
func TestCategoriesUseDifferentKeys(t *testing.T) {
	ctx := context.Background()
	e := newRecordsEnv(t)
	client := newID()
	api, err := shared.vault.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	manifests := map[recordvault.Category]*records.Manifest{}
	for _, category := range recordvault.Categories {
		id, err := e.createRecord(ctx, e.clinic, client, category, map[string][]byte{"x": []byte("y")})
		if err != nil {
			t.Fatal(err)
		}
		obj, err := e.raw.GetObject(ctx, e.bucket, manifestKey(e.clinic, client, id), minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if manifests[category], err = records.ParseManifest(obj); err != nil {
			t.Fatal(err)
		}
	}
	for cat, m := range manifests {
		for keyCat := range manifests {
			keyCtx := base64.StdEncoding.EncodeToString(crypto.DataKeyContext(m.Clinic, m.Category, m.Record))
			_, err := api.Logical().WriteWithContext(ctx, "transit/decrypt/"+records.KeyName(e.clinic, keyCat),
				map[string]any{"ciphertext": m.WrappedKey, "context": keyCtx})
			if (err == nil) != (cat == keyCat) {
				t.Errorf("%s's wrapped key under the %s key: err = %v", cat, keyCat, err)
			}
		}
	}
}

const canary = "CANARY-d41d8cd9-PHI-Jane-Q-Public-1970-01-01"

// A canary written into every field and every attachment of records of every category appears
// in no byte, key or metadata of the bucket, in plain, hex or base64 form; it does appear in
// what the service decrypts.
func TestCanaryAppearsNowhereInTheBucket(t *testing.T) {
	ctx := context.Background()
	e := newRecordsEnv(t)
	client := newID()
	body := bytes.Repeat([]byte(canary+"\n"), 5000) // spans several chunks
	for _, category := range recordvault.Categories {
		id, err := e.createRecord(ctx, e.clinic, client, category,
			map[string][]byte{"plan": []byte(canary), "progress": []byte("note " + canary + " end")}, body)
		if err != nil {
			t.Fatal(err)
		}
		_, fields, err := e.readRecord(ctx, client, id, nil)
		if err != nil || string(fields["plan"]) != canary {
			t.Fatalf("positive control: %q, %v", fields, err)
		}
	}
	objects := bucketObjects(t, e.raw, e.bucket)
	if len(objects) != 8 {
		t.Fatalf("bucket holds %d objects, want 4 manifests and 4 attachments", len(objects))
	}
	for key, content := range objects {
		if form := canaryIn([]byte(key), content); form != "" {
			t.Errorf("canary form %q found in object %s", form, key)
		}
	}
}

// canaryIn returns the first form of the canary (plain, lowercase, hex, base64 or a base64
// prefix) found in any of bs, or "".
func canaryIn(bs ...[]byte) string {
	forms := []string{canary, strings.ToLower(canary), hex.EncodeToString([]byte(canary)),
		base64.StdEncoding.EncodeToString([]byte(canary)), base64.StdEncoding.EncodeToString([]byte(canary))[:20]}
	for _, b := range bs {
		for _, form := range forms {
			if bytes.Contains(b, []byte(form)) {
				return form
			}
		}
	}
	return ""
}

// A clinic's documents listed a page at a time, whatever the page's size, are every document
// once (records under each client, then children under each record), and a listing resumed
// from any page's cursor goes on where it stopped.
func TestClinicDocumentsInPages(t *testing.T) {
	ctx := context.Background()
	store, _ := newStore(t, shared.minio)
	vc := vaultClient(t, shared.vault)
	clinic := newID()
	if err := vc.ProvisionClinic(ctx, clinic); err != nil {
		t.Fatal(err)
	}
	svc := records.New(vc, records.NewBucket(store), nil)
	for range 3 {
		client := newID()
		for range 2 {
			doc, err := svc.Create(ctx, records.NewRecord{Clinic: clinic, Participants: []string{client}, Category: recordvault.ProgressNote,
				Author: "dr-lee", Fields: map[string][]byte{"plan": []byte("a plan")}, Sign: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.AddChild(ctx, doc, records.NewChild{ID: newID(), Kind: recordvault.AddendumDocument, Author: "dr-lee",
				Status: recordvault.StatusSigned, Fields: map[string][]byte{"text": []byte("late entry")}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	bucket := records.NewBucket(store)
	list := func(limit int) []records.Ref {
		var all []records.Ref
		after := ""
		for pages := 0; ; pages++ {
			refs, next, err := bucket.ListClinicDocuments(ctx, clinic, after, limit)
			if err != nil || pages > 20 {
				t.Fatalf("limit %d, page %d: %v", limit, pages, err)
			}
			all = append(all, refs...)
			if next == "" {
				return all
			}
			after = next
		}
	}
	want := list(1000)
	if len(want) != 12 {
		t.Fatalf("%d documents, want 6 records and 6 addenda", len(want))
	}
	for _, limit := range []int{1, 2, 5} {
		if got := list(limit); !slices.Equal(got, want) {
			t.Errorf("in pages of %d: %v\nwant %v", limit, got, want)
		}
	}
	if _, _, err := bucket.ListClinicDocuments(ctx, clinic, "x/../y", 10); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Errorf("a forged cursor: %v", err)
	}
}

// Rotating a category key rewraps every manifest of that category and rewrites no attachment
// (same ETags); old and new records read back. After retiring the old version, a record whose
// manifest missed the rewrap fails with a clear error while the others still read.
func TestRotationRewrapsManifestsOnly(t *testing.T) {
	ctx := context.Background()
	e := newRecordsEnv(t)
	client := newID()
	att := randomBytes(crypto.ChunkSize + 7)
	put := func(category recordvault.Category) string {
		id, err := e.createRecord(ctx, e.clinic, client, category, map[string][]byte{"plan": []byte("plan " + category)}, att)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	rotated := []string{put(recordvault.Evaluation), put(recordvault.Evaluation), put(recordvault.Evaluation)}
	other := put(recordvault.ProgressNote)
	manifestKey := func(id string) string { return manifestKey(e.clinic, client, id) }
	missed, err := e.raw.GetObject(ctx, e.bucket, manifestKey(rotated[2]), minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	missedManifest, err := io.ReadAll(missed)
	if err != nil {
		t.Fatal(err)
	}
	blobsBefore := e.etags(t, "c/"+e.clinic+"/b/")

	n, err := e.svc.RotateCategory(ctx, e.clinic, recordvault.Evaluation)
	if err != nil || n != len(rotated) {
		t.Fatalf("rotate: rewrapped %d, %v; want %d", n, err, len(rotated))
	}
	if blobsAfter := e.etags(t, "c/"+e.clinic+"/b/"); !maps.Equal(blobsBefore, blobsAfter) || len(blobsAfter) != 4 {
		t.Fatalf("attachments rewritten: before %v after %v", blobsBefore, blobsAfter)
	}
	for _, id := range append(rotated, other) {
		m := e.manifest(t, manifestKey(id))
		want := "vault:v2:"
		if id == other {
			want = "vault:v1:"
		}
		if !strings.HasPrefix(m.WrappedKey, want) {
			t.Errorf("record %s wrapped as %.10s, want %s", id, m.WrappedKey, want)
		}
		_, fields, err := e.readRecord(ctx, client, id, nil)
		if err != nil || !strings.HasPrefix(string(fields["plan"]), "plan ") {
			t.Fatalf("after rotation: %q, %v", fields, err)
		}
	}
	newer := put(recordvault.Evaluation)
	if m := e.manifest(t, manifestKey(newer)); !strings.HasPrefix(m.WrappedKey, "vault:v2:") {
		t.Fatalf("new record wrapped as %.10s", m.WrappedKey)
	}

	// A manifest the rewrap missed (its v1 form put back), then version 1 retired.
	if _, err := e.raw.PutObject(ctx, e.bucket, manifestKey(rotated[2]), bytes.NewReader(missedManifest), int64(len(missedManifest)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RetireKeyVersions(ctx, e.clinic, recordvault.Evaluation, 2); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.readRecord(ctx, client, rotated[2], nil)
	if !errors.Is(err, records.ErrKeyRetired) {
		t.Fatalf("missed record after retirement: err = %v, want ErrKeyRetired", err)
	}
	t.Logf("missed record: %v", err)
	for _, id := range []string{rotated[0], rotated[1], newer} {
		if _, _, err := e.readRecord(ctx, client, id, nil); err != nil {
			t.Fatalf("rewrapped record after retirement: %v", err)
		}
	}
}

func (e *recordsEnv) manifest(t *testing.T, key string) *records.Manifest {
	t.Helper()
	m, err := records.ParseManifest(bytes.NewReader(e.get(t, key)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A record shared by two clients puts its home into the other's index of homes; with the
// index gone from the bucket, recordvault-reindex restores it from the records, and a second
// run finds it whole.
func TestReindexCommand(t *testing.T) {
	ctx := context.Background()
	e := newRecordsEnv(t)
	home, other := newID(), newID()
	if _, err := e.svc.Create(ctx, records.NewRecord{Clinic: e.clinic, Category: recordvault.ProgressNote, Participants: []string{home, other},
		Author: "dr-lee", Fields: map[string][]byte{"plan": []byte("group session")}}); err != nil {
		t.Fatal(err)
	}
	marker := "c/" + e.clinic + "/p/" + other + "/h/" + home
	if homes, err := e.svc.Homes(ctx, e.clinic, other); err != nil || !slices.Equal(homes, []string{home}) {
		t.Fatalf("the index as written: %v %v", homes, err)
	}
	if err := e.raw.RemoveObject(ctx, e.bucket, marker, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "recordvault-reindex")
	build := exec.Command("go", "build", "-o", bin, "./cmd/recordvault-reindex")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	endpoint, err := shared.minio.Endpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		cmd := exec.Command(bin, "-clinic", e.clinic)
		cmd.Env = []string{"RECORDVAULT_S3_ENDPOINT=" + endpoint, "RECORDVAULT_S3_ACCESS_KEY=" + shared.minio.User,
			"RECORDVAULT_S3_SECRET_KEY=" + shared.minio.Password, "RECORDVAULT_S3_BUCKET=" + e.bucket}
		out, err := cmd.Output()
		if err != nil || strings.TrimSpace(string(out)) != `{"clinic":"`+e.clinic+`","links":1}` {
			t.Fatalf("reindex: %q %v", out, err)
		}
		if homes, err := e.svc.Homes(ctx, e.clinic, other); err != nil || !slices.Equal(homes, []string{home}) {
			t.Fatalf("the index rebuilt: %v %v", homes, err)
		}
	}
}
