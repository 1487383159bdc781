package transitions_test

import (
	"errors"
	"testing"
	"time"

	lc "github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/transitions"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

type change struct {
	customer string
	from, to lc.Stage
	at       string
}

func logOf(cs ...change) *transitions.Log {
	t := transitions.New()
	for _, c := range cs {
		t.Record(c.customer, lc.StageChange{From: c.from, To: c.to, At: at(c.at)})
	}
	return t
}

func TestLifecycleReport(t *testing.T) {
	// Given: a registers in December, buys in January, complains in
	// February; b registers in January and goes silent in March.
	log := logOf(
		change{"a", lc.StageNone, lc.StageNew, "2023-12-20T10:00:00Z"},
		change{"b", lc.StageNone, lc.StageNew, "2024-01-05T00:00:00Z"},
		change{"a", lc.StageNew, lc.StageActive, "2024-01-31T23:59:59Z"},
		change{"a", lc.StageActive, lc.StageComplaining, "2024-02-01T00:00:00Z"},
		change{"b", lc.StageNew, lc.StageGrumbling, "2024-02-10T00:00:00Z"},
		change{"b", lc.StageGrumbling, lc.StageSilent, "2024-03-11T00:00:00Z"},
		change{"a", lc.StageComplaining, lc.StageActive, "2024-04-02T00:00:00Z"}, // after the report: ignored
	)
	// When: monthly from mid-January to the end of March.
	rep, err := log.LifecycleReport(day("2024-01-15"), day("2024-04-01"), transitions.Month, transitions.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Then: three calendar months (UTC), populations as of each end — a's
	// complaint at exactly 2024-02-01T00:00 belongs to January, as
	// customer(asOf: "2024-02-01T00:00:00Z") shows a COMPLAINING.
	type want struct {
		start string
		pop   map[lc.Stage]int
		moves map[[2]lc.Stage]int
	}
	wants := []want{
		{"2024-01-01", map[lc.Stage]int{lc.StageNew: 1, lc.StageComplaining: 1}, map[[2]lc.Stage]int{{lc.StageNone, lc.StageNew}: 1, {lc.StageNew, lc.StageActive}: 1, {lc.StageActive, lc.StageComplaining}: 1}},
		{"2024-02-01", map[lc.Stage]int{lc.StageComplaining: 1, lc.StageGrumbling: 1}, map[[2]lc.Stage]int{{lc.StageNew, lc.StageGrumbling}: 1}},
		{"2024-03-01", map[lc.Stage]int{lc.StageComplaining: 1, lc.StageSilent: 1}, map[[2]lc.Stage]int{{lc.StageGrumbling, lc.StageSilent}: 1}},
	}
	if len(rep.Buckets) != len(wants) {
		t.Fatalf("%d buckets, want %d", len(rep.Buckets), len(wants))
	}
	for i, w := range wants {
		b := rep.Buckets[i]
		if !b.Start.Equal(day(w.start)) || !b.End.Equal(day(w.start).AddDate(0, 1, 0)) {
			t.Fatalf("bucket %d is [%s, %s), want to start %s", i, b.Start, b.End, w.start)
		}
		for _, s := range lc.Stages() {
			if b.Population[s] != w.pop[s] {
				t.Fatalf("bucket %s: %s population %d, want %d (%v)", w.start, s, b.Population[s], w.pop[s], b.Population)
			}
		}
		got := map[[2]lc.Stage]int{}
		for _, tc := range b.Transitions {
			got[[2]lc.Stage{tc.From, tc.To}] = tc.Count
		}
		if len(got) != len(w.moves) {
			t.Fatalf("bucket %s: transitions %v, want %v", w.start, b.Transitions, w.moves)
		}
		for k, n := range w.moves {
			if got[k] != n {
				t.Fatalf("bucket %s: %v→%v %d, want %d", w.start, k[0], k[1], got[k], n)
			}
		}
	}
}

func TestBoundaries(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skip("no tz data:", err)
	}
	tests := []struct {
		name     string
		from, to time.Time
		b        transitions.Bucket
		loc      *time.Location
		first    string
		n        int
	}{
		{"days", at("2024-03-01T15:00:00Z"), at("2024-03-04T00:00:00Z"), transitions.Day, nil, "2024-03-01T00:00:00Z", 3},
		{"weeks start on Monday", at("2024-03-06T00:00:00Z"), at("2024-03-20T00:00:00Z"), transitions.Week, nil, "2024-03-04T00:00:00Z", 3},
		{"months across a year", at("2023-11-15T00:00:00Z"), at("2024-02-01T00:00:00Z"), transitions.Month, nil, "2023-11-01T00:00:00Z", 3},
		{"days in Shanghai", at("2024-03-01T15:00:00Z"), at("2024-03-02T15:00:00Z"), transitions.Day, shanghai, "2024-02-29T16:00:00Z", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bs, err := transitions.Boundaries(tc.from, tc.to, tc.b, tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			if !bs[0].Equal(at(tc.first)) || len(bs)-1 != tc.n {
				t.Fatalf("first %s, %d buckets; want %s, %d", bs[0].UTC(), len(bs)-1, tc.first, tc.n)
			}
		})
	}
	if _, err := transitions.Boundaries(day("2024-02-01"), day("2024-01-01"), transitions.Day, nil); !errors.Is(err, transitions.ErrInvalidArgument) {
		t.Fatalf("from after to: %v", err)
	}
	if _, err := transitions.Boundaries(day("1900-01-01"), day("2100-01-01"), transitions.Day, nil); !errors.Is(err, transitions.ErrInvalidArgument) {
		t.Fatalf("too many buckets: %v", err)
	}
	if _, err := transitions.ParseBucket("YEAR"); !errors.Is(err, transitions.ErrInvalidArgument) {
		t.Fatal(err)
	}
}

// TestReportWeeksMatchDays: the same log summed over days or weeks agrees
// (populations at week ends, total transitions).
func TestReportWeeksMatchDays(t *testing.T) {
	log := transitions.New()
	stages := lc.Stages()
	base := day("2024-01-01")
	for c := range 200 {
		id := string(rune('A'+c%26)) + string(rune('a'+c/26))
		prev := lc.StageNone
		for k := range 6 {
			next := stages[(c*7+k*3)%len(stages)]
			if next == prev {
				continue
			}
			log.Record(id, lc.StageChange{From: prev, To: next, At: base.Add(time.Duration(c*37+k*1013) * time.Hour)})
			prev = next
		}
	}
	from, to := day("2024-01-01"), day("2024-12-30") // both Mondays
	days, err := log.LifecycleReport(from, to, transitions.Day, transitions.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	weeks, err := log.LifecycleReport(from, to, transitions.Week, transitions.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	total := func(ts []transitions.TransitionCount) int {
		n := 0
		for _, x := range ts {
			n += x.Count
		}
		return n
	}
	for w, wb := range weeks.Buckets {
		d := days.Buckets[w*7+6]
		if d.Population != wb.Population {
			t.Fatalf("week %d: population %v, days say %v", w, wb.Population, d.Population)
		}
		sum := 0
		for i := range 7 {
			sum += total(days.Buckets[w*7+i].Transitions)
		}
		if sum != total(wb.Transitions) {
			t.Fatalf("week %d: %d transitions, days say %d", w, total(wb.Transitions), sum)
		}
	}
}

func TestFunnel(t *testing.T) {
	log := logOf(
		// a: complains, goes silent 30 days later, lost 60 days later, won back 10 days later.
		change{"a", lc.StageNone, lc.StageNew, "2024-01-01T00:00:00Z"},
		change{"a", lc.StageNew, lc.StageComplaining, "2024-02-01T00:00:00Z"},
		change{"a", lc.StageComplaining, lc.StageSilent, "2024-03-02T00:00:00Z"},
		change{"a", lc.StageSilent, lc.StageLost, "2024-05-01T00:00:00Z"},
		change{"a", lc.StageLost, lc.StageActive, "2024-05-11T00:00:00Z"},
		// b: complains, silent after 40 days, stays.
		change{"b", lc.StageNone, lc.StageNew, "2024-01-01T00:00:00Z"},
		change{"b", lc.StageNew, lc.StageComplaining, "2024-02-01T00:00:00Z"},
		change{"b", lc.StageComplaining, lc.StageSilent, "2024-03-12T00:00:00Z"},
		// c: complains and is resolved.
		change{"c", lc.StageNone, lc.StageNew, "2024-01-01T00:00:00Z"},
		change{"c", lc.StageNew, lc.StageComplaining, "2024-02-03T00:00:00Z"},
		change{"c", lc.StageComplaining, lc.StageActive, "2024-02-04T00:00:00Z"},
		// d: silent without complaining (a grumble): not in the funnel.
		change{"d", lc.StageNone, lc.StageGrumbling, "2024-01-01T00:00:00Z"},
		change{"d", lc.StageGrumbling, lc.StageSilent, "2024-01-31T00:00:00Z"},
		// e: first complaint in 2023: outside a 2024 cohort.
		change{"e", lc.StageNone, lc.StageComplaining, "2023-06-01T00:00:00Z"},
		change{"e", lc.StageComplaining, lc.StageSilent, "2023-07-01T00:00:00Z"},
	)
	f := log.Funnel(day("2024-01-01"), day("2025-01-01"))
	if f.Complained != 3 || f.WentSilent != 2 || f.Lost != 1 || f.WonBack != 1 {
		t.Fatalf("funnel %+v, want 3 → 2 → 1 → 1", f)
	}
	if !f.DaysToSilent.OK || f.DaysToSilent.Days != 35 || f.DaysToLost.Days != 60 || f.DaysToWinBack.Days != 10 {
		t.Fatalf("medians %+v %+v %+v, want 35, 60, 10 days", f.DaysToSilent, f.DaysToLost, f.DaysToWinBack)
	}
	if all := log.Funnel(time.Time{}, time.Time{}); all.Complained != 4 || all.WentSilent != 3 {
		t.Fatalf("open window %+v", all)
	}
}

func TestTransitionsDigestIgnoresInterleaving(t *testing.T) {
	a := logOf(change{"x", lc.StageNone, lc.StageNew, "2024-01-01T00:00:00Z"}, change{"y", lc.StageNone, lc.StageNew, "2024-01-02T00:00:00Z"}, change{"x", lc.StageNew, lc.StageActive, "2024-01-03T00:00:00Z"})
	b := logOf(change{"y", lc.StageNone, lc.StageNew, "2024-01-02T00:00:00Z"}, change{"x", lc.StageNone, lc.StageNew, "2024-01-01T00:00:00Z"}, change{"x", lc.StageNew, lc.StageActive, "2024-01-03T00:00:00Z"})
	c := logOf(change{"y", lc.StageNone, lc.StageNew, "2024-01-02T00:00:00Z"}, change{"x", lc.StageNone, lc.StageNew, "2024-01-01T00:00:00Z"}, change{"x", lc.StageNew, lc.StageLoyal, "2024-01-03T00:00:00Z"})
	if a.Digest() != b.Digest() {
		t.Fatal("digest depends on how customers interleave")
	}
	if a.Digest() == c.Digest() {
		t.Fatal("digest misses a different stage")
	}
	if a.Len() != 3 || a.Customers() != 2 {
		t.Fatalf("len %d customers %d", a.Len(), a.Customers())
	}
}
