package recordvault

// Role is what a caller may do in a clinic, as the identity provider asserts it.
type Role string

const (
	// RoleClinician treats clients: reads and writes the records of clients on their care team.
	RoleClinician Role = "clinician"
	// RoleClinicAdmin runs the clinic (clinicians, clients, care teams), never reads content.
	RoleClinicAdmin Role = "clinic_admin"
	// RoleClient is a person in care; their access to records goes through releases.
	RoleClient Role = "client"
)

// Roles lists every role, in a fixed order.
var Roles = []Role{RoleClinician, RoleClinicAdmin, RoleClient}

// Clinician is one member of a clinic's roster, named by their identity provider's subject.
type Clinician struct {
	Subject  string `json:"subject"`
	Name     string `json:"name"`
	Licensed bool   `json:"licensed"` // a licensed health care professional (164.524(a)(3), (d)(4))
}
