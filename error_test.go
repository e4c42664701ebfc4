package recordvault_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/recordvault/recordvault"
)

func TestErrorCodeAndMessage(t *testing.T) {
	wrapped := fmt.Errorf("loading record: %w", recordvault.Errorf(recordvault.ENOTFOUND, "record %s not found", "r1"))
	for _, tc := range []struct {
		name      string
		err       error
		code, msg string
	}{
		{"nil", nil, "", ""},
		{"application error", recordvault.Errorf(recordvault.EINVALID, "bad field"), recordvault.EINVALID, "bad field"},
		{"wrapped application error", wrapped, recordvault.ENOTFOUND, "record r1 not found"},
		{"other error hides its text", errors.New("dial tcp 10.0.0.1: secret detail"), recordvault.EINTERNAL, "internal error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := recordvault.ErrorCode(tc.err); got != tc.code {
				t.Errorf("ErrorCode = %q, want %q", got, tc.code)
			}
			if got := recordvault.ErrorMessage(tc.err); got != tc.msg {
				t.Errorf("ErrorMessage = %q, want %q", got, tc.msg)
			}
		})
	}
}
