package query_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/app/query"
	"github.com/kefu-crm/kefu/domain/customer"
)

// Given A's whole history recorded before B's (an import), their days
// interleaved, when B is merged into A, then A's timeline runs in time
// order across both streams, oldest or newest first, and paging through
// it two entries at a time meets every entry once; a cursor of A's own
// timeline from before the merge is refused.
func TestMergedTimelineInTimeOrder(t *testing.T) {
	ctx := t.Context()
	store, set, q, cmds := newMergeBook(t, func() time.Time { return now })
	must := mustResult(t)
	tier, _ := customer.ParseTier("STANDARD")
	start := now.AddDate(0, 0, -30)
	for _, id := range []string{"A", "B"} {
		must(cmds.RegisterCustomer.Handle(ctx, id, customer.Register{Name: "n", Tier: tier, Timezone: "Asia/Shanghai", Locale: "zh-CN", OccurredAt: start}))
		for d := 1; d <= 5; d++ {
			day := 2 * d
			if id == "B" {
				day++
			}
			must(cmds.RecordPurchase.Handle(ctx, id, nil, customer.RecordPurchase{OrderID: fmt.Sprintf("%s-%02d", id, day),
				Amount: customer.Money{AmountMinor: 100, Currency: "CNY"}, OccurredAt: start.AddDate(0, 0, day)}))
		}
	}
	own, err := q.Customers.Timeline(ctx, "A", query.TimelineFilter{OldestFirst: true}, query.Page{First: 2})
	if err != nil {
		t.Fatal(err)
	}
	must(cmds.MergeCustomers.Handle(ctx, "A", []string{"B"}, nil, customer.MergeCustomers{By: "a", Reason: "same person"}))
	rebuildSet(t, store, set)

	for _, oldestFirst := range []bool{true, false} {
		var at []time.Time
		var seen []string
		after := ""
		for range 20 {
			page, err := q.Customers.Timeline(ctx, "A", query.TimelineFilter{OldestFirst: oldestFirst}, query.Page{First: 2, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Edges {
				at = append(at, e.Node.OccurredAt)
				seen = append(seen, e.Node.EventID)
				after = e.Cursor
			}
			if !page.HasNextPage {
				break
			}
		}
		if len(seen) != 14 || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != 14 {
			t.Errorf("oldestFirst %v: %d entries (%d distinct), want the 14 of both streams once each", oldestFirst, len(seen), len(slices.Compact(slices.Sorted(slices.Values(seen)))))
		}
		sorted := slices.IsSortedFunc(at, func(a, b time.Time) int { return a.Compare(b) })
		if !oldestFirst {
			slices.Reverse(at)
			sorted = slices.IsSortedFunc(at, func(a, b time.Time) int { return a.Compare(b) })
		}
		if !sorted {
			t.Errorf("oldestFirst %v: the merged timeline is not in time order: %v", oldestFirst, at)
		}
	}
	if _, err := q.Customers.Timeline(ctx, "A", query.TimelineFilter{OldestFirst: true}, query.Page{First: 2, After: own.Edges[1].Cursor}); err == nil {
		t.Error("a cursor of A's own timeline from before the merge was taken")
	}
}
