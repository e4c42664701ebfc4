package recordvault

import (
	"errors"
	"fmt"
)

// Application error codes. The HTTP layer maps each to one status in a single table; every
// other layer speaks only in these codes.
const (
	EINVALID      = "invalid"      // the request is malformed or breaks a rule of the domain
	ENOTFOUND     = "not_found"    // unknown, or not the caller's to know about (never distinguished)
	ECONFLICT     = "conflict"     // the resource changed, exists already, or is immutable
	ETOOLARGE     = "too_large"    // the request body or a part of it exceeds a limit
	EMEDIATYPE    = "media_type"   // the request body is not of a type the operation takes
	ERANGE        = "range"        // a byte range outside the document
	EUNAUTHORIZED = "unauthorized" // no valid credentials were presented
	EUNAVAILABLE  = "unavailable"  // a dependency (Vault, storage) cannot be reached
	EINTERNAL     = "internal"     // anything else; its detail is never shown to the caller
)

// ErrNotFound is the one answer for what is unknown or not the caller's to know about: a
// client, a record, a disclosure document, whatever layer found it missing (never
// distinguished from forbidden).
var ErrNotFound = Errorf(ENOTFOUND, "not found")

// ErrUnavailable is the answer when a dependency (Vault, storage) could not be reached or did
// not answer in time: the caller may try again shortly (HTTP 503 with Retry-After).
var ErrUnavailable = Errorf(EUNAVAILABLE, "a service recordvault depends on did not answer in time; try again shortly")

// Error is the application error. Message is safe to show to the caller: it never carries
// PHI, key material or the text of an underlying error.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("recordvault %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted, caller-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the caller-safe message of the first *Error in err's chain, and a
// generic text for any other error so that internal detail never reaches a response.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}
