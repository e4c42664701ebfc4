package recordvault

import "time"

// Deadline is a legal clock: an answer is due Days after the day a request was received,
// or Days+ExtensionDays once the one extension has been taken, which must happen (with a
// written reason, kept by the caller) within the first Days. Amendment requests
// (164.526(b)(2)) and access requests (164.524(b)(2), or a stricter state clock) run on it.
type Deadline struct {
	Received      string // YYYY-MM-DD
	Days          int
	ExtensionDays int // 0: no extension is allowed
	Extended      bool
}

// Due is the last day for the answer, YYYY-MM-DD.
func (d Deadline) Due() string {
	received, _ := time.Parse(time.DateOnly, d.Received)
	days := d.Days
	if d.Extended {
		days += d.ExtensionDays
	}
	return received.AddDate(0, 0, days).Format(time.DateOnly)
}

// Overdue reports whether the due day has passed on now.
func (d Deadline) Overdue(now time.Time) bool {
	return now.UTC().Format(time.DateOnly) > d.Due()
}

// CanExtend reports why the clock cannot be extended on now, or nil.
func (d Deadline) CanExtend(now time.Time) error {
	switch {
	case d.ExtensionDays == 0:
		return Errorf(ECONFLICT, "this clock allows no extension")
	case d.Extended:
		return Errorf(ECONFLICT, "the clock is extended once")
	case d.Overdue(now):
		return Errorf(ECONFLICT, "the extension is taken within the first %d days", d.Days)
	}
	return nil
}
