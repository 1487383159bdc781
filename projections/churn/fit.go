package churn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// FitOptions tune Fit. The zero value is ready to use.
type FitOptions struct {
	// MaxIterations bounds the quasi-Newton iterations; 0 means 500.
	MaxIterations int
	// GradientTolerance is the convergence threshold on the largest
	// component of the gradient of the mean log-likelihood per customer
	// with respect to the log-parameters; 0 means 1e-9.
	GradientTolerance float64
	// Workers is the number of goroutines evaluating the likelihood; 0
	// means runtime.GOMAXPROCS(0). The result does not depend on it: the
	// work is split into fixed chunks summed in a fixed order.
	Workers int
	// Start is the starting point; the zero value means a start derived
	// from the data (r = a = b = 1, α = ΣT/Σx).
	Start Params
}

// Validate reports invalid options, naming each offending field.
func (o FitOptions) Validate() error {
	var errs []error
	if o.MaxIterations < 0 {
		errs = append(errs, fmt.Errorf("%w: MaxIterations = %d (want ≥ 0)", ErrInvalidOptions, o.MaxIterations))
	}
	if o.GradientTolerance < 0 || math.IsNaN(o.GradientTolerance) || math.IsInf(o.GradientTolerance, 0) {
		errs = append(errs, fmt.Errorf("%w: GradientTolerance = %g (want finite and ≥ 0)", ErrInvalidOptions, o.GradientTolerance))
	}
	if o.Workers < 0 {
		errs = append(errs, fmt.Errorf("%w: Workers = %d (want ≥ 0)", ErrInvalidOptions, o.Workers))
	}
	if o.Start != (Params{}) {
		if err := o.Start.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%w: Start: %w", ErrInvalidOptions, err))
		}
	}
	return errors.Join(errs...)
}

// Fit estimates the BG/NBD parameters by maximum likelihood over the
// customers' summaries (all in one time unit). Identical summaries are
// aggregated first, so the cost of each likelihood evaluation grows with
// the number of distinct (x, t_x, T) triples, not customers.
//
// The optimiser is BFGS on the log-parameters with the analytic gradient
// and a backtracking line search; it is deterministic: the same
// summaries, in any order, give the same Model.
//
// Errors: ErrInvalidOptions; a *SummaryError (ErrInvalidSummary) naming
// the first invalid summary; ErrNotEnoughData when there are no
// summaries or none has a repeat purchase; a *FitError (ErrNotConverged)
// when the optimiser stops early or a parameter runs off to 0 or ∞ (then
// the returned Model holds the last iterate, for diagnostics only); the
// context's error when ctx is done. A fit whose likelihood stops
// improving (by less than 1e-13 relative over 20 iterations) while the
// gradient is below 1e-4 is accepted: that is a flat ridge, e.g. a → 0
// with b → ∞ when no customer appears to have dropped out, or a, b → ∞
// together when everyone drops out at the same rate, where every
// point gives the same predictions.
func Fit(ctx context.Context, summaries []Summary, opts FitOptions) (Model, error) {
	if err := opts.Validate(); err != nil {
		return Model{}, err
	}
	if opts.MaxIterations == 0 {
		opts.MaxIterations = 500
	}
	if opts.GradientTolerance == 0 {
		opts.GradientTolerance = 1e-9
	}
	if opts.Workers == 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	d, err := aggregate(summaries)
	if err != nil {
		return Model{}, err
	}
	start := opts.Start
	if start == (Params{}) {
		start = d.defaultStart()
	}
	return d.fit(ctx, start, opts)
}

// dataset holds the aggregated summaries: distinct triples with weights,
// and their x, t_x and T values indexed so that each likelihood
// evaluation computes logs and log-gammas once per distinct value.
type dataset struct {
	n          int       // customers
	xs         []float64 // distinct x, ascending
	wx         []float64 // customers per distinct x
	ts, txs    []float64 // distinct T and t_x
	xi, ti, ri []int32   // per triple: index into xs, ts, txs
	w          []float64 // per triple: customers
	sumX, sumT float64
}

type triple struct{ x, tx, t float64 }

