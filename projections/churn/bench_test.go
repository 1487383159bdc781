package churn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/kefu-crm/kefu/projections/churn"
)

// benchTruth are the parameters the benchmark customers are drawn from,
// in days: mean purchase rate r/α = 1 per 40 days, mean dropout
// probability a/(a+b) ≈ 0.24.
var benchTruth = churn.Params{R: 0.25, Alpha: 10, A: 0.8, B: 2.5}

func benchFit(b *testing.B, days bool, workers int) {
	in := simulate(rand.New(rand.NewPCG(2005, 1)), benchTruth, 1_000_000, 730, days)
	var m churn.Model
	for b.Loop() {
		var err error
		if m, err = churn.Fit(b.Context(), in, churn.FitOptions{Workers: workers}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(m.Iterations), "iterations")
	b.ReportMetric(m.R, "r")
	b.ReportMetric(m.Alpha, "alpha")
	b.ReportMetric(m.A, "a")
	b.ReportMetric(m.B, "b")
	b.Logf("true %+v; fitted %+v", benchTruth, m)
}

// BenchmarkFit1MDays fits 1,000,000 simulated customers whose purchases
// are counted per distinct day with ages of 1..730 days — the shape of
// kefu's data; identical triples aggregate.
func BenchmarkFit1MDays(b *testing.B) { benchFit(b, true, 0) }

// BenchmarkFit1MDaysOneWorker is BenchmarkFit1MDays on one goroutine.
func BenchmarkFit1MDaysOneWorker(b *testing.B) { benchFit(b, true, 1) }

// BenchmarkFit1MContinuous is the worst case: continuous purchase
// times, so almost every customer is a distinct triple.
func BenchmarkFit1MContinuous(b *testing.B) { benchFit(b, false, 0) }

func BenchmarkPAlive(b *testing.B) {
	m := churn.Model{Params: paperParams}
	s := churn.Summary{X: 6, Tx: 30.43, T: 38.86}
	for b.Loop() {
		_ = m.PAlive(s)
	}
}

func BenchmarkExpectedPurchases(b *testing.B) {
	m := churn.Model{Params: paperParams}
	s := churn.Summary{X: 2, Tx: 30.43, T: 38.86}
	for b.Loop() {
		_ = m.ExpectedPurchases(s, 39)
	}
}
