// Package storetest is the contract suite every eventstore.Store backend
// passes. A backend's test calls Run (or RunConfig) with a function that opens
// its store:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, dir string) eventstore.Store {
//			s, err := embedded.Open(dir, embedded.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// A backend that implements eventstore.BatchAppender is held to its
// contract too (the "Batch" subtests; skipped for other backends).
//
// Every subtest opens its own store in a fresh directory and closes it at the
// end. Stream names carry a random suffix, so a backend whose log is shared
// between tests (a server) can run the suite too; see Config.SharedLog.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
)

// Factory opens a store whose data lives in dir. The suite calls it again
// with the same dir after closing the first store to test persistence.
type Factory func(t *testing.T, dir string) eventstore.Store

// Config is the suite's configuration.
type Config struct {
	// New opens a store; required.
	New Factory
	// Ephemeral says the store keeps nothing across Close (an in-memory
	// store): the persistence subtests are skipped.
	Ephemeral bool
	// SharedLog says a newly opened store may already hold other events (a
	// server shared between tests) and that positions need not be dense: the
	// checks that a fresh store is empty and numbers positions 1, 2, 3 … are
	// skipped.
	SharedLog bool
	// ManyStreams is how many streams the many-streams subtest creates;
	// 0 means 100,000.
	ManyStreams int
}

// Run runs the contract suite against a durable store whose every opening
// starts with an empty log.
func Run(t *testing.T, newStore Factory) {
	RunConfig(t, Config{New: newStore})
}

// RunConfig runs the contract suite with cfg.
func RunConfig(t *testing.T, cfg Config) {
	if cfg.New == nil {
		t.Fatal("storetest: Config.New is nil")
	}
	if cfg.ManyStreams == 0 {
		cfg.ManyStreams = 100_000
	}
	s := &suite{cfg: cfg}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"AppendAndReadOrder", s.testAppendAndReadOrder},
		{"FreshStoreIsDense", s.testFreshStoreIsDense},
		{"ExpectedRevision", s.testExpectedRevision},
		{"ConcurrentExactRevision", s.testConcurrentExact},
		{"ConcurrentNoStream", s.testConcurrentNoStream},
		{"ConcurrentAppendsDifferentStreams", s.testConcurrentAppends},
		{"ReadsNeverPassHead", s.testReadsNeverPassHead},
		{"IdempotentRetry", s.testIdempotentRetry},
		{"ReadStream", s.testReadStream},
		{"ReadAll", s.testReadAll},
		{"SubscribeCatchUpThenLive", s.testSubscribeLive},
		{"SubscribeFromMiddle", s.testSubscribeFromMiddle},
		{"SubscribeEnds", s.testSubscribeEnds},
		{"Persistence", s.testPersistence},
		{"LargeEvent", s.testLargeEvent},
		{"ManyStreams", s.testManyStreams},
		{"ContextCancelled", s.testContextCancelled},
		{"InvalidInput", s.testInvalidInput},
		{"NoAliasing", s.testNoAliasing},
		{"Closed", s.testClosed},
		{"Batch", s.testBatch},
		{"Atomic", s.testAtomic},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct {
	cfg Config
}

// open opens a store in a fresh directory, closed at the end of the test.
func (s *suite) open(t *testing.T) eventstore.Store {
	t.Helper()
	return s.openIn(t, t.TempDir())
}

