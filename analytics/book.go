package analytics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/churn"
	"github.com/kefu-crm/kefu/projections/complaints"
	"github.com/kefu-crm/kefu/projections/followups"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/loyalty"
)

// ReplayConfig configures Replay.
type ReplayConfig struct {
	// Policy is the lifecycle policy (lifecycle.DefaultPolicy() if zero).
	Policy lifecycle.Policy
	// Loyalty is the loyalty formula's config (loyalty.DefaultConfig() if
	// its Reference is nil).
	Loyalty loyalty.Config
	// Until, if not zero, replays the book as it stood at that instant of
	// business time: only events with occurredAt ≤ Until count, and the
	// clock stops at Until (time-driven changes up to it fire). Zero means
	// the whole log, with the clock at the latest occurredAt of any event
	// in it — never the wall clock, so that the same log always gives the
	// same book. Either way DORMANT is judged with the book's churn model
	// (PurchaseDays.FitBook), as everywhere else.
	Until time.Time
	// Progress, if set, is called with the pass (1: purchases for the churn
	// fit, 2: every read model) and the global position reached.
	Progress func(pass int, pos eventstore.Position)
}

// Book is every read model rebuilt from the log.
type Book struct {
	// AsOf is the instant the book stands at.
	AsOf        time.Time
	Lifecycle   *lifecycle.Projector
	Loyalty     *loyalty.Projector
	Complaints  *complaints.Model
	FollowUps   *followups.Model
	Transitions *Transitions
	Purchases   *PurchaseDays
	// Churn is the book's BG/NBD fit (in days) used for DORMANT; nil
	// when there were too few customers or the fit failed (ChurnErr).
	Churn    *churn.Model
	ChurnErr error
	// Events is the number of customer events applied.
	Events int64
	// Head is the log's head when the replay began.
	Head eventstore.Position
}

// Replay rebuilds every read model from store without writing to it: a
// first pass collects every customer's purchase days and fits the book's
// churn model (FitBook: the whole log, as of its latest purchase day — the
// model the live server decides DORMANT with), a second pass folds every
// event up to the cut-off into the read models.
func Replay(ctx context.Context, store eventstore.Store, dec projections.Decoder, cfg ReplayConfig) (*Book, error) {
	if cfg.Policy == (lifecycle.Policy{}) {
		cfg.Policy = lifecycle.DefaultPolicy()
	}
	if cfg.Loyalty.Reference == nil {
		cfg.Loyalty = loyalty.DefaultConfig()
	}
	head, err := store.Head(ctx)
	if err != nil {
		return nil, err
	}
	until := cfg.Until
	b := &Book{Head: head, Purchases: NewPurchaseDays(), Transitions: NewTransitions(),
		Complaints: complaints.New(), FollowUps: followups.New()}

	// Pass 1, over the envelopes alone (no decoding): every purchase day
	// of the whole log for the book's model, and the latest occurredAt of
	// any event up to the cut-off — the instant the book stands at.
	var latest int64
	var n int
	progress := passProgress(cfg.Progress, 1)
	if err := store.ReadAll(ctx, eventstore.Start, func(ev eventstore.Event) error {
		if ev.Position > head {
			return eventstore.ErrStop
		}
		if n++; progress != nil && n%1024 == 0 {
			progress(ev.Position)
		}
		at := ev.OccurredAt
		if (until.IsZero() || !at.After(until)) && at.UnixNano() > latest {
			latest = at.UnixNano()
		}
		if ev.Type == customer.TypePurchaseMade {
			if id, ok := strings.CutPrefix(ev.StreamID, customer.StreamCategory+"-"); ok {
				b.Purchases.Add(id, at)
			}
		}
		return nil
	}); err != nil && !errors.Is(err, eventstore.ErrStop) {
		return nil, err
	}
	b.AsOf = until
	if b.AsOf.IsZero() {
		b.AsOf = time.Unix(0, latest).UTC()
	}
	var view lifecycle.ChurnView
	if m, n, _, err := b.Purchases.FitBook(ctx); err == nil {
		b.Churn = &m
		view = ChurnView(m, n)
	} else {
		b.ChurnErr = err
	}

	// Pass 2: every read model.
	lc, err := lifecycle.New(lifecycle.Config{Policy: cfg.Policy, Churn: view, OnChange: b.Transitions.Record})
	if err != nil {
		return nil, err
	}
	ly, err := loyalty.New(cfg.Loyalty)
	if err != nil {
		return nil, err
	}
	b.Lifecycle, b.Loyalty = lc, ly
	var events atomic.Int64
	ps := []projections.Projection{
		&customerProjection{name: "analytics.lifecycle", until: until, progress: passProgress(cfg.Progress, 2),
			apply: func(ev eventstore.Event, id string, e customer.Event) {
				events.Add(1)
				lc.Apply(id, lifecycle.Fact{At: ev.OccurredAt, Event: e})
			}},
		&customerProjection{name: "analytics.loyalty", until: until,
			apply: func(ev eventstore.Event, id string, e customer.Event) {
				ly.Apply(id, lifecycle.Fact{At: ev.OccurredAt, Event: e})
			}},
		&customerProjection{name: "analytics.complaints", until: until, apply: func(ev eventstore.Event, _ string, e customer.Event) {
			b.Complaints.Apply(ev, e)
		}},
		&customerProjection{name: "analytics.followups", until: until, apply: func(ev eventstore.Event, _ string, e customer.Event) {
			b.FollowUps.Apply(ev, e)
		}},
	}
	if err := projections.Rebuild(ctx, store, dec, head, ps...); err != nil {
		return nil, err
	}
	lc.AdvanceTo(b.AsOf)
	ly.Refresh(b.AsOf)
	b.Events = events.Load()
	return b, nil
}

