package lifecycle_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// realisticHistory is a typical customer: registration, a handful of
// purchases over a year or two, some contacts and greetings; about one in
// eight grumbles, one in twenty complains.
func realisticHistory(rng *rand.Rand, start time.Time) []lifecycle.Fact {
	at := start
	out := []lifecycle.Fact{{At: at, Event: registered()}}
	step := func(maxDays int) { at = at.Add(time.Duration(rng.Int64N(int64(maxDays) * int64(lifecycle.Day)))) }
	for i := range 2 + rng.IntN(6) {
		step(90)
		out = append(out, lifecycle.Fact{At: at, Event: purchase(fmt.Sprint("o-", i))})
		if rng.IntN(3) == 0 {
			step(10)
			out = append(out, lifecycle.Fact{At: at, Event: inbound()})
		}
		if rng.IntN(4) == 0 {
			step(30)
			out = append(out, lifecycle.Fact{At: at, Event: greeting()})
		}
	}
	if rng.IntN(8) == 0 {
		step(20)
		out = append(out, lifecycle.Fact{At: at, Event: grumble()})
		step(5)
		out = append(out, lifecycle.Fact{At: at, Event: outbound()})
	}
	if rng.IntN(20) == 0 {
		step(20)
		out = append(out, lifecycle.Fact{At: at, Event: complaint("c-1")})
		step(10)
		out = append(out, lifecycle.Fact{At: at, Event: resolved("c-1", [2]customer.Outcome{customer.Satisfied, customer.Unsatisfied}[rng.IntN(2)])})
	}
	return out
}

// BenchmarkApply is the cost of folding one fact into the live
// projection (index and deadline-heap upkeep included), with the churn
// model on.
func BenchmarkApply(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	type ev struct {
		id string
		f  lifecycle.Fact
	}
	var evs []ev
	for c := 0; len(evs) < 200_000; c++ {
		id := fmt.Sprintf("cust-%07d", c)
		for _, f := range realisticHistory(rng, t0.Add(time.Duration(rng.Int64N(int64(365*lifecycle.Day))))) {
			evs = append(evs, ev{id, f})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var p *lifecycle.Projector
	for i := 0; i < b.N; i++ {
		k := i % len(evs)
		if k == 0 {
			b.StopTimer()
			p, _ = lifecycle.New(lifecycle.Config{Policy: lifecycle.DefaultPolicy(), Churn: cdnow(1000)})
			b.StartTimer()
		}
		p.Apply(evs[k].id, evs[k].f)
	}
}

// BenchmarkMemoryPerCustomer measures the live lifecycle read model's heap
// per customer at 1M customers (run with -benchtime=1x).
func BenchmarkMemoryPerCustomer(b *testing.B) {
	const n = 1_000_000
	for range b.N {
		rng := rand.New(rand.NewPCG(3, 4))
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		p, _ := lifecycle.New(lifecycle.Config{Policy: lifecycle.DefaultPolicy(), Churn: cdnow(1000)})
		events := 0
		for c := range n {
			id := fmt.Sprintf("cust-%07d", c)
			for _, f := range realisticHistory(rng, t0.Add(time.Duration(rng.Int64N(int64(365*lifecycle.Day))))) {
				p.Apply(id, f)
				events++
			}
		}
		p.AdvanceTo(t0.Add(3 * 365 * lifecycle.Day))
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/customer")
		b.ReportMetric(float64(events)/n, "events/customer")
		runtime.KeepAlive(p)
	}
}
