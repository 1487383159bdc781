package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/seed"
	"github.com/kefu-crm/kefu/server"
)

// seedDir writes a seeded history of n customers ending at end into dir.
func seedDir(t *testing.T, dir string, n int, end time.Time) {
	t.Helper()
	d, err := datadir.Open(dir, datadir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	wc, err := calendar.NewWorkingCalendar(calendar.WorkingCalendarConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := seed.Config{Customers: n, Seed: 7, End: end, ReplyClock: customer.ReplyClockFunc(wc.ReplyDue)}
	if _, err := seed.Write(context.WithoutCancel(t.Context()), d.Store, d.Codec, cfg, seed.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// stagesAsOf asks for every listed customer's stage as of t, many at once.
func (h *harness) stagesAsOf(ids []string, t time.Time) map[string]int {
	h.t.Helper()
	counts := map[string]int{}
	for i := 0; i < len(ids); i += 100 {
		var q strings.Builder
		q.WriteString("query($t: DateTime){")
		batch := ids[i:min(i+100, len(ids))]
		for k, id := range batch {
			fmt.Fprintf(&q, " c%d: customer(id: %q, asOf: $t){ stage }", k, id)
		}
		q.WriteString(" }")
		r := h.ok(q.String(), map[string]any{"t": ts(t)})
		for k := range batch {
			if st := r.get(fmt.Sprintf("c%d.stage", k)); st != nil {
				counts[st.(string)]++
			}
		}
	}
	return counts
}

// Given a book old enough for the churn model to judge customers DORMANT,
// when the server starts on it, then lifecycleReport dates every DORMANT
// and LOST transition when it happened under the model — the population
// of each stage at each month's end equals what customer(asOf:) says of
// every customer then — instead of dating them all at the moment the
// server fitted its model (DORMANT was 0 in every month before the start).
func TestLifecycleReportAgreesWithAsOfUnderTheChurnModel(t *testing.T) {
	dir := t.TempDir()
	end := time.Now().UTC().Truncate(24 * time.Hour)
	seedDir(t, dir, 800, end)
	h := startServer(t, options{dir: dir})
	if h.ok(`{ churnModel { customers } }`, nil).num("churnModel.customers") < 500 {
		t.Fatal("the seeded book should have enough customers with purchases for DORMANT")
	}
	ids := h.customerIDs()
	from := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -6, 0)
	rep := h.ok(`query($f: DateTime!, $t: DateTime!){ lifecycleReport(from: $f, to: $t, bucket: MONTH){ buckets{ start population{ stage count } } } }`,
		map[string]any{"f": ts(from), "t": ts(end)})
	buckets := rep.list("lifecycleReport.buckets")
	dormantBefore := 0
	for i, b := range buckets {
		b := b.(map[string]any)
		start := mustTime(t, b["start"].(string))
		bucketEnd := start.AddDate(0, 1, 0)
		if bucketEnd.After(end) {
			break
		}
		pop := map[string]int{}
		for _, p := range b["population"].([]any) {
			p := p.(map[string]any)
			pop[p["stage"].(string)] = int(p["count"].(float64))
		}
		if i < 3 {
			dormantBefore += pop["DORMANT"]
		}
		asOf := h.stagesAsOf(ids, bucketEnd)
		for _, st := range []string{"NEW", "ACTIVE", "LOYAL", "GRUMBLING", "COMPLAINING", "SILENT", "DORMANT", "LOST"} {
			if pop[st] != asOf[st] {
				t.Errorf("month from %s: lifecycleReport has %d %s, customer(asOf: %s) says %d", start.Format(time.DateOnly), pop[st], st, ts(bucketEnd), asOf[st])
			}
		}
	}
	if dormantBefore == 0 {
		t.Errorf("no DORMANT customer in the report's first three months: the model's transitions are dated at the fit")
	}
}

// customerIDs lists every customer of the book.
func (h *harness) customerIDs() []string {
	h.t.Helper()
	var ids []string
	after := ""
	for {
		r := h.ok(`query($a: String){ customers(first: 500, after: $a){ edges{ node{ id } } pageInfo{ hasNextPage endCursor } } }`, map[string]any{"a": after})
		for _, e := range r.list("customers.edges") {
			ids = append(ids, e.(map[string]any)["node"].(map[string]any)["id"].(string))
		}
		if r.get("customers.pageInfo.hasNextPage") != true {
			return ids
		}
		after = r.str("customers.pageInfo.endCursor")
	}
}

// Given a server started on an empty directory, when a book big enough for
// the churn model is loaded through the API, then the model is fitted and
// customers who stopped buying become DORMANT within seconds — not at the
// next scheduled refit hours later, nor only after a restart.
func TestChurnModelIsFittedOnceTheBookIsBigEnough(t *testing.T) {
	h := startServerWith(t, options{}, func(c *server.Config) { c.ChurnRefitInterval = 200 * time.Millisecond })
	if n := h.ok(`{ customers(filter:{stages:[DORMANT]}){ totalCount } }`, nil).num("customers.totalCount"); n != 0 {
		t.Fatalf("an empty book has %d DORMANT customers", n)
	}
	now := time.Now().UTC()
	const register = `mutation($in: RegisterCustomerInput!){ registerCustomer(input: $in){ version } }`
	const buy = `mutation($in: RecordPurchaseInput!){ recordPurchase(input: $in){ version } }`
	for i := range 600 {
		id := fmt.Sprintf("b%03d", i)
		start := now.AddDate(-2, 0, 0)
		h.ok(register, map[string]any{"in": map[string]any{"id": id, "name": "Buyer " + id, "occurredAt": ts(start)}})
		// Two in three buy every one to four months until now; the rest
		// bought for a few months and stopped over a year ago.
		every, months := 1+i%4, 24
		if i%3 == 2 {
			every, months = 1+i%2, 3+i%5
		}
		for m := every; m < months; m += every {
			h.ok(buy, map[string]any{"in": map[string]any{"customerId": id, "orderId": fmt.Sprintf("o%d", m),
				"amount": map[string]any{"amountMinor": 1000, "currency": "CNY"}, "occurredAt": ts(start.AddDate(0, m, 0))}})
		}
	}
	eventually(t, "DORMANT customers after the book was loaded", func() bool {
		return h.ok(`{ customers(filter:{stages:[DORMANT, LOST]}){ totalCount } }`, nil).num("customers.totalCount") > 0
	})
	if n := h.ok(`{ churnModel { customers } }`, nil).num("churnModel.customers"); n != 600 {
		t.Errorf("churnModel fitted on %d customers, want 600", n)
	}
}
