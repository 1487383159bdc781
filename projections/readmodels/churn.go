package readmodels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/internal/durable"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/churn"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/transitions"
)

// Churn is the book's churn model in use (churn.PurchaseDays.FitBook:
// BG/NBD in days over every customer's purchase days, as of the latest
// purchase day in the log). The lifecycle decides DORMANT with it for
// every instant of history, live and as of the past, exactly as kefu
// replay does. It is refitted when the book has grown or changed enough
// (never per event), and a new model re-folds the lifecycle from the log
// (Refit's rebase), so stage changes are dated when they happened under
// it, not when it was fitted.
type Churn struct {
	mu       sync.RWMutex
	model    *churn.Model
	fittedOn int
	asOf     time.Time // the purchase day it is fitted as of
	fittedAt time.Time // the wall-clock time of the fit
	changes  uint64    // PurchaseDays.Changes() when it was fitted
	tried    uint64    // Changes() at the last attempt (fitted or not)
	lastFit  time.Time // the wall-clock time of the last attempt
}

// Model returns the model in use (nil before the first fit) and when it
// was fitted.
func (c *Churn) Model() (*churn.Model, time.Time) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.model, c.fittedAt
}

// View is the lifecycle's view of the model in use (nil without one).
func (c *Churn) View() lifecycle.ChurnView {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.model == nil {
		return nil
	}
	return churn.View(*c.model, c.fittedOn)
}

// RefitPolicy says when the book's model is refitted.
type RefitPolicy struct {
	// Growth: refit once the purchase days added since the last fit reach
	// this fraction of the customers it was fitted on; 0 means 10%. The
	// first fit comes as soon as enough customers have purchases.
	Growth float64
	// Interval debounces refits: at most one attempt per interval; 0 means
	// 30s.
	Interval time.Duration
}

// RefitDue reports whether the churn model should be refitted at now:
// there is none yet and enough customers have purchases, or the purchase
// days added since the last fit reach the growth fraction of the
// customers it was fitted on — and the last attempt is at least the
// interval ago.
func (s *Set) RefitDue(now time.Time, p RefitPolicy) bool {
	if p.Growth == 0 {
		p.Growth = 0.10
	}
	if p.Interval == 0 {
		p.Interval = 30 * time.Second
	}
	changes := s.PurchaseDays.Changes()
	c := s.Churn
	c.mu.RLock()
	defer c.mu.RUnlock()
	if changes == c.tried || now.Sub(c.lastFit) < p.Interval {
		return false
	}
	if c.model == nil {
		return s.PurchaseDays.Customers() >= churn.MinFitCustomers
	}
	return float64(changes-c.changes) >= p.Growth*float64(max(c.fittedOn, 1))
}

// Refitted says what Refit did.
type Refitted struct {
	// Model is the model fitted; nil when there were too few customers
	// (Err says why).
	Model *churn.Model
	AsOf  time.Time
	// Changed is true when the model differs from the one in use and the
	// lifecycle was rebased on it.
	Changed   bool
	Fit, Took time.Duration
	Err       error
}

// Refit fits the book's model at now and, when it differs from the one in
// use, rebases the lifecycle on it: the lifecycle and its transitions are
// rebuilt from store under the new model and take the live ones' place
// in one step (no reader sees a model and a lifecycle that disagree). The
// live lifecycle keeps applying events while the rebuild runs; only the
// last stretch is folded with it paused. dec decodes customer events
// (personal data need not be opened). A fit that fails for want of data
// is not an error: Refitted.Err says why.
func (s *Set) Refit(ctx context.Context, store eventstore.Store, dec projections.Decoder, now time.Time) (Refitted, error) {
	changes := s.PurchaseDays.Changes()
	start := time.Now()
	m, n, asOf, err := s.PurchaseDays.FitBook(ctx)
	c := s.Churn
	c.mu.Lock()
	c.tried, c.lastFit = changes, now
	same := err == nil && c.model != nil && *c.model == m
	if same {
		c.changes = changes
	}
	c.mu.Unlock()
	out := Refitted{AsOf: asOf, Fit: time.Since(start)}
	switch {
	case err != nil:
		out.Err = err
		return out, nil
	case same:
		out.Model = &m
		return out, nil
	}
	if err := s.rebase(ctx, store, dec, m, n, asOf, changes, now); err != nil {
		return out, err
	}
	out.Model, out.Changed, out.Took = &m, true, time.Since(start)
	return out, nil
}

