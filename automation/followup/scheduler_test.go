package followup_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/automation/followup"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

func d(n int) time.Duration { return time.Duration(n) * followup.Day }

func TestScheduler(t *testing.T) {
	// Mon 2025-06-02 10:00 +08:00: no major holiday within 14 days.
	now := time.Date(2025, 6, 2, 10, 0, 0, 0, cst)
	res := now.Add(-d(1)) // resolved yesterday
	type stage struct {
		customer string
		change   lifecycle.StageChange
		current  lifecycle.Stage
	}
	tests := []struct {
		name   string
		now    time.Time
		given  func(e *env)
		stages []stage
		then   []fu
		stats  followup.Stats
	}{
		{
			name: "SATISFIED: recovery at +3 and +30 days, complaint owner",
			given: func(e *env) {
				e.write("c1", func(c *customer.Customer) {
					h := hist{e.t, c}
					h.register("am-wang", now.Add(-d(30)))
					h.file("cp1", "agent-li", now.Add(-d(5)))
					h.resolve("cp1", customer.Satisfied, res)
				})
			},
			then: []fu{
				{"c1", "fu-cp1-1", "cp1", "RECOVERY", "agent-li", res.Add(d(3))},
				{"c1", "fu-cp1-2", "cp1", "RECOVERY", "agent-li", res.Add(d(30))},
			},
			stats: followup.Stats{Planned: 2, Scheduled: 2},
		},
		{
			name: "UNSATISFIED: one recovery at +7 days; a transfer moves the owner",
			given: func(e *env) {
				e.write("c1", func(c *customer.Customer) {
					h := hist{e.t, c}
					h.register("am-wang", now.Add(-d(30)))
					h.file("cp1", "agent-li", now.Add(-d(5)))
					h.do(c.TransferComplaint(customer.TransferComplaint{ComplaintID: "cp1", By: "m", To: "agent-wu", Reason: "shift", OccurredAt: now.Add(-d(4))}, now))
					h.resolve("cp1", customer.Unsatisfied, res)
				})
			},
			then:  []fu{{"c1", "fu-cp1-1", "cp1", "RECOVERY", "agent-wu", res.Add(d(7))}},
			stats: followup.Stats{Planned: 1, Scheduled: 1},
		},
		{
			name: "reopened and resolved again: the numbering continues",
			given: func(e *env) {
				e.write("c1", func(c *customer.Customer) {
					h := hist{e.t, c}
					h.register("am-wang", now.Add(-d(30)))
					h.file("cp1", "agent-li", now.Add(-d(6)))
					h.resolve("cp1", customer.Unsatisfied, now.Add(-d(5)))
					h.do(c.ReopenComplaint(customer.ReopenComplaint{ComplaintID: "cp1", By: "agent-li", OccurredAt: now.Add(-d(4))}, now))
					h.resolve("cp1", customer.Satisfied, res)
				})
			},
			then: []fu{
				{"c1", "fu-cp1-1", "cp1", "RECOVERY", "agent-li", now.Add(-d(5)).Add(d(7))},
				{"c1", "fu-cp1-2", "cp1", "RECOVERY", "agent-li", res.Add(d(3))},
				{"c1", "fu-cp1-3", "cp1", "RECOVERY", "agent-li", res.Add(d(30))},
			},
			stats: followup.Stats{Planned: 3, Scheduled: 3},
		},
		{
			name: "history already has the follow-ups: nothing is scheduled twice",
			given: func(e *env) {
				e.write("c1", func(c *customer.Customer) {
					h := hist{e.t, c}
					h.register("am-wang", now.Add(-d(30)))
					h.file("cp1", "agent-li", now.Add(-d(5)))
					h.resolve("cp1", customer.Satisfied, res)
					for k, off := range []time.Duration{d(3), d(30)} {
						h.do(c.ScheduleFollowUp(customer.ScheduleFollowUp{FollowUpID: customer.RecoveryFollowUpID("cp1", k+1), ComplaintID: "cp1",
							Reason: customer.ReasonRecovery, DueAt: res.Add(off), OccurredAt: res.Add(time.Minute)}, now))
					}
				})
			},
			then: []fu{
				{"c1", "fu-cp1-1", "cp1", "RECOVERY", "agent-li", res.Add(d(3))},
				{"c1", "fu-cp1-2", "cp1", "RECOVERY", "agent-li", res.Add(d(30))},
			},
			stats: followup.Stats{Planned: 2, Cancelled: 2},
		},
		{
			name: "stale: a follow-up due more than 7 days ago is never scheduled",
			given: func(e *env) {
				e.write("c1", func(c *customer.Customer) {
					h := hist{e.t, c}
					h.register("am-wang", now.Add(-d(90)))
					h.file("cp1", "agent-li", now.Add(-d(60)))
					h.resolve("cp1", customer.Satisfied, now.Add(-d(20))) // +3 is 17 days late, +30 is in 10 days
				})
			},
			then:  []fu{{"c1", "fu-cp1-2", "cp1", "RECOVERY", "agent-li", now.Add(-d(20)).Add(d(30))}},
			stats: followup.Stats{Planned: 1, Scheduled: 1, Stale: 1},
		},
		{
			name: "UNSATISFIED and NO_ANSWER outcomes: one more try at +3 days, at most two, same owner",
			given: func(e *env) {
				e.write("c1", func(c *customer.Customer) {
					h := hist{e.t, c}
					h.register("am-wang", now.Add(-d(40)))
					h.file("cp1", "agent-li", now.Add(-d(30)))
					h.resolve("cp1", customer.Unsatisfied, now.Add(-d(20)))
					sched := func(id string, at time.Time) {
						h.do(c.ScheduleFollowUp(customer.ScheduleFollowUp{FollowUpID: id, ComplaintID: "cp1", Reason: customer.ReasonRecovery,
							Owner: "agent-zhao", DueAt: at, OccurredAt: at.Add(-d(1))}, now))
					}
					complete := func(id string, o customer.FollowUpOutcome, at time.Time) {
						h.do(c.CompleteFollowUp(customer.CompleteFollowUp{FollowUpID: id, By: "agent-zhao", Outcome: o, OccurredAt: at}, now))
					}
					sched("fu-cp1-1", now.Add(-d(13)))
					complete("fu-cp1-1", customer.FollowUpNoAnswer, now.Add(-d(13)))
					sched("fu-cp1-1.r1", now.Add(-d(10)))
					complete("fu-cp1-1.r1", customer.FollowUpUnsatisfied, now.Add(-d(2)))
				})
			},
			then: []fu{
				{"c1", "fu-cp1-1", "cp1", "RECOVERY", "agent-zhao", now.Add(-d(13))},
				{"c1", "fu-cp1-1.r1", "cp1", "RECOVERY", "agent-zhao", now.Add(-d(10))},
				{"c1", "fu-cp1-1.r2", "cp1", "RECOVERY", "agent-zhao", now.Add(-d(2)).Add(d(3))},
			},
			// The first follow-up and the first retry (due -13 and -10 days)
			// are in the history; re-planning them would be stale anyway.
			stats: followup.Stats{Planned: 1, Scheduled: 1, Stale: 2},
		},
		{
			name: "third try completed UNSATISFIED: no more tries",
			given: func(e *env) {
				e.write("c1", func(c *customer.Customer) {
					h := hist{e.t, c}
					h.register("am-wang", now.Add(-d(40)))
					h.do(c.ScheduleFollowUp(customer.ScheduleFollowUp{FollowUpID: "x.r2", Reason: customer.ReasonRoutine, DueAt: now.Add(-d(2)), OccurredAt: now.Add(-d(3))}, now))
					h.do(c.CompleteFollowUp(customer.CompleteFollowUp{FollowUpID: "x.r2", By: "am-wang", Outcome: customer.FollowUpUnsatisfied, OccurredAt: now.Add(-d(1))}, now))
				})
			},
			then: []fu{{"c1", "x.r2", "", "ROUTINE", "am-wang", now.Add(-d(2))}},
		},
		{
			name: "entered SILENT on a Friday: win-back for the account manager, else the complaint owner, next working day 09:00",
			given: func(e *env) {
				e.write("c1", func(c *customer.Customer) { hist{e.t, c}.register("am-wang", now.Add(-d(60))) })
				e.write("c2", func(c *customer.Customer) {
					h := hist{e.t, c}
					h.register("", now.Add(-d(60)))
					h.file("cp2", "agent-li", now.Add(-d(40)))
				})
			},
			stages: []stage{
				{"c1", lifecycle.StageChange{From: lifecycle.StageGrumbling, To: lifecycle.StageSilent, At: time.Date(2025, 5, 30, 15, 0, 0, 0, cst), Reason: "quiet"}, lifecycle.StageSilent},
				{"c2", lifecycle.StageChange{From: lifecycle.StageComplaining, To: lifecycle.StageSilent, At: time.Date(2025, 5, 30, 15, 0, 0, 0, cst), Reason: "quiet"}, lifecycle.StageSilent},
				{"c1", lifecycle.StageChange{From: lifecycle.StageSilent, To: lifecycle.StageActive, At: now}, lifecycle.StageSilent}, // ignored: not SILENT
			},
			// Mon 2025-06-02 is a day off (端午 05-31..06-02): due Tuesday.
			then: []fu{
				{"c1", "wb-c1-20250530T070000Z", "", "WIN_BACK", "am-wang", time.Date(2025, 6, 3, 9, 0, 0, 0, cst)},
				{"c2", "wb-c2-20250530T070000Z", "", "WIN_BACK", "agent-li", time.Date(2025, 6, 3, 9, 0, 0, 0, cst)},
			},
			stats: followup.Stats{Planned: 2, Scheduled: 2},
		},
		{
			name: "win-back of a customer no longer silent is dropped",
			given: func(e *env) {
				e.write("c1", func(c *customer.Customer) { hist{e.t, c}.register("am-wang", now.Add(-d(60))) })
			},
			stages: []stage{{"c1", lifecycle.StageChange{To: lifecycle.StageSilent, At: now.Add(-d(2))}, lifecycle.StageActive}},
			stats:  followup.Stats{Planned: 1, Obsolete: 1},
		},
		{
			name: "SILENT by a merge of two silent records: no new win-back",
			given: func(e *env) {
				e.write("c1", func(c *customer.Customer) { hist{e.t, c}.register("am-wang", now.Add(-d(60))) })
			},
			stages: []stage{{"c1", lifecycle.StageChange{From: lifecycle.StageActive, To: lifecycle.StageSilent, At: now.Add(-d(1)), Reason: "merged with c2", Merge: true}, lifecycle.StageSilent}},
		},
		{
			name: "erased customer: the domain refuses, the action is dropped",
			given: func(e *env) {
				e.write("c1", func(c *customer.Customer) {
					h := hist{e.t, c}
					h.register("am-wang", now.Add(-d(30)))
					h.do(c.Erase(customer.Erase{By: "admin", Reason: "request", OccurredAt: now.Add(-d(1))}, now))
				})
			},
			stages: []stage{{"c1", lifecycle.StageChange{To: lifecycle.StageSilent, At: now.Add(-d(2))}, lifecycle.StageSilent}},
			stats:  followup.Stats{Planned: 1, Refused: 1},
		},
		{
			name: "National Day 2025: recovered customers get a holiday call on the last working day before it",
			now:  time.Date(2025, 9, 20, 10, 0, 0, 0, cst),
			given: func(e *env) {
				for _, c := range []struct {
					id  string
					res time.Time
				}{{"c1", time.Date(2025, 7, 10, 12, 0, 0, 0, cst)}, {"c2", time.Date(2025, 6, 20, 12, 0, 0, 0, cst)}} {
					e.write(c.id, func(cu *customer.Customer) {
						h := hist{e.t, cu}
						h.register("am-wang", c.res.Add(-d(10)))
						h.file("cp-"+c.id, "agent-li", c.res.Add(-d(5)))
						h.resolve("cp-"+c.id, customer.Satisfied, c.res)
					})
				}
			},
			// c1 recovered 83 days before 10-01; c2 103 days: too long ago.
			// Recovery follow-ups of both are stale. 2025-09-30 is a Tuesday.
			then:  []fu{{"c1", "hol-c1-national_day-2025", "cp-c1", "HOLIDAY", "agent-li", time.Date(2025, 9, 30, 9, 0, 0, 0, cst)}},
			stats: followup.Stats{Planned: 1, Scheduled: 1, Stale: 4},
		},
		{
			name: "Spring Festival 2026: due Saturday 02-14, an adjusted working day",
			now:  time.Date(2026, 2, 5, 10, 0, 0, 0, cst),
			given: func(e *env) {
				r := time.Date(2025, 12, 1, 12, 0, 0, 0, cst)
				e.write("c1", func(c *customer.Customer) {
					h := hist{e.t, c}
					h.register("am-wang", r.Add(-d(10)))
					h.file("cp1", "agent-li", r.Add(-d(5)))
					h.resolve("cp1", customer.Satisfied, r)
				})
			},
			then:  []fu{{"c1", "hol-c1-spring_festival-2026", "cp1", "HOLIDAY", "agent-li", time.Date(2026, 2, 14, 9, 0, 0, 0, cst)}},
			stats: followup.Stats{Planned: 1, Scheduled: 1, Stale: 2},
		},
		{
			name: "holiday more than 14 days away: nothing yet",
			now:  time.Date(2025, 9, 10, 10, 0, 0, 0, cst),
			given: func(e *env) {
				r := time.Date(2025, 8, 1, 12, 0, 0, 0, cst)
				e.write("c1", func(c *customer.Customer) {
					h := hist{e.t, c}
					h.register("am-wang", r.Add(-d(10)))
					h.file("cp1", "agent-li", r.Add(-d(5)))
					h.resolve("cp1", customer.Satisfied, r)
				})
			},
			stats: followup.Stats{Stale: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := now
			if !tt.now.IsZero() {
				n = tt.now
			}
			e := newEnv(t, n)
			tt.given(e)
			s := e.scheduler(nil)
			pos := e.feed(s, 0)
			for _, st := range tt.stages {
				e.stages[st.customer] = st.current
				s.StageChanged(st.customer, st.change)
			}
			e.drain(s, pos)
			got := e.followUps()
			if !slices.EqualFunc(got, tt.then, func(a, b fu) bool { return a.String() == b.String() }) {
				t.Fatalf("follow-ups:\n got %v\nwant %v", got, tt.then)
			}
			if st := s.Stats(); st != tt.stats {
				t.Fatalf("stats = %+v, want %+v", st, tt.stats)
			}
			if p := s.Pending(); len(p) != 0 {
				t.Fatalf("pending after drain: %v", p)
			}
		})
	}
}

