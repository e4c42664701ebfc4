package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/audit/ledger"
	"github.com/recordvault/recordvault/disclosure"
	"github.com/recordvault/recordvault/policy"
)

// The accounting of disclosures (45 CFR 164.528) is built from the tamper-evident audit
// trail: which accountable disclosures were made, when, and when each was downloaded, is what
// the clinic's signed chain says. A release record deleted or rolled back in the bucket
// cannot drop a disclosure from a client's accounting. The details the trail never holds
// (recipient, address, purpose, what was released) come from the sealed release records.

// AccountingEntry is one disclosure in a client's accounting (164.528(b)(2)).
type AccountingEntry struct {
	Date        time.Time    `json:"date"` // when the disclosure was approved
	Recipient   string       `json:"recipient"`
	Address     string       `json:"address,omitempty"`
	Description string       `json:"description"`
	Purpose     string       `json:"purpose"`
	Basis       policy.Basis `json:"basis,omitempty"`
	Citation    string       `json:"citation,omitempty"`
	Release     string       `json:"release"`
	// Downloads are when the recipient downloaded the released copy, from the trail.
	Downloads []time.Time `json:"downloads"`
	// Unavailable marks a disclosure the trail records whose release record is missing or
	// unreadable: the entry stands, with what the trail knows.
	Unavailable bool `json:"details_unavailable,omitempty"`
}

// Accounting is a client's accounting of disclosures.
type Accounting struct {
	Client string `json:"client"`
	// ClientName and ClinicName say whose accounting it is and whose records, for people.
	ClientName string            `json:"client_name,omitempty"`
	ClinicName string            `json:"clinic_name,omitempty"`
	From       time.Time         `json:"from"`
	To         time.Time         `json:"to"`
	Entries    []AccountingEntry `json:"entries"`
	// Gaps are the periods within the accounting's reach whose audit records were lost for
	// good (the clinic's privacy officer acknowledged the loss, audit.Loss): disclosures made
	// then may be missing from the entries, and the accounting says so rather than look
	// complete.
	Gaps []LostPeriod `json:"gaps,omitempty"`
}

// LostPeriod is a period whose audit records are lost: what reads the trail (an accounting,
// an overdue listing) may be missing what was recorded in it.
type LostPeriod struct {
	From         time.Time `json:"from,omitzero"` // zero when the loss reaches back to the trail's start
	Until        time.Time `json:"until"`
	Acknowledged time.Time `json:"acknowledged"`
}

// lostPeriods lists the acknowledged losses the ledger went past that end at since or later.
func lostPeriods(losses []audit.Loss, since time.Time) []LostPeriod {
	var out []LostPeriod
	for _, l := range losses {
		if !l.Until.Before(since) {
			out = append(out, LostPeriod{From: l.From, Until: l.Until, Acknowledged: l.Acknowledged})
		}
	}
	return out
}

// missingDetails describes an entry whose release record cannot be read.
const missingDetails = "the record of this release is missing from storage; the clinic's privacy officer has been alerted"

// accounted reports whether decision approves a disclosure that the accounting lists.
func accounted(d policy.Decision) bool { return d.Outcome == policy.Approve && d.Accounted }

// accountingNames are the client's name (their identity decrypted, one Vault call) and the
// clinic's, for the heading of their accounting.
func (s *Service) accountingNames(ctx context.Context, c access.Caller, client string) (string, string, error) {
	cl, err := s.loadClient(ctx, c, client)
	if err != nil || cl == nil {
		return "", "", err
	}
	id, err := s.clinic.Identity(ctx, cl)
	if err != nil {
		return "", "", err
	}
	st, err := s.clinicState(ctx, c)
	if err != nil {
		return "", "", err
	}
	return id.FullName, st.Name, nil
}

