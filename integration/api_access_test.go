//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/access/accesstest"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/disclosure"
	"github.com/recordvault/recordvault/records"
)

// apiExpected is the authorization matrix over HTTP, written as a table: the first row that
// matches a cell gives its outcome; "*" matches anything, "clinician*" any role set with the
// clinician role. Columns: roles, category, care team, author, action, outcome.
const apiExpected = `
client             *                   *    *      *         deny
clinic_admin       *                   *    *      *         deny
none               *                   *    *      *         deny
clinician*         psychotherapy_note  *    other  *         deny
clinician*         *                   off  *      *         deny
clinician*         *                   on   *      *         allow
`

// matrixCallers are the callers of the matrix: one subject per role set, all on the roster,
// so that "on the care team" means the same thing for each.
var matrixCallers = map[string][]recordvault.Role{
	"clinician":              {recordvault.RoleClinician},
	"clinic_admin":           {recordvault.RoleClinicAdmin},
	"client":                 {recordvault.RoleClient},
	"none":                   nil,
	"clinician+clinic_admin": {recordvault.RoleClinician, recordvault.RoleClinicAdmin},
}

// TestAPIAuthorizationMatrix: role × category × care-team relationship × author × action
// (read the record; write an addendum to it), every cell over HTTP on the real stack,
// against the table above. An allowed read answers 200 with the fields, an allowed write 201;
// every refusal answers 404 with the same body as a record that does not exist.
func TestAPIAuthorizationMatrix(t *testing.T) {
	ctx := context.Background()
	users := map[string][]recordvault.Role{"dr-b": {recordvault.RoleClinician}, "admin": {recordvault.RoleClinicAdmin}}
	var everyone []string
	for name, roles := range matrixCallers {
		users[subjectOf(name)] = roles
		everyone = append(everyone, subjectOf(name))
	}
	sort.Strings(everyone)
	e := newAPIEnv(t, users, everyone...)
	onTeam := e.createClient(t, "admin", append(everyone, "dr-b"))
	offTeam := e.createClient(t, "admin", []string{"dr-b"})
	_, _, notFound := e.call(t, "admin", "GET", "/v1/clients/"+onTeam+"/records/"+newID(), nil)

	table := accesstest.Parse(apiExpected)
	cells := 0
	for roleName := range matrixCallers {
		caller := subjectOf(roleName)
		for _, category := range recordvault.Categories {
			for _, team := range []string{"on", "off"} {
				for _, author := range []string{"self", "other"} {
					client := map[string]string{"on": onTeam, "off": offTeam}[team]
					writer := map[string]string{"self": caller, "other": "dr-b"}[author]
					d, err := e.svc.Create(ctx, records.NewRecord{Clinic: e.clinic, Category: category, Participants: []string{client},
						Author: writer, Sign: true, Fields: map[string][]byte{"summary": []byte("cell")}})
					if err != nil {
						t.Fatal(err)
					}
					path := "/v1/clients/" + client + "/records/" + d.ID
					for _, action := range []string{"read", "write"} {
						cell := []string{roleName, string(category), team, author, action}
						want := table.Outcome(cell...)
						var status int
						var body []byte
						if action == "read" {
							status, _, body = e.call(t, caller, "GET", path, nil)
						} else {
							status, _, body = e.call(t, caller, "POST", path+"/addenda", map[string]string{"text": "addendum"})
						}
						allowed := map[string]int{"read": http.StatusOK, "write": http.StatusCreated}[action]
						switch {
						case want == "allow" && status != allowed:
							t.Errorf("%v: %d %s, want %d", cell, status, body, allowed)
						case want == "deny" && (status != http.StatusNotFound || !bytes.Equal(body, notFound)):
							t.Errorf("%v: %d %s, want 404 %s", cell, status, body, notFound)
						}
						cells++
					}
				}
			}
		}
	}
	if cells < 100 {
		t.Fatalf("only %d cells", cells)
	}
	for _, row := range table.Unused() {
		t.Errorf("a row of the table matches no cell: %v", row)
	}
	t.Logf("%d cells over HTTP against %d rows", cells, table.Rows())
	if events := strings.Count(e.auditLog.String(), "\n"); events < cells {
		t.Fatalf("%d audit events for %d requests", events, cells)
	}
}