func (s *Set) rebase(ctx context.Context, store eventstore.Store, dec projections.Decoder, m churn.Model, fittedOn int, asOf time.Time, changes uint64, now time.Time) error {
	trans := transitions.New()
	fresh, err := lifecycle.New(lifecycle.Config{Policy: s.policy, Churn: churn.View(m, fittedOn), OnChange: trans.Record})
	if err != nil {
		return err
	}
	rm := rebaseModel{fresh, &logReader{store: store, dec: dec}}
	from := s.lifecyclePosition()
	if err := projections.Rebuild(ctx, store, dec, from, rm); err != nil {
		return fmt.Errorf("readmodels: rebase the lifecycle on the new churn model: %w", err)
	}
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if to := s.lifePos; to > from {
		if err := readRange(ctx, store, dec, from, to, rm); err != nil {
			return fmt.Errorf("readmodels: rebase the lifecycle on the new churn model: %w", err)
		}
	}
	fresh.AdvanceTo(s.Lifecycle.Now())
	s.Lifecycle.Replace(fresh)
	s.Transitions.Replace(trans)
	c := s.Churn
	c.mu.Lock()
	c.model, c.fittedOn, c.asOf, c.fittedAt, c.changes = &m, fittedOn, asOf, now, changes
	c.mu.Unlock()
	return nil
}

// rebaseModel folds customer events into a lifecycle being rebuilt.
type rebaseModel struct {
	p   *lifecycle.Projector
	log *logReader
}

func (rebaseModel) Name() string        { return "lifecycle.rebase" }
func (rebaseModel) Wants(t string) bool { return customer.IsEventType(t) }
func (rebaseModel) Digest() [32]byte    { return [32]byte{} }
func (m rebaseModel) Apply(ctx context.Context, d projections.Decoded) error {
	e, ok := d.Payload.(customer.Event)
	if !ok {
		return fmt.Errorf("readmodels: lifecycle rebase: payload %T of %s at position %d is not a customer event", d.Payload, d.Event.Type, d.Event.Position)
	}
	return foldLifecycle(ctx, m.p, m.log, d.Event, e)
}

// readRange applies the events after from, up to and including to, that p
// wants.
func readRange(ctx context.Context, store eventstore.Store, dec projections.Decoder, from, to eventstore.Position, p projections.Projection) error {
	f, _ := p.(projections.Filter)
	err := store.ReadAll(ctx, from, func(ev eventstore.Event) error {
		if ev.Position > to {
			return eventstore.ErrStop
		}
		if f != nil && !f.Wants(ev.Type) {
			return nil
		}
		payload, err := dec.Decode(ctx, ev)
		if err != nil {
			return fmt.Errorf("decode %s at position %d: %w", ev.Type, ev.Position, err)
		}
		return p.Apply(ctx, projections.Decoded{Event: ev, Payload: payload})
	})
	if errors.Is(err, eventstore.ErrStop) {
		return nil
	}
	return err
}

type savedChurn struct {
	Model    churn.Model `json:"model"`
	FittedOn int         `json:"fittedOn"`
	AsOf     time.Time   `json:"asOf"`
}

// SaveChurn keeps the model in use in file, so that a restart folds the
// log under it from the start (LoadChurn) instead of rebasing.
func (s *Set) SaveChurn(file string) error {
	c := s.Churn
	c.mu.RLock()
	if c.model == nil {
		c.mu.RUnlock()
		return nil
	}
	b, err := json.Marshal(savedChurn{Model: *c.model, FittedOn: c.fittedOn, AsOf: c.asOf})
	c.mu.RUnlock()
	if err != nil {
		return err
	}
	return durable.WriteFile(file, b, 0o600)
}

// LoadChurn puts the model saved in file in use; call it before the read
// models catch up. A missing file is no error (the first fit rebases); an
// unreadable one is reported and ignored.
func (s *Set) LoadChurn(file string) error {
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var sc savedChurn
	if err == nil {
		err = json.Unmarshal(b, &sc)
	}
	if err == nil && sc.FittedOn <= 0 {
		err = errors.New("no customers")
	}
	if err != nil {
		return fmt.Errorf("readmodels: saved churn model %s ignored (it is refitted after catching up): %w", file, err)
	}
	m := sc.Model
	c := s.Churn
	c.mu.Lock()
	c.model, c.fittedOn, c.asOf = &m, sc.FittedOn, sc.AsOf
	c.mu.Unlock()
	s.Lifecycle.SetChurn(churn.View(m, sc.FittedOn))
	return nil
}

// UseChurn puts model m (fitted on fittedOn customers as of asOf) in use
// on a set about to be rebuilt from the log (a replay): the lifecycle then
// folds under it from the start.
func (s *Set) UseChurn(m churn.Model, fittedOn int, asOf time.Time) {
	c := s.Churn
	c.mu.Lock()
	c.model, c.fittedOn, c.asOf = &m, fittedOn, asOf
	c.mu.Unlock()
	s.Lifecycle.SetChurn(churn.View(m, fittedOn))
}
