package server_test

import (
	"strings"
	"testing"
	"time"
)

// Given two callers who pick the same idempotency key, when each registers
// a different person without an ID, then each gets their own customer —
// not the other's record (with its phone) reported as success — and the
// same goes for purchases: a key names one caller's request, not a global
// slot. When one caller sends their key again with a different request,
// the answer is CONFLICT naming the key, and nothing is appended.
func TestIdempotencyKeysBelongToTheCaller(t *testing.T) {
	h := startServer(t, options{auth: true})
	const register = `mutation($in: RegisterCustomerInput!){ registerCustomer(input: $in){ version customer{ id name phone } } }`
	alice := h.ok(register, map[string]any{"in": map[string]any{"name": "Alice Wang", "phone": "+8613800000001", "idempotencyKey": "req-1"}})
	// mia (an account manager) reuses the key for someone else.
	mia := h.post(tokManager, register, map[string]any{"in": map[string]any{"name": "Bob Li", "phone": "+8613800000002", "idempotencyKey": "req-1"}})
	if len(mia.Errors) > 0 {
		t.Fatalf("mia's registration: %s", mia.Raw)
	}
	aliceID, miaID := alice.str("registerCustomer.customer.id"), mia.str("registerCustomer.customer.id")
	if aliceID == miaID || mia.str("registerCustomer.customer.name") != "Bob Li" || strings.Contains(mia.Raw, "+8613800000001") {
		t.Fatalf("mia's key collided with alice's: alice %s, mia %s", alice.Raw, mia.Raw)
	}
	if got := h.ok(`query($id: ID!){ customer(id: $id){ name } }`, map[string]any{"id": miaID}).str("customer.name"); got != "Bob Li" {
		t.Fatalf("mia's customer is %q, want Bob Li stored", got)
	}

	const buy = `mutation($in: RecordPurchaseInput!){ recordPurchase(input: $in){ version } }`
	purchase := func(order string) map[string]any {
		return map[string]any{"in": map[string]any{"customerId": aliceID, "orderId": order, "amount": map[string]any{"amountMinor": 990, "currency": "CNY"}, "idempotencyKey": "buy-1"}}
	}
	v1 := h.ok(buy, purchase("o-1")).num("recordPurchase.version")
	if r := h.post(tokManager, buy, purchase("o-2")); len(r.Errors) > 0 || r.num("recordPurchase.version") != v1+1 {
		t.Fatalf("mia's purchase under the same key: %s, want it recorded at version %d", r.Raw, v1+1)
	}
	// The same caller retrying the same request: the first result, nothing new.
	if r := h.ok(buy, purchase("o-1")); r.num("recordPurchase.version") != v1 {
		t.Fatalf("alice's retry: %s, want version %d again", r.Raw, v1)
	}
	head := h.head()
	r := h.refused(tokAdmin, "CONFLICT", buy, purchase("o-3"))
	if !strings.Contains(r.Raw, "buy-1") {
		t.Errorf("the CONFLICT should name the key: %s", r.Raw)
	}
	if h.head() != head {
		t.Errorf("the refused request appended something")
	}
	orders := h.ok(`query($id: ID!){ customer(id: $id){ purchaseCount } }`, map[string]any{"id": aliceID})
	if n := orders.num("customer.purchaseCount"); n != 2 {
		t.Errorf("alice's customer has %d purchases, want o-1 and o-2", n)
	}
}

// Given two marketers who pick the same idempotency key for their own
// campaigns, then each gets a campaign; a template body beyond the text
// limits is BAD_USER_INPUT and schedules nothing.
func TestCampaignKeysBelongToTheCallerAndBodiesAreBounded(t *testing.T) {
	clock := newFakeClock(time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC))
	h := campaignServer(t, "", clock, nil)
	def := func(name, body string) map[string]any {
		return map[string]any{"in": map[string]any{"name": name, "occasion": "CN:spring_festival", "idempotencyKey": "spring",
			"templates": []any{map[string]any{"channel": "SMS", "body": body}}}}
	}
	mark := h.post(tokMarketing, mSchedule, def("Mark's", "{{occasion}}快乐"))
	alice := h.post(tokAdmin, mSchedule, def("Alice's", "Happy {{occasion}}"))
	if len(mark.Errors) > 0 || len(alice.Errors) > 0 {
		t.Fatalf("schedules: %s / %s", mark.Raw, alice.Raw)
	}
	if a, b := mark.str("scheduleGreetingCampaign.campaign.id"), alice.str("scheduleGreetingCampaign.campaign.id"); a == b {
		t.Fatalf("two marketers' campaigns under the same key share the id %s", a)
	}
	head := h.head()
	r := h.refused(tokMarketing, "BAD_USER_INPUT", mSchedule, def("Long", strings.Repeat("祝", 10_001)))
	if !strings.Contains(r.Raw, "body") || h.head() != head {
		t.Errorf("an over-long body: %.300s (head %d → %d)", r.Raw, head, h.head())
	}
}

// Clients may reuse an idempotency key for different customers; the
// complaints it creates must stay two complaints, each on its customer.
func TestIdempotencyKeyReusedAcrossCustomers(t *testing.T) {
	h := startServer(t, options{})
	h.register("a1", "王芳", nil)
	h.register("b1", "李娜", nil)
	ka := h.fileComplaint("a1", map[string]any{"idempotencyKey": "ticket-1"})
	kb := h.fileComplaint("b1", map[string]any{"idempotencyKey": "ticket-1"})
	if ka == "" || kb == "" || ka == kb {
		t.Fatalf("complaint IDs %q and %q: want two distinct complaints", ka, kb)
	}
	for cust, want := range map[string]string{"a1": ka, "b1": kb} {
		r := h.ok(`query($id:ID!){ customer(id:$id){ openComplaints{ id } } }`, map[string]any{"id": cust})
		if got := r.str("customer.openComplaints.0.id"); got != want {
			t.Errorf("%s's open complaint = %q, want %q", cust, got, want)
		}
	}
	// The retry of a1's request still replays it.
	if again := h.fileComplaint("a1", map[string]any{"idempotencyKey": "ticket-1"}); again != ka {
		t.Errorf("retry gave %q, want %q", again, ka)
	}
}
