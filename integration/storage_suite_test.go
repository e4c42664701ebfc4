//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/records"
	"github.com/recordvault/recordvault/rvtest"
	"github.com/recordvault/recordvault/storage"
	"github.com/recordvault/recordvault/storage/object"
	"github.com/recordvault/recordvault/vault/vaulttest"
)

// TestStorageSuite runs what recordvault asks of S3 on each S3 server it is tested on: MinIO,
// and SeaweedFS, an independent implementation ("any S3"). Conditional creates and replaces,
// decided once under races; listings one level deep, paged; streams in parts, created only if
// absent when they begin, read whole and by range; unfinished uploads aborted; and audit blocks under Object
// Lock, hidden by a delete marker and restored. The service refuses at start a server that
// ignores conditional writes (storage.Store.Ready, TestReadyRefusesStorageWithoutConditionalWrites);
// each server here passes that check first.
func TestStorageSuite(t *testing.T) {
	for _, srv := range s3Servers(t) {
		t.Run(srv.name, func(t *testing.T) {
			t.Run("ready", func(t *testing.T) { storageReady(t, srv.s3) })
			t.Run("write read back", func(t *testing.T) { storageWriteReadBack(t, srv.s3) })
			t.Run("concurrent creators", func(t *testing.T) { storageConcurrentCreators(t, srv) })
			t.Run("concurrent replacers", func(t *testing.T) { storageConcurrentReplacers(t, srv) })
			t.Run("listing", func(t *testing.T) { storageListing(t, srv.s3) })
			t.Run("streams", func(t *testing.T) { storageStreams(t, srv.s3) })
			t.Run("unfinished uploads", func(t *testing.T) { storageUnfinishedUploads(t, srv.s3) })
			t.Run("audit retention", func(t *testing.T) { storageAuditRetention(t, srv.s3) })
		})
	}
}

// TestServiceOnSeaweedFS: the whole service over HTTP on the second S3 server: an evaluation's
// 12 MiB document streamed up in parts and back whole and by range; the canary nowhere in the
// bucket; a note released to its client and its link redeemed by fifty at once: one copy (the
// others refused, or answered 503 where SeaweedFS's lock waits pass the stall limit); the
// audit trail intact, the same events as the plain copy.
func TestServiceOnSeaweedFS(t *testing.T) {
	sw, err := sharedSeaweedFS()
	if err != nil {
		t.Fatal(err)
	}
	e := newDownloadEnvOn(t, sw)
	base := "/v1/clients/" + e.a + "/records"
	var rec app.RecordView
	e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", base, map[string]any{"category": "evaluation",
		"fields": map[string]any{"date_of_service": "2026-11-02", "summary": "WAIS-IV " + canary}})
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte(canary+"\n"), 12<<20/(len(canary)+1))...)
	var att app.AttachmentView
	e.must(t, http.StatusCreated, &att, "dr-lee", "POST", base+"/"+rec.ID+"/attachments", pdf, "Content-Type", "application/pdf")
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", base+"/"+rec.ID+"/sign", nil)
	path := base + "/" + rec.ID + "/attachments/" + att.ID
	if status, _, whole := e.call(t, "dr-lee", "GET", path, nil); status != http.StatusOK || !bytes.Equal(whole, pdf) {
		t.Fatalf("the document back: %d, %d bytes of %d", status, len(whole), len(pdf))
	}
	if status, _, part := e.call(t, "dr-lee", "GET", path, nil, "Range", "bytes=6000000-6000099"); status != http.StatusPartialContent ||
		!bytes.Equal(part, pdf[6000000:6000100]) {
		t.Fatalf("a range of it: %d, %d bytes", status, len(part))
	}
	objects := bucketObjects(t, e.raw, e.bucket)
	for key, content := range objects {
		if form := canaryIn([]byte(key), content); form != "" {
			t.Errorf("canary form %q found in object %s", form, key)
		}
	}

	tok := e.token(t, "dr-lee", e.a, e.release)
	const n = 50
	statuses, bodies := make([]int, n), make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { statuses[i], _, bodies[i] = e.redeem(t, "pat", tok) })
	}
	wg.Wait()
	counts := map[int]int{}
	var c app.ReleasedCopy
	for i, s := range statuses {
		counts[s]++
		if s == http.StatusOK && (json.Unmarshal(bodies[i], &c) != nil || c.Document != e.note || string(c.Fields["plan"]) != `"weekly CBT"`) {
			t.Fatalf("the copy: %s", bodies[i])
		}
	}
	if counts[http.StatusOK] != 1 || counts[http.StatusUnauthorized]+counts[http.StatusServiceUnavailable] != n-1 {
		t.Fatalf("50 redemptions of one token: %v", counts)
	}

	var check app.TrailCheck
	unavailable := counts[http.StatusServiceUnavailable]
	eventually(t, 10*time.Second, "the trail checked once storage answers", func() bool {
		status, _, b := e.call(t, "admin", "GET", "/v1/audit/verify", nil)
		if status == http.StatusServiceUnavailable {
			unavailable++ // a check is audited too
		}
		return status == http.StatusOK && json.Unmarshal(b, &check) == nil
	})
	// The plain copy is written before the chain: a request answered 503 because the chain
	// could not record it (the breaker after a lock wait) is in the copy only.
	copyEvents, chained := plainEvents(t, e.auditLog.String()), chainEvents(t, e.apiEnv)
	if !check.Intact || check.Verified.Events != len(chained) || check.Verified.Blocks == 0 ||
		!inOrderWithin(chained, copyEvents) || len(copyEvents)-len(chained) > unavailable {
		t.Fatalf("verify: %+v; %d events chained, %d in the plain copy, %d answers 503", check, len(chained), len(copyEvents), unavailable)
	}
	t.Logf("on SeaweedFS: %d objects; 50 redemptions %v; %d audit blocks, %d events", len(objects), counts, check.Verified.Blocks, check.Verified.Events)
}

