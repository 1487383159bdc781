package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the Prometheus metrics kefu serves on /metrics. They live in
// their own registry (no global state), so tests can build several servers.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	appends    prometheus.Histogram
	appendErrs *prometheus.CounterVec
	ops        *prometheus.CounterVec
	opLatency  *prometheus.HistogramVec

	sends       *prometheus.CounterVec
	sendLatency *prometheus.HistogramVec
	sendRetries *prometheus.CounterVec

	snapshots prometheus.Histogram
}

// NewMetrics registers kefu's metrics and the Go runtime's.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_http_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kefu_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		appends: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kefu_append_duration_seconds",
			Help:    "Durable append latency of commands (decide + encode + append + fsync).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		appendErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_command_errors_total",
			Help: "Refused or failed commands (mutations whose root field resolved to an error) by mutation and error code.",
		}, []string{"command", "code"}),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_graphql_operations_total",
			Help: "GraphQL root fields requested, by operation type (query, mutation, unknown when the request was refused before its operation was known), root field (the schema's field names; other for unknown names; none when no operation was read) and error code (OK when none; refusals before execution count with their code).",
		}, []string{"type", "operation", "code"}),
		opLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kefu_graphql_operation_duration_seconds",
			Help:    "GraphQL request latency by operation type.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"type"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_greeting_sends_total",
			Help: "Greeting deliveries handed to a sender by this process, by channel and result: delivered, duplicate (the sender had the idempotency key already), failed (GreetingFailed is recorded), error (nothing recorded, tried again later).",
		}, []string{"channel", "result"}),
		sendLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kefu_greeting_send_duration_seconds",
			Help:    "Time a sender took to deliver one greeting, retries included, by channel.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"channel"}),
		sendRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_greeting_send_retries_total",
			Help: "Delivery attempts beyond the first (sender retries after 5xx, timeouts), by channel.",
		}, []string{"channel"}),
		snapshots: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kefu_readmodels_snapshot_duration_seconds",
			Help:    "Time to write a snapshot of the read models, during which events wait to reach them (mutations wait for their read models).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.appends, m.appendErrs, m.ops, m.opLatency,
		m.sends, m.sendLatency, m.sendRetries, m.snapshots,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Register adds collectors (e.g. gauges computed at scrape time).
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// ObserveAppend records one command's durable append latency.
func (m *Metrics) ObserveAppend(d time.Duration) { m.appends.Observe(d.Seconds()) }

// CountCommandError counts a refused or failed command by its API code.
func (m *Metrics) CountCommandError(command, code string) {
	m.appendErrs.WithLabelValues(command, code).Inc()
}

// Instrument wraps h, counting requests and timing them under route.
func (m *Metrics) Instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
		m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
