package eventstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/memstore"
)

// appendOnly hides memstore's AppendBatch, so AppendMany takes its fallback.
type appendOnly struct{ eventstore.Store }

func record(n int) eventstore.Record {
	return eventstore.Record{
		ID: uuid.New(), Type: "Noted", SchemaVersion: 1,
		OccurredAt: time.Date(2025, 1, 1, 0, 0, n, 0, time.UTC), Data: []byte(`{}`),
	}
}

// Given the same items, when AppendMany runs on a BatchAppender and on a
// store without one, then the results and the stored streams are the same.
func TestAppendManyFallbackMatchesBatch(t *testing.T) {
	ctx := t.Context()
	shared := []eventstore.Record{record(0), record(1)}
	items := []eventstore.StreamAppend{
		{Stream: "t-a", Expected: eventstore.NoStream(), Records: shared},
		{Stream: "t-a", Expected: eventstore.Exact(1), Records: []eventstore.Record{record(2)}},
		{Stream: "t-a", Expected: eventstore.Exact(1), Records: []eventstore.Record{record(3)}}, // conflict
		{Stream: "t-b", Expected: eventstore.Any(), Records: shared},                            // IDs used in t-a
		{Stream: "bad", Records: []eventstore.Record{record(4)}},                                // invalid stream
		{Stream: "t-a", Expected: eventstore.NoStream(), Records: shared},                       // retry
	}
	wantErr := []error{nil, nil, eventstore.ErrConcurrency, eventstore.ErrIdempotency, eventstore.ErrInvalidStreamID, nil}
	var got [2][]eventstore.BatchResult
	for i, st := range []eventstore.Store{memstore.New(memstore.Options{}), appendOnly{memstore.New(memstore.Options{})}} {
		res, err := eventstore.AppendMany(ctx, st, items)
		if err != nil {
			t.Fatalf("store %d: AppendMany: %v", i, err)
		}
		for j, r := range res {
			if !errors.Is(r.Err, wantErr[j]) || (wantErr[j] == nil) != (r.Err == nil) {
				t.Errorf("store %d item %d: %v, want %v", i, j, r.Err, wantErr[j])
			}
		}
		got[i] = res
	}
	for j := range items {
		if got[0][j].Result != got[1][j].Result {
			t.Errorf("item %d: batch %+v, fallback %+v", j, got[0][j].Result, got[1][j].Result)
		}
	}
	if got[0][5].Result != got[0][0].Result {
		t.Errorf("retry result %+v, want the original %+v", got[0][5].Result, got[0][0].Result)
	}
}

// Given a cancelled context or a closed store, AppendMany's fallback fails
// the call instead of reporting per-item errors.
func TestAppendManyFallbackStoreErrors(t *testing.T) {
	items := []eventstore.StreamAppend{{Stream: "t-a", Records: []eventstore.Record{record(0)}}}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if res, err := eventstore.AppendMany(ctx, appendOnly{memstore.New(memstore.Options{})}, items); !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("cancelled: %v, %v; want context.Canceled", res, err)
	}
	st := memstore.New(memstore.Options{})
	_ = st.Close()
	if _, err := eventstore.AppendMany(t.Context(), appendOnly{st}, items); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("closed: %v, want ErrClosed", err)
	}
	for _, err := range []error{eventstore.ErrConcurrency, eventstore.ErrIdempotency, eventstore.ErrInvalidRecord, eventstore.ErrInvalidStreamID} {
		if !eventstore.ItemError(err) {
			t.Errorf("ItemError(%v) = false", err)
		}
	}
	if eventstore.ItemError(eventstore.ErrClosed) || eventstore.ItemError(context.Canceled) {
		t.Error("ItemError of a store error is true")
	}
}
