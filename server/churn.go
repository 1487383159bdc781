package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/analytics"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/internal/durable"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/churn"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// churnModel is the book's churn model (analytics.PurchaseDays.FitBook:
// BG/NBD in days over every customer's purchase days, as of the latest
// purchase day in the log). The lifecycle decides DORMANT with it for every
// instant of history, live and as of the past, exactly as kefu replay does.
// It is refitted when the book has grown or changed enough (never per
// event), and a new model re-folds the lifecycle from the log (rebase), so
// stage changes are dated when they happened under it, not when it was
// fitted.
type churnModel struct {
	mu       sync.RWMutex
	model    *churn.Model
	fittedOn int
	asOf     time.Time // the purchase day it is fitted as of
	fittedAt time.Time // the wall-clock time of the fit
	changes  uint64    // PurchaseDays.Changes() when it was fitted
	tried    uint64    // Changes() at the last attempt (fitted or not)
	lastFit  time.Time // the wall-clock time of the last attempt
}

func newChurnModel() *churnModel { return &churnModel{} }

func (c *churnModel) get() (*churn.Model, time.Time) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.model, c.fittedAt
}

// view is the lifecycle's view of the model (nil without one).
func (c *churnModel) view() lifecycle.ChurnView {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.model == nil {
		return nil
	}
	return analytics.ChurnView(*c.model, c.fittedOn)
}

// Refit policy defaults (Config.ChurnRefitGrowth, ChurnRefitInterval).
const (
	defaultRefitGrowth   = 0.10
	defaultRefitInterval = 30 * time.Second
)

// refitDue reports whether the churn model should be refitted now: there
// is none yet and enough customers have purchases, or the purchase days
// added since the last fit reach the growth fraction of the customers it
// was fitted on — and the last attempt is at least the refit interval ago.
func (s *Server) refitDue(now time.Time) bool {
	changes := s.days.Changes()
	c := s.churn
	c.mu.RLock()
	defer c.mu.RUnlock()
	if changes == c.tried || now.Sub(c.lastFit) < s.refitInterval() {
		return false
	}
	if c.model == nil {
		return s.days.Customers() >= analytics.MinFitCustomers
	}
	growth := s.cfg.ChurnRefitGrowth
	if growth == 0 {
		growth = defaultRefitGrowth
	}
	return float64(changes-c.changes) >= growth*float64(max(c.fittedOn, 1))
}

func (s *Server) refitInterval() time.Duration {
	if s.cfg.ChurnRefitInterval > 0 {
		return s.cfg.ChurnRefitInterval
	}
	return defaultRefitInterval
}

// refitChurn fits the book's model and, when it differs from the one in
// use, rebases the lifecycle on it. A fit that fails (too little data)
// keeps the previous model and is logged.
func (s *Server) refitChurn(ctx context.Context) error {
	changes := s.days.Changes()
	start := time.Now()
	m, n, asOf, err := s.days.FitBook(ctx)
	s.churn.mu.Lock()
	s.churn.tried, s.churn.lastFit = changes, s.clock()
	same := err == nil && s.churn.model != nil && *s.churn.model == m
	if same {
		s.churn.changes = changes
	}
	s.churn.mu.Unlock()
	switch {
	case err != nil:
		s.log.Info("churn model not fitted yet", "customersWithPurchases", s.days.Customers(), "reason", err)
		return nil
	case same:
		return nil
	}
	took := time.Since(start)
	if err := s.rebase(ctx, m, n, asOf, changes); err != nil {
		return err
	}
	s.log.Info("churn model refitted", "customers", m.Customers, "asOf", asOf.Format(time.DateOnly), "r", m.R, "alpha", m.Alpha, "a", m.A, "b", m.B,
		"logLikelihood", m.LogLikelihood, "fit", took, "rebase", time.Since(start)-took)
	if err := s.saveChurn(); err != nil {
		s.log.Warn("churn model not saved: the next start refits it", "err", err)
	}
	return nil
}