// inOrderWithin reports whether every event of chained is in plain, in the same order.
func inOrderWithin(chained, plain []recordvault.AuditEvent) bool {
	i := 0
	for _, ev := range plain {
		if i < len(chained) && equalEvents(chained[i:i+1], []recordvault.AuditEvent{ev}) {
			i++
		}
	}
	return i == len(chained)
}

// storageServer is an S3 server the suite runs on. lockWaits: it decides conditional writes to
// one key behind a lock that waiters retry about once a second (SeaweedFS), so among many
// writers of one key some wait past the service's stall limit and are answered unavailable
// (503, try again), never a second winner; MinIO answers every one at once.
type storageServer struct {
	name      string
	s3        rvtest.S3
	lockWaits bool
}

// s3Servers are the S3 servers the suite runs on: the shared MinIO and the shared SeaweedFS.
func s3Servers(t *testing.T) []storageServer {
	t.Helper()
	sw, err := sharedSeaweedFS()
	if err != nil {
		t.Fatal(err)
	}
	return []storageServer{{name: "minio", s3: shared.minio}, {name: "seaweedfs", s3: sw, lockWaits: true}}
}

// oneWinner judges writers racing on one key, errs their answers: each told lost (the
// condition failed) or, on a server with lock waits, unavailable; at most one answered
// success, and stored is the index of the writer whose bytes the key holds, which must be that
// one (or, when none was answered, one answered unavailable: its answer was lost, not its
// write). It returns how many were answered unavailable.
func oneWinner(t *testing.T, srv storageServer, errs []error, lost error, stored int) (unavailable int) {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("writers %d and %d both won", winner, i)
			}
			winner = i
		case errors.Is(err, lost):
		case srv.lockWaits && errors.Is(err, recordvault.ErrUnavailable):
			unavailable++
		default:
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	if stored < 0 || stored >= len(errs) || (stored != winner && (winner >= 0 || !errors.Is(errs[stored], recordvault.ErrUnavailable))) {
		t.Fatalf("the key holds writer %d's bytes; writer %d was answered success", stored, winner)
	}
	t.Logf("%d writers: one won, %d told it lost, %d answered unavailable", len(errs), len(errs)-1-unavailable, unavailable)
	return unavailable
}

