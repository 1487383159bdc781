package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
)

// batcher returns st as an eventstore.BatchAppender, or skips the test.
func batcher(t *testing.T, st eventstore.Store) eventstore.BatchAppender {
	t.Helper()
	b, ok := st.(eventstore.BatchAppender)
	if !ok {
		t.Skip("the store does not implement eventstore.BatchAppender")
	}
	return b
}

// testBatch checks eventstore.BatchAppender's contract; it runs for every
// backend that implements it.
func (s *suite) testBatch(t *testing.T) {
	if _, ok := s.open(t).(eventstore.BatchAppender); !ok {
		t.Skip("the store does not implement eventstore.BatchAppender")
	}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"IndependentItems", s.testBatchIndependent},
		{"Retry", s.testBatchRetry},
		{"Empty", s.testBatchEmpty},
		{"Concurrent", s.testBatchConcurrent},
		{"ConcurrentNoStream", s.testBatchConcurrentNoStream},
		{"ContextCancelled", s.testBatchCancelled},
		{"Persistence", s.testBatchPersistence},
		{"Closed", s.testBatchClosed},
	} {
		t.Run(tc.name, tc.fn)
	}
}

func mustBatch(t *testing.T, b eventstore.BatchAppender, items []eventstore.StreamAppend) []eventstore.BatchResult {
	t.Helper()
	res, err := b.AppendBatch(testCtx(t), items)
	if err != nil {
		t.Fatalf("AppendBatch(%d items): %v", len(items), err)
	}
	if len(res) != len(items) {
		t.Fatalf("AppendBatch: %d results for %d items", len(res), len(items))
	}
	return res
}

