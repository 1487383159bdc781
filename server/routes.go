package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kefu-crm/kefu/console"
	"github.com/kefu-crm/kefu/graphql"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// routes serves /graphql, the console (/console/), /healthz and /metrics (unless they have their
// own listener, Config.SeparateMetrics) behind the browser policy
// (graphql.Guard: Host, Origin, CORS).
func (s *Server) routes() (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle("/graphql", s.metrics.Instrument("/graphql", s.whenAvailable(s.gql)))
	mux.Handle("POST "+BackupPath, s.metrics.Instrument(BackupPath, http.HandlerFunc(s.backup)))
	mux.Handle("GET /healthz", s.metrics.Instrument("/healthz", http.HandlerFunc(s.healthz)))
	mux.Handle("GET /outbox", s.metrics.Instrument("/outbox", http.HandlerFunc(s.outboxLines)))
	if !s.cfg.SeparateMetrics {
		mux.Handle("GET /metrics", s.metricsAccess(s.metrics.Handler()))
	}
	page := s.metrics.Instrument("/console", console.Handler())
	mux.Handle("/console", page)
	mux.Handle(console.Path, page)
	mux.Handle("GET /{$}", http.RedirectHandler("/graphql", http.StatusFound))
	return graphql.Guard(graphql.BrowserPolicy{
		CORSOrigins:  s.cfg.CORSOrigins,
		Hosts:        s.cfg.AllowedHosts,
		LoopbackOnly: s.cfg.Tokens == nil,
	}, mux)
}

// MetricsHandler serves /metrics alone, without a token, for a listener of
// its own (kefu serve --metrics-addr).
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	return mux
}

// metricsAccess: with authentication on, /metrics on the API's address
// needs a valid bearer token (any role: the metrics are counts, no
// personal data); Prometheus sends it with `authorization:
// {credentials_file: …}` in its scrape config.
func (s *Server) metricsAccess(next http.Handler) http.Handler {
	if s.cfg.Tokens == nil {
		return next
	}
	return graphql.Authenticator(s.cfg.Tokens, next)
}

// health is the /healthz body.
type health struct {
	Status string `json:"status"` // ok, starting, degraded
	// Error says why the server is degraded when no projection does (the
	// event store found its file damaged).
	Error       string             `json:"error,omitempty"`
	Head        uint64             `json:"head,omitempty"`
	Customers   int                `json:"customers,omitempty"`
	Projections []projectionHealth `json:"projections,omitempty"`
	Churn       *churnHealth       `json:"churn,omitempty"`
	// Snapshot is the read models' snapshot on disk, if any.
	Snapshot *SnapshotStatus `json:"snapshot,omitempty"`
	// Leader says whether this instance runs the process managers (the
	// greeting dispatcher, the follow-up scheduler): always true on the
	// embedded store, on one instance of a shared PostgreSQL store.
	Leader *bool `json:"leader,omitempty"`
}

type projectionHealth struct {
	Name       string `json:"name"`
	State      string `json:"state"`
	Checkpoint uint64 `json:"checkpoint"`
	// LagEvents is known on the embedded store only (see densePositions).
	LagEvents  *uint64 `json:"lagEvents,omitempty"`
	LagSeconds float64 `json:"lagSeconds"`
	Error      string  `json:"error,omitempty"`
}

type churnHealth struct {
	FittedAt  time.Time `json:"fittedAt"`
	Customers int       `json:"customers"`
}

