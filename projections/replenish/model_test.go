package replenish_test

import (
	"math"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections/replenish"
)

// book is a small household book: rice every ~30 days, oil every ~60, for
// six customers; "ann" buys rice every 20 days.
func book(t *testing.T) *replenish.Model {
	t.Helper()
	m, err := replenish.New(replenish.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	start := day("2026-01-01")
	for i, id := range []string{"bob", "cai", "dan", "eve", "fay"} {
		for k := range 5 {
			m.Add(id, start.AddDate(0, 0, i+k*(28+i)), "Rice 10kg")
		}
		for k := range 3 {
			m.Add(id, start.AddDate(0, 0, i+k*(55+2*i)), "cooking oil 5L")
		}
	}
	for k := range 6 {
		m.Add("ann", start.AddDate(0, 0, k*20), "rice 10kg")
	}
	return m
}

func TestPredictShrinksACustomersOwnIntervals(t *testing.T) {
	// Given the book
	m := book(t)
	asOf := day("2026-06-30")

	// When ann's next rice purchase is predicted
	ps := m.Predict("ann", asOf)
	if len(ps) != 1 {
		t.Fatalf("predictions %+v, want one (rice)", ps)
	}
	p := ps[0]
	prior, scope, err := m.Prior("rice 10kg", asOf)
	if err != nil || scope != "category" {
		t.Fatalf("prior %+v %q %v", prior, scope, err)
	}

	// Then it lies between her own 20 days and the population's, by the
	// credibility weight of her five intervals
	wantIv, wantZ := prior.Estimate(replenish.HistoryOf([]int32{0, 20, 40, 60, 80, 100}))
	if math.Abs(p.Interval-wantIv) > 1e-9 || math.Abs(p.Confidence-wantZ) > 1e-9 {
		t.Fatalf("interval %v confidence %v, want %v %v", p.Interval, p.Confidence, wantIv, wantZ)
	}
	if !(p.Interval > 20 && p.Interval < prior.MeanInterval()) {
		t.Fatalf("interval %.2f not between her 20 d and the population's %.2f d", p.Interval, prior.MeanInterval())
	}
	last := time.Date(2026, 4, 11, 0, 0, 0, 0, time.UTC) // 2026-01-01 + 100 d
	if !p.LastPurchaseAt.Equal(last) || p.Purchases != 6 || p.Item != "rice 10kg" || p.Category != "rice 10kg" {
		t.Fatalf("prediction %+v", p)
	}
	if want := last.Add(time.Duration(p.Interval * 24 * float64(time.Hour))).Truncate(time.Second); !p.ExpectedAt.Equal(want) {
		t.Fatalf("expectedAt %v, want %v", p.ExpectedAt, want)
	}
}

func TestPredictAsOfSeesOnlyEarlierPurchases(t *testing.T) {
	m := book(t)
	// As of 2026-02-15, ann had bought on days 0, 20 and 40 only.
	p, ok := m.PredictCategory("ann", "rice 10kg", day("2026-02-15"))
	if !ok {
		t.Fatal("no prediction")
	}
	if p.Purchases != 3 || !p.LastPurchaseAt.Equal(time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("as of 2026-02-15: %+v", p)
	}
	// Before any purchase there is no prediction.
	if _, ok := m.PredictCategory("ann", "rice 10kg", day("2025-12-31")); ok {
		t.Fatal("prediction before the first purchase")
	}
	if ps := m.Predict("nobody", day("2026-06-30")); len(ps) != 0 {
		t.Fatalf("unknown customer: %+v", ps)
	}
}

func TestPredictBorrowsThePooledPriorForARareCategory(t *testing.T) {
	m := book(t)
	// Given one customer who bought a water purifier twice
	m.Add("ann", day("2026-01-05"), "water purifier")
	m.Add("ann", day("2026-05-05"), "Water Purifier")
	p, ok := m.PredictCategory("ann", "water purifier", day("2026-06-30"))
	if !ok {
		t.Fatal("no prediction")
	}
	// Then the category's prior is the pooled one
	if p.PriorScope != "pooled" {
		t.Fatalf("prior scope %q, want pooled", p.PriorScope)
	}
	if p.Item != "Water Purifier" {
		t.Fatalf("item %q, want the latest text", p.Item)
	}
	// And with too few repeat customers anywhere there is no prediction
	lone, err := replenish.New(replenish.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	lone.Add("x", day("2026-01-01"), "rice")
	lone.Add("x", day("2026-02-01"), "rice")
	if ps := lone.Predict("x", day("2026-03-01")); len(ps) != 0 {
		t.Fatalf("prediction without a prior: %+v", ps)
	}
}

func TestApplyCountsPurchaseDaysOnceAndInAnyOrder(t *testing.T) {
	ev := func(id string, at time.Time, items ...string) (eventstore.Event, customer.Event) {
		return eventstore.Event{StreamID: customer.StreamCategory + "-" + id, Type: customer.TypePurchaseMade, OccurredAt: at},
			&customer.PurchaseMade{OrderID: "o", Items: items}
	}
	a, _ := replenish.New(replenish.DefaultConfig())
	b, _ := replenish.New(replenish.DefaultConfig())
	facts := [][2]any{}
	for i, d := range []string{"2026-01-01", "2026-01-01", "2026-02-01", "2026-03-03"} {
		e, p := ev("ann", day(d).Add(time.Duration(i)*time.Minute), "rice", "", "oil")
		facts = append(facts, [2]any{e, p})
	}
	for _, f := range facts {
		a.Apply(f[0].(eventstore.Event), f[1].(customer.Event))
	}
	for i := len(facts) - 1; i >= 0; i-- {
		b.Apply(facts[i][0].(eventstore.Event), facts[i][1].(customer.Event))
		b.Apply(facts[i][0].(eventstore.Event), facts[i][1].(customer.Event)) // re-delivered
	}
	if a.Digest() != b.Digest() {
		t.Fatal("digest depends on order or re-delivery")
	}
	if got := a.Categories(); len(got) != 2 || got[0] != "oil" || got[1] != "rice" {
		t.Fatalf("categories %v", got)
	}
	if !a.Wants(customer.TypePurchaseMade) || a.Wants(customer.TypeContactLogged) {
		t.Fatal("Wants")
	}
}
