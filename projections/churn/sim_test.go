package churn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kefu-crm/kefu/projections/churn"
)

// gammaVariate draws from Gamma(shape k, scale 1) (Marsaglia & Tsang 2000;
// shapes below 1 via the U^(1/k) boost).
func gammaVariate(rng *rand.Rand, k float64) float64 {
	if k < 1 {
		return gammaVariate(rng, k+1) * math.Pow(rng.Float64(), 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// simulate draws n customers from a BG/NBD process with parameters p:
// λ ~ Gamma(r, rate α), dropout p ~ Beta(a, b), ages T uniform on the
// whole numbers 1..maxT. With days set, purchase times are reduced to
// whole days and repeat purchases count per distinct day after the
// first (as SummaryFromDays does); otherwise times stay continuous.
func simulate(rng *rand.Rand, p churn.Params, n, maxT int, days bool) []churn.Summary {
	out := make([]churn.Summary, n)
	for i := range out {
		lambda := gammaVariate(rng, p.R) / p.Alpha
		g1 := gammaVariate(rng, p.A)
		drop := g1 / (g1 + gammaVariate(rng, p.B))
		T := float64(1 + rng.IntN(maxT))
		var x, tx, t, lastDay float64
		for {
			t += rng.ExpFloat64() / lambda
			if t > T {
				break
			}
			if days {
				if d := math.Floor(t); d > lastDay {
					x++
					tx, lastDay = d, d
				}
			} else {
				x++
				tx = t
			}
			if rng.Float64() < drop {
				break
			}
		}
		out[i] = churn.Summary{X: x, Tx: tx, T: T}
	}
	return out
}

// When every customer drops out at nearly the same rate (a and b huge,
// a/(a+b) fixed), the likelihood's optimum lies at a, b → ∞ along a flat
// ridge; the fit must still be accepted, with usable predictions — a dense
// seeded history showed this shape and used to leave the server without a
// churn model.
func TestFitAcceptsHomogeneousDropout(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	sums := simulate(rng, churn.Params{R: 1, Alpha: 7, A: 5e6, B: 9e7}, 20000, 700, true)
	m, err := churn.Fit(t.Context(), sums, churn.FitOptions{})
	if err != nil {
		t.Fatalf("Fit: %v", err)
	}
	if drop := m.A / (m.A + m.B); drop < 0.03 || drop > 0.08 {
		t.Errorf("mean dropout a/(a+b) = %.4f, want ≈ 0.053 (the simulated rate)", drop)
	}
	p := m.PAlive(churn.Summary{X: 3, Tx: 100, T: 400})
	if math.IsNaN(p) || p <= 0 || p >= 1 {
		t.Errorf("PAlive = %v, want a probability", p)
	}
}