func (s *suite) openIn(t *testing.T, dir string) eventstore.Store {
	t.Helper()
	st := s.cfg.New(t, dir)
	if st == nil {
		t.Fatal("storetest: factory returned a nil store")
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// testCtx is cancelled when the test ends and after a generous deadline, so
// that a hanging backend fails instead of stalling the run.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// streamName returns a fresh stream ID of category "test".
func streamName(t *testing.T, prefix string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return eventstore.StreamID("test", prefix+"_"+hex.EncodeToString(b[:]))
}

// occurred is a fixed business time with nanoseconds, to check the store
// keeps them.
var occurred = time.Date(2024, time.March, 9, 10, 11, 12, 123456789, time.UTC)

// rec builds a valid record whose data names n.
func rec(n int) eventstore.Record {
	return eventstore.Record{
		ID:            uuid.New(),
		Type:          "ContactLogged",
		SchemaVersion: 1,
		OccurredAt:    occurred.Add(time.Duration(n) * time.Second),
		Data:          fmt.Appendf(nil, `{"n":%d,"channel":"PHONE","summary":"called about the order"}`, n),
		Metadata:      []byte(`{"correlationId":"c-1","actor":"agent-7"}`),
	}
}

func recs(from, n int) []eventstore.Record {
	out := make([]eventstore.Record, n)
	for i := range out {
		out[i] = rec(from + i)
	}
	return out
}

func mustAppend(t *testing.T, st eventstore.Store, stream string, exp eventstore.Expected, rs ...eventstore.Record) eventstore.AppendResult {
	t.Helper()
	res, err := st.Append(testCtx(t), stream, exp, rs...)
	if err != nil {
		t.Fatalf("Append(%s, %s, %d records): %v", stream, exp, len(rs), err)
	}
	return res
}

func mustReadStream(t *testing.T, st eventstore.Store, stream string, read eventstore.StreamRead) []eventstore.Event {
	t.Helper()
	evs, err := st.ReadStream(testCtx(t), stream, read)
	if err != nil {
		t.Fatalf("ReadStream(%s, %+v): %v", stream, read, err)
	}
	return evs
}

func mustHead(t *testing.T, st eventstore.Store) eventstore.Position {
	t.Helper()
	h, err := st.Head(testCtx(t))
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return h
}

// readAll returns every event after the given position.
func readAll(t *testing.T, st eventstore.Store, after eventstore.Position) []eventstore.Event {
	t.Helper()
	var out []eventstore.Event
	if err := st.ReadAll(testCtx(t), after, func(e eventstore.Event) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatalf("ReadAll(%d): %v", after, err)
	}
	return out
}

// checkEvent compares a stored event with the record it came from.
func checkEvent(t *testing.T, got eventstore.Event, stream string, rev uint64, want eventstore.Record) {
	t.Helper()
	switch {
	case got.ID != want.ID:
		t.Errorf("%s@%d: ID %s, want %s", stream, rev, got.ID, want.ID)
	case got.StreamID != stream:
		t.Errorf("event %s: stream %q, want %q", want.ID, got.StreamID, stream)
	case got.Revision != rev:
		t.Errorf("event %s: revision %d, want %d", want.ID, got.Revision, rev)
	case got.Type != want.Type:
		t.Errorf("event %s: type %q, want %q", want.ID, got.Type, want.Type)
	case got.SchemaVersion != want.SchemaVersion:
		t.Errorf("event %s: schema version %d, want %d", want.ID, got.SchemaVersion, want.SchemaVersion)
	case !got.OccurredAt.Equal(want.OccurredAt):
		t.Errorf("event %s: occurredAt %v, want %v", want.ID, got.OccurredAt, want.OccurredAt)
	case got.RecordedAt.IsZero():
		t.Errorf("event %s: recordedAt is zero", want.ID)
	case !bytes.Equal(got.Data, want.Data):
		t.Errorf("event %s: data %q, want %q", want.ID, got.Data, want.Data)
	case !bytes.Equal(got.Metadata, want.Metadata):
		t.Errorf("event %s: metadata %q, want %q", want.ID, got.Metadata, want.Metadata)
	case got.Position == eventstore.Start:
		t.Errorf("event %s: position 0", want.ID)
	}
}

// checkIncreasing fails unless positions strictly increase.
func checkIncreasing(t *testing.T, evs []eventstore.Event) {
	t.Helper()
	for i := 1; i < len(evs); i++ {
		if evs[i].Position <= evs[i-1].Position {
			t.Fatalf("position %d at index %d after %d: not strictly increasing", evs[i].Position, i, evs[i-1].Position)
		}
	}
}

// eventsOf keeps the events of the given streams.
func eventsOf(evs []eventstore.Event, streams ...string) []eventstore.Event {
	var out []eventstore.Event
	for _, e := range evs {
		for _, s := range streams {
			if e.StreamID == s {
				out = append(out, e)
			}
		}
	}
	return out
}

func (s *suite) testAppendAndReadOrder(t *testing.T) {
	st := s.open(t)
	a, b := streamName(t, "a"), streamName(t, "b")
	head0 := mustHead(t, st)
	ra, rb, ra2 := recs(0, 3), recs(3, 2), recs(5, 1)
	ra[2].Metadata = nil // empty metadata is allowed

	r1 := mustAppend(t, st, a, eventstore.NoStream(), ra...)
	r2 := mustAppend(t, st, b, eventstore.Any(), rb...)
	r3 := mustAppend(t, st, a, eventstore.Exact(2), ra2...)

	if r1.Revision != 2 || r2.Revision != 1 || r3.Revision != 3 {
		t.Fatalf("revisions %d, %d, %d; want 2, 1, 3", r1.Revision, r2.Revision, r3.Revision)
	}
	if !(head0 < r1.Position && r1.Position < r2.Position && r2.Position < r3.Position) {
		t.Fatalf("positions %d < %d < %d < %d do not increase", head0, r1.Position, r2.Position, r3.Position)
	}
	if h := mustHead(t, st); h < r3.Position {
		t.Fatalf("Head %d before the last append's position %d", h, r3.Position)
	}

	evA := mustReadStream(t, st, a, eventstore.StreamRead{})
	wantA := append(append([]eventstore.Record{}, ra...), ra2...)
	if len(evA) != len(wantA) {
		t.Fatalf("stream a has %d events, want %d", len(evA), len(wantA))
	}
	for i, e := range evA {
		checkEvent(t, e, a, uint64(i), wantA[i])
	}
	checkIncreasing(t, evA)
	if evA[2].Position != r1.Position || evA[3].Position != r3.Position {
		t.Errorf("stream positions %d, %d; append results said %d, %d", evA[2].Position, evA[3].Position, r1.Position, r3.Position)
	}

	all := eventsOf(readAll(t, st, head0), a, b)
	checkIncreasing(t, all)
	wantOrder := []uuid.UUID{ra[0].ID, ra[1].ID, ra[2].ID, rb[0].ID, rb[1].ID, ra2[0].ID}
	if len(all) != len(wantOrder) {
		t.Fatalf("ReadAll returned %d of our events, want %d", len(all), len(wantOrder))
	}
	for i, e := range all {
		if e.ID != wantOrder[i] {
			t.Fatalf("ReadAll[%d] = %s, want %s", i, e.ID, wantOrder[i])
		}
	}
	evB := mustReadStream(t, st, b, eventstore.StreamRead{})
	for i, e := range evB {
		checkEvent(t, e, b, uint64(i), rb[i])
		if e.Position != all[3+i].Position {
			t.Errorf("b@%d: ReadStream position %d, ReadAll position %d", i, e.Position, all[3+i].Position)
		}
	}
}

func (s *suite) testFreshStoreIsDense(t *testing.T) {
	if s.cfg.SharedLog {
		t.Skip("the backend's log is shared between tests: a fresh store need not be empty or dense")
	}
	st := s.open(t)
	if h := mustHead(t, st); h != eventstore.Start {
		t.Fatalf("Head of a fresh store = %d, want 0", h)
	}
	if evs := readAll(t, st, eventstore.Start); len(evs) != 0 {
		t.Fatalf("fresh store holds %d events", len(evs))
	}
	a, b := streamName(t, "a"), streamName(t, "b")
	if r := mustAppend(t, st, a, eventstore.Any(), recs(0, 2)...); r != (eventstore.AppendResult{Revision: 1, Position: 2}) {
		t.Fatalf("first append: %+v, want revision 1 position 2", r)
	}
	if r := mustAppend(t, st, b, eventstore.Any(), recs(2, 1)...); r != (eventstore.AppendResult{Revision: 0, Position: 3}) {
		t.Fatalf("second append: %+v, want revision 0 position 3", r)
	}
	for i, e := range readAll(t, st, eventstore.Start) {
		if e.Position != eventstore.Position(i+1) {
			t.Fatalf("event %d has position %d, want %d", i, e.Position, i+1)
		}
	}
	if h := mustHead(t, st); h != 3 {
		t.Fatalf("Head = %d, want 3", h)
	}
}

func (s *suite) testExpectedRevision(t *testing.T) {
	st := s.open(t)
	tests := []struct {
		name     string
		existing int // events already in the stream
		expected eventstore.Expected
		wantErr  bool
		actual   int64 // ConcurrencyError.Actual when wantErr
	}{
		{"any on empty", 0, eventstore.Any(), false, 0},
		{"any on existing", 3, eventstore.Any(), false, 0},
		{"no stream on empty", 0, eventstore.NoStream(), false, 0},
		{"no stream on existing", 1, eventstore.NoStream(), true, 0},
		{"stream exists on empty", 0, eventstore.StreamExists(), true, -1},
		{"stream exists on existing", 2, eventstore.StreamExists(), false, 0},
		{"exact 0 on empty", 0, eventstore.Exact(0), true, -1},
		{"exact last", 3, eventstore.Exact(2), false, 0},
		{"exact behind", 3, eventstore.Exact(1), true, 2},
		{"exact ahead", 3, eventstore.Exact(3), true, 2},
		{"exact 0 on one event", 1, eventstore.Exact(0), false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Given a stream with tc.existing events.
			stream := streamName(t, "exp")
			if tc.existing > 0 {
				mustAppend(t, st, stream, eventstore.NoStream(), recs(0, tc.existing)...)
			}
			head := mustHead(t, st)
			// When appending with tc.expected.
			r := rec(100)
			res, err := st.Append(testCtx(t), stream, tc.expected, r)
			// Then.
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Append: %v", err)
				}
				if res.Revision != uint64(tc.existing) {
					t.Fatalf("revision %d, want %d", res.Revision, tc.existing)
				}
				return
			}
			if !errors.Is(err, eventstore.ErrConcurrency) {
				t.Fatalf("Append error %v, want ErrConcurrency", err)
			}
			var ce *eventstore.ConcurrencyError
			if !errors.As(err, &ce) {
				t.Fatalf("Append error %T does not unwrap to *ConcurrencyError", err)
			}
			if ce.Stream != stream || ce.Actual != tc.actual || ce.Expected != tc.expected {
				t.Fatalf("ConcurrencyError %+v, want stream %s, expected %s, actual %d", ce, stream, tc.expected, tc.actual)
			}
			if h := mustHead(t, st); h != head {
				t.Fatalf("refused append moved Head from %d to %d", head, h)
			}
			if got := countStream(t, st, stream); got != tc.existing {
				t.Fatalf("stream has %d events after a refused append, want %d", got, tc.existing)
			}
		})
	}
}