func aggregate(summaries []Summary) (*dataset, error) {
	if len(summaries) == 0 {
		return nil, fmt.Errorf("%w: no customers", ErrNotEnoughData)
	}
	index := make(map[triple]int, 1024)
	var keys []triple
	var counts []float64
	d := &dataset{n: len(summaries)}
	repeaters := 0
	for i, s := range summaries {
		if err := s.validate(i); err != nil {
			return nil, err
		}
		if s.X > 0 {
			repeaters++
		}
		k := triple{s.X, s.Tx, s.T}
		j, ok := index[k]
		if !ok {
			j = len(keys)
			index[k] = j
			keys = append(keys, k)
			counts = append(counts, 0)
		}
		counts[j]++
	}
	if repeaters == 0 {
		return nil, fmt.Errorf("%w: none of %d customers has a repeat purchase", ErrNotEnoughData, len(summaries))
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		a, b := keys[i], keys[j]
		return cmp.Or(cmp.Compare(a.x, b.x), cmp.Compare(a.t, b.t), cmp.Compare(a.tx, b.tx))
	})
	xIdx := map[float64]int32{}
	tIdx := map[float64]int32{}
	txIdx := map[float64]int32{}
	lookup := func(m map[float64]int32, vals *[]float64, v float64) int32 {
		if i, ok := m[v]; ok {
			return i
		}
		i := int32(len(*vals))
		m[v] = i
		*vals = append(*vals, v)
		return i
	}
	d.xi = make([]int32, len(keys))
	d.ti = make([]int32, len(keys))
	d.ri = make([]int32, len(keys))
	d.w = make([]float64, len(keys))
	for n, o := range order {
		k := keys[o]
		xi := lookup(xIdx, &d.xs, k.x)
		if int(xi) == len(d.wx) {
			d.wx = append(d.wx, 0)
		}
		d.wx[xi] += counts[o]
		d.xi[n] = xi
		d.ti[n] = lookup(tIdx, &d.ts, k.t)
		d.ri[n] = lookup(txIdx, &d.txs, k.tx)
		d.w[n] = counts[o]
		d.sumX += counts[o] * k.x // in sorted order, so the start does not depend on input order
		d.sumT += counts[o] * k.t
	}
	return d, nil
}

func (d *dataset) defaultStart() Params {
	alpha := d.sumT / d.sumX
	if !(alpha > 0) || math.IsInf(alpha, 0) {
		alpha = 1
	}
	return Params{R: 1, Alpha: alpha, A: 1, B: 1}
}

// chunkSize is the number of triples per unit of parallel work; partial
// sums are combined in chunk order so results do not depend on Workers.
const chunkSize = 1 << 15

// partial sums of one chunk.
type partial struct {
	ll, gr, galpha, s4, s4b float64
}

