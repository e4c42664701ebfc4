//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/storage/object"
)

// TestAPIAuditTrail: every event the service records goes into the clinic's signed audit
// chain in the bucket, the same events in the same order as the plain copy; a clinic admin
// verifies the chain over HTTP (others get the not-found answer); a changed event, a
// deleted block and a cut tail are each shown.
func TestAPIAuditTrail(t *testing.T) {
	ctx := context.Background()
	const login = "client-login-7c1e"
	e := newAPIEnv(t, map[string][]recordvault.Role{"dr-lee": {recordvault.RoleClinician}, "dr-patel": {recordvault.RoleClinician},
		"admin": {recordvault.RoleClinicAdmin}, login: {recordvault.RoleClient}})
	client, other := e.createClient(t, "dr-lee", nil), e.createClient(t, "dr-lee", nil)
	var rec app.RecordView
	e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", "/v1/clients/"+client+"/records", map[string]any{"category": "progress_note", "fields": progressNote("p")})
	e.must(t, http.StatusOK, nil, "dr-lee", "GET", "/v1/clients/"+client+"/records/"+rec.ID, nil)
	e.must(t, http.StatusNotFound, nil, "dr-patel", "GET", "/v1/clients/"+client+"/records/"+rec.ID, nil)
	// The client, through her own login: her releases, and a refused look at another's.
	e.must(t, http.StatusNoContent, nil, "admin", "PUT", "/v1/clients/"+client+"/account", map[string]string{"subject": login})
	e.must(t, http.StatusOK, nil, login, "GET", "/v1/clients/"+client+"/releases", nil)
	e.must(t, http.StatusNotFound, nil, login, "GET", "/v1/clients/"+other+"/releases", nil)

	var check app.TrailCheck
	e.must(t, http.StatusOK, &check, "admin", "GET", "/v1/audit/verify", nil)
	copyEvents := plainEvents(t, e.auditLog.String())
	if !check.Intact || check.Verified.Events != len(copyEvents) || check.Verified.Events < 5 || check.Verified.Blocks == 0 {
		t.Fatalf("verify: %+v with %d events in the plain copy", check, len(copyEvents))
	}
	if chained := chainEvents(t, e); !equalEvents(chained, copyEvents) {
		t.Fatalf("the chain holds other events than the plain copy:\n%v\n%v", chained, copyEvents)
	}
	// The login is in the plain copy on the service's disk, twice; nowhere in the bucket.
	if n := strings.Count(e.auditLog.String(), `"actor":"`+login+`","actor_is_client":true`); n != 2 {
		t.Fatalf("the plain copy names the client's login %d times, want 2", n)
	}
	for o := range e.raw.ListObjects(ctx, e.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if strings.Contains(o.Key, login) || bytes.Contains(getObject(t, e.raw, e.bucket, o.Key), []byte(login)) {
			t.Fatalf("object %s names the client's login", o.Key)
		}
	}
	_, _, notFound := e.call(t, "dr-lee", "GET", "/v1/clients/"+newID(), nil)
	if status, _, b := e.call(t, "dr-lee", "GET", "/v1/audit/verify", nil); status != http.StatusNotFound || !bytes.Equal(b, notFound) {
		t.Fatalf("a clinician verifying: %d %s", status, b)
	}

	// An event's actor changed, by someone who can write the bucket.
	key := func(seq uint64) string { return audit.BlockKey(e.clinic, seq) }
	genuine := getObject(t, e.raw, e.bucket, key(1))
	var env map[string]json.RawMessage
	if err := json.Unmarshal(genuine, &env); err != nil {
		t.Fatal(err)
	}
	env["block"] = bytes.Replace(env["block"], []byte(`"actor":"`), []byte(`"actor":"x`), 1)
	b, _ := json.Marshal(env)
	e.put(t, key(1), json.RawMessage(b))
	e.must(t, http.StatusOK, &check, "admin", "GET", "/v1/audit/verify", nil)
	if check.Intact || check.Problem != "block 1 is not signed by the clinic's audit key" || check.Verified.Blocks != 1 {
		t.Fatalf("after an edit: %+v", check)
	}
	e.put(t, key(1), json.RawMessage(genuine))
	e.must(t, http.StatusOK, &check, "admin", "GET", "/v1/audit/verify", nil)
	if !check.Intact {
		t.Fatalf("after restoring: %+v", check)
	}
	full := check.Verified

	// Checked against that head, kept by the privacy officer: still reached (the chain has
	// grown since), a longer head shows a cut end, another hash a replaced one.
	q := func(h audit.Head) string { return fmt.Sprintf("/v1/audit/verify?blocks=%d&hash=%s", h.Blocks, h.Hash) }
	e.must(t, http.StatusOK, &check, "admin", "GET", q(full), nil)
	if !check.Intact || check.Verified.Blocks <= full.Blocks {
		t.Fatalf("against the earlier head: %+v", check)
	}
	for _, c := range []struct {
		head    audit.Head
		problem string
	}{
		{audit.Head{Blocks: full.Blocks + 50, Hash: full.Hash}, fmt.Sprintf("the chain ends after %d blocks, the earlier head had %d: its end was cut off", check.Verified.Blocks+1, full.Blocks+50)},
		{audit.Head{Blocks: full.Blocks, Hash: strings.Repeat("ab", 32)}, fmt.Sprintf("block %d is not the one the earlier head names", full.Blocks-1)},
	} {
		var got app.TrailCheck
		e.must(t, http.StatusOK, &got, "admin", "GET", q(c.head), nil)
		if got.Intact || got.Problem != c.problem {
			t.Fatalf("against %+v: %+v, want %q", c.head, got, c.problem)
		}
	}
	for _, bad := range []string{"?blocks=3", "?hash=" + full.Hash, "?blocks=0&hash=" + full.Hash, "?blocks=x&hash=" + full.Hash, "?blocks=3&hash=ABC"} {
		if status, h, b := e.call(t, "admin", "GET", "/v1/audit/verify"+bad, nil); status != http.StatusBadRequest || h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s", bad, status, b)
		}
	}

	// A block deleted from the middle.
	if err := e.raw.RemoveObject(ctx, e.bucket, key(2), minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	e.must(t, http.StatusOK, &check, "admin", "GET", "/v1/audit/verify", nil)
	if check.Intact || check.Problem != "block 2 is missing" || check.Verified.Blocks != 2 {
		t.Fatalf("after a deletion: %+v", check)
	}
	if full.Blocks < 4 || check.Verified.Hash == full.Hash {
		t.Fatalf("heads: %+v then %+v", full, check.Verified)
	}
}

