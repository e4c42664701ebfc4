// Package render turns what recordvault discloses into documents people read: for now a
// client's accounting of disclosures as PDF. It writes to an io.Writer and does no other
// I/O. Text is set in the Go fonts (golang.org/x/image/font/gofont), embedded in the binary,
// so rendering needs no font on the host and every character a name may hold is covered.
package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/policy"
)

// page is a US Letter page with one-inch margins, written top to bottom. Every page carries
// the footer's lines, and the watermark, when there is one, across its middle.
type page struct {
	pdf       *gopdf.GoPdf
	y         float64
	footer    []string
	watermark string
	pages     int // pages begun; each footer has a place for "Page N of M", filled by finish
}

const (
	margin   = 72.0
	width    = 612.0 - 2*margin
	bottom   = 792.0 - margin
	lineStep = 1.35 // line height as a multiple of the font size
)

func newDocument(title string, footer []string, watermark string) (*page, error) {
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeLetter})
	pdf.SetInfo(gopdf.PdfInfo{Title: title, Producer: "recordvault"})
	if err := pdf.AddTTFFontData("regular", goregular.TTF); err != nil {
		return nil, err
	}
	if err := pdf.AddTTFFontData("bold", gobold.TTF); err != nil {
		return nil, err
	}
	p := &page{pdf: pdf, footer: footer, watermark: watermark}
	return p, p.newPage()
}

func (p *page) newPage() error {
	p.pdf.AddPage()
	if err := p.pdf.SetFont("regular", "", 8); err != nil {
		return err
	}
	for i, line := range p.footer {
		p.pdf.SetXY(margin, bottom+18+10*float64(i))
		if err := p.pdf.Cell(nil, line); err != nil {
			return err
		}
	}
	p.pages++
	p.pdf.SetXY(margin+width-pageNumberWidth, bottom+18+10*float64(len(p.footer)))
	if err := p.pdf.PlaceHolderText(pageNumber(p.pages), pageNumberWidth); err != nil {
		return err
	}
	if p.watermark != "" {
		if err := p.stamp(); err != nil {
			return err
		}
	}
	p.y = margin
	return nil
}

// stamp writes the watermark diagonally across the page, in light grey under the text.
func (p *page) stamp() error {
	if err := p.pdf.SetFont("bold", "", 20); err != nil {
		return err
	}
	p.pdf.SetTextColor(200, 200, 200)
	defer p.pdf.SetTextColor(0, 0, 0)
	p.pdf.Rotate(35, 306, 396)
	defer p.pdf.RotateReset()
	w, err := p.pdf.MeasureTextWidth(p.watermark)
	if err != nil {
		return err
	}
	p.pdf.SetXY(306-w/2, 396)
	return p.pdf.Cell(nil, p.watermark)
}

// text writes s in font at size, wrapped to the page width, starting a new page as needed.
func (p *page) text(font string, size float64, s string) error {
	if err := p.pdf.SetFont(font, "", size); err != nil {
		return err
	}
	lines, err := p.pdf.SplitTextWithWordWrap(s, width)
	if err != nil {
		return err
	}
	for _, line := range lines {
		if p.y+size*lineStep > bottom {
			if err := p.newPage(); err != nil {
				return err
			}
			if err := p.pdf.SetFont(font, "", size); err != nil {
				return err
			}
		}
		p.pdf.SetXY(margin, p.y)
		if err := p.pdf.Cell(nil, line); err != nil {
			return err
		}
		p.y += size * lineStep
	}
	return nil
}

func (p *page) space(points float64) { p.y += points }

// pageNumberWidth is the room of "Page N of M" at the foot of a page, right-aligned.
const pageNumberWidth = 90.0

func pageNumber(n int) string { return fmt.Sprintf("page-%d", n) }

// finish numbers the pages, "Page N of M", now that M is known, and writes the document to w.
func (p *page) finish(w io.Writer) error {
	for n := 1; n <= p.pages; n++ {
		if err := p.pdf.FillInPlaceHoldText(pageNumber(n), fmt.Sprintf("Page %d of %d", n, p.pages), gopdf.Right); err != nil {
			return fmt.Errorf("render: page numbers: %w", err)
		}
	}
	_, err := p.pdf.WriteTo(w)
	return err
}

// downloads lists the days a released copy was downloaded.
func downloads(at []time.Time) string {
	if len(at) == 0 {
		return "not yet"
	}
	days := make([]string, len(at))
	for i, t := range at {
		days[i] = t.UTC().Format(time.DateOnly)
	}
	return strings.Join(days, ", ")
}

// lost says which period of audit records a gap of an accounting lost.
func lost(g app.LostPeriod) string {
	from := "the start of the clinic's records"
	if !g.From.IsZero() {
		from = g.From.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("the clinic's audit records from %s to %s were lost and could not be restored (acknowledged %s)",
		from, g.Until.UTC().Format(time.RFC3339), g.Acknowledged.UTC().Format(time.DateOnly))
}

// named is "name (id)", or id alone when there is no name.
func named(name, id string) string {
	if name == "" {
		return id
	}
	return name + " (" + id + ")"
}

// AccountingPDF writes a client's accounting of disclosures (45 CFR 164.528) as PDF: for each
// disclosure its date, the recipient's name and address, what was disclosed and why, and the
// rule it was made under.
func AccountingPDF(w io.Writer, clinic string, acc *app.Accounting, now time.Time) error {
	p, err := newDocument("Accounting of disclosures", []string{fmt.Sprintf("Accounting of disclosures, client %s, clinic %s, produced %s. Confidential.",
		acc.Client, clinic, now.UTC().Format(time.RFC3339))}, "")
	if err != nil {
		return err
	}
	steps := []func() error{
		func() error { return p.text("bold", 16, "Accounting of disclosures") },
		func() error {
			return p.text("regular", 10, fmt.Sprintf("%s, %s. Disclosures from %s to %s, under 45 CFR 164.528. "+
				"Disclosures to you, under your authorization, and for treatment are not listed (164.528(a)(1)).",
				named(acc.ClientName, "client "+acc.Client), named(acc.ClinicName, "clinic "+clinic), acc.From.Format(time.DateOnly), acc.To.Format(time.DateOnly)))
		},
	}
	for _, g := range acc.Gaps {
		steps = append(steps, func() error {
			p.space(8)
			return p.text("bold", 10, "Incomplete: "+lost(g)+". Disclosures made in that period may be missing from this accounting.")
		})
	}
	if len(acc.Entries) == 0 {
		steps = append(steps, func() error { p.space(8); return p.text("regular", 11, "No disclosures to account for.") })
	}
	for i, e := range acc.Entries {
		recipient := e.Recipient
		if e.Address != "" {
			recipient += ", " + e.Address
		}
		steps = append(steps,
			func() error {
				p.space(10)
				return p.text("bold", 11, fmt.Sprintf("%d. %s", i+1, e.Date.UTC().Format(time.DateOnly)))
			},
			func() error { return p.text("regular", 10, "Recipient: "+recipient) },
			func() error { return p.text("regular", 10, "Disclosed: "+e.Description) },
			func() error { return p.text("regular", 10, "Purpose: "+e.Purpose) },
			func() error {
				return p.text("regular", 10, fmt.Sprintf("Basis: %s (%s); release %s", policy.BasisLabel(e.Basis), e.Citation, e.Release))
			},
			func() error { return p.text("regular", 10, "Downloaded by the recipient: "+downloads(e.Downloads)) },
		)
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("render: accounting: %w", err)
		}
	}
	return p.finish(w)
}
