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
// number of inter-purchase intervals (purchase days − 1) and Span the days
// from the first purchase day to the last (the intervals' sum).
type History struct {
	Intervals int
	Span      float64
}

// Prior is a category's population of purchase rates: Gamma(shape R,
// rate Alpha) in purchases per day, fitted on Customers histories.
type Prior struct {
	R, Alpha float64
	// Customers is how many histories (with at least one interval) the
	// prior was fitted on.
	Customers int
	// LogLikelihood of the fit.
	LogLikelihood float64
}

// MeanInterval is the population mean interval α/(r−1) in days.
func (p Prior) MeanInterval() float64 { return p.Alpha / (p.R - 1) }

// Estimate is the posterior mean interval of a customer with history h,
// in days, and the credibility weight of their own intervals (0 with no
// interval, towards 1 with many): see the package documentation.
func (p Prior) Estimate(h History) (interval, confidence float64) {
	n := float64(h.Intervals)
	interval = (p.Alpha + h.Span) / (p.R + n - 1)
	confidence = n / (n + p.R - 1)
	return interval, confidence
}

// logLikelihood is Σ log L_i over the histories with an interval.
func logLikelihood(r, alpha float64, hs []History) float64 {
	lgR, _ := math.Lgamma(r)
	lnA := math.Log(alpha)
	var ll float64
	for _, h := range hs {
		if h.Intervals < 1 {
			continue
		}
		n := float64(h.Intervals)
		lg, _ := math.Lgamma(r + n)
		ll += lg - lgR + r*lnA - (r+n)*math.Log(alpha+h.Span)
	}
	return ll
}

// Parameter bounds of the fit, in its coordinates u = ln(r−1), v = ln α.
const (
	minU, maxU = -10.0, 10.0
	minV, maxV = -10.0, 20.0
)

// FitPrior fits the gamma prior by maximum likelihood over the histories
// with at least one interval; it needs minCustomers of them (at least 2).
// The fit is deterministic (Nelder–Mead from a moment-based start).
func FitPrior(hs []History, minCustomers int) (Prior, error) {
	minCustomers = max(minCustomers, 2)
	var k int
	var sumMean float64
	for _, h := range hs {
		if h.Intervals >= 1 {
			k++
			sumMean += h.Span / float64(h.Intervals)
		}
	}
	if k < minCustomers {
		return Prior{}, fmt.Errorf("%w: %d (need %d)", ErrTooFewCustomers, k, minCustomers)
	}
	mean := max(sumMean/float64(k), 1e-3)
	clamp := func(x [2]float64) [2]float64 {
		return [2]float64{min(max(x[0], minU), maxU), min(max(x[1], minV), maxV)}
	}
	f := func(x [2]float64) float64 {
		x = clamp(x)
		r := 1 + math.Exp(x[0])
		return -logLikelihood(r, math.Exp(x[1]), hs)
	}
	// Start at r = 2, α = mean interval (prior mean = the average of the
	// customers' own means).
	best := nelderMead(f, [2]float64{0, math.Log(mean)}, 0.5, 400)
	best = clamp(best)
	r, alpha := 1+math.Exp(best[0]), math.Exp(best[1])
	ll := logLikelihood(r, alpha, hs)
	if math.IsNaN(ll) || math.IsInf(ll, 0) {
		return Prior{}, fmt.Errorf("%w: the fit did not converge", ErrTooFewCustomers)
	}
	return Prior{R: r, Alpha: alpha, Customers: k, LogLikelihood: ll}, nil
}

// nelderMead minimises f over two coordinates from x0 with an initial
// simplex of the given step.
func nelderMead(f func([2]float64) float64, x0 [2]float64, step float64, iters int) [2]float64 {
	pts := [3][2]float64{x0, {x0[0] + step, x0[1]}, {x0[0], x0[1] + step}}
	var vals [3]float64
	for i := range pts {
		vals[i] = f(pts[i])
	}
	for range iters {
		// order: best, middle, worst
		for i := 0; i < 3; i++ {
			for j := i + 1; j < 3; j++ {
				if vals[j] < vals[i] {
					vals[i], vals[j] = vals[j], vals[i]
					pts[i], pts[j] = pts[j], pts[i]
				}
			}
		}
		if math.Abs(vals[2]-vals[0]) <= 1e-10*(1+math.Abs(vals[0])) &&
			math.Abs(pts[2][0]-pts[0][0])+math.Abs(pts[2][1]-pts[0][1]) < 1e-9 {
			break
		}
		c := [2]float64{(pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2}
		at := func(t float64) [2]float64 {
			return [2]float64{c[0] + t*(pts[2][0]-c[0]), c[1] + t*(pts[2][1]-c[1])}
		}
		xr := at(-1)
		fr := f(xr)
		switch {
		case fr < vals[0]:
			xe := at(-2)
			if fe := f(xe); fe < fr {
				pts[2], vals[2] = xe, fe
			} else {
				pts[2], vals[2] = xr, fr
			}
		case fr < vals[1]:
			pts[2], vals[2] = xr, fr
		default:
			xc := at(0.5)
			if fr < vals[2] {
				xc = at(-0.5)
			}
			if fc := f(xc); fc < min(fr, vals[2]) {
				pts[2], vals[2] = xc, fc
			} else {
				for i := 1; i < 3; i++ {
					pts[i] = [2]float64{(pts[0][0] + pts[i][0]) / 2, (pts[0][1] + pts[i][1]) / 2}
					vals[i] = f(pts[i])
				}
			}
		}
	}
	b := 0
	for i := 1; i < 3; i++ {
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

// LogLikelihood is the log marginal likelihood of the histories (those
// with an interval) under p.
func LogLikelihood(p Prior, hs []History) float64 { return logLikelihood(p.R, p.Alpha, hs) }
