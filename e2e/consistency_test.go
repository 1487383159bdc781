package e2e_test

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestConsistencyAcrossViews asks one demo store the same question four
// ways — which stage was each customer in at instant t — and wants one
// answer:
//
//   - customer(id, asOf: t) { stage }, the stream folded up to t;
//   - customer(id) { stageHistory }, the stage in force at t;
//   - lifecycleReport's population at the end of the bucket containing t,
//     against a census of customer(asOf:) over every customer at that
//     instant;
//   - `kefu replay --until` that instant, against the same census.
//
// DORMANT and LOST depend on the churn model, so the census waits until
// the server shows a fitted model and checks it did not change meanwhile.
func TestConsistencyAcrossViews(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 150*time.Second)
	dir := filepath.Join(t.TempDir(), "kefu-data")
	s := startServer(t, ctx, serveOpts{dir: dir, args: []string{"--demo"}})
	c := s.client("")

	// DORMANT needs the churn model: wait until the book shows it.
	eventually(t, ctx, 20*time.Second, "DORMANT customers (a fitted churn model)", func() (bool, string) {
		var d struct{ Customers struct{ TotalCount int } }
		c.must(ctx, &d, `{ customers(filter: {stages: [DORMANT]}) { totalCount } }`, nil)
		return d.Customers.TotalCount > 0, fmt.Sprintf("%d DORMANT", d.Customers.TotalCount)
	})
	model := s.health(ctx).Churn

	ids := allCustomerIDs(t, ctx, c)
	now := time.Now().UTC()

	// Instants inside past buckets: months 2, 4, 7 and 10 back, and a day
	// six weeks back. Each is checked at the bucket's end (the report's
	// population is the one at the end of the bucket).
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	var instants []time.Time
	for _, back := range []int{2, 4, 7, 10} {
		instants = append(instants, thisMonth.AddDate(0, -back, 16).Add(13*time.Hour+37*time.Minute))
	}
	monthly := lifecycleReport(t, ctx, c, thisMonth.AddDate(-1, 0, 0), thisMonth, "MONTH")
	day := now.AddDate(0, 0, -42).Truncate(24 * time.Hour).Add(10*time.Hour + 5*time.Minute)
	daily := lifecycleReport(t, ctx, c, day.Truncate(24*time.Hour).AddDate(0, 0, -1), day.Truncate(24*time.Hour).AddDate(0, 0, 2), "DAY")

	type check struct {
		t      time.Time      // the instant asked about
		end    time.Time      // end of the bucket containing t
		report map[string]int // the report's population at end
		bucket string
	}
	var checks []check
	for _, at := range instants {
		end, pop := bucketOf(t, monthly, at, thisMonth)
		checks = append(checks, check{at, end, pop, "MONTH"})
	}
	{
		end, pop := bucketOf(t, daily, day, day.Truncate(24*time.Hour).AddDate(0, 0, 2))
		checks = append(checks, check{day, end, pop, "DAY"})
	}

	// The census: every customer, as of each bucket's end (buckets are
	// (start, end], as "as of" is: a change at the end instant counts).
	census := map[time.Time]map[string]int{}
	for _, ch := range checks {
		at := ch.end
		census[at] = stageCensus(t, ctx, c, ids, at)
		if !sameCounts(ch.report, census[at]) {
			t.Errorf("lifecycleReport(bucket: %s) population at the end of the bucket containing %s (%s) disagrees with customer(asOf: %s) over all %d customers:\n%s",
				ch.bucket, stamp(ch.t), stamp(ch.end), stamp(at), len(ids), stageDiff("lifecycleReport", ch.report, "customer(asOf:)", census[at]))
		}
	}

	// A sample of customers, at the instants and at the bucket ends:
	// customer(asOf:) against the stage in force in their stageHistory.
	sample := sampleCustomers(t, ctx, c, ids)
	var at []time.Time
	for _, ch := range checks {
		at = append(at, ch.t, ch.end, ch.end.Add(-time.Nanosecond))
	}
	at = append(at, now.AddDate(0, 0, -3).Add(-17*time.Minute), now.AddDate(0, -5, -9).Add(3*time.Hour))
	mismatches := 0
	for _, id := range sample {
		hist := stageHistory(t, ctx, c, id)
		asOf := stagesAsOf(t, ctx, c, id, at)
		for i, ti := range at {
			want := stageInForce(t, hist, ti)
			if asOf[i] != want {
				mismatches++
				if mismatches <= 10 {
					t.Errorf("customer %s at %s: customer(asOf:) says %q, the stage history says %q (history: %s)", id, stamp(ti), asOf[i], want, js(hist))
				}
			}
		}
	}
	if mismatches > 10 {
		t.Errorf("… %d mismatches between customer(asOf:) and stageHistory in all (%d customers × %d instants)", mismatches, len(sample), len(at))
	}

	// The census was taken under one churn model.
	if m := s.health(ctx).Churn; model != nil && (m == nil || !m.FittedAt.Equal(model.FittedAt)) {
		t.Fatalf("the churn model was refitted during the census (%s, then %s): the comparison above is void", js(model), js(m))
	}
	s.stop()

	// The CLI's replay of the same instants.
	for _, ch := range checks {
		atEnd := ch.end
		b := parseReplay(t, kefu(t, ctx, "replay", "--data", dir, "--until", stamp(atEnd)).stdout)
		if !sameCounts(b.populations, census[atEnd]) {
			t.Errorf("kefu replay --until %s disagrees with customer(asOf:) over all customers:\n%s",
				stamp(atEnd), stageDiff("kefu replay", b.populations, "customer(asOf:)", census[atEnd]))
		}
	}
}

