package server_test

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/projections/replenish"
)

const recordPurchase = `mutation($in: RecordPurchaseInput!){ recordPurchase(input: $in){ version } }`

// replenishBook registers six households of account manager mia and
// records their rice purchases through the API: five buy every 28–32
// days, "ann" every 20 days; ann and bob also bought a water purifier once.
// It returns each customer's rice purchase days as the test wrote them.
// historyOf is the estimator's summary of purchase days (UTC midnights).
func historyOf(days []time.Time) replenish.History {
	ds := make([]int32, len(days))
	for i, d := range days {
		ds[i] = int32(d.Unix() / 86400)
	}
	return replenish.HistoryOf(ds)
}

func replenishBook(t *testing.T, h *harness, now time.Time, consent map[string]bool) map[string][]time.Time {
	t.Helper()
	start := now.AddDate(0, -6, 0).Truncate(24 * time.Hour).Add(10 * time.Hour)
	rice := map[string][]time.Time{}
	for i, id := range []string{"ann", "bob", "cai", "dan", "eve", "fay"} {
		h.register(id, "Household "+id, map[string]any{"accountManager": "mia", "marketingConsent": consent[id], "occurredAt": ts(start.AddDate(0, 0, -1))})
		every := 28 + i
		if id == "ann" {
			every = 20
		}
		for k, at := 0, start.AddDate(0, 0, i); at.Before(now.AddDate(0, 0, -8)); k, at = k+1, at.AddDate(0, 0, every) {
			items := []string{"Rice 10kg"}
			if k == 0 && (id == "ann" || id == "bob") {
				items = append(items, "water purifier")
			}
			h.ok(recordPurchase, map[string]any{"in": map[string]any{"customerId": id, "orderId": fmt.Sprintf("o-%s-%d", id, k),
				"amount": map[string]any{"amountMinor": 6900, "currency": "CNY"}, "items": items, "occurredAt": ts(at)}})
			rice[id] = append(rice[id], at.Truncate(24*time.Hour))
		}
	}
	return rice
}

