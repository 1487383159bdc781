package server

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/projections/churn"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// churnModel holds the BG/NBD model fitted on every customer's purchase
// days (in days), refitted on a schedule — never per event.
type churnModel struct {
	mu       sync.RWMutex
	model    *churn.Model
	fittedAt time.Time
}

func newChurnModel() *churnModel { return &churnModel{} }

func (c *churnModel) get() (*churn.Model, time.Time) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.model, c.fittedAt
}

const day = 24 * time.Hour

// summaryOf turns a lifecycle purchase history into BG/NBD inputs in days
// at t (purchase days are UTC calendar days, as the lifecycle counts them).
func summaryOf(h lifecycle.Purchases, t time.Time) churn.Summary {
	return churn.Summary{
		X:  float64(h.Days - 1),
		Tx: h.Last.Sub(h.First).Hours() / 24,
		T:  math.Max(t.Sub(h.First).Hours()/24, h.Last.Sub(h.First).Hours()/24),
	}
}

// refitChurn fits the model over all customers with purchases and hands it
// to the lifecycle (DORMANT needs it). A fit that fails (too little data)
// keeps the previous model and is logged.
func (s *Server) refitChurn(ctx context.Context) {
	now := s.clock()
	var sums []churn.Summary
	s.life.EachPurchases(func(_ string, h lifecycle.Purchases) {
		if h.Days > 0 {
			sums = append(sums, summaryOf(h, now))
		}
	})
	start := time.Now()
	m, err := churn.Fit(ctx, sums, churn.FitOptions{})
	if err != nil {
		s.log.Warn("churn model not refitted", "customers", len(sums), "err", err)
		return
	}
	s.churn.mu.Lock()
	s.churn.model, s.churn.fittedAt = &m, now
	s.churn.mu.Unlock()
	s.life.SetChurn(bgnbdView{m: m})
	s.log.Info("churn model refitted", "customers", m.Customers, "r", m.R, "alpha", m.Alpha, "a", m.A, "b", m.B,
		"logLikelihood", m.LogLikelihood, "took", time.Since(start))
}

// bgnbdView is the lifecycle's view of a fitted BG/NBD model (in days).
type bgnbdView struct{ m churn.Model }

func (v bgnbdView) FittedOn() int { return v.m.Customers }

func (v bgnbdView) PAlive(h lifecycle.Purchases, t time.Time) float64 {
	if h.Days == 0 {
		return 1
	}
	p := v.m.PAlive(summaryOf(h, t))
	if math.IsNaN(p) {
		return 1
	}
	return p
}

// FallsBelow uses BG/NBD's closed form (see lifecycle.ChurnView): P(alive)
// falls below p at T* = (α+t_x)·((1/p−1)(b+x−1)/a)^(1/(r+x)) − α.
func (v bgnbdView) FallsBelow(h lifecycle.Purchases, p float64) (time.Time, bool) {
	x := float64(h.Days - 1)
	if x <= 0 || p <= 0 || p >= 1 {
		return time.Time{}, false
	}
	r, alpha, a, b := v.m.R, v.m.Alpha, v.m.A, v.m.B
	tx := h.Last.Sub(h.First).Hours() / 24
	base := (1/p - 1) * (b + x - 1) / a
	if base <= 0 {
		return time.Time{}, false
	}
	tStar := (alpha+tx)*math.Pow(base, 1/(r+x)) - alpha
	if math.IsNaN(tStar) || math.IsInf(tStar, 0) || tStar > 365*200 {
		return time.Time{}, false
	}
	at := h.First.Add(time.Duration(tStar * float64(day)))
	if at.Before(h.Last) {
		at = h.Last
	}
	return at, true
}
