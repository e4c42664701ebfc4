package handlers

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/recordvault/recordvault"
)

// encode writes v as JSON with the given status.
func encode(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	// The status line is sent; a failed write means the client went away.
	_ = json.NewEncoder(w).Encode(v)
}

// statusOf maps every application error code to its HTTP status: the single table.
var statusOf = map[string]int{
	recordvault.EINVALID:      http.StatusBadRequest,
	recordvault.ENOTFOUND:     http.StatusNotFound,
	recordvault.ECONFLICT:     http.StatusConflict,
	recordvault.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	recordvault.EUNAUTHORIZED: http.StatusUnauthorized,
	recordvault.EUNAVAILABLE:  http.StatusServiceUnavailable,
	recordvault.EINTERNAL:     http.StatusInternalServerError,
	codeMethod:                http.StatusMethodNotAllowed,
}

// codeMethod is an HTTP-only code: the route exists but not for this method.
const codeMethod = "method_not_allowed"

var (
	errNoRoute = recordvault.Errorf(recordvault.ENOTFOUND, "not found")
	errMethod  = recordvault.Errorf(codeMethod, "method not allowed")
)

// problem is an RFC 9457 problem details document.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
}

// writeProblem answers err as application/problem+json. Only the caller-safe message of a
// *recordvault.Error is shown; anything else is answered as internal and logged here.
func writeProblem(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	code := recordvault.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status, code = http.StatusInternalServerError, recordvault.EINTERNAL
	}
	if status == http.StatusInternalServerError {
		// Errors carry no PHI by construction, so the detail can be logged; it is never sent.
		logger.ErrorContext(r.Context(), "internal error", "err", err)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(problem{
		Type:   "urn:recordvault:problem:" + code,
		Title:  http.StatusText(status),
		Status: status,
		Detail: recordvault.ErrorMessage(err),
		Code:   code,
	})
}