// plainEvents are the events of the plain JSON-lines copy.
func plainEvents(t *testing.T, s string) []recordvault.AuditEvent {
	var out []recordvault.AuditEvent
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var ev recordvault.AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// chainEvents reads every block of the env's clinic's chain, in order, and returns their events.
func chainEvents(t *testing.T, e *apiEnv) []recordvault.AuditEvent {
	var out []recordvault.AuditEvent
	for o := range e.raw.ListObjects(context.Background(), e.bucket, minio.ListObjectsOptions{Prefix: "c/" + e.clinic + "/a/", Recursive: true}) {
		var env struct {
			Block struct {
				Events []recordvault.AuditEvent `json:"events"`
			} `json:"block"`
		}
		if err := json.Unmarshal(getObject(t, e.raw, e.bucket, o.Key), &env); err != nil {
			t.Fatal(err)
		}
		out = append(out, env.Block.Events...)
	}
	return out
}

func equalEvents(a, b []recordvault.AuditEvent) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		actor := b[i].Actor
		if b[i].ActorIsClient {
			actor = "client" // as the chain records a client's login
		}
		if !a[i].Time.Equal(b[i].Time) || a[i].Actor != actor || a[i].ActorIsClient != b[i].ActorIsClient || a[i].Action != b[i].Action || a[i].Allowed != b[i].Allowed ||
			a[i].Client != b[i].Client || a[i].Record != b[i].Record || a[i].Rule != b[i].Rule {
			return false
		}
	}
	return true
}

