package app

import (
	"context"
	"encoding/json"
	"unicode/utf8"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/records"
)

// An addendum's fields: its text, and the fields of the record it concerns (JSON; absent for
// the whole record).
const (
	addendumText     = "text"
	addendumConcerns = "concerns"
)

// AddAddendum adds an addendum to a signed record: the way a signed record is corrected.
// concerns names the fields of the record it is about (none: the whole record).
func (s *Service) AddAddendum(ctx context.Context, c access.Caller, client, record, text string, concerns []string) (*AddendumView, error) {
	if text == "" || len(text) > recordvault.MaxTextField || !utf8.ValidString(text) {
		return nil, recordvault.Errorf(recordvault.EINVALID, "an addendum's text is 1 to %d bytes of UTF-8", recordvault.MaxTextField)
	}
	doc, err := s.loadRecord(ctx, c, "add_addendum", access.WriteRecord, client, record)
	if err != nil {
		return nil, err
	}
	if err := recordvault.CheckConcerns(doc.Category, concerns); err != nil {
		return nil, err
	}
	if doc.Status != recordvault.StatusSigned {
		return nil, recordvault.Errorf(recordvault.ECONFLICT, "a draft is changed, not amended: addenda are for signed records")
	}
	fields := map[string][]byte{addendumText: []byte(text)}
	if len(concerns) > 0 {
		fields[addendumConcerns], _ = json.Marshal(concerns)
	}
	k, err := s.records.AddChild(ctx, doc, records.NewChild{Kind: recordvault.AddendumDocument, Author: c.ID,
		Status: recordvault.StatusSigned, Fields: fields})
	if err != nil {
		return nil, err
	}
	return &AddendumView{ID: k.ID, Author: k.Author, Created: k.Created, Text: text, Concerns: concerns}, nil
}