// AccountingOf returns a client's accounting of disclosures: every accountable disclosure of
// the last six years the clinic's audit trail records for a document the client takes part
// in, oldest first, with its downloads; disclosures to the client, under an authorization or
// for treatment are exempt (164.528(a)(1)) and never marked accountable. Disclosures to an
// agency whose suspension is in force are left out until it ends (164.528(a)(2)), without a
// trace in the answer: telling would defeat the suspension.
func (s *Service) AccountingOf(ctx context.Context, c access.Caller, client string) (*Accounting, error) {
	if _, err := s.loadClientOrSelf(ctx, c, "read_accounting", client); err != nil {
		return nil, err
	}
	// The trail's approvals name the clients each disclosed document concerns, so the
	// client's are picked from the clinic's (in memory) with no read and no index to trust.
	// An approval recorded before events named them is the client's if they take part in its
	// record (one read each).
	var approvals []ledger.Approval
	var losses []audit.Loss
	downloads := map[string][]time.Time{}
	who := recordvault.AuditEvent{Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Client: client}
	if err := s.readLedger(ctx, who, func(l *ledger.Clinic) {
		losses = slices.Clone(l.Head().Losses)
		for _, a := range l.Approvals {
			if a.Participants == nil || slices.Contains(a.Participants, client) {
				approvals = append(approvals, a)
				downloads[a.Release] = slices.Clone(l.Downloads[a.Release])
			}
		}
	}); err != nil {
		return nil, err
	}
	rs, err := s.clientReleases(ctx, c.Clinic, client)
	if err != nil {
		return nil, err
	}
	suspensions, err := s.suspensions(ctx, c.Clinic, client)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	acc := &Accounting{Client: client, From: now.AddDate(-ledger.AccountingYears, 0, 0), To: now, Entries: []AccountingEntry{}}
	if acc.ClientName, acc.ClinicName, err = s.accountingNames(ctx, c, client); err != nil {
		return nil, err
	}
	acc.Gaps = lostPeriods(losses, acc.From)
	seen := map[string]bool{}
	for _, a := range approvals {
		if a.At.Before(acc.From) || seen[a.Release] {
			continue
		}
		i := slices.IndexFunc(rs, func(r ReleaseView) bool { return r.ID == a.Release })
		if i < 0 && a.Participants == nil && a.Client != client && !s.takesPart(ctx, c.Clinic, client, a.Record) {
			continue // another client's disclosure
		}
		seen[a.Release] = true
		e := AccountingEntry{Date: a.At, Release: a.Release, Downloads: append([]time.Time{}, downloads[a.Release]...)}
		var found *ReleaseView
		if i >= 0 {
			found = &rs[i]
		} else if len(a.Participants) > 0 {
			// Not under the homes the client's index names: read it where the trail says it
			// is, under its document's first participant.
			var r ReleaseView
			if _, err := loadDisclosure(ctx, s, c.Clinic, a.Participants[0], a.Release, kindRelease, &r); err == nil {
				found = &r
			} else if !errors.Is(err, recordvault.ErrNotFound) {
				return nil, err
			}
		}
		if found == nil {
			if err := s.auditMissingRelease(ctx, c, client, a.Release); err != nil {
				return nil, err
			}
			e.Recipient, e.Description, e.Unavailable = "unknown", missingDetails, true
		} else {
			r := *found
			if slices.ContainsFunc(suspensions, func(v SuspensionView) bool { return v.Recipient == r.Recipient.ID && v.inForce(now) }) {
				continue // left out while an agency's suspension holds, silently: 164.528(a)(2)
			}
			e.Recipient, e.Address, e.Purpose, e.Basis, e.Citation = r.Recipient.Name, r.Recipient.Address, r.Purpose, r.Basis, r.Decision.Rule.Citation
			if e.Recipient == "" {
				e.Recipient = r.Recipient.ID
			}
			e.Description = fmt.Sprintf("%s of %s: %s", strings.ReplaceAll(string(r.Category), "_", " "), r.DateOfService, strings.Join(r.Decision.Fields, ", "))
		}
		acc.Entries = append(acc.Entries, e)
	}
	return acc, nil
}

