// Package readmodels is the set of read models kefu answers from — the
// book of customers, complaints, follow-ups, lifecycle stages and their
// transitions, loyalty, campaigns, surveys, purchase days and replenishment
// predictions — and the one churn model the lifecycle decides DORMANT with. `kefu serve` runs it live
// on the projection runtime; `kefu replay` and the rebuild check fold the
// log into a fresh one; both are this same set, so they cannot disagree.
//
// The read models hold no state but what the log gives them: a fresh set
// rebuilt from the log equals the live one (Digests).
package readmodels

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/campaigns"
	"github.com/kefu-crm/kefu/projections/churn"
	"github.com/kefu-crm/kefu/projections/complaints"
	"github.com/kefu-crm/kefu/projections/customers"
	"github.com/kefu-crm/kefu/projections/followups"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/loyalty"
	"github.com/kefu-crm/kefu/projections/replenish"
	"github.com/kefu-crm/kefu/projections/servicereport"
	"github.com/kefu-crm/kefu/projections/transitions"
)

// Set is every read model. Its fields are the read models themselves;
// queries read them directly (each is safe for concurrent use). Move the
// lifecycle's clock with AdvanceTo, never on Lifecycle directly: a rebase
// on a new churn model replaces the lifecycle under the same lock.
type Set struct {
	Customers    *customers.Model
	Complaints   *complaints.Model
	FollowUps    *followups.Model
	Lifecycle    *lifecycle.Projector
	Loyalty      *loyalty.Projector
	Campaigns    *campaigns.Model
	Surveys      *servicereport.Surveys
	Transitions  *transitions.Log
	PurchaseDays *churn.PurchaseDays
	// Replenish predicts each customer's next purchase per item category.
	Replenish *replenish.Model
	// Churn is the book's churn model in use (see Churn).
	Churn *Churn

	policy lifecycle.Policy
	// lifeMu serialises what moves the lifecycle — applying an event,
	// advancing the clock — with a rebase replacing it; lifePos is the
	// position of the last event it applied.
	lifeMu  sync.Mutex
	lifePos eventstore.Position
	// log is read for the union history a merge folds (UseLog).
	log *logReader
}

// New builds an empty set under policy; onChange (may be nil) hears every
// lifecycle stage change as it happens live (the follow-up scheduler's
// "entered SILENT"); the transitions log always does.
func New(policy lifecycle.Policy, onChange func(string, lifecycle.StageChange)) (*Set, error) {
	s := &Set{
		Customers: customers.New(), Complaints: complaints.New(), FollowUps: followups.New(), Campaigns: campaigns.New(),
		Surveys: servicereport.NewSurveys(), Transitions: transitions.New(), PurchaseDays: churn.NewPurchaseDays(),
		Churn: &Churn{}, policy: policy,
	}
	hook := s.Transitions.Record
	if onChange != nil {
		hook = func(id string, c lifecycle.StageChange) {
			s.Transitions.Record(id, c)
			onChange(id, c)
		}
	}
	var err error
	if s.Lifecycle, err = lifecycle.New(lifecycle.Config{Policy: policy, OnChange: hook}); err != nil {
		return nil, err
	}
	if s.Loyalty, err = loyalty.New(loyalty.DefaultConfig()); err != nil {
		return nil, err
	}
	if s.Replenish, err = replenish.New(replenish.DefaultConfig()); err != nil {
		return nil, err
	}
	return s, nil
}

// Policy is the lifecycle policy the set was built with.
func (s *Set) Policy() lifecycle.Policy { return s.policy }

// Projections lists the read models for the runtime (or a rebuild), under
// their permanent names; each declares the event types it folds.
func (s *Set) Projections() []projections.Projection {
	return []projections.Projection{
		projections.Adapt[customer.Event](s.Customers),
		projections.Adapt[customer.Event](s.Complaints),
		projections.Adapt[customer.Event](s.FollowUps),
		lifecycleModel{s},
		loyaltyModel{s},
		s.Campaigns,
		projections.Adapt[customer.Event](s.Surveys),
		projections.Adapt[customer.Event](s.PurchaseDays),
		projections.Adapt[customer.Event](s.Replenish),
	}
}

// AdvanceTo moves the time-driven read models (stages, loyalty) to now.
func (s *Set) AdvanceTo(now time.Time) {
	s.AdvanceLifecycle(now)
	s.Loyalty.Refresh(now)
}

// AdvanceLifecycle moves the lifecycle's clock to now (firing the stage
// changes due by then).
func (s *Set) AdvanceLifecycle(now time.Time) {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.Lifecycle.AdvanceTo(now)
}

// lifecyclePosition is the position of the last event the lifecycle
// applied.
func (s *Set) lifecyclePosition() eventstore.Position {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.lifePos
}

