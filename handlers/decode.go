package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/gorilla/mux"
	"github.com/recordvault/recordvault"
)

// maxJSONBody bounds every JSON request body: records are notes, documents are attachments.
const maxJSONBody = 1 << 20

// maxHeaderBytes bounds a request's header lines; the server's own limit is higher, so that
// what lies between is answered as a problem here rather than as Go's plain-text 431.
const maxHeaderBytes = 16 << 10

// decode reads one JSON document into v: the body must be application/json, at most
// maxJSONBody bytes, valid UTF-8 (Go's decoder would quietly replace what is not), with no
// field v does not have and nothing after it. Its errors name what is wrong and never repeat
// the body.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return recordvault.Errorf(recordvault.EMEDIATYPE, "the body must be application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	var tooLarge *http.MaxBytesError
	var bodyErr *recordvault.Error
	switch {
	case errors.As(err, &tooLarge):
		return recordvault.Errorf(recordvault.ETOOLARGE, "the body is larger than %d bytes", maxJSONBody)
	case errors.As(err, &bodyErr):
		return err // the body's own failure, late or broken off (deadlineBody)
	case err != nil:
		return recordvault.Errorf(recordvault.EINVALID, "the body could not be read")
	}
	if !utf8.Valid(body) {
		return recordvault.Errorf(recordvault.EINVALID, "the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if dec.More() {
		return recordvault.Errorf(recordvault.EINVALID, "the body holds more than one JSON document")
	}
	return nil
}

// jsonProblem describes a decoding error by its place, never by the text it found.
func jsonProblem(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return recordvault.Errorf(recordvault.EINVALID, "malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return recordvault.Errorf(recordvault.EINVALID, "field %q: wrong type, want %s", typ.Field, typ.Type.Kind())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return recordvault.Errorf(recordvault.EINVALID, "the body is empty or cut short")
	}
	if name, ok := unknownField(err); ok {
		return recordvault.Errorf(recordvault.EINVALID, "unknown field %s", name)
	}
	return recordvault.Errorf(recordvault.EINVALID, "malformed JSON")
}

// unknownField extracts the name from encoding/json's `json: unknown field "x"`, quoted
// again and shortened, so nothing unprintable or long reaches the answer.
func unknownField(err error) (string, bool) {
	var name string
	if _, scanErr := fmt.Sscanf(err.Error(), "json: unknown field %q", &name); scanErr != nil {
		return "", false
	}
	if len(name) > 40 {
		name = name[:40] + "…"
	}
	return strconv.Quote(name), true
}

// pathID returns the path variable name, which must be a recordvault id: anything else is a
// malformed request (400), not an unknown resource, since its form says nothing about what
// exists.
func pathID(r *http.Request, name string) (string, error) {
	id := mux.Vars(r)[name]
	if !recordvault.ValidID(id) {
		return "", recordvault.Errorf(recordvault.EINVALID, "malformed %s id: lowercase letters and digits only", name)
	}
	return id, nil
}

// pathSubject reads a login's subject from the path, where it stands percent-encoded (paths
// are matched as sent); the service checks what it holds.
func pathSubject(r *http.Request) (string, error) {
	subject, err := url.PathUnescape(mux.Vars(r)["subject"])
	if err != nil {
		return "", recordvault.Errorf(recordvault.EINVALID, "malformed subject")
	}
	return subject, nil
}

// pathClientSubject reads a client's id and a login's subject from the path.
func pathClientSubject(r *http.Request) (client, subject string, err error) {
	if client, err = pathID(r, "client"); err != nil {
		return "", "", err
	}
	subject, err = pathSubject(r)
	return client, subject, err
}

// page reads ?after=&limit= for a list.
func page(r *http.Request) (after string, limit int, err error) {
	q := r.URL.Query()
	after, limit = q.Get("after"), 50
	if after != "" && !recordvault.ValidID(after) {
		return "", 0, recordvault.Errorf(recordvault.EINVALID, "malformed after: an id from a previous page")
	}
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 200 {
			return "", 0, recordvault.Errorf(recordvault.EINVALID, "limit must be 1 to 200")
		}
	}
	return after, limit, nil
}

// limitHeaders answers requests whose header lines exceed maxHeaderBytes with a 431 problem.
func limitHeaders(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := len(r.Method) + len(r.RequestURI)
		for k, vs := range r.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n > maxHeaderBytes {
			writeProblem(w, r, logger, recordvault.Errorf(codeHeaders, "the request's headers exceed %d bytes", maxHeaderBytes))
			return
		}
		next.ServeHTTP(w, r)
	})
}