// auditMissingRelease records that a release the trail records as an accountable disclosure
// has no readable record in storage.
func (s *Service) auditMissingRelease(ctx context.Context, c access.Caller, client, release string) error {
	err := s.audit.Record(ctx, recordvault.AuditEvent{Time: s.now().UTC(), Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic,
		Action: "integrity_failure", Client: client, Release: release, Rule: "a disclosure in the audit trail has no release record"})
	if err != nil {
		return fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	return nil
}

// kindSuspension is the disclosure document of a suspension of a client's accounting.
const kindSuspension = "accounting_suspension"

// MaxOralSuspensionDays is how long a suspension on an agency's oral statement lasts at most,
// unless the written statement follows (164.528(a)(2)(ii)).
const MaxOralSuspensionDays = 30

// SuspensionInput is a health oversight agency's or law enforcement official's statement
// that an accounting to the client would be reasonably likely to impede its activities
// (45 CFR 164.528(a)(2)): disclosures to it are left out of the client's accounting until
// the day the statement names.
type SuspensionInput struct {
	// Recipient is the agency's or official's recipient id, as the releases to it name it.
	Recipient string `json:"recipient"`
	Agency    string `json:"agency"`
	// Written tells a written statement from an oral one; an oral one is documented (the
	// official's identity and what was said) and lasts 30 days at most.
	Written   bool   `json:"written"`
	Statement string `json:"statement"`
	Until     string `json:"until"` // the last day of the suspension, YYYY-MM-DD
}

// SuspensionView is a recorded suspension.
type SuspensionView struct {
	SuspensionInput
	ID         string    `json:"id"`
	Client     string    `json:"client"`
	RecordedBy string    `json:"recorded_by"`
	Recorded   time.Time `json:"recorded"`
}

// inForce reports whether the suspension still holds on now.
func (v *SuspensionView) inForce(now time.Time) bool {
	return now.UTC().Format(time.DateOnly) <= v.Until
}

// SuspendAccounting records, for clinic admins (the privacy officer), an agency's statement
// suspending a client's accounting of the disclosures made to it.
func (s *Service) SuspendAccounting(ctx context.Context, c access.Caller, client string, in SuspensionInput) (*SuspensionView, error) {
	now := s.now().UTC()
	until, err := time.Parse(time.DateOnly, in.Until)
	today := now.Format(time.DateOnly)
	if err != nil || in.Until < today {
		return nil, recordvault.Errorf(recordvault.EINVALID, "until: the last day of the suspension, as YYYY-MM-DD, not in the past")
	}
	if !in.Written && until.After(now.AddDate(0, 0, MaxOralSuspensionDays)) {
		return nil, recordvault.Errorf(recordvault.EINVALID, "until: a suspension on an oral statement lasts %d days at most (45 CFR 164.528(a)(2)(ii))", MaxOralSuspensionDays)
	}
	if !recordvault.ValidSubject(in.Recipient) {
		return nil, recordvault.Errorf(recordvault.EINVALID, "recipient: the recipient id of the agency, printable characters, no slash")
	}
	if strings.TrimSpace(in.Agency) == "" || strings.TrimSpace(in.Statement) == "" {
		return nil, recordvault.Errorf(recordvault.EINVALID, "agency and statement: who asked and what they stated are required")
	}
	if err := evidenceText(in.Agency, in.Statement); err != nil {
		return nil, err
	}
	if _, err := s.loadClientAs(ctx, c, "suspend_accounting", access.ManageClinic, client); err != nil {
		return nil, err
	}
	v := &SuspensionView{SuspensionInput: in, ID: recordvault.NewID(), Client: client, RecordedBy: c.ID, Recorded: now}
	if _, err := s.disclosures.Create(ctx, c.Clinic, client, v.ID, kindSuspension, "recorded", v); err != nil {
		return nil, err
	}
	return v, nil
}

// ListSuspensions returns, for clinic admins, the suspensions of a client's accounting.
func (s *Service) ListSuspensions(ctx context.Context, c access.Caller, client string) ([]SuspensionView, error) {
	if _, err := s.loadClientAs(ctx, c, "list_accounting_suspensions", access.ManageClinic, client); err != nil {
		return nil, err
	}
	return s.suspensions(ctx, c.Clinic, client)
}

// suspensions reads the suspensions of a client's accounting.
func (s *Service) suspensions(ctx context.Context, clinic, client string) ([]SuspensionView, error) {
	docs, err := s.disclosures.List(ctx, clinic, client, kindSuspension)
	if err != nil {
		return nil, err
	}
	views := make([]SuspensionView, len(docs))
	for i, d := range docs {
		if err := json.Unmarshal(d.Body, &views[i]); err != nil || views[i].ID != d.ID || views[i].Client != client {
			return nil, disclosure.ErrUnreadable
		}
	}
	return views, nil
}
