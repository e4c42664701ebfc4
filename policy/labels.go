package policy

import "github.com/recordvault/recordvault"

// Label is a security label a released copy carries (HL7 DS4P), in the shape of a FHIR
// Coding, so that a receiving system that reads labels (meta.security) keeps the copy as
// restricted as its content requires: its confidentiality, the sensitivity of what it holds,
// and the obligations that go with it.
type Label struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

const (
	confidentialitySystem = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	actCodeSystem         = "http://terminology.hl7.org/CodeSystem/v3-ActCode" // sensitivities and obligations
)

var (
	restricted     = Label{confidentialitySystem, "R", "restricted"}
	veryRestricted = Label{confidentialitySystem, "V", "very restricted"}
	mentalHealth   = Label{actCodeSystem, "MH", "mental health information sensitivity"}
	psychotherapy  = Label{actCodeSystem, "PSYTHPN", "psychotherapy note information sensitivity"}
	substanceUse   = Label{actCodeSystem, "SUD", "substance use disorder information sensitivity"}
	substanceAbuse = Label{actCodeSystem, "ETH", "substance abuse information sensitivity"}
	noRedisclosure = Label{actCodeSystem, "NORDSCLCD", "no redisclosure without consent directive"}
)

// Labels are the security labels of a released copy of a document of category: mental-health
// content is restricted (R), psychotherapy notes very restricted (V); each names its
// sensitivity (MH, PSYTHPN, SUD with the older ETH); a copy that carries 42 CFR 2.32's notice
// (part2) carries its obligation too: no redisclosure without consent (NORDSCLCD).
func Labels(category recordvault.Category, part2 bool) []Label {
	var labels []Label
	switch category {
	case recordvault.PsychotherapyNote:
		labels = []Label{veryRestricted, psychotherapy, mentalHealth}
	case recordvault.SUDRecord:
		labels = []Label{restricted, substanceUse, substanceAbuse}
	default:
		labels = []Label{restricted, mentalHealth}
	}
	if part2 {
		labels = append(labels, noRedisclosure)
	}
	return labels
}
