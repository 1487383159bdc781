package churn_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kefu-crm/kefu/projections/churn"
)

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func TestLargeFrequencyStaysFinite(t *testing.T) {
	tests := []struct {
		name string
		s    churn.Summary
	}{
		{"x=500 tx=T=1000", churn.Summary{X: 500, Tx: 1000, T: 1000}},
		{"x=500 tx=100 T=1000", churn.Summary{X: 500, Tx: 100, T: 1000}},
		{"x=5000 tx=4000 T=5000", churn.Summary{X: 5000, Tx: 4000, T: 5000}},
		{"x=100000 tx=T=100000", churn.Summary{X: 1e5, Tx: 1e5, T: 1e5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ll, err := paperParams.LogLikelihood(tt.s)
			if err != nil || !finite(ll) {
				t.Fatalf("LogLikelihood = %v, %v", ll, err)
			}
			pa, err := paperParams.PAlive(tt.s)
			if err != nil || !finite(pa) || pa < 0 || pa > 1 {
				t.Fatalf("PAlive = %v, %v", pa, err)
			}
			e, err := paperParams.ExpectedPurchases(tt.s, 52)
			if err != nil || !finite(e) {
				t.Fatalf("ExpectedPurchases = %v, %v", e, err)
			}
			// E[Y(t)] = P(alive)·E[Y(t) | alive] ≤ P(alive)·(r+x)/(α+T)·t
			upper := pa * (paperParams.R + tt.s.X) / (paperParams.Alpha + tt.s.T) * 52
			if e < 0 || e > upper*(1+1e-9) {
				t.Errorf("ExpectedPurchases = %v, want in [0, %v]", e, upper)
			}
			t.Logf("LL=%.4f PAlive=%.6f E[Y(52)]=%.6f", ll, pa, e)
		})
	}
	// A customer who bought every week for 500 weeks and just bought
	// again is almost surely alive; one silent for the second half of
	// their life is almost surely gone.
	if pa := (churn.Model{Params: paperParams}).PAlive(churn.Summary{X: 500, Tx: 1000, T: 1000}); pa < 0.99 {
		t.Errorf("PAlive(x=500, tx=T) = %v, want ≥ 0.99", pa)
	}
	if pa := (churn.Model{Params: paperParams}).PAlive(churn.Summary{X: 500, Tx: 500, T: 1000}); pa > 1e-6 {
		t.Errorf("PAlive(x=500, tx=T/2) = %v, want ≈ 0", pa)
	}
}

func TestNoRepeatPurchaseCustomers(t *testing.T) {
	m := churn.Model{Params: paperParams}
	s := churn.Summary{X: 0, Tx: 0, T: 38.86}
	// Given x = 0 the customer cannot have dropped out (dropout happens
	// only at a repeat purchase)
	if got := m.PAlive(s); got != 1 {
		t.Errorf("PAlive(x=0) = %v, want 1", got)
	}
	e := m.ExpectedPurchases(s, 39)
	if !finite(e) || e <= 0 || e > paperParams.R/(paperParams.Alpha+s.T)*39 {
		t.Errorf("ExpectedPurchases(x=0) = %v", e)
	}
	ll, err := paperParams.LogLikelihood(s)
	// closed form for x = 0: r·ln(α/(α+T)) + ln(b/(a+b))·0 … = r ln α − r ln(α+T)
	want := paperParams.R * math.Log(paperParams.Alpha/(paperParams.Alpha+s.T))
	if err != nil || math.Abs(ll-want) > 1e-12 {
		t.Errorf("LogLikelihood(x=0) = %v, %v; want %v", ll, err, want)
	}
}

