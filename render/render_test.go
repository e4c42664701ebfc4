package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"

	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/policy"
)

// pdfText extracts the text of a PDF, page by page.
func pdfText(t *testing.T, b []byte) []string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var pages []string
	for i := 1; i <= r.NumPage(); i++ {
		var sb strings.Builder
		rows, err := r.Page(i).GetTextByRow()
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			for _, w := range row.Content {
				sb.WriteString(w.S)
			}
			sb.WriteString("\n")
		}
		pages = append(pages, sb.String())
	}
	return pages
}

func TestAccountingPDF(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	acc := &app.Accounting{Client: "c1", From: now.AddDate(-6, 0, 0), To: now}
	for i := range 40 {
		acc.Entries = append(acc.Entries, app.AccountingEntry{Date: now.AddDate(0, 0, -i), Recipient: fmt.Sprintf("Smith & Søn %d", i),
			Address: "1 Main St", Description: "progress note of 2026-06-01: plan", Purpose: "custody proceeding",
			Basis: policy.CourtOrder, Citation: "45 CFR 164.512(e)(1)(i)", Release: fmt.Sprintf("r%d", i)})
	}
	var b bytes.Buffer
	if err := AccountingPDF(&b, "democlinic", acc, now); err != nil {
		t.Fatal(err)
	}
	pages := pdfText(t, b.Bytes())
	if len(pages) < 2 {
		t.Fatalf("40 entries on %d page(s)", len(pages))
	}
	all := strings.Join(pages, "")
	for _, want := range []string{"Accounting of disclosures", "164.528", "Smith & Søn 0", "Smith & Søn 39", "Recipient: Smith & Søn 7, 1 Main St",
		"Purpose: custody proceeding", "Basis: court_order (45 CFR 164.512(e)(1)(i)); release r39"} {
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
	if text := strings.Join(pdfText(t, b.Bytes()), ""); !strings.Contains(text, "No disclosures to account for.") {
		t.Errorf("an empty accounting reads %q", text)
	}
}