// Given households buying rice through the API, when an account manager
// asks for a customer's nextPurchase over HTTP, then the server answers
// the estimator's prediction from the customer's own purchases shrunk
// towards the book's, and customers(filter:{dueForReplenishmentBy})
// lists exactly the customers expected by that date.
func TestNextPurchaseThroughTheAPI(t *testing.T) {
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	h := startServer(t, options{clock: newFakeClock(now)})
	rice := replenishBook(t, h, now, nil)

	// The prediction the test expects, computed from the purchases it made.
	var hs []replenish.History
	for _, days := range rice {
		hs = append(hs, historyOf(days))
	}
	prior, err := replenish.FitPrior(hs, replenish.DefaultConfig().MinCustomers)
	if err != nil {
		t.Fatal(err)
	}
	const q = `query($id: ID!, $asOf: DateTime){ customer(id: $id, asOf: $asOf){ nextPurchase { category item expectedAt interval confidence purchases lastPurchaseAt } } }`
	expected := map[string]time.Time{} // rice
	soonest := map[string]time.Time{}  // any category
	for id, days := range rice {
		r := h.ok(q, map[string]any{"id": id})
		nps := r.list("customer.nextPurchase")
		// water purifier (ann, bob): one purchase each, no repeat buyer, no
		// prior of its own — it borrows the pooled one; soonest first
		byCat := map[string]map[string]any{}
		for _, n := range nps {
			byCat[n.(map[string]any)["category"].(string)] = n.(map[string]any)
		}
		np, wp := byCat["rice 10kg"], byCat["water purifier"]
		if np == nil || np["item"] != "Rice 10kg" {
			t.Fatalf("%s: %s", id, r.Raw)
		}
		if id == "ann" || id == "bob" {
			if len(nps) != 2 || wp == nil || wp["confidence"].(float64) != 0 {
				t.Fatalf("%s: want rice and water purifier: %s", id, r.Raw)
			}
			if a, b := mustTime(t, r.str("customer.nextPurchase.0.expectedAt")), mustTime(t, r.str("customer.nextPurchase.1.expectedAt")); a.After(b) {
				t.Errorf("%s: not soonest first: %s", id, r.Raw)
			}
		} else if len(nps) != 1 {
			t.Fatalf("%s: want rice only: %s", id, r.Raw)
		}
		soonest[id] = mustTime(t, r.str("customer.nextPurchase.0.expectedAt"))
		wantIv, wantZ := prior.Estimate(historyOf(days))
		iv, _ := np["interval"].(float64)
		z, _ := np["confidence"].(float64)
		if math.Abs(iv-wantIv) > 1e-6 || math.Abs(z-wantZ) > 1e-6 {
			t.Errorf("%s: interval %v confidence %v, want %v %v", id, iv, z, wantIv, wantZ)
		}
		last := days[len(days)-1]
		if got := mustTime(t, np["lastPurchaseAt"].(string)); !got.Equal(last) || int(np["purchases"].(float64)) != len(days) {
			t.Errorf("%s: last purchase %v (%v days), want %v (%d)", id, got, np["purchases"], last, len(days))
		}
		exp := mustTime(t, np["expectedAt"].(string))
		if want := last.Add(time.Duration(wantIv * 24 * float64(time.Hour))); exp.Sub(want).Abs() > time.Second {
			t.Errorf("%s: expectedAt %v, want %v", id, exp, want)
		}
		expected[id] = exp
	}
	// ann buys every 20 days: her interval is shorter than the others', yet
	// pulled towards theirs; the book buys like clockwork, so hardly.
	if iv := expected["ann"].Sub(rice["ann"][len(rice["ann"])-1]).Hours() / 24; !(iv > 20 && iv < 22 && prior.MeanInterval() > 26) {
		t.Errorf("ann's interval %.2f d: want a little above her 20 d, below the book's %.2f d", iv, prior.MeanInterval())
	}

	// As of an earlier instant only the purchases made by then count.
	asOf := rice["bob"][2].Add(time.Hour)
	r := h.ok(q, map[string]any{"id": "bob", "asOf": ts(asOf)})
	if len(r.list("customer.nextPurchase")) == 0 {
		t.Fatalf("bob as of %v: %s", asOf, r.Raw)
	}
	if n := r.num("customer.nextPurchase.0.purchases") + r.num("customer.nextPurchase.1.purchases"); n != 4 { // rice 3, purifier 1

		t.Errorf("bob as of %v: %s", asOf, r.Raw)
	}

	// customers(filter:{dueForReplenishmentBy}) lists the customers expected by the date.
	var sizes []int
	for _, by := range []time.Time{now, now.AddDate(0, 0, 10), now.AddDate(0, 0, 25), now.AddDate(1, 0, 0)} {
		var want []string
		for id, exp := range soonest {
			if !exp.UTC().Truncate(24 * time.Hour).After(by.Truncate(24 * time.Hour)) {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		sizes = append(sizes, len(want))
		r := h.ok(`query($by: Date){ customers(filter:{dueForReplenishmentBy: $by, accountManager: "mia"}){ totalCount edges { node { id } } } }`,
			map[string]any{"by": by.Format(time.DateOnly)})
		var got []string
		for _, e := range r.list("customers.edges") {
			got = append(got, e.(map[string]any)["node"].(map[string]any)["id"].(string))
		}
		if !slices.Equal(got, want) || r.num("customers.totalCount") != len(want) {
			t.Errorf("due by %s: %v (total %d), want %v", by.Format(time.DateOnly), got, r.num("customers.totalCount"), want)
		}
	}
	if !slices.ContainsFunc(sizes, func(n int) bool { return n > 0 && n < len(rice) }) {
		t.Errorf("no date splits the book (sizes %v): the filter check proves nothing", sizes)
	}
	// Bad input is a typed error.
	h.refused("", "BAD_USER_INPUT", `{ customers(filter:{dueForReplenishmentBy: "2026-13-40"}){ totalCount } }`, nil)
}
