package e2e_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/internal/testenv"
)

// TestMergeOnPostgres: on `kefu serve --store postgres://…` a merge is one
// all-or-none transaction and an unmerge another; the survivor reads as
// one customer with both histories, the stage filter and the lifecycle
// report count the book as customer(asOf:) does, before and after the
// unmerge, also on a server with a fresh data directory (read models
// rebuilt from the table, the union histories read back from it).
func TestMergeOnPostgres(t *testing.T) {
	conn := testenv.Postgres(t)
	store := withSchema(conn, pgSchema(t, conn))
	ctx := journey(t, 3*time.Minute)
	s := startServer(t, ctx, serveOpts{dir: t.TempDir(), args: []string{"--store", store}})
	c := s.client("")

	at := func(daysAgo int) string { return stamp(time.Now().UTC().Add(-time.Duration(daysAgo) * 24 * time.Hour)) }
	for _, id := range []string{"pg-a", "pg-b"} {
		c.must(ctx, nil, `mutation($id: ID!, $at: DateTime!) { registerCustomer(input: {id: $id, name: "Li Na", occurredAt: $at}) { version } }`,
			map[string]any{"id": id, "at": at(50)})
	}
	c.must(ctx, nil, `mutation($at: DateTime!) { recordPurchase(input: {customerId: "pg-a", orderId: "o1", amount: {amountMinor: 5000, currency: "CNY"}, occurredAt: $at}) { version } }`,
		map[string]any{"at": at(40)})
	c.must(ctx, nil, `mutation($at: DateTime!) { fileComplaint(input: {customerId: "pg-b", complaintId: "pg-k", channel: PHONE, category: "delivery", description: "late", owner: "amy", occurredAt: $at}) { version } }`,
		map[string]any{"at": at(3)})

	type book struct {
		survivor  string
		purchases int
		stage     string
		stageIDs  []string
	}
	look := func(c *client, id string, ids []string) book {
		t.Helper()
		var d struct {
			Customer struct {
				ID            string
				PurchaseCount int
				Stage         string
			}
		}
		c.must(ctx, &d, `query($id: ID!) { customer(id: $id) { id purchaseCount stage } }`, map[string]any{"id": id})
		var f struct {
			Customers struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		c.must(ctx, &f, `query($s: [Stage!]) { customers(first: 10, filter: {stages: $s}) { edges { node { id } } } }`, map[string]any{"s": []string{d.Customer.Stage}})
		b := book{survivor: d.Customer.ID, purchases: d.Customer.PurchaseCount, stage: d.Customer.Stage}
		for _, e := range f.Customers.Edges {
			b.stageIDs = append(b.stageIDs, e.Node.ID)
		}
		slices.Sort(b.stageIDs)
		now := time.Now().UTC()
		census := stageCensus(t, ctx, c, ids, now)
		rep := lifecycleReport(t, ctx, c, now.Add(-24*time.Hour), now, "DAY")
		pop := map[string]int{}
		for _, p := range rep[len(rep)-1].Population {
			pop[p.Stage] = p.Count
		}
		if !sameCounts(pop, census) {
			t.Errorf("lifecycleReport population disagrees with customer(asOf:) of %v:\n%s", ids, stageDiff("lifecycleReport", pop, "customer(asOf:)", census))
		}
		return b
	}

	c.must(ctx, nil, `mutation { mergeCustomers(input: {survivorId: "pg-a", mergedIds: ["pg-b"], by: "amy", reason: "same person", idempotencyKey: "pg-merge"}) { version } }`, nil)
	merged := look(c, "pg-b", []string{"pg-a"})
	if merged.survivor != "pg-a" || merged.purchases != 1 || merged.stage != "COMPLAINING" || !slices.Equal(merged.stageIDs, []string{"pg-a"}) {
		t.Errorf("after the merge: %+v; want pg-a with pg-b's complaint (COMPLAINING), the only one in that stage", merged)
	}
	c.must(ctx, nil, `mutation { unmergeCustomers(input: {survivorId: "pg-a", unmergedIds: ["pg-b"], by: "amy", reason: "two people"}) { version } }`, nil)
	check := func(c *client, when string) {
		t.Helper()
		b := look(c, "pg-b", []string{"pg-a", "pg-b"})
		a := look(c, "pg-a", []string{"pg-a", "pg-b"})
		if b.survivor != "pg-b" || b.stage != "COMPLAINING" || !slices.Equal(b.stageIDs, []string{"pg-b"}) || a.stage == "COMPLAINING" || a.purchases != 1 {
			t.Errorf("%s: pg-b %+v, pg-a %+v; want each itself again, only pg-b COMPLAINING", when, b, a)
		}
	}
	check(c, "after the unmerge")
	s.stop()
	s = startServer(t, ctx, serveOpts{dir: t.TempDir(), args: []string{"--store", store}})
	check(s.client(""), "on a fresh data directory")
}
