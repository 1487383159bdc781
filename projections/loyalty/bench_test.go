package loyalty_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/loyalty"
)

// realistic is a typical customer's stream (about 8.5 events): a handful
// of purchases over a year or two, contacts, greetings, surveys; one in
// eight grumbles, one in twenty complains.
func realistic(rng *rand.Rand, start time.Time) []lifecycle.Fact {
	at := start
	out := []lifecycle.Fact{{At: at, Event: &customer.CustomerRegistered{CustomerID: "x"}}}
	add := func(maxDays int, e customer.Event) {
		at = at.Add(time.Duration(rng.Int64N(int64(maxDays) * int64(24*time.Hour))))
		out = append(out, lifecycle.Fact{At: at, Event: e})
	}
	for range 2 + rng.IntN(6) {
		add(90, &customer.PurchaseMade{OrderID: "o", Amount: customer.Money{AmountMinor: 1000 + rng.Int64N(100000), Currency: "CNY"}})
		if rng.IntN(3) == 0 {
			add(10, &customer.ContactLogged{Channel: customer.ChannelPhone, Direction: customer.Inbound})
		}
		if rng.IntN(4) == 0 {
			add(30, &customer.GreetingSent{CampaignID: "g"})
		}
		if rng.IntN(6) == 0 {
			add(3, &customer.SatisfactionRecorded{Score: 1 + rng.IntN(5)})
		}
	}
	if rng.IntN(8) == 0 {
		add(20, &customer.GrumbleVoiced{})
		add(5, &customer.ContactLogged{Channel: customer.ChannelPhone, Direction: customer.Outbound})
	}
	if rng.IntN(20) == 0 {
		add(20, &customer.ComplaintFiled{ComplaintID: "c-1"})
		add(10, &customer.ComplaintResolved{ComplaintID: "c-1", Outcome: [2]customer.Outcome{customer.Satisfied, customer.Unsatisfied}[rng.IntN(2)]})
	}
	if rng.IntN(10) == 0 {
		add(60, &customer.ReferralMade{})
	}
	return out
}

var start = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)

// BenchmarkApply is the cost of folding one fact into the live loyalty
// read model, rescoring and re-indexing included.
func BenchmarkApply(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	type ev struct {
		id string
		f  lifecycle.Fact
	}
	var evs []ev
	for c := 0; len(evs) < 200_000; c++ {
		id := fmt.Sprintf("cust-%07d", c)
		for _, f := range realistic(rng, start.Add(time.Duration(rng.Int64N(int64(365*24*time.Hour))))) {
			evs = append(evs, ev{id, f})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var p *loyalty.Projector
	for i := 0; i < b.N; i++ {
		k := i % len(evs)
		if k == 0 {
			b.StopTimer()
			p, _ = loyalty.New(loyalty.DefaultConfig())
			b.StartTimer()
		}
		p.Apply(evs[k].id, evs[k].f)
	}
}

// BenchmarkMemoryPerCustomer measures the heap held by the live lifecycle
// and loyalty read models together per customer at 1M customers (the
// issue's budget is 1 KiB). Run with -benchtime=1x.
func BenchmarkMemoryPerCustomer(b *testing.B) {
	const n = 1_000_000
	for range b.N {
		rng := rand.New(rand.NewPCG(3, 4))
		runtime.GC()
		var before, mid, after runtime.MemStats
		runtime.ReadMemStats(&before)
		lc, err := lifecycle.New(lifecycle.Config{Policy: lifecycle.DefaultPolicy()})
		if err != nil {
			b.Fatal(err)
		}
		ly, err := loyalty.New(loyalty.DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		events := 0
		for c := range n {
			id := fmt.Sprintf("cust-%07d", c)
			for _, f := range realistic(rng, start.Add(time.Duration(rng.Int64N(int64(365*24*time.Hour))))) {
				lc.Apply(id, f)
				ly.Apply(id, f)
				events++
			}
		}
		end := start.Add(3 * 365 * 24 * time.Hour)
		lc.AdvanceTo(end)
		ly.Refresh(end)
		runtime.GC()
		runtime.ReadMemStats(&mid)
		runtime.KeepAlive(lc)
		lc = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		total := float64(mid.HeapAlloc - before.HeapAlloc)
		loy := float64(after.HeapAlloc - before.HeapAlloc)
		b.ReportMetric(total/n, "B/customer")
		b.ReportMetric(loy/n, "loyalty-B/customer")
		b.ReportMetric((total-loy)/n, "lifecycle-B/customer")
		b.ReportMetric(float64(events)/n, "events/customer")
		runtime.KeepAlive(ly)
	}
}
