package handlers

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/render"
)

// Released copies go out as the bytes of their session's format, the same bytes every time
// within the session (produced at the session's time), so that a copy cut off by a dropped
// connection can be resumed with Range where it stopped. JSON and PDF copies are rendered
// whole (a note's fields are bounded); a ZIP bundle streams its attachments, decrypted as it
// goes, and its length is known beforehand from theirs.

// copyBody is a copy ready to be sent: its type, name, length, and how to write it.
type copyBody struct {
	mediaType, name string
	size            int64
	write           func(w io.Writer) error
}

// serveCopy sends released in its session's format: whole (200), or the single byte range
// asked for (206), and audits a delivery that reached the copy's last byte.
func serveCopy(w http.ResponseWriter, r *http.Request, logger *slog.Logger, svc *app.Service, proof app.Proof, released *app.ReleasedCopy, session *app.Session) {
	body, err := copyOf(r, svc, released, session)
	if err != nil {
		writeProblem(w, r, logger, err)
		return
	}
	off, n, ranged, err := parseRange(r.Header.Get("Range"))
	if err == nil {
		off, n, err = recordvault.ResolveRange(off, n, body.size)
	}
	if err != nil {
		w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(body.size, 10))
		writeProblem(w, r, logger, err)
		return
	}
	start, end := off, off+n
	h := w.Header()
	h.Set("Content-Type", body.mediaType)
	h.Set("Content-Disposition", `attachment; filename="`+body.name+`"`)
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Length", strconv.FormatInt(end-start, 10))
	status := http.StatusOK
	if ranged {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, body.size))
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	win := &window{w: w, skip: start, left: end - start}
	if err := body.write(win); err != nil && !errors.Is(err, errWindowDone) {
		// The status is sent: the copy stops short of its Content-Length, which the client
		// sees, and resumes. The error names no content.
		logger.WarnContext(r.Context(), "released copy ended early", "err", err)
		return
	}
	if end == body.size && win.left == 0 {
		if err := svc.Delivered(r.Context(), proof, released); err != nil {
			logger.ErrorContext(r.Context(), "the delivery of a released copy could not be audited", "err", err)
		}
	}
}

// copyOf renders released in its session's format.
func copyOf(r *http.Request, svc *app.Service, released *app.ReleasedCopy, session *app.Session) (*copyBody, error) {
	name := "release-" + released.Release + "." + session.Format
	switch session.Format {
	case app.FormatJSON:
		b, err := json.Marshal(released)
		if err != nil {
			return nil, err
		}
		b = append(b, '\n')
		return &copyBody{mediaType: "application/json", name: name, size: int64(len(b)), write: bytesWriter(b)}, nil
	case app.FormatPDF:
		var doc bytes.Buffer
		if err := render.ReleasedCopyPDF(&doc, released, session.Produced); err != nil {
			return nil, err
		}
		return &copyBody{mediaType: "application/pdf", name: name, size: int64(doc.Len()), write: bytesWriter(doc.Bytes())}, nil
	}
	return bundleOf(r, svc, released, session, name)
}

func bytesWriter(b []byte) func(io.Writer) error {
	return func(w io.Writer) error { _, err := w.Write(b); return err }
}

// bundleOf is the copy as a ZIP archive: the copy as PDF (cover sheet, fields, notices,
// watermark) and each attached document as it was filed, stored (PDFs do not compress),
// decrypted chunk by chunk as the archive is written, so memory stays flat whatever the
// attachments' size. Stamping every page of an attached PDF would need the whole file in
// memory; the bundle's cover sheet travels with it instead. Its length is that of the same
// archive written with zeros for the attachments' bytes.
func bundleOf(r *http.Request, svc *app.Service, released *app.ReleasedCopy, session *app.Session, name string) (*copyBody, error) {
	var cover bytes.Buffer
	if err := render.ReleasedCopyPDF(&cover, released, session.Produced); err != nil {
		return nil, err
	}
	write := func(w io.Writer, open func(app.AttachmentView) (io.ReadCloser, error)) error {
		z := zip.NewWriter(w)
		add := func(name string, body io.Reader) error {
			f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: released.Released})
			if err != nil {
				return err
			}
			_, err = io.Copy(f, body)
			return err
		}
		if err := add("release-"+released.Release+"-cover-and-fields.pdf", bytes.NewReader(cover.Bytes())); err != nil {
			return err
		}
		for _, a := range released.Attachments {
			body, err := open(a)
			if err != nil {
				return err
			}
			err = add("attachment-"+a.ID+".pdf", body)
			body.Close()
			if err != nil {
				return err
			}
		}
		return z.Close()
	}
	var size counter
	if err := write(&size, func(a app.AttachmentView) (io.ReadCloser, error) {
		return io.NopCloser(io.LimitReader(zeros{}, a.Size)), nil
	}); err != nil {
		return nil, err
	}
	return &copyBody{mediaType: "application/zip", name: name, size: int64(size), write: func(w io.Writer) error {
		return write(w, func(a app.AttachmentView) (io.ReadCloser, error) {
			return svc.OpenReleased(r.Context(), released, a.ID)
		})
	}}, nil
}

type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// window passes on the bytes of a copy from skip for left bytes, and stops the copy's
// writing with errWindowDone once they are out.
type window struct {
	w          io.Writer
	skip, left int64
}

var errWindowDone = errors.New("the range is sent")

func (v *window) Write(p []byte) (int, error) {
	n := len(p)
	if v.skip >= int64(len(p)) {
		v.skip -= int64(len(p))
		return n, nil
	}
	p, v.skip = p[v.skip:], 0
	if int64(len(p)) > v.left {
		p = p[:v.left]
	}
	if _, err := v.w.Write(p); err != nil {
		return 0, err
	}
	v.left -= int64(len(p))
	if v.left == 0 {
		return n, errWindowDone
	}
	return n, nil
}
