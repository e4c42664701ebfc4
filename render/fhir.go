package render

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/recordvault/recordvault/app"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// AccountingFHIR writes a client's accounting of disclosures as a FHIR R4 Bundle (a
// collection) of AuditEvents, one per disclosure, shaped after IHE BALP's "Privacy
// Disclosure at Source" (IHE.BasicAudit.PrivacyDisclosure.Source), whose elements map one to
// one onto 164.528(b)(2)'s: the event is an export (DICOM 110106) whose subtype is a
// disclosure (ISO 21089), read (action R), recorded when it was approved, over the period to
// its last download; the clinic is the source agent (DICOM 110153) and the observer, the
// recipient the destination agent (DICOM 110152) with its name and address; the client is the
// patient entity, the release the data entity, described as in the accounting; the purpose
// and legal basis are the purpose of the event. Lost audit records (Accounting.Gaps) become an
// OperationOutcome warning that the accounting is incomplete. It is not validated against the
// profile here (no FHIR validator is reachable from these machines), so it claims none in
// meta.profile.
func AccountingFHIR(w io.Writer, clinic string, acc *app.Accounting) error {
	resources := make([]any, 0, len(acc.Entries)+1)
	for _, e := range acc.Entries {
		resources = append(resources, disclosureEvent(clinic, acc.Client, e))
	}
	if len(acc.Gaps) > 0 {
		oo := fhir.OperationOutcome{}
		for _, g := range acc.Gaps {
			oo.Issue = append(oo.Issue, fhir.OperationOutcomeIssue{Severity: fhir.IssueSeverityWarning, Code: fhir.IssueTypeIncomplete,
				Diagnostics: ptr(lost(g) + ": disclosures made in that period may be missing")})
		}
		resources = append(resources, oo)
	}
	// No total: FHIR allows it in search and history bundles only (bdl-1).
	bundle := fhir.Bundle{Type: fhir.BundleTypeCollection, Timestamp: ptr(acc.To.UTC().Format(time.RFC3339))}
	for _, r := range resources {
		raw, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("render: accounting as FHIR: %w", err)
		}
		bundle.Entry = append(bundle.Entry, fhir.BundleEntry{Resource: raw})
	}
	return json.NewEncoder(w).Encode(bundle)
}

// The codes of the BALP pattern.
const (
	dicomSystem      = "http://dicom.nema.org/resources/ontology/DCM"
	lifecycleSystem  = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle"
	entityTypeSystem = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	objectRoleSystem = "http://terminology.hl7.org/CodeSystem/object-role"
	sourceTypeSystem = "http://terminology.hl7.org/CodeSystem/security-source-type"
	clinicIDSystem   = "urn:recordvault:clinic"
	clientIDSystem   = "urn:recordvault:client"
	releaseIDSystem  = "urn:recordvault:release"
	recipientSystem  = "urn:recordvault:recipient"
)

// disclosureEvent is one accounted disclosure as an AuditEvent.
func disclosureEvent(clinic, client string, e app.AccountingEntry) fhir.AuditEvent {
	source := fhir.Reference{Identifier: &fhir.Identifier{System: ptr(clinicIDSystem), Value: ptr(clinic)}, Display: ptr("clinic " + clinic)}
	recipient := e.Recipient
	if e.Address != "" {
		recipient += ", " + e.Address
	}
	purpose := e.Purpose
	if e.Basis != "" {
		purpose = fmt.Sprintf("%s (%s, %s)", e.Purpose, e.Basis, e.Citation)
	}
	ev := fhir.AuditEvent{
		Id:       ptr(e.Release),
		Type:     fhir.Coding{System: ptr(dicomSystem), Code: ptr("110106"), Display: ptr("Export")},
		Subtype:  []fhir.Coding{{System: ptr(lifecycleSystem), Code: ptr("disclose"), Display: ptr("Disclose Record Lifecycle Event")}},
		Action:   ptr(fhir.AuditEventActionR),
		Recorded: e.Date.UTC().Format(time.RFC3339),
		Outcome:  ptr(fhir.AuditEventOutcome0),
		Agent: []fhir.AuditEventAgent{
			{Type: concept(dicomSystem, "110153", "Source Role ID"), Who: &source, Requestor: false,
				Network: &fhir.AuditEventAgentNetwork{Address: ptr(clinicIDSystem + ":" + clinic), Type: ptr(fhir.AuditEventAgentNetworkType5)}},
			{Type: concept(dicomSystem, "110152", "Destination Role ID"), Requestor: false, Name: ptr(recipient),
				Who: &fhir.Reference{Identifier: &fhir.Identifier{System: ptr(recipientSystem), Value: ptr(e.Recipient)}, Display: ptr(recipient)}},
		},
		Source: fhir.AuditEventSource{Site: ptr(clinic), Observer: source,
			Type: []fhir.Coding{{System: ptr(sourceTypeSystem), Code: ptr("4"), Display: ptr("Application Server")}}},
		Entity: []fhir.AuditEventEntity{
			{What: &fhir.Reference{Identifier: &fhir.Identifier{System: ptr(clientIDSystem), Value: ptr(client)}},
				Type: &fhir.Coding{System: ptr(entityTypeSystem), Code: ptr("1"), Display: ptr("Person")},
				Role: &fhir.Coding{System: ptr(objectRoleSystem), Code: ptr("1"), Display: ptr("Patient")}},
			{What: &fhir.Reference{Identifier: &fhir.Identifier{System: ptr(releaseIDSystem), Value: ptr(e.Release)}},
				Type:        &fhir.Coding{System: ptr(entityTypeSystem), Code: ptr("2"), Display: ptr("System Object")},
				Role:        &fhir.Coding{System: ptr(objectRoleSystem), Code: ptr("4"), Display: ptr("Domain Resource")},
				Description: ptr(e.Description)},
		},
	}
	if purpose != "" {
		ev.PurposeOfEvent = []fhir.CodeableConcept{{Text: ptr(purpose)}}
	}
	if n := len(e.Downloads); n > 0 {
		ev.Period = &fhir.Period{Start: ptr(e.Date.UTC().Format(time.RFC3339)), End: ptr(e.Downloads[n-1].UTC().Format(time.RFC3339))}
	}
	return ev
}

func concept(system, code, display string) *fhir.CodeableConcept {
	return &fhir.CodeableConcept{Coding: []fhir.Coding{{System: ptr(system), Code: ptr(code), Display: ptr(display)}}}
}

func ptr[T any](v T) *T { return &v }
