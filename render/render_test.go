package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/internal/pdftext"
	"github.com/recordvault/recordvault/policy"
)

// pdfText extracts the text of a PDF, page by page.
func pdfText(t *testing.T, b []byte) []string {
	t.Helper()
	pages, err := pdftext.Pages(b)
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

func TestAccountingPDF(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	acc := &app.Accounting{Client: "c1", ClientName: "José Álvarez", ClinicName: "Lakeside Counseling", From: now.AddDate(-6, 0, 0), To: now}
	for i := range 40 {
		acc.Entries = append(acc.Entries, app.AccountingEntry{Date: now.AddDate(0, 0, -i), Recipient: fmt.Sprintf("Smith & Søn %d", i),
			Address: "1 Main St", Description: "progress note of 2026-06-01: plan", Purpose: "custody proceeding",
			Basis: policy.CourtOrder, Citation: "45 CFR 164.512(e)(1)(i)", Release: fmt.Sprintf("r%d", i)})
	}
	acc.Entries[3].Downloads = []time.Time{now.AddDate(0, 0, -2), now.AddDate(0, 0, -1)}
	var b bytes.Buffer
	if err := AccountingPDF(&b, "democlinic", acc, now); err != nil {
		t.Fatal(err)
	}
	pages := pdfText(t, b.Bytes())
	if len(pages) < 2 {
		t.Fatalf("40 entries on %d page(s)", len(pages))
	}
	all := strings.Join(pages, "")
	for _, want := range []string{"Accounting of disclosures", "José Álvarez (client c1), Lakeside Counseling (clinic democlinic).", "164.528", "Smith & Søn 0", "Smith & Søn 39", "Recipient: Smith & Søn 7, 1 Main St",
		"Purpose: custody proceeding", "Basis: a court order (45 CFR 164.512(e)(1)(i)); release r39",
		"Downloaded by the recipient: 2026-11-20, 2026-11-21", "Downloaded by the recipient: not yet"} {
		if !strings.Contains(all, want) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
	for i, p := range pages {
		if !strings.Contains(p, "Confidential.") {
			t.Errorf("page %d lacks its footer", i+1)
		}
	}
	b.Reset()
	if err := AccountingPDF(&b, "democlinic", &app.Accounting{Client: "c1", From: now, To: now}, now); err != nil {
		t.Fatal(err)
	}
	if text := strings.Join(pdfText(t, b.Bytes()), ""); !strings.Contains(text, "No disclosures to account for.") || strings.Contains(text, "Incomplete") {
		t.Errorf("an empty accounting reads %q", text)
	}

	// An accounting whose period lost audit records says so.
	b.Reset()
	gaps := []app.LostPeriod{{From: now.AddDate(0, -2, 0), Until: now.AddDate(0, -1, 0), Acknowledged: now.AddDate(0, 0, -3)}, {Until: now.AddDate(-1, 0, 0), Acknowledged: now}}
	if err := AccountingPDF(&b, "democlinic", &app.Accounting{Client: "c1", From: now, To: now, Gaps: gaps}, now); err != nil {
		t.Fatal(err)
	}
	squeeze := strings.NewReplacer(" ", "", "\n", "") // lines wrap where a space was
	text := squeeze.Replace(strings.Join(pdfText(t, b.Bytes()), ""))
	for _, want := range []string{"Incomplete: the clinic's audit records from 2026-09-22T10:00:00Z to 2026-10-22T10:00:00Z were lost and could not be restored (acknowledged 2026-11-19).",
		"Disclosures made in that period may be missing from this accounting.", "from the start of the clinic's records to 2025-11-22T10:00:00Z"} {
		if !strings.Contains(text, squeeze.Replace(want)) {
			t.Errorf("an accounting with lost records lacks %q: %q", want, text)
		}
	}
}

func TestReleasedCopyPDF(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	long := strings.Repeat("The client reported cravings in the evening and used coping skills. ", 120) // several pages
	c := &app.ReleasedCopy{Release: "rel1", Clinic: "democlinic", ClinicName: "Lakeside Counseling", ClinicContact: "1 Lake St, Springfield; 555-0100", Basis: policy.ByAuthorization, Citation: "45 CFR 164.508(a)(1)",
		Recipient: app.RecipientInput{Kind: policy.ToAttorney, ID: "smith-law", Name: "Smith Law LLP"}, Purpose: "custody proceeding",
		Released: now, Document: "doc1", Category: recordvault.SUDRecord, DateOfService: "2026-06-01",
		Client: app.CopyPerson{Name: "José Álvarez", DateOfBirth: "2011-03-04"}, Author: app.CopyAuthor{Subject: "dr-lee", Name: "Dr. Ana Lee"},
		Signed:  time.Date(2026, 6, 1, 15, 4, 0, 0, time.UTC),
		Fields:  map[string]json.RawMessage{"date_of_service": json.RawMessage(`"2026-06-01"`), "note": json.RawMessage(strconv.Quote(long)), "diagnosis_codes": json.RawMessage(`["F10.20"]`)},
		Addenda: []app.AddendumView{{ID: "a1", Author: "dr-lee", Created: now, Text: "Corrected the session length."}},
		Amendments: []*recordvault.Amendment{{ID: "m1", Status: recordvault.StatusDenied,
			Request:      recordvault.AmendmentRequest{Received: "2026-07-01", Change: "Remove the cravings."},
			Decision:     &recordvault.AmendmentDecision{Outcome: recordvault.StatusDenied, Ground: recordvault.GroundAccurateAndComplete, Explanation: "Accurate."},
			Disagreement: &recordvault.AmendmentDisagreement{Statement: "I disagree with the note."}}},
		Notices: []string{policy.Part2NoticeText}, Security: policy.Labels(recordvault.SUDRecord, true),
		Certification: app.Certification{Code: "G88B-M2RK-PAB9", ContentHash: "sha256:0c1d", Statement: "The clinic named above certifies this copy."}}
	var b bytes.Buffer
	if err := ReleasedCopyPDF(&b, c, now); err != nil {
		t.Fatal(err)
	}
	pages := pdfText(t, b.Bytes())
	if len(pages) < 3 {
		t.Fatalf("%d pages, want a cover sheet and several pages of content", len(pages))
	}
	cover := pages[0]
	for _, want := range []string{"Released copy", "Client: José Álvarez, born 2011-03-04.",
		"written and signed by Dr. Ana Lee (dr-lee) on 2026-06-01 15:04", "Release rel1",
		"by Lakeside Counseling, 1 Lake St, Springfield; 555-0100 (clinic democlinic)", "democlinic", "Recipient: Smith Law LLP (attorney, smith-law)",
		"Legal basis: the client's written authorization (45 CFR 164.508(a)(1))", "Purpose: custody proceeding", "42 CFR part 2", "42 CFR 2.31",
		"Security labels: R (restricted), SUD (substance use disorder information sensitivity)", "NORDSCLCD (no redisclosure without"} {
		if squeeze := strings.NewReplacer(" ", "", "\n", ""); !strings.Contains(squeeze.Replace(cover), squeeze.Replace(want)) { // lines wrap where a space was
			t.Errorf("the cover sheet lacks %q", want)
		}
	}
	all := strings.Join(pages, "")
	for _, want := range []string{"F10.20 Alcohol dependence, uncomplicated", "Corrected the session length.", "Requested change: Remove the cravings.",
		"Denied (accurate_and_complete): Accurate.", "Statement of disagreement: I disagree with the note."} {
		if !strings.Contains(all, want) {
			t.Errorf("the copy lacks %q", want)
		}
	}
	for i, p := range pages {
		if strings.Count(p, "Released to Smith Law LLP - release rel1") < 2 {
			t.Errorf("page %d lacks its watermark or footer: %.200q", i+1, p)
		}
		for _, want := range []string{fmt.Sprintf("Page %d of %d", i+1, len(pages)), "Verification code G88B-M2RK-PAB9"} {
			if !strings.Contains(p, want) {
				t.Errorf("page %d lacks %q", i+1, want)
			}
		}
	}
	// The custodian's certification closes the copy.
	last := pages[len(pages)-1]
	for _, want := range []string{"Certification of the records custodian", "The clinic named above certifies this copy.",
		"Custodian: Lakeside Counseling", "Verification code: G88B-M2RK-PAB9", "Content hash: sha256:0c1d"} {
		if !strings.Contains(last, want) {
			t.Errorf("the last page lacks %q", want)
		}
	}
	// Fields under their labels, not their keys.
	for _, want := range []string{"Date of service", "Diagnoses (ICD-10-CM)", "Note"} {
		if !strings.Contains(all, want) {
			t.Errorf("the copy lacks the label %q", want)
		}
	}
	for _, key := range []string{"date_of_service", "diagnosis_codes"} {
		if strings.Contains(all, key) {
			t.Errorf("the copy shows the key %q to people", key)
		}
	}
}
