package followup_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/automation/followup"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

var cst = time.FixedZone("CST", 8*3600)

// env is a store, a repository at a settable clock, and a scheduler fed
// from the store the way the runtime feeds it (decoded events in log order).
type env struct {
	t     testing.TB
	store *memstore.Store
	codec *codec.Codec
	repo  *command.Customers
	cal   *calendar.WorkingCalendar

	mu     sync.Mutex
	now    time.Time
	stages map[string]lifecycle.Stage
}

func newEnv(t testing.TB, now time.Time) *env {
	t.Helper()
	e := &env{t: t, store: memstore.New(memstore.Options{}), now: now, stages: map[string]lifecycle.Stage{},
		cal: calendar.MustNewWorkingCalendar(calendar.WorkingCalendarConfig{Location: cst})}
	c, err := codec.New(codec.Options{}, codec.SpecsOf(customer.Events()))
	if err != nil {
		t.Fatal(err)
	}
	e.codec = c
	e.repo, err = command.NewCustomers(command.Config{Store: e.store, Codec: c, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) stageOf(id string) (lifecycle.Stage, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.stages[id]
	return s, ok
}

func (e *env) scheduler(pol *followup.Policy) *followup.Scheduler {
	e.t.Helper()
	s, err := followup.New(followup.Deps{
		Commander: followup.RepositoryCommander{Repo: e.repo},
		Calendar:  e.cal,
		Stages:    followup.StageFunc(e.stageOf),
		Clock:     e.clock,
	}, followup.Config{Policy: pol})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// write appends a customer's history built by verbs on the aggregate.
func (e *env) write(id string, build func(c *customer.Customer)) {
	e.t.Helper()
	c, err := customer.New(id)
	if err != nil {
		e.t.Fatal(err)
	}
	build(c)
	e.appendChanges(id, c)
}

func (e *env) appendChanges(id string, c *customer.Customer) {
	e.t.Helper()
	ctx := context.Background()
	stream := e.repo.Stream(id)
	var recs []eventstore.Record
	for _, ch := range c.Changes() {
		rec, err := e.codec.Encode(ctx, stream, ch.Event, codec.Envelope{OccurredAt: ch.OccurredAt})
		if err != nil {
			e.t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return
	}
	exp := eventstore.NoStream()
	if rev, ok := c.Version(); ok {
		exp = eventstore.Exact(rev)
	}
	if _, err := e.store.Append(ctx, stream, exp, recs...); err != nil {
		e.t.Fatal(err)
	}
}

// feed applies the events after pos to s and returns the new position.
func (e *env) feed(s projections.Projection, pos eventstore.Position) eventstore.Position {
	return e.feedTo(s, pos, 0)
}

var errLimit = errors.New("limit reached")

// feedTo is feed up to and including position limit (0: no limit).
func (e *env) feedTo(s projections.Projection, pos, limit eventstore.Position) eventstore.Position {
	e.t.Helper()
	ctx := context.Background()
	f, _ := s.(projections.Filter)
	err := e.store.ReadAll(ctx, pos, func(ev eventstore.Event) error {
		if limit != 0 && ev.Position > limit {
			return errLimit
		}
		pos = ev.Position
		if f != nil && !f.Wants(ev.Type) {
			return nil
		}
		d, err := e.codec.Decode(ctx, ev)
		if err != nil {
			return err
		}
		return s.Apply(ctx, projections.Decoded{Event: ev, Payload: d.Payload})
	})
	if err != nil && !errors.Is(err, errLimit) {
		e.t.Fatal(err)
	}
	return pos
}

// drain feeds and ticks until the log stops growing.
func (e *env) drain(s *followup.Scheduler, pos eventstore.Position) eventstore.Position {
	e.t.Helper()
	for range 20 {
		pos = e.feed(s, pos)
		if err := s.Tick(context.Background(), e.clock()); err != nil {
			e.t.Fatal(err)
		}
		head, _ := e.store.Head(context.Background())
		if head == pos {
			return pos
		}
	}
	e.t.Fatal("scheduler does not settle")
	return pos
}

// fu is a follow-up as found in the log.
type fu struct {
	Customer, ID, Complaint, Reason, Owner string
	Due                                    time.Time
}

func (f fu) String() string {
	return fmt.Sprintf("%s/%s %s %s owner=%s due=%s", f.Customer, f.ID, f.Complaint, f.Reason, f.Owner, f.Due.In(cst).Format("2006-01-02 15:04"))
}

// followUps lists every FollowUpScheduled in the log and fails on a
// duplicate ID within a customer.
func (e *env) followUps() []fu {
	e.t.Helper()
	ctx := context.Background()
	var out []fu
	seen := map[string]bool{}
	err := e.store.ReadAll(ctx, 0, func(ev eventstore.Event) error {
		if ev.Type != customer.TypeFollowUpScheduled {
			return nil
		}
		d, err := e.codec.Decode(ctx, ev)
		if err != nil {
			return err
		}
		p := d.Payload.(*customer.FollowUpScheduled)
		cid := ev.StreamID[len("customer-"):]
		k := cid + "/" + p.FollowUpID
		if seen[k] {
			return fmt.Errorf("duplicate follow-up %s", k)
		}
		seen[k] = true
		out = append(out, fu{cid, p.FollowUpID, p.ComplaintID, p.Reason.String(), p.Owner, p.DueAt})
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Customer+"/"+out[i].ID < out[j].Customer+"/"+out[j].ID })
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var replyClock = customer.ReplyClockFunc(func(t time.Time) (time.Time, bool) { return t.Add(4 * time.Hour), false })

// verbs for building histories; each fails the test on refusal.
type hist struct {
	t testing.TB
	c *customer.Customer
}

func (h hist) do(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h hist) register(am string, at time.Time) {
	h.do(h.c.Register(customer.Register{Name: "n", Tier: customer.TierStandard, Timezone: "Asia/Shanghai", Locale: "zh-CN", AccountManager: am, OccurredAt: at}, at))
}

func (h hist) file(id, owner string, at time.Time) {
	h.do(h.c.FileComplaint(customer.FileComplaint{ComplaintID: id, Channel: customer.ChannelPhone, Category: "delivery", Severity: customer.SeverityGeneral,
		Description: "late", Owner: owner, OccurredAt: at}, replyClock, at))
	h.do(h.c.AcknowledgeComplaint(customer.AcknowledgeComplaint{ComplaintID: id, By: owner, OccurredAt: at.Add(time.Hour)}, at.Add(time.Hour)))
}

func (h hist) resolve(id string, o customer.Outcome, at time.Time) {
	h.do(h.c.ResolveComplaint(customer.ResolveComplaint{ComplaintID: id, By: "x", Outcome: o, OccurredAt: at}, at))
}
