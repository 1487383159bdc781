package customers_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections/customers"
)

// Given b and c merged into a, where each bought, an unmerge of b gives a
// its own counters plus c's, b its own again (listed under its account
// manager), and the book is the one that never saw b merged, but for
// a's history of events.
func TestBookUnmerge(t *testing.T) {
	m := customers.New()
	pos := eventstore.Position(0)
	rev := map[string]uint64{}
	apply := func(id string, at time.Time, e customer.Event) {
		pos++
		m.Apply(eventstore.Event{StreamID: "customer-" + id, Position: pos, Revision: rev[id], OccurredAt: at}, e)
		rev[id]++
	}
	buy := func(id string, h int, minor int64) {
		apply(id, t0.Add(time.Duration(h)*time.Hour), &customer.PurchaseMade{OrderID: id + "-o", Amount: customer.Money{AmountMinor: minor, Currency: "CNY"}})
	}
	for _, id := range []string{"a", "b", "c"} {
		apply(id, t0, &customer.CustomerRegistered{CustomerID: id, Name: id, AccountManager: "amy", Timezone: "Asia/Shanghai", Locale: "zh-CN"})
	}
	buy("a", 1, 100)
	buy("b", 5, 20)
	apply("b", t0.Add(6*time.Hour), &customer.ConductFlagged{By: "amy", Note: "shouted"})
	buy("c", 2, 3)
	apply("b", t0.Add(10*time.Hour), &customer.CustomerMerged{Into: "a"})
	apply("c", t0.Add(10*time.Hour), &customer.CustomerMerged{Into: "a"})
	apply("a", t0.Add(10*time.Hour), &customer.CustomersMergedIn{From: []string{"b", "c"}})
	buy("a", 11, 1000)
	a, _ := m.Get("a")
	if a.PurchaseCount != 4 || a.LifetimeValue[0].AmountMinor != 1123 || !a.ConductFlagged || !reflect.DeepEqual(a.MergedFrom, []string{"b", "c"}) {
		t.Fatalf("merged a: %d purchases, %v, flagged %v, from %v", a.PurchaseCount, a.LifetimeValue, a.ConductFlagged, a.MergedFrom)
	}
	if got := m.OfAccountManager("amy"); !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("amy's book while merged = %v", got)
	}

	apply("b", t0.Add(12*time.Hour), &customer.CustomerUnmerged{From: "a"})
	apply("a", t0.Add(12*time.Hour), &customer.CustomersUnmerged{IDs: []string{"b"}})
	a, _ = m.Get("a")
	if a.PurchaseCount != 3 || a.LifetimeValue[0].AmountMinor != 1103 || a.ConductFlagged || !reflect.DeepEqual(a.MergedFrom, []string{"c"}) {
		t.Errorf("a after unmerging b: %d purchases, %v, flagged %v, from %v; want 3, 1103 CNY, not flagged, [c]", a.PurchaseCount, a.LifetimeValue, a.ConductFlagged, a.MergedFrom)
	}
	if a.LastPurchaseAt == nil || !a.LastPurchaseAt.Equal(t0.Add(11*time.Hour)) {
		t.Errorf("a's last purchase %v", a.LastPurchaseAt)
	}
	b, _ := m.Get("b")
	if b.MergedInto != "" || b.PurchaseCount != 1 || !b.ConductFlagged {
		t.Errorf("b after the unmerge: %+v", b)
	}
	if got := m.OfAccountManager("amy"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("amy's book after the unmerge = %v, want [a b]", got)
	}
	// Later events count where they happen, once.
	buy("b", 13, 7)
	buy("a", 14, 1)
	a, _ = m.Get("a")
	b, _ = m.Get("b")
	if a.PurchaseCount != 4 || b.PurchaseCount != 2 {
		t.Errorf("after more purchases: a %d, b %d; want 4 and 2", a.PurchaseCount, b.PurchaseCount)
	}
	// Unmerging the last one leaves a with its own counters.
	apply("c", t0.Add(15*time.Hour), &customer.CustomerUnmerged{From: "a"})
	apply("a", t0.Add(15*time.Hour), &customer.CustomersUnmerged{IDs: []string{"c"}})
	a, _ = m.Get("a")
	if a.PurchaseCount != 3 || a.LifetimeValue[0].AmountMinor != 1101 || len(a.MergedFrom) != 0 {
		t.Errorf("a alone again: %d purchases, %v, from %v", a.PurchaseCount, a.LifetimeValue, a.MergedFrom)
	}
}
