// Package audit holds recordvault's audit sinks, each a recordvault.Auditor that fails the
// request whose event it cannot record. Chain (chain.go) is the tamper-evident trail: per
// clinic, signed and hash-linked blocks in object storage. JSONLines appends one JSON object
// per event to a writer, each write checked and synced, for the operators' plain copy. Tee
// records into several.
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
// event that names a clinic is synced before Record returns. One that names none (a download
// tried with a token that verifies as nobody's: anonymous traffic) is written and counted in
// the file but not synced on its own, so that a flood of them costs no fsync each under the
// lock every audited request takes; the next synced event makes them durable too.
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
	if f, ok := s.w.(interface{ Sync() error }); ok && e.Clinic != "" {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("audit: sync: %w", err)
		}
	}
	return nil
}

// Tee records each event in every one of its sinks, in order, and fails with the first
// failure: the event counts as recorded only when all have it.
type Tee []recordvault.Auditor

var _ recordvault.Auditor = Tee(nil)

// Record records e in each sink.
func (t Tee) Record(ctx context.Context, e recordvault.AuditEvent) error {
	for _, sink := range t {
		if err := sink.Record(ctx, e); err != nil {
			return err
		}
	}
	return nil
}