// TestAuditChainReplicas: two service replicas (two chains over the same bucket) write one
// clinic's chain on the real MinIO and Vault. A replica whose next block was taken by the
// other (its conditional create refused) chains after it; then 200 events recorded through
// both at once: the chain verifies and holds every event.
func TestAuditChainReplicas(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, shared.minio)
	store := &conflictCounter{Bucket: audit.NewBucket(s)}
	vc := vaultClient(t, shared.vault)
	clinic := newID()
	a, b := audit.NewChain(store, vc, discardLogger(), nil), audit.NewChain(store, vc, discardLogger(), nil)
	if err := vc.ProvisionClinic(ctx, clinic); err != nil {
		t.Fatal(err)
	}
	record := func(replica *audit.Chain, i int) error {
		return replica.Record(ctx, recordvault.AuditEvent{Actor: fmt.Sprintf("dr-%d", i), Clinic: clinic, Action: "read_record",
			Allowed: true, Rule: "r"})
	}
	// a writes block 0; b, starting, finds it and writes block 1; a, still expecting to write
	// block 1, is refused and chains after b's.
	for i, replica := range []*audit.Chain{a, b, a} {
		if err := record(replica, i); err != nil {
			t.Fatal(err)
		}
	}
	if store.conflicts.Load() != 1 {
		t.Fatalf("%d refused creates, want 1", store.conflicts.Load())
	}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if err := record([]*audit.Chain{a, b}[i%2], i); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	head, err := audit.NewChain(store, vc, discardLogger(), nil).Verify(ctx, clinic, nil)
	if err != nil || head.Events != 203 {
		t.Fatalf("%+v, %v", head, err)
	}
	t.Logf("203 events from two replicas in %d blocks, %d creates refused", head.Blocks, store.conflicts.Load())
}

// conflictCounter counts the audit blocks whose conditional create was refused.
type conflictCounter struct {
	*audit.Bucket
	conflicts atomic.Int64
}

func (c *conflictCounter) CreateAuditBlock(ctx context.Context, clinic string, seq uint64, body []byte) error {
	err := c.Bucket.CreateAuditBlock(ctx, clinic, seq, body)
	if errors.Is(err, object.ErrExists) {
		c.conflicts.Add(1)
	}
	return err
}

// TestAuditVerifyCommand: recordvault-audit checks a clinic's chain from outside the service,
// with read access to the bucket and the audit key's data as `vault read -format=json`
// writes it, and no Vault: it agrees with the service's own check, reports a cut end against
// an earlier head, and a block deleted from the middle, exiting 1 for both; and it goes past
// a loss the clinic acknowledged.
func TestAuditVerifyCommand(t *testing.T) {
	ctx := context.Background()
	e := newAPIEnv(t, map[string][]recordvault.Role{"dr-lee": {recordvault.RoleClinician}, "admin": {recordvault.RoleClinicAdmin}})
	client := e.createClient(t, "dr-lee", nil)
	for range 3 {
		e.must(t, http.StatusOK, nil, "dr-lee", "GET", "/v1/clients/"+client, nil)
	}
	var check app.TrailCheck
	e.must(t, http.StatusOK, &check, "admin", "GET", "/v1/audit/verify", nil)

	dir := t.TempDir()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "recordvault-audit")
	build := exec.Command("go", "build", "-o", bin, "./cmd/recordvault-audit")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	api, err := shared.vault.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key, err := api.Logical().ReadWithContext(ctx, "transit/keys/"+audit.SigningKeyName(e.clinic))
	if err != nil {
		t.Fatal(err)
	}
	keyJSON, _ := json.Marshal(map[string]any{"data": key.Data})
	keysFile := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(keysFile, keyJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	endpoint, err := shared.minio.Endpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(args ...string) (app.TrailCheck, error) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"-clinic", e.clinic, "-keys", keysFile}, args...)...)
		cmd.Env = []string{"RECORDVAULT_S3_ENDPOINT=" + endpoint, "RECORDVAULT_S3_ACCESS_KEY=" + shared.minio.User,
			"RECORDVAULT_S3_SECRET_KEY=" + shared.minio.Password, "RECORDVAULT_S3_BUCKET=" + e.bucket}
		out, err := cmd.Output()
		var got app.TrailCheck
		if jerr := json.Unmarshal(out, &got); jerr != nil {
			t.Fatalf("output %q: %v (exit: %v)", out, jerr, err)
		}
		return got, err
	}
	got, err := verify()
	if err != nil || !got.Intact || got.Verified.Blocks < check.Verified.Blocks || got.Verified.Events < check.Verified.Events {
		t.Fatalf("the command's check %+v (%v) against the service's %+v", got, err, check)
	}
	got, err = verify("-blocks", fmt.Sprint(got.Verified.Blocks+5), "-hash", got.Verified.Hash)
	if err == nil || got.Intact || !strings.HasSuffix(got.Problem, "its end was cut off") {
		t.Fatalf("against a longer head: %+v, %v", got, err)
	}
	if err := e.raw.RemoveObject(ctx, e.bucket, audit.BlockKey(e.clinic, 1), minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err = verify(); err == nil || got.Intact || got.Problem != "block 1 is missing" || got.Verified.Blocks != 1 {
		t.Fatalf("with block 1 deleted: %+v, %v", got, err)
	}
	// In a bucket that keeps no versions there is nothing to restore: -restore only checks.
	if got, err = verify("-restore"); err == nil || got.Intact || got.Problem != "block 1 is missing" {
		t.Fatalf("-restore with block 1 gone for good: %+v, %v", got, err)
	}
	// Once the clinic acknowledges the loss, the command checks the acknowledgment with the
	// same key data, goes on past it and lists it.
	e.must(t, http.StatusCreated, nil, "admin", "POST", "/v1/audit/losses", map[string]any{"block": 1})
	if got, err = verify(); err != nil || !got.Intact || len(got.Verified.Losses) != 1 || got.Verified.Losses[0].First != 1 || got.Verified.Losses[0].Resume != 2 {
		t.Fatalf("with block 1's loss acknowledged: %+v, %v", got, err)
	}
}

