//go:build integration

package integration

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
)

// TestFlowCallCounts counts the Vault and S3 requests of each step of a release flow over
// HTTP (the release, its token, the download by the provider it names), and of a note written
// and read: the same at every flow once the clinic's state is known, so a flow's cost does not creep up as releases and
// audit blocks accumulate. It logs them, by what each request touches, for
// docs/PERFORMANCE.md.
func TestFlowCallCounts(t *testing.T) {
	e := newCountedAPIEnv(t, releaseUsers)
	client := e.clientBorn(t, "1980-01-01")
	document := e.signedNote(t, recordvault.ProgressNote, client)
	base := "/v1/clients/" + client
	flow := func() map[string]map[string]int {
		counts := map[string]map[string]int{}
		step := func(name string, f func()) {
			e.calls.vault.resetDetail()
			e.calls.s3.resetDetail()
			f()
			counts[name] = map[string]int{}
			for k, v := range e.calls.vault.resetDetail() {
				counts[name]["vault "+k] = v
			}
			for k, v := range e.calls.s3.resetDetail() {
				counts[name]["s3 "+k] = v
			}
		}
		var r app.ReleaseView
		var tok app.TokenView
		step("release", func() {
			e.must(t, http.StatusCreated, &r, "dr-lee", "POST", base+"/releases", map[string]any{"document": document,
				"basis": "treatment", "recipient": map[string]string{"kind": "provider", "id": "dr-out"}, "purpose": "consult"})
		})
		step("token", func() { e.must(t, http.StatusCreated, &tok, "dr-lee", "POST", base+"/releases/"+r.ID+"/tokens", nil) })
		step("download", func() {
			e.must(t, http.StatusOK, nil, "dr-out", "POST", "/downloads", map[string]string{"token": tok.Token})
		})
		var rec app.RecordView
		step("write note", func() {
			e.must(t, http.StatusCreated, &rec, "dr-lee", "POST", base+"/records", map[string]any{"category": "progress_note",
				"fields": progressNote("weekly CBT"), "sign": true})
		})
		step("read note", func() { e.must(t, http.StatusOK, nil, "dr-lee", "GET", base+"/records/"+rec.ID, nil) })
		return counts
	}
	flow() // the first flow reads what the process has not seen yet (the ledger, the keys)
	second, third := flow(), flow()
	for _, name := range []string{"release", "token", "download", "write note", "read note"} {
		if len(third[name]) == 0 || !maps.Equal(second[name], third[name]) {
			t.Errorf("%s: %v, then %v", name, second[name], third[name])
		}
		var lines []string
		total := 0
		for _, k := range slices.Sorted(maps.Keys(third[name])) {
			lines = append(lines, fmt.Sprintf("%s %d", k, third[name][k]))
			total += third[name][k]
		}
		t.Logf("%s: %d requests: %s", name, total, strings.Join(lines, ", "))
	}
}