// lifecycleModel folds customer events into the lifecycle projector (a
// merge reads the union history from the log: merged.go).
type lifecycleModel struct{ s *Set }

func (lifecycleModel) Name() string        { return "lifecycle" }
func (lifecycleModel) Wants(t string) bool { return customer.IsEventType(t) }
func (m lifecycleModel) Digest() [32]byte  { return hexDigest(m.s.Lifecycle.Digest()) }
func (m lifecycleModel) Apply(ctx context.Context, d projections.Decoded) error {
	e, ok := d.Payload.(customer.Event)
	if !ok {
		return fmt.Errorf("readmodels: lifecycle: payload %T of %s at position %d is not a customer event", d.Payload, d.Event.Type, d.Event.Position)
	}
	m.s.lifeMu.Lock()
	defer m.s.lifeMu.Unlock()
	if err := foldLifecycle(ctx, m.s.Lifecycle, m.s.log, d.Event, e); err != nil {
		return err
	}
	m.s.lifePos = d.Event.Position
	return nil
}

// loyaltyModel folds customer events into the loyalty projector; a merge
// rescores the survivor over the union history (merged.go).
type loyaltyModel struct{ s *Set }

func (loyaltyModel) Name() string        { return "loyalty" }
func (loyaltyModel) Wants(t string) bool { return customer.IsEventType(t) }
func (m loyaltyModel) Apply(ctx context.Context, d projections.Decoded) error {
	e, ok := d.Payload.(customer.Event)
	if !ok {
		return fmt.Errorf("readmodels: loyalty: payload %T of %s at position %d is not a customer event", d.Payload, d.Event.Type, d.Event.Position)
	}
	return foldLoyalty(ctx, m.s.Loyalty, m.s.logReader(), d.Event, e)
}

// Digest hashes the score index (the top of every bucket, in order).
func (m loyaltyModel) Digest() [32]byte {
	h := sha256.New()
	p := m.s.Loyalty
	entries := p.Top(p.Len())
	slices.SortFunc(entries, func(a, b loyalty.Entry) int {
		switch {
		case a.CustomerID < b.CustomerID:
			return -1
		case a.CustomerID > b.CustomerID:
			return 1
		}
		return 0
	})
	for _, e := range entries {
		fmt.Fprintf(h, "%s|%d|%s\n", e.CustomerID, e.Points, e.Level)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// CustomerIDOf is the customer ID of an event of a customer stream.
func CustomerIDOf(ev eventstore.Event) string {
	_, id, _ := strings.Cut(ev.StreamID, "-")
	return id
}

func hexDigest(s string) [32]byte {
	var out [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return sha256.Sum256([]byte(s))
	}
	copy(out[:], b)
	return out
}

// DigestCheck compares one read model's digest in two sets.
type DigestCheck struct {
	Name     string
	Live     [32]byte
	Rebuilt  [32]byte
	Position eventstore.Position
}

// Equal reports whether the two digests match.
func (c DigestCheck) Equal() bool { return c.Live == c.Rebuilt }

// Compare moves both sets to now and compares every read model's digest;
// head is the position both have applied.
func Compare(live, rebuilt *Set, now time.Time, head eventstore.Position) []DigestCheck {
	for _, s := range []*Set{live, rebuilt} {
		s.AdvanceTo(now)
	}
	a, b := live.Projections(), rebuilt.Projections()
	out := make([]DigestCheck, len(a))
	for i := range a {
		out[i] = DigestCheck{Name: a[i].Name(), Live: a[i].Digest(), Rebuilt: b[i].Digest(), Position: head}
	}
	return out
}

// Rebuild folds the log up to head into s (fresh), under the churn model
// view (nil: none) from the start, as a rebase does.
func (s *Set) Rebuild(ctx context.Context, store eventstore.Store, dec projections.Decoder, head eventstore.Position, view lifecycle.ChurnView) error {
	if view != nil {
		s.Lifecycle.SetChurn(view)
	}
	s.UseLog(store, dec)
	return projections.Rebuild(ctx, store, dec, head, s.Projections()...)
}

// PlainDecoder decodes every event the set folds — customer and campaign
// events — without opening personal data (it reads as sealed): for
// replays, rebuild checks and rebases, which show no personal data and
// must not touch the keystore.
func PlainDecoder() (projections.Decoder, error) {
	c, err := codec.New(codec.Options{}, codec.SpecsOf(customer.Events()), codec.SpecsOf(campaign.Events()))
	if err != nil {
		return nil, err
	}
	return projections.DecoderFunc(func(ctx context.Context, ev eventstore.Event) (any, error) {
		d, err := c.Decode(ctx, ev)
		return d.Payload, err
	}), nil
}
