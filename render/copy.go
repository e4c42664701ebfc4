package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/policy"
)

// ReleasedCopyPDF writes what a release discloses as PDF: a cover sheet (the client by name and
// date of birth, the document with its author and signing time, release, recipient, legal basis
// and its citation, purpose, date, releasing clinic, and the redisclosure notice that goes
// with it), then the released fields under their labels in their schema's order, the record's addenda,
// and its amendment requests with whatever followed each (45 CFR 164.526(d)(4): they travel
// with the record), and last the records custodian's certification with its verification
// code. Every page carries a watermark naming the recipient and the release, and a footer
// with the verification code and "Page N of M".
func ReleasedCopyPDF(w io.Writer, c *app.ReleasedCopy, now time.Time) error {
	recipient := c.Recipient.Name
	if recipient == "" {
		recipient = c.Recipient.ID
	}
	watermark := fmt.Sprintf("Released to %s - release %s", recipient, c.Release)
	p, err := newDocument("Released copy "+c.Release, []string{watermark + ". Redisclosure restricted.",
		fmt.Sprintf("Verification code %s. Produced %s.", c.Certification.Code, now.UTC().Format(time.RFC3339))}, watermark)
	if err != nil {
		return err
	}
	para := func(font string, size float64, text string) func() error {
		return func() error { return p.text(font, size, text) }
	}
	gap := func(points float64) func() error { return func() error { p.space(points); return nil } }
	steps := []func() error{
		para("bold", 16, "Released copy"),
		para("regular", 10, fmt.Sprintf("Client: %s, born %s.", c.Client.Name, c.Client.DateOfBirth)),
		para("regular", 10, fmt.Sprintf("Document: %s of %s, written and signed by %s on %s (document %s).", strings.ReplaceAll(string(c.Category), "_", " "),
			c.DateOfService, author(c.Author), c.Signed.UTC().Format("2006-01-02 15:04 MST"), c.Document)),
		para("regular", 10, "Release "+c.Release+", released "+c.Released.UTC().Format(time.DateOnly)+" by "+releasedBy(c)+"."),
		para("regular", 10, fmt.Sprintf("Recipient: %s (%s, %s).", recipient, c.Recipient.Kind, c.Recipient.ID)),
		para("regular", 10, fmt.Sprintf("Legal basis: %s (%s).", policy.BasisLabel(c.Basis), c.Citation)),
		para("regular", 10, "Purpose: "+c.Purpose),
		para("regular", 10, "Security labels: "+labels(c.Security)+"."),
	}
	if w := withheld(c.Withheld); w != "" {
		steps = append(steps, para("regular", 10, w))
	}
	steps = append(steps,
		gap(10),
		para("bold", 11, "Notice"),
	)
	for _, n := range c.Notices {
		steps = append(steps, para("regular", 10, n))
	}
	steps = append(steps, func() error { return p.newPage() }, para("bold", 13, "Released fields"))
	for _, spec := range recordvault.Schemas[c.Category] {
		if raw, ok := c.Fields[spec.Name]; ok {
			text := fieldText(raw)
			if spec.Kind == recordvault.KindDiagnosisCodes {
				text = diagnoses(raw)
			}
			steps = append(steps, gap(6), para("bold", 10, spec.Label), para("regular", 10, text))
		}
	}
	if len(c.Addenda) > 0 {
		steps = append(steps, gap(12), para("bold", 13, "Addenda"))
		for _, a := range c.Addenda {
			steps = append(steps, gap(6), para("bold", 10, fmt.Sprintf("Addendum of %s by %s", a.Created.UTC().Format(time.DateOnly), a.Author)),
				para("regular", 10, a.Text))
		}
	}
	if len(c.Amendments) > 0 {
		steps = append(steps, gap(12), para("bold", 13, "Amendment requests (45 CFR 164.526)"))
		for _, a := range c.Amendments {
			steps = append(steps, gap(6), para("bold", 10, fmt.Sprintf("Request received %s: %s", a.Request.Received, a.Status)),
				para("regular", 10, "Requested change: "+a.Request.Change))
			if d := a.Decision; d != nil {
				text := "Accepted; the record is amended: " + d.Amendment
				if d.Outcome == recordvault.StatusDenied {
					text = fmt.Sprintf("Denied (%s): %s", d.Ground, d.Explanation)
				}
				steps = append(steps, para("regular", 10, text))
			}
			if d := a.Disagreement; d != nil {
				steps = append(steps, para("regular", 10, "Statement of disagreement: "+d.Statement))
			}
			if r := a.Rebuttal; r != nil {
				steps = append(steps, para("regular", 10, "Rebuttal: "+r.Text))
			}
		}
	}
	steps = append(steps, gap(16), para("bold", 13, "Certification of the records custodian"),
		para("regular", 10, c.Certification.Statement),
		para("regular", 10, "Custodian: "+releasedBy(c)+"."),
		para("bold", 11, "Verification code: "+c.Certification.Code),
		para("regular", 10, "Content hash: "+c.Certification.ContentHash),
		para("regular", 10, "The clinic confirms this copy by its code: the release, the recipient, when it was delivered and "+
			"the content hash above, as its signed audit trail records them."))
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("render: released copy: %w", err)
		}
	}
	return p.finish(w)
}

// releasedBy names the releasing clinic: its name and contact when set, and its id.
func releasedBy(c *app.ReleasedCopy) string {
	switch {
	case c.ClinicName == "":
		return "clinic " + c.Clinic
	case c.ClinicContact == "":
		return fmt.Sprintf("%s (clinic %s)", c.ClinicName, c.Clinic)
	}
	return fmt.Sprintf("%s, %s (clinic %s)", c.ClinicName, c.ClinicContact, c.Clinic)
}

// author names a document's author as a reader can tell them: their name on the roster, and
// their login.
func author(a app.CopyAuthor) string {
	if a.Name == "" {
		return a.Subject
	}
	return fmt.Sprintf("%s (%s)", a.Name, a.Subject)
}

// fieldText is a field's value as text: a string as it is, a list of codes joined.
func fieldText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, ", ")
	}
	return string(raw)
}

// diagnoses lists ICD-10-CM codes with their titles where recordvault.DiagnosisTitle knows
// them, one after another.
func diagnoses(raw json.RawMessage) string {
	var codes []string
	if json.Unmarshal(raw, &codes) != nil {
		return string(raw)
	}
	for i, code := range codes {
		if title, ok := recordvault.DiagnosisTitle(code); ok {
			codes[i] = code + " " + title
		}
	}
	return strings.Join(codes, "; ")
}

// labels lists security labels as code (meaning).
func labels(ls []policy.Label) string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = fmt.Sprintf("%s (%s)", l.Code, l.Display)
	}
	return strings.Join(out, ", ")
}

// withheld says what a copy leaves out, never its content; "" when it leaves out nothing.
func withheld(w app.Withheld) string {
	var parts []string
	if len(w.Fields) > 0 {
		parts = append(parts, "the fields "+strings.Join(w.Fields, ", "))
	}
	for _, n := range []struct {
		count      int
		one, other string
	}{{w.Addenda, "addendum", "addenda"}, {w.Amendments, "amendment request", "amendment requests"}, {w.Attachments, "attached document", "attached documents"}} {
		switch {
		case n.count == 1:
			parts = append(parts, "1 "+n.one)
		case n.count > 1:
			parts = append(parts, fmt.Sprintf("%d %s", n.count, n.other))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("Withheld from this copy, as its legal basis requires (%s): %s. Their content is not in this copy.", w.Citation, strings.Join(parts, "; "))
}
