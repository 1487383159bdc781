package followup_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/automation/followup"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/replenish"
)

// contacts is the consent and grievance count per customer, settable.
type contacts struct {
	mu sync.Mutex
	m  map[string][2]int // consent (0/1), grievances
}

func (c *contacts) set(id string, consent bool, grievances int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := 0
	if consent {
		v = 1
	}
	c.m[id] = [2]int{v, grievances}
}

func (c *contacts) Contact(id string) (bool, int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[id]
	return v[0] == 1, v[1], ok
}

// replenishEnv is env plus a real replenishment read model fed from the
// same store.
type replenishEnv struct {
	*env
	model *replenish.Model
	proj  projections.Projection
	cont  *contacts
}

func newReplenishEnv(t *testing.T, now time.Time) *replenishEnv {
	m, err := replenish.New(replenish.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &replenishEnv{env: newEnv(t, now), model: m, proj: projections.Adapt[customer.Event](m), cont: &contacts{m: map[string][2]int{}}}
}

func (r *replenishEnv) source(asOf, by time.Time) []followup.Replenishment {
	r.feed(r.proj, 0) // the read model is idempotent by purchase day
	var out []followup.Replenishment
	for _, d := range r.model.DueBy(asOf, by) {
		out = append(out, followup.Replenishment{CustomerID: d.CustomerID, Category: d.Category, Item: d.Item, LastPurchaseAt: d.LastPurchaseAt, ExpectedAt: d.ExpectedAt, Shape: d.Prior.K})
	}
	return out
}

func (r *replenishEnv) scheduler() *followup.Scheduler { return r.schedulerWith(nil) }

func (r *replenishEnv) schedulerWith(pol *followup.Policy) *followup.Scheduler {
	r.t.Helper()
	s, err := followup.New(followup.Deps{
		Commander:     followup.RepositoryCommander{Repo: r.repo},
		Calendar:      r.cal,
		Clock:         r.clock,
		Replenishment: followup.ReplenishmentFunc(r.source),
		Contacts:      r.cont,
	}, followup.Config{Policy: pol})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// buyer registers id with account manager am and consent, buying a 10 kg
// bag of rice every 30 days, the last one lastAgo before now.
func (r *replenishEnv) buyer(id string, consent bool, now time.Time, lastAgo time.Duration, extra func(h hist)) {
	r.write(id, func(c *customer.Customer) {
		h := hist{r.t, c}
		at := now.Add(-d(200))
		h.do(c.Register(customer.Register{Name: "n", Tier: customer.TierStandard, Timezone: "Asia/Shanghai", Locale: "zh-CN",
			AccountManager: "am-wang", MarketingConsent: consent, OccurredAt: at}, at))
		for i := 3; i >= 0; i-- {
			t := now.Add(-lastAgo - d(30*i))
			h.do(c.RecordPurchase(customer.RecordPurchase{OrderID: id + "-o" + string(rune('0'+i)), Items: []string{"rice:jasmine 10kg"},
				Amount: customer.Money{AmountMinor: 8900, Currency: "CNY"}, OccurredAt: t}, t))
		}
		if extra != nil {
			extra(h)
		}
	})
	grievances := 0
	if extra != nil {
		grievances = 1
	}
	r.cont.set(id, consent, grievances)
}

func TestReplenishmentFollowUps(t *testing.T) {
	now := time.Date(2025, 6, 4, 10, 0, 0, 0, cst) // a Wednesday
	r := newReplenishEnv(t, now)
	r.buyer("c1", true, now, d(28), nil)                                                        // due in ~2 days: booked
	r.buyer("c2", false, now, d(28), nil)                                                       // no consent
	r.buyer("c3", true, now, d(28), func(h hist) { h.file("cp3", "agent-li", now.Add(-d(2))) }) // open complaint
	r.buyer("c4", true, now, d(5), nil)                                                         // next bag in ~25 days: not yet
	r.buyer("c5", true, now, d(10), nil)                                                        // not yet
	r.buyer("c6", true, now, d(15), nil)                                                        // not yet

	s := r.scheduler()
	pos := r.drain(s, 0)
	got := r.followUps()
	if len(got) != 1 {
		t.Fatalf("follow-ups: got %v, want one for c1", got)
	}
	f := got[0]
	p, ok := r.model.PredictCategory("c1", "rice", now)
	if !ok {
		t.Fatal("no prediction for c1")
	}
	wantID := customer.ReplenishmentFollowUpID("c1", "rice", p.LastPurchaseAt)
	if f.Customer != "c1" || f.ID != wantID || f.Reason != "REPLENISHMENT" || f.Owner != "am-wang" || f.Complaint != "" {
		t.Fatalf("got %v, want c1/%s REPLENISHMENT owner=am-wang", f, wantID)
	}
	lead := followup.DefaultPolicy().ReplenishLead
	if latest := p.ExpectedAt.Add(-lead); dateOf(latest).Before(dateOf(f.Due)) || dateOf(f.Due).Before(dateOf(latest).AddDays(-4)) || f.Due.In(cst).Hour() != 9 || !r.cal.IsWorkday(dateOf(f.Due)) {
		t.Fatalf("due %v: want 09:00 of the working day on or before %v (expected %v − %v)", f.Due.In(cst), latest.In(cst), p.ExpectedAt, lead)
	}
	c, err := r.repo.Load(context.Background(), "c1")
	must(t, err)
	fu, _ := c.FollowUp(f.ID)
	if !strings.Contains(fu.Note, "rice") || !strings.Contains(fu.Note, "jasmine 10kg") {
		t.Fatalf("note %q: want the category and the item", fu.Note)
	}

	// Booked once: more ticks, a later clock, a restart from a snapshot
	// and a replay from zero plan nothing new.
	for range 3 {
		must(t, s.Tick(context.Background(), now))
	}
	r.mu.Lock()
	r.now = now.Add(6 * time.Hour)
	r.mu.Unlock()
	pos = r.drain(s, pos)
	snap, err := s.Snapshot()
	must(t, err)
	restarted := r.scheduler()
	must(t, restarted.Restore(snap))
	pos = r.drain(restarted, pos)
	fresh := r.scheduler()
	r.drain(fresh, 0)
	if got := r.followUps(); len(got) != 1 {
		t.Fatalf("after ticks, restart and replay: %v, want the one follow-up", got)
	}
	if st := fresh.Stats(); st.Scheduled != 0 {
		t.Fatalf("replay from zero scheduled %d follow-ups, want 0 (stats %+v)", st.Scheduled, st)
	}
	_ = pos
}

func dateOf(t time.Time) calendar.Date { return calendar.DateOf(t.In(cst)) }

func TestReplenishmentDroppedWhenNoLongerContactable(t *testing.T) {
	now := time.Date(2025, 6, 4, 10, 0, 0, 0, cst)
	r := newReplenishEnv(t, now)
	for _, id := range []string{"c1", "c2", "c3", "c4", "c5"} {
		r.buyer(id, true, now, d(28), nil)
	}
	s := r.scheduler()
	pos := r.drain(s, 0)
	if got := len(r.followUps()); got != 5 {
		t.Fatalf("got %d follow-ups, want 5", got)
	}
	// A new cycle for c1 (bought again 30 days later) while c1 has a
	// grievance: no call; c2 withdrew consent: no call.
	later := now.Add(d(30))
	r.mu.Lock()
	r.now = later
	r.mu.Unlock()
	for _, id := range []string{"c1", "c2", "c3"} {
		c, err := r.repo.Load(context.Background(), id)
		must(t, err)
		at := now.Add(d(2))
		must(t, c.RecordPurchase(customer.RecordPurchase{OrderID: id + "-new", Items: []string{"rice:jasmine 10kg"}, Amount: customer.Money{AmountMinor: 8900, Currency: "CNY"}, OccurredAt: at}, at))
		r.appendChanges(id, c)
	}
	r.cont.set("c1", true, 1)
	r.cont.set("c2", false, 0)
	r.drain(s, pos)
	byCustomer := map[string]int{}
	for _, f := range r.followUps() {
		byCustomer[f.Customer]++
	}
	if byCustomer["c1"] != 1 || byCustomer["c2"] != 1 || byCustomer["c3"] != 2 {
		t.Fatalf("follow-ups per customer %v: want c1 1 (grievance), c2 1 (no consent), c3 2 (new cycle)", byCustomer)
	}
}

// A category bought without a rhythm (prior shape below
// ReplenishMinShape) gets no calls; the same book with the default does.
func TestReplenishmentOnlyForRhythmicCategories(t *testing.T) {
	now := time.Date(2025, 6, 4, 10, 0, 0, 0, cst)
	for _, tt := range []struct {
		minShape float64
		want     int
	}{{2, 5}, {1e9, 0}} {
		r := newReplenishEnv(t, now)
		for _, id := range []string{"c1", "c2", "c3", "c4", "c5"} {
			r.buyer(id, true, now, d(28), nil)
		}
		p, ok := r.model.PredictCategory("c1", "rice", now)
		pol := followup.DefaultPolicy()
		pol.ReplenishMinShape = tt.minShape
		r.drain(r.schedulerWith(&pol), 0)
		if got := len(r.followUps()); got != tt.want {
			t.Errorf("ReplenishMinShape %v (prior k = %v, %v): %d follow-ups, want %d", tt.minShape, p.Prior.K, ok, got, tt.want)
		}
	}
}

func TestReplenishmentPolicyValidation(t *testing.T) {
	for _, f := range []func(*followup.Policy){
		func(p *followup.Policy) { p.ReplenishLead = -followup.Day },
		func(p *followup.Policy) { p.ReplenishLead = 61 * followup.Day },
		func(p *followup.Policy) { p.ReplenishMinShape = 0.5 },
	} {
		p := followup.DefaultPolicy()
		f(&p)
		if err := p.Validate(); !errors.Is(err, followup.ErrInvalidConfig) {
			t.Errorf("%+v: Validate = %v, want ErrInvalidConfig", p, err)
		}
	}
	if err := followup.DefaultPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
}