func countStream(t *testing.T, st eventstore.Store, stream string) int {
	t.Helper()
	evs, err := st.ReadStream(testCtx(t), stream, eventstore.StreamRead{})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return 0
	}
	if err != nil {
		t.Fatalf("ReadStream(%s): %v", stream, err)
	}
	return len(evs)
}

// race runs n appends to stream with exp at once and returns how many won;
// every loser must fail with a ConcurrencyError.
func race(t *testing.T, st eventstore.Store, stream string, exp eventstore.Expected, n int, actual int64) []eventstore.Record {
	t.Helper()
	ctx := testCtx(t)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []eventstore.Record
		start   = make(chan struct{})
	)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			r := rec(1000 + i)
			<-start
			_, err := st.Append(ctx, stream, exp, r)
			errs[i] = err
			if err == nil {
				mu.Lock()
				winners = append(winners, r)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d of %d racing appends with %s won, want exactly 1", len(winners), n, exp)
	}
	for _, err := range errs {
		if err == nil {
			continue
		}
		var ce *eventstore.ConcurrencyError
		if !errors.Is(err, eventstore.ErrConcurrency) || !errors.As(err, &ce) {
			t.Fatalf("losing append: %v, want a *ConcurrencyError matching ErrConcurrency", err)
		}
		if ce.Actual != actual {
			t.Fatalf("losing append saw actual %d, want %d", ce.Actual, actual)
		}
	}
	return winners
}

func (s *suite) testConcurrentExact(t *testing.T) {
	st := s.open(t)
	stream := streamName(t, "race")
	first := rec(0)
	mustAppend(t, st, stream, eventstore.NoStream(), first)
	winners := race(t, st, stream, eventstore.Exact(0), 32, 1)
	evs := mustReadStream(t, st, stream, eventstore.StreamRead{})
	if len(evs) != 2 {
		t.Fatalf("stream has %d events, want 2", len(evs))
	}
	checkEvent(t, evs[0], stream, 0, first)
	checkEvent(t, evs[1], stream, 1, winners[0])
}

func (s *suite) testConcurrentNoStream(t *testing.T) {
	st := s.open(t)
	stream := streamName(t, "race")
	winners := race(t, st, stream, eventstore.NoStream(), 32, 0)
	evs := mustReadStream(t, st, stream, eventstore.StreamRead{})
	if len(evs) != 1 {
		t.Fatalf("stream has %d events, want 1", len(evs))
	}
	checkEvent(t, evs[0], stream, 0, winners[0])
}

