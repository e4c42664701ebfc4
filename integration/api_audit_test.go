//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
)

// TestAPIAuditTrail: every event the service records goes into the clinic's signed audit
// chain in the bucket, the same events in the same order as the plain copy; a clinic admin
// verifies the chain over HTTP (others get the not-found answer); a changed event, a
// deleted block and a cut tail are each shown.
func TestAPIAuditTrail(t *testing.T) {
	ctx := context.Background()
	e := newAPIEnv(t, map[string][]recordvault.Role{"dr-lee": {recordvault.RoleClinician}, "dr-patel": {recordvault.RoleClinician},
		"admin": {recordvault.RoleClinicAdmin}})
	client := e.createClient(t, "dr-lee", nil)
	var rec app.RecordView
	e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", "/v1/clients/"+client+"/records", map[string]any{"category": "progress_note", "fields": progressNote("p")})
	e.must(t, http.StatusOK, nil, "dr-lee", "GET", "/v1/clients/"+client+"/records/"+rec.ID, nil)
	e.must(t, http.StatusNotFound, nil, "dr-patel", "GET", "/v1/clients/"+client+"/records/"+rec.ID, nil)

	var check app.TrailCheck
	e.must(t, http.StatusOK, &check, "admin", "GET", "/v1/audit/verify", nil)
	copyEvents := plainEvents(t, e.auditLog.String())
	if !check.Intact || check.Verified.Events != len(copyEvents) || check.Verified.Events < 5 || check.Verified.Blocks == 0 {
		t.Fatalf("verify: %+v with %d events in the plain copy", check, len(copyEvents))
	}
	if chained := chainEvents(t, e); !equalEvents(chained, copyEvents) {
		t.Fatalf("the chain holds other events than the plain copy:\n%v\n%v", chained, copyEvents)
	}
	_, _, notFound := e.call(t, "dr-lee", "GET", "/v1/clients/"+newID(), nil)
	if status, _, b := e.call(t, "dr-lee", "GET", "/v1/audit/verify", nil); status != http.StatusNotFound || !bytes.Equal(b, notFound) {
		t.Fatalf("a clinician verifying: %d %s", status, b)
	}

	// An event's actor changed, by someone who can write the bucket.
	key := func(seq int) string { return fmt.Sprintf("c/%s/a/%016d", e.clinic, seq) }
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
		if !a[i].Time.Equal(b[i].Time) || a[i].Actor != b[i].Actor || a[i].Action != b[i].Action || a[i].Allowed != b[i].Allowed ||
			a[i].Client != b[i].Client || a[i].Record != b[i].Record || a[i].Rule != b[i].Rule {
			return false
		}
	}
	return true
}