func subjectOf(roleName string) string { return "u-" + strings.ReplaceAll(roleName, "+", "-") }

// TestAPIExistenceOracle: an outsider clinician of the clinic asks for (a) a client and a
// record that do not exist and (b) a real client and record not on their care team; every
// answer is byte for byte the same, headers included. The time each takes is logged, median
// of 40, for docs/PERFORMANCE.md; it is not asserted (shared machines are noisy).
func TestAPIExistenceOracle(t *testing.T) {
	ctx := context.Background()
	e := newAPIEnv(t, map[string][]recordvault.Role{"dr-lee": {recordvault.RoleClinician},
		"dr-out": {recordvault.RoleClinician}, "admin": {recordvault.RoleClinicAdmin}})
	client := e.createClient(t, "admin", []string{"dr-lee"})
	d, err := e.svc.Create(ctx, records.NewRecord{Clinic: e.clinic, Category: recordvault.ProgressNote, Participants: []string{client},
		Author: "dr-lee", Sign: true, Fields: map[string][]byte{"plan": []byte("p")},
		Attachments: []records.NewAttachment{{Body: strings.NewReader("%PDF-1.7 x"), Size: 10, MediaType: app.MediaTypePDF}}})
	if err != nil {
		t.Fatal(err)
	}
	ghostClient, ghostRecord := newID(), newID()
	pairs := []struct{ name, real, ghost, method string }{
		{"client", "/v1/clients/" + client, "/v1/clients/" + ghostClient, "GET"},
		{"record", "/v1/clients/" + client + "/records/" + d.ID, "/v1/clients/" + ghostClient + "/records/" + ghostRecord, "GET"},
		{"record of a real client", "/v1/clients/" + client + "/records/" + d.ID, "/v1/clients/" + client + "/records/" + ghostRecord, "GET"},
		{"records", "/v1/clients/" + client + "/records", "/v1/clients/" + ghostClient + "/records", "GET"},
		{"attachment", "/v1/clients/" + client + "/records/" + d.ID + "/attachments/" + d.Attachments[0].ID,
			"/v1/clients/" + ghostClient + "/records/" + ghostRecord + "/attachments/" + newID(), "GET"},
		{"addendum", "/v1/clients/" + client + "/records/" + d.ID + "/addenda", "/v1/clients/" + ghostClient + "/records/" + ghostRecord + "/addenda", "POST"},
	}
	for _, p := range pairs {
		var body any
		if p.method == "POST" {
			body = map[string]string{"text": "probe"}
		}
		rs, rh, rb := e.call(t, "dr-out", p.method, p.real, body)
		gs, gh, gb := e.call(t, "dr-out", p.method, p.ghost, body)
		rh.Del("Date")
		gh.Del("Date")
		if rs != http.StatusNotFound || rs != gs || !bytes.Equal(rb, gb) || !headersEqual(rh, gh) {
			t.Errorf("%s: real %d %v %s; unknown %d %v %s", p.name, rs, rh, rb, gs, gh, gb)
		}
	}
	// The owner sees what the outsider was refused: the refusals were about access.
	e.must(t, http.StatusOK, nil, "dr-lee", "GET", pairs[1].real, nil)

	timeOf := func(path string) time.Duration {
		var ds []time.Duration
		for range 40 {
			start := time.Now()
			e.call(t, "dr-out", "GET", path, nil)
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	real, ghost := timeOf(pairs[1].real), timeOf(pairs[1].ghost)
	t.Logf("median over 40: existing record refused %v, nonexistent %v (ratio %.2f)", real, ghost, float64(real)/float64(ghost))

	// A search by an outsider answers the same, in the same time, whether or not the person is
	// a client: the same reads, and no answer before the floor (issue 17: a match was slower).
	name := "Searched " + newID()
	e.must(t, http.StatusCreated, nil, "admin", "POST", "/v1/clients", map[string]any{
		"identity": recordvault.Identity{FullName: name, DateOfBirth: "1984-02-29"}, "care_team": []string{"dr-lee"}})
	search := func(fullName string) (time.Duration, http.Header, []byte) {
		start := time.Now()
		status, h, b := e.call(t, "dr-out", "POST", "/v1/clients/search", map[string]string{"full_name": fullName, "date_of_birth": "1984-02-29"})
		took := time.Since(start)
		if status != http.StatusOK {
			t.Fatalf("search: %d %s", status, b)
		}
		h.Del("Date")
		return took, h, b
	}
	var matches, misses []time.Duration
	for range 20 {
		mt, mh, mb := search(name)
		gt, gh, gb := search("Nobody " + newID())
		if !bytes.Equal(mb, gb) || !headersEqual(mh, gh) || string(mb) != "{\"items\":[]}\n" {
			t.Fatalf("an outsider's search: match %v %s; miss %v %s", mh, mb, gh, gb)
		}
		if mt < 25*time.Millisecond || gt < 25*time.Millisecond {
			t.Fatalf("a search answered before the floor: match %v, miss %v", mt, gt)
		}
		matches, misses = append(matches, mt), append(misses, gt)
	}
	slices.Sort(matches)
	slices.Sort(misses)
	t.Logf("median over 20 interleaved: search matching a client %v, matching none %v", matches[10], misses[10])
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", "/v1/clients/search", map[string]string{"full_name": name, "date_of_birth": "1984-02-29"})
}

// headersEqual reports whether two answers carry the same headers but their request ids,
// which each answer has its own of.
func headersEqual(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if k != "X-Request-Id" && !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestAPISignedRecordsAreImmutable: a draft changes and is signed by its author; after that
// a change answers 409, and the change is made as an addendum, linked to the record and
// returned with it. A bucket writer who puts back the record's draft (older text, open to
// changes again) gets it neither read nor changed: the audit trail records it as signed.
func TestAPISignedRecordsAreImmutable(t *testing.T) {
	e := newAPIEnv(t, map[string][]recordvault.Role{"dr-lee": {recordvault.RoleClinician}})
	client := e.createClient(t, "dr-lee", nil)
	base := "/v1/clients/" + client + "/records"
	var rec app.RecordView
	e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", base, map[string]any{"category": "progress_note", "fields": progressNote("first plan")})
	if rec.Status != recordvault.StatusDraft {
		t.Fatalf("new record: %+v", rec)
	}
	path := base + "/" + rec.ID
	e.must(t, http.StatusOK, nil, "dr-lee", "PUT", path, map[string]any{"fields": progressNote("second plan")})
	manifest := "c/" + e.clinic + "/p/" + client + "/r/" + rec.ID
	draft := getObject(t, e.raw, e.bucket, manifest)
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", path+"/sign", nil)
	signed := getObject(t, e.raw, e.bucket, manifest)
	putObject(t, e.raw, e.bucket, manifest, draft)
	for _, change := range []struct{ method, path string }{{"GET", path}, {"PUT", path}} {
		status, _, b := e.call(t, "dr-lee", change.method, change.path, map[string]any{"fields": progressNote("rewritten")})
		if status != http.StatusInternalServerError || strings.Contains(string(b), "second plan") {
			t.Fatalf("%s %s on a signed record put back as its draft: %d %s", change.method, change.path, status, b)
		}
	}
	if !strings.Contains(e.auditLog.String(), `"record":"`+rec.ID+`","allowed":false,"rule":"a draft the audit trail does not record as one`) {
		t.Error("the rollback was not audited")
	}
	putObject(t, e.raw, e.bucket, manifest, signed)
	for _, change := range []struct{ method, path string }{{"PUT", path}, {"POST", path + "/sign"}} {
		status, h, b := e.call(t, "dr-lee", change.method, change.path, map[string]any{"fields": progressNote("rewritten")})
		if status != http.StatusConflict || h.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(b), "addendum") {
			t.Fatalf("%s %s on a signed record: %d %s", change.method, change.path, status, b)
		}
	}
	var add app.AddendumView
	e.must(t, http.StatusCreated, &add, "dr-lee", "POST", path+"/addenda", map[string]string{"text": "Plan corrected: third plan."})
	var got app.RecordView
	e.must(t, http.StatusOK, &got, "dr-lee", "GET", path, nil)
	if string(got.Fields["plan"]) != `"second plan"` || got.Status != recordvault.StatusSigned ||
		len(got.Addenda) != 1 || got.Addenda[0].ID != add.ID || got.Addenda[0].Text != "Plan corrected: third plan." || got.Addenda[0].Author != "dr-lee" {
		t.Fatalf("signed record with its addendum: %+v", got)
	}
}

// TestAPIDraftRolledBack: each change of a draft is a revision the audit trail records, so a
// bucket writer who puts a draft back to an earlier revision (its author's words before they
// changed them) is found, by the process that made the changes and by a new one; and a change
// that fails to be stored leaves the trail no further than the bucket, so the draft is not
// taken for rolled back.
func TestAPIDraftRolledBack(t *testing.T) {
	e := newAPIEnv(t, map[string][]recordvault.Role{"dr-lee": {recordvault.RoleClinician}})
	ctx := context.Background()
	client := e.createClient(t, "dr-lee", nil)
	base := "/v1/clients/" + client + "/records"
	var rec app.RecordView
	e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", base, map[string]any{"category": "progress_note", "fields": progressNote("first plan")})
	path := base + "/" + rec.ID
	manifest := "c/" + e.clinic + "/p/" + client + "/r/" + rec.ID
	e.must(t, http.StatusOK, nil, "dr-lee", "PUT", path, map[string]any{"fields": progressNote("second plan")})
	earlier := getObject(t, e.raw, e.bucket, manifest)
	e.must(t, http.StatusOK, nil, "dr-lee", "PUT", path, map[string]any{"fields": progressNote("third plan")})
	latest := getObject(t, e.raw, e.bucket, manifest)

	putObject(t, e.raw, e.bucket, manifest, earlier)
	drLee := access.Caller{ID: "dr-lee", Clinic: e.clinic, Roles: []recordvault.Role{recordvault.RoleClinician}}
	for _, change := range []struct{ method, path string }{{"GET", path}, {"PUT", path}, {"POST", path + "/sign"}} {
		status, _, b := e.call(t, "dr-lee", change.method, change.path, map[string]any{"fields": progressNote("rewritten")})
		if status != http.StatusInternalServerError || strings.Contains(string(b), "second plan") {
			t.Fatalf("%s %s on a draft put back to an earlier revision: %d %s", change.method, change.path, status, b)
		}
	}
	if _, err := e.anotherProcess(t, nil).GetRecord(ctx, drLee, client, rec.ID); recordvault.ErrorCode(err) != recordvault.EINTERNAL {
		t.Fatalf("a new process reading the rolled-back draft: %v", err)
	}
	if !strings.Contains(e.auditLog.String(), `"record":"`+rec.ID+`","allowed":false,"rule":"a draft at revision 1, the audit trail records revision 2 (a draft rolled back)"`) {
		t.Error("the rollback was not audited")
	}
	putObject(t, e.raw, e.bucket, manifest, latest)
	var got app.RecordView
	e.must(t, http.StatusOK, &got, "dr-lee", "GET", path, nil)
	if string(got.Fields["plan"]) != `"third plan"` {
		t.Fatalf("the latest revision back: %+v", got)
	}

	// A process whose storage refuses the change: neither a revision nor a signature it could
	// not store is recorded, and the draft goes on.
	failing := e.refusingWrites(t)
	if _, err := failing.UpdateRecord(ctx, drLee, client, rec.ID, map[string]json.RawMessage{"plan": json.RawMessage(`"lost plan"`)}); err == nil {
		t.Fatal("an update the storage refused succeeded")
	}
	if _, err := failing.SignRecord(ctx, drLee, client, rec.ID); err == nil {
		t.Fatal("a signature the storage refused succeeded")
	}
	e.must(t, http.StatusOK, nil, "dr-lee", "PUT", path, map[string]any{"fields": progressNote("fourth plan")})
	e.must(t, http.StatusOK, &got, "dr-lee", "POST", path+"/sign", nil)
	if got.Status != recordvault.StatusSigned {
		t.Fatalf("signed after the refused changes: %+v", got)
	}
}

// refusingRecords and refusingDisclosures are storage that refuses to store records and
// disclosure documents, new or changed (the audit trail still takes events).
type (
	refusingRecords     struct{ *records.Bucket }
	refusingDisclosures struct{ *disclosure.Bucket }
)

var errRefused = errors.New("storage refuses writes")

func (refusingRecords) CreateManifest(context.Context, *records.Manifest) (string, error) {
	return "", errRefused
}
func (refusingRecords) ReplaceManifest(context.Context, *records.Manifest, string) (string, error) {
	return "", errRefused
}
func (refusingDisclosures) CreateDisclosure(context.Context, *disclosure.Stored) (string, error) {
	return "", errRefused
}
func (refusingDisclosures) ReplaceDisclosure(context.Context, *disclosure.Stored, string) (string, error) {
	return "", errRefused
}

// refusingWrites is a process of e's service whose records and disclosures are stored in
// refusingRecords and refusingDisclosures.
func (e *apiEnv) refusingWrites(t testing.TB) *app.Service {
	t.Helper()
	deps := e.deps
	deps.Records = records.New(e.vault, refusingRecords{records.NewBucket(e.store)}, nil)
	deps.Disclosures = disclosure.New(e.vault, e.vault, refusingDisclosures{disclosure.NewBucket(e.store)}, nil)
	svc, err := app.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestAPIRequestsNotStored: an amendment or access request, or a release, that the storage
// refuses after its receipt or decision is in the audit trail is marked abandoned there, so
// the overdue listings do not list it as missing from the bucket for ever, nor the client's
// accounting a disclosure that never was.
func TestAPIRequestsNotStored(t *testing.T) {
	e := newAPIEnv(t, map[string][]recordvault.Role{"dr-lee": {recordvault.RoleClinician}, "admin": {recordvault.RoleClinicAdmin}})
	ctx := context.Background()
	client := e.createClient(t, "admin", []string{"dr-lee"})
	var rec app.RecordView
	e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", "/v1/clients/"+client+"/records", map[string]any{"category": "progress_note",
		"fields": progressNote("weekly CBT"), "sign": true})
	long := time.Now().UTC().AddDate(0, 0, -70).Format(time.DateOnly) // overdue at once, had it been stored
	failing := e.refusingWrites(t)
	drLee := access.Caller{ID: "dr-lee", Clinic: e.clinic, Roles: []recordvault.Role{recordvault.RoleClinician}}
	admin := access.Caller{ID: "admin", Clinic: e.clinic, Roles: []recordvault.Role{recordvault.RoleClinicAdmin}}
	if _, err := failing.RequestAmendment(ctx, drLee, client, rec.ID, recordvault.AmendmentRequest{Received: long, Change: "the date is wrong"}); !errors.Is(err, errRefused) {
		t.Fatalf("an amendment request the storage refused: %v", err)
	}
	if _, err := failing.CreateAccessRequest(ctx, admin, client, app.AccessRequestInput{Received: long,
		RequestedBy: app.RecipientInput{Kind: "client"}, Description: "all notes"}); !errors.Is(err, errRefused) {
		t.Fatalf("an access request the storage refused: %v", err)
	}
	if _, err := failing.CreateRelease(ctx, drLee, client, app.ReleaseInput{Document: rec.ID, Basis: "serious_threat", Fields: []string{"plan"},
		Purpose: "warning of a threat", Attestation: &app.AttestationInput{GoodFaith: true},
		Recipient: app.RecipientInput{Kind: "threatened_person", ID: "target-1", Name: "R. Target", Email: "target-1@recipients.example"}}); !errors.Is(err, errRefused) {
		t.Fatalf("a release the storage refused: %v", err)
	}
	var acc app.Accounting
	e.must(t, http.StatusOK, &acc, "admin", "GET", "/v1/clients/"+client+"/accounting", nil)
	if len(acc.Entries) != 0 {
		t.Fatalf("a release never stored is in the accounting: %+v", acc.Entries)
	}
	var amendments, requests struct{ Items []json.RawMessage }
	e.must(t, http.StatusOK, &amendments, "admin", "GET", "/v1/amendments/overdue", nil)
	e.must(t, http.StatusOK, &requests, "admin", "GET", "/v1/access-requests/overdue", nil)
	if len(amendments.Items) != 0 || len(requests.Items) != 0 {
		t.Fatalf("requests never stored listed as overdue: %s %s", amendments.Items, requests.Items)
	}
	if !strings.Contains(e.auditLog.String(), `"action":"amendment_abandoned"`) || !strings.Contains(e.auditLog.String(), `"action":"access_request_abandoned"`) {
		t.Fatal("the abandoned requests are not in the trail")
	}
}

// TestAPIEvaluationWithDocument: an evaluation is written as a draft, its PDF streamed up,
// then signed; the document streams back whole and by byte ranges, and can no longer be
// replaced.
func TestAPIEvaluationWithDocument(t *testing.T) {
	e := newAPIEnv(t, map[string][]recordvault.Role{"dr-lee": {recordvault.RoleClinician}})
	client := e.createClient(t, "dr-lee", nil)
	base := "/v1/clients/" + client + "/records"
	var rec app.RecordView
	e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", base, map[string]any{"category": "evaluation",
		"fields": map[string]any{"date_of_service": "2026-11-02", "summary": "WAIS-IV within normal limits."}})
	pdf := append([]byte("%PDF-1.7\n"), randomBytes(300_000)...)
	var att app.AttachmentView
	e.must(t, http.StatusCreated, &att, "dr-lee", "POST", base+"/"+rec.ID+"/attachments", pdf, "Content-Type", "application/pdf")
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", base+"/"+rec.ID+"/sign", nil)
	path := base + "/" + rec.ID + "/attachments/" + att.ID
	status, h, whole := e.call(t, "dr-lee", "GET", path, nil)
	if status != http.StatusOK || !bytes.Equal(whole, pdf) || h.Get("Content-Type") != "application/pdf" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("whole document: %d, %d bytes, %v", status, len(whole), h)
	}
	for _, r := range []struct {
		header     string
		start, end int
	}{{"bytes=0-99", 0, 100}, {"bytes=65530-131080", 65530, 131081}, {"bytes=299000-", 299000, len(pdf)}, {"bytes=-10", len(pdf) - 10, len(pdf)}, {"bytes=299990-999999", 299990, len(pdf)}} {
		status, h, part := e.call(t, "dr-lee", "GET", path, nil, "Range", r.header)
		if status != http.StatusPartialContent || !bytes.Equal(part, pdf[r.start:r.end]) || h.Get("Content-Range") == "" {
			t.Errorf("%s: %d, %d bytes, %s", r.header, status, len(part), h.Get("Content-Range"))
		}
	}
	if status, h, _ := e.call(t, "dr-lee", "GET", path, nil, "Range", "bytes=400000-"); status != http.StatusRequestedRangeNotSatisfiable || h.Get("Content-Range") != "bytes */300009" {
		t.Errorf("range past the end: %d %s", status, h.Get("Content-Range"))
	}
	if status, _, _ := e.call(t, "dr-lee", "POST", base+"/"+rec.ID+"/attachments", pdf, "Content-Type", "application/pdf"); status != http.StatusConflict {
		t.Errorf("attaching to a signed evaluation: %d", status)
	}
}

