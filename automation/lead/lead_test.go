package lead_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/automation/lead"
	"github.com/kefu-crm/kefu/eventstore"
)

// oneHolder is a lock of one holder at a time in this process.
type oneHolder struct {
	mu   sync.Mutex
	held *heldLock
}

type heldLock struct {
	o    *oneHolder
	lost chan struct{}
	once sync.Once
}

func (o *oneHolder) TryLock(context.Context, string) (eventstore.Lock, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.held != nil {
		return nil, false, nil
	}
	o.held = &heldLock{o: o, lost: make(chan struct{})}
	return o.held, true, nil
}

// drop makes the holder lose the lock, as a dropped connection does; the
// lock is free once the holder has stopped and unlocked (so that the test
// can tell Run's own overlap from the store's).
func (o *oneHolder) drop() {
	o.mu.Lock()
	h := o.held
	o.mu.Unlock()
	if h != nil {
		h.once.Do(func() { close(h.lost) })
	}
}

func (h *heldLock) Lost() <-chan struct{} { return h.lost }
func (h *heldLock) Unlock() error {
	h.o.mu.Lock()
	if h.o.held == h {
		h.o.held = nil
	}
	h.o.mu.Unlock()
	return nil
}

// TestOneLeaderAndFailover: of three runners on one lock, one works at a
// time; when its lock is lost its work's context ends and another takes
// over; when ctx ends, Run returns and nobody leads.
func TestOneLeaderAndFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	locker := &oneHolder{}
	var (
		mu      sync.Mutex
		working = map[int]bool{}
		most    int
	)
	states := make([]*lead.State, 3)
	var wg sync.WaitGroup
	for i := range states {
		states[i] = &lead.State{}
		wg.Go(func() {
			err := lead.Run(runCtx, lead.Config{Locker: locker, Name: "pm", Retry: 5 * time.Millisecond}, states[i], func(ctx context.Context) error {
				mu.Lock()
				working[i] = true
				most = max(most, len(working))
				mu.Unlock()
				<-ctx.Done()
				mu.Lock()
				delete(working, i)
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	leader := func() int {
		for ctx.Err() == nil {
			n, who := 0, -1
			for i, s := range states {
				if s.Leading() {
					n, who = n+1, i
				}
			}
			if n == 1 {
				return who
			}
			time.Sleep(time.Millisecond)
		}
		t.Fatal("no single leader in time")
		return -1
	}
	first := leader()
	seen := map[int]bool{first: true}
	for range 6 {
		before := states[first].Acquired()
		locker.drop()
		for states[first].Leading() && states[first].Acquired() == before && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		first = leader()
		seen[first] = true
	}
	stop()
	wg.Wait()
	for i, s := range states {
		if s.Leading() {
			t.Errorf("runner %d still leads after Run returned", i)
		}
	}
	if most != 1 {
		t.Errorf("%d runners worked at once, want 1", most)
	}
	if len(seen) < 2 {
		t.Errorf("the lead never passed to another runner in 6 failovers: %v", seen)
	}
}

// TestNoLockerAlwaysLeads: a store one process owns needs no lock.
func TestNoLockerAlwaysLeads(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	st := &lead.State{}
	ran := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- lead.Run(ctx, lead.Config{}, st, func(ctx context.Context) error {
			close(ran)
			<-ctx.Done()
			return nil
		})
	}()
	<-ran
	if !st.Leading() {
		t.Error("not leading without a locker")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st.Leading() {
		t.Error("leading after Run returned")
	}
}
