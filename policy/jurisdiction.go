package policy

// Jurisdiction is the state law a clinic practises under, as data: adding one is adding an
// entry to Jurisdictions, not a code path. Where a state is stricter than HIPAA, the state
// wins; where it is silent, the federal rules of 164.502(g) apply.
type Jurisdiction struct {
	Code          string
	Name          string
	AgeOfMajority int
	// ParentAccess gives, by age band, when a parent or guardian of a minor may act for them.
	ParentAccess []AgeBand
	// MinorControlsFrom is the age from which only the minor's own authorization releases
	// their records (0: a representative may sign for them), with its citation.
	MinorControlsFrom     int
	MinorControlsCitation string
	// AccessDays is the deadline for giving copies under a right-of-access request, the
	// shorter of HIPAA's and the state's, with its citation; AccessExtensionDays the one
	// extension allowed (0 where the state's clock allows none).
	AccessDays          int
	AccessCitation      string
	AccessExtensionDays int
}

// AgeBand is a parent's access to the records of a minor younger than Under.
type AgeBand struct {
	Under    int
	Access   ParentAccess
	Citation string
}

// ParentAccess is how a parent's request for a minor's records is decided.
type ParentAccess string

const (
	// ParentAlways: the parent has access.
	ParentAlways ParentAccess = "always"
	// ParentIfMinorAgrees: only if the minor was told, does not object, and the therapist
	// finds no compelling reason to deny.
	ParentIfMinorAgrees ParentAccess = "if_minor_agrees"
	// ParentFederal: the parent is the representative unless one of 164.502(g)(3)'s
	// exceptions applies.
	ParentFederal ParentAccess = "federal"
)

// Jurisdictions are the jurisdictions recordvault knows, by code.
var Jurisdictions = map[string]Jurisdiction{
	"US": {
		Code: "US", Name: "United States (federal rules only)", AgeOfMajority: 18,
		ParentAccess: []AgeBand{{Under: 18, Access: ParentFederal, Citation: "45 CFR 164.502(g)(3)"}},
		AccessDays:   30, AccessCitation: "45 CFR 164.524(b)(2)", AccessExtensionDays: 30,
	},
	"US-IL": {
		Code: "US-IL", Name: "Illinois", AgeOfMajority: 18,
		ParentAccess: []AgeBand{
			{Under: 12, Access: ParentAlways, Citation: "740 ILCS 110/4(a)(1)"},
			{Under: 18, Access: ParentIfMinorAgrees, Citation: "740 ILCS 110/4(a)(3)"},
		},
		MinorControlsFrom: 12, MinorControlsCitation: "740 ILCS 110/5",
		AccessDays: 30, AccessCitation: "45 CFR 164.524(b)(2)", AccessExtensionDays: 30,
	},
	"US-CA": {
		Code: "US-CA", Name: "California", AgeOfMajority: 18,
		ParentAccess: []AgeBand{{Under: 18, Access: ParentFederal, Citation: "45 CFR 164.502(g)(3); Cal. Health & Safety Code 123115(a)"}},
		AccessDays:   15, AccessCitation: "Cal. Health & Safety Code 123110(b)",
	},
}

// parentAccess returns the band for a minor of age, if they are a minor.
func (j Jurisdiction) parentAccess(age int) (AgeBand, bool) {
	for _, b := range j.ParentAccess {
		if age < b.Under {
			return b, true
		}
	}
	return AgeBand{}, false
}
