package render

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/policy"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// The accounting as a FHIR Bundle: one AuditEvent per disclosure with the BALP pattern's
// codes and 164.528(b)(2)'s elements, and an OperationOutcome for each lost period.
func TestAccountingFHIR(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	acc := &app.Accounting{Client: "c1", From: now.AddDate(-6, 0, 0), To: now, Entries: []app.AccountingEntry{
		{Date: now.AddDate(0, 0, -3), Recipient: "Smith Law LLP", Address: "1 Main St", Description: "progress note of 2026-06-01: plan",
			Purpose: "custody proceeding", Basis: policy.CourtOrder, Citation: "45 CFR 164.512(e)(1)(i)", Release: "r1",
			Downloads: []time.Time{now.AddDate(0, 0, -2), now.AddDate(0, 0, -1)}},
		{Date: now.AddDate(0, 0, -1), Recipient: "unknown", Description: "the record of this release is missing", Release: "r2", Unavailable: true},
	}, Gaps: []app.LostPeriod{{From: now.AddDate(0, -1, 0), Until: now.AddDate(0, -1, 1), Acknowledged: now}}}
	var b bytes.Buffer
	if err := AccountingFHIR(&b, "democlinic", acc); err != nil {
		t.Fatal(err)
	}
	bundle, err := fhir.UnmarshalBundle(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if bundle.Type != fhir.BundleTypeCollection || len(bundle.Entry) != 3 || bundle.Total != nil || bundle.Timestamp == nil {
		t.Fatalf("bundle %+v", bundle)
	}
	ev, err := fhir.UnmarshalAuditEvent(bundle.Entry[0].Resource)
	if err != nil {
		t.Fatal(err)
	}
	if *ev.Type.Code != "110106" || *ev.Subtype[0].Code != "disclose" || *ev.Action != fhir.AuditEventActionR || ev.Recorded != "2026-11-19T10:00:00Z" ||
		*ev.Period.End != "2026-11-21T10:00:00Z" || *ev.Id != "r1" {
		t.Fatalf("event %s", bundle.Entry[0].Resource)
	}
	if len(ev.Agent) != 2 || *ev.Agent[0].Type.Coding[0].Code != "110153" || *ev.Agent[1].Type.Coding[0].Code != "110152" ||
		*ev.Agent[1].Name != "Smith Law LLP, 1 Main St" || *ev.Agent[0].Who.Identifier.Value != *ev.Source.Observer.Identifier.Value {
		t.Fatalf("agents %s", bundle.Entry[0].Resource)
	}
	if *ev.Entity[0].What.Identifier.Value != "c1" || *ev.Entity[0].Role.Code != "1" || *ev.Entity[1].Description != "progress note of 2026-06-01: plan" ||
		*ev.PurposeOfEvent[0].Text != "custody proceeding (court_order, 45 CFR 164.512(e)(1)(i))" {
		t.Fatalf("entities and purpose %s", bundle.Entry[0].Resource)
	}
	var kinds []string
	for _, e := range bundle.Entry {
		var r struct{ ResourceType string }
		if err := json.Unmarshal(e.Resource, &r); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, r.ResourceType)
	}
	if kinds[1] != "AuditEvent" || kinds[2] != "OperationOutcome" {
		t.Fatalf("resources %v", kinds)
	}
	oo, err := fhir.UnmarshalOperationOutcome(bundle.Entry[2].Resource)
	if err != nil || oo.Issue[0].Code != fhir.IssueTypeIncomplete || oo.Issue[0].Severity != fhir.IssueSeverityWarning {
		t.Fatalf("the lost period: %s, %v", bundle.Entry[2].Resource, err)
	}
}
