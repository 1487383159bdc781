package kurrent_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/memstore"
)

// dispatch is what a process manager does in every kefu instance when it
// sees the trigger event: load the target stream, decide, and append the
// resulting event with an ID derived from (trigger, action) at the revision
// it loaded. Two instances on one cluster both see the trigger and both run
// it.
func dispatch(t *testing.T, st eventstore.Store, stream string, trigger uuid.UUID) error {
	t.Helper()
	ctx := t.Context()
	evs, err := st.ReadStream(ctx, stream, eventstore.StreamRead{Direction: eventstore.Backward, From: eventstore.End, Limit: 1})
	if err != nil {
		return err
	}
	rec := eventstore.Record{
		ID:            uuid.NewSHA1(trigger, []byte("FollowUpScheduled|+3d")),
		Type:          "FollowUpScheduled",
		SchemaVersion: 1,
		OccurredAt:    time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC),
		Data:          []byte(`{"reason":"RECOVERY"}`),
	}
	_, err = st.Append(ctx, stream, eventstore.Exact(evs[0].Revision), rec)
	return err
}

// TestDoubleDispatchStoresOneEvent: process managers of several instances
// racing on the same trigger store its consequence once, because the event
// ID is deterministic and the append expects the exact revision both
// loaded. The losers get either the original result (the port's idempotent
// retry) or a concurrency error, on which a dispatcher reloads and finds
// the event already there.
func TestDoubleDispatchStoresOneEvent(t *testing.T) {
	for round := range 50 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			st := memstore.New(memstore.Options{})
			stream := "customer-42"
			trigger := uuid.New()
			if _, err := st.Append(t.Context(), stream, eventstore.NoStream(), eventstore.Record{
				ID: trigger, Type: "ComplaintResolved", SchemaVersion: 1, OccurredAt: time.Now(), Data: []byte(`{"outcome":"SATISFIED"}`),
			}); err != nil {
				t.Fatal(err)
			}
			const instances = 4
			var wg sync.WaitGroup
			errs := make([]error, instances)
			start := make(chan struct{})
			for i := range instances {
				wg.Go(func() {
					<-start
					errs[i] = dispatch(t, st, stream, trigger)
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil && !errors.Is(err, eventstore.ErrConcurrency) {
					t.Fatalf("instance %d: %v, want success or ErrConcurrency", i, err)
				}
			}
			evs, err := st.ReadStream(t.Context(), stream, eventstore.StreamRead{})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 2 || evs[1].Type != "FollowUpScheduled" {
				t.Fatalf("stream holds %d events, want the trigger and exactly one FollowUpScheduled", len(evs))
			}
			// A late instance (one that reloads after a conflict, or
			// replays the trigger after a restart) appends the same
			// deterministic ID at the new revision: the ID is already
			// stored, so the store returns the original result (or refuses
			// it) and stores nothing.
			if err := dispatch(t, st, stream, trigger); err != nil && !errors.Is(err, eventstore.ErrIdempotency) && !errors.Is(err, eventstore.ErrConcurrency) {
				t.Fatalf("late dispatch: %v", err)
			}
			evs, _ = st.ReadStream(t.Context(), stream, eventstore.StreamRead{})
			if len(evs) != 2 {
				t.Fatalf("late dispatch stored a duplicate: %d events", len(evs))
			}
		})
	}
}