// eval returns the total log-likelihood at p and its gradient with
// respect to (r, α, a, b).
func (d *dataset) eval(p Params, workers int) (float64, [4]float64) {
	r, alpha, a, b := p.R, p.Alpha, p.A, p.B
	nx := len(d.xs)
	lnB := make([]float64, nx)    // ln a − ln(b+x−1), x > 0
	invBx1 := make([]float64, nx) // 1/(b+x−1), x > 0
	var cst, dr, da, db float64
	lgR, lgB, lgAB := lgamma(r), lgamma(b), lgamma(a+b)
	psiR, psiB, psiAB := digamma(r), digamma(b), digamma(a+b)
	lnAlpha, lnA := math.Log(alpha), math.Log(a)
	for i, x := range d.xs {
		w := d.wx[i]
		cst += w * (lgamma(r+x) - lgR + r*lnAlpha + lgAB + lgamma(b+x) - lgB - lgamma(a+b+x))
		dr += w * (digamma(r+x) - psiR + lnAlpha)
		psiABX := digamma(a + b + x)
		da += w * (psiAB - psiABX)
		db += w * (psiAB + digamma(b+x) - psiB - psiABX)
		if x > 0 {
			lnB[i] = lnA - math.Log(b+x-1)
			invBx1[i] = 1 / (b + x - 1)
		}
	}
	lT, iT := make([]float64, len(d.ts)), make([]float64, len(d.ts))
	for i, t := range d.ts {
		lT[i], iT[i] = math.Log(alpha+t), 1/(alpha+t)
	}
	lR, iR := make([]float64, len(d.txs)), make([]float64, len(d.txs))
	for i, t := range d.txs {
		lR[i], iR[i] = math.Log(alpha+t), 1/(alpha+t)
	}

	chunks := (len(d.w) + chunkSize - 1) / chunkSize
	parts := make([]partial, chunks)
	run := func(c int) {
		var s partial
		lo, hi := c*chunkSize, min((c+1)*chunkSize, len(d.w))
		for k := lo; k < hi; k++ {
			xi, ti := d.xi[k], d.ti[k]
			w, x := d.w[k], d.xs[xi]
			rx := r + x
			lt := lT[ti]
			a3 := -rx * lt
			if x == 0 {
				s.ll += w * a3
				s.gr -= w * lt
				s.galpha -= w * rx * iT[ti]
				continue
			}
			ri := d.ri[k]
			lr := lR[ri]
			lse, w3, w4 := logSumExp2(a3, lnB[xi]-rx*lr)
			s.ll += w * lse
			s.gr -= w * (w3*lt + w4*lr)
			s.galpha -= w * rx * (w3*iT[ti] + w4*iR[ri])
			s.s4 += w * w4
			s.s4b += w * w4 * invBx1[xi]
		}
		parts[c] = s
	}
	if workers <= 1 || chunks == 1 {
		for c := range chunks {
			run(c)
		}
	} else {
		var wg sync.WaitGroup
		next := make(chan int, chunks)
		for c := range chunks {
			next <- c
		}
		close(next)
		for range min(workers, chunks) {
			wg.Go(func() {
				for c := range next {
					run(c)
				}
			})
		}
		wg.Wait()
	}
	ll := cst
	galpha := float64(d.n) * r / alpha
	for _, s := range parts {
		ll += s.ll
		dr += s.gr
		galpha += s.galpha
		da += s.s4 / a
		db -= s.s4b
	}
	return ll, [4]float64{dr, galpha, da, db}
}

// objective is the negative mean log-likelihood as a function of the
// log-parameters, with its gradient.
func (d *dataset) objective(theta [4]float64, workers int) (float64, [4]float64) {
	p := fromLog(theta)
	ll, g := d.eval(p, workers)
	n := float64(d.n)
	f := -ll / n
	var gt [4]float64
	for i, v := range [4]float64{p.R, p.Alpha, p.A, p.B} {
		gt[i] = -g[i] * v / n
	}
	return f, gt
}

func fromLog(t [4]float64) Params {
	return Params{R: math.Exp(t[0]), Alpha: math.Exp(t[1]), A: math.Exp(t[2]), B: math.Exp(t[3])}
}

func toLog(p Params) [4]float64 {
	return [4]float64{math.Log(p.R), math.Log(p.Alpha), math.Log(p.A), math.Log(p.B)}
}

func finite(f float64, g [4]float64) bool {
	s := f
	for _, v := range g {
		s += v
	}
	return !math.IsNaN(s) && !math.IsInf(s, 0)
}

func maxAbs(v [4]float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}

func dot(u, v [4]float64) float64 { return u[0]*v[0] + u[1]*v[1] + u[2]*v[2] + u[3]*v[3] }

const (
	maxLogStep  = 2.0  // largest change of one log-parameter per iteration
	logBoundary = 30.0 // |ln θ| beyond this counts as running off to 0 or ∞
	noiseGrad   = 1e-4 // a stalled search with a gradient below this is converged (a flat ridge: predictions no longer move)
	stallWindow = 20   // iterations over which the likelihood must improve
)

