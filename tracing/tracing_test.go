package tracing

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/recordvault/recordvault/internal/dependency"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A call to Vault under a request's span is its child, named by its operation; no span
// carries the key's name or the path as sent.
func TestDependencySpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tracer, shutdown, err := New(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())
	vault := Transport(tracer, "vault")(dependency.RoundTripperFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Body: http.NoBody}, nil
	}))
	ctx, parent := tracer.Start(context.Background(), "GET /v1/clients/{client}/records")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://vault:8200/v1/transit/datakey/plaintext/rv-clinic7-progress-note", nil)
	if _, err := vault.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	parent.End()
	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	call := spans[0]
	if call.Name() != "vault transit/datakey" || call.Parent().SpanID() != parent.SpanContext().SpanID() || call.Status().Code.String() != "Error" {
		t.Errorf("the call's span: %q, parent %v, status %v", call.Name(), call.Parent().SpanID(), call.Status())
	}
	for _, s := range spans {
		for _, a := range s.Attributes() {
			if strings.Contains(a.Value.Emit(), "clinic7") {
				t.Errorf("span %q carries %s=%s", s.Name(), a.Key, a.Value.Emit())
			}
		}
	}
}