// naiveExpected evaluates FHL 2005 eq. 10 as printed, with the plain
// 2F1 series; adequate for small x and moderate t only.
func naiveExpected(p churn.Params, s churn.Summary, t float64) float64 {
	z := t / (p.Alpha + s.T + t)
	a1, b1, c1 := p.R+s.X, p.B+s.X, p.A+p.B+s.X-1
	term, f := 1.0, 1.0
	for j := 0; j < 100000; j++ {
		fj := float64(j)
		term *= (a1 + fj) * (b1 + fj) / ((c1 + fj) * (fj + 1)) * z
		f += term
		if math.Abs(term) < 1e-17*f {
			break
		}
	}
	num := (p.A + p.B + s.X - 1) / (p.A - 1) * (1 - math.Pow((p.Alpha+s.T)/(p.Alpha+s.T+t), p.R+s.X)*f)
	den := 1.0
	if s.X > 0 {
		den += p.A / (p.B + s.X - 1) * math.Pow((p.Alpha+s.T)/(p.Alpha+s.Tx), p.R+s.X)
	}
	return num / den
}

func TestExpectedPurchasesMatchesPrintedFormula(t *testing.T) {
	tests := []struct {
		p churn.Params
		s churn.Summary
		t float64
	}{
		{paperParams, churn.Summary{X: 2, Tx: 30.43, T: 38.86}, 39},
		{paperParams, churn.Summary{X: 0, T: 38.86}, 39},
		{paperParams, churn.Summary{X: 7, Tx: 35, T: 38}, 10},
		{paperParams, churn.Summary{X: 1, Tx: 2, T: 70}, 200},
		{paperParams, churn.Summary{}, 78},
		{churn.Params{R: 2, Alpha: 30, A: 3, B: 5}, churn.Summary{X: 4, Tx: 200, T: 300}, 90},
		{churn.Params{R: 0.5, Alpha: 10, A: 1.5, B: 0.7}, churn.Summary{X: 12, Tx: 50, T: 60}, 30},
		{churn.Params{R: 5, Alpha: 2, A: 0.3, B: 0.4}, churn.Summary{X: 3, Tx: 5, T: 9}, 4},
	}
	for _, tt := range tests {
		got, err := tt.p.ExpectedPurchases(tt.s, tt.t)
		if err != nil {
			t.Fatal(err)
		}
		want := naiveExpected(tt.p, tt.s, tt.t)
		if math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Errorf("%+v %+v t=%v: got %.12g, want %.12g", tt.p, tt.s, tt.t, got, want)
		}
	}
}