// testConcurrentAppends has writers append at their own stream's exact
// revision at once; every append must land, revisions dense per stream.
func (s *suite) testConcurrentAppends(t *testing.T) {
	st := s.open(t)
	const writers, appends = 16, 20
	ctx := testCtx(t)
	streams := make([]string, writers)
	sent := make([][]eventstore.Record, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		streams[w] = streamName(t, fmt.Sprintf("w%d", w))
		wg.Go(func() {
			exp := eventstore.NoStream()
			for i := range appends {
				batch := recs(i*3, 1+i%3)
				res, err := st.Append(ctx, streams[w], exp, batch...)
				if err != nil {
					errs <- fmt.Errorf("writer %d append %d: %w", w, i, err)
					return
				}
				sent[w] = append(sent[w], batch...)
				if res.Revision != uint64(len(sent[w])-1) {
					errs <- fmt.Errorf("writer %d append %d: revision %d, want %d", w, i, res.Revision, len(sent[w])-1)
					return
				}
				exp = eventstore.Exact(res.Revision)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for w, stream := range streams {
		evs := mustReadStream(t, st, stream, eventstore.StreamRead{})
		if len(evs) != len(sent[w]) {
			t.Fatalf("%s: %d events, want %d", stream, len(evs), len(sent[w]))
		}
		for i, e := range evs {
			checkEvent(t, e, stream, uint64(i), sent[w][i])
		}
	}
	checkIncreasing(t, readAll(t, st, eventstore.Start))
}

// testReadsNeverPassHead: while writers append, no read returns an event
// beyond what Head reports right after it — a reader that waits for Head
// (read-your-writes) must never find an event its projections have not
// been told of.
func (s *suite) testReadsNeverPassHead(t *testing.T) {
	st := s.open(t)
	ctx := testCtx(t)
	const writers, appends, readers = 8, 40, 4
	var wg, rg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, writers+readers)
	streams := make([]string, writers)
	for w := range writers {
		streams[w] = streamName(t, fmt.Sprintf("head%d", w))
		wg.Go(func() {
			exp := eventstore.NoStream()
			for i := range appends {
				res, err := st.Append(ctx, streams[w], exp, recs(i, 1)...)
				if err != nil {
					errs <- err
					return
				}
				exp = eventstore.Exact(res.Revision)
			}
		})
	}
	for r := range readers {
		rg.Go(func() {
			for k := 0; ; k++ {
				select {
				case <-done:
					return
				default:
				}
				var seen eventstore.Position
				if r%2 == 0 {
					if err := st.ReadAll(ctx, eventstore.Start, func(e eventstore.Event) error {
						seen = max(seen, e.Position)
						return nil
					}); err != nil {
						errs <- err
						return
					}
				} else {
					evs, err := st.ReadStream(ctx, streams[k%writers], eventstore.StreamRead{Direction: eventstore.Backward, From: ^uint64(0), Limit: 1})
					if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
						errs <- err
						return
					}
					for _, e := range evs {
						seen = max(seen, e.Position)
					}
				}
				head, err := st.Head(ctx)
				if err != nil {
					errs <- err
					return
				}
				if seen > head {
					errs <- fmt.Errorf("a read returned position %d, then Head said %d", seen, head)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func (s *suite) testIdempotentRetry(t *testing.T) {
	st := s.open(t)
	ctx := testCtx(t)
	stream, other := streamName(t, "idem"), streamName(t, "other")
	batch := recs(0, 3)
	orig := mustAppend(t, st, stream, eventstore.NoStream(), batch...)
	later := mustAppend(t, st, stream, eventstore.Exact(2), rec(10))
	head := mustHead(t, st)

	check := func(t *testing.T, name string, got eventstore.AppendResult, want eventstore.AppendResult) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: result %+v, want %+v", name, got, want)
		}
		if h := mustHead(t, st); h != head {
			t.Fatalf("%s: Head moved from %d to %d", name, head, h)
		}
		if n := countStream(t, st, stream); n != 4 {
			t.Fatalf("%s: stream has %d events, want 4", name, n)
		}
	}

	t.Run("same IDs same expectation", func(t *testing.T) {
		res, err := st.Append(ctx, stream, eventstore.NoStream(), batch...)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		check(t, "retry", res, orig)
	})
	t.Run("same IDs any", func(t *testing.T) {
		res, err := st.Append(ctx, stream, eventstore.Any(), batch...)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		check(t, "retry", res, orig)
	})
	t.Run("last append again", func(t *testing.T) {
		r := rec(10)
		r.ID = mustReadStream(t, st, stream, eventstore.StreamRead{From: 3})[0].ID
		res, err := st.Append(ctx, stream, eventstore.Exact(2), r)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		check(t, "retry", res, later)
	})
	refusals := []struct {
		name    string
		stream  string
		records []eventstore.Record
	}{
		{"partial overlap, stored first", stream, []eventstore.Record{batch[2], rec(20)}},
		{"partial overlap, stored last", stream, []eventstore.Record{rec(21), batch[0]}},
		{"stored IDs in another order", stream, []eventstore.Record{batch[1], batch[0]}},
		{"stored IDs with a gap", stream, []eventstore.Record{batch[0], batch[2]}},
		{"stored IDs in another stream", other, batch},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			_, err := st.Append(ctx, tc.stream, eventstore.Any(), tc.records...)
			if !errors.Is(err, eventstore.ErrIdempotency) {
				t.Fatalf("Append: %v, want ErrIdempotency", err)
			}
			if h := mustHead(t, st); h != head {
				t.Fatalf("refused append moved Head from %d to %d", head, h)
			}
			if n := countStream(t, st, stream); n != 4 {
				t.Fatalf("stream has %d events, want 4", n)
			}
			if n := countStream(t, st, other); n != 0 {
				t.Fatalf("other stream has %d events, want 0", n)
			}
		})
	}
}

func (s *suite) testReadStream(t *testing.T) {
	st := s.open(t)
	stream := streamName(t, "rs")
	sent := recs(0, 10)
	mustAppend(t, st, stream, eventstore.NoStream(), sent[:4]...)
	mustAppend(t, st, streamName(t, "noise"), eventstore.NoStream(), rec(50))
	mustAppend(t, st, stream, eventstore.Exact(3), sent[4:]...)
	tests := []struct {
		name string
		read eventstore.StreamRead
		want []int // revisions
	}{
		{"forward all", eventstore.StreamRead{}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"forward from", eventstore.StreamRead{From: 7}, []int{7, 8, 9}},
		{"forward from limit", eventstore.StreamRead{From: 3, Limit: 4}, []int{3, 4, 5, 6}},
		{"forward limit past end", eventstore.StreamRead{From: 8, Limit: 5}, []int{8, 9}},
		{"forward from last", eventstore.StreamRead{From: 9}, []int{9}},
		{"forward from past end", eventstore.StreamRead{From: 10}, nil},
		{"backward from end", eventstore.StreamRead{Direction: eventstore.Backward, From: eventstore.End}, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"backward from end limit", eventstore.StreamRead{Direction: eventstore.Backward, From: eventstore.End, Limit: 3}, []int{9, 8, 7}},
		{"backward from", eventstore.StreamRead{Direction: eventstore.Backward, From: 4}, []int{4, 3, 2, 1, 0}},
		{"backward from limit", eventstore.StreamRead{Direction: eventstore.Backward, From: 5, Limit: 2}, []int{5, 4}},
		{"backward from 0", eventstore.StreamRead{Direction: eventstore.Backward, From: 0}, []int{0}},
		{"backward from past end", eventstore.StreamRead{Direction: eventstore.Backward, From: 42, Limit: 2}, []int{9, 8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustReadStream(t, st, stream, tc.read)
			if len(got) != len(tc.want) {
				t.Fatalf("%d events, want %d", len(got), len(tc.want))
			}
			for i, e := range got {
				checkEvent(t, e, stream, uint64(tc.want[i]), sent[tc.want[i]])
			}
		})
	}
	errTests := []struct {
		name   string
		stream string
		read   eventstore.StreamRead
		want   error
	}{
		{"missing stream", streamName(t, "missing"), eventstore.StreamRead{}, eventstore.ErrStreamNotFound},
		{"missing stream backward", streamName(t, "missing"), eventstore.StreamRead{Direction: eventstore.Backward, From: eventstore.End}, eventstore.ErrStreamNotFound},
		{"invalid stream", "no dash", eventstore.StreamRead{}, eventstore.ErrInvalidStreamID},
		{"negative limit", stream, eventstore.StreamRead{Limit: -1}, eventstore.ErrInvalidArgument},
		{"unknown direction", stream, eventstore.StreamRead{Direction: 7}, eventstore.ErrInvalidArgument},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := st.ReadStream(testCtx(t), tc.stream, tc.read)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ReadStream: %d events, error %v; want %v", len(evs), err, tc.want)
			}
		})
	}
}

func (s *suite) testReadAll(t *testing.T) {
	st := s.open(t)
	ctx := testCtx(t)
	head0 := mustHead(t, st)
	streams := []string{streamName(t, "x"), streamName(t, "y"), streamName(t, "z")}
	var ids []uuid.UUID
	for i := range 30 {
		r := rec(i)
		ids = append(ids, r.ID)
		mustAppend(t, st, streams[i%3], eventstore.Any(), r)
	}
	all := eventsOf(readAll(t, st, head0), streams...)
	if len(all) != 30 {
		t.Fatalf("ReadAll returned %d of our events, want 30", len(all))
	}
	checkIncreasing(t, all)
	for i, e := range all {
		if e.ID != ids[i] || e.Revision != uint64(i/3) {
			t.Fatalf("ReadAll[%d] = %s@%d, want %s@%d", i, e.ID, e.Revision, ids[i], i/3)
		}
	}

	t.Run("after a position", func(t *testing.T) {
		got := eventsOf(readAll(t, st, all[9].Position), streams...)
		if len(got) != 20 || got[0].ID != ids[10] {
			t.Fatalf("ReadAll after event 9: %d events starting with %v, want 20 starting with %s", len(got), first(got), ids[10])
		}
	})
	t.Run("after the head", func(t *testing.T) {
		if got := readAll(t, st, mustHead(t, st)); len(got) != 0 {
			t.Fatalf("ReadAll after Head returned %d events", len(got))
		}
	})
	t.Run("ErrStop", func(t *testing.T) {
		n := 0
		err := st.ReadAll(ctx, all[0].Position-1, func(eventstore.Event) error {
			n++
			if n == 5 {
				return fmt.Errorf("enough: %w", eventstore.ErrStop)
			}
			return nil
		})
		if err != nil || n != 5 {
			t.Fatalf("ReadAll stopped after %d events with %v, want 5 and nil", n, err)
		}
	})
	t.Run("callback error", func(t *testing.T) {
		boom := errors.New("boom")
		n := 0
		err := st.ReadAll(ctx, eventstore.Start, func(eventstore.Event) error {
			n++
			return boom
		})
		if !errors.Is(err, boom) || n != 1 {
			t.Fatalf("ReadAll: %v after %d calls, want boom after 1", err, n)
		}
	})
	t.Run("callback may append", func(t *testing.T) {
		extra := streamName(t, "extra")
		n := 0
		err := st.ReadAll(ctx, all[27].Position, func(e eventstore.Event) error {
			n++
			if n > 10 {
				return fmt.Errorf("ReadAll never ends: %w", eventstore.ErrStop)
			}
			_, err := st.Append(ctx, extra, eventstore.Any(), rec(100+n))
			return err
		})
		if err != nil {
			t.Fatalf("ReadAll with appending callback: %v", err)
		}
	})
}

func first(evs []eventstore.Event) any {
	if len(evs) == 0 {
		return "nothing"
	}
	return evs[0].ID
}

// collector gathers a subscription's events and says when it has n.
type collector struct {
	mu   sync.Mutex
	evs  []eventstore.Event
	want int
	done chan struct{}
}

func newCollector(want int) *collector {
	return &collector{want: want, done: make(chan struct{})}
}

func (c *collector) fn(e eventstore.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evs = append(c.evs, e)
	if len(c.evs) == c.want {
		close(c.done)
		return eventstore.ErrStop
	}
	return nil
}

func (s *suite) testSubscribeLive(t *testing.T) {
	st := s.open(t)
	ctx := testCtx(t)
	head0 := mustHead(t, st)
	const writers, perWriter, before = 4, 50, 100
	pre := streamName(t, "pre")
	for i := range before / 10 {
		mustAppend(t, st, pre, eventstore.Any(), recs(i*10, 10)...)
	}
	// Without a shared log the subscription ends when it has seen all our
	// events; with one it filters.
	total := before + writers*perWriter
	col := newCollector(total)
	mine := map[string]bool{pre: true}
	streams := make([]string, writers)
	for w := range streams {
		streams[w] = streamName(t, fmt.Sprintf("live%d", w))
		mine[streams[w]] = true
	}
	subErr := make(chan error, 1)
	go func() {
		subErr <- st.Subscribe(ctx, head0, func(e eventstore.Event) error {
			if !mine[e.StreamID] {
				return nil
			}
			return col.fn(e)
		})
	}()
	var wg sync.WaitGroup
	appendErrs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := 0; i < perWriter; {
				n := 1 + i%3
				n = min(n, perWriter-i)
				if _, err := st.Append(ctx, streams[w], eventstore.Any(), recs(i, n)...); err != nil {
					appendErrs <- err
					return
				}
				i += n
			}
		})
	}
	wg.Wait()
	close(appendErrs)
	for err := range appendErrs {
		t.Fatalf("append: %v", err)
	}
	// The collector returns ErrStop once it has every event; Subscribe must
	// then return nil.
	select {
	case err := <-subErr:
		if err != nil {
			t.Fatalf("Subscribe: %v, want nil after ErrStop", err)
		}
	case <-ctx.Done():
		col.mu.Lock()
		defer col.mu.Unlock()
		t.Fatalf("Subscribe saw %d of %d events", len(col.evs), total)
	}
	want := eventsOf(readAll(t, st, head0), pre, streams[0], streams[1], streams[2], streams[3])
	sameEvents(t, col.evs, want)
}

