// Package metrics is the service's Prometheus metrics (github.com/prometheus/client_golang),
// served on the operator listener only: per-route request rate, errors and latency; every
// call to Vault and S3 with its latency and outcome; the audit chain's block commits and the
// events waiting for one; the downloads in flight. Labels are routes, operations and
// outcomes: never an id, a path as sent, or anything a request carried.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/recordvault/recordvault/internal/dependency"
)

// Metrics holds the service's collectors in a registry of its own.
type Metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.HistogramVec
	calls       *prometheus.HistogramVec
	auditCommit *prometheus.HistogramVec
	downloads   prometheus.Gauge
}

// New returns the service's metrics, with the Go runtime's and the process's.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "recordvault_http_request_duration_seconds",
			Help: "HTTP requests by route template, method and status class, with their latency.", Buckets: prometheus.DefBuckets},
			[]string{"route", "method", "status"}),
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "recordvault_dependency_call_duration_seconds",
			Help:    "Calls to Vault and S3 by operation, with their latency and outcome (ok, error: a failure to connect, a stall or a 5xx).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 3, 10}}, []string{"dependency", "operation", "outcome"}),
		auditCommit: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "recordvault_audit_commit_duration_seconds",
			Help: "Audit blocks written (signed and stored), with their latency and outcome.", Buckets: prometheus.DefBuckets}, []string{"outcome"}),
		downloads: prometheus.NewGauge(prometheus.GaugeOpts{Name: "recordvault_downloads_in_flight",
			Help: "Released copies and attachments being sent now."}),
	}
	m.registry.MustRegister(m.requests, m.calls, m.auditCommit, m.downloads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus's exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Request counts one answered HTTP request.
func (m *Metrics) Request(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status/100)+"xx").Observe(d.Seconds())
}

// DownloadStarted counts a download in flight until done is called.
func (m *Metrics) DownloadStarted() (done func()) {
	m.downloads.Inc()
	return m.downloads.Dec
}

// AuditCommit counts one audit block written, or failed.
func (m *Metrics) AuditCommit(d time.Duration, err error) {
	m.auditCommit.WithLabelValues(outcome(err == nil)).Observe(d.Seconds())
}

// AuditQueue reports the audit events waiting for a block, as depth counts them.
func (m *Metrics) AuditQueue(depth func() int) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recordvault_audit_queue_events",
		Help: "Audit events waiting to be written in a block."}, func() float64 { return float64(depth()) }))
}

// Dependency returns what wraps a dependency's transport so that its calls are counted by
// operation (dependency.Operation).
func (m *Metrics) Dependency(name string) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return dependency.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
			start := time.Now()
			resp, err := next.RoundTrip(r)
			ok := err == nil && resp.StatusCode < http.StatusInternalServerError
			m.calls.WithLabelValues(name, dependency.Operation(name, r), outcome(ok)).Observe(time.Since(start).Seconds())
			return resp, err
		})
	}
}

func outcome(ok bool) string {
	if ok {
		return "ok"
	}
	return "error"
}
