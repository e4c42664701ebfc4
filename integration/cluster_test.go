//go:build integration

package integration

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/rvtest"
	"github.com/recordvault/recordvault/sdk"
)

// startCluster starts the production topology in small (rvtest.Cluster) on the deployment's
// own least-privilege policies.
func startCluster(t *testing.T) *rvtest.Cluster {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files := filepath.Join(root, "deploy", "helm", "recordvault", "files")
	vaultPolicy, err := os.ReadFile(filepath.Join(files, "recordvault-policy.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	s3Policy, err := os.ReadFile(filepath.Join(files, "recordvault-s3-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	started := time.Now()
	c, err := rvtest.StartCluster(ctx, rvtest.ClusterConfig{VaultPolicy: string(vaultPolicy), S3Policy: string(s3Policy)})
	t.Cleanup(func() {
		if err := c.Terminate(context.Background()); err != nil {
			t.Logf("terminate: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster of 3 Vault, 4 MinIO, 2 replicas up in %v", time.Since(started).Round(time.Second))
	return c
}

// clusterClient is the Go client of replica i as user.
func clusterClient(t *testing.T, c *rvtest.Cluster, i int, user string) *sdk.ClientWithResponses {
	t.Helper()
	cl, err := c.Client(i, user)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// newClusterClient takes a client in through replica i, with dr-lee on her care team and her
// own login (client-<random>); it returns her id and login.
func newClusterClient(ctx context.Context, t *testing.T, c *rvtest.Cluster, i int) (string, string) {
	t.Helper()
	admin := clusterClient(t, c, i, "admin-kim")
	var in sdk.CreateClientJSONRequestBody
	in.Identity.FullName = "Client " + newID()
	if err := in.Identity.DateOfBirth.UnmarshalText([]byte("1985-02-03")); err != nil {
		t.Fatal(err)
	}
	in.CareTeam = &[]string{"dr-lee"}
	var created *sdk.CreateClientResponse
	untilAvailable(t, "take a client in", func() (err error) {
		created, err = admin.CreateClientWithResponse(ctx, in)
		return err
	})
	id, login := *created.JSON201.Id, "client-"+newID()
	untilAvailable(t, "link her login", func() error {
		_, err := admin.LinkAccountWithResponse(ctx, id, sdk.LinkAccountJSONRequestBody{Subject: login})
		return err
	})
	return id, login
}

// untilAvailable does a step of a test's setup again while the service answers 503, for up to
// 30 s, as a client honouring Retry-After would (a 503 did nothing: the trail records first):
// a dependency just given back may still refuse a write for a moment.
func untilAvailable(t *testing.T, what string, step func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := step()
		if errors.Is(err, sdk.ErrUnavailable) && time.Now().Before(deadline) {
			time.Sleep(time.Second)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return
	}
}

// TestCluster runs the production topology in small (3 Vault nodes in one Raft cluster, 4
// MinIO nodes in one erasure set, 2 service replicas on AppRole and a least-privilege S3
// user), first as it is, then through the fault suite, then with replicas killed mid-work, and
// last through the restore drill.
func TestCluster(t *testing.T) {
	c := startCluster(t)
	t.Cleanup(func() {
		keepReplicaLogs(c)
		if !t.Failed() {
			return
		}
		for _, r := range c.Replicas {
			logs, _ := r.Logs(context.Background())
			lines := strings.Split(strings.TrimSpace(logs), "\n")
			t.Logf("%s's last lines:\n%s", r.Name, strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	})
	if !t.Run("topology", func(t *testing.T) { clusterTopology(t, c) }) {
		t.FailNow()
	}
	if !t.Run("faults", func(t *testing.T) { clusterFaults(t, c) }) {
		t.FailNow()
	}
	if !t.Run("replica killed", func(t *testing.T) { clusterKills(t, c) }) {
		t.FailNow()
	}
	t.Run("restore drill", func(t *testing.T) { clusterRestore(t, c) })
}

// keepReplicaLogs writes each replica's whole log to the directory RECORDVAULT_CLUSTER_LOGS
// names, if it names one: at the end, and before the restore drill removes the first replicas.
func keepReplicaLogs(c *rvtest.Cluster) {
	dir := os.Getenv("RECORDVAULT_CLUSTER_LOGS")
	if dir == "" {
		return
	}
	for _, r := range c.Replicas {
		logs, _ := r.Logs(context.Background())
		_ = os.WriteFile(filepath.Join(dir, r.Name+".log"), []byte(logs), 0o600)
	}
}

// clusterTopology: a note written through replica A is read, released and downloaded through
// replica B; each replica's view (the audit trail, the clinic's state) is the bucket's, not
// its memory.
func clusterTopology(t *testing.T, c *rvtest.Cluster) {
	ctx := context.Background()
	client, login := newClusterClient(ctx, t, c, 0)
	canary := "canary-" + newID()
	sign := true
	note, err := clusterClient(t, c, 0, "dr-lee").CreateRecordWithResponse(ctx, client, sdk.NewRecord{Category: sdk.NewRecordCategoryProgressNote, Sign: &sign,
		Fields: map[string]any{"date_of_service": "2026-11-20", "start_time": "09:00", "stop_time": "09:50", "modality": "individual",
			"cpt_code": "90834", "diagnosis_codes": []string{"F41.1"}, "plan": canary}})
	if err != nil {
		t.Fatalf("write through replica A: %v", err)
	}
	id := *note.JSON201.Id

	lee := clusterClient(t, c, 1, "dr-lee")
	read, err := lee.GetRecordWithResponse(ctx, client, id)
	if err != nil || (*read.JSON200.Fields)["plan"] != canary {
		t.Fatalf("read through replica B: %+v, %v", read, err)
	}
	in := sdk.CreateReleaseJSONRequestBody{Document: id, Basis: sdk.ReleaseInputBasisRightOfAccess, Purpose: "her copy"}
	in.Recipient.Kind = sdk.ReleaseInputRecipientKindClient
	release, err := lee.CreateReleaseWithResponse(ctx, client, in)
	if err != nil || *release.JSON201.Status != "approved" {
		t.Fatalf("release through replica B: %+v, %v", release, err)
	}
	her := clusterClient(t, c, 1, login)
	token, err := her.IssueTokenWithResponse(ctx, client, *release.JSON201.Id)
	if err != nil {
		t.Fatalf("her download link, through replica B: %v", err)
	}
	format := sdk.Json
	copy, err := her.DownloadWithResponse(ctx, nil, sdk.DownloadJSONRequestBody{Token: *token.JSON201.Token, Format: &format})
	if err != nil || !bytes.Contains(copy.Body, []byte(canary)) {
		t.Fatalf("download through replica B: %v %s", err, copy.Body)
	}
	// The link is used once, whichever replica is asked again.
	if _, err := clusterClient(t, c, 0, login).DownloadWithResponse(ctx, nil, sdk.DownloadJSONRequestBody{Token: *token.JSON201.Token, Format: &format}); !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("the link again, through replica A: %v; want refused", err)
	}
	// One audit trail, written by both replicas, intact from either.
	for i := range c.Replicas {
		check, err := clusterClient(t, c, i, "admin-kim").VerifyAuditTrailWithResponse(ctx, nil)
		if err != nil || !check.JSON200.Intact {
			t.Fatalf("the audit trail through replica %d: %+v, %v", i, check, err)
		}
		t.Logf("replica %d: the trail verifies, %d events in %d blocks", i, *check.JSON200.Verified.Events, *check.JSON200.Verified.Blocks)
	}
	// The canary is nowhere in the bucket in plain text.
	s3, err := c.S3(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	objects := 0
	for o := range s3.ListObjects(ctx, c.Bucket(), minio.ListObjectsOptions{Recursive: true}) {
		objects++
		if bytes.Contains([]byte(o.Key), []byte(canary)) || bytes.Contains(getObject(t, s3, c.Bucket(), o.Key), []byte(canary)) {
			t.Fatalf("object %s holds the canary", o.Key)
		}
	}
	if objects == 0 {
		t.Fatal("nothing in the bucket")
	}
}

// clusterFault is one fault of the suite: take does it, giveBack undoes it as an operator
// would (nil: nothing to undo, the service recovers alone). While it lasts, the service is
// either unavailable (every request 503 problem+json with Retry-After, readiness off) or
// serving (reads and writes go on, after at most a transition in which requests are 503).
type clusterFault struct {
	name           string
	unavailable    bool
	take, giveBack func(context.Context) error
}

// clusterFaults: with traffic on replica B, each fault in turn; answers are checked as in
// TestAPIDependencyFaults (never a 500, never a hang past answerBound), recovery is by
// itself once the fault is undone, and at the end every note acknowledged is listed and
// reads whole through either replica, and the audit trail verifies.
func clusterFaults(t *testing.T, c *rvtest.Cluster) {
	ctx := context.Background()
	client, _ := newClusterClient(ctx, t, c, 0)
	mint := func(user string) (string, error) { return c.Token(ctx, user) }
	f := &faultTraffic{mint: mint, url: c.Replicas[1].URL, client: client, http: &http.Client{Timeout: answerBound}}
	if n := f.round(t, 4); n != 0 {
		t.Fatalf("%d requests unavailable before any fault", n)
	}
	var killed int
	faults := []clusterFault{
		{name: "vault leader killed", take: func(ctx context.Context) error {
			leader, err := c.Leader(ctx)
			killed = leader
			if err == nil {
				err = c.Vaults[leader].Kill(ctx)
			}
			return err
		}, giveBack: func(ctx context.Context) error {
			if err := c.Vaults[killed].Start(ctx); err != nil {
				return err
			}
			return c.Unseal(ctx, killed)
		}},
		{name: "vault sealed", unavailable: true, take: c.SealVault, giveBack: func(ctx context.Context) error {
			for i := range c.Vaults {
				if err := c.Unseal(ctx, i); err != nil {
					return err
				}
			}
			return nil
		}},
		{name: "the service's vault token revoked", take: func(ctx context.Context) error {
			v, err := c.Vault(ctx, 0)
			if err == nil {
				err = v.Sys().RevokePrefixWithContext(ctx, "auth/approle/login")
			}
			return err
		}},
		{name: "one minio node of four stopped", take: c.MinIOs[3].Stop, giveBack: func(ctx context.Context) error { return c.StartMinIONode(ctx, 3) }},
		// Around the restart MinIO can keep an audit block's refused write as a stranded
		// version, or leave a block or a record out of its answers for a moment; the service
		// stores such a block again or goes past it, and answers such a listing 503:
		// docs/RELIABILITY.md.
		{name: "minio stopped", unavailable: true, take: c.StopMinIO, giveBack: c.StartMinIO},
	}
	for _, fault := range faults {
		if err := fault.take(ctx); err != nil {
			t.Fatalf("%s: %v", fault.name, err)
		}
		start := time.Now()
		if fault.unavailable {
			if n := f.round(t, 2); n != 3 {
				t.Errorf("%s: %d of 3 requests answered 503", fault.name, n)
			}
			t.Logf("%s: 3 requests answered 503 within %v", fault.name, f.after)
			waitReadyz(t, c.Replicas[1].URL, http.StatusServiceUnavailable, fault.name+": not ready")
		} else {
			// A bound against a hang, not a target: the times are logged (docs/RELIABILITY.md).
			took := eventually(t, 2*time.Minute, fault.name+": serving", func() bool { return f.round(t, 1) == 0 })
			for range 3 {
				if n := f.round(t, 2); n != 0 {
					t.Errorf("%s: %d of 3 requests answered 503 once serving", fault.name, n)
				}
			}
			t.Logf("%s: serving again %v after the fault (rounds of 3 requests, 503 meanwhile)", fault.name, took.Round(100*time.Millisecond))
		}
		if fault.giveBack != nil {
			if err := fault.giveBack(ctx); err != nil {
				t.Fatalf("%s: give back: %v", fault.name, err)
			}
		}
		for _, r := range c.Replicas {
			waitReadyz(t, r.URL, http.StatusOK, fault.name+": ready again")
		}
		took := eventually(t, 60*time.Second, fault.name+": serving after", func() bool { return f.round(t, 1) == 0 })
		t.Logf("%s: %v from the fault to its end, serving %v after", fault.name, time.Since(start).Round(100*time.Millisecond), took.Round(100*time.Millisecond))
		if t.Failed() {
			t.FailNow()
		}
	}
	for i := range c.Replicas {
		f.checkNothingLost(t, c.Replicas[i].URL)
		check, err := clusterClient(t, c, i, "admin-kim").VerifyAuditTrailWithResponse(ctx, nil)
		if err != nil || !check.JSON200.Intact {
			t.Fatalf("the audit trail through replica %d: %+v, %v", i, check, err)
		}
	}
}

// clusterKills: a replica SIGKILLed mid 256 MiB upload and mid release. Whatever it was doing
// is either done whole or not visible: the draft reads without the attachment whose upload
// died, every release acknowledged before the kill is listed and reads whole through another
// replica, every release listed reads, and the audit trail verifies. What the upload left
// behind (its parts, an incomplete multipart upload) is counted, then swept.
func clusterKills(t *testing.T, c *rvtest.Cluster) {
	ctx := context.Background()
	client, _ := newClusterClient(ctx, t, c, 0)
	lee := clusterClient(t, c, 0, "dr-lee")

	// Mid upload.
	sign := false
	var draft *sdk.CreateRecordResponse
	untilAvailable(t, "a draft", func() (err error) {
		draft, err = lee.CreateRecordWithResponse(ctx, client, sdk.NewRecord{Category: sdk.NewRecordCategoryProgressNote, Sign: &sign,
			Fields: map[string]any{"date_of_service": "2026-11-20", "start_time": "09:00", "stop_time": "09:50", "modality": "individual",
				"cpt_code": "90834", "diagnosis_codes": []string{"F41.1"}, "plan": "with a scan"}})
		return err
	})
	record := *draft.JSON201.Id
	victim, err := c.StartReplica(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const size, killAt = 256 << 20, 64 << 20
	var uploadBegan time.Time
	var body *killingReader
	upload := clusterClient(t, c, len(c.Replicas)-1, "dr-lee")
	// MinIO, a little after its restart in the fault suite, can still refuse a write
	// ("unwritable"): an upload answered 503 before the kill is sent again.
	untilAvailable(t, "an upload to kill", func() error {
		uploadBegan = time.Now()
		body = &killingReader{size: size, killAt: killAt, kill: func() {
			if err := victim.Kill(context.Background()); err != nil {
				t.Errorf("kill %s: %v", victim.Name, err)
			}
		}}
		_, err = upload.AddAttachmentWithBodyWithResponse(ctx, client, record, "application/pdf", body,
			func(_ context.Context, req *http.Request) error { req.ContentLength = size; return nil })
		if errors.Is(err, sdk.ErrUnavailable) && body.sent.Load() < killAt {
			t.Logf("upload: answered 503 after %d MiB, before the kill: %v", body.sent.Load()>>20, err)
			return err
		}
		return nil
	})
	if err == nil {
		t.Fatal("the upload to a replica killed mid-way succeeded")
	}
	t.Logf("upload: %s killed after %d MiB sent: %v", victim.Name, body.sent.Load()>>20, err)
	read, err := lee.GetRecordWithResponse(ctx, client, record)
	if err != nil {
		t.Fatalf("the draft after the kill: %v", err)
	}
	if a := read.JSON200.Attachments; a != nil && len(*a) != 0 {
		t.Errorf("the draft lists %d attachments after its upload died", len(*a))
	}
	s3, err := c.S3(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	uploads, parts := leftBehind(ctx, t, c, s3, record)
	t.Logf("upload: left behind %d upload records, %d unfinished multipart uploads", uploads, parts)
	if uploads != 1 {
		t.Errorf("the upload killed mid-stream left %d upload records; want its own", uploads)
	}

	// Mid release.
	var notes []string
	for range 8 {
		sign := true
		var n *sdk.CreateRecordResponse
		untilAvailable(t, "a note", func() (err error) {
			n, err = lee.CreateRecordWithResponse(ctx, client, sdk.NewRecord{Category: sdk.NewRecordCategoryProgressNote, Sign: &sign,
				Fields: map[string]any{"date_of_service": "2026-11-21", "start_time": "10:00", "stop_time": "10:50", "modality": "individual",
					"cpt_code": "90834", "diagnosis_codes": []string{"F41.1"}, "plan": "plan " + newID()}})
			return err
		})
		notes = append(notes, *n.JSON201.Id)
	}
	victim, err = c.StartReplica(ctx)
	if err != nil {
		t.Fatal(err)
	}
	releasing := clusterClient(t, c, len(c.Replicas)-1, "dr-lee")
	// Releases one after another on each of four connections; the replica is killed as the
	// first is acknowledged, with the others in flight.
	var mu sync.Mutex
	var acked []string
	first := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for lane := range 4 {
		wg.Go(func() {
			for _, note := range notes[lane*2 : lane*2+2] {
				in := sdk.CreateReleaseJSONRequestBody{Document: note, Basis: sdk.ReleaseInputBasisRightOfAccess, Purpose: "her copy"}
				in.Recipient.Kind = sdk.ReleaseInputRecipientKindClient
				r, err := releasing.CreateReleaseWithResponse(ctx, client, in)
				if err != nil {
					return
				}
				mu.Lock()
				acked = append(acked, *r.JSON201.Id)
				mu.Unlock()
				once.Do(func() { close(first) })
			}
		})
	}
	select {
	case <-first:
	case <-time.After(answerBound):
		t.Fatal("no release acknowledged")
	}
	if err := victim.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	listed, err := lee.ListReleasesWithResponse(ctx, client)
	if err != nil {
		t.Fatalf("releases after the kill: %v", err)
	}
	var ids []string
	for _, r := range *listed.JSON200.Items {
		ids = append(ids, *r.Id)
		got, err := lee.GetReleaseWithResponse(ctx, client, *r.Id)
		if err != nil || *got.JSON200.Status != "approved" {
			t.Errorf("release %s listed after the kill: %+v, %v", *r.Id, got, err)
		}
	}
	for _, id := range acked {
		if !slices.Contains(ids, id) {
			t.Errorf("release %s acknowledged before the kill is not listed", id)
		}
	}
	t.Logf("release: %d of %d acknowledged before %s was killed, %d listed after, each read whole", len(acked), len(notes), victim.Name, len(ids))

	// The sweep: what the killed upload left is aborted once older than the sweep's minimum.
	admin := clusterClient(t, c, 0, "admin-kim")
	// The service dates the upload when its handler begins it, a moment after the test began
	// sending (its record loaded, its key unwrapped): 15 s of margin past the minimum.
	time.Sleep(time.Until(uploadBegan.Add(app.MinSweepAge + 15*time.Second)))
	var swept *sdk.SweepUploadsResponse
	untilAvailable(t, "the sweep", func() (err error) {
		swept, err = admin.SweepUploadsWithResponse(ctx, sdk.SweepUploadsJSONRequestBody{OlderThan: app.MinSweepAge.String()})
		return err
	})
	if *swept.JSON200.Aborted != uploads {
		t.Fatalf("the sweep aborted %d; want %d", *swept.JSON200.Aborted, uploads)
	}
	if uploads, parts := leftBehind(ctx, t, c, s3, record); uploads != 0 || parts != 0 {
		t.Errorf("after the sweep: %d upload records, %d unfinished multipart uploads left", uploads, parts)
	}
	t.Logf("sweep: %d uploads aborted, nothing left", *swept.JSON200.Aborted)
	check, err := admin.VerifyAuditTrailWithResponse(ctx, nil)
	if err != nil || !check.JSON200.Intact {
		t.Fatalf("the audit trail after the kills: %+v, %v", check, err)
	}
}

// killingReader is an upload's body of size bytes that calls kill once killAt bytes have been
// read from it, and goes on giving bytes until the request fails.
type killingReader struct {
	size, killAt int64
	kill         func()
	sent         atomic.Int64
	once         sync.Once
}

func (r *killingReader) Read(p []byte) (int, error) {
	sent := r.sent.Load()
	if sent >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-sent)]
	if sent == 0 && len(p) >= 5 {
		copy(p, "%PDF-")
	}
	if sent = r.sent.Add(int64(len(p))); sent >= r.killAt {
		r.once.Do(func() { go r.kill() })
	}
	return len(p), nil
}

// leftBehind counts the upload records under the clinic and the unfinished multipart uploads
// to the attachments they name, of record.
func leftBehind(ctx context.Context, t *testing.T, c *rvtest.Cluster, s3 *minio.Client, record string) (uploads, parts int) {
	t.Helper()
	for o := range s3.ListObjects(ctx, c.Bucket(), minio.ListObjectsOptions{Prefix: "c/" + c.Clinic + "/u/"}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		uploads++
		blob := strings.TrimPrefix(o.Key, "c/"+c.Clinic+"/u/")
		for u := range s3.ListIncompleteUploads(ctx, c.Bucket(), "c/"+c.Clinic+"/b/"+record+"/"+blob, false) {
			if u.Err != nil {
				t.Fatal(u.Err)
			}
			parts++
		}
	}
	return uploads, parts
}

// clusterRestore is the restore drill (docs/OPERATIONS.md): a Raft snapshot of Vault and a copy
// of the bucket are taken; every Vault and MinIO node is destroyed with its disk, the replicas
// with them; a new Vault cluster restores the snapshot (and unseals with its key), a new MinIO
// set gets the copy, new replicas start. Then every record of every client reads, and the
// audit trail verifies and still reaches the head a check before the loss returned.
func clusterRestore(t *testing.T, c *rvtest.Cluster) {
	ctx := context.Background()
	before, err := clusterClient(t, c, 0, "admin-kim").VerifyAuditTrailWithResponse(ctx, nil)
	if err != nil || !before.JSON200.Intact {
		t.Fatalf("the trail before: %+v, %v", before, err)
	}
	started := time.Now()
	backup, err := c.Backup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	records := map[string][]string{} // client → records, as the copy holds them
	for key := range backup.Objects {
		if parts := strings.Split(key, "/"); len(parts) == 6 && parts[0] == "c" && parts[2] == "p" && parts[4] == "r" {
			records[parts[3]] = append(records[parts[3]], parts[5])
		}
	}
	keepReplicaLogs(c)
	if err := c.Destroy(ctx); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if err := c.Restore(ctx, backup); err != nil {
		t.Fatalf("restore: %v", err)
	}
	took := time.Since(started)

	lee := clusterClient(t, c, 0, "dr-lee")
	read := 0
	for client, ids := range records {
		for _, id := range ids {
			if r, err := lee.GetRecordWithResponse(ctx, client, id); err != nil || r.JSON200 == nil || len(*r.JSON200.Fields) == 0 {
				t.Errorf("record %s of %s after the restore: %v", id, client, err)
				continue
			}
			read++
		}
	}
	head := before.JSON200.Verified
	after, err := clusterClient(t, c, 1, "admin-kim").VerifyAuditTrailWithResponse(ctx, &sdk.VerifyAuditTrailParams{Blocks: head.Blocks, Hash: head.Hash})
	if err != nil || !after.JSON200.Intact || *after.JSON200.Verified.Blocks < *head.Blocks {
		t.Fatalf("the trail after the restore: %+v, %v", after, err)
	}
	t.Logf("restore drill: snapshot %d KiB and %d objects; %d records of %d clients read after the restore; the trail verifies, %d blocks reaching the earlier head of %d; %v from the backup to serving",
		len(backup.Snapshot)>>10, len(backup.Objects), read, len(records), *after.JSON200.Verified.Blocks, *head.Blocks, took.Round(time.Second))
	if read == 0 {
		t.Fatal("no record to read back")
	}
}
