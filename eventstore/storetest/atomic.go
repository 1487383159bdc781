package storetest

import (
	"errors"
	"testing"

	"github.com/kefu-crm/kefu/eventstore"
)

// testAtomic checks eventstore.AtomicAppender's contract; it runs for every
// backend that implements it.
func (s *suite) testAtomic(t *testing.T) {
	st := s.open(t)
	if _, ok := st.(eventstore.AtomicAppender); !ok {
		t.Skip("the store does not implement eventstore.AtomicAppender")
	}
	ctx := testCtx(t)
	a, b, c := streamName(t, "a"), streamName(t, "b"), streamName(t, "c")
	mustAppend(t, st, a, eventstore.NoStream(), recs(0, 1)...)
	mustAppend(t, st, b, eventstore.NoStream(), recs(10, 2)...)
	head0 := mustHead(t, st)

	// Given a and b, when one item of three expects a stale revision,
	// then nothing is stored and the error names that item.
	_, err := eventstore.AppendAtomic(ctx, st, []eventstore.StreamAppend{
		{Stream: a, Expected: eventstore.Exact(0), Records: recs(20, 1)},
		{Stream: b, Expected: eventstore.Exact(0), Records: recs(21, 1)}, // b is at 1
		{Stream: c, Expected: eventstore.NoStream(), Records: recs(22, 1)},
	})
	var ae *eventstore.AtomicError
	if !errors.As(err, &ae) || ae.Index != 1 || !errors.Is(err, eventstore.ErrConcurrency) {
		t.Fatalf("stale item: %v, want an AtomicError at index 1 matching ErrConcurrency", err)
	}
	if !s.cfg.SharedLog {
		if h := mustHead(t, st); h != head0 {
			t.Fatalf("head moved from %d to %d after a refused atomic append", head0, h)
		}
	}
	if evs := mustReadStream(t, st, a, eventstore.StreamRead{}); len(evs) != 1 {
		t.Fatalf("stream a has %d events after a refused atomic append, want 1", len(evs))
	}

	// Two items on one stream, or an invalid one, are refused up front.
	if _, err := eventstore.AppendAtomic(ctx, st, []eventstore.StreamAppend{
		{Stream: a, Expected: eventstore.Any(), Records: recs(30, 1)},
		{Stream: a, Expected: eventstore.Any(), Records: recs(31, 1)},
	}); !errors.As(err, &ae) || !errors.Is(err, eventstore.ErrInvalidStreamID) {
		t.Errorf("same stream twice: %v, want an AtomicError matching ErrInvalidStreamID", err)
	}

	// When every item passes, all are stored, in slice order.
	items := []eventstore.StreamAppend{
		{Stream: a, Expected: eventstore.Exact(0), Records: recs(40, 1)},
		{Stream: b, Expected: eventstore.Exact(1), Records: recs(41, 2)},
		{Stream: c, Expected: eventstore.NoStream(), Records: recs(43, 1)},
	}
	res, err := eventstore.AppendAtomic(ctx, st, items)
	if err != nil {
		t.Fatalf("AppendAtomic: %v", err)
	}
	if len(res) != 3 || res[0].Revision != 1 || res[1].Revision != 3 || res[2].Revision != 0 {
		t.Fatalf("results %+v, want revisions 1, 3, 0", res)
	}
	if !(res[0].Position < res[1].Position && res[1].Position < res[2].Position) {
		t.Errorf("positions %+v do not increase in slice order", res)
	}
	// The same call again is an idempotent retry with the same results.
	again, err := eventstore.AppendAtomic(ctx, st, items)
	if err != nil || len(again) != 3 || again[2] != res[2] || again[0] != res[0] {
		t.Errorf("retry: %+v, %v; want %+v", again, err, res)
	}
	if evs := mustReadStream(t, st, b, eventstore.StreamRead{}); len(evs) != 4 {
		t.Errorf("stream b has %d events, want 4", len(evs))
	}
}
