package analytics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/churn"
	"github.com/kefu-crm/kefu/projections/complaints"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/readmodels"
)

// ReplayConfig configures Replay.
type ReplayConfig struct {
	// Policy is the lifecycle policy (lifecycle.DefaultPolicy() if zero).
	Policy lifecycle.Policy
	// Until, if not zero, replays the book as it stood at that instant of
	// business time: only events with occurredAt ≤ Until count, and the
	// clock stops at Until (time-driven changes up to it fire). Zero means
	// the whole log, with the clock at the latest occurredAt of any event
	// in it — never the wall clock, so that the same log always gives the
	// same book. Either way DORMANT is judged with the book's churn model
	// (churn.PurchaseDays.FitBook), as everywhere else.
	Until time.Time
	// Progress, if set, is called with the pass (1: purchases for the churn
	// fit, 2: every read model) and the global position reached.
	Progress func(pass int, pos eventstore.Position)
}

// Book is the read models kefu serve answers from (readmodels.Set),
// rebuilt from the log as of an instant.
type Book struct {
	// AsOf is the instant the book stands at.
	AsOf time.Time
	*readmodels.Set
	// Model is the book's BG/NBD fit (in days) used for DORMANT; nil when
	// there were too few customers or the fit failed (ModelErr).
	Model    *churn.Model
	ModelErr error
	// Events is the number of customer events applied.
	Events int64
	// Head is the log's head when the replay began.
	Head eventstore.Position
}

// Replay rebuilds the server's read-model set (readmodels.Set) from store
// without writing to it: a first pass over the envelopes collects every
// customer's purchase days and fits the book's churn model (the whole log,
// as of its latest purchase day — the model the live server decides
// DORMANT with), a second pass folds every event up to the cut-off into
// the read models.
func Replay(ctx context.Context, store eventstore.Store, dec projections.Decoder, cfg ReplayConfig) (*Book, error) {
	if cfg.Policy == (lifecycle.Policy{}) {
		cfg.Policy = lifecycle.DefaultPolicy()
	}
	head, err := store.Head(ctx)
	if err != nil {
		return nil, err
	}
	set, err := readmodels.New(cfg.Policy, nil)
	if err != nil {
		return nil, err
	}
	set.UseLog(store, dec)
	until := cfg.Until
	b := &Book{Head: head, Set: set}

	// Pass 1, over the envelopes alone (no decoding): every purchase day
	// of the whole log for the book's model, and the latest occurredAt of
	// any event up to the cut-off — the instant the book stands at.
	all := churn.NewPurchaseDays()
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
				all.Add(id, at)
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
	if m, fitted, asOf, err := all.FitBook(ctx); err == nil {
		b.Model = &m
		set.UseChurn(m, fitted, asOf)
	} else {
		b.ModelErr = err
	}

	// Pass 2: every read model, up to the cut-off.
	var events atomic.Int64
	counter := &eventCounter{n: &events, progress: passProgress(cfg.Progress, 2)}
	ps := append(set.Projections(), counter)
	if !until.IsZero() {
		for i := range ps {
			ps[i] = projections.Until(ps[i], until)
		}
	}
	if err := projections.Rebuild(ctx, store, dec, head, ps...); err != nil {
		return nil, err
	}
	set.AdvanceTo(b.AsOf)
	b.Events = events.Load()
	return b, nil
}

func passProgress(fn func(int, eventstore.Position), pass int) func(eventstore.Position) {
	if fn == nil {
		return nil
	}
	return func(p eventstore.Position) { fn(pass, p) }
}

// eventCounter counts the customer events a replay applies and reports
// progress.
type eventCounter struct {
	n        *atomic.Int64
	progress func(eventstore.Position)
}

func (*eventCounter) Name() string        { return "analytics.events" }
func (*eventCounter) Wants(t string) bool { return customer.IsEventType(t) }
func (*eventCounter) Digest() [32]byte    { return [32]byte{} }
func (c *eventCounter) Apply(_ context.Context, d projections.Decoded) error {
	if k := c.n.Add(1); c.progress != nil && k%1024 == 0 {
		c.progress(d.Event.Position)
	}
	return nil
}

// Digests are the read models' digests (hex SHA-256).
type Digests struct {
	Lifecycle, Loyalty, Complaints, FollowUps, Transitions string
	// All hashes the others: equal logs and policies give equal All.
	All string
}

// Digest hashes the book's read models.
func (b *Book) Digest() Digests {
	by := map[string]string{}
	for _, p := range b.Projections() {
		d := p.Digest()
		by[p.Name()] = hex.EncodeToString(d[:])
	}
	t := b.Transitions.Digest()
	d := Digests{
		Lifecycle: by["lifecycle"], Loyalty: by["loyalty"], Complaints: by["complaints"], FollowUps: by["followups"],
		Transitions: hex.EncodeToString(t[:]),
	}
	h := sha256.New()
	for _, s := range []string{d.Lifecycle, d.Loyalty, d.Complaints, d.FollowUps, d.Transitions} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	d.All = hex.EncodeToString(h.Sum(nil))
	return d
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
