package churn

import (
	"math"
	"time"

	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// View adapts a fitted BG/NBD model (unit DAY) to the lifecycle's
// ChurnView, with the closed form for the instant P(alive) falls below a
// threshold.
func View(m Model, fittedOn int) lifecycle.ChurnView {
	return churnView{m: m, n: fittedOn}
}

type churnView struct {
	m Model
	n int
}

func (v churnView) FittedOn() int { return v.n }

func (v churnView) summary(h lifecycle.Purchases, t time.Time) Summary {
	return SummaryOf(h, t)
}

// SummaryOf is the BG/NBD summary, in days, of a lifecycle purchase
// history at t: what the book's model is evaluated on for P(alive) and
// expected purchases.
func SummaryOf(h lifecycle.Purchases, t time.Time) Summary {
	x := float64(max(h.Days-1, 0))
	tx := h.Last.Sub(h.First).Hours() / 24
	T := max(t.Sub(h.First).Hours()/24, tx)
	if x == 0 {
		tx = 0
	}
	return Summary{X: x, Tx: tx, T: T}
}

func (v churnView) PAlive(h lifecycle.Purchases, t time.Time) float64 {
	if h.Days <= 1 {
		return 1
	}
	p := v.m.PAlive(v.summary(h, t))
	if math.IsNaN(p) {
		return 1
	}
	return p
}

func (v churnView) FallsBelow(h lifecycle.Purchases, p float64) (time.Time, bool) {
	if h.Days <= 1 || p <= 0 || p >= 1 {
		return time.Time{}, false
	}
	s := v.summary(h, h.Last)
	x := s.X
	r, alpha, a, bb := v.m.R, v.m.Alpha, v.m.A, v.m.B
	k := (1/p - 1) * (bb + x - 1) / a
	if k <= 0 {
		return time.Time{}, false
	}
	T := (alpha+s.Tx)*math.Pow(k, 1/(r+x)) - alpha
	if math.IsNaN(T) || math.IsInf(T, 0) || T > 365*200 {
		return time.Time{}, false
	}
	at := h.First.Add(time.Duration(T * 24 * float64(time.Hour)))
	if at.Before(h.Last) {
		at = h.Last
	}
	return at.Truncate(time.Second).Add(time.Second), true
}
