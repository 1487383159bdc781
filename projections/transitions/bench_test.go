package transitions_test

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	lc "github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/transitions"
)

var (
	bigOnce sync.Once
	bigLog  *transitions.Log
)

// bigTransitions is a synthetic log of 1,000,000 customers over two
// years: registration, then 3–12 further changes each along plausible
// paths (about 8.5 million changes).
func bigTransitions() *transitions.Log {
	bigOnce.Do(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		t := transitions.New()
		start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		span := int64(2 * 365 * 86400)
		next := []lc.Stage{lc.StageActive, lc.StageLoyal, lc.StageGrumbling, lc.StageComplaining, lc.StageSilent, lc.StageDormant, lc.StageLost}
		for c := range 1_000_000 {
			id := "c" + strconv.Itoa(c)
			at := start + rng.Int64N(span/2)
			prev := lc.StageNone
			to := lc.StageNew
			for k := range 3 + rng.IntN(10) {
				t.Record(id, lc.StageChange{From: prev, To: to, At: time.Unix(at, 0)})
				prev = to
				for to == prev {
					to = next[rng.IntN(len(next))]
				}
				at += rng.Int64N(span / 16)
				_ = k
			}
		}
		bigLog = t
	})
	return bigLog
}

// BenchmarkLifecycleReport: two years by month over 1M customers.
func BenchmarkLifecycleReport(b *testing.B) {
	log := bigTransitions()
	from := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(2, 0, 0)
	b.Logf("%d changes of %d customers", log.Len(), log.Customers())
	b.ResetTimer()
	for b.Loop() {
		rep, err := log.LifecycleReport(from, to, transitions.Month, transitions.ReportOptions{})
		if err != nil || len(rep.Buckets) != 24 {
			b.Fatal(err, len(rep.Buckets))
		}
	}
}

// BenchmarkLifecycleReportWeekly: the same by week (uniform buckets).
func BenchmarkLifecycleReportWeekly(b *testing.B) {
	log := bigTransitions()
	from := time.Date(2023, 1, 2, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(2, 0, 0)
	b.ResetTimer()
	for b.Loop() {
		if _, err := log.LifecycleReport(from, to, transitions.Week, transitions.ReportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFunnel over the same 1M customers.
func BenchmarkFunnel(b *testing.B) {
	log := bigTransitions()
	b.ResetTimer()
	for b.Loop() {
		log.Funnel(time.Time{}, time.Time{})
	}
}

// BenchmarkRecord is the OnChange hook's cost per change.
func BenchmarkRecord(b *testing.B) {
	t := transitions.New()
	c := lc.StageChange{From: lc.StageNew, To: lc.StageActive, At: time.Unix(1700000000, 0)}
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = "c" + strconv.Itoa(i)
	}
	i := 0
	for b.Loop() {
		t.Record(ids[i&4095], c)
		i++
	}
}