// Given a store with some streams, when one batch mixes good items with
// conflicts, retries, invalid input and items that build on earlier items
// of the same batch, then each item succeeds or fails on its own, exactly as
// a sequence of Appends would.
func (s *suite) testBatchIndependent(t *testing.T) {
	st := s.open(t)
	b := batcher(t, st)
	a, bb, c, d, e, f := streamName(t, "a"), streamName(t, "b"), streamName(t, "c"), streamName(t, "d"), streamName(t, "e"), streamName(t, "f")
	origA := recs(0, 2)
	first := mustAppend(t, st, a, eventstore.NoStream(), origA...)
	head0 := mustHead(t, st)

	bad := rec(9)
	bad.Data = []byte(`{"n":`)
	inB := recs(10, 2)
	items := []eventstore.StreamAppend{
		{Stream: bb, Expected: eventstore.NoStream(), Records: inB},                // 0 new stream
		{Stream: a, Expected: eventstore.Exact(1), Records: recs(20, 1)},           // 1 a@2
		{Stream: a, Expected: eventstore.Exact(1), Records: recs(21, 1)},           // 2 conflict: item 1 moved a
		{Stream: "no dash", Expected: eventstore.Any(), Records: recs(22, 1)},      // 3 invalid stream
		{Stream: c, Expected: eventstore.Any(), Records: []eventstore.Record{bad}}, // 4 invalid record
		{Stream: a, Expected: eventstore.Exact(2), Records: recs(23, 2)},           // 5 a@3,4: sees item 1
		{Stream: a, Expected: eventstore.NoStream(), Records: origA},               // 6 idempotent retry
		{Stream: d, Expected: eventstore.Any(), Records: inB},                      // 7 IDs stored in bb
		{Stream: e, Expected: eventstore.StreamExists(), Records: recs(25, 1)},     // 8 no such stream
		{Stream: f, Expected: eventstore.Any(), Records: []eventstore.Record{}},    // 9 no records
		{Stream: c, Expected: eventstore.NoStream(), Records: recs(26, 3)},         // 10 c is still new
	}
	res := mustBatch(t, b, items)

	wantErr := map[int]error{
		2: eventstore.ErrConcurrency, 3: eventstore.ErrInvalidStreamID, 4: eventstore.ErrInvalidRecord,
		7: eventstore.ErrIdempotency, 8: eventstore.ErrConcurrency, 9: eventstore.ErrInvalidRecord,
	}
	wantRev := map[int]uint64{0: 1, 1: 2, 5: 4, 6: 1, 10: 2}
	for i, r := range res {
		if want, bad := wantErr[i]; bad {
			if !errors.Is(r.Err, want) {
				t.Errorf("item %d: error %v, want %v", i, r.Err, want)
			}
			if r.Result != (eventstore.AppendResult{}) {
				t.Errorf("item %d failed but has result %+v", i, r.Result)
			}
			continue
		}
		if r.Err != nil {
			t.Errorf("item %d: %v", i, r.Err)
			continue
		}
		if r.Result.Revision != wantRev[i] {
			t.Errorf("item %d: revision %d, want %d", i, r.Result.Revision, wantRev[i])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	var ce *eventstore.ConcurrencyError
	if !errors.As(res[2].Err, &ce) || ce.Stream != a || ce.Actual != 2 {
		t.Errorf("item 2: %v, want a ConcurrencyError on %s at revision 2", res[2].Err, a)
	}
	if res[6].Result != first {
		t.Errorf("retry item: result %+v, want the original %+v", res[6].Result, first)
	}
	// Positions of the stored items increase in slice order.
	if !(head0 < res[0].Result.Position && res[0].Result.Position < res[1].Result.Position &&
		res[1].Result.Position < res[5].Result.Position && res[5].Result.Position < res[10].Result.Position) {
		t.Errorf("positions %d, %d, %d, %d after head %d do not increase in slice order",
			res[0].Result.Position, res[1].Result.Position, res[5].Result.Position, res[10].Result.Position, head0)
	}
	if !s.cfg.SharedLog {
		if h := mustHead(t, st); h != head0+8 {
			t.Errorf("Head %d, want %d (8 events stored)", h, head0+8)
		}
	}
	wantA := append(append(append([]eventstore.Record{}, origA...), items[1].Records...), items[5].Records...)
	for _, w := range []struct {
		stream string
		recs   []eventstore.Record
	}{{a, wantA}, {bb, inB}, {c, items[10].Records}} {
		evs := mustReadStream(t, st, w.stream, eventstore.StreamRead{})
		if len(evs) != len(w.recs) {
			t.Fatalf("%s has %d events, want %d", w.stream, len(evs), len(w.recs))
		}
		for i, ev := range evs {
			checkEvent(t, ev, w.stream, uint64(i), w.recs[i])
		}
	}
	for _, empty := range []string{d, e, f} {
		if n := countStream(t, st, empty); n != 0 {
			t.Errorf("%s has %d events, want 0", empty, n)
		}
	}
	all := eventsOf(readAll(t, st, head0), a, bb, c)
	checkIncreasing(t, all)
	if len(all) != 8 {
		t.Fatalf("ReadAll: %d events of the batch, want 8", len(all))
	}
	if all[len(all)-1].Position != res[10].Result.Position {
		t.Errorf("last event at %d, item 10 said %d", all[len(all)-1].Position, res[10].Result.Position)
	}
}

// Given a stored batch, when the same batch is sent again, then every item is
// an idempotent retry with the original result and nothing is written.
func (s *suite) testBatchRetry(t *testing.T) {
	st := s.open(t)
	b := batcher(t, st)
	items := make([]eventstore.StreamAppend, 50)
	for i := range items {
		items[i] = eventstore.StreamAppend{Stream: streamName(t, "r"), Expected: eventstore.NoStream(), Records: recs(i*3, 3)}
	}
	orig := mustBatch(t, b, items)
	head := mustHead(t, st)
	again := mustBatch(t, b, items)
	for i := range items {
		if orig[i].Err != nil || again[i].Err != nil {
			t.Fatalf("item %d: %v / %v", i, orig[i].Err, again[i].Err)
		}
		if orig[i].Result != again[i].Result {
			t.Fatalf("item %d: retry result %+v, want %+v", i, again[i].Result, orig[i].Result)
		}
	}
	if h := mustHead(t, st); h != head {
		t.Fatalf("a retried batch moved Head from %d to %d", head, h)
	}
	// Through AppendMany too.
	many, err := eventstore.AppendMany(testCtx(t), st, items)
	if err != nil {
		t.Fatalf("AppendMany: %v", err)
	}
	for i := range items {
		if many[i] != orig[i] {
			t.Fatalf("AppendMany item %d: %+v, want %+v", i, many[i], orig[i])
		}
	}
}

func (s *suite) testBatchEmpty(t *testing.T) {
	st := s.open(t)
	b := batcher(t, st)
	head := mustHead(t, st)
	for _, items := range [][]eventstore.StreamAppend{nil, {}} {
		res, err := b.AppendBatch(testCtx(t), items)
		if err != nil || len(res) != 0 {
			t.Fatalf("AppendBatch(%v): %v, %v; want no results and no error", items, res, err)
		}
	}
	// Only invalid items: each gets its error, nothing is written.
	res := mustBatch(t, b, []eventstore.StreamAppend{{Stream: "x", Records: recs(0, 1)}, {Stream: streamName(t, "e")}})
	if !errors.Is(res[0].Err, eventstore.ErrInvalidStreamID) || !errors.Is(res[1].Err, eventstore.ErrInvalidRecord) {
		t.Fatalf("results %v, %v; want ErrInvalidStreamID, ErrInvalidRecord", res[0].Err, res[1].Err)
	}
	if h := mustHead(t, st); h != head {
		t.Fatalf("Head moved from %d to %d", head, h)
	}
}

// Given many goroutines sending batches and single appends at once, then
// every item is stored once, each batch's items in slice order, and the
// global order has no gap or duplicate.
func (s *suite) testBatchConcurrent(t *testing.T) {
	st := s.open(t)
	b := batcher(t, st)
	ctx := testCtx(t)
	head0 := mustHead(t, st)
	const (
		callers = 8
		calls   = 5
		perCall = 40
		events  = 2
	)
	prefix := streamName(t, "cb")
	name := func(g, c, i int) string { return fmt.Sprintf("%s_%d_%d_%d", prefix, g, c, i) }
	var wg sync.WaitGroup
	errs := make(chan error, 2*callers)
	for g := range callers {
		wg.Go(func() {
			for c := range calls {
				items := make([]eventstore.StreamAppend, perCall)
				for i := range items {
					items[i] = eventstore.StreamAppend{Stream: name(g, c, i), Expected: eventstore.NoStream(), Records: recs(i*events, events)}
				}
				res, err := b.AppendBatch(ctx, items)
				if err != nil {
					errs <- err
					return
				}
				for i, r := range res {
					if r.Err != nil {
						errs <- fmt.Errorf("%s: %w", items[i].Stream, r.Err)
						return
					}
					if r.Result.Revision != events-1 || (i > 0 && r.Result.Position <= res[i-1].Result.Position) {
						errs <- fmt.Errorf("item %d of a call: %+v after %+v", i, r.Result, res[max(i-1, 0)].Result)
						return
					}
				}
			}
		})
		wg.Go(func() { // single appends interleaving with the batches
			for c := range calls * 4 {
				if _, err := st.Append(ctx, name(g, c, -1), eventstore.NoStream(), rec(c)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := callers * (calls*perCall*events + calls*4)
	seen := map[uuid.UUID]bool{}
	var all []eventstore.Event
	for _, e := range readAll(t, st, head0) {
		if len(e.StreamID) > len(prefix) && e.StreamID[:len(prefix)] == prefix {
			if seen[e.ID] {
				t.Fatalf("event %s twice in ReadAll", e.ID)
			}
			seen[e.ID] = true
			all = append(all, e)
		}
	}
	checkIncreasing(t, all)
	if len(all) != want {
		t.Fatalf("ReadAll: %d events, want %d", len(all), want)
	}
	if !s.cfg.SharedLog {
		if h := mustHead(t, st); h != head0+eventstore.Position(want) {
			t.Fatalf("Head %d, want %d", h, head0+eventstore.Position(want))
		}
	}
}

// Given many batches racing to create the same stream, then exactly one
// item wins and the others get ErrConcurrency (or, for the same IDs, the
// winner's result).
func (s *suite) testBatchConcurrentNoStream(t *testing.T) {
	st := s.open(t)
	b := batcher(t, st)
	ctx := testCtx(t)
	stream := streamName(t, "race")
	const n = 16
	results := make([]eventstore.BatchResult, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			res, err := b.AppendBatch(ctx, []eventstore.StreamAppend{
				{Stream: streamName(t, "other"), Expected: eventstore.NoStream(), Records: recs(100+i, 1)},
				{Stream: stream, Expected: eventstore.NoStream(), Records: recs(i*2, 2)},
			})
			if err != nil {
				errs <- err
				return
			}
			if res[0].Err != nil {
				errs <- fmt.Errorf("the uncontended item failed: %w", res[0].Err)
			}
			results[i] = res[1]
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wins := 0
	for i, r := range results {
		switch {
		case r.Err == nil:
			wins++
		case !errors.Is(r.Err, eventstore.ErrConcurrency):
			t.Fatalf("racer %d: %v, want ErrConcurrency", i, r.Err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d racers created the stream, want 1", wins)
	}
	if n := countStream(t, st, stream); n != 2 {
		t.Fatalf("stream has %d events, want 2", n)
	}
}

func (s *suite) testBatchCancelled(t *testing.T) {
	st := s.open(t)
	b := batcher(t, st)
	stream := streamName(t, "ctx")
	head := mustHead(t, st)
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	res, err := b.AppendBatch(ctx, []eventstore.StreamAppend{{Stream: stream, Expected: eventstore.Any(), Records: recs(0, 1)}})
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("AppendBatch with a cancelled context: %v, %v; want no results and context.Canceled", res, err)
	}
	if h := mustHead(t, st); h != head {
		t.Fatalf("Head moved from %d to %d", head, h)
	}
}

func (s *suite) testBatchPersistence(t *testing.T) {
	if s.cfg.Ephemeral {
		t.Skip("the store is in-memory: it keeps nothing across Close by design")
	}
	dir := t.TempDir()
	st := s.openIn(t, dir)
	b := batcher(t, st)
	items := make([]eventstore.StreamAppend, 20)
	for i := range items {
		items[i] = eventstore.StreamAppend{Stream: streamName(t, "pb"), Expected: eventstore.NoStream(), Records: recs(i*4, 4)}
	}
	res := mustBatch(t, b, items)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	st2 := s.openIn(t, dir)
	for i, it := range items {
		evs := mustReadStream(t, st2, it.Stream, eventstore.StreamRead{})
		if len(evs) != len(it.Records) {
			t.Fatalf("%s has %d events after reopen, want %d", it.Stream, len(evs), len(it.Records))
		}
		for j, ev := range evs {
			checkEvent(t, ev, it.Stream, uint64(j), it.Records[j])
		}
		if evs[len(evs)-1].Position != res[i].Result.Position {
			t.Fatalf("%s: last position %d after reopen, the batch said %d", it.Stream, evs[len(evs)-1].Position, res[i].Result.Position)
		}
	}
}

func (s *suite) testBatchClosed(t *testing.T) {
	st := s.open(t)
	b := batcher(t, st)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	res, err := b.AppendBatch(testCtx(t), []eventstore.StreamAppend{{Stream: streamName(t, "x"), Expected: eventstore.Any(), Records: recs(0, 1)}})
	if !errors.Is(err, eventstore.ErrClosed) || res != nil {
		t.Fatalf("AppendBatch after Close: %v, %v; want ErrClosed", res, err)
	}
	if _, err := eventstore.AppendMany(testCtx(t), st, []eventstore.StreamAppend{{Stream: streamName(t, "x"), Records: recs(1, 1)}}); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("AppendMany after Close: %v, want ErrClosed", err)
	}
}