// sameEvents fails unless got and want are the same events in the same
// order: no gap, no duplicate.
func sameEvents(t *testing.T, got, want []eventstore.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("subscription delivered %d events, the log holds %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Position != want[i].Position {
			t.Fatalf("subscription event %d is %s@%d, the log has %s@%d", i, got[i].ID, got[i].Position, want[i].ID, want[i].Position)
		}
	}
}

func (s *suite) testSubscribeFromMiddle(t *testing.T) {
	st := s.open(t)
	ctx := testCtx(t)
	stream := streamName(t, "mid")
	mustAppend(t, st, stream, eventstore.NoStream(), recs(0, 10)...)
	evs := mustReadStream(t, st, stream, eventstore.StreamRead{})
	col := newCollector(7) // events 5..9 stored, 10..11 live
	subErr := make(chan error, 1)
	go func() {
		subErr <- st.Subscribe(ctx, evs[4].Position, func(e eventstore.Event) error {
			if e.StreamID != stream {
				return nil
			}
			return col.fn(e)
		})
	}()
	mustAppend(t, st, stream, eventstore.Exact(9), rec(10))
	mustAppend(t, st, stream, eventstore.Exact(10), rec(11))
	if err := <-subErr; err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	all := mustReadStream(t, st, stream, eventstore.StreamRead{})
	sameEvents(t, col.evs, all[5:])
}

