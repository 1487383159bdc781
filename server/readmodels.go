package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/analytics"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/campaigns"
	"github.com/kefu-crm/kefu/projections/complaints"
	"github.com/kefu-crm/kefu/projections/customers"
	"github.com/kefu-crm/kefu/projections/followups"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/loyalty"
	"github.com/kefu-crm/kefu/projections/servicereport"
)

// readModels is the set of read models the API answers from. They hold no
// state but what the log gives them, so a fresh set rebuilt from the log
// must equal the live one (VerifyRebuild).
type readModels struct {
	book    *customers.Model
	compl   *complaints.Model
	fups    *followups.Model
	life    *lifecycle.Projector
	loyal   *loyalty.Projector
	camps   *campaigns.Model
	surveys *servicereport.Surveys
	// trans logs every stage change (fed by the lifecycle's hook) for
	// the lifecycle report; days keeps purchase days for churn as of any
	// instant.
	trans *analytics.Transitions
	days  *analytics.PurchaseDays
	// lifeMu serialises what moves the lifecycle — applying an event,
	// advancing the clock — with a rebase replacing it (churn.go);
	// lifePos is the position of the last event it applied.
	lifeMu  sync.Mutex
	lifePos eventstore.Position
}

// lifePosition is the position of the last event the lifecycle applied.
func (m *readModels) lifePosition() eventstore.Position {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	return m.lifePos
}

// advanceLife moves the lifecycle's clock to now.
func (m *readModels) advanceLife(now time.Time) {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	m.life.AdvanceTo(now)
}

// newReadModels builds an empty set; onChange (may be nil) hears every
// lifecycle stage change.
func newReadModels(policy lifecycle.Policy, onChange func(string, lifecycle.StageChange)) (*readModels, error) {
	m := &readModels{book: customers.New(), compl: complaints.New(), fups: followups.New(), camps: campaigns.New(),
		surveys: servicereport.NewSurveys(), trans: analytics.NewTransitions(), days: analytics.NewPurchaseDays()}
	hook := m.trans.Record
	if onChange != nil {
		hook = func(id string, c lifecycle.StageChange) {
			m.trans.Record(id, c)
			onChange(id, c)
		}
	}
	var err error
	if m.life, err = lifecycle.New(lifecycle.Config{Policy: policy, OnChange: hook}); err != nil {
		return nil, err
	}
	if m.loyal, err = loyalty.New(loyalty.DefaultConfig()); err != nil {
		return nil, err
	}
	return m, nil
}

// projections lists the read models for the runtime, under their
// permanent names.
func (m *readModels) projections() []projections.Projection {
	return []projections.Projection{
		customerProjection("customers", m.book.Apply, m.book.Digest),
		customerProjection("complaints", m.compl.Apply, m.compl.Digest,
			customer.TypeComplaintFiled, customer.TypeComplaintAcknowledged, customer.TypeComplaintEscalated,
			customer.TypeComplaintDeclined, customer.TypeComplaintTransferred, customer.TypeResolutionProposed,
			customer.TypeResolutionAccepted, customer.TypeRecoveryStepTaken, customer.TypeComplaintResolved,
			customer.TypeComplaintReopened, customer.TypeIncidentReportFiled, customer.TypeContactLogged,
			customer.TypeCustomerErased),
		customerProjection("followups", m.fups.Apply, m.fups.Digest,
			customer.TypeFollowUpScheduled, customer.TypeFollowUpCompleted, customer.TypeFollowUpCancelled,
			customer.TypeCustomerErased),
		customerProjection("lifecycle", func(ev eventstore.Event, e customer.Event) {
			m.lifeMu.Lock()
			defer m.lifeMu.Unlock()
			m.life.Apply(customerIDOf(ev), lifecycle.Fact{At: ev.OccurredAt, Event: e})
			m.lifePos = ev.Position
		}, hexDigest(m.life.Digest)),
		customerProjection("loyalty", func(ev eventstore.Event, e customer.Event) {
			m.loyal.Apply(customerIDOf(ev), lifecycle.Fact{At: ev.OccurredAt, Event: e})
		}, loyaltyDigest(m.loyal)),
		m.camps,
		projections.Adapt[customer.Event](m.surveys),
		projections.Adapt[customer.Event](m.days),
	}
}

// DigestCheck compares one read model's live digest with a rebuild's.
type DigestCheck struct {
	Name     string
	Live     [32]byte
	Rebuilt  [32]byte
	Position eventstore.Position
}

// Equal reports whether the rebuild matches the live read model.
func (c DigestCheck) Equal() bool { return c.Live == c.Rebuilt }

// VerifyRebuild rebuilds every read model from zero into a fresh set, up
// to the position the live ones have applied, and compares digests. Both
// sets are moved to the same clock first (stages and scores move with
// time). Call it when the log is quiet (the live models must all sit at
// one position); it returns an error otherwise.
func (s *Server) VerifyRebuild(ctx context.Context) ([]DigestCheck, error) {
	head, err := s.dir.Store.Head(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.runtime.WaitFor(ctx, head); err != nil {
		return nil, err
	}
	fresh, err := newReadModels(s.policy, nil)
	if err != nil {
		return nil, err
	}
	// The rebuild folds under the model in use from the start, as a
	// rebase does.
	if v := s.churn.view(); v != nil {
		fresh.life.SetChurn(v)
	}
	if err := projections.Rebuild(ctx, s.dir.Store, s.decoder(), head, fresh.projections()...); err != nil {
		return nil, err
	}
	now := s.clock()
	for _, rm := range []*readModels{s.readModels, fresh} {
		rm.advanceLife(now)
		rm.loyal.Refresh(now)
	}
	live := s.readModels.projections()
	rebuilt := fresh.projections()
	out := make([]DigestCheck, len(live))
	for i := range live {
		out[i] = DigestCheck{Name: live[i].Name(), Live: live[i].Digest(), Rebuilt: rebuilt[i].Digest(), Position: head}
	}
	if h2, err := s.dir.Store.Head(ctx); err == nil && h2 != head {
		return out, fmt.Errorf("server: the log moved from %d to %d during the check; run it when the log is quiet", head, h2)
	}
	return out, nil
}

// ReadModels returns a fresh, empty set of the read models kefu serve
// answers from, as projections under their permanent names — for tools
// and benchmarks that rebuild them outside a running server.
func ReadModels(policy lifecycle.Policy) ([]projections.Projection, error) {
	m, err := newReadModels(policy, nil)
	if err != nil {
		return nil, err
	}
	return m.projections(), nil
}
