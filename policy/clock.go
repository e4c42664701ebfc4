package policy

import (
	"strings"
	"time"

	"github.com/recordvault/recordvault"
)

// AccessRequest is a client's or representative's request for their records (164.524(b)):
// it is answered within the jurisdiction's clock, HIPAA's 30 days with one 30-day extension
// whose written reason is given inside the first 30, or a stricter state's (California:
// copies within 15 days, which HIPAA's extension cannot stretch).
type AccessRequest struct {
	Received     string // YYYY-MM-DD
	Jurisdiction string
	Extension    *AccessExtension
}

// AccessExtension is the one extension, with its written reason.
type AccessExtension struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Deadline is the request's clock.
func (r AccessRequest) Deadline() (recordvault.Deadline, error) {
	j, ok := Jurisdictions[r.Jurisdiction]
	if !ok {
		return recordvault.Deadline{}, recordvault.Errorf(recordvault.EINVALID, "unknown jurisdiction")
	}
	return recordvault.Deadline{Received: r.Received, Days: j.AccessDays, ExtensionDays: j.AccessExtensionDays, Extended: r.Extension != nil}, nil
}

// Extend takes the extension on now, for reason, if the clock allows it.
func (r AccessRequest) Extend(reason, by string, now time.Time) (AccessExtension, error) {
	d, err := r.Deadline()
	if err != nil {
		return AccessExtension{}, err
	}
	if err := d.CanExtend(now); err != nil {
		return AccessExtension{}, err
	}
	if strings.TrimSpace(reason) == "" {
		return AccessExtension{}, recordvault.Errorf(recordvault.EINVALID, "reason: an extension gives its reason in writing")
	}
	return AccessExtension{Reason: reason, By: by, At: now.UTC()}, nil
}
