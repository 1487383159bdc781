package server_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/projections/dupindex"
	"github.com/kefu-crm/kefu/projections/readmodels"
)

// A rebuild of every read model from zero equals the live read models,
// after a burst of concurrent writers through the API (issue 3 §1).
func TestRebuildEqualsLiveAfterConcurrentWriters(t *testing.T) {
	clock := newFakeClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	h := startServer(t, options{clock: clock})
	const customers = 12
	for i := range customers {
		h.register(fmt.Sprintf("r%02d", i), fmt.Sprintf("客户%d", i), nil)
	}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				id := fmt.Sprintf("r%02d", (w*7+i)%customers)
				switch i % 5 {
				case 0:
					h.gql(`mutation($id:ID!){ recordPurchase(input:{customerId:$id, orderId:"`+fmt.Sprintf("o-%d-%d", w, i)+`", amount:{amountMinor:1200, currency:"CNY"}}){ version } }`, map[string]any{"id": id})
				case 1:
					h.gql(`mutation($id:ID!){ voiceGrumble(input:{customerId:$id, channel:PHONE, summary:"slow delivery"}){ version } }`, map[string]any{"id": id})
				case 2:
					h.gql(`mutation($id:ID!){ fileComplaint(input:{customerId:$id, channel:PHONE, category:"delivery", description:"late", owner:"amy"}){ version } }`, map[string]any{"id": id})
				case 3:
					h.gql(`mutation($id:ID!){ logContact(input:{customerId:$id, channel:PHONE, direction:OUTBOUND, agent:"amy"}){ version } }`, map[string]any{"id": id})
				default:
					h.gql(`mutation($id:ID!){ recordSatisfaction(input:{customerId:$id, score:4}){ version } }`, map[string]any{"id": id})
				}
			}
		}()
	}
	wg.Wait()
	// Duplicates merged and one merge undone: the lifecycle's union and
	// the blind index's survivors are part of what a rebuild must find.
	h.ok(`mutation { updateProfile(input: {customerId: "r01", phone: "+86 139 0000 0001"}) { version } }`, nil)
	h.ok(`mutation { updateProfile(input: {customerId: "r02", phone: "13900000001"}) { version } }`, nil)
	h.ok(`mutation { mergeCustomers(input: {survivorId: "r00", mergedIds: ["r01", "r03"], by: "amy", reason: "same person"}) { version } }`, nil)
	h.ok(`mutation { mergeCustomers(input: {survivorId: "r04", mergedIds: ["r05"], by: "amy", reason: "same person"}) { version } }`, nil)
	h.ok(`mutation { unmergeCustomers(input: {survivorId: "r00", unmergedIds: ["r03"], by: "amy", reason: "two people"}) { version } }`, nil)
	clock.Set(clock.Now().Add(45 * 24 * time.Hour)) // time-driven stages move too
	checks, err := h.srv.VerifyRebuild(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(checks, func(c readmodels.DigestCheck) bool { return c.Name == dupindex.Name }) {
		t.Errorf("the duplicates index was not compared")
	}
	if len(checks) < 6 {
		t.Fatalf("compared %d read models, want all of them", len(checks))
	}
	for _, c := range checks {
		if !c.Equal() {
			t.Errorf("read model %s: rebuilt digest %x differs from live %x at position %d", c.Name, c.Rebuilt[:6], c.Live[:6], c.Position)
		}
	}
}
