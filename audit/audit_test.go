package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/audit"
)

func TestJSONLinesAppendsEveryEvent(t *testing.T) {
	var buf bytes.Buffer
	sink := audit.NewJSONLines(&buf)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			if err := sink.Record(context.Background(), recordvault.AuditEvent{Actor: "dr-a", Clinic: "c1", Action: "read_record",
				Record: "r1", Allowed: i%2 == 0, Rule: "clinician on the care team"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		var e recordvault.AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Actor != "dr-a" || e.Time.IsZero() {
			t.Fatalf("line %d: %s, %v", n, sc.Bytes(), err)
		}
		n++
	}
	if n != 50 {
		t.Fatalf("%d lines, want 50", n)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// A write that fails is reported, so the request that caused the event fails with it.
func TestJSONLinesFailsClosed(t *testing.T) {
	if err := audit.NewJSONLines(failingWriter{}).Record(context.Background(), recordvault.AuditEvent{Action: "read_record"}); err == nil {
		t.Fatal("a failed write was not reported")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sink := audit.NewJSONLines(f)
	if err := sink.Record(context.Background(), recordvault.AuditEvent{Action: "a"}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := sink.Record(context.Background(), recordvault.AuditEvent{Action: "b"}); err == nil {
		t.Fatal("a write to a closed file was not reported")
	}
}

// syncCounter is a file that counts its syncs.
type syncCounter struct {
	bytes.Buffer
	syncs int
}

func (s *syncCounter) Sync() error { s.syncs++; return nil }

// Events that name a clinic are synced one by one; anonymous refusals (no clinic) are written
// and counted in the file, but not synced on their own.
func TestJSONLinesSyncsClinicEventsOnly(t *testing.T) {
	var f syncCounter
	sink := audit.NewJSONLines(&f)
	for range 1000 {
		if err := sink.Record(context.Background(), recordvault.AuditEvent{Actor: "anonymous", Action: "download", Rule: "token is invalid"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Record(context.Background(), recordvault.AuditEvent{Actor: "dr-a", Clinic: "c1", Action: "read_record", Allowed: true}); err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(f.Bytes(), []byte("\n")); f.syncs != 1 || lines != 1001 {
		t.Fatalf("%d syncs for %d lines, want 1 for 1001", f.syncs, lines)
	}
}
