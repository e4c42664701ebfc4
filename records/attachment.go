package records

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/crypto"
)

// Attachment is an open attachment: Read yields decrypted plaintext, each chunk released only
// after it authenticates; Close zeroes the record's data key and releases the object.
type Attachment struct {
	r     io.Reader
	ahead *prefetcher // reads the object ahead of decryption
	body  io.Closer
	key   *crypto.RecordKey
}

func (a *Attachment) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if errors.Is(err, crypto.ErrAuthentication) {
		err = ErrUnreadable
	}
	return n, err
}

// WriteTo writes the plaintext to w a chunk at a time, without Read's copy through a caller's
// buffer (io.Copy prefers it: a download's response takes each authenticated chunk whole).
func (a *Attachment) WriteTo(w io.Writer) (int64, error) {
	n, err := io.Copy(w, a.r)
	if errors.Is(err, crypto.ErrAuthentication) {
		err = ErrUnreadable
	}
	return n, err
}

// Close releases the object and zeroes the data key.
func (a *Attachment) Close() error {
	a.key.Destroy()
	a.ahead.Close()
	return a.body.Close()
}

// newAttachment returns the plaintext [off, off+n) of stream, read from body (which starts at
// the stream's Range(off, n)) through a prefetcher, so the network runs ahead of decryption.
func newAttachment(key *crypto.RecordKey, stream *crypto.Stream, body io.ReadCloser, off, n int64) (*Attachment, error) {
	ahead := prefetch(body, prefetchSize, prefetchDepth)
	r, err := stream.NewReader(ahead, off, n)
	if err != nil {
		ahead.Close()
		body.Close()
		return nil, err
	}
	return &Attachment{r: r, ahead: ahead, body: body, key: key}, nil
}

// OpenAttachment opens plaintext bytes [off, off+n) of a record's attachment; n < 0 means to
// the end. A whole read (off 0, n < 0) is one GET of the object, its layout taken from the
// size the server reports, so even bytes appended to the object fail authentication. A ranged
// read fetches the header and then only the chunks covering the range.
func (s *Service) OpenAttachment(ctx context.Context, d *Document, blob string, off, n int64) (*Attachment, error) {
	key, err := s.key(ctx, d.m)
	if err != nil {
		return nil, err
	}
	a, err := s.openAttachment(ctx, d.m, key, blob, off, n)
	if err != nil {
		key.Destroy()
		return nil, err
	}
	return a, nil
}

func (s *Service) openAttachment(ctx context.Context, m *Manifest, key *crypto.RecordKey, blob string, off, n int64) (*Attachment, error) {
	var info *Blob
	for i := range m.Blobs {
		if m.Blobs[i].ID == blob {
			info = &m.Blobs[i]
		}
	}
	if info == nil {
		return nil, recordvault.Errorf(recordvault.ENOTFOUND, "attachment not found")
	}
	b := binding(m, blob)
	if off == 0 && n < 0 {
		body, size, err := s.store.OpenBlob(ctx, m.Clinic, m.Record, blob)
		if err != nil {
			return nil, fmt.Errorf("records: open attachment: %w", err)
		}
		if size != info.EncryptedSize {
			body.Close()
			return nil, ErrUnreadable
		}
		stream, err := openStream(key, b, body, size)
		if err != nil {
			body.Close()
			return nil, err
		}
		return newAttachment(key, stream, body, 0, stream.Size())
	}
	header, err := s.store.OpenBlobRange(ctx, m.Clinic, m.Record, blob, 0, crypto.HeaderSize)
	if err != nil {
		return nil, fmt.Errorf("records: open attachment: %w", err)
	}
	stream, err := openStream(key, b, header, info.EncryptedSize)
	header.Close()
	if err != nil {
		return nil, err
	}
	if n < 0 {
		n = stream.Size() - off
	}
	start, length, err := stream.Range(off, n)
	if err != nil {
		return nil, recordvault.Errorf(recordvault.EINVALID, "range outside the attachment")
	}
	body, err := s.store.OpenBlobRange(ctx, m.Clinic, m.Record, blob, start, length)
	if err != nil {
		return nil, fmt.Errorf("records: open attachment: %w", err)
	}
	return newAttachment(key, stream, body, off, n)
}

// openStream reads a stream's header from r and checks it.
func openStream(key *crypto.RecordKey, b crypto.Binding, r io.Reader, encryptedSize int64) (*crypto.Stream, error) {
	header := make([]byte, crypto.HeaderSize)
	if _, err := io.ReadFull(r, header); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrUnreadable
		}
		return nil, fmt.Errorf("records: read attachment header: %w", err)
	}
	stream, err := key.OpenStream(b, header, encryptedSize)
	if err != nil {
		return nil, ErrUnreadable
	}
	return stream, nil
}
