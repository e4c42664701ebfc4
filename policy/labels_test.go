package policy

import (
	"slices"
	"testing"

	"github.com/recordvault/recordvault"
)

// The labels of ../shared/DOMAIN.md's vocabulary: R for mental-health content, V for
// psychotherapy notes, the sensitivity of each category, and no redisclosure on Part 2 copies.
func TestLabels(t *testing.T) {
	codes := func(labels []Label) []string {
		var out []string
		for _, l := range labels {
			out = append(out, l.Code)
		}
		return out
	}
	for _, c := range []struct {
		category recordvault.Category
		part2    bool
		want     []string
	}{
		{recordvault.ProgressNote, false, []string{"R", "MH"}},
		{recordvault.Evaluation, false, []string{"R", "MH"}},
		{recordvault.PsychotherapyNote, false, []string{"V", "PSYTHPN", "MH"}},
		{recordvault.SUDRecord, true, []string{"R", "SUD", "ETH", "NORDSCLCD"}},
	} {
		labels := Labels(c.category, c.part2)
		if got := codes(labels); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.category, got, c.want)
		}
		if labels[0].System != "http://terminology.hl7.org/CodeSystem/v3-Confidentiality" || labels[1].System != "http://terminology.hl7.org/CodeSystem/v3-ActCode" {
			t.Errorf("%s: systems %+v", c.category, labels)
		}
	}
}
