package followup_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/automation/followup"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// history is a random set of customer histories, written the same way into
// any number of stores, plus the stage changes the lifecycle projector
// would replay through the hook at every start.
type history struct {
	build  map[string]func(c *customer.Customer)
	ids    []string
	silent []silentAt
}

type silentAt struct {
	customer string
	at       time.Time
}

func randomHistory(t testing.TB, rng *rand.Rand, now time.Time, customers int) history {
	h := history{build: map[string]func(*customer.Customer){}}
	for i := range customers {
		id := fmt.Sprintf("c%03d", i)
		seed := rng.Uint64()
		h.ids = append(h.ids, id)
		h.build[id] = func(c *customer.Customer) { randomCustomer(t, rand.New(rand.NewPCG(seed, 7)), c, id, now) }
		if rng.IntN(4) == 0 {
			h.silent = append(h.silent, silentAt{id, now.Add(-time.Duration(rng.Int64N(int64(20 * followup.Day))))})
		}
	}
	return h
}

func randomCustomer(t testing.TB, rng *rand.Rand, c *customer.Customer, id string, now time.Time) {
	h := hist{t, c}
	at := now.Add(-time.Duration(10+rng.IntN(50)) * followup.Day)
	step := func() time.Time {
		at = at.Add(time.Hour + time.Duration(rng.Int64N(int64(2*followup.Day))))
		if at.After(now) {
			at = now
		}
		return at
	}
	h.register([]string{"am-1", "am-2", ""}[rng.IntN(3)], at)
	owners := []string{"agent-li", "agent-wu", "agent-zhao"}
	outcomes := customer.FollowUpOutcomes()
	for k := range rng.IntN(4) {
		cp := fmt.Sprintf("%s-cp%d", id, k)
		h.file(cp, owners[rng.IntN(3)], step())
		switch r := rng.IntN(10); {
		case r < 7:
			rounds := 1 + rng.IntN(2)
			slot := 0
			for round := range rounds {
				if round > 0 {
					h.do(c.ReopenComplaint(customer.ReopenComplaint{ComplaintID: cp, By: "x", OccurredAt: step()}, now))
				}
				o := []customer.Outcome{customer.Satisfied, customer.Unsatisfied}[rng.IntN(2)]
				res := step()
				h.resolve(cp, o, res)
				offsets := []time.Duration{3 * followup.Day, 30 * followup.Day}
				if o == customer.Unsatisfied {
					offsets = offsets[:0]
					offsets = append(offsets, 7*followup.Day)
				}
				seeded := rng.IntN(2) == 0 // the history already holds the recovery follow-ups (a seed)
				for i, off := range offsets {
					slot++
					if !seeded {
						continue
					}
					fid := customer.RecoveryFollowUpID(cp, slot)
					due := res.Add(off)
					h.do(c.ScheduleFollowUp(customer.ScheduleFollowUp{FollowUpID: fid, ComplaintID: cp, Reason: customer.ReasonRecovery, DueAt: due,
						OccurredAt: res.Add(time.Duration(i+1) * time.Minute)}, now))
					if due.Before(now) && rng.IntN(2) == 0 {
						done := due.Add(time.Duration(rng.Int64N(int64(followup.Day))))
						if done.After(now) {
							done = now
						}
						out := outcomes[rng.IntN(len(outcomes))]
						// Completions may come out of order with the other
						// events of the stream only in business time; keep
						// stream order by completing right away.
						h.do(c.CompleteFollowUp(customer.CompleteFollowUp{FollowUpID: fid, By: "x", Outcome: out, OccurredAt: maxTime(done, at)}, now))
					}
				}
			}
		case r < 8:
			h.do(c.DeclineComplaint(customer.DeclineComplaint{ComplaintID: cp, By: "x", Reason: "not covered", OccurredAt: step()}, now))
		}
	}
	if rng.IntN(20) == 0 {
		h.do(c.Erase(customer.Erase{By: "admin", Reason: "request", OccurredAt: step()}, now))
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (h history) writeTo(e *env) {
	for _, id := range h.ids {
		e.write(id, h.build[id])
	}
	for _, s := range h.silent {
		e.stages[s.customer] = lifecycle.StageSilent
	}
}

func (h history) replayStages(s *followup.Scheduler) {
	for _, x := range h.silent {
		s.StageChanged(x.customer, lifecycle.StageChange{From: lifecycle.StageComplaining, To: lifecycle.StageSilent, At: x.at, Reason: "quiet"})
	}
}

// TestPropertyIdempotentUnderReplay: for random histories, the follow-ups
// the scheduler records are the same whether it runs once, runs again from
// zero over the result, or is restarted from a snapshot taken part-way
// (with commands issued before the crash repeated after it) — and no
// follow-up ID ever appears twice for a customer.
func TestPropertyIdempotentUnderReplay(t *testing.T) {
	nows := []time.Time{
		time.Date(2025, 6, 20, 10, 0, 0, 0, cst),  // no major holiday within 14 days
		time.Date(2025, 9, 22, 10, 0, 0, 0, cst),  // National Day in 9 days
		time.Date(2026, 2, 10, 15, 30, 0, 0, cst), // Spring Festival in 7 days
	}
	iterations := 12
	if testing.Short() {
		iterations = 4
	}
	for it := range iterations {
		now := nows[it%len(nows)]
		seed := uint64(1000 + it)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			h := randomHistory(t, rng, now, 40)

			// Run 1: from zero.
			e1 := newEnv(t, now)
			h.writeTo(e1)
			s1 := e1.scheduler(nil)
			h.replayStages(s1)
			pos := e1.drain(s1, 0)
			first := e1.followUps()
			t.Logf("%d follow-ups, scheduler: %+v", len(first), s1.Stats())

			// Run 2: again from zero over the same log (a lost
			// checkpoint, a rebuild): nothing new.
			s2 := e1.scheduler(nil)
			h.replayStages(s2)
			if end := e1.drain(s2, 0); end != pos {
				t.Fatalf("rerun from zero appended events: head %d → %d", pos, end)
			}
			if st := s2.Stats(); st.Scheduled != 0 {
				t.Fatalf("rerun scheduled %d follow-ups: %+v", st.Scheduled, st)
			}
			assertSame(t, "rerun from zero", first, e1.followUps())

			// Run 3: a fresh log, a crash part-way. The first scheduler
			// applies k events, is snapshotted, runs its commands and
			// applies more, then dies; the second restores the snapshot
			// and goes on from the snapshot's position.
			e3 := newEnv(t, now)
			h.writeTo(e3)
			head, _ := e3.store.Head(t.Context())
			k := eventstore.Position(rng.Int64N(int64(head)) + 1)
			a := e3.scheduler(nil)
			h.replayStages(a)
			mid := e3.feedTo(a, 0, k)
			snap, err := a.Snapshot()
			must(t, err)
			if now.Month() == time.June { // no holiday to plan: ticking part-way is like a live run
				must(t, a.Tick(t.Context(), now))
				e3.feed(a, mid)
			}
			b := e3.scheduler(nil)
			must(t, b.Restore(snap))
			h.replayStages(b)
			e3.drain(b, mid)
			assertSame(t, fmt.Sprintf("restart after %d of %d events", k, head), first, e3.followUps())
		})
	}
}

func assertSame(t *testing.T, what string, want, got []fu) {
	t.Helper()
	if !slices.EqualFunc(want, got, func(a, b fu) bool { return a.String() == b.String() }) {
		t.Fatalf("%s: follow-ups differ\n got %v\nwant %v", what, got, want)
	}
}
