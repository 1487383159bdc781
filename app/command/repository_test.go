package command_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/pii"
)

func TestRegisterThenLoad(t *testing.T) {
	f := newMemFixture(t)
	ctx := command.WithCorrelationID(command.WithActor(t.Context(), command.Actor{User: "alice", Role: "ACCOUNT_MANAGER"}), "req-1")
	res, err := f.cmds.RegisterCustomer.Handle(ctx, "c1", registration())
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision != 0 || res.Position == 0 || len(res.Events) != 1 {
		t.Fatalf("result = %+v", res)
	}
	if m := res.Events[0].Meta; m.Actor != "alice" || m.Role != "ACCOUNT_MANAGER" || m.CorrelationID != "req-1" {
		t.Fatalf("metadata = %+v", m)
	}
	c, err := f.repo.Load(t.Context(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != registration().Name || c.Email() != registration().Email {
		t.Fatalf("loaded %q %q", c.Name(), c.Email())
	}
	// The stored metadata carries the actor too.
	evs, _ := f.store.ReadStream(t.Context(), "customer-c1", eventstore.StreamRead{})
	d, err := f.codec.Decode(t.Context(), evs[0])
	if err != nil || d.Meta.Actor != "alice" {
		t.Fatalf("stored meta %+v, %v", d.Meta, err)
	}
}

func TestDomainErrorsPassThrough(t *testing.T) {
	f := newMemFixture(t)
	register(t, f, "c1")
	tests := []struct {
		name string
		id   string
		cmd  customer.LogContact
		want error
	}{
		{"unknown customer", "nobody", contact("hi"), aggregate.ErrNotFound},
		{"invalid input", "c1", customer.LogContact{Agent: "a"}, aggregate.ErrInvalidInput},
		{"invalid customer id", "bad/id", contact("hi"), aggregate.ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := do(t.Context(), f, tt.id, nil, tt.cmd, (*customer.Customer).LogContact)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := f.cmds.RegisterCustomer.Handle(t.Context(), "c1", registration()); !errors.Is(err, aggregate.ErrFailedPrecondition) {
		t.Fatalf("second registration: %v, want ErrFailedPrecondition", err)
	}
	if c, err := f.repo.Load(t.Context(), "nobody"); err != nil || c.Registered() {
		t.Fatalf("Load of unknown: %v, %v; want a customer not registered yet", c, err)
	}
	if n := streamLen(t, f.store, "customer-c1"); n != 1 {
		t.Fatalf("refused commands appended: stream has %d events", n)
	}
}

func TestStaleExpectedRevisionIsAConflictWithoutCallingFn(t *testing.T) {
	f := newMemFixture(t)
	register(t, f, "c1")
	if _, err := logContact(t.Context(), f, "c1", ptr(uint64(0)), "first"); err != nil {
		t.Fatal(err)
	}
	for _, exp := range []uint64{0, 5} {
		var calls atomic.Int64
		_, err := f.repo.Update(t.Context(), "c1", &exp, counting(&calls))
		if !errors.Is(err, command.ErrConflict) {
			t.Fatalf("expected %d: err = %v, want ErrConflict", exp, err)
		}
		var ce *command.ConflictError
		if !errors.As(err, &ce) || ce.Actual != 1 || *ce.Expected != exp {
			t.Fatalf("conflict = %+v", ce)
		}
		if calls.Load() != 0 {
			t.Fatal("fn was called despite the stale revision")
		}
	}
	if _, err := logContact(t.Context(), f, "nobody", ptr(uint64(0)), "x"); !errors.Is(err, command.ErrConflict) {
		t.Fatalf("expected revision on a missing stream: %v", err)
	}
}

func TestRacingUpdatesWithoutExpectedRevisionAllSucceed(t *testing.T) {
	// 16 writers: a writer loses a round only when another one's append
	// lands, and each of the other 15 lands once, so 16 attempts suffice.
	f := newFixture(t, memstore.New(memstore.Options{}), pii.NewMemKeystore(), 16)
	register(t, f, "c1")
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = logContact(t.Context(), f, "c1", nil, fmt.Sprintf("contact %d", i))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if got := streamLen(t, f.store, "customer-c1"); got != 1+n {
		t.Fatalf("stream has %d events, want %d", got, 1+n)
	}
}

func TestRacingUpdatesWithTheSameExpectedRevisionOneWins(t *testing.T) {
	f := newMemFixture(t)
	register(t, f, "c1")
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = logContact(t.Context(), f, "c1", ptr(uint64(0)), fmt.Sprintf("contact %d", i))
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, command.ErrConflict):
			t.Errorf("writer %d: %v, want ErrConflict", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers won, want 1", won)
	}
	if got := streamLen(t, f.store, "customer-c1"); got != 2 {
		t.Fatalf("stream has %d events, want 2", got)
	}
}

// conflictingStore makes every append lose, to see the retries end.
type conflictingStore struct {
	eventstore.Store
	appends atomic.Int64
}

func (s *conflictingStore) Append(ctx context.Context, stream string, _ eventstore.Expected, recs ...eventstore.Record) (eventstore.AppendResult, error) {
	s.appends.Add(1)
	return eventstore.AppendResult{}, &eventstore.ConcurrencyError{Stream: stream, Expected: eventstore.Exact(0), Actual: 9}
}

func TestRetriesAreBoundedAndTheConflictMatchesBothSentinels(t *testing.T) {
	mem := memstore.New(memstore.Options{})
	keys := pii.NewMemKeystore()
	seed := newFixture(t, mem, keys, 0)
	register(t, seed, "c1")
	store := &conflictingStore{Store: mem}
	f := newFixture(t, store, keys, 3)
	_, err := logContact(t.Context(), f, "c1", nil, "x")
	if !errors.Is(err, command.ErrConflict) || !errors.Is(err, eventstore.ErrConcurrency) {
		t.Fatalf("err = %v, want ErrConflict and eventstore.ErrConcurrency", err)
	}
	if n := store.appends.Load(); n != 3 {
		t.Fatalf("%d appends, want MaxAttempts = 3", n)
	}
	store.appends.Store(0)
	if _, err := logContact(t.Context(), f, "c1", ptr(uint64(0)), "x"); !errors.Is(err, eventstore.ErrConcurrency) {
		t.Fatalf("with expected revision: %v", err)
	}
	if n := store.appends.Load(); n != 1 {
		t.Fatalf("%d appends with an expected revision, want 1 (no retry)", n)
	}
}

func TestIdempotencyKeyRetryAppendsNothing(t *testing.T) {
	f := newMemFixture(t)
	register(t, f, "c1")
	ctx := command.WithIdempotencyKey(t.Context(), "req-42")
	var calls atomic.Int64
	first, err := f.repo.Update(ctx, "c1", nil, counting(&calls))
	if err != nil {
		t.Fatal(err)
	}
	if first.Events[0].Event.ID != command.EventID("c1", command.ScopeKey(ctx, "req-42"), 0) || first.Events[0].Meta.IdempotencyKey != "req-42" {
		t.Fatalf("event %v meta %+v: want the deterministic ID", first.Events[0].Event.ID, first.Events[0].Meta)
	}
	// Something else happens in between; the retry still returns the first result.
	if _, err := logContact(t.Context(), f, "c1", nil, "other"); err != nil {
		t.Fatal(err)
	}
	again, err := f.repo.Update(ctx, "c1", nil, counting(&calls))
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Fatalf("fn called %d times, want 1", calls.Load())
	}
	if again.Revision != first.Revision || again.Position != first.Position || len(again.Events) != 1 || again.Events[0].Event.ID != first.Events[0].Event.ID {
		t.Fatalf("retry = %+v, want %+v", again, first)
	}
	if got := streamLen(t, f.store, "customer-c1"); got != 3 {
		t.Fatalf("stream has %d events, want 3", got)
	}
	// The same key on another customer is another command.
	register(t, f, "c2")
	if res, err := f.repo.Update(ctx, "c2", nil, counting(&calls)); err != nil || res.Events[0].Event.ID == first.Events[0].Event.ID {
		t.Fatalf("other customer: %+v, %v", res, err)
	}
}

func TestConcurrentRetriesWithOneKeyAppendOnce(t *testing.T) {
	f := newFixture(t, memstore.New(memstore.Options{}), pii.NewMemKeystore(), 16)
	register(t, f, "c1")
	ctx := command.WithIdempotencyKey(t.Context(), "same")
	const n = 8
	var wg sync.WaitGroup
	results := make([]command.Result, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i], errs[i] = logContact(ctx, f, "c1", nil, "once") })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("attempt %d: %v", i, errs[i])
		}
		if results[i].Revision != 1 || results[i].Position != results[0].Position {
			t.Fatalf("attempt %d: %+v, attempt 0: %+v", i, results[i], results[0])
		}
	}
	if got := streamLen(t, f.store, "customer-c1"); got != 2 {
		t.Fatalf("stream has %d events, want 2", got)
	}
}

func TestNoChangeAppendsNothing(t *testing.T) {
	f := newMemFixture(t)
	reg := register(t, f, "c1")
	res, err := f.repo.Update(t.Context(), "c1", nil, func(*customer.Customer) error { return nil })
	if err != nil || res.Revision != 0 || res.Position != reg.Position || len(res.Events) != 0 {
		t.Fatalf("no-op update: %+v, %v", res, err)
	}
}

func TestConfigValidation(t *testing.T) {
	if _, err := command.NewCustomers(command.Config{MaxAttempts: -1}); !errors.Is(err, command.ErrInvalidConfig) {
		t.Fatalf("err = %v", err)
	}
	if _, err := command.New(command.Config{}, command.Deps{}); !errors.Is(err, command.ErrInvalidConfig) {
		t.Fatalf("err = %v", err)
	}
}
