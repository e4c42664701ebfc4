// Package tracing is the service's optional OpenTelemetry tracing. With an OTLP endpoint
// configured, every request is a server span named by its method and route template, and
// every call to Vault and S3 a client span under it named by its operation, sent by
// OTLP/HTTP in batches. Spans carry what the metrics carry (routes, methods, statuses,
// operations, outcomes) and no more: never a path as sent, an object key or a header, so that
// no id of a client or record reaches the tracing backend.
package tracing

import (
	"context"
	"fmt"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/recordvault/recordvault/internal/dependency"
)

// Start sends spans to the OTLP/HTTP endpoint (such as http://otel-collector:4318) and
// returns the tracer to make them with and what flushes and stops it.
func Start(ctx context.Context, endpoint string) (trace.Tracer, func(context.Context) error, error) {
	exporter, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	return New(sdktrace.NewBatchSpanProcessor(exporter))
}

// New returns a tracer whose spans go to processor (Start's, or a test's), and its shutdown.
func New(processor sdktrace.SpanProcessor) (trace.Tracer, func(context.Context) error, error) {
	res := resource.NewSchemaless(attribute.String("service.name", "recordvault"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(processor), sdktrace.WithResource(res))
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return tp.Tracer("github.com/recordvault/recordvault"), tp.Shutdown, nil
}

// Transport wraps a dependency's transport so that each call is a client span under the
// request's, named by the dependency and its operation (for Vault the API path's first two
// parts, for S3 the method), with its status and outcome.
func Transport(tracer trace.Tracer, name string) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return dependency.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
			ctx, span := tracer.Start(r.Context(), name+" "+dependency.Operation(name, r), trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("peer.service", name)))
			defer span.End()
			resp, err := next.RoundTrip(r.WithContext(ctx))
			switch {
			case err != nil:
				span.SetStatus(codes.Error, "no answer")
			case resp.StatusCode >= http.StatusInternalServerError:
				span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
				span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
			default:
				span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
			}
			return resp, err
		})
	}
}