func (s *suite) testSubscribeEnds(t *testing.T) {
	t.Run("on cancel while live", func(t *testing.T) {
		st := s.open(t)
		stream := streamName(t, "cancel")
		mustAppend(t, st, stream, eventstore.NoStream(), recs(0, 3)...)
		ctx, cancel := context.WithCancel(testCtx(t))
		caught := make(chan struct{})
		n := 0
		subErr := make(chan error, 1)
		go func() {
			subErr <- st.Subscribe(ctx, eventstore.Start, func(e eventstore.Event) error {
				if e.StreamID == stream {
					if n++; n == 3 {
						close(caught)
					}
				}
				return nil
			})
		}()
		<-caught
		cancel()
		if err := <-subErr; err != nil {
			t.Fatalf("Subscribe after cancel: %v, want nil", err)
		}
	})
	t.Run("on cancelled context", func(t *testing.T) {
		st := s.open(t)
		ctx, cancel := context.WithCancel(testCtx(t))
		cancel()
		if err := st.Subscribe(ctx, eventstore.Start, func(eventstore.Event) error { return nil }); err != nil {
			t.Fatalf("Subscribe with a cancelled context: %v, want nil", err)
		}
	})
	t.Run("with callback error", func(t *testing.T) {
		st := s.open(t)
		stream := streamName(t, "fail")
		mustAppend(t, st, stream, eventstore.NoStream(), rec(0))
		boom := errors.New("boom")
		err := st.Subscribe(testCtx(t), eventstore.Start, func(e eventstore.Event) error {
			if e.StreamID == stream {
				return boom
			}
			return nil
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Subscribe: %v, want boom", err)
		}
	})
	t.Run("on close", func(t *testing.T) {
		st := s.open(t)
		stream := streamName(t, "close")
		mustAppend(t, st, stream, eventstore.NoStream(), rec(0))
		caught := make(chan struct{})
		subErr := make(chan error, 1)
		go func() {
			subErr <- st.Subscribe(testCtx(t), eventstore.Start, func(e eventstore.Event) error {
				if e.StreamID == stream {
					close(caught)
				}
				return nil
			})
		}()
		<-caught
		if err := st.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-subErr; !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("Subscribe after Close: %v, want ErrClosed", err)
		}
	})
}

