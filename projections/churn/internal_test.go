package churn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The analytic gradient used by Fit agrees with central differences of
// the log-likelihood.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	in := []Summary{{X: 2, Tx: 30.43, T: 38.86}, {X: 0, T: 38.86}, {X: 1, Tx: 1.71, T: 38.86}, {X: 6, Tx: 30, T: 38}, {X: 0, T: 20}, {X: 40, Tx: 35, T: 36}}
	d, err := aggregate(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Params{{0.24, 4.4, 0.79, 2.4}, {1, 30, 1, 1}, {3, 0.5, 5, 0.2}} {
		_, g := d.eval(p, 1)
		for i := range 4 {
			h := 1e-6
			up, dn := p, p
			field := func(q *Params) *float64 { return [...]*float64{&q.R, &q.Alpha, &q.A, &q.B}[i] }
			*field(&up) += h * *field(&p)
			*field(&dn) -= h * *field(&p)
			lu, _ := d.eval(up, 1)
			ld, _ := d.eval(dn, 1)
			num := (lu - ld) / (2 * h * *field(&p))
			if math.Abs(num-g[i]) > 1e-5*math.Max(1, math.Abs(num)) {
				t.Errorf("params %+v: dLL/d%s analytic %v, numeric %v", p, [...]string{"r", "alpha", "a", "b"}[i], g[i], num)
			}
		}
		// and the total equals the sum of per-customer log-likelihoods
		ll, _ := d.eval(p, 1)
		var want float64
		for _, s := range in {
			want += p.logLikelihood(s)
		}
		if math.Abs(ll-want) > 1e-9*math.Abs(want) {
			t.Errorf("params %+v: aggregated LL %v, per-customer sum %v", p, ll, want)
		}
	}
}

// The series and the quadrature, two independent evaluations of
// E[Y(t) | alive], agree wherever the series is accepted.
func TestSeriesAgreesWithIntegral(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	logU := func(lo, hi float64) float64 { return math.Exp(lo + (hi-lo)*rng.Float64()) }
	compared := 0
	for range 500 {
		p := Params{R: logU(-3, 3), Alpha: logU(-2, 5), A: logU(-3, 3), B: logU(-3, 3)}
		T := logU(-1, 6)
		x := math.Floor(logU(0, 7)) - 1
		s := Summary{X: x, T: T}
		if x > 0 {
			s.Tx = T * rng.Float64()
		}
		h := logU(-3, 2) * (p.Alpha + T)
		series, ok := p.expectedAliveSeries(s, h)
		integral, err := p.expectedAliveIntegral(s, h)
		if err != nil {
			t.Fatalf("%+v %+v t=%v: %v", p, s, h, err)
		}
		if !ok {
			continue
		}
		compared++
		if math.Abs(series-integral) > 1e-8*math.Max(series, 1e-12) {
			t.Errorf("%+v %+v t=%v: series %.15g, integral %.15g", p, s, h, series, integral)
		}
	}
	if compared < 400 {
		t.Errorf("series accepted in only %d of 500 cases", compared)
	}
}
