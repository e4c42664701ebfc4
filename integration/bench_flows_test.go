//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
)

// BenchmarkConcurrentFlows runs release flows for 50 recipients at once over HTTP on the real
// stack: each recipient a roster provider with a client of its own holding 1,000 signed notes,
// each flow the release asked for and approved, its token issued and the document downloaded
// by the provider's login, back to back for 8 s. It reports flows/s, the p50 and p99 of a
// whole flow and the p99 of its download step, and the errors (any non-2xx).
//
//	go test -tags integration -run '^$' -bench BenchmarkConcurrentFlows -benchtime 1x -timeout 30m ./integration
func BenchmarkConcurrentFlows(b *testing.B) {
	concurrentFlows(b, func(users map[string][]recordvault.Role) *apiEnv { return newCountedAPIEnv(b, users) })
}

// BenchmarkConcurrentFlowsStorageBound is BenchmarkConcurrentFlows where the storage is the
// limit (storageBoundServers): MinIO alone on one core; Vault, the service and the 50 load
// clients on the other.
//
//	go test -tags integration -run '^$' -bench BenchmarkConcurrentFlowsStorageBound -benchtime 1x -timeout 30m ./integration
func BenchmarkConcurrentFlowsStorageBound(b *testing.B) {
	v, m := storageBoundServers(b)
	concurrentFlows(b, func(users map[string][]recordvault.Role) *apiEnv { return newCountedAPIEnvOn(b, v, m, users) })
}

// concurrentFlows runs BenchmarkConcurrentFlows on the env newEnv makes for users.
func concurrentFlows(b *testing.B, newEnv func(users map[string][]recordvault.Role) *apiEnv) {
	const recipients, notes, duration = 50, 1000, 8 * time.Second
	ctx := context.Background()
	users := map[string][]recordvault.Role{"admin": {recordvault.RoleClinicAdmin}, "dr-lee": {recordvault.RoleClinician}}
	for i := range recipients {
		users[fmt.Sprintf("dr-r%d", i)] = []recordvault.Role{recordvault.RoleClinician}
	}
	e := newEnv(users)
	clients, documents := make([]string, recipients), make([]string, recipients)
	start := time.Now()
	for i := range recipients {
		clients[i] = e.clientBorn(b, "1980-01-01")
		documents[i] = e.signedNote(b, recordvault.ProgressNote, clients[i])
		writeHistory(b, ctx, e.svc, e.clinic, clients[i], notes-1)
	}
	b.Logf("%d clients of %d notes written in %v", recipients, notes, time.Since(start).Round(time.Second))
	// One keep-alive connection per recipient, as 50 real clients would hold.
	transport := http.DefaultTransport.(*http.Transport)
	idle := transport.MaxIdleConnsPerHost
	transport.MaxIdleConnsPerHost = recipients
	defer func() { transport.MaxIdleConnsPerHost = idle }()
	var mu sync.Mutex
	var flows, downloads []float64
	errors := 0
	e.calls.vault.reset()
	e.calls.s3.reset()
	b.ResetTimer()
	for range b.N {
		deadline := time.Now().Add(duration)
		var wg sync.WaitGroup
		for i := range recipients {
			wg.Go(func() {
				base, recipient := "/v1/clients/"+clients[i], fmt.Sprintf("dr-r%d", i)
				for time.Now().Before(deadline) {
					began := time.Now()
					var r app.ReleaseView
					var tok app.TokenView
					status, err := e.flowStep(b, &r, "dr-lee", "POST", base+"/releases", map[string]any{"document": documents[i],
						"basis": "treatment", "recipient": map[string]string{"kind": "provider", "id": recipient}, "purpose": "consult"})
					if err == nil && status == http.StatusCreated {
						status, err = e.flowStep(b, &tok, "dr-lee", "POST", base+"/releases/"+r.ID+"/tokens", nil)
					}
					var download time.Duration
					if err == nil && status == http.StatusCreated {
						at := time.Now()
						status, err = e.flowStep(b, nil, recipient, "POST", "/downloads", map[string]string{"token": tok.Token})
						download = time.Since(at)
					}
					mu.Lock()
					if err != nil || status >= 300 {
						errors++
					} else {
						flows = append(flows, float64(time.Since(began).Microseconds())/1000)
						downloads = append(downloads, float64(download.Microseconds())/1000)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	quantile := func(x []float64, q float64) float64 {
		slices.Sort(x)
		return x[min(len(x)-1, int(q*float64(len(x))))]
	}
	b.ReportMetric(float64(len(flows))/(duration.Seconds()*float64(b.N)), "flows/s")
	b.ReportMetric(quantile(flows, 0.5), "flow-p50-ms")
	b.ReportMetric(quantile(flows, 0.99), "flow-p99-ms")
	b.ReportMetric(quantile(downloads, 0.99), "download-p99-ms")
	b.ReportMetric(float64(errors), "errors")
	b.ReportMetric(float64(total(e.calls.s3.reset()))/float64(len(flows)), "s3-requests/flow")
	b.ReportMetric(float64(total(e.calls.vault.reset()))/float64(len(flows)), "vault-requests/flow")
}

// flowStep is call for a step of a concurrent flow: its status, and out decoded from a
// 2xx answer.
func (e *apiEnv) flowStep(t testing.TB, out any, user, method, path string, body any) (int, error) {
	status, _, b := e.call(t, user, method, path, body)
	if out != nil && status < 300 {
		return status, json.Unmarshal(b, out)
	}
	return status, nil
}