func (s *suite) testPersistence(t *testing.T) {
	if s.cfg.Ephemeral {
		t.Skip("the store is in-memory: it keeps nothing across Close by design")
	}
	dir := t.TempDir()
	st := s.openIn(t, dir)
	a, b := streamName(t, "p"), streamName(t, "q")
	head0 := mustHead(t, st)
	mustAppend(t, st, a, eventstore.NoStream(), recs(0, 5)...)
	idem := recs(5, 2)
	mustAppend(t, st, b, eventstore.NoStream(), idem...)
	before := readAll(t, st, head0)
	head := mustHead(t, st)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	st2 := s.openIn(t, dir)
	if h := mustHead(t, st2); h != head {
		t.Fatalf("Head after reopen %d, want %d", h, head)
	}
	after := readAll(t, st2, head0)
	if len(after) != len(before) {
		t.Fatalf("after reopen %d events, want %d", len(after), len(before))
	}
	for i := range before {
		checkEvent(t, after[i], before[i].StreamID, before[i].Revision, eventstore.Record{
			ID: before[i].ID, Type: before[i].Type, SchemaVersion: before[i].SchemaVersion,
			OccurredAt: before[i].OccurredAt, Data: before[i].Data, Metadata: before[i].Metadata,
		})
		if after[i].Position != before[i].Position || !after[i].RecordedAt.Equal(before[i].RecordedAt) {
			t.Fatalf("event %d: position %d recordedAt %v after reopen, want %d %v", i,
				after[i].Position, after[i].RecordedAt, before[i].Position, before[i].RecordedAt)
		}
	}
	// The stream index, the idempotency index and the head survive too.
	if res, err := st2.Append(testCtx(t), b, eventstore.NoStream(), idem...); err != nil || res.Revision != 1 {
		t.Fatalf("retry after reopen: %+v, %v; want revision 1", res, err)
	}
	res := mustAppend(t, st2, a, eventstore.Exact(4), rec(9))
	if res.Revision != 5 || res.Position <= head {
		t.Fatalf("append after reopen: %+v, want revision 5 after position %d", res, head)
	}
	if _, err := st2.Append(testCtx(t), a, eventstore.NoStream(), rec(10)); !errors.Is(err, eventstore.ErrConcurrency) {
		t.Fatalf("NoStream on a reopened existing stream: %v, want ErrConcurrency", err)
	}
}