// sameCounts compares stage counts, a stage left out counting as 0.
func sameCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// allCustomerIDs pages through customers.
func allCustomerIDs(t *testing.T, ctx context.Context, c *client) []string {
	t.Helper()
	var ids []string
	after := any(nil)
	for {
		var d struct {
			Customers struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   *string
				}
				Edges []struct{ Node struct{ ID string } }
			}
		}
		c.must(ctx, &d, `query($after: String) { customers(first: 500, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }`,
			map[string]any{"after": after})
		for _, e := range d.Customers.Edges {
			ids = append(ids, e.Node.ID)
		}
		if !d.Customers.PageInfo.HasNextPage {
			if len(ids) != d.Customers.TotalCount {
				t.Fatalf("paged through %d customers, totalCount says %d", len(ids), d.Customers.TotalCount)
			}
			return ids
		}
		if d.Customers.PageInfo.EndCursor == nil || len(d.Customers.Edges) == 0 {
			t.Fatalf("customers: hasNextPage without a cursor after %d", len(ids))
		}
		after = *d.Customers.PageInfo.EndCursor
	}
}

// reportBucket is one bucket of lifecycleReport.
type reportBucket struct {
	Start      string
	Population []struct {
		Stage string
		Count int
	}
}

func lifecycleReport(t *testing.T, ctx context.Context, c *client, from, to time.Time, bucket string) []reportBucket {
	t.Helper()
	var d struct {
		LifecycleReport struct{ Buckets []reportBucket }
	}
	c.must(ctx, &d, `query($from: DateTime!, $to: DateTime!, $b: Bucket!) { lifecycleReport(from: $from, to: $to, bucket: $b) {
		buckets { start population { stage count } } } }`, map[string]any{"from": stamp(from), "to": stamp(to), "b": bucket})
	if len(d.LifecycleReport.Buckets) == 0 {
		t.Fatalf("lifecycleReport(%s, %s, %s) has no buckets", stamp(from), stamp(to), bucket)
	}
	return d.LifecycleReport.Buckets
}

