package query_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/app/query"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// For random histories split between two customers A and B, B merged into
// A and unmerged an hour later reads — live and as of after the unmerge —
// as A and B that were never merged (reference customers RA and RB with
// the same histories), and as of an instant between the two as one
// customer.
func TestUnmergedCustomersAreThemselvesProperty(t *testing.T) {
	for seed := range uint64(30) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { checkUnmerge(t, seed) })
	}
}

func checkUnmerge(t *testing.T, seed uint64) {
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(seed, 11))
	clockAt := now.Add(-2 * time.Hour)
	store, set, q, cmds := newMergeBook(t, func() time.Time { return clockAt })
	must := mustResult(t)
	tier, _ := customer.ParseTier("STANDARD")
	phone, _ := customer.ParseChannel("PHONE")
	general, _ := customer.ParseSeverity("GENERAL")
	inbound, _ := customer.ParseDirection("INBOUND")
	start := clockAt.AddDate(0, 0, -(30 + rng.IntN(400)))
	for _, id := range []string{"A", "B", "RA", "RB"} {
		must(cmds.RegisterCustomer.Handle(ctx, id, customer.Register{Name: "n", Tier: tier, Timezone: "Asia/Shanghai", Locale: "zh-CN", OccurredAt: start}))
	}
	at := start
	steps := 1 + rng.IntN(14)
	for i := range steps {
		at = at.Add(time.Duration(1+rng.IntN(30*24)) * time.Hour)
		if at.After(clockAt) {
			break
		}
		who := []string{"A", "B"}[rng.IntN(2)]
		kind := rng.IntN(4)
		amount, score := int64(100+rng.IntN(10000)), 1+rng.IntN(5)
		for _, id := range []string{who, "R" + who} {
			switch kind {
			case 0:
				must(cmds.RecordPurchase.Handle(ctx, id, nil, customer.RecordPurchase{OrderID: fmt.Sprintf("o%d", i),
					Amount: customer.Money{AmountMinor: amount, Currency: "CNY"}, OccurredAt: at}))
			case 1:
				must(cmds.LogContact.Handle(ctx, id, nil, customer.LogContact{Channel: phone, Direction: inbound, Agent: "a", OccurredAt: at}))
			case 2:
				must(cmds.FileComplaint.Handle(ctx, id, nil, customer.FileComplaint{ComplaintID: fmt.Sprintf("k%d-%s", i, id), Channel: phone,
					Category: "c", Severity: general, Description: "d", Owner: "a", OccurredAt: at}))
			case 3:
				must(cmds.RecordSatisfaction.Handle(ctx, id, nil, customer.RecordSatisfaction{Score: score, OccurredAt: at}))
			}
		}
	}
	mergedAt := clockAt
	must(cmds.MergeCustomers.Handle(ctx, "A", []string{"B"}, nil, customer.MergeCustomers{By: "a", Reason: "same person"}))
	clockAt = now.Add(-time.Hour)
	must(cmds.UnmergeCustomers.Handle(ctx, "A", []string{"B"}, nil, customer.UnmergeCustomers{By: "a", Reason: "two people"}))
	clockAt = now

	rebuildSet(t, store, set)
	set.AdvanceTo(now)
	// The lifecycle and loyalty read models (stage counts, filters,
	// reports) hold A and B as the customers never merged.
	for _, id := range []string{"A", "B"} {
		got, okG := set.Lifecycle.Get(id)
		want, okW := set.Lifecycle.Get("R" + id)
		if !okG || !okW || got.Stage != want.Stage || !got.Since.Equal(want.Since) || !got.Next.Equal(want.Next) || got.NextStage != want.NextStage || got.Grievances != want.Grievances || set.Lifecycle.Retired(id) {
			t.Errorf("lifecycle read model after the unmerge: %s %+v (retired %v), never merged %+v", id, got, set.Lifecycle.Retired(id), want)
		}
		gl, okG := set.Loyalty.Get(id)
		wl, okW := set.Loyalty.Get("R" + id)
		if !okG || !okW || gl != wl {
			t.Errorf("loyalty index after the unmerge: %s %+v, never merged %+v", id, gl, wl)
		}
	}
	counts, total := set.Lifecycle.Counts(), 0
	for _, st := range lifecycle.Stages() {
		total += counts[st]
	}
	if total != 4 {
		t.Errorf("stage counts %v after the unmerge: %d customers, want 4", counts, total)
	}

	outcome := func(id string, asOf *time.Time) (mergeOutcome, query.Customer) {
		t.Helper()
		return readOutcome(t, q, id, asOf)
	}
	after := now
	for _, id := range []string{"A", "B"} {
		want, _ := outcome("R"+id, nil)
		for _, asOf := range []*time.Time{nil, &after} {
			got, c := outcome(id, asOf)
			if c.ID != id || c.MergedInto != nil || len(c.MergedFrom) != 0 {
				t.Errorf("%s after the unmerge (asOf %v) reads as %s, mergedInto %v, mergedFrom %v", id, asOf, c.ID, c.MergedInto, c.MergedFrom)
			}
			if !mergeEqual(got, want) {
				t.Errorf("%d steps; %s after the unmerge (asOf %v):\n%+v\nthe customer never merged:\n%+v", steps, id, asOf, got, want)
			}
		}
	}
	// Between the merge and the unmerge, B is A and A has both histories.
	between := mergedAt.Add(30 * time.Minute)
	a, ca := outcome("A", &between)
	b, cb := outcome("B", &between)
	if ca.ID != "A" || cb.ID != "A" || !mergeEqual(a, b) {
		t.Errorf("as of between merge and unmerge: A reads as %s, B as %s; outcomes\n%+v\n%+v", ca.ID, cb.ID, a, b)
	}
	ra, _ := outcome("RA", &between)
	rb, _ := outcome("RB", &between)
	if a.PurchaseCount != ra.PurchaseCount+rb.PurchaseCount {
		t.Errorf("as of between: A has %d purchases, want %d + %d", a.PurchaseCount, ra.PurchaseCount, rb.PurchaseCount)
	}
}
