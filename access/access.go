// Package access decides who may do what to which record, by the rules of a mental-health
// practice. It is pure: the caller gathers the facts (the record's clinic, category, author
// and participants, the participants' care teams) and access decides, naming the rule that
// decided so the decision can be audited. Every denial is answered the same way upstream
// (not found), so that a refusal never tells a caller that a client or a record exists.
//
// The rules:
//   - nothing crosses clinics;
//   - clinic admins manage clinicians, clients and care teams, and never read or write
//     record content;
//   - clinicians and clinic admins take in new clients (the clinician joins the care team);
//     a client's identity is read by clinic admins and by the clinicians of the care team;
//   - clinicians read the records of clients on their care team (one participant suffices)
//     and write records only for clients who are all on it;
//   - psychotherapy notes are read and written by their author alone (45 CFR 164.501,
//     164.508(a)(2): kept apart from the rest of the record);
//   - a draft is changed and signed by its author alone;
//   - clients never read records directly: their access goes through releases.
package access

import (
	"slices"

	"github.com/recordvault/recordvault"
)

// Caller is an authenticated caller.
type Caller struct {
	ID     string
	Clinic string
	Roles  []recordvault.Role
}

// Action is what the caller asks to do.
type Action string

const (
	ReadRecord   Action = "read_record"   // a record's content
	WriteRecord  Action = "write_record"  // create a record, or an addendum to one
	ListRecords  Action = "list_records"  // a client's records
	SignRecord   Action = "sign_record"   // change or sign a draft
	ManageClinic Action = "manage_clinic" // clinicians, care teams, the list of clients
	CreateClient Action = "create_client" // take in a new client
	ReadClient   Action = "read_client"   // a client's identity
)

// Target is what the action is on. For a record: its clinic, category, author and
// participants (one client, or several for a couples, family or group session), with each
// participant's care team. For ListRecords: the client as the one participant. For
// ManageClinic: the clinic.
type Target struct {
	Clinic       string
	Category     recordvault.Category
	Author       string
	Participants []string
	CareTeams    map[string][]string // participant → clinicians on their care team
}

// Decision is the answer, and the rule that gave it.
type Decision struct {
	Allowed bool
	Rule    string
}

func allow(rule string) Decision { return Decision{Allowed: true, Rule: rule} }
func deny(rule string) Decision  { return Decision{Rule: rule} }

// Decide applies the rules to one request.
func Decide(c Caller, a Action, t Target) Decision {
	if c.ID == "" || c.Clinic == "" || c.Clinic != t.Clinic {
		return deny("another clinic")
	}
	has := func(r recordvault.Role) bool { return slices.Contains(c.Roles, r) }
	switch {
	case (a == ManageClinic || a == CreateClient || a == ReadClient) && has(recordvault.RoleClinicAdmin):
		return allow("clinic admins manage the clinic")
	case a == ManageClinic:
		return deny("only clinic admins manage the clinic")
	case a == CreateClient && has(recordvault.RoleClinician):
		return allow("clinicians take in new clients")
	case a == CreateClient:
		return deny("only clinicians and clinic admins take in clients")
	}
	switch {
	case has(recordvault.RoleClinician):
	case has(recordvault.RoleClinicAdmin):
		return deny("clinic admins do not read or write record content")
	case has(recordvault.RoleClient):
		return deny("clients read records through releases")
	default:
		return deny("no role for records")
	}
	if len(t.Participants) == 0 {
		return deny("no participant")
	}
	onTeam := 0
	for _, p := range t.Participants {
		if slices.Contains(t.CareTeams[p], c.ID) {
			onTeam++
		}
	}
	switch a {
	case ListRecords, ReadClient:
		if onTeam == len(t.Participants) {
			return allow("clinician on the client's care team")
		}
		return deny("clinician not on the client's care team")
	case ReadRecord, WriteRecord, SignRecord:
		if t.Category == recordvault.PsychotherapyNote && t.Author != c.ID {
			return deny("psychotherapy notes belong to their author (45 CFR 164.501)")
		}
		if a == SignRecord && t.Author != c.ID {
			return deny("a draft is changed and signed by its author")
		}
		if a != ReadRecord && onTeam < len(t.Participants) {
			return deny("clinician not on every participant's care team")
		}
		if onTeam == 0 {
			return deny("clinician not on a participant's care team")
		}
		return allow("clinician on the care team")
	}
	return deny("unknown action")
}
