package server_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// TestCustomerNowEqualsAsOfNow checks the lazily built "now" customer view
// against the eager view folded from the stream as of the same instant:
// the stage, its history and the loyalty fields must agree, whichever of
// them a query selects and in whatever order, and a query or a mutation
// payload that selects none of them must still give the book's fields.
func TestCustomerNowEqualsAsOfNow(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := newFakeClock(start)
	h := startServer(t, options{clock: clock})

	h.register("c1", "Li Lei", map[string]any{"tier": "GOLD"})
	h.register("c2", "Han Meimei", nil)
	for i := range 3 {
		clock.Set(start.Add(time.Duration(i+1) * 24 * time.Hour))
		h.ok(`mutation($in: RecordPurchaseInput!){ recordPurchase(input:$in){ version } }`, map[string]any{"in": map[string]any{
			"customerId": "c1", "orderId": fmt.Sprintf("o-%d", i), "amount": map[string]any{"amountMinor": 12000, "currency": "CNY"}}})
	}
	h.fileComplaint("c2", nil)
	// Long enough for time-driven stages to move without a fact.
	clock.Set(start.Add(200 * 24 * time.Hour))

	const details = `stage stageSince stageHistory{ from to at reason } loyalty{ score level referrals csatAverage recoveredComplaints pAlive }`
	for _, id := range []string{"c1", "c2"} {
		vars := map[string]any{"id": id, "at": ts(clock.Now())}
		now := h.ok(`query($id: ID!){ customer(id: $id){ version purchaseCount `+details+` } }`, vars)
		asOf := h.ok(`query($id: ID!, $at: DateTime){ customer(id: $id, asOf: $at){ version purchaseCount `+details+` } }`, vars)
		if !reflect.DeepEqual(now.get("customer"), asOf.get("customer")) {
			t.Errorf("%s: now view\n%s\ndiffers from the view as of now\n%s", id, now.Raw, asOf.Raw)
		}
		// Loyalty before stage (the loader runs once, for either field).
		mixed := h.ok(`query($id: ID!){ customer(id: $id){ loyalty{ score } stageHistory{ to } stage } }`, vars)
		if got, want := mixed.get("customer.stage"), asOf.get("customer.stage"); got != want {
			t.Errorf("%s: stage = %v, want %v", id, got, want)
		}
		if got, want := mixed.get("customer.loyalty.score"), asOf.get("customer.loyalty.score"); got != want {
			t.Errorf("%s: loyalty.score = %v, want %v", id, got, want)
		}
		if got, want := len(mixed.list("customer.stageHistory")), len(asOf.list("customer.stageHistory")); got != want || got == 0 {
			t.Errorf("%s: %d stage changes, want %d (> 0)", id, got, want)
		}
		cheap := h.ok(`query($id: ID!){ customer(id: $id){ id version } }`, vars)
		if cheap.str("customer.id") != id || cheap.get("customer.version") != asOf.get("customer.version") {
			t.Errorf("%s: cheap view %s, want version %v", id, cheap.Raw, asOf.get("customer.version"))
		}
	}

	r := h.ok(`mutation($in: LogContactInput!){ logContact(input:$in){ version customer{ version stage loyalty{ score } } } }`, map[string]any{"in": map[string]any{
		"customerId": "c1", "channel": "PHONE", "direction": "INBOUND", "agent": "mia", "summary": "called back"}})
	after := h.ok(`query($id: ID!, $at: DateTime){ customer(id: $id, asOf: $at){ version stage loyalty{ score } } }`, map[string]any{"id": "c1", "at": ts(clock.Now())})
	if !reflect.DeepEqual(r.get("logContact.customer"), after.get("customer")) || r.num("logContact.version") != after.num("customer.version") {
		t.Errorf("mutation payload %s, want the customer %s", r.Raw, after.Raw)
	}
	if after.str("customer.stage") == "" {
		t.Errorf("no stage after the contact: %s", after.Raw)
	}
}
