package policy

import (
	"testing"
	"time"

	"github.com/recordvault/recordvault"
)

func TestAccessRequestClock(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d.Add(12 * time.Hour) }
	for _, c := range []struct {
		jurisdiction, due, extendOn, extendedDue string // extendedDue "" : the extension is refused
	}{
		{"US", "2026-03-31", "2026-03-31", "2026-04-30"},
		{"US-IL", "2026-03-31", "2026-03-10", "2026-04-30"},
		{"US", "2026-03-31", "2026-04-01", ""}, // after the first 30 days
		{"US-CA", "2026-03-16", "2026-03-02", ""},
	} {
		r := AccessRequest{Received: "2026-03-01", Jurisdiction: c.jurisdiction}
		d, err := r.Deadline()
		if err != nil || d.Due() != c.due {
			t.Fatalf("%s: due %s, %v; want %s", c.jurisdiction, d.Due(), err, c.due)
		}
		if !d.Overdue(day(c.due).AddDate(0, 0, 1)) || d.Overdue(day(c.due)) {
			t.Errorf("%s: overdue the day after %s and not on it", c.jurisdiction, c.due)
		}
		ext, err := r.Extend("the records are archived off site", "dr-lee", day(c.extendOn))
		if c.extendedDue == "" {
			if recordvault.ErrorCode(err) != recordvault.ECONFLICT {
				t.Errorf("%s: extension on %s: %v, want refused", c.jurisdiction, c.extendOn, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: extension: %v", c.jurisdiction, err)
		}
		r.Extension = &ext
		if d, _ := r.Deadline(); d.Due() != c.extendedDue {
			t.Errorf("%s: extended due %s, want %s", c.jurisdiction, d.Due(), c.extendedDue)
		}
		if _, err := r.Extend("again", "dr-lee", day(c.extendOn)); recordvault.ErrorCode(err) != recordvault.ECONFLICT {
			t.Errorf("%s: a second extension: %v", c.jurisdiction, err)
		}
	}
	r := AccessRequest{Received: "2026-03-01", Jurisdiction: "US"}
	if _, err := r.Extend(" ", "dr-lee", day("2026-03-02")); recordvault.ErrorCode(err) != recordvault.EINVALID {
		t.Errorf("an extension without a reason: %v", err)
	}
	if _, err := (AccessRequest{Received: "2026-03-01", Jurisdiction: "XX"}).Deadline(); err == nil {
		t.Error("an unknown jurisdiction has a clock")
	}
}