func (s *suite) testLargeEvent(t *testing.T) {
	st := s.open(t)
	stream := streamName(t, "large")
	r := rec(0)
	// A JSON string of 1 MiB.
	body := bytes.Repeat([]byte("0123456789abcdef"), (1<<20)/16)
	r.Data = append(append([]byte(`"`), body[:len(body)-2]...), '"')
	if len(r.Data) != 1<<20 {
		t.Fatalf("test data is %d bytes", len(r.Data))
	}
	small := rec(1)
	res := mustAppend(t, st, stream, eventstore.NoStream(), r, small)
	evs := mustReadStream(t, st, stream, eventstore.StreamRead{})
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	checkEvent(t, evs[0], stream, 0, r)
	checkEvent(t, evs[1], stream, 1, small)
	var viaAll []eventstore.Event
	if err := st.ReadAll(testCtx(t), res.Position-2, func(e eventstore.Event) error {
		viaAll = append(viaAll, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(viaAll) == 0 || !bytes.Equal(viaAll[0].Data, r.Data) {
		t.Fatalf("ReadAll did not return the 1 MiB event intact")
	}
}

func (s *suite) testManyStreams(t *testing.T) {
	st := s.open(t)
	ctx := testCtx(t)
	n := s.cfg.ManyStreams
	prefix := strings.TrimPrefix(streamName(t, "many"), "test-")
	name := func(i int) string { return eventstore.StreamID("test", fmt.Sprintf("%s_%d", prefix, i)) }
	head0 := mustHead(t, st)
	// Many concurrent appenders, so that stores that batch commits can.
	const workers = 256
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				r := rec(i)
				if _, err := st.Append(ctx, name(i), eventstore.NoStream(), r); err != nil {
					errs <- fmt.Errorf("stream %d: %w", i, err)
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
	if !s.cfg.SharedLog {
		if h := mustHead(t, st); h != head0+eventstore.Position(n) {
			t.Fatalf("Head %d, want %d", h, head0+eventstore.Position(n))
		}
	}
	seen := make(map[string]bool, n)
	var last eventstore.Position
	if err := st.ReadAll(ctx, head0, func(e eventstore.Event) error {
		if e.Position <= last {
			return fmt.Errorf("position %d after %d", e.Position, last)
		}
		last = e.Position
		if seen[e.StreamID] {
			return fmt.Errorf("stream %s twice", e.StreamID)
		}
		seen[e.StreamID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		evs := mustReadStream(t, st, name(i), eventstore.StreamRead{Direction: eventstore.Backward, From: eventstore.End})
		if len(evs) != 1 || evs[0].Revision != 0 || !seen[name(i)] {
			t.Fatalf("stream %d: %d events", i, len(evs))
		}
	}
	if len(seen) < n {
		t.Fatalf("ReadAll saw %d streams, want %d", len(seen), n)
	}
}

func (s *suite) testContextCancelled(t *testing.T) {
	st := s.open(t)
	stream := streamName(t, "ctx")
	mustAppend(t, st, stream, eventstore.NoStream(), recs(0, 3)...)
	head := mustHead(t, st)
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()

	if _, err := st.Append(ctx, stream, eventstore.Any(), rec(5)); !errors.Is(err, context.Canceled) {
		t.Errorf("Append: %v, want context.Canceled", err)
	}
	if _, err := st.ReadStream(ctx, stream, eventstore.StreamRead{}); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadStream: %v, want context.Canceled", err)
	}
	called := false
	if err := st.ReadAll(ctx, eventstore.Start, func(eventstore.Event) error { called = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadAll: %v, want context.Canceled", err)
	}
	if called {
		t.Errorf("ReadAll called fn with a cancelled context")
	}
	if _, err := st.Head(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Head: %v, want context.Canceled", err)
	}
	if h := mustHead(t, st); h != head {
		t.Fatalf("Head moved from %d to %d", head, h)
	}
	if n := countStream(t, st, stream); n != 3 {
		t.Fatalf("stream has %d events, want 3", n)
	}

	t.Run("cancel during ReadAll", func(t *testing.T) {
		ctx, cancel := context.WithCancel(testCtx(t))
		defer cancel()
		n := 0
		err := st.ReadAll(ctx, eventstore.Start, func(eventstore.Event) error {
			n++
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ReadAll: %v after %d events, want context.Canceled", err, n)
		}
	})
}

func (s *suite) testInvalidInput(t *testing.T) {
	st := s.open(t)
	stream := streamName(t, "bad")
	mustAppend(t, st, stream, eventstore.NoStream(), rec(0))
	head := mustHead(t, st)
	with := func(f func(*eventstore.Record)) []eventstore.Record {
		r := rec(1)
		f(&r)
		return []eventstore.Record{r}
	}
	dup := rec(2)
	tests := []struct {
		name    string
		stream  string
		records []eventstore.Record
		want    error
	}{
		{"empty stream", "", recs(1, 1), eventstore.ErrInvalidStreamID},
		{"no dash", "customer", recs(1, 1), eventstore.ErrInvalidStreamID},
		{"empty id", "customer-", recs(1, 1), eventstore.ErrInvalidStreamID},
		{"empty category", "-42", recs(1, 1), eventstore.ErrInvalidStreamID},
		{"space in id", "customer-4 2", recs(1, 1), eventstore.ErrInvalidStreamID},
		{"slash in id", "customer-4/2", recs(1, 1), eventstore.ErrInvalidStreamID},
		{"id too long", "customer-" + strings.Repeat("a", 65), recs(1, 1), eventstore.ErrInvalidStreamID},
		{"nul in id", "customer-4\x002", recs(1, 1), eventstore.ErrInvalidStreamID},
		{"no records", stream, nil, eventstore.ErrInvalidRecord},
		{"zero id", stream, with(func(r *eventstore.Record) { r.ID = uuid.Nil }), eventstore.ErrInvalidRecord},
		{"no type", stream, with(func(r *eventstore.Record) { r.Type = "" }), eventstore.ErrInvalidRecord},
		{"schema version 0", stream, with(func(r *eventstore.Record) { r.SchemaVersion = 0 }), eventstore.ErrInvalidRecord},
		{"no occurredAt", stream, with(func(r *eventstore.Record) { r.OccurredAt = time.Time{} }), eventstore.ErrInvalidRecord},
		{"data not JSON", stream, with(func(r *eventstore.Record) { r.Data = []byte(`{"a":`) }), eventstore.ErrInvalidRecord},
		{"data empty", stream, with(func(r *eventstore.Record) { r.Data = nil }), eventstore.ErrInvalidRecord},
		{"metadata not JSON", stream, with(func(r *eventstore.Record) { r.Metadata = []byte(`nope`) }), eventstore.ErrInvalidRecord},
		{"duplicate id in one append", stream, []eventstore.Record{dup, dup}, eventstore.ErrInvalidRecord},
		{"one bad record among good", stream, append(recs(3, 2), with(func(r *eventstore.Record) { r.Data = []byte("{") })...), eventstore.ErrInvalidRecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := st.Append(testCtx(t), tc.stream, eventstore.Any(), tc.records...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Append: %v, want %v", err, tc.want)
			}
			if h := mustHead(t, st); h != head {
				t.Fatalf("refused append moved Head from %d to %d", head, h)
			}
			if n := countStream(t, st, stream); n != 1 {
				t.Fatalf("stream has %d events, want 1", n)
			}
		})
	}
}

func (s *suite) testNoAliasing(t *testing.T) {
	st := s.open(t)
	stream := streamName(t, "alias")
	r := rec(0)
	data := append([]byte(nil), r.Data...)
	mustAppend(t, st, stream, eventstore.NoStream(), r)
	r.Data[1] = 'X' // the caller reuses its buffer
	evs := mustReadStream(t, st, stream, eventstore.StreamRead{})
	if !bytes.Equal(evs[0].Data, data) {
		t.Fatalf("stored data changed with the caller's buffer: %q", evs[0].Data)
	}
	evs[0].Data[1] = 'Y' // the reader scribbles on what it got
	again := mustReadStream(t, st, stream, eventstore.StreamRead{})
	if !bytes.Equal(again[0].Data, data) {
		t.Fatalf("stored data changed with a reader's slice: %q", again[0].Data)
	}
}

func (s *suite) testClosed(t *testing.T) {
	st := s.open(t)
	ctx := testCtx(t)
	stream := streamName(t, "closed")
	mustAppend(t, st, stream, eventstore.NoStream(), rec(0))
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	nop := func(eventstore.Event) error { return nil }
	_, appendErr := st.Append(ctx, stream, eventstore.Any(), rec(1))
	_, readErr := st.ReadStream(ctx, stream, eventstore.StreamRead{})
	_, headErr := st.Head(ctx)
	for name, err := range map[string]error{
		"Append":     appendErr,
		"ReadStream": readErr,
		"ReadAll":    st.ReadAll(ctx, eventstore.Start, nop),
		"Subscribe":  st.Subscribe(ctx, eventstore.Start, nop),
		"Head":       headErr,
		"Close":      st.Close(),
	} {
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}
