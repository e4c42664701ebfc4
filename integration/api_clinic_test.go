//go:build integration

package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/app"
)

// TestAPIClinicJurisdiction: the law a clinic practises under is the clinic's setting, not the
// deployment's. A deployment whose default is federal decides a 14-year-old's request for their
// own note as federal law does (the parent exercises the right) until the clinic's admin sets
// Illinois (the minor of 12 or more controls their own records): then the same request is
// approved, and each decision names the jurisdiction it applied. Only admins set it, only to a
// jurisdiction the policy knows; the change is audited, and another process over the same
// bucket decides by it too.
func TestAPIClinicJurisdiction(t *testing.T) {
	e := newAPIEnvIn(t, "US", releaseUsers)
	var v app.ClinicView
	e.must(t, http.StatusOK, &v, "dr-lee", "GET", "/v1/clinic", nil)
	if v.Jurisdiction != "US" || !v.Default || v.Clinic != e.clinic || len(v.Jurisdictions) < 3 {
		t.Fatalf("a new clinic: %+v", v)
	}
	minor := e.clientBorn(t, time.Now().UTC().AddDate(-14, -3, 0).Format(time.DateOnly))
	note := e.signedNote(t, recordvault.ProgressNote, minor)
	ask := func() app.ReleaseView {
		var r app.ReleaseView
		e.must(t, http.StatusCreated, &r, "dr-lee", "POST", "/v1/clients/"+minor+"/releases", map[string]any{"document": note,
			"basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "the minor's own copy"})
		return r
	}
	if r := ask(); r.Status != app.ReleaseDenied || r.Jurisdiction != "US" || r.Decision.Jurisdiction != "US" {
		t.Fatalf("under federal law: %s in %s/%s (%+v)", r.Status, r.Jurisdiction, r.Decision.Jurisdiction, r.Decision.Rule)
	}

	before := e.bucketState(t)
	if s, _, b := e.call(t, "dr-lee", "PUT", "/v1/clinic/jurisdiction", map[string]string{"jurisdiction": "US-IL"}); s != http.StatusNotFound {
		t.Errorf("a clinician setting the jurisdiction: %d %s", s, b)
	}
	for _, bad := range []any{map[string]string{"jurisdiction": "US-TX"}, map[string]string{"jurisdiction": ""}, map[string]int{"jurisdiction": 1}} {
		if s, _, b := e.call(t, "admin", "PUT", "/v1/clinic/jurisdiction", bad); s != http.StatusBadRequest {
			t.Errorf("setting %v: %d %s", bad, s, b)
		}
	}
	if len(before) != len(e.bucketState(t)) {
		t.Fatal("refused settings wrote to the bucket")
	}
	e.must(t, http.StatusOK, &v, "admin", "PUT", "/v1/clinic/jurisdiction", map[string]string{"jurisdiction": "US-IL"})
	if v.Jurisdiction != "US-IL" || v.Default {
		t.Fatalf("after setting Illinois: %+v", v)
	}
	if r := ask(); r.Status != app.ReleaseApproved || r.Jurisdiction != "US-IL" || r.Decision.Jurisdiction != "US-IL" {
		t.Fatalf("under Illinois law: %s in %s/%s (%+v)", r.Status, r.Jurisdiction, r.Decision.Jurisdiction, r.Decision.Rule)
	}
	if !strings.Contains(e.auditLog.String(), `"action":"jurisdiction_set"`) {
		t.Error("the change of jurisdiction is not in the audit trail")
	}
	other, err := e.anotherProcess(t, nil).GetClinic(context.Background(), access.Caller{ID: "dr-lee", Clinic: e.clinic, Roles: []recordvault.Role{recordvault.RoleClinician}})
	if err != nil || other.Jurisdiction != "US-IL" {
		t.Fatalf("another process: %+v %v", other, err)
	}
}