func passProgress(fn func(int, eventstore.Position), pass int) func(eventstore.Position) {
	if fn == nil {
		return nil
	}
	return func(p eventstore.Position) { fn(pass, p) }
}

// customerProjection applies the customer-stream events with occurredAt
// at or before until (zero: all) to a function.
type customerProjection struct {
	name     string
	until    time.Time
	types    []string
	apply    func(ev eventstore.Event, customerID string, e customer.Event)
	progress func(eventstore.Position)
	n        int
}

func (p *customerProjection) Name() string { return p.name }

func (p *customerProjection) Wants(t string) bool {
	if p.types != nil {
		return slices.Contains(p.types, t)
	}
	return customerTypes[t]
}

var customerTypes = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range customer.Events() {
		m[s.Type] = true
	}
	return m
}()

func (p *customerProjection) Apply(_ context.Context, d projections.Decoded) error {
	if p.n++; p.progress != nil && p.n%1024 == 0 {
		p.progress(d.Event.Position)
	}
	if !p.until.IsZero() && d.Event.OccurredAt.After(p.until) {
		return nil
	}
	id, ok := strings.CutPrefix(d.Event.StreamID, customer.StreamCategory+"-")
	if !ok {
		return nil
	}
	e, ok := d.Payload.(customer.Event)
	if !ok {
		return fmt.Errorf("analytics: payload %T of %s is not a customer event", d.Payload, d.Event.Type)
	}
	p.apply(d.Event, id, e)
	return nil
}

func (p *customerProjection) Digest() [32]byte { return [32]byte{} }

// Digests are the read models' digests (hex SHA-256).
type Digests struct {
	Lifecycle, Loyalty, Complaints, FollowUps, Transitions string
	// All hashes the others: equal logs and policies give equal All.
	All string
}

// Digest hashes every read model of the book.
func (b *Book) Digest() Digests {
	d := Digests{
		Lifecycle:   b.Lifecycle.Digest(),
		Loyalty:     loyaltyDigest(b.Loyalty),
		Complaints:  hexOf(b.Complaints.Digest()),
		FollowUps:   hexOf(b.FollowUps.Digest()),
		Transitions: hexOf(b.Transitions.Digest()),
	}
	h := sha256.New()
	for _, s := range []string{d.Lifecycle, d.Loyalty, d.Complaints, d.FollowUps, d.Transitions} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	d.All = hex.EncodeToString(h.Sum(nil))
	return d
}

func hexOf(b [32]byte) string { return hex.EncodeToString(b[:]) }

func loyaltyDigest(p *loyalty.Projector) string {
	es := p.Top(p.Len())
	slices.SortFunc(es, func(a, b loyalty.Entry) int { return strings.Compare(a.CustomerID, b.CustomerID) })
	h := sha256.New()
	for _, e := range es {
		fmt.Fprintf(h, "%s|%d|%s\n", e.CustomerID, e.Points, e.Level)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// RecoveryRate is the share of closed complaints resolved SATISFIED
// (service recovery that worked), 0–1; ok is false with no closed
// complaint.
func (b *Book) RecoveryRate() (rate float64, closed int, ok bool) {
	sat := 0
	b.Complaints.All(func(c complaints.Complaint) {
		if !c.Status.Closed() {
			return
		}
		closed++
		if c.Outcome != nil && *c.Outcome == customer.Satisfied {
			sat++
		}
	})
	if closed == 0 {
		return 0, 0, false
	}
	return float64(sat) / float64(closed), closed, true
}

// ChurnView adapts a fitted BG/NBD model (unit DAY) to the lifecycle's
// ChurnView, with the closed form for the instant P(alive) falls below a
// threshold.
func ChurnView(m churn.Model, fittedOn int) lifecycle.ChurnView {
	return churnView{m: m, n: fittedOn}
}

type churnView struct {
	m churn.Model
	n int
}

func (v churnView) FittedOn() int { return v.n }

func (v churnView) summary(h lifecycle.Purchases, t time.Time) churn.Summary {
	return ChurnSummary(h, t)
}

// ChurnSummary is the BG/NBD summary, in days, of a lifecycle purchase
// history at t: what the book's model is evaluated on for P(alive) and
// expected purchases.
func ChurnSummary(h lifecycle.Purchases, t time.Time) churn.Summary {
	x := float64(max(h.Days-1, 0))
	tx := h.Last.Sub(h.First).Hours() / 24
	T := max(t.Sub(h.First).Hours()/24, tx)
	if x == 0 {
		tx = 0
	}
	return churn.Summary{X: x, Tx: tx, T: T}
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
