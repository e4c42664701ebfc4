package app

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/records"
)

// A client's own file, as the client portal shows it to their own login: which records the
// clinic holds about them (never a psychotherapy note, outside the right of access, 45 CFR
// 164.524(a)(1)(i)), and the amendment requests they made of each. Content reaches a client
// through released copies, as before: these views carry none.

// OwnRecordView is one of a client's records as they see it in their file.
type OwnRecordView struct {
	ID         string               `json:"id"`
	Category   recordvault.Category `json:"category"`
	Author     string               `json:"author"`
	AuthorName string               `json:"author_name,omitempty"` // on the clinic's roster
	Status     recordvault.Status   `json:"status"`
	Created    time.Time            `json:"created"`
	Updated    time.Time            `json:"updated"`
	// Amendments are the requests to amend it, with what followed each (OwnRecord only).
	Amendments []*recordvault.Amendment `json:"amendments,omitempty"`
}

// OwnRecords returns a page of up to limit of the client's records, for their own login,
// after the record after (""; the first page), and the after of the next page ("" at the
// end). Psychotherapy notes are passed over, and a page is filled past them, so that neither
// its items nor its length tells that one exists.
func (s *Service) OwnRecords(ctx context.Context, c access.Caller, client, after string, limit int) ([]OwnRecordView, string, error) {
	if !onlyOwnCopies(c) {
		return nil, "", s.decide(ctx, c, "list_own_records", client, "", refused("a client's own file is for their own login"))
	}
	if _, err := s.loadClientOrSelf(ctx, c, "list_own_records", client); err != nil {
		return nil, "", err
	}
	names, err := s.rosterNames(ctx, c)
	if err != nil {
		return nil, "", err
	}
	out := []OwnRecordView{}
	for {
		docs, err := s.listPage(ctx, c.Clinic, client, after, limit)
		if err != nil {
			return nil, "", err
		}
		for _, doc := range docs {
			after = doc.ID
			if doc.Category != recordvault.PsychotherapyNote {
				out = append(out, ownView(doc, names))
				if len(out) == limit {
					return out, after, nil
				}
			}
		}
		if len(docs) < limit {
			return out, "", nil
		}
	}
}

// OwnRecord returns one of the client's records, for their own login, with their amendment
// requests of it; a psychotherapy note answers as a record that does not exist.
func (s *Service) OwnRecord(ctx context.Context, c access.Caller, client, record string) (*OwnRecordView, error) {
	doc, err := s.loadOwnRecord(ctx, c, "read_own_record", client, record)
	if err != nil {
		return nil, err
	}
	names, err := s.rosterNames(ctx, c)
	if err != nil {
		return nil, err
	}
	_, amendments, err := s.children(ctx, doc)
	if err != nil {
		return nil, err
	}
	v := ownView(doc, names)
	v.Amendments = amendments
	return &v, nil
}

func ownView(doc *records.Document, names map[string]string) OwnRecordView {
	return OwnRecordView{ID: doc.ID, Category: doc.Category, Author: doc.Author, AuthorName: names[doc.Author], Status: doc.Status,
		Created: doc.Created, Updated: doc.Updated}
}

// rosterNames are the names of the clinic's clinicians, by subject.
func (s *Service) rosterNames(ctx context.Context, c access.Caller) (map[string]string, error) {
	st, err := s.clinicState(ctx, c)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(st.Clinicians))
	for _, cl := range st.Clinicians {
		names[cl.Subject] = cl.Name
	}
	return names, nil
}

// loadOwnRecord reads, for a client's own login or their personal representative's, one of
// the client's records the right of access covers: any but a psychotherapy note. The
// decision is audited as event; a psychotherapy note, another's record and an unknown one
// answer alike.
func (s *Service) loadOwnRecord(ctx context.Context, c access.Caller, event, client, record string) (*records.Document, error) {
	d := refused("a client reaches only their own file")
	var doc *records.Document
	if onlyOwnCopies(c) && recordvault.ValidID(record) {
		st, err := s.standingOf(ctx, c, client)
		if err != nil {
			return nil, err
		}
		if d = st.decision(); d.Allowed {
			doc, err = s.records.Load(ctx, c.Clinic, client, record)
			switch {
			case errors.Is(err, recordvault.ErrNotFound):
				d = refused("no such record in the client's file")
			case err != nil:
				return nil, err
			case doc.Category == recordvault.PsychotherapyNote:
				d = refused("psychotherapy notes are outside the right of access (45 CFR 164.524(a)(1)(i))")
			case !slices.Contains(doc.Participants, client):
				d = refused("the record is not about the client")
			}
		}
	}
	if err := s.decide(ctx, c, event, client, record, d); err != nil {
		return nil, err
	}
	return doc, nil
}