// TestAPIRemoveClinician: a clinician taken off the roster leaves every care team, and their
// login, still accepted by the identity provider, then opens nothing; a clinician cannot
// remove anyone.
func TestAPIRemoveClinician(t *testing.T) {
	e := newAPIEnv(t, map[string][]recordvault.Role{"admin": {recordvault.RoleClinicAdmin}, "dr-lee": {recordvault.RoleClinician},
		"dr-patel": {recordvault.RoleClinician}})
	client := e.createClient(t, "admin", []string{"dr-lee", "dr-patel"})
	var rec app.RecordView
	e.must(t, http.StatusCreated, &rec, "dr-patel", "POST", "/v1/clients/"+client+"/records", map[string]any{"category": "progress_note",
		"fields": progressNote("weekly"), "sign": true})
	path := "/v1/clients/" + client + "/records/" + rec.ID
	e.must(t, http.StatusOK, nil, "dr-lee", "GET", path, nil)
	if s, _, _ := e.call(t, "dr-patel", "DELETE", "/v1/clinicians/dr-lee", nil); s != http.StatusNotFound {
		t.Fatalf("a clinician removing another: %d", s)
	}
	e.must(t, http.StatusNoContent, nil, "admin", "DELETE", "/v1/clinicians/dr-lee", nil)
	if s, _, _ := e.call(t, "dr-lee", "GET", path, nil); s != http.StatusNotFound {
		t.Fatalf("the removed clinician reading a record: %d", s)
	}
	var cl app.ClientView
	e.must(t, http.StatusOK, &cl, "admin", "GET", "/v1/clients/"+client, nil)
	if slices.Contains(cl.CareTeam, "dr-lee") || !slices.Contains(cl.CareTeam, "dr-patel") {
		t.Fatalf("care team after the removal: %v", cl.CareTeam)
	}
	var roster struct{ Items []recordvault.Clinician }
	e.must(t, http.StatusOK, &roster, "admin", "GET", "/v1/clinicians", nil)
	if len(roster.Items) != 1 || roster.Items[0].Subject != "dr-patel" {
		t.Fatalf("roster after the removal: %+v", roster.Items)
	}
}