// TestAuditBlockListing: blocks are stored a thousand to a part (a listing walks one part,
// however long the chain); listing from any block, across parts, gives the blocks in order,
// shows a gap where a part is gone, and refuses anything else under the chain's prefix.
func TestAuditBlockListing(t *testing.T) {
	ctx := context.Background()
	store, bucket := newStore(t, shared.minio)
	blocks := audit.NewBucket(store)
	raw, err := shared.minio.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clinic := newID()
	seqs := []uint64{0, 1, 998, 999, 1000, 1001, 2999, 3000, 5000}
	for _, seq := range seqs {
		if err := blocks.CreateAuditBlock(ctx, clinic, seq, []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	if k := audit.BlockKey(clinic, 1001); k != "c/"+clinic+"/a/0000000000001/0000000000001001" {
		t.Fatalf("block key %s", k)
	}
	for _, c := range []struct {
		from  uint64
		limit int
		want  []uint64
	}{
		{0, 1000, seqs},
		{2, 3, []uint64{998, 999, 1000}},
		{999, 2, []uint64{999, 1000}},
		{1001, 1000, []uint64{1001, 2999, 3000, 5000}}, // parts 2 and 4 are missing
		{1002, 1, []uint64{2999}},
		{3001, 1000, []uint64{5000}},
		{5001, 1000, nil},
	} {
		got, err := blocks.ListAuditBlocks(ctx, clinic, c.from, c.limit)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("from %d, at most %d: %v, %v; want %v", c.from, c.limit, got, err, c.want)
		}
	}
	for name, key := range map[string]string{
		"an object beside the parts": "c/" + clinic + "/a/0000000000000000",
		"a part of another name":     "c/" + clinic + "/a/7/x",
		"a block in the wrong part":  "c/" + clinic + "/a/0000000000006/0000000000000002",
		"a block of another name":    "c/" + clinic + "/a/0000000000006/note",
	} {
		putObject(t, raw, bucket, key, []byte("{}"))
		if _, err := blocks.ListAuditBlocks(ctx, clinic, 0, 1000); !errors.Is(err, audit.ErrStrayObject) {
			t.Errorf("%s: %v", name, err)
		}
		if err := raw.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditLossStorage: the losses acknowledged from one block are kept side by side, one
// per block resumed at, created once each; a reader reads them in order, and refuses to read
// more than a few (a bucket writer could otherwise make every walk read thousands).
func TestAuditLossStorage(t *testing.T) {
	ctx := context.Background()
	store, _ := newStore(t, shared.minio)
	blocks := audit.NewBucket(store)
	clinic := newID()
	if k := audit.LossKey(clinic, 3, 12); k != "c/"+clinic+"/al/0000000000000003/0000000000000012" {
		t.Fatalf("loss key %s", k)
	}
	for _, resume := range []uint64{6, 4} {
		if err := blocks.CreateAuditLoss(ctx, clinic, 3, resume, []byte(fmt.Sprint(resume))); err != nil {
			t.Fatal(err)
		}
	}
	if err := blocks.CreateAuditLoss(ctx, clinic, 3, 4, []byte("again")); !errors.Is(err, object.ErrExists) {
		t.Fatalf("created twice: %v", err)
	}
	if got, err := blocks.ReadAuditLosses(ctx, clinic, 3); err != nil || len(got) != 2 || string(got[0]) != "4" || string(got[1]) != "6" {
		t.Fatalf("losses from block 3: %q, %v", got, err)
	}
	if got, err := blocks.ReadAuditLosses(ctx, clinic, 30); err != nil || len(got) != 0 { // 30 shares a prefix with 3 but not a key
		t.Fatalf("losses from block 30: %q, %v", got, err)
	}
	for resume := uint64(7); resume < 7+audit.MaxLosses; resume++ {
		if err := blocks.CreateAuditLoss(ctx, clinic, 3, resume, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := blocks.ReadAuditLosses(ctx, clinic, 3); err == nil {
		t.Fatal("read more losses from one block than a reader takes")
	}
}

// TestAPIAuditLossAcknowledged: blocks of the trail lost for good (here, the one recording a
// draft's opening and the one recording a disclosure) stop every new reader of the trail
// until the clinic's privacy officer acknowledges each loss, at the break a verification
// reports; readers then go on past them, the verification lists them, the client's
// accounting says which period it may be missing, and the draft is still its author's.
func TestAPIAuditLossAcknowledged(t *testing.T) {
	e := newDownloadEnv(t)
	ctx := context.Background()
	base := "/v1/clients/" + e.a
	var draft app.RecordView
	e.must(t, http.StatusCreated, &draft, "dr-lee", "POST", base+"/records", map[string]any{"category": "progress_note", "fields": progressNote("a plan")})
	var subpoena, threat app.ReleaseView
	e.must(t, http.StatusCreated, &subpoena, "dr-lee", "POST", base+"/releases", map[string]any{"document": e.note, "basis": "subpoena",
		"fields": []string{"cpt_code"}, "purpose": "civil litigation", "assurances": map[string]any{"protective_order": true},
		"recipient": map[string]string{"kind": "attorney", "id": "jones-law", "email": "jones-law@recipients.example", "name": "Jones & Co"}})
	e.must(t, http.StatusCreated, &threat, "dr-lee", "POST", base+"/releases", map[string]any{"document": e.note, "basis": "serious_threat",
		"fields": []string{"plan"}, "purpose": "warning of a threat", "attestation": map[string]bool{"good_faith": true},
		"recipient": map[string]string{"kind": "threatened_person", "id": "target-1", "email": "target-1@recipients.example", "name": "R. Target"}})
	for range 3 {
		e.must(t, http.StatusOK, nil, "dr-lee", "GET", base+"/releases", nil) // blocks after the disclosure's
	}

	// The blocks that record the draft's opening and the second disclosure are lost for good.
	opened := func(ev recordvault.AuditEvent) bool { return ev.Action == "draft_opened" && ev.Record == draft.ID }
	disclosed := func(ev recordvault.AuditEvent) bool { return ev.Release == threat.ID && ev.Accounted }
	var lost []uint64
	for o := range e.raw.ListObjects(ctx, e.bucket, minio.ListObjectsOptions{Prefix: "c/" + e.clinic + "/a/", Recursive: true}) {
		var env struct {
			Block struct {
				Seq    uint64                   `json:"seq"`
				Events []recordvault.AuditEvent `json:"events"`
			} `json:"block"`
		}
		if err := json.Unmarshal(getObject(t, e.raw, e.bucket, o.Key), &env); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(env.Block.Events, opened) || slices.ContainsFunc(env.Block.Events, disclosed) {
			lost = append(lost, env.Block.Seq)
			if err := e.raw.RemoveObject(ctx, e.bucket, o.Key, minio.RemoveObjectOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(lost) != 2 || lost[0] >= lost[1] {
		t.Fatalf("blocks recording the draft and the disclosure: %v", lost)
	}
	// The ledger's checkpoint is lost with them (it holds their events): new processes read
	// the trail from its start.
	if err := e.raw.RemoveObject(ctx, e.bucket, "c/"+e.clinic+"/ac/disclosure-ledger", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	admin := access.Caller{ID: "admin", Clinic: e.clinic, Roles: []recordvault.Role{recordvault.RoleClinicAdmin}}
	drLee := access.Caller{ID: "dr-lee", Clinic: e.clinic, Roles: []recordvault.Role{recordvault.RoleClinician}}
	other := e.anotherProcess(t, nil)
	if _, err := other.AccountingOf(ctx, admin, e.a); recordvault.ErrorMessage(err) != "the audit trail failed its integrity check" {
		t.Fatalf("accounting over a broken trail: %v", err)
	}
	var check app.TrailCheck
	e.must(t, http.StatusOK, &check, "admin", "GET", "/v1/audit/verify", nil)
	if want := fmt.Sprintf("block %d is missing", lost[0]); check.Intact || check.Problem != want || check.Verified.Blocks != lost[0] {
		t.Fatalf("verify: %+v, want %q", check, want)
	}

	// Only the clinic's admins acknowledge, only the break found, with a reference that is a
	// reference; a refusal stores nothing.
	path := "/v1/audit/losses"
	before := e.bucketState(t)
	for _, c := range []struct {
		user   string
		body   any
		status int
	}{
		{"dr-lee", map[string]any{"block": lost[0]}, http.StatusNotFound},
		{"pat", map[string]any{"block": lost[0]}, http.StatusNotFound},
		{"admin", map[string]any{"block": lost[1]}, http.StatusConflict}, // not the first break
		{"admin", map[string]any{"block": lost[0] - 1}, http.StatusConflict},
		{"admin", map[string]any{}, http.StatusBadRequest},
		{"admin", map[string]any{"block": -1}, http.StatusBadRequest},
		{"admin", map[string]any{"block": lost[0], "reference": "lost when Jane D. asked"}, http.StatusBadRequest},
		{"admin", map[string]any{"block": lost[0], "why": "x"}, http.StatusBadRequest},
	} {
		if status, _, b := e.call(t, c.user, "POST", path, c.body); status != c.status {
			t.Errorf("%s %v: %d %s, want %d", c.user, c.body, status, b, c.status)
		}
	}
	if after := e.bucketState(t); !maps.Equal(before, after) {
		t.Fatalf("refused requests changed the bucket: %v, then %v", before, after)
	}
	losses := make([]audit.Loss, 2)
	for i, first := range lost {
		e.must(t, http.StatusCreated, &losses[i], "admin", "POST", path, map[string]any{"block": first, "reference": "INC-2291"})
		if l := losses[i]; l.First != first || l.Resume != first+1 || l.By != "admin" || l.Reference != "INC-2291" || l.Until.Before(l.From) {
			t.Fatalf("loss %+v", l)
		}
	}
	if status, _, b := e.call(t, "admin", "POST", path, map[string]any{"block": lost[0]}); status != http.StatusConflict ||
		!strings.Contains(string(b), fmt.Sprintf("the loss from block %d is acknowledged already", lost[0])) {
		t.Fatalf("acknowledged again: %d %s", status, b)
	}

	// Readers go on past them: the verification lists both; a new process's accounting lacks
	// the lost disclosure and says in which periods it may be missing; the draft is a draft.
	e.must(t, http.StatusOK, &check, "admin", "GET", "/v1/audit/verify", nil)
	if !check.Intact || len(check.Verified.Losses) != 2 || check.Verified.Losses[1].First != lost[1] {
		t.Fatalf("verify after the acknowledgments: %+v", check)
	}
	for _, svc := range []*app.Service{other, e.anotherProcess(t, nil)} {
		acc, err := svc.AccountingOf(ctx, admin, e.a)
		if err != nil || len(acc.Entries) != 1 || acc.Entries[0].Release != subpoena.ID || len(acc.Gaps) != 2 {
			t.Fatalf("accounting after the acknowledgments: %+v, %v", acc, err)
		}
		if g := acc.Gaps[1]; !g.From.Equal(losses[1].From) || !g.Until.Equal(losses[1].Until) || g.From.After(threat.Created) || g.Until.Before(threat.Created) {
			t.Fatalf("the lost disclosure (released %v) is in no gap: %+v", threat.Created, acc.Gaps)
		}
		if rec, err := svc.GetRecord(ctx, drLee, e.a, draft.ID); err != nil || rec.Status != recordvault.StatusDraft {
			t.Fatalf("the draft opened in a lost block: %+v, %v", rec, err)
		}
		if overdue, err := svc.OverdueAmendments(ctx, admin); err != nil || len(overdue.Gaps) != 2 || !overdue.Gaps[0].Until.Equal(losses[0].Until) {
			t.Fatalf("the overdue listing's lost periods: %+v, %v", overdue, err)
		}
	}
	status, _, doc := e.call(t, "pat", "GET", base+"/accounting", nil, "Accept", "application/pdf")
	squeeze := strings.NewReplacer(" ", "", "\n", "") // lines wrap where a space was
	if text := pdfText(t, doc); status != http.StatusOK || !strings.Contains(squeeze.Replace(text), "Disclosuresmadeinthatperiodmaybemissingfromthisaccounting.") {
		t.Fatalf("the PDF: %d %s", status, text)
	}
	if !strings.Contains(e.auditLog.String(), `"action":"audit_loss_acknowledged"`) {
		t.Error("the acknowledgment was not audited")
	}
}
