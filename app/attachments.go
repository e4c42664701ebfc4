package app

import (
	"bytes"
	"context"
	"io"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/records"
)

// Attachments: a record's filed documents (PDF), streamed in and out encrypted.

func hasPDF(blobs []records.Blob) bool {
	for _, b := range blobs {
		if b.MediaType == MediaTypePDF {
			return true
		}
	}
	return false
}

// MediaTypePDF is the one attachment type recordvault takes: documents such as evaluations.
const MediaTypePDF = "application/pdf"

// MaxAttachmentSize bounds one attachment.
const MaxAttachmentSize = 4 << 30

// AddAttachment stores a PDF of size bytes read from body on a draft record. The body must
// begin as a PDF does.
func (s *Service) AddAttachment(ctx context.Context, c access.Caller, client, record string, body io.Reader, size int64) (*AttachmentView, error) {
	doc, err := s.loadRecord(ctx, c, "add_attachment", access.SignRecord, client, record)
	if err != nil {
		return nil, err
	}
	if size <= 0 || size > MaxAttachmentSize {
		return nil, recordvault.Errorf(recordvault.ETOOLARGE, "an attachment is 1 byte to %d bytes, with its length given", int64(MaxAttachmentSize))
	}
	magic := make([]byte, 5)
	if _, err := io.ReadFull(body, magic); err != nil || string(magic) != "%PDF-" {
		return nil, recordvault.Errorf(recordvault.EMEDIATYPE, "attachments are PDF documents")
	}
	b, err := s.records.AddAttachment(ctx, doc, records.NewAttachment{Body: io.MultiReader(bytes.NewReader(magic), body), Size: size, MediaType: MediaTypePDF})
	if err != nil {
		return nil, err
	}
	if err := s.draftRevised(ctx, c, client, doc); err != nil {
		return nil, err
	}
	return &AttachmentView{ID: b.ID, Size: b.Size, MediaType: b.MediaType}, nil
}

// Opened is an open attachment: plaintext bytes [Off, Off+N) of an attachment of Size bytes.
type Opened struct {
	*records.Attachment
	Off, N, Size int64
}

// OpenAttachment opens plaintext bytes [off, off+n) of an attachment: n < 0 means to the
// end, off < 0 the last -off bytes, and a range running past the end stops at it (RFC 9110
// 14.1.2). A range that starts past the end is ERANGE, with the size in Opened.
func (s *Service) OpenAttachment(ctx context.Context, c access.Caller, client, record, blob string, off, n int64) (*Opened, error) {
	doc, err := s.loadRecord(ctx, c, "read_attachment", access.ReadRecord, client, record)
	if err != nil {
		return nil, err
	}
	for _, b := range doc.Attachments {
		if b.ID != blob {
			continue
		}
		if off, n, err = recordvault.ResolveRange(off, n, b.Size); err != nil {
			return &Opened{Size: b.Size}, errRange
		}
		a, err := s.records.OpenAttachment(ctx, doc, blob, off, n)
		if err != nil {
			return nil, err
		}
		return &Opened{Attachment: a, Off: off, N: n, Size: b.Size}, nil
	}
	return nil, recordvault.ErrNotFound
}

var errRange = recordvault.Errorf(recordvault.ERANGE, "the range is outside the attachment")