// rebase rebuilds the lifecycle read model and its transitions log from
// the log under model m, then puts them in place of the live ones and
// makes m the model in use, in one step: no reader sees a model and a
// lifecycle that disagree. The live lifecycle keeps applying events while
// the rebuild runs; only the last stretch is folded with it paused.
func (s *Server) rebase(ctx context.Context, m churn.Model, fittedOn int, asOf time.Time, changes uint64) error {
	view := analytics.ChurnView(m, fittedOn)
	trans := analytics.NewTransitions()
	fresh, err := lifecycle.New(lifecycle.Config{Policy: s.policy, Churn: view, OnChange: trans.Record})
	if err != nil {
		return err
	}
	dec, err := s.factsDecoder()
	if err != nil {
		return err
	}
	apply := func(ev eventstore.Event, e customer.Event) {
		fresh.Apply(customerIDOf(ev), lifecycle.Fact{At: ev.OccurredAt, Event: e})
	}
	rm := customerProjection("lifecycle.rebase", apply, func() [32]byte { return [32]byte{} })
	from := s.lifePosition()
	if err := projections.Rebuild(ctx, s.dir.Store, dec, from, rm); err != nil {
		return fmt.Errorf("server: rebase the lifecycle on the new churn model: %w", err)
	}
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if to := s.lifePos; to > from {
		if err := readRange(ctx, s.dir.Store, dec, from, to, rm); err != nil {
			return fmt.Errorf("server: rebase the lifecycle on the new churn model: %w", err)
		}
	}
	fresh.AdvanceTo(s.life.Now())
	s.life.Replace(fresh)
	s.trans.Replace(trans)
	s.churn.mu.Lock()
	s.churn.model, s.churn.fittedOn, s.churn.asOf, s.churn.fittedAt, s.churn.changes = &m, fittedOn, asOf, s.clock(), changes
	s.churn.mu.Unlock()
	return nil
}

// readRange applies the events after from, up to and including to, that
// rm wants.
func readRange(ctx context.Context, store eventstore.Store, dec projections.Decoder, from, to eventstore.Position, rm *readModel) error {
	err := store.ReadAll(ctx, from, func(ev eventstore.Event) error {
		if ev.Position > to {
			return eventstore.ErrStop
		}
		if !rm.Wants(ev.Type) {
			return nil
		}
		payload, err := dec.Decode(ctx, ev)
		if err != nil {
			return fmt.Errorf("decode %s at position %d: %w", ev.Type, ev.Position, err)
		}
		return rm.Apply(ctx, projections.Decoded{Event: ev, Payload: payload})
	})
	if errors.Is(err, eventstore.ErrStop) {
		return nil
	}
	return err
}

// factsDecoder decodes customer events without opening personal data: the
// lifecycle reads none, so a rebase never touches the keystore.
func (s *Server) factsDecoder() (projections.Decoder, error) {
	c, err := codec.New(codec.Options{}, codec.SpecsOf(customer.Events()))
	if err != nil {
		return nil, err
	}
	return projections.DecoderFunc(func(ctx context.Context, ev eventstore.Event) (any, error) {
		d, err := c.Decode(ctx, ev)
		return d.Payload, err
	}), nil
}

// churnFile is where the model in use is kept between runs, so a restart
// folds the log under it from the start instead of rebasing.
func (s *Server) churnFile() string { return filepath.Join(s.dir.CheckpointDir(), "churn-model.json") }

type savedChurn struct {
	Model    churn.Model `json:"model"`
	FittedOn int         `json:"fittedOn"`
	AsOf     time.Time   `json:"asOf"`
}

func (s *Server) saveChurn() error {
	s.churn.mu.RLock()
	if s.churn.model == nil {
		s.churn.mu.RUnlock()
		return nil
	}
	b, err := json.Marshal(savedChurn{Model: *s.churn.model, FittedOn: s.churn.fittedOn, AsOf: s.churn.asOf})
	s.churn.mu.RUnlock()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir.CheckpointDir(), 0o700); err != nil {
		return err
	}
	return durable.WriteFile(s.churnFile(), b, 0o600)
}

// loadChurn puts the saved model in use before the read models catch up.
// A missing or unreadable file only means the first fit rebases.
func (s *Server) loadChurn() {
	b, err := os.ReadFile(s.churnFile())
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var sc savedChurn
	if err == nil {
		err = json.Unmarshal(b, &sc)
	}
	if err != nil || sc.FittedOn <= 0 {
		s.log.Warn("saved churn model ignored; it is refitted after catching up", "file", s.churnFile(), "err", err)
		return
	}
	m := sc.Model
	s.churn.mu.Lock()
	s.churn.model, s.churn.fittedOn, s.churn.asOf = &m, sc.FittedOn, sc.AsOf
	s.churn.mu.Unlock()
	s.life.SetChurn(analytics.ChurnView(m, sc.FittedOn))
}