// bucketOf finds the bucket containing at and returns its end (the next
// bucket's start, or to for the last) and its population.
func bucketOf(t *testing.T, bs []reportBucket, at, to time.Time) (time.Time, map[string]int) {
	t.Helper()
	for i, b := range bs {
		start := parseTime(t, b.Start)
		end := to
		if i+1 < len(bs) {
			end = parseTime(t, bs[i+1].Start)
		}
		if !at.Before(start) && at.Before(end) {
			pop := map[string]int{}
			for _, p := range b.Population {
				if p.Count != 0 {
					pop[p.Stage] = p.Count
				}
			}
			return end, pop
		}
	}
	t.Fatalf("no bucket of the report contains %s", stamp(at))
	return time.Time{}, nil
}

// stageCensus counts every customer's stage as of at (customers not yet
// registered then are null and not counted), 100 customers a request.
func stageCensus(t *testing.T, ctx context.Context, c *client, ids []string, at time.Time) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for i := 0; i < len(ids); i += 100 {
		batch := ids[i:min(i+100, len(ids))]
		var q strings.Builder
		q.WriteString(`query($t: DateTime!) {`)
		for j, id := range batch {
			fmt.Fprintf(&q, " c%d: customer(id: %s, asOf: $t) { stage }", j, js(id))
		}
		q.WriteString(" }")
		var d map[string]*struct{ Stage string }
		c.must(ctx, &d, q.String(), map[string]any{"t": stamp(at)})
		for _, v := range d {
			if v != nil {
				counts[v.Stage]++
			}
		}
	}
	return counts
}

// sampleCustomers takes up to six customers in each current stage and
// every 100th customer.
func sampleCustomers(t *testing.T, ctx context.Context, c *client, ids []string) []string {
	t.Helper()
	set := map[string]bool{}
	for _, st := range stages {
		var d struct {
			Customers struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		c.must(ctx, &d, `query($s: Stage!) { customers(first: 6, filter: {stages: [$s]}) { edges { node { id } } } }`, map[string]any{"s": st})
		for _, e := range d.Customers.Edges {
			set[e.Node.ID] = true
		}
	}
	for i := 0; i < len(ids); i += 100 {
		set[ids[i]] = true
	}
	return slices.Sorted(maps.Keys(set))
}

func stageHistory(t *testing.T, ctx context.Context, c *client, id string) []stageChange {
	t.Helper()
	var d struct {
		Customer *struct{ StageHistory []stageChange }
	}
	c.must(ctx, &d, `query($id: ID!) { customer(id: $id) { stageHistory { from to at reason } } }`, map[string]any{"id": id})
	if d.Customer == nil {
		t.Fatalf("customer(id: %q) is null", id)
	}
	return d.Customer.StageHistory
}

// stagesAsOf asks customer(id, asOf:) at each instant in one request; ""
// where the customer did not exist yet.
func stagesAsOf(t *testing.T, ctx context.Context, c *client, id string, at []time.Time) []string {
	t.Helper()
	var q strings.Builder
	q.WriteString(`query($id: ID!) {`)
	for i, ti := range at {
		fmt.Fprintf(&q, " t%d: customer(id: $id, asOf: %s) { stage }", i, js(stamp(ti)))
	}
	q.WriteString(" }")
	var d map[string]*struct{ Stage string }
	c.must(ctx, &d, q.String(), map[string]any{"id": id})
	out := make([]string, len(at))
	for i := range at {
		if v := d[fmt.Sprintf("t%d", i)]; v != nil {
			out[i] = v.Stage
		}
	}
	return out
}

// stageInForce is the stage of the last change at or before at ("" before
// the first).
func stageInForce(t *testing.T, h []stageChange, at time.Time) string {
	t.Helper()
	s := ""
	for _, c := range h {
		if parseTime(t, c.At).After(at) {
			break
		}
		s = c.To
	}
	return s
}

// stageDiff shows two populations side by side, marking the stages that
// differ.
func stageDiff(an string, a map[string]int, bn string, b map[string]int) string {
	var w strings.Builder
	fmt.Fprintf(&w, "  %-12s %16s %16s\n", "stage", an, bn)
	for _, s := range stages {
		mark := ""
		if a[s] != b[s] {
			mark = "  ≠"
		}
		fmt.Fprintf(&w, "  %-12s %16d %16d%s\n", s, a[s], b[s], mark)
	}
	return w.String()
}