// A command that fails for a reason worth retrying keeps the action
// pending; the next tick retries it.
func TestTransientFailureIsRetried(t *testing.T) {
	now := time.Date(2025, 6, 2, 10, 0, 0, 0, cst)
	e := newEnv(t, now)
	e.write("c1", func(c *customer.Customer) {
		h := hist{e.t, c}
		h.register("am-wang", now.Add(-d(30)))
		h.file("cp1", "agent-li", now.Add(-d(5)))
		h.resolve("cp1", customer.Unsatisfied, now.Add(-d(1)))
	})
	flaky := &flakyCommander{next: followup.RepositoryCommander{Repo: e.repo}, fail: 1}
	s, err := followup.New(followup.Deps{Commander: flaky, Calendar: e.cal, Clock: e.clock}, followup.Config{})
	must(t, err)
	e.feed(s, 0)
	if err := s.Tick(context.Background(), now); !errors.Is(err, errUnavailable) {
		t.Fatalf("first tick: %v, want errUnavailable", err)
	}
	if len(s.Pending()) != 1 {
		t.Fatalf("pending = %v, want the failed action", s.Pending())
	}
	must(t, s.Tick(context.Background(), now))
	if got := e.followUps(); len(got) != 1 || got[0].ID != "fu-cp1-1" {
		t.Fatalf("follow-ups = %v", got)
	}
	if st := s.Stats(); st.Failed != 1 || st.Scheduled != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

var errUnavailable = errors.New("store unavailable")

type flakyCommander struct {
	next followup.Commander
	fail int
}

func (f *flakyCommander) Schedule(ctx context.Context, a followup.Action) error {
	if f.fail > 0 {
		f.fail--
		return errUnavailable
	}
	return f.next.Schedule(ctx, a)
}

func TestSnapshotRestore(t *testing.T) {
	now := time.Date(2025, 6, 2, 10, 0, 0, 0, cst)
	e := newEnv(t, now)
	e.write("c1", func(c *customer.Customer) {
		h := hist{e.t, c}
		h.register("am-wang", now.Add(-d(30)))
		h.file("cp1", "agent-li", now.Add(-d(5)))
		h.resolve("cp1", customer.Satisfied, now.Add(-d(1)))
	})
	a := e.scheduler(nil)
	pos := e.feed(a, 0)
	snap, err := a.Snapshot()
	must(t, err)
	b := e.scheduler(nil)
	must(t, b.Restore(snap))
	if a.Digest() != b.Digest() {
		t.Fatal("restored digest differs")
	}
	if !slices.Equal(a.Pending(), b.Pending()) && len(b.Pending()) != 2 {
		t.Fatalf("pending after restore = %v", b.Pending())
	}
	e.drain(b, pos)
	if got := e.followUps(); len(got) != 2 {
		t.Fatalf("follow-ups after restore = %v", got)
	}
	// The first scheduler, restarted from its old snapshot, repeats the
	// commands: both are refused as duplicates.
	c := e.scheduler(nil)
	must(t, c.Restore(snap))
	e.drain(c, pos)
	if got := e.followUps(); len(got) != 2 {
		t.Fatalf("follow-ups after a second restore = %v", got)
	}
	if st := c.Stats(); st.Already+st.Cancelled != 2 || st.Scheduled != 0 {
		t.Fatalf("stats of the repeat = %+v", st)
	}
	for _, bad := range []string{"", "{", `{"v":2}`} {
		if err := c.Restore([]byte(bad)); !errors.Is(err, followup.ErrBadSnapshot) {
			t.Errorf("Restore(%q) = %v, want ErrBadSnapshot", bad, err)
		}
	}
}

func TestNewValidates(t *testing.T) {
	bad := followup.DefaultPolicy()
	bad.MaxRetries = -1
	bad.Holidays = []string{"CN:no_such_day"}
	_, err := followup.New(followup.Deps{}, followup.Config{Policy: &bad, TickInterval: -1})
	if !errors.Is(err, followup.ErrInvalidConfig) {
		t.Fatalf("err = %v, want ErrInvalidConfig", err)
	}
	for _, want := range []string{"Commander", "Calendar", "TickInterval", "MaxRetries", "no_such_day"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
