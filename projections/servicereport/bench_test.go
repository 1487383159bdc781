package servicereport_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections/complaints"
	"github.com/kefu-crm/kefu/projections/followups"
)

// queues are the complaints and follow-ups read models of a seed-like book
// of 1M customers, built once for the queue benchmarks.
type queues struct {
	c        *complaints.Model
	f        *followups.Model
	now      time.Time
	owners   []string
	overdue  int
	dueTotal int
}

var (
	queuesOnce sync.Once
	queuesData *queues
)

const benchCustomers = 1_000_000

// buildQueues feeds the models events shaped like the seed's: 10% of the
// customers complain (1–2 complaints, filed over two years), 8% of those
// are declined, 7% stay open; about 1% of the open ones are never
// acknowledged and some escalations break their promise; every resolved
// complaint gets RECOVERY follow-ups (+3d, +30d SATISFIED, +7d
// UNSATISFIED) of which 80% are completed when due; 5% of the customers
// get a WIN_BACK or HOLIDAY follow-up for one of 12 account managers.
func buildQueues() *queues {
	rng := rand.New(rand.NewPCG(42, 5))
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	q := &queues{c: complaints.New(), f: followups.New(), now: now}
	ams := make([]string, 12)
	for i := range ams {
		ams[i] = fmt.Sprintf("am-%02d", i)
	}
	agents := make([]string, 40)
	for i := range agents {
		agents[i] = fmt.Sprintf("agent-%02d", i)
	}
	q.owners = append(slices.Clone(ams), agents...)
	var pos eventstore.Position
	apply := func(stream string, e customer.Event, at time.Time) {
		pos++
		ev := eventstore.Event{StreamID: stream, Position: pos, OccurredAt: at, Type: e.EventType()}
		q.c.Apply(ev, e)
		q.f.Apply(ev, e)
	}
	day := 24 * time.Hour
	span := int64(2 * 365 * day)
	for i := range benchCustomers {
		cid := fmt.Sprintf("c%07d", i)
		stream := "customer-" + cid
		am := ams[i%len(ams)]
		if rng.IntN(100) < 10 {
			for k := range 1 + rng.IntN(2) {
				id := fmt.Sprintf("%s-cp%d", cid, k)
				owner := agents[rng.IntN(len(agents))]
				filed := now.Add(-time.Duration(rng.Int64N(span)))
				due := filed.Add(4*time.Hour + 30*time.Minute)
				apply(stream, &customer.ComplaintFiled{ComplaintID: id, Channel: customer.ChannelPhone, Category: []string{"delivery", "quality", "billing", "service"}[rng.IntN(4)],
					Severity: customer.SeverityGeneral, Owner: owner, ReplyDueAt: due}, filed)
				r := rng.IntN(100)
				if r < 1 { // never acknowledged
					continue
				}
				apply(stream, &customer.ComplaintAcknowledged{ComplaintID: id, By: owner}, filed.Add(time.Hour))
				switch {
				case r < 9: // declined
					apply(stream, &customer.ComplaintDeclined{ComplaintID: id, By: owner, Reason: "not covered"}, filed.Add(2*time.Hour))
				case r < 16: // left open, some escalated with a promise
					if rng.IntN(3) == 0 {
						apply(stream, &customer.ComplaintEscalated{ComplaintID: id, By: owner, To: "manager", Reason: "major", PromisedReplyBy: filed.Add(3 * day)}, filed.Add(2*time.Hour))
					}
				default:
					res := filed.Add(time.Duration(1+rng.IntN(4)) * day)
					if res.After(now) {
						continue
					}
					o := customer.Satisfied
					offs := []time.Duration{3 * day, 30 * day}
					if rng.IntN(100) < 30 {
						o, offs = customer.Unsatisfied, []time.Duration{7 * day}
					}
					apply(stream, &customer.ComplaintResolved{ComplaintID: id, By: owner, Outcome: o}, res)
					for n, off := range offs {
						fid := customer.RecoveryFollowUpID(id, n+1)
						fdue := res.Add(off)
						apply(stream, &customer.FollowUpScheduled{FollowUpID: fid, ComplaintID: id, Reason: customer.ReasonRecovery, Owner: owner, DueAt: fdue}, res.Add(time.Minute))
						if fdue.Before(now) && rng.IntN(100) < 80 {
							apply(stream, &customer.FollowUpCompleted{FollowUpID: fid, By: owner, Outcome: customer.FollowUpSatisfied}, fdue)
						}
					}
				}
			}
		}
		if rng.IntN(100) < 5 {
			due := now.Add(time.Duration(rng.Int64N(int64(60*day))) - 30*day)
			reason := []customer.FollowUpReason{customer.ReasonWinBack, customer.ReasonHoliday}[rng.IntN(2)]
			apply(stream, &customer.FollowUpScheduled{FollowUpID: "x-" + cid, Reason: reason, Owner: am, DueAt: due}, due.Add(-day))
		}
	}
	q.overdue = q.c.OverdueCount(now)
	due, _, _, _ := q.f.Counts(now)
	q.dueTotal = due
	return q
}

func loadQueues(b *testing.B) *queues {
	b.Helper()
	queuesOnce.Do(func() {
		start := time.Now()
		queuesData = buildQueues()
		b.Logf("built read models of %d customers in %v: %d overdue complaints, %d DUE follow-ups", benchCustomers, time.Since(start), queuesData.overdue, queuesData.dueTotal)
	})
	return queuesData
}

// latencies runs query b.N times and reports p50 and p99 in ms.
func latencies(b *testing.B, query func(i int)) {
	b.Helper()
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		query(i)
		d = append(d, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(d)
	pct := func(p float64) float64 { return float64(d[min(len(d)-1, int(p*float64(len(d))))].Nanoseconds()) / 1e6 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkFollowUpsOwnerDue is followUps(owner, status: DUE), first page
// of 50, for every owner in turn.
func BenchmarkFollowUpsOwnerDue(b *testing.B) {
	q := loadQueues(b)
	latencies(b, func(i int) {
		p, err := q.f.List(followups.Filter{Owner: q.owners[i%len(q.owners)], Status: followups.Due}, "", 50)
		if err != nil || len(p.Items) == 0 {
			b.Fatalf("empty queue or %v", err)
		}
	})
}

// BenchmarkComplaintsOverdue is complaints(overdue: true), first page of 50.
func BenchmarkComplaintsOverdue(b *testing.B) {
	q := loadQueues(b)
	yes := true
	latencies(b, func(int) {
		p, _ := q.c.List(complaints.Filter{Overdue: &yes, Now: q.now}, "", 50)
		if p.Total != q.overdue {
			b.Fatalf("total %d, want %d", p.Total, q.overdue)
		}
	})
}
