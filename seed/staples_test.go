package seed_test

import (
	"slices"
	"testing"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/replenish"
)

// The seeded households buy rice on a household rhythm, so the
// replenishment model finds a category "rice" with a monthly-ish interval
// for many customers, some of them due soon after the history's end.
func TestHouseholdStaples(t *testing.T) {
	cfg := config(t, 600)
	hs, _ := collect(t, cfg)
	m, err := replenish.New(replenish.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		for _, ch := range h.Changes {
			if p, ok := ch.Event.(*customer.PurchaseMade); ok {
				m.Add(h.CustomerID, ch.OccurredAt, p.Items...)
			}
		}
	}
	var intervals []float64
	due := 0
	for _, h := range hs {
		p, ok := m.PredictCategory(h.CustomerID, "rice", cfg.End)
		if !ok || p.Purchases < 3 {
			continue
		}
		intervals = append(intervals, p.Interval)
		if d := p.ExpectedAt.Sub(cfg.End).Hours() / 24; d >= 0 && d <= 14 {
			due++
		}
	}
	if len(intervals) < len(hs)/10 {
		t.Fatalf("%d of %d customers buy rice repeatedly: want at least 10%%", len(intervals), len(hs))
	}
	slices.Sort(intervals)
	median := intervals[len(intervals)/2]
	if median < 20 || median > 90 {
		t.Fatalf("median rice interval %.1f days: want a household rhythm (20–90 days)", median)
	}
	if due == 0 {
		t.Fatal("no seeded customer is due to buy rice within 14 days of the end: the demo would show no replenishment calls")
	}
	t.Logf("%d rice buyers, median interval %.1f days, %d due within 14 days", len(intervals), median, due)
}