// fit runs BFGS on the log-parameters.
func (d *dataset) fit(ctx context.Context, start Params, opts FitOptions) (Model, error) {
	theta := toLog(start)
	f, g := d.objective(theta, opts.Workers)
	if !finite(f, g) {
		return Model{}, &FitError{Params: start, Reason: "likelihood not finite at the starting point"}
	}
	h := identity()
	model := func(it int) Model {
		p := fromLog(theta)
		return Model{Params: p, LogLikelihood: -f * float64(d.n), Customers: d.n, Iterations: it}
	}
	resets := 0
	history := make([]float64, 0, opts.MaxIterations+1) // f before each iteration
	for it := 0; it < opts.MaxIterations; it++ {
		if err := ctx.Err(); err != nil {
			return model(it), fmt.Errorf("churn: fit: %w", err)
		}
		if maxAbs(g) <= opts.GradientTolerance {
			return model(it), nil
		}
		history = append(history, f)
		if it >= stallWindow && history[it-stallWindow]-f <= 1e-13*math.Abs(f) {
			// The likelihood no longer improves (typically creeping
			// along a flat ridge towards a boundary, e.g. a → 0 when
			// the data show no dropout).
			if maxAbs(g) <= noiseGrad {
				return model(it), nil
			}
			return model(it), &FitError{Iterations: it, Params: fromLog(theta), Reason: fmt.Sprintf("stalled: no improvement over %d iterations, gradient %.3g", stallWindow, maxAbs(g))}
		}
		dir := mulVec(h, g)
		for i := range dir {
			dir[i] = -dir[i]
		}
		if dot(dir, g) >= 0 { // not a descent direction: restart from steepest descent
			h = identity()
			dir = [4]float64{-g[0], -g[1], -g[2], -g[3]}
		}
		if m := maxAbs(dir); m > maxLogStep {
			for i := range dir {
				dir[i] *= maxLogStep / m
			}
		}
		slope := dot(dir, g)
		step := 1.0
		var nt [4]float64
		var nf float64
		var ng [4]float64
		accepted := false
		for range 60 {
			for i := range nt {
				nt[i] = theta[i] + step*dir[i]
			}
			nf, ng = d.objective(nt, opts.Workers)
			if finite(nf, ng) {
				// Armijo; or, at the rounding floor of f, a step that
				// still reduces the gradient (lets BFGS finish the last
				// digits where f no longer resolves the improvement).
				if nf <= f+1e-4*step*slope || (nf <= f+4e-16*math.Abs(f) && maxAbs(ng) < maxAbs(g)) {
					accepted = true
					break
				}
			}
			step /= 2
		}
		if !accepted {
			if maxAbs(g) <= noiseGrad {
				return model(it), nil
			}
			if resets < 3 && h != identity() {
				resets++
				h = identity()
				continue
			}
			return model(it), &FitError{Iterations: it, Params: fromLog(theta), Reason: fmt.Sprintf("line search failed with gradient %.3g", maxAbs(g))}
		}
		var s, y [4]float64
		for i := range s {
			s[i] = nt[i] - theta[i]
			y[i] = ng[i] - g[i]
		}
		theta, f, g = nt, nf, ng
		for i, v := range theta {
			if math.Abs(v) > logBoundary {
				name := [...]string{"r", "alpha", "a", "b"}[i]
				return model(it + 1), &FitError{Iterations: it + 1, Params: fromLog(theta), Reason: fmt.Sprintf("%s runs off to the boundary (%g): the data do not identify the model", name, math.Exp(v))}
			}
		}
		if sy := dot(s, y); sy > 1e-12*math.Sqrt(dot(s, s)*dot(y, y)) {
			h = bfgsUpdate(h, s, y, sy)
		}
	}
	if maxAbs(g) <= opts.GradientTolerance {
		return model(opts.MaxIterations), nil
	}
	return model(opts.MaxIterations), &FitError{Iterations: opts.MaxIterations, Params: fromLog(theta), Reason: fmt.Sprintf("iteration limit reached with gradient %.3g", maxAbs(g))}
}

type mat4 [4][4]float64

func identity() mat4 {
	var m mat4
	for i := range m {
		m[i][i] = 1
	}
	return m
}

func mulVec(m mat4, v [4]float64) [4]float64 {
	var r [4]float64
	for i := range m {
		r[i] = dot(m[i], v)
	}
	return r
}

// bfgsUpdate returns the BFGS update of the inverse Hessian h:
// (I − ρ s yᵀ) h (I − ρ y sᵀ) + ρ s sᵀ with ρ = 1/(yᵀs).
func bfgsUpdate(h mat4, s, y [4]float64, sy float64) mat4 {
	rho := 1 / sy
	hy := mulVec(h, y)
	yhy := dot(y, hy)
	var n mat4
	for i := range n {
		for j := range n[i] {
			n[i][j] = h[i][j] - rho*(hy[i]*s[j]+s[i]*hy[j]) + (rho*rho*yhy+rho)*s[i]*s[j]
		}
	}
	return n
}
