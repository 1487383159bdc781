package followup_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/automation/followup"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
)

// run starts a projections runtime with a scheduler over e's store and the
// checkpoint directory dir, and returns it with a stop function.
func (e *env) run(t *testing.T, dir string) (*projections.Runtime, *followup.Scheduler, func()) {
	t.Helper()
	s := e.scheduler(nil)
	dec := projections.DecoderFunc(func(ctx context.Context, ev eventstore.Event) (any, error) {
		d, err := e.codec.Decode(ctx, ev)
		return d.Payload, err
	})
	rt, err := projections.New(projections.Deps{Store: e.store, Decoder: dec, Projections: []projections.Projection{s}},
		projections.Config{CheckpointDir: dir, FlushInterval: 10 * time.Millisecond})
	must(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	rtDone, sDone := make(chan error, 1), make(chan error, 1)
	go func() { rtDone <- rt.Run(ctx) }()
	go func() { sDone <- s.Run(ctx, rt.Ready()) }()
	return rt, s, func() {
		cancel()
		must(t, <-rtDone)
		must(t, <-sDone)
	}
}

// settle waits until the log stops growing and the runtime has applied it
// and the scheduler has nothing pending.
func settle(t *testing.T, e *env, rt *projections.Runtime, s *followup.Scheduler) {
	t.Helper()
	// Wait for the live phase first: WaitFor called before a restored
	// checkpoint is loaded is not woken by the restore (reported).
	<-rt.Ready()
	for i := 0; ; i++ {
		head, err := e.store.Head(t.Context())
		must(t, err)
		wctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		err = rt.WaitFor(wctx, head)
		cancel()
		if err != nil {
			st, _ := rt.Status(t.Context())
			t.Fatalf("WaitFor(%d): %v; status %+v; pending %v", head, err, st, s.Pending())
		}
		if len(s.Pending()) == 0 {
			if h2, _ := e.store.Head(t.Context()); h2 == head {
				return
			}
		}
		if i > 2000 {
			t.Fatalf("not settled: pending %v", s.Pending())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestThroughRuntime runs the scheduler as the projections runtime runs
// it — catch-up, then watermill, a durable checkpoint — across a restart.
func TestThroughRuntime(t *testing.T) {
	now := time.Date(2025, 6, 2, 10, 0, 0, 0, cst)
	e := newEnv(t, now)
	e.write("c1", func(c *customer.Customer) {
		h := hist{e.t, c}
		h.register("am-wang", now.Add(-d(30)))
		h.file("cp1", "agent-li", now.Add(-d(5)))
		h.resolve("cp1", customer.Satisfied, now.Add(-d(2))) // history: caught up, then acted on
		h.file("cp2", "agent-li", now.Add(-d(1)))
	})
	dir := t.TempDir()

	rt, s, stop := e.run(t, dir)
	settle(t, e, rt, s)
	if got := e.followUps(); len(got) != 2 {
		t.Fatalf("after catch-up: %v", got)
	}
	// Live: an event through watermill.
	_, err := e.repo.Update(t.Context(), "c1", nil, func(c *customer.Customer) error {
		return c.ResolveComplaint(customer.ResolveComplaint{ComplaintID: "cp2", By: "agent-li", Outcome: customer.Unsatisfied}, now)
	})
	must(t, err)
	settle(t, e, rt, s)
	want := e.followUps()
	if len(want) != 3 || want[2].ID != "fu-cp2-1" {
		t.Fatalf("after a live resolution: %v", want)
	}
	stop()

	// Restart from the checkpoint: nothing is repeated.
	rt2, s2, stop2 := e.run(t, dir)
	settle(t, e, rt2, s2)
	assertSame(t, "after restart", want, e.followUps())
	if st := s2.Stats(); st.Scheduled != 0 || st.Planned != 0 {
		t.Fatalf("restarted scheduler acted: %+v", st)
	}
	stop2()

	// A lost checkpoint directory: a replay from zero, still nothing new.
	rt3, s3, stop3 := e.run(t, t.TempDir())
	settle(t, e, rt3, s3)
	assertSame(t, "after replay from zero", want, e.followUps())
	if st := s3.Stats(); st.Scheduled != 0 {
		t.Fatalf("replay scheduled again: %+v", st)
	}
	stop3()
}
