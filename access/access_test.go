package access_test

import (
	"fmt"
	"testing"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/access/accesstest"
)

// expected is the authorization matrix's answer, written as a table: the first row that
// matches a cell gives its outcome; "*" matches anything, "clinician*" any role set with the
// clinician role. Columns: roles, category, care team, author, action, outcome.
const expected = `
client             *                   *    *      *      deny
clinic_admin       *                   *    *      *      deny
none               *                   *    *      *      deny
clinician*         psychotherapy_note  *    other  *      deny
clinician*         *                   *    other  sign   deny
clinician*         *                   off  *      *      deny
clinician*         *                   on   *      *      allow
`

var roleSets = map[string][]recordvault.Role{
	"clinician":              {recordvault.RoleClinician},
	"clinic_admin":           {recordvault.RoleClinicAdmin},
	"client":                 {recordvault.RoleClient},
	"clinician+clinic_admin": {recordvault.RoleClinician, recordvault.RoleClinicAdmin},
	"none":                   nil,
}

func TestAuthorizationMatrix(t *testing.T) {
	table := accesstest.Parse(expected)
	cells := 0
	for roleName, roles := range roleSets {
		for _, category := range recordvault.Categories {
			for _, team := range []string{"on", "off"} {
				for _, author := range []string{"self", "other"} {
					for _, action := range []access.Action{access.ReadRecord, access.WriteRecord, access.SignRecord} {
						cell := []string{roleName, string(category), team, author,
							map[access.Action]string{access.ReadRecord: "read", access.WriteRecord: "write", access.SignRecord: "sign"}[action]}
						want := table.Outcome(cell...)
						target := access.Target{Clinic: "c1", Category: category, Author: "dr-b", Participants: []string{"p1"},
							CareTeams: map[string][]string{"p1": {"dr-x"}}}
						if author == "self" {
							target.Author = "dr-a"
						}
						if team == "on" {
							target.CareTeams["p1"] = append(target.CareTeams["p1"], "dr-a")
						}
						got := access.Decide(access.Caller{ID: "dr-a", Clinic: "c1", Roles: roles}, action, target)
						if outcome := map[bool]string{true: "allow", false: "deny"}[got.Allowed]; outcome != want || got.Rule == "" {
							t.Errorf("%v: %s (%q), want %s", cell, outcome, got.Rule, want)
						}
						cells++
					}
				}
			}
		}
	}
	if cells < 100 {
		t.Fatalf("only %d cells", cells)
	}
	for _, row := range table.Unused() {
		t.Errorf("a row of the table matches no cell: %v", row)
	}
	t.Logf("%d cells checked against %d rows", cells, table.Rows())
}

func TestOtherRules(t *testing.T) {
	clinician := access.Caller{ID: "dr-a", Clinic: "c1", Roles: []recordvault.Role{recordvault.RoleClinician}}
	admin := access.Caller{ID: "ad-1", Clinic: "c1", Roles: []recordvault.Role{recordvault.RoleClinicAdmin}}
	couple := access.Target{Clinic: "c1", Category: recordvault.ProgressNote, Author: "dr-b", Participants: []string{"p1", "p2"},
		CareTeams: map[string][]string{"p1": {"dr-a"}, "p2": {"dr-b"}}}
	bothTeams := couple
	bothTeams.CareTeams = map[string][]string{"p1": {"dr-a"}, "p2": {"dr-a"}}
	otherClinic := couple
	otherClinic.Clinic = "c2"
	for _, tc := range []struct {
		name   string
		caller access.Caller
		action access.Action
		target access.Target
		allow  bool
	}{
		{"couples note, on one partner's team: read", clinician, access.ReadRecord, couple, true},
		{"couples note, on one partner's team: write", clinician, access.WriteRecord, couple, false},
		{"couples note, on both teams: write", clinician, access.WriteRecord, bothTeams, true},
		{"another clinic, on its care team", clinician, access.ReadRecord, otherClinic, false},
		{"admin manages own clinic", admin, access.ManageClinic, access.Target{Clinic: "c1"}, true},
		{"admin manages another clinic", admin, access.ManageClinic, access.Target{Clinic: "c2"}, false},
		{"clinician manages clinic", clinician, access.ManageClinic, access.Target{Clinic: "c1"}, false},
		{"clinician takes in a client", clinician, access.CreateClient, access.Target{Clinic: "c1"}, true},
		{"admin takes in a client", admin, access.CreateClient, access.Target{Clinic: "c1"}, true},
		{"client takes in a client", access.Caller{ID: "p1", Clinic: "c1", Roles: []recordvault.Role{recordvault.RoleClient}}, access.CreateClient, access.Target{Clinic: "c1"}, false},
		{"clinician takes in a client elsewhere", clinician, access.CreateClient, access.Target{Clinic: "c2"}, false},
		{"identity of a client on the team", clinician, access.ReadClient, access.Target{Clinic: "c1", Participants: []string{"p1"}, CareTeams: couple.CareTeams}, true},
		{"identity of a client off the team", clinician, access.ReadClient, access.Target{Clinic: "c1", Participants: []string{"p2"}, CareTeams: couple.CareTeams}, false},
		{"admin reads an identity", admin, access.ReadClient, access.Target{Clinic: "c1", Participants: []string{"p2"}}, true},
		{"list a client on the team", clinician, access.ListRecords, access.Target{Clinic: "c1", Participants: []string{"p1"}, CareTeams: couple.CareTeams}, true},
		{"list a client off the team", clinician, access.ListRecords, access.Target{Clinic: "c1", Participants: []string{"p2"}, CareTeams: couple.CareTeams}, false},
		{"admin lists records", admin, access.ListRecords, access.Target{Clinic: "c1", Participants: []string{"p1"}, CareTeams: map[string][]string{"p1": {"ad-1"}}}, false},
		{"record without participants", clinician, access.ReadRecord, access.Target{Clinic: "c1", Category: recordvault.ProgressNote}, false},
		{"caller without id", access.Caller{Clinic: "c1", Roles: clinician.Roles}, access.ReadRecord, bothTeams, false},
	} {
		if got := access.Decide(tc.caller, tc.action, tc.target); got.Allowed != tc.allow || got.Rule == "" {
			t.Errorf("%s: %+v, want allowed=%v", tc.name, got, tc.allow)
		}
	}
}

func Example() {
	d := access.Decide(access.Caller{ID: "dr-a", Clinic: "c1", Roles: []recordvault.Role{recordvault.RoleClinician}},
		access.ReadRecord, access.Target{Clinic: "c1", Category: recordvault.PsychotherapyNote, Author: "dr-b",
			Participants: []string{"p1"}, CareTeams: map[string][]string{"p1": {"dr-a", "dr-b"}}})
	fmt.Println(d.Allowed, d.Rule)
	// Output: false psychotherapy notes belong to their author (45 CFR 164.501)
}