// storageReady: the store is ready on a fresh bucket, which includes the probe that the
// server refuses a second create and a stale replace; the probe leaves nothing behind.
func storageReady(t *testing.T, srv rvtest.S3) {
	ctx := context.Background()
	store, bucket := newStore(t, srv)
	if err := store.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if keys := bucketKeys(t, srv, bucket, ""); len(keys) != 0 {
		t.Fatalf("the probe left %v", keys)
	}
}

// storageConcurrentReplacers: twenty writers replace one object naming the same ETag at once:
// one wins, the others are told it changed (oneWinner), and the object holds the winner's
// bytes. Every update of the service's state (a token's use, a release's status, an index)
// rests on this.
func storageConcurrentReplacers(t *testing.T, srv storageServer) {
	ctx := context.Background()
	store, _ := newStore(t, srv.s3)
	key := "c/" + newID() + "/s/state"
	etag, err := store.Create(ctx, key, []byte("writer -1"))
	if err != nil {
		t.Fatal(err)
	}
	const writers = 20
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() { _, errs[i] = store.Replace(ctx, key, fmt.Appendf(nil, "writer %d", i), etag) })
	}
	wg.Wait()
	stored := -1
	// After a race on a server with lock waits, the stall breaker a long wait opened stays
	// open for the stall limit (3 s): read once it closes.
	var got []byte
	eventually(t, 10*time.Second, "the object read after the race", func() bool {
		got, _, err = store.Read(ctx, key, 1<<10)
		return !errors.Is(err, recordvault.ErrUnavailable)
	})
	if err != nil {
		t.Fatal(err)
	} else if _, err := fmt.Sscanf(string(got), "writer %d", &stored); err != nil || stored < 0 {
		t.Fatalf("the object holds %q after the race", got)
	}
	oneWinner(t, srv, errs, object.ErrChanged, stored)
}

