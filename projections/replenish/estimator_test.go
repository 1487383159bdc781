package replenish_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/projections/replenish"
)

func TestEstimateShrinksTowardsThePopulation(t *testing.T) {
	// Given a category whose population mean interval is 30 days (r=3,
	// α=60, exponential intervals: k=1)
	prior := replenish.Prior{R: 3, Alpha: 60, K: 1}
	if got := prior.MeanInterval(); got != 30 {
		t.Fatalf("population mean interval %v, want 30", got)
	}
	for _, tc := range []struct {
		name           string
		h              replenish.History
		interval, conf float64
	}{
		{"one purchase: the population interval", replenish.History{}, 30, 0},
		{"one 10-day interval: pulled most of the way back", replenish.History{Intervals: 1, Span: 10}, (60 + 10) / 3.0, 1 / 3.0},
		{"four 10-day intervals: Z = 4/6", replenish.History{Intervals: 4, Span: 40}, 4.0/6*10 + 2.0/6*30, 4 / 6.0},
		{"a hundred 10-day intervals: nearly their own", replenish.History{Intervals: 100, Span: 1000}, (60 + 1000) / 102.0, 100 / 102.0},
		{"slower than the population: pulled down", replenish.History{Intervals: 2, Span: 120}, (60 + 120) / 4.0, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// When the customer's interval is estimated
			iv, conf := prior.Estimate(tc.h)
			// Then it is the credibility-weighted mean
			if math.Abs(iv-tc.interval) > 1e-9 || math.Abs(conf-tc.conf) > 1e-9 {
				t.Fatalf("Estimate(%+v) = %v, %v; want %v, %v", tc.h, iv, conf, tc.interval, tc.conf)
			}
			if tc.h.Intervals > 0 {
				own := tc.h.Span / float64(tc.h.Intervals)
				if want := conf*own + (1-conf)*prior.MeanInterval(); math.Abs(iv-want) > 1e-9 {
					t.Fatalf("interval %v is not Z·own + (1−Z)·population = %v", iv, want)
				}
			}
		})
	}
}

func TestRegularBuyersAreShrunkLess(t *testing.T) {
	// Given two categories with the same population mean interval (30 d),
	// one bought irregularly (exponential intervals, k=1), one like
	// clockwork (k=16)
	irregular := replenish.Prior{R: 3, Alpha: 60, K: 1}
	regular := replenish.Prior{R: 3, Alpha: 60.0 / 16, K: 16}
	if irregular.MeanInterval() != 30 || regular.MeanInterval() != 30 {
		t.Fatal("population means differ")
	}
	// When a customer with four 20-day intervals is estimated in each
	h := replenish.HistoryOf([]int32{0, 20, 40, 60, 80})
	ivIrr, zIrr := irregular.Estimate(h)
	ivReg, zReg := regular.Estimate(h)
	// Then the regular category trusts her own 20 days far more
	if !(zReg > 0.95 && zIrr < 0.7 && ivReg < 21 && ivIrr > 23) {
		t.Fatalf("irregular: %.2f d (Z %.2f); regular: %.2f d (Z %.2f)", ivIrr, zIrr, ivReg, zReg)
	}
}

// gammaRate draws from Gamma(shape, rate) (Marsaglia–Tsang; shape < 1 by
// the U^(1/shape) boost).
func gammaRate(rng *rand.Rand, shape, rate float64) float64 {
	if shape < 1 {
		return gammaRate(rng, shape+1, rate) * math.Pow(rng.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v / rate
		}
	}
}

func TestFitPriorRecoversTheSimulatedPopulation(t *testing.T) {
	for _, want := range []replenish.Prior{{R: 3, Alpha: 60, K: 1}, {R: 8, Alpha: 49, K: 4}, {R: 2.5, Alpha: 150, K: 0.7}} {
		// Given 4,000 customers whose rates are Gamma(r, α) and who made
		// 1–6 Gamma(k, λ) intervals each (whole days, at least one)
		rng := rand.New(rand.NewPCG(1, uint64(want.R*100)))
		hs := make([]replenish.History, 4000)
		for i := range hs {
			lambda := gammaRate(rng, want.R, want.Alpha)
			n := 1 + rng.IntN(6)
			days := []int32{0}
			for range n {
				x := int32(math.Round(gammaRate(rng, want.K, lambda)))
				days = append(days, days[len(days)-1]+max(x, 1))
			}
			hs[i] = replenish.HistoryOf(days)
		}
		// When the prior is fitted
		got, err := replenish.FitPrior(hs, 5)
		if err != nil {
			t.Fatal(err)
		}
		// Then r and the population mean interval are close to the truth
		if got.Customers != len(hs) {
			t.Errorf("fitted on %d customers, want %d", got.Customers, len(hs))
		}
		if math.Abs(got.R-want.R)/want.R > 0.2 || math.Abs(got.K-want.K)/want.K > 0.2 {
			t.Errorf("r = %.3f, k = %.3f; want %.3f, %.3f ± 20%%", got.R, got.K, want.R, want.K)
		}
		t.Logf("true %+v: fitted r=%.3f α=%.3f k=%.3f, mean interval %.2f d (true %.2f)", want, got.R, got.Alpha, got.K, got.MeanInterval(), want.MeanInterval())
		if m, w := got.MeanInterval(), want.MeanInterval(); math.Abs(m-w)/w > 0.1 {
			t.Errorf("population mean interval %.2f d, want %.2f ± 10%%", m, w)
		}
		// And it is the maximum: nudging either parameter lowers the likelihood
		for _, p := range []replenish.Prior{
			{R: got.R * 1.02, Alpha: got.Alpha, K: got.K}, {R: got.R / 1.02, Alpha: got.Alpha, K: got.K},
			{R: got.R, Alpha: got.Alpha * 1.02, K: got.K}, {R: got.R, Alpha: got.Alpha / 1.02, K: got.K},
			{R: got.R, Alpha: got.Alpha, K: got.K * 1.02}, {R: got.R, Alpha: got.Alpha, K: got.K / 1.02},
		} {
			if ll := replenish.LogLikelihood(p, hs); ll > got.LogLikelihood {
				t.Errorf("LL at %+v = %.4f exceeds the fit's %.4f", p, ll, got.LogLikelihood)
			}
		}
	}
}

func TestFitPriorNeedsRepeatCustomers(t *testing.T) {
	hs := []replenish.History{{Intervals: 0}, {Intervals: 2, Span: 20}, {Intervals: 0}, {Intervals: 1, Span: 9}}
	if _, err := replenish.FitPrior(hs, 3); !errors.Is(err, replenish.ErrTooFewCustomers) {
		t.Fatalf("FitPrior with 2 repeat customers (need 3): err = %v, want ErrTooFewCustomers", err)
	}
}

func TestCategory(t *testing.T) {
	for in, want := range map[string]string{
		"rice 10kg":         "rice 10kg",
		"  Rice   10KG ":    "rice 10kg",
		"rice:jasmine 10kg": "rice",
		"Cooking Oil: 5L":   "cooking oil",
		"":                  "",
		"   ":               "",
		"茶叶:铁观音 250g":       "茶叶",
		"filter\tcartridge": "filter cartridge",
	} {
		if got := replenish.Category(in); got != want {
			t.Errorf("Category(%q) = %q, want %q", in, got, want)
		}
	}
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t.Add(10 * time.Hour)
}