// TestAPITamperedClinicState: someone who can write the bucket but cannot use the clinic's
// Vault keys edits the stored JSON to put a clinician on a client's care team, and to
// license a clinician. Neither edit opens anything: every request that reads the edited
// object fails (500, nothing of the record in it), the audit trail names the failure, and
// putting the genuine bytes back restores service. Putting back an older genuine profile
// (a clinician taken off the care team, back on it) fails the same way, in this process and
// in a new one (the audit trail records each revision).
func TestAPITamperedClinicState(t *testing.T) {
	e := newAPIEnv(t, map[string][]recordvault.Role{"dr-lee": {recordvault.RoleClinician}, "dr-mallory": {recordvault.RoleClinician},
		"admin": {recordvault.RoleClinicAdmin}})
	e.must(t, http.StatusOK, nil, "admin", "PUT", "/v1/clinicians/dr-mallory", map[string]any{"name": "Mallory", "licensed": false})
	client := e.createClient(t, "admin", []string{"dr-lee"})
	var rec app.RecordView
	e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", "/v1/clients/"+client+"/records", map[string]any{"category": "progress_note",
		"fields": progressNote("plan-canary-7f3a")})
	path := "/v1/clients/" + client + "/records/" + rec.ID
	_, _, notFound := e.call(t, "dr-mallory", "GET", "/v1/clients/"+client+"/records/"+newID(), nil)
	if status, _, b := e.call(t, "dr-mallory", "GET", path, nil); status != http.StatusNotFound || !bytes.Equal(b, notFound) {
		t.Fatalf("off the care team: %d %s", status, b)
	}

	// The bucket edit: append dr-mallory to the care team, leave the tag as it was.
	edit := func(key string, change func(doc map[string]any)) (genuine []byte) {
		t.Helper()
		genuine = getObject(t, e.raw, e.bucket, key)
		var doc map[string]any
		if err := json.Unmarshal(genuine, &doc); err != nil {
			t.Fatal(err)
		}
		change(doc)
		e.put(t, key, doc)
		return genuine
	}
	profileKey := "c/" + e.clinic + "/p/" + client + "/profile"
	genuineProfile := edit(profileKey, func(doc map[string]any) { doc["care_team"] = []any{"dr-lee", "dr-mallory"} })
	e.expireKeptState() // the service decides on the profile it checked until it reads the bucket again
	for _, who := range []string{"dr-mallory", "dr-lee", "admin"} {
		for _, p := range []string{path, "/v1/clients/" + client, "/v1/clients/" + client + "/records"} {
			status, h, b := e.call(t, who, "GET", p, nil)
			if status != http.StatusInternalServerError || h.Get("Content-Type") != "application/problem+json" || strings.Contains(string(b), "canary") {
				t.Errorf("%s GET %s on a tampered profile: %d %s", who, p, status, b)
			}
		}
	}
	if status, _, b := e.call(t, "dr-mallory", "POST", path+"/addenda", map[string]any{"text": "x"}); status != http.StatusInternalServerError {
		t.Errorf("addendum on a tampered profile: %d %s", status, b)
	}
	trail := e.auditLog.String()
	if !strings.Contains(trail, `"action":"integrity_failure"`) || !strings.Contains(trail, "client profile failed its integrity check") {
		t.Fatalf("the audit trail does not name the failure:\n%s", trail)
	}
	if strings.Contains(e.serverLog.String(), "canary") || strings.Contains(trail, "canary") {
		t.Fatal("the record's content reached the log or the trail")
	}
	e.put(t, profileKey, json.RawMessage(genuineProfile))
	e.must(t, http.StatusOK, nil, "dr-lee", "GET", path, nil)
	if status, _, b := e.call(t, "dr-mallory", "GET", path, nil); status != http.StatusNotFound || !bytes.Equal(b, notFound) {
		t.Fatalf("off the care team again: %d %s", status, b)
	}

	// The roster: dr-mallory licensed by an edit.
	staffKey := "c/" + e.clinic + "/staff"
	genuineStaff := edit(staffKey, func(doc map[string]any) {
		for _, c := range doc["clinicians"].([]any) {
			c.(map[string]any)["licensed"] = true
		}
	})
	e.expireKeptState()
	if status, _, b := e.call(t, "admin", "GET", "/v1/clinicians", nil); status != http.StatusInternalServerError || strings.Contains(string(b), "Mallory") {
		t.Errorf("roster listed after tampering: %d %s", status, b)
	}
	if status, _, b := e.call(t, "admin", "PUT", "/v1/clinicians/dr-new", map[string]any{"name": "New", "licensed": true}); status != http.StatusInternalServerError {
		t.Errorf("a roster change on a tampered roster: %d %s", status, b)
	}
	if !strings.Contains(e.auditLog.String(), "clinic roster failed its integrity check") {
		t.Fatal("the audit trail does not name the roster's failure")
	}
	e.put(t, staffKey, json.RawMessage(genuineStaff))
	var roster struct{ Items []recordvault.Clinician }
	e.must(t, http.StatusOK, &roster, "admin", "GET", "/v1/clinicians", nil)
	for _, c := range roster.Items {
		if c.Licensed != (c.Subject != "dr-mallory") {
			t.Fatalf("roster after restoring: %+v", roster.Items)
		}
	}

	// A rollback: dr-mallory is put on the care team and taken off again through the service;
	// the bucket writer puts back the profile as it was while she was on it, tag and all.
	// Another replica, running since before the change, hears of it within a second.
	var ahead atomic.Int64 // how far the replica's clock runs ahead
	replica := e.anotherProcess(t, func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) })
	drLee := access.Caller{ID: "dr-lee", Clinic: e.clinic, Roles: []recordvault.Role{recordvault.RoleClinician}}
	if _, err := replica.GetRecord(context.Background(), drLee, client, rec.ID); err != nil {
		t.Fatal(err)
	}
	e.must(t, http.StatusOK, nil, "admin", "PUT", "/v1/clinicians/dr-mallory", map[string]any{"name": "Mallory", "licensed": true})
	e.must(t, http.StatusOK, nil, "admin", "PUT", "/v1/clients/"+client+"/care-team", map[string]any{"clinicians": []string{"dr-lee", "dr-mallory"}})
	withMallory := getObject(t, e.raw, e.bucket, profileKey)
	e.must(t, http.StatusOK, nil, "admin", "PUT", "/v1/clients/"+client+"/care-team", map[string]any{"clinicians": []string{"dr-lee"}})
	e.put(t, profileKey, json.RawMessage(withMallory))
	e.expireKeptState()
	if status, _, b := e.call(t, "dr-mallory", "GET", path, nil); status != http.StatusInternalServerError || strings.Contains(string(b), "canary") {
		t.Errorf("the rolled-back care team: %d %s", status, b)
	}
	// A process that never saw the later revision learns it from the audit trail; so does the
	// replica that was running, a second on.
	mallory := access.Caller{ID: "dr-mallory", Clinic: e.clinic, Roles: []recordvault.Role{recordvault.RoleClinician}}
	if _, err := e.anotherProcess(t, nil).GetRecord(context.Background(), mallory, client, rec.ID); !errors.Is(err, clinic.ErrTampered) {
		t.Errorf("the rolled-back care team, read by a new process: %v", err)
	}
	ahead.Store(int64(2 * time.Second))
	if _, err := replica.GetRecord(context.Background(), mallory, client, rec.ID); !errors.Is(err, clinic.ErrTampered) {
		t.Errorf("the rolled-back care team, read by a replica running since before the change: %v", err)
	}
}

// put writes v as JSON to key with the bucket's own credentials, as someone with write
// access to the bucket (and no Vault access) could.
func (e *apiEnv) put(t testing.TB, key string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	putObject(t, e.raw, e.bucket, key, b)
}
