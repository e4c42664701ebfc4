package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

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
	recordvault.EMEDIATYPE:    http.StatusUnsupportedMediaType,
	recordvault.ERANGE:        http.StatusRequestedRangeNotSatisfiable,
	recordvault.EUNAUTHORIZED: http.StatusUnauthorized,
	recordvault.EUNAVAILABLE:  http.StatusServiceUnavailable,
	recordvault.EINTERNAL:     http.StatusInternalServerError,
	codeMethod:                http.StatusMethodNotAllowed,
	codeHeaders:               http.StatusRequestHeaderFieldsTooLarge,
	codeTimeout:               http.StatusRequestTimeout,
	codeRateLimited:           http.StatusTooManyRequests,
}

// HTTP-only codes: the route exists but not for this method; the headers are too large; the
// body did not arrive in time.
const (
	codeMethod  = "method_not_allowed"
	codeHeaders = "headers_too_large"
	codeTimeout = "request_timeout"
)

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
// *recordvault.Error is shown; anything else is answered as internal and logged here. A
// request whose body failed is answered with that failure, whatever the handler made of it.
func writeProblem(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	err, status, code := prepareFailure(w, r, logger, err)
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

// prepareFailure readies the answer to a failed request, whatever its form (problem+json,
// or a portal page): the error answered (a failed body's, if the body failed), its status
// and code from the single table, a "not found" held to its floor, Retry-After set, an
// internal error logged.
func prepareFailure(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) (error, int, string) {
	if cause := bodyFailure(r); cause != nil {
		err = cause
	}
	code := recordvault.ErrorCode(err)
	if code == recordvault.EINTERNAL && errors.Is(r.Context().Err(), context.DeadlineExceeded) {
		code = recordvault.EUNAVAILABLE // the request's budget ran out (requestBudget)
	}
	status, ok := statusOf[code]
	if !ok {
		status, code = http.StatusInternalServerError, recordvault.EINTERNAL
	}
	if code == recordvault.ENOTFOUND {
		padToFloor(r)
	}
	if status == http.StatusInternalServerError {
		// Errors carry no PHI by construction, so the detail can be logged; it is never sent.
		logger.ErrorContext(r.Context(), "internal error", "err", err)
	}
	if status == http.StatusServiceUnavailable {
		// Which dependency, and how it failed: what an operator looks for first.
		logger.WarnContext(r.Context(), "unavailable", "err", err)
		w.Header().Set("Retry-After", retryAfter)
	}
	if after, ok := retryAfterOf(err); ok {
		w.Header().Set("Retry-After", after)
	}
	return err, status, code
}

// retryAfter is how many seconds a caller answered 503 waits before trying again: a dependency
// that stalled or went away is given that long, and a client's retries are spread.
const retryAfter = "5"

// notFoundFloor is the least time a "not found" takes from the request's arrival. A refusal
// of something that exists reads more (a profile, a manifest) than a miss; answering both no
// sooner than this keeps that difference out of the response time as well as the body.
const notFoundFloor = 25 * time.Millisecond

// padToFloor waits until notFoundFloor has passed since the request arrived (or the caller
// has gone): every "not found", and every answer of a search, whose time would otherwise
// tell whether someone matched.
func padToFloor(r *http.Request) {
	info, ok := r.Context().Value(requestLogKey{}).(*requestLog)
	if !ok {
		return
	}
	t := time.NewTimer(time.Until(info.start.Add(notFoundFloor)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}
