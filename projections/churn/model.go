package churn

import (
	"fmt"
	"math"
)

// Params are the four BG/NBD parameters. The purchase rate λ of an
// alive customer is Gamma(shape R, rate Alpha) distributed across
// customers; the dropout probability p after each purchase is Beta(A, B)
// distributed. Alpha is in the reciprocal of the fit's time unit.
type Params struct {
	R, Alpha, A, B float64
}

// Validate reports whether all parameters are finite and positive.
func (p Params) Validate() error {
	for _, v := range [...]struct {
		name string
		v    float64
	}{{"r", p.R}, {"alpha", p.Alpha}, {"a", p.A}, {"b", p.B}} {
		if !(v.v > 0) || math.IsInf(v.v, 0) {
			return fmt.Errorf("%w: %s = %g (want finite and > 0)", ErrInvalidParams, v.name, v.v)
		}
	}
	return nil
}

// LogLikelihood returns the log-likelihood of one customer's summary
// under p (FHL 2005 eq. 6, in the log-space form of Hardie's note 027).
func (p Params) LogLikelihood(s Summary) (float64, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	if err := s.Validate(); err != nil {
		return 0, err
	}
	return p.logLikelihood(s), nil
}

func (p Params) logLikelihood(s Summary) float64 {
	x := s.X
	rx := p.R + x
	lnA1 := lgamma(rx) - lgamma(p.R) + p.R*math.Log(p.Alpha)
	lnA2 := lgamma(p.A+p.B) + lgamma(p.B+x) - lgamma(p.B) - lgamma(p.A+p.B+x)
	a3 := -rx * math.Log(p.Alpha+s.T)
	if x == 0 {
		return lnA1 + lnA2 + a3
	}
	a4 := math.Log(p.A) - math.Log(p.B+x-1) - rx*math.Log(p.Alpha+s.Tx)
	lse, _, _ := logSumExp2(a3, a4)
	return lnA1 + lnA2 + lse
}

// PAlive returns P(alive | x, t_x, T) (FHL 2005 eq. 11):
//
//	1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))
//
// evaluated through the log of the second term so it neither overflows
// nor loses precision for large x.
func (p Params) PAlive(s Summary) (float64, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	if err := s.Validate(); err != nil {
		return 0, err
	}
	return p.pAlive(s), nil
}

func (p Params) pAlive(s Summary) float64 {
	if s.X == 0 {
		return 1
	}
	return logistic(p.logOdds(s))
}

// logOdds returns ln(a/(b+x−1)) + (r+x)·ln((α+T)/(α+t_x)), the log of
// P(dead)/P(alive) for x > 0.
func (p Params) logOdds(s Summary) float64 {
	return math.Log(p.A) - math.Log(p.B+s.X-1) + (p.R+s.X)*math.Log1p((s.T-s.Tx)/(p.Alpha+s.Tx))
}

// maxSeriesTerms bounds the hypergeometric series; it converges like
// z^j with z = t/(α+T+t), so the bound allows horizons up to roughly
// 10^5 times α+T.
const maxSeriesTerms = 10_000_000

// ExpectedPurchases returns E[Y(t) | x, t_x, T], the expected number of
// purchases in the next t time units of a customer with summary s
// (FHL 2005 eq. 10). See the package documentation for the rearranged,
// cancellation-free form evaluated here. It fails with ErrNotConverged
// only when the series needs more than ten million terms (t more than
// about 10^5 times α+T).
func (p Params) ExpectedPurchases(s Summary, t float64) (float64, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	if err := s.Validate(); err != nil {
		return 0, err
	}
	if !(t >= 0) || math.IsInf(t, 0) {
		return 0, fmt.Errorf("%w: %g", ErrInvalidHorizon, t)
	}
	return p.expectedPurchases(s, t)
}

func (p Params) expectedPurchases(s Summary, t float64) (float64, error) {
	if t == 0 {
		return 0, nil
	}
	x := s.X
	aa := p.A + p.B - 1 - p.R // first 2F1 parameter after Euler's transformation
	bb := p.A - 1             // second
	cc := p.A + p.B + x - 1   // third
	u := t / (p.Alpha + s.T)
	z := u / (1 + u)      // t/(α+T+t), in [0, 1)
	lnq := -math.Log1p(u) // ln(1−z) = ln((α+T)/(α+T+t)) < 0
	bl := bb * lnq
	var head float64 // (1 − (1−z)^(a−1)) / (a−1), → −ln(1−z) as a → 1
	if math.Abs(bl) < 1e-8 {
		head = -lnq * (1 + bl/2)
	} else {
		head = -math.Expm1(bl) / bb
	}
	q := math.Exp(bl)

	// H = Σ_{j≥1} (A)_j (B+1)_{j−1} z^j / ((C)_j j!), so that
	// 2F1(A, B; C; z) = 1 + B·H.
	term := aa * z / cc
	sum := term
	converged := term == 0
	for j := 1; !converged && j < maxSeriesTerms; j++ {
		fj := float64(j)
		term *= (aa + fj) * (bb + fj) * z / ((cc + fj) * (fj + 1))
		sum += term
		if aa+fj <= 0 {
			continue // terms may still change sign; no bound yet
		}
		// For k ≥ j the ratio of consecutive terms is at most
		// rho = z·max(1, (A+j)/(j+1)) (the factor (B+k)/(C+k) < 1 since
		// C − B = b + x > 0), so the tail is at most |term|·rho/(1−rho).
		rho := z * max(1, (aa+fj)/(fj+1))
		if rho < 1 && q*math.Abs(term)*rho/(1-rho) <= 1e-15*(math.Abs(head)+q*math.Abs(sum)) {
			converged = true
		}
	}
	if !converged {
		return 0, fmt.Errorf("%w: hypergeometric series for t=%g, T=%g", ErrNotConverged, t, s.T)
	}
	e := cc * (head - q*sum) * p.pAlive(s)
	if e < 0 { // rounding at t → 0
		e = 0
	}
	return e, nil
}

// UnconditionalExpectedPurchases returns E[X(t)], the expected number of
// purchases in (0, t] of a customer picked at random at their first
// purchase (FHL 2005 eq. 9):
//
//	(a+b−1)/(a−1) · [1 − (α/(α+t))^r · 2F1(r, b; a+b−1; t/(α+t))]
//
// evaluated like ExpectedPurchases (it is the same expression with
// x = 0, T = 0 and P(alive) = 1).
func (p Params) UnconditionalExpectedPurchases(t float64) (float64, error) {
	return p.ExpectedPurchases(Summary{}, t)
}

// Model is a fitted BG/NBD model.
type Model struct {
	Params
	// LogLikelihood is the total log-likelihood of the fit data.
	LogLikelihood float64
	// Customers is the number of summaries fitted.
	Customers int
	// Iterations is the number of optimiser iterations used.
	Iterations int
}

// PAlive returns the probability that a customer with summary s is
// still alive (see Params.PAlive). For a summary that fails Validate it
// returns NaN; use Params.PAlive to get the error instead.
func (m Model) PAlive(s Summary) float64 {
	v, err := m.Params.PAlive(s)
	if err != nil {
		return math.NaN()
	}
	return v
}

// ExpectedPurchases returns the expected purchases of a customer with
// summary s in the next horizon time units (see
// Params.ExpectedPurchases). For an invalid summary or horizon, or a
// series that does not converge, it returns NaN; use
// Params.ExpectedPurchases to get the error instead.
func (m Model) ExpectedPurchases(s Summary, horizon float64) float64 {
	v, err := m.Params.ExpectedPurchases(s, horizon)
	if err != nil {
		return math.NaN()
	}
	return v
}
