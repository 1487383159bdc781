package server

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
)

// densePositions reports whether the store numbers events 1, 2, 3 … (the
// embedded store, PostgreSQL), so that head − checkpoint counts events.
// EventStoreDB's positions are commit positions (byte offsets): there the
// difference means nothing, and only the lag in seconds is exported.
func (s *Server) densePositions() bool { return s.dir.DensePositions }

// lagSeconds is, per status, the age of the oldest event the projection
// has not applied (the first event after its checkpoint), 0 when caught
// up. It reads that event's RecordedAt from the store, once per distinct
// checkpoint; where the read fails it falls back to the runtime's figure.
func (s *Server) lagSeconds(ctx context.Context, sts []projections.Status) []float64 {
	now := s.clock()
	out := make([]float64, len(sts))
	oldest := map[eventstore.Position]time.Time{}
	for i, st := range sts {
		if st.Checkpoint >= st.Head {
			continue
		}
		at, ok := oldest[st.Checkpoint]
		if !ok {
			err := s.dir.Store.ReadAll(ctx, st.Checkpoint, func(ev eventstore.Event) error {
				at = ev.RecordedAt
				return eventstore.ErrStop
			})
			if err != nil || at.IsZero() {
				out[i] = st.LagSeconds
				continue
			}
			oldest[st.Checkpoint] = at
		}
		out[i] = max(0, now.Sub(at).Seconds())
	}
	return out
}

// instrumentedSender counts and times the deliveries of the greeting
// dispatcher's sender.
type instrumentedSender struct {
	next greeting.Sender
	m    *Metrics
}

// channelLabel bounds the channel label to the contract's channels.
func channelLabel(c string) string {
	switch c {
	case "SMS", "WECHAT", "EMAIL":
		return c
	}
	return "other"
}

func (i instrumentedSender) Send(ctx context.Context, msg greeting.Message) (greeting.Receipt, error) {
	start := time.Now()
	rec, err := i.next.Send(ctx, msg)
	ch := channelLabel(msg.Channel)
	i.m.sendLatency.WithLabelValues(ch).Observe(time.Since(start).Seconds())
	attempts := rec.Attempts
	result := "delivered"
	var de *greeting.DeliveryError
	switch {
	case errors.As(err, &de):
		result, attempts = "failed", de.Attempts
	case err != nil:
		result = "error"
	case rec.Duplicate:
		result = "duplicate"
	}
	i.m.sends.WithLabelValues(ch, result).Inc()
	if attempts > 1 {
		i.m.sendRetries.WithLabelValues(ch).Add(float64(attempts - 1))
	}
	return rec, err
}

// greetingCollector exports the campaigns read model: campaigns by status,
// and the greeting outcomes recorded in the log over all campaigns (sent,
// failed, skipped by reason). The outcomes are counters that only grow
// with the log, so they are exported only once the read models have caught
// up (a scrape during catch-up would see them fall).
func (s *Server) greetingCollector() prometheus.Collector {
	byStatus := prometheus.NewDesc("kefu_greeting_campaigns", "Greeting campaigns by status.", []string{"status"}, nil)
	outcomes := prometheus.NewDesc("kefu_greetings_recorded_total", "Greeting outcomes recorded in the log, all campaigns (the same figure on every instance sharing a store): sent, failed, and skipped by reason (CONSENT, CONDUCT, NO_CHANNEL, MISSED, ERASED …).", []string{"outcome", "reason"}, nil)
	return collectorFunc{
		descs: []*prometheus.Desc{byStatus, outcomes},
		collect: func(ch chan<- prometheus.Metric) {
			status := map[campaign.Status]int{campaign.StatusScheduled: 0, campaign.StatusRunning: 0, campaign.StatusCompleted: 0, campaign.StatusCancelled: 0}
			var sent, failed int
			skipped := map[string]int{}
			after := ""
			for {
				p, err := s.Campaigns.List(after, 500)
				if err != nil {
					break
				}
				for _, c := range p.Items {
					status[c.Status]++
					sent += c.Sent
					failed += c.Failed
					for r, n := range c.SkippedByReason {
						skipped[r] += n
					}
				}
				if !p.HasNextPage || len(p.Cursors) == 0 {
					break
				}
				after = p.Cursors[len(p.Cursors)-1]
			}
			for st, n := range status {
				ch <- prometheus.MustNewConstMetric(byStatus, prometheus.GaugeValue, float64(n), string(st))
			}
			select {
			case <-s.ready:
			default:
				return
			}
			ch <- prometheus.MustNewConstMetric(outcomes, prometheus.CounterValue, float64(sent), "sent", "")
			ch <- prometheus.MustNewConstMetric(outcomes, prometheus.CounterValue, float64(failed), "failed", "")
			for r, n := range skipped {
				ch <- prometheus.MustNewConstMetric(outcomes, prometheus.CounterValue, float64(n), "skipped", r)
			}
		},
	}
}

// followUpCollector exports the follow-up scheduler's counters (since this
// process started) and its pending actions.
func (s *Server) followUpCollector() prometheus.Collector {
	actions := prometheus.NewDesc("kefu_followup_actions_total", "Follow-up scheduler actions since start, by result: planned, booked (a follow-up was scheduled by a command), already (it existed), cancelled (it appeared in the log first), stale (due too long ago), obsolete (the customer is no longer silent), refused (the domain refused it for good).", []string{"result"}, nil)
	failures := prometheus.NewDesc("kefu_followup_command_failures_total", "Follow-up commands that failed and will be retried, since start.", nil, nil)
	pending := prometheus.NewDesc("kefu_followup_actions_pending", "Follow-ups planned and not yet booked.", nil, nil)
	return collectorFunc{
		descs: []*prometheus.Desc{actions, failures, pending},
		collect: func(ch chan<- prometheus.Metric) {
			st := s.sched.Stats()
			for _, r := range []struct {
				result string
				n      int
			}{{"planned", st.Planned}, {"booked", st.Scheduled}, {"already", st.Already}, {"cancelled", st.Cancelled},
				{"stale", st.Stale}, {"obsolete", st.Obsolete}, {"refused", st.Refused}} {
				ch <- prometheus.MustNewConstMetric(actions, prometheus.CounterValue, float64(r.n), r.result)
			}
			ch <- prometheus.MustNewConstMetric(failures, prometheus.CounterValue, float64(st.Failed))
			ch <- prometheus.MustNewConstMetric(pending, prometheus.GaugeValue, float64(len(s.sched.Pending())))
		},
	}
}
