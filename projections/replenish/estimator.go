package replenish

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Sentinel errors. Test with errors.Is.
var (
	// ErrTooFewCustomers: a prior needs more customers with an interval.
	ErrTooFewCustomers = errors.New("replenish: too few customers with a repeat purchase")
	// ErrInvalidConfig: New was given an unusable Config.
	ErrInvalidConfig = errors.New("replenish: invalid config")
)

// History is one customer's purchases of one category: Intervals is the
// number of inter-purchase intervals (purchase days − 1), Span the days
// from the first purchase day to the last (the intervals' sum) and LogSum
// the sum of the intervals' natural logarithms (days).
type History struct {
	Intervals int
	Span      float64
	LogSum    float64
}

// HistoryOf summarises sorted, distinct purchase days (day numbers).
func HistoryOf(days []int32) History {
	var h History
	for i := 1; i < len(days); i++ {
		x := float64(days[i] - days[i-1])
		h.Intervals++
		h.Span += x
		h.LogSum += math.Log(x)
	}
	return h
}

// Prior is a category's population: intervals are Gamma(shape K, rate λ)
// with each customer's λ drawn from Gamma(shape R, rate Alpha), in days;
// fitted on Customers histories.
type Prior struct {
	R, Alpha, K float64
	// Customers is how many histories (with at least one interval) the
	// prior was fitted on.
	Customers int
	// LogLikelihood of the fit.
	LogLikelihood float64
}

// MeanInterval is the population mean interval K·α/(R−1) in days.
func (p Prior) MeanInterval() float64 { return p.K * p.Alpha / (p.R - 1) }

// Estimate is the posterior mean interval of a customer with history h,
// in days, and the credibility weight of their own intervals (0 with no
// interval, towards 1 with many): see the package documentation.
func (p Prior) Estimate(h History) (interval, confidence float64) {
	kn := p.K * float64(h.Intervals)
	interval = p.K * (p.Alpha + h.Span) / (p.R + kn - 1)
	confidence = kn / (kn + p.R - 1)
	return interval, confidence
}

// logLikelihood is Σ log L_i over the histories with an interval.
func logLikelihood(r, alpha, k float64, hs []History) float64 {
	lgR, _ := math.Lgamma(r)
	lgK, _ := math.Lgamma(k)
	lnA := math.Log(alpha)
	var ll float64
	for _, h := range hs {
		if h.Intervals < 1 {
			continue
		}
		n := float64(h.Intervals)
		lg, _ := math.Lgamma(r + k*n)
		ll += (k-1)*h.LogSum - n*lgK + lg - lgR + r*lnA - (r+k*n)*math.Log(alpha+h.Span)
	}
	return ll
}

// LogLikelihood is the log marginal likelihood of the histories (those
// with an interval) under p.
func LogLikelihood(p Prior, hs []History) float64 { return logLikelihood(p.R, p.Alpha, p.K, hs) }

// The fit's coordinates are (ln(r−1), ln α, ln k), kept inside these
// bounds.
var (
	lower = [3]float64{-10, -10, -5}
	upper = [3]float64{10, 20, 6}
)

// FitPrior fits the prior by maximum likelihood over the histories with
// at least one interval; it needs minCustomers of them (at least 2). The
// fit is deterministic (Nelder–Mead from a moment-based start).
func FitPrior(hs []History, minCustomers int) (Prior, error) {
	minCustomers = max(minCustomers, 2)
	var n int
	var sumMean float64
	for _, h := range hs {
		if h.Intervals >= 1 {
			n++
			sumMean += h.Span / float64(h.Intervals)
		}
	}
	if n < minCustomers {
		return Prior{}, fmt.Errorf("%w: %d (need %d)", ErrTooFewCustomers, n, minCustomers)
	}
	mean := max(sumMean/float64(n), 1e-3)
	clamp := func(x [3]float64) [3]float64 {
		for i := range x {
			x[i] = min(max(x[i], lower[i]), upper[i])
		}
		return x
	}
	params := func(x [3]float64) (r, alpha, k float64) {
		x = clamp(x)
		return 1 + math.Exp(x[0]), math.Exp(x[1]), math.Exp(x[2])
	}
	f := func(x [3]float64) float64 {
		r, alpha, k := params(x)
		v := -logLikelihood(r, alpha, k, hs)
		if math.IsNaN(v) {
			return math.Inf(1)
		}
		return v
	}
	// Start at r = 2, k = 1 (exponential intervals), α = the average of
	// the customers' own mean intervals; restart once from the optimum.
	x := [3]float64{0, math.Log(mean), 0}
	for range 2 {
		x = nelderMead(f, x, 0.5, 1000)
	}
	r, alpha, k := params(x)
	ll := logLikelihood(r, alpha, k, hs)
	if math.IsNaN(ll) || math.IsInf(ll, 0) {
		return Prior{}, fmt.Errorf("%w: the fit did not converge", ErrTooFewCustomers)
	}
	return Prior{R: r, Alpha: alpha, K: k, Customers: n, LogLikelihood: ll}, nil
}

// nelderMead minimises f from x0 with an initial simplex of the given
// step (standard coefficients: reflection 1, expansion 2, contraction ½,
// shrink ½).
func nelderMead(f func([3]float64) float64, x0 [3]float64, step float64, iters int) [3]float64 {
	const d = 3
	var pts [d + 1][d]float64
	var vals [d + 1]float64
	for i := range pts {
		pts[i] = x0
		if i > 0 {
			pts[i][i-1] += step
		}
		vals[i] = f(pts[i])
	}
	for range iters {
		// sort by value, best first (insertion sort: 4 points)
		for i := 1; i <= d; i++ {
			for j := i; j > 0 && vals[j] < vals[j-1]; j-- {
				vals[j], vals[j-1] = vals[j-1], vals[j]
				pts[j], pts[j-1] = pts[j-1], pts[j]
			}
		}
		var spread float64
		for i := 1; i <= d; i++ {
			for j := range d {
				spread = max(spread, math.Abs(pts[i][j]-pts[0][j]))
			}
		}
		if vals[d]-vals[0] <= 1e-12*(1+math.Abs(vals[0])) && spread < 1e-9 {
			break
		}
		var c [d]float64
		for i := range d {
			for j := range d {
				c[j] += pts[i][j] / d
			}
		}
		at := func(t float64) (x [d]float64) {
			for j := range d {
				x[j] = c[j] + t*(pts[d][j]-c[j])
			}
			return x
		}
		xr := at(-1)
		fr := f(xr)
		switch {
		case fr < vals[0]:
			xe := at(-2)
			if fe := f(xe); fe < fr {
				pts[d], vals[d] = xe, fe
			} else {
				pts[d], vals[d] = xr, fr
			}
		case fr < vals[d-1]:
			pts[d], vals[d] = xr, fr
		default:
			xc := at(0.5)
			if fr < vals[d] {
				xc = at(-0.5)
			}
			if fc := f(xc); fc < min(fr, vals[d]) {
				pts[d], vals[d] = xc, fc
			} else {
				for i := 1; i <= d; i++ {
					for j := range d {
						pts[i][j] = (pts[0][j] + pts[i][j]) / 2
					}
					vals[i] = f(pts[i])
				}
			}
		}
	}
	b := 0
	for i := 1; i <= d; i++ {
		if vals[i] < vals[b] {
			b = i
		}
	}
	return pts[b]
}

// Category is the category of an item (see the package documentation);
// "" for an empty item.
func Category(item string) string {
	if c, _, ok := strings.Cut(item, ":"); ok {
		item = c
	}
	return strings.ToLower(strings.Join(strings.Fields(item), " "))
}
