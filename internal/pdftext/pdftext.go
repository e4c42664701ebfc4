// Package pdftext extracts the text of a PDF, page by page, for tests that check what a
// rendered document says (github.com/ledongthuc/pdf).
package pdftext

import (
	"bytes"
	"strings"

	"github.com/ledongthuc/pdf"
)

// Pages returns the text of each page of the PDF b, row by row.
func Pages(b []byte) ([]string, error) {
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	pages := make([]string, 0, r.NumPage())
	for i := 1; i <= r.NumPage(); i++ {
		rows, err := r.Page(i).GetTextByRow()
		if err != nil {
			return nil, err
		}
		var sb strings.Builder
		for _, row := range rows {
			for _, w := range row.Content {
				sb.WriteString(w.S)
			}
			sb.WriteString("\n")
		}
		pages = append(pages, sb.String())
	}
	return pages, nil
}