// healthz answers 200 when every projection is live, 503 while catching up
// or when one stopped (with the error naming the event's position). With
// authentication on, a caller without a valid token gets the status alone
// (for load balancers and probes): the counts and error messages are for
// operators holding a token.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	h, code := s.health(r.Context())
	if s.cfg.Tokens != nil {
		if _, err := graphql.Authenticate(r, s.cfg.Tokens); err != nil {
			h = health{Status: h.Status}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(h)
}

// health works out the /healthz body and status.
func (s *Server) health(ctx context.Context) (health, int) {
	leading := s.leader.Leading()
	h := health{Status: "ok", Customers: s.Customers.Listed(), Leader: &leading}
	code := http.StatusOK
	sts, err := s.runtime.Status(ctx)
	if err != nil {
		h.Status, code, h.Error = "degraded", http.StatusServiceUnavailable, err.Error()
	}
	if d, ok := s.dir.Store.(interface{ Damage() error }); ok && d.Damage() != nil {
		h.Status, code, h.Error = "degraded", http.StatusServiceUnavailable, d.Damage().Error()
	}
	lags := s.lagSeconds(ctx, sts)
	for i, st := range sts {
		h.Head = uint64(st.Head)
		ph := projectionHealth{Name: st.Name, State: string(st.State), Checkpoint: uint64(st.Checkpoint), LagSeconds: lags[i]}
		if s.densePositions() {
			ph.LagEvents = &st.LagEvents
		}
		if st.Err != nil {
			ph.Error = st.Err.Error()
		}
		switch st.State {
		case projections.Stopped, projections.Ended:
			h.Status, code = "degraded", http.StatusServiceUnavailable
		case projections.CatchingUp:
			if h.Status == "ok" {
				h.Status, code = "starting", http.StatusServiceUnavailable
			}
		}
		h.Projections = append(h.Projections, ph)
	}
	if m, at := s.Churn.Model(); m != nil {
		h.Churn = &churnHealth{FittedAt: at, Customers: m.Customers}
	}
	if st := s.SnapshotStatus(); st.Position > 0 || st.Restored {
		h.Snapshot = &st
	}
	select {
	case <-s.ready:
	default:
		// Caught up, but the first churn fit (and its rebase) is not in
		// place yet: DORMANT would still be missing.
		if h.Status == "ok" {
			h.Status, code = "starting", http.StatusServiceUnavailable
		}
	}
	return h, code
}

// observeGraphQL counts GraphQL operations by type, root field and error
// code, and refused or failed commands.
func (m *Metrics) observeGraphQL(info graphql.RequestInfo) {
	typ := info.OperationType
	if typ == "" {
		typ = "unknown"
	}
	if len(info.RootFields) == 0 {
		m.ops.WithLabelValues(typ, "none", firstCode(info.ErrorCodes)).Inc()
	}
	for _, f := range info.RootFields {
		code := "OK"
		if f.Code != "" {
			code = string(f.Code)
		}
		m.ops.WithLabelValues(typ, f.Name, code).Inc()
		if info.Executed && typ == "mutation" && f.Failed {
			m.CountCommandError(f.Name, code)
		}
	}
	m.opLatency.WithLabelValues(typ).Observe(info.Duration.Seconds())
}

// collectors are gauges computed at scrape time from the read models and
// the runtime: projection lag, stage populations, open work, greeting
// outcomes, the follow-up scheduler's work.
func (s *Server) collectors() []prometheus.Collector {
	lagEvents := prometheus.NewDesc("kefu_projection_lag_events", "Events in the log not yet applied by a projection (the embedded store only: EventStoreDB positions are byte offsets, not event counts).", []string{"projection"}, nil)
	lagSeconds := prometheus.NewDesc("kefu_projection_lag_seconds", "Age of the oldest event a projection has not applied yet (0 when caught up), on every backend.", []string{"projection"}, nil)
	head := prometheus.NewDesc("kefu_log_head_position", "Global position of the last event in the log (an event count on the embedded store, a commit position on EventStoreDB).", nil, nil)
	stage := prometheus.NewDesc("kefu_customers_by_stage", "Customers in each lifecycle stage.", []string{"stage"}, nil)
	overdue := prometheus.NewDesc("kefu_complaints_overdue", "Complaints overdue now.", nil, nil)
	due := prometheus.NewDesc("kefu_followups_due", "Follow-ups due (not done or cancelled) and how many are overdue.", []string{"state"}, nil)
	leader := prometheus.NewDesc("kefu_process_managers_leader", "1 while this instance runs the greeting dispatcher and the follow-up scheduler (one instance of several on a shared store), else 0.", nil, nil)
	terms := prometheus.NewDesc("kefu_process_managers_lead_acquired_total", "Times this instance took the lead of the process managers.", nil, nil)
	return []prometheus.Collector{collectorFunc{
		descs: []*prometheus.Desc{lagEvents, lagSeconds, head, stage, overdue, due, leader, terms},
		collect: func(ch chan<- prometheus.Metric) {
			leading := 0.0
			if s.leader.Leading() {
				leading = 1
			}
			ch <- prometheus.MustNewConstMetric(leader, prometheus.GaugeValue, leading)
			ch <- prometheus.MustNewConstMetric(terms, prometheus.CounterValue, float64(s.leader.Acquired()))
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if sts, err := s.runtime.Status(ctx); err == nil {
				lags := s.lagSeconds(ctx, sts)
				for i, st := range sts {
					if s.densePositions() {
						ch <- prometheus.MustNewConstMetric(lagEvents, prometheus.GaugeValue, float64(st.LagEvents), st.Name)
					}
					ch <- prometheus.MustNewConstMetric(lagSeconds, prometheus.GaugeValue, lags[i], st.Name)
				}
				if len(sts) > 0 {
					ch <- prometheus.MustNewConstMetric(head, prometheus.GaugeValue, float64(sts[0].Head))
				}
			}
			counts := s.Lifecycle.Counts()
			for _, st := range lifecycle.Stages() {
				ch <- prometheus.MustNewConstMetric(stage, prometheus.GaugeValue, float64(counts[st]), st.String())
			}
			now := s.clock()
			ch <- prometheus.MustNewConstMetric(overdue, prometheus.GaugeValue, float64(s.Complaints.OverdueCount(now)))
			d, od, _, _ := s.FollowUps.Counts(now)
			ch <- prometheus.MustNewConstMetric(due, prometheus.GaugeValue, float64(d), "due")
			ch <- prometheus.MustNewConstMetric(due, prometheus.GaugeValue, float64(od), "overdue")
		},
	}, s.greetingCollector(), s.followUpCollector()}
}

// collectorFunc is a Prometheus collector computed at scrape time.
type collectorFunc struct {
	descs   []*prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

func firstCode(codes []graphql.Code) string {
	if len(codes) == 0 {
		return "OK"
	}
	return string(codes[0])
}
