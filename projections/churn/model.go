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

// maxSeriesTerms bounds the hypergeometric series; past it (z close to
// 1, i.e. a horizon much longer than α+T) the integral form is used.
const maxSeriesTerms = 20_000

// ExpectedPurchases returns E[Y(t) | x, t_x, T], the expected number of
// purchases in the next t time units of a customer with summary s
// (FHL 2005 eq. 10). See the package documentation for the rearranged,
// cancellation-free series evaluated here and the integral used when the
// series would be slow or ill-conditioned. It fails with ErrNotConverged
// only if neither reaches its tolerance.
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
	if t == 0 {
		return 0, nil
	}
	e, ok := p.expectedAliveSeries(s, t)
	if !ok {
		var err error
		if e, err = p.expectedAliveIntegral(s, t); err != nil {
			return 0, err
		}
	}
	return e * p.pAlive(s), nil
}

// expectedAliveSeries returns E[Y(t) | alive, x, T] by the series
//
//	(a+b+x−1) · [ (1 − q)/(a−1) − q·H ],  q = (1−z)^(a−1), z = t/(α+T+t),
//	H = Σ_{j≥1} (A)_j (a)_{j−1} z^j / ((C)_j j!),  A = a+b−1−r, C = a+b+x−1,
//
// and reports false when the series does not reach full precision within
// maxSeriesTerms terms or its rounding error is not negligible.
func (p Params) expectedAliveSeries(s Summary, t float64) (float64, bool) {
	x := s.X
	aa := p.A + p.B - 1 - p.R
	bb := p.A - 1
	cc := p.A + p.B + x - 1
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

	term := aa * z / cc
	sum, abs := term, math.Abs(term)
	converged := term == 0
	for j := 1; !converged && j < maxSeriesTerms; j++ {
		fj := float64(j)
		term *= (aa + fj) * (bb + fj) * z / ((cc + fj) * (fj + 1))
		sum += term
		abs += math.Abs(term)
		if aa+fj <= 0 {
			continue // terms may still change sign; no bound yet
		}
		// For k ≥ j the ratio of consecutive terms is at most
		// rho = z·max(1, (A+j)/(j+1)): the factor (B+k)/(C+k) is below 1
		// since C − B = b + x > 0, and (A+k)/(k+1) is monotone in k. So
		// the tail is at most |term|·rho/(1−rho).
		rho := z * max(1, (aa+fj)/(fj+1))
		if rho < 1 && q*math.Abs(term)*rho/(1-rho) <= 1e-16*(math.Abs(head)+q*math.Abs(sum)) {
			converged = true
		}
	}
	res := cc * (head - q*sum)
	// Rounding error of the alternating part and of the final difference.
	roundoff := 1e-15 * math.Abs(cc) * (math.Abs(head) + q*abs)
	if !converged || !(roundoff <= 1e-11*math.Abs(res)) || math.IsInf(res, 0) || math.IsNaN(res) {
		return 0, false
	}
	return max(res, 0), true
}

// expectedAliveIntegral returns E[Y(t) | alive, x, T] as the integral
// over the dropout probability p ~ Beta(a, b+x) (its posterior for an
// alive customer) of E[Y(t) | alive, p] = (1 − (1 + p·t/(α+T))^−(r+x))/p,
// by tanh-sinh quadrature (robust to the Beta density's endpoint
// singularities), refined until two levels agree to 1e-12.
func (p Params) expectedAliveIntegral(s Summary, t float64) (float64, error) {
	u := t / (p.Alpha + s.T)
	rx := p.R + s.X
	a, b := p.A, p.B+s.X
	lnBeta := lgamma(a) + lgamma(b) - lgamma(a+b)
	f := func(tau float64) float64 {
		y := math.Pi * math.Sinh(tau)
		lnP, ln1P := -softplus(-y), -softplus(y) // ln p, ln(1−p)
		pp := math.Exp(lnP)
		var g float64
		if pp*u < 1e-300 {
			g = rx * u
		} else {
			g = -math.Expm1(-rx*math.Log1p(pp*u)) / pp
		}
		// density · dp/dτ, with dp/dτ = p(1−p)·π·cosh τ
		return g * math.Exp(a*lnP+b*ln1P-lnBeta+math.Log(math.Pi*math.Cosh(tau)))
	}
	// Level 0 (step 1/2) finds how far out the integrand matters; finer
	// levels add the midpoints within that range.
	h := 0.5
	sum := f(0)
	kmax, small := 0, 0
	for k := 1; k <= 400 && (small < 3 || k <= 6); k++ {
		v := f(float64(k)*h) + f(-float64(k)*h)
		sum += v
		kmax = k
		if v <= 1e-18*sum {
			small++
		} else {
			small = 0
		}
	}
	tauMax := float64(kmax) * h
	prev := sum * h
	for level := 0; level < 14; level++ {
		h /= 2
		for k := 1; float64(k)*h <= tauMax; k += 2 {
			sum += f(float64(k)*h) + f(-float64(k)*h)
		}
		est := sum * h
		if est > 0 && math.Abs(est-prev) <= 1e-12*est { // E[Y(t) | alive] > 0 for t > 0
			return est, nil
		}
		prev = est
	}
	return 0, fmt.Errorf("%w: expected purchases integral for %+v, t=%g", ErrNotConverged, s, t)
}

// softplus returns ln(1+e^y) without overflow.
func softplus(y float64) float64 {
	if y > 0 {
		return y + math.Log1p(math.Exp(-y))
	}
	return math.Log1p(math.Exp(y))
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

// Model is a fitted BG/NBD model. Its LogLikelihood field is the fit's
// total; the per-customer log-likelihood is m.Params.LogLikelihood(s).
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
