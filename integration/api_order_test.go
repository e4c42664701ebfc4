//go:build integration

package integration

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
)

// TestAPICourtOrder: an order covering progress notes and SUD records of a date range
// releases exactly the progress notes in that range (the SUD record needs a Part 2 order and
// is refused with its citation; the psychotherapy note is outside the order), and its signed
// manifest verifies while a tampered one does not.
func TestAPICourtOrder(t *testing.T) {
	e := newAPIEnv(t, releaseUsers)
	client := e.clientBorn(t, "1979-10-02")
	base := "/v1/clients/" + client
	write := func(category recordvault.Category, fields map[string]any) string {
		var rec app.RecordView
		e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", base+"/records", map[string]any{"category": category, "fields": fields, "sign": true})
		return rec.ID
	}
	note := func(day string) string {
		f := progressNote("plan of " + day)
		f["date_of_service"] = day
		return write(recordvault.ProgressNote, f)
	}
	march, june, september := note("2026-03-01"), note("2026-06-01"), note("2026-09-01")
	sud := write(recordvault.SUDRecord, map[string]any{"date_of_service": "2026-06-10", "note": "intake"})
	psychotherapy := write(recordvault.PsychotherapyNote, map[string]any{"process_notes": "process"})
	order := map[string]any{"court": "Circuit Court, No. 2026-D-123", "issued": "2026-11-01", "purpose": "custody proceeding",
		"recipient":  map[string]string{"kind": "attorney", "id": "smith-law", "email": "smith-law@recipients.example", "name": "Smith Law LLP", "address": "1 Main St"},
		"categories": []string{"progress_note", "sud_record"}, "from": "2026-05-01", "to": "2026-10-01",
		"fields": []string{"date_of_service", "plan"}}

	if s, _, b := e.call(t, "dr-lee", "POST", base+"/court-orders", order); s != http.StatusNotFound {
		t.Fatalf("a clinician recording a court order: %d %s", s, b)
	}
	before := e.bucketState(t)
	for name, change := range map[string]func(o map[string]any){
		"dates reversed":     func(o map[string]any) { o["from"], o["to"] = "2026-10-01", "2026-05-01" },
		"unknown category":   func(o map[string]any) { o["categories"] = []string{"diary"} },
		"to the client":      func(o map[string]any) { o["recipient"] = map[string]string{"kind": "client", "id": "x"} },
		"no categories":      func(o map[string]any) { delete(o, "categories") },
		"malformed document": func(o map[string]any) { o["documents"] = []string{"../r"} },
		"unknown field":      func(o map[string]any) { o["judge"] = "J. Doe" },
		"no delivery route": func(o map[string]any) {
			o["recipient"] = map[string]string{"kind": "attorney", "id": "smith-law", "name": "Smith Law LLP"}
		},
	} {
		bad := maps.Clone(order)
		change(bad)
		if s, _, b := e.call(t, "admin", "POST", base+"/court-orders", bad); s != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, s, b)
		}
	}
	if !maps.Equal(before, e.bucketState(t)) {
		t.Fatal("refused orders changed the bucket")
	}
	var v app.OrderView
	e.must(t, http.StatusCreated, &v, "admin", "POST", base+"/court-orders", order)
	if len(v.Refused) != 1 || v.Refused[0].Document != sud || v.Refused[0].Reason.Citation != "42 CFR 2.64" {
		t.Fatalf("refused: %+v", v.Refused)
	}
	// An order naming the admin who records it as its recipient releases nothing.
	self := maps.Clone(order)
	self["recipient"] = map[string]string{"kind": "attorney", "id": "admin", "email": "admin@clinic.example"}
	var own app.OrderView
	e.must(t, http.StatusCreated, &own, "admin", "POST", base+"/court-orders", self)
	if len(own.Releases) != 0 || len(own.Refused) != 3 || own.Refused[0].Reason.Citation != "45 CFR 164.514(d)(2), 164.308(a)(4)" {
		t.Fatalf("an order to the admin recording it: releases %v, refused %+v", own.Releases, own.Refused)
	}
	// What the order did not reach is on its record, with the reason, for the custodian to
	// answer the court: a document outside its dates, one outside its categories.
	withheld := map[string]string{}
	for _, w := range v.Withheld {
		withheld[w.Document] = w.Reason.Text
		if w.Reason.Citation != "45 CFR 164.512(e)(1)(i)" {
			t.Errorf("withheld %s without the order's citation: %+v", w.Document, w.Reason)
		}
	}
	if len(withheld) != 2 || withheld[march] != "outside the order's dates of service" || withheld[psychotherapy] != "outside the order's categories" {
		t.Fatalf("withheld: %+v", v.Withheld)
	}
	// An order naming documents: one of the client's outside its dates, and one the client
	// does not have, are listed too.
	named := maps.Clone(order)
	unknown := newID()
	named["documents"] = []string{march, june, unknown}
	var n app.OrderView
	e.must(t, http.StatusCreated, &n, "admin", "POST", base+"/court-orders", named)
	reasons := map[string]string{}
	for _, w := range n.Withheld {
		reasons[w.Document] = w.Reason.Text
	}
	if len(n.Releases) != 1 || reasons[march] != "outside the order's dates of service" || reasons[unknown] != "the client has no such document" ||
		reasons[september] != "not among the documents the order names" || reasons[sud] != "not among the documents the order names" {
		t.Fatalf("an order naming documents: releases %v, withheld %+v", n.Releases, n.Withheld)
	}
	var m app.ReleaseManifest
	if err := json.Unmarshal([]byte(v.Manifest), &m); err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, entry := range m.Entries {
		docs = append(docs, entry.Document)
		if !slices.Equal(entry.Fields, []string{"date_of_service", "plan"}) || !strings.HasPrefix(entry.Fingerprint, "sha256:") ||
			entry.Category != recordvault.ProgressNote || !slices.Contains(v.Releases, entry.Release) {
			t.Errorf("manifest entry: %+v", entry)
		}
	}
	slices.Sort(docs)
	want := []string{june, september}
	slices.Sort(want)
	if !slices.Equal(docs, want) || len(v.Releases) != 2 || m.Order != v.ID || m.Client != client || m.Recipient != "smith-law" {
		t.Fatalf("manifest covers %v, want exactly %v (not %s): %s", docs, want, march, v.Manifest)
	}

	verify := func(manifest, signature string) bool {
		var out struct{ Valid bool }
		e.must(t, http.StatusOK, &out, "admin", "POST", "/v1/court-orders/verify", map[string]string{"manifest": manifest, "signature": signature})
		return out.Valid
	}
	if !verify(v.Manifest, v.Signature) {
		t.Fatal("the manifest does not verify")
	}
	for name, tampered := range map[string]string{
		"a document swapped": strings.Replace(v.Manifest, june, march, 1),
		"a field added":      strings.Replace(v.Manifest, `"date_of_service","plan"`, `"date_of_service","plan","progress"`, 1),
		"a byte appended":    v.Manifest + " ",
	} {
		if tampered == v.Manifest {
			t.Fatalf("%s: the tampering changed nothing", name)
		}
		if verify(tampered, v.Signature) {
			t.Errorf("%s: a tampered manifest verifies", name)
		}
	}
	if verify(v.Manifest, strings.Replace(v.Signature, "vault:v1:", "vault:v1:A", 1)) {
		t.Error("a tampered signature verifies")
	}
	if s, _, _ := e.call(t, "admin", "POST", "/v1/court-orders/verify", map[string]string{"manifest": v.Manifest, "signature": "garbage"}); s != http.StatusOK {
		t.Errorf("a malformed signature: %d, want 200 with valid false", s)
	}

	var again app.OrderView
	e.must(t, http.StatusOK, &again, "dr-lee", "GET", base+"/court-orders/"+v.ID, nil)
	if again.Manifest != v.Manifest || again.Signature != v.Signature {
		t.Fatal("the stored order's manifest differs from the one returned")
	}
	var list struct{ Items []app.ReleaseView }
	e.must(t, http.StatusOK, &list, "admin", "GET", base+"/releases", nil)
	list.Items = slices.DeleteFunc(list.Items, func(r app.ReleaseView) bool { return r.Order == n.ID })
	for _, r := range list.Items {
		if r.Order != v.ID || r.Status != app.ReleaseApproved || !slices.Equal(r.Decision.Fields, []string{"date_of_service", "plan"}) {
			t.Errorf("release under the order: %+v", r)
		}
	}
	var acc app.Accounting
	e.must(t, http.StatusOK, &acc, "admin", "GET", base+"/accounting", nil)
	acc.Entries = slices.DeleteFunc(acc.Entries, func(en app.AccountingEntry) bool { return !slices.Contains(v.Releases, en.Release) })
	if len(list.Items) != 2 || len(acc.Entries) != 2 || acc.Entries[0].Citation != "45 CFR 164.512(e)(1)(i)" || acc.Entries[0].Recipient != "Smith Law LLP" {
		t.Fatalf("releases %d, accounting %+v", len(list.Items), acc.Entries)
	}
}
