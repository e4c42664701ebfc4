// Package audit holds recordvault's audit sinks. JSONLines is the simple one the records API
// starts with: one JSON object per event, appended to a writer, each write checked, so that a
// full disk or a closed file fails the request that caused the event. The tamper-evident
// store that the accounting of disclosures is built from replaces it behind the same
// recordvault.Auditor interface.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/recordvault/recordvault"
)

// JSONLines appends events to w as JSON lines.
type JSONLines struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

var _ recordvault.Auditor = (*JSONLines)(nil)

// NewJSONLines returns a sink appending to w. If w has a Sync method (an *os.File), every
// event is synced before Record returns.
func NewJSONLines(w io.Writer) *JSONLines {
	return &JSONLines{w: w, now: time.Now}
}

// Record appends e, stamped with the time when e has none.
func (s *JSONLines) Record(_ context.Context, e recordvault.AuditEvent) error {
	if e.Time.IsZero() {
		e.Time = s.now().UTC()
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit: encode: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	if f, ok := s.w.(interface{ Sync() error }); ok {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("audit: sync: %w", err)
		}
	}
	return nil
}
