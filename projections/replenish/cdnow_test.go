package replenish_test

import (
	"bufio"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/internal/shared"
	"github.com/kefu-crm/kefu/projections/replenish"
)

// cdnowDays reads CDNOW_sample.txt (../shared/data) into each customer's
// distinct purchase days, sorted.
func cdnowDays(t *testing.T) map[string][]time.Time {
	t.Helper()
	f, err := os.Open(shared.Path(t, "data", "CDNOW_sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]time.Time{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 5 {
			t.Fatalf("line %q: want 5 fields", sc.Text())
		}
		day, err := time.Parse("20060102", fields[2])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(out[fields[1]], day) {
			out[fields[1]] = append(out[fields[1]], day)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for id := range out {
		slices.SortFunc(out[id], time.Time.Compare)
	}
	return out
}

func days(d time.Duration) float64 { return d.Hours() / 24 }

// TestCDNOWNextPurchase validates the estimator on data nobody here made:
// the CDNOW sample (2,357 customers, one category), calibrated to
// 1997-09-30; for every customer who bought again by 1998-06-30 the error
// is |predicted − actual first purchase day after the calibration|. It
// must beat both baselines, computed here on the same customers: the
// population mean interval and the customer's last interval (the
// population mean for customers with one purchase day) added to the last
// purchase. Every method is scored twice: as predicted, and with a
// prediction before the holdout moved to its first day (we know no
// purchase happened by then), the fairer comparison.
func TestCDNOWNextPurchase(t *testing.T) {
	all := cdnowDays(t)
	if len(all) != 2357 {
		t.Fatalf("%d customers, want 2357", len(all))
	}
	cut := time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)
	end := time.Date(1998, 6, 30, 0, 0, 0, 0, time.UTC)
	holdoutStart := cut.AddDate(0, 0, 1)

	// Given the calibration purchases folded into the read model
	m, err := replenish.New(replenish.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id     string
		cal    []time.Time
		actual time.Time
	}
	var rows []row
	var ivSum float64
	var ivN int
	for id, ds := range all {
		r := row{id: id}
		for _, d := range ds {
			switch {
			case !d.After(cut):
				r.cal = append(r.cal, d)
				m.Add(id, d.Add(14*time.Hour), "CD")
			case !d.After(end) && r.actual.IsZero():
				r.actual = d
			}
		}
		for i := 1; i < len(r.cal); i++ {
			ivSum += days(r.cal[i].Sub(r.cal[i-1]))
			ivN++
		}
		if len(r.cal) > 0 && !r.actual.IsZero() {
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.id, b.id) })
	popMean := ivSum / float64(ivN)
	prior, scope, err := m.Prior("cd", cut)
	if err != nil {
		t.Fatal(err)
	}
	if scope != "category" {
		t.Fatalf("prior scope %q, want category", scope)
	}

	// When each method predicts the next purchase of the customers who
	// bought again in the holdout
	after := func(d time.Time, iv float64) time.Time { return d.Add(time.Duration(iv * 24 * float64(time.Hour))) }
	methods := []struct {
		name    string
		predict func(r row) time.Time
	}{
		{"estimator (empirical-Bayes shrunk mean interval)", func(r row) time.Time {
			p, ok := m.PredictCategory(r.id, "cd", cut)
			if !ok {
				t.Fatalf("no prediction for customer %s", r.id)
			}
			if !p.LastPurchaseAt.Equal(r.cal[len(r.cal)-1]) {
				t.Fatalf("customer %s: last purchase %v, want %v", r.id, p.LastPurchaseAt, r.cal[len(r.cal)-1])
			}
			return p.ExpectedAt
		}},
		{"baseline: population mean interval", func(r row) time.Time { return after(r.cal[len(r.cal)-1], popMean) }},
		{"baseline: customer's last interval", func(r row) time.Time {
			n := len(r.cal)
			if n < 2 {
				return after(r.cal[n-1], popMean)
			}
			return r.cal[n-1].Add(r.cal[n-1].Sub(r.cal[n-2]))
		}},
	}
	type score struct{ raw, clamped float64 }
	scores := make([]score, len(methods))
	for i, me := range methods {
		for _, r := range rows {
			p := me.predict(r)
			scores[i].raw += math.Abs(days(p.Sub(r.actual)))
			if p.Before(holdoutStart) {
				p = holdoutStart
			}
			scores[i].clamped += math.Abs(days(p.Sub(r.actual)))
		}
		scores[i].raw /= float64(len(rows))
		scores[i].clamped /= float64(len(rows))
	}

	// And, for the record, the forecast the same gamma–exponential model
	// makes (taking k = 1, the exponential case) when it is also told that no purchase happened between the
	// last one and the cutoff (memoryless waiting time from the cutoff).
	var residual float64
	for _, r := range rows {
		n := float64(len(r.cal) - 1)
		span := days(r.cal[len(r.cal)-1].Sub(r.cal[0]))
		c := days(cut.Sub(r.cal[len(r.cal)-1]))
		p := after(cut, (prior.Alpha+span+c)/(prior.R+n-1))
		residual += math.Abs(days(p.Sub(r.actual)))
	}
	residual /= float64(len(rows))

	t.Logf("CDNOW: %d customers, %d bought again between %s and %s; prior r=%.4f α=%.4f k=%.4f on %d repeat customers, %d intervals (population mean interval %.2f d; pooled mean of intervals %.2f d)",
		len(all), len(rows), holdoutStart.Format(time.DateOnly), end.Format(time.DateOnly), prior.R, prior.Alpha, prior.K, prior.Customers, ivN, prior.MeanInterval(), popMean)
	t.Logf("%-50s %12s %22s", "method", "MAE (days)", "MAE, not before cutoff")
	for i, me := range methods {
		t.Logf("%-50s %12.2f %22.2f", me.name, scores[i].raw, scores[i].clamped)
	}
	t.Logf("%-50s %12s %22.2f", "(memoryless forecast from the cutoff, not served)", "", residual)

	// Then the estimator beats both baselines, scored either way
	if len(rows) != 684 {
		t.Errorf("%d customers bought again in the holdout, want 684", len(rows))
	}
	for i := 1; i < len(methods); i++ {
		if scores[0].raw >= scores[i].raw {
			t.Errorf("estimator MAE %.2f d does not beat %s (%.2f d)", scores[0].raw, methods[i].name, scores[i].raw)
		}
		if scores[0].clamped >= scores[i].clamped {
			t.Errorf("estimator MAE %.2f d (not before cutoff) does not beat %s (%.2f d)", scores[0].clamped, methods[i].name, scores[i].clamped)
		}
	}
}