// storageListing: names one level under a prefix, objects as they are and deeper levels with a
// slash, in key order, paged by after and limit; reads are bounded and missing objects named so.
func storageListing(t *testing.T, srv rvtest.S3) {
	ctx := context.Background()
	store, _ := newStore(t, srv)
	prefix := "c/" + newID() + "/"
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("r%02d", i)
		if _, err := store.Create(ctx, prefix+name, []byte(name)); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	if _, err := store.Create(ctx, prefix+"z/deeper", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Create(ctx, prefix+"z/deepest", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got, err := store.List(ctx, prefix, "", 0); err != nil || !slices.Equal(got, append(slices.Clone(want), "z/")) {
		t.Fatalf("the whole listing: %v, %v", got, err)
	}
	var paged []string
	for after := ""; ; {
		page, err := store.List(ctx, prefix, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		paged, after = append(paged, page...), page[len(page)-1]
	}
	if !slices.Equal(paged, append(slices.Clone(want), "z/")) {
		t.Fatalf("in pages of 3: %v", paged)
	}
	if got, err := store.List(ctx, prefix+"z/", "", 0); err != nil || !slices.Equal(got, []string{"deeper", "deepest"}) {
		t.Fatalf("one level deeper: %v, %v", got, err)
	}
	if _, _, err := store.Read(ctx, prefix+"r00", 2); !errors.Is(err, object.ErrTooLarge) {
		t.Fatalf("a read past its bound: %v", err)
	}
	if _, _, err := store.Read(ctx, prefix+"absent", 10); !errors.Is(err, object.ErrNotFound) {
		t.Fatalf("a missing object: %v", err)
	}
	if err := store.Delete(ctx, prefix+"r00"); err != nil {
		t.Fatal(err)
	}
	if err := store.Delete(ctx, prefix+"r00"); err != nil {
		t.Fatalf("deleting what is gone: %v", err)
	}
}

// storageStreams: an attachment-sized object goes up in parts, and only if nothing is at its
// key when it begins (two streams racing to one key are decided by the caller's claim on it,
// storage.Store.CreateStream says why); it reads back whole and by a range across a part
// boundary.
func storageStreams(t *testing.T, srv rvtest.S3) {
	ctx := context.Background()
	store, _ := newStore(t, srv)
	const size = 12<<20 + 12345 // three parts
	body := make([]byte, size)
	rand.Read(body)
	key := "c/" + newID() + "/b/" + newID()
	if _, err := store.CreateStream(ctx, key, bytes.NewReader(body), size); err != nil {
		t.Fatal(err)
	}
	r, n, err := store.OpenStream(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || n != size || !bytes.Equal(got, body) {
		t.Fatalf("read back: %d bytes of %d (size %d), equal %t, %v", len(got), size, n, bytes.Equal(got, body), err)
	}
	r, err = store.OpenRange(ctx, key, 5<<20-100, 200)
	if err != nil {
		t.Fatal(err)
	}
	part, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(part, body[5<<20-100:5<<20+100]) {
		t.Fatalf("a range across parts: %d bytes, %v", len(part), err)
	}
	if _, err := store.CreateStream(ctx, key, bytes.NewReader(body), size); !errors.Is(err, object.ErrExists) {
		t.Fatalf("a second stream to the same key: %v", err)
	}
	if _, err := store.Create(ctx, key, []byte("small")); !errors.Is(err, object.ErrExists) {
		t.Fatalf("a small create over a stream: %v", err)
	}

}

// storageUnfinishedUploads: an upload begun and never completed (its writer killed) is no
// object; aborting it leaves nothing, the parts included.
func storageUnfinishedUploads(t *testing.T, srv rvtest.S3) {
	ctx := context.Background()
	store, bucket := newStore(t, srv)
	raw, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := "c/" + newID() + "/b/" + newID()
	core := minio.Core{Client: raw}
	id, err := core.NewMultipartUpload(ctx, bucket, key, minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	part := bytes.Repeat([]byte("p"), 5<<20)
	if _, err := core.PutObjectPart(ctx, bucket, key, id, 1, bytes.NewReader(part), int64(len(part)), minio.PutObjectPartOptions{}); err != nil {
		t.Fatal(err)
	}
	unfinished := func() int {
		n := 0
		for u := range raw.ListIncompleteUploads(ctx, bucket, key, false) {
			if u.Err != nil {
				t.Fatal(u.Err)
			}
			if u.Key == key {
				n++
			}
		}
		return n
	}
	if n := unfinished(); n != 1 {
		t.Fatalf("%d unfinished uploads listed, want 1", n)
	}
	if _, _, err := store.Read(ctx, key, 1<<30); !errors.Is(err, object.ErrNotFound) {
		t.Fatalf("an unfinished upload read as an object: %v", err)
	}
	if err := store.AbortUnfinished(ctx, key); err != nil {
		t.Fatal(err)
	}
	if n := unfinished(); n != 0 {
		t.Fatalf("%d unfinished uploads after the abort", n)
	}
	if err := store.AbortUnfinished(ctx, key); err != nil {
		t.Fatalf("aborting when nothing is left: %v", err)
	}
}

// bucketKeys lists every key under prefix in bucket, through the server's own API.
func bucketKeys(t *testing.T, srv rvtest.S3, bucket, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	raw, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for obj := range raw.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	return keys
}

// storageWriteReadBack: our store writes a manifest; the server's own API reads back exactly
// the bytes of it. A second
// create of the same record is refused and leaves the first as it was; a replace with a stale
// ETag is refused too. A second participant's link reads the same manifest; a third client,
// named by no link, reads nothing.
func storageWriteReadBack(t *testing.T, srv rvtest.S3) {
	ctx := context.Background()
	store, bucket := newStore(t, srv)
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
	raw, err := srv.Client(ctx)
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
		t.Fatalf("read back through the server's API: %+v, %v", fromMinIO, err)
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

// storageConcurrentCreators: fifty writers create the same record at once: one wins, the
// others are told the record exists (oneWinner), and the stored manifest is the winner's.
func storageConcurrentCreators(t *testing.T, srv storageServer) {
	ctx := context.Background()
	store, _ := newStore(t, srv.s3)
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
	stored := -1
	var got *records.Manifest
	var err error
	eventually(t, 10*time.Second, "the manifest read after the race", func() bool { // storageConcurrentReplacers says why
		got, _, err = records.NewBucket(store).ReadManifest(ctx, records.Ref{Clinic: clinic, Client: client, Record: record})
		return !errors.Is(err, recordvault.ErrUnavailable)
	})
	if err != nil {
		t.Fatal(err)
	} else if _, err := fmt.Sscanf(got.WrappedKey, "vault:v1:writer%d", &stored); err != nil {
		t.Fatalf("the manifest holds %q after the race", got.WrappedKey)
	}
	oneWinner(t, srv, errs, object.ErrExists, stored)
}

// storageAuditRetention: with audit retention on, blocks and losses are written under Object
// Lock in compliance mode: no one can delete or overwrite the stored bytes, deleting the key
// only hides them behind a delete marker, and removing the marker brings them back. A store
// asked to retain over a bucket without Object Lock is not ready.
func storageAuditRetention(t *testing.T, srv rvtest.S3) {
	ctx := context.Background()
	endpoint, err := srv.Endpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	open := func(bucket string) *storage.Store {
		cfg := storage.Config{Endpoint: endpoint, Bucket: bucket, AuditRetention: time.Hour}
		cfg.AccessKey, cfg.SecretKey = srv.Credentials()
		s, err := storage.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	bucket, clinic := "t-"+newID(), newID()
	store := open(bucket)
	blocks := audit.NewBucket(store)
	if err := store.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if err := blocks.CreateAuditBlock(ctx, clinic, 0, []byte(`{"block":0}`)); err != nil {
		t.Fatal(err)
	}
	if err := blocks.CreateAuditBlock(ctx, clinic, 0, []byte(`{"block":"another replica's"}`)); !errors.Is(err, object.ErrExists) {
		t.Fatalf("a second block 0: %v", err) // replicas still decide races by the conditional create
	}
	if err := blocks.CreateAuditLoss(ctx, clinic, 1, 2, []byte(`{"loss":1}`)); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{audit.BlockKey(clinic, 0), audit.LossKey(clinic, 1, 2)} {
		mode, until, err := raw.GetObjectRetention(ctx, bucket, key, "")
		if err != nil || mode == nil || *mode != minio.Compliance || until.Before(time.Now().Add(55*time.Minute)) {
			t.Fatalf("%s: retention %v until %v, %v", key, mode, until, err)
		}
	}
	key := audit.BlockKey(clinic, 0)
	info, err := raw.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: info.VersionID}); err == nil {
		t.Fatal("a locked block's bytes were deleted")
	}
	if _, err := raw.PutObject(ctx, bucket, key, bytes.NewReader([]byte("forged")), 6, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err) // a new version on top; the locked one stays
	}
	if err := raw.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := blocks.ReadAuditBlock(ctx, clinic, 0); !errors.Is(err, object.ErrNotFound) {
		t.Fatalf("behind a delete marker: %v", err)
	}
	if versions, err := blocks.ReadAuditBlockVersions(ctx, clinic, 0); err != nil || len(versions) != 2 ||
		string(versions[0]) != "forged" || string(versions[1]) != `{"block":0}` {
		t.Fatalf("the stored versions, newest first: %q, %v", versions, err)
	}
	// Restoring: remove what was put on top of the genuine version, newest first.
	for o := range raw.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if o.VersionID != info.VersionID {
			if err := raw.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: o.VersionID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, err := blocks.ReadAuditBlock(ctx, clinic, 0); err != nil || string(got) != `{"block":0}` {
		t.Fatalf("restored: %q, %v", got, err)
	}

	// A chain in that bucket with a block hidden: readers read its genuine version and go on;
	// a check says it can be restored.
	other := newID()
	chain := audit.NewChain(blocks, vaulttest.Keyring{}, slog.New(slog.DiscardHandler), nil)
	for i := range 5 {
		if err := chain.Record(ctx, recordvault.AuditEvent{Actor: fmt.Sprintf("dr-%d", i), Clinic: other, Action: "read_record", Allowed: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.RemoveObject(ctx, bucket, audit.BlockKey(other, 2), minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	reader := audit.NewChain(blocks, vaulttest.Keyring{}, slog.New(slog.DiscardHandler), nil)
	var actors []string
	if h, err := reader.Scan(ctx, other, audit.Head{}, func(e recordvault.AuditEvent) error { actors = append(actors, e.Actor); return nil }); err != nil ||
		h.Blocks != 5 || len(actors) != 5 || actors[2] != "dr-2" {
		t.Fatalf("reading past a hidden block: %+v, %v, %v", h, actors, err)
	}
	if _, err := reader.Verify(ctx, other, nil); err == nil || !strings.HasSuffix(err.Error(), "block 2 is missing; its genuine version is still stored: restore it") {
		t.Fatalf("checking it: %v", err)
	}
	// An operator's restore (with the bucket's own credentials) puts it back, and a forged
	// version put over block 3 too.
	if _, err := raw.PutObject(ctx, bucket, audit.BlockKey(other, 3), bytes.NewReader([]byte("forged")), 6, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	keys := func(ctx context.Context) (int, map[int]*ecdsa.PublicKey, error) {
		return vaulttest.Keyring{}.SigningKeys(ctx, audit.SigningKeyName(other))
	}
	if restored, h, err := audit.Restore(ctx, blocks, other, keys); err != nil || !slices.Equal(restored, []uint64{2, 3}) || h.Blocks != 5 {
		t.Fatalf("restore: %v, %+v, %v", restored, h, err)
	}
	if h, err := reader.Verify(ctx, other, nil); err != nil || h.Blocks != 5 {
		t.Fatalf("checked after the restore: %+v, %v", h, err)
	}
	// What the service may do without an operator: store a block again only where its key
	// reads as absent with nothing newer than the genuine version (stranded: TestReinstateStranded
	// makes one on the fake); never over a delete marker, which is an operator's to remove.
	four, err := blocks.ReadAuditBlock(ctx, other, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := blocks.ReinstateAuditBlock(ctx, other, 4, four); err != nil {
		t.Fatalf("reinstating a block that reads: %v", err)
	}
	if err := raw.RemoveObject(ctx, bucket, audit.BlockKey(other, 4), minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := blocks.ReinstateAuditBlock(ctx, other, 4, four); !errors.Is(err, object.ErrExists) {
		t.Fatalf("reinstating a block behind a delete marker: %v", err)
	}
	if _, err := blocks.ReadAuditBlock(ctx, other, 4); !errors.Is(err, object.ErrNotFound) {
		t.Fatalf("the block behind its delete marker after the refused reinstatement: %v", err)
	}
	if err := blocks.ReinstateAuditBlock(ctx, other, 9, four); !errors.Is(err, object.ErrNotFound) {
		t.Fatalf("reinstating a block never stored: %v", err)
	}

	_, plain := newStore(t, srv) // a bucket made without Object Lock
	unlocked := open(plain)
	if err := unlocked.Ready(ctx); err == nil || !strings.Contains(err.Error(), "Object Lock") {
		t.Fatalf("retention over a bucket without Object Lock: %v", err)
	}
}
