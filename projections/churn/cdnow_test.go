package churn_test

import (
	"bufio"
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/internal/shared"
	"github.com/kefu-crm/kefu/projections/churn"
)

// paperParams are the published maximum-likelihood estimates of FHL 2005
// on the CDNOW calibration data (weeks).
var paperParams = churn.Params{R: 0.2425945, Alpha: 4.4136019, A: 0.7929199, B: 2.4258881}

// sharedData returns ../shared/data/<name>, skipping the test when it is
// absent.
func sharedData(t testing.TB, name string) string {
	t.Helper()
	return shared.Path(t, "data", name)
}

type cdnowRow struct {
	id      int
	summary churn.Summary
	raw     [3]string // frequency, recency, T as written
}

func readCDNOWSummary(t testing.TB) []cdnowRow {
	t.Helper()
	f, err := os.Open(sharedData(t, "cdnow_customers_summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "ID,frequency,recency,T" {
		t.Fatalf("unexpected header %q", got)
	}
	rows := make([]cdnowRow, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		var v [4]float64
		for i, s := range rec {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("row %v: %v", rec, err)
			}
			v[i] = x
		}
		rows = append(rows, cdnowRow{
			id:      int(v[0]),
			summary: churn.Summary{X: v[1], Tx: v[2], T: v[3]},
			raw:     [3]string{rec[1], rec[2], rec[3]},
		})
	}
	return rows
}

func TestFitCDNOWReproducesPublishedEstimates(t *testing.T) {
	// Given the 2,357 CDNOW customers of FHL 2005 (weeks)
	rows := readCDNOWSummary(t)
	summaries := make([]churn.Summary, len(rows))
	for i, r := range rows {
		summaries[i] = r.summary
	}

	// When the model is fitted by maximum likelihood
	m, err := churn.Fit(t.Context(), summaries, churn.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// Then it reaches the published estimates and log-likelihood
	t.Logf("r=%.7f alpha=%.7f a=%.7f b=%.7f LL=%.6f iterations=%d", m.R, m.Alpha, m.A, m.B, m.LogLikelihood, m.Iterations)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"r", m.R, 0.2426}, {"alpha", m.Alpha, 4.4136}, {"a", m.A, 0.7929}, {"b", m.B, 2.4259},
	} {
		if math.Abs(c.got-c.want) > 0.001 {
			t.Errorf("%s = %.6f, want %.4f ± 0.001", c.name, c.got, c.want)
		}
	}
	if math.Abs(m.LogLikelihood-(-9582.43)) > 0.01 {
		t.Errorf("log-likelihood = %.4f, want -9582.43 ± 0.01", m.LogLikelihood)
	}
	if m.Customers != len(rows) {
		t.Errorf("customers = %d, want %d", m.Customers, len(rows))
	}
	// And the paper's optimum is within rounding of ours.
	var paperLL float64
	for _, s := range summaries {
		ll, err := paperParams.LogLikelihood(s)
		if err != nil {
			t.Fatal(err)
		}
		paperLL += ll
	}
	if paperLL > m.LogLikelihood+1e-6 {
		t.Errorf("the paper's parameters give LL %.6f, better than our optimum %.6f", paperLL, m.LogLikelihood)
	}
}

func TestFitIsDeterministicAndOrderIndependent(t *testing.T) {
	rows := readCDNOWSummary(t)
	fwd := make([]churn.Summary, len(rows))
	rev := make([]churn.Summary, len(rows))
	for i, r := range rows {
		fwd[i] = r.summary
		rev[len(rows)-1-i] = r.summary
	}
	m1, err := churn.Fit(t.Context(), fwd, churn.FitOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := churn.Fit(t.Context(), rev, churn.FitOptions{Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if m1 != m2 {
		t.Errorf("fits differ:\n%+v\n%+v", m1, m2)
	}
}

func TestPaperConditionalQuantities(t *testing.T) {
	m := churn.Model{Params: paperParams}
	tests := []struct {
		name   string
		got    float64
		want   float64
		places int
	}{
		{"P(alive | x=6, tx=30.43, T=38.86)", m.PAlive(churn.Summary{X: 6, Tx: 30.43, T: 38.86}), 0.7077, 4},
		{"E[Y(39) | x=2, tx=30.43, T=38.86]", m.ExpectedPurchases(churn.Summary{X: 2, Tx: 30.43, T: 38.86}, 39), 1.226, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scale := math.Pow(10, float64(tt.places))
			if got := math.Round(tt.got*scale) / scale; got != tt.want {
				t.Errorf("got %.8f (rounds to %v), want %v", tt.got, got, tt.want)
			}
		})
	}
}

// TestSummariesFromCDNOWTransactions rebuilds the summary CSV from the
// raw transactions. CDNOW_sample.txt has two id columns: the first is
// the customer id in the full CDNOW master data set (e.g. 00004), the
// second the sample id 1..2357, which is the ID of the summary CSV
// (checked below: both are one-to-one).
func TestSummariesFromCDNOWTransactions(t *testing.T) {
	// Given the raw transactions and the calibration end 1997-09-30
	f, err := os.Open(sharedData(t, "CDNOW_sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	purchases := map[int][]time.Time{}
	masterOf := map[int]string{}
	sampleOf := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 5 {
			t.Fatalf("line %q: want 5 fields", sc.Text())
		}
		sample, err := strconv.Atoi(fields[1])
		if err != nil {
			t.Fatal(err)
		}
		day, err := time.Parse("20060102", fields[2])
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := masterOf[sample]; ok && m != fields[0] {
			t.Fatalf("sample id %d maps to master ids %s and %s", sample, m, fields[0])
		}
		if s, ok := sampleOf[fields[0]]; ok && s != sample {
			t.Fatalf("master id %s maps to sample ids %d and %d", fields[0], s, sample)
		}
		masterOf[sample], sampleOf[fields[0]] = fields[0], sample
		purchases[sample] = append(purchases[sample], day)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)

	// When summaries are built per sample id, in weeks
	// Then each matches the CSV row with that ID to its two decimals
	rows := readCDNOWSummary(t)
	if len(rows) != len(purchases) {
		t.Fatalf("%d customers in the transactions, %d in the summary", len(purchases), len(rows))
	}
	for _, row := range rows {
		s, err := churn.SummaryFromPurchases(purchases[row.id], asOf, churn.Week)
		if err != nil {
			t.Fatalf("ID %d: %v", row.id, err)
		}
		got := [3]string{strconv.Itoa(int(s.X)), strconv.FormatFloat(s.Tx, 'f', 2, 64), strconv.FormatFloat(s.T, 'f', 2, 64)}
		want := row.raw
		for i := range want {
			if v, err := strconv.ParseFloat(want[i], 64); err == nil && i > 0 {
				want[i] = strconv.FormatFloat(v, 'f', 2, 64) // "0.0" → "0.00"
			}
		}
		if got != want {
			t.Errorf("ID %d (master %s): got %v, want %v", row.id, masterOf[row.id], got, want)
		}
	}
}