func TestExpectedPurchasesIsContinuousAtAEqualsOne(t *testing.T) {
	s := churn.Summary{X: 3, Tx: 20, T: 30}
	at := func(a float64) float64 {
		v, err := churn.Params{R: 0.7, Alpha: 5, A: a, B: 2}.ExpectedPurchases(s, 26)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	one := at(1)
	for _, a := range []float64{1 - 1e-6, 1 + 1e-6, 1 - 1e-12, 1 + 1e-12} {
		if d := math.Abs(at(a) - one); d > 1e-5 {
			t.Errorf("E at a=%v differs from a=1 by %v", a, d)
		}
	}
	if !finite(one) || one <= 0 {
		t.Errorf("E at a=1 = %v", one)
	}
}

func TestInvalidInputsAreTypedErrors(t *testing.T) {
	ctx := t.Context()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	cdnowLike := []churn.Summary{{X: 2, Tx: 30, T: 38}, {X: 0, T: 38}, {X: 1, Tx: 2, T: 38}}
	tests := []struct {
		name    string
		ctx     context.Context
		in      []churn.Summary
		opts    churn.FitOptions
		wantErr error
	}{
		{"no customers", ctx, nil, churn.FitOptions{}, churn.ErrNotEnoughData},
		{"empty slice", ctx, []churn.Summary{}, churn.FitOptions{}, churn.ErrNotEnoughData},
		{"all zero", ctx, []churn.Summary{{}, {}, {}}, churn.FitOptions{}, churn.ErrNotEnoughData},
		{"no repeat purchases", ctx, []churn.Summary{{T: 5}, {T: 9}}, churn.FitOptions{}, churn.ErrNotEnoughData},
		{"negative x", ctx, []churn.Summary{{X: -1, T: 3}}, churn.FitOptions{}, churn.ErrInvalidSummary},
		{"tx after T", ctx, []churn.Summary{{X: 1, Tx: 4, T: 3}}, churn.FitOptions{}, churn.ErrInvalidSummary},
		{"tx without repeat", ctx, []churn.Summary{{X: 0, Tx: 1, T: 3}}, churn.FitOptions{}, churn.ErrInvalidSummary},
		{"NaN", ctx, []churn.Summary{{X: math.NaN(), T: 3}}, churn.FitOptions{}, churn.ErrInvalidSummary},
		{"infinite T", ctx, []churn.Summary{{X: 1, Tx: 1, T: math.Inf(1)}}, churn.FitOptions{}, churn.ErrInvalidSummary},
		{"negative iterations", ctx, cdnowLike, churn.FitOptions{MaxIterations: -1}, churn.ErrInvalidOptions},
		{"bad start", ctx, cdnowLike, churn.FitOptions{Start: churn.Params{R: 1}}, churn.ErrInvalidOptions},
		{"canceled", canceled, cdnowLike, churn.FitOptions{}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := churn.Fit(tt.ctx, tt.in, tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if math.IsNaN(m.R + m.Alpha + m.A + m.B + m.LogLikelihood) {
				t.Errorf("model has NaN: %+v", m)
			}
		})
	}
	t.Run("summary error names the index", func(t *testing.T) {
		_, err := churn.Fit(ctx, []churn.Summary{{X: 1, Tx: 1, T: 2}, {X: 1, Tx: 3, T: 2}}, churn.FitOptions{})
		var se *churn.SummaryError
		if !errors.As(err, &se) || se.Index != 1 {
			t.Fatalf("err = %v, want *SummaryError at index 1", err)
		}
	})
	t.Run("params and horizon", func(t *testing.T) {
		s := churn.Summary{X: 1, Tx: 1, T: 2}
		if _, err := (churn.Params{R: 1, Alpha: -1, A: 1, B: 1}).PAlive(s); !errors.Is(err, churn.ErrInvalidParams) {
			t.Errorf("PAlive with alpha<0: %v", err)
		}
		if _, err := paperParams.ExpectedPurchases(s, -1); !errors.Is(err, churn.ErrInvalidHorizon) {
			t.Errorf("negative horizon: %v", err)
		}
		if v := (churn.Model{Params: paperParams}).ExpectedPurchases(s, math.NaN()); !math.IsNaN(v) {
			t.Errorf("Model.ExpectedPurchases(NaN horizon) = %v, want NaN (documented)", v)
		}
	})
}

func TestFitWithoutDropoutsIsNeverNaN(t *testing.T) {
	// Given customers who all bought at the very end of their lives
	// (no sign of dropout), the MLE of a may run to the boundary.
	var in []churn.Summary
	for i := 1; i <= 50; i++ {
		in = append(in, churn.Summary{X: float64(1 + i%7), Tx: float64(10 + i), T: float64(10 + i)})
	}
	in = append(in, churn.Summary{T: 20})
	m, err := churn.Fit(t.Context(), in, churn.FitOptions{})
	// Then the fit either converges or says it did not, and never
	// produces NaN.
	if err != nil && !errors.Is(err, churn.ErrNotConverged) {
		t.Fatalf("err = %v", err)
	}
	if !finite(m.R) || !finite(m.Alpha) || !finite(m.A) || !finite(m.B) || !finite(m.LogLikelihood) {
		t.Errorf("model not finite: %+v (err %v)", m, err)
	}
	t.Logf("model %+v, err %v", m, err)
}

func TestFitRecoversSimulatedParameters(t *testing.T) {
	// Given 20,000 customers simulated from known parameters (days)
	truth := churn.Params{R: 0.25, Alpha: 10, A: 0.8, B: 2.5}
	in := simulate(rand.New(rand.NewPCG(1, 2)), truth, 20000, 730, false)
	// When fitted
	m, err := churn.Fit(t.Context(), in, churn.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Then the estimates are near the truth (sampling error only)
	t.Logf("fitted %+v", m)
	for _, c := range []struct {
		name        string
		got, want   float64
		relTolernce float64
	}{
		{"r", m.R, truth.R, 0.1}, {"alpha", m.Alpha, truth.Alpha, 0.15}, {"a", m.A, truth.A, 0.25}, {"b", m.B, truth.B, 0.3},
	} {
		if math.Abs(c.got/c.want-1) > c.relTolernce {
			t.Errorf("%s = %v, want %v ± %.0f%%", c.name, c.got, c.want, 100*c.relTolernce)
		}
	}
}

func TestPAliveAndExpectationPropertiesOnRandomInputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 2000 {
		p, s, h := randomInputs(rng)
		checkFinite(t, p, s, h)
	}
}

// randomInputs draws valid parameters, a valid summary and a horizon
// across many orders of magnitude.
func randomInputs(rng *rand.Rand) (churn.Params, churn.Summary, float64) {
	logU := func(lo, hi float64) float64 { return math.Exp(lo + (hi-lo)*rng.Float64()) }
	p := churn.Params{R: logU(-5, 5), Alpha: logU(-3, 7), A: logU(-5, 5), B: logU(-5, 5)}
	T := logU(-2, 8)
	x := math.Floor(logU(0, 9)) - 1
	tx := 0.0
	if x > 0 {
		tx = T * rng.Float64()
	}
	return p, churn.Summary{X: x, Tx: tx, T: T}, logU(-3, 3) * (p.Alpha + T)
}

func checkFinite(t testing.TB, p churn.Params, s churn.Summary, h float64) {
	t.Helper()
	ll, err := p.LogLikelihood(s)
	if err != nil || !finite(ll) || ll > 1e-9*math.Abs(ll)+1e-12 && s.X == 0 {
		t.Fatalf("LogLikelihood(%+v, %+v) = %v, %v", p, s, ll, err)
	}
	pa, err := p.PAlive(s)
	if err != nil || !finite(pa) || pa < 0 || pa > 1 {
		t.Fatalf("PAlive(%+v, %+v) = %v, %v", p, s, pa, err)
	}
	e, err := p.ExpectedPurchases(s, h)
	if err != nil || !finite(e) || e < 0 {
		t.Fatalf("ExpectedPurchases(%+v, %+v, %v) = %v, %v", p, s, h, e, err)
	}
	if upper := pa * (p.R + s.X) / (p.Alpha + s.T) * h; e > upper*(1+1e-6)+1e-12 {
		t.Fatalf("ExpectedPurchases(%+v, %+v, %v) = %v above the bound %v", p, s, h, e, upper)
	}
}

func FuzzLikelihoodPAliveExpected(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(0), uint64(0))
	f.Add(uint64(1<<63), uint64(12345))
	f.Fuzz(func(t *testing.T, s1, s2 uint64) {
		p, s, h := randomInputs(rand.New(rand.NewPCG(s1, s2)))
		checkFinite(t, p, s, h)
	})
}

func TestVeryLongHorizonsStayFiniteAndGrow(t *testing.T) {
	// Horizons far beyond α+T make the series slow (z → 1); the integral
	// takes over. E[Y(t)] must stay finite and grow with t.
	for _, s := range []churn.Summary{{}, {X: 2, Tx: 30.43, T: 38.86}, {X: 500, Tx: 1000, T: 1000}} {
		prev := 0.0
		for _, h := range []float64{1, 39, 1e3, 1e5, 1e7, 1e9} {
			e, err := paperParams.ExpectedPurchases(s, h)
			if err != nil || !finite(e) {
				t.Fatalf("%+v t=%g: %v, %v", s, h, e, err)
			}
			if e < prev {
				t.Errorf("%+v: E[Y(%g)] = %v < E at a shorter horizon %v", s, h, e, prev)
			}
			prev = e
		}
	}
}
