package projections_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/internal/testenv"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/checkpoint"
)

func TestNewRejectsBadConfig(t *testing.T) {
	s := newStore(t)
	tests := []struct {
		name string
		deps projections.Deps
		cfg  projections.Config
	}{
		{"no store", projections.Deps{Decoder: testDecoder, Projections: []projections.Projection{newCounter("a")}}, projections.Config{}},
		{"no decoder", projections.Deps{Store: s, Projections: []projections.Projection{newCounter("a")}}, projections.Config{}},
		{"no projections", projections.Deps{Store: s, Decoder: testDecoder}, projections.Config{}},
		{"bad name", projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{newCounter("Bad Name")}}, projections.Config{}},
		{"duplicate name", projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{newCounter("a"), newCounter("a")}}, projections.Config{}},
		{"durable without dir", projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{durable{newCounter("a")}}}, projections.Config{}},
		{"negative flush", projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{newCounter("a")}}, projections.Config{FlushInterval: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := projections.New(tt.deps, tt.cfg); !errors.Is(err, projections.ErrInvalidConfig) {
				t.Fatalf("got %v, want ErrInvalidConfig", err)
			}
		})
	}
}

// Given events stored before Run and more appended concurrently while live,
// every projection applies each position exactly once, in order, with the
// right payload.
func TestForwardsInOrderWithoutGapOrDuplicate(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	appendRange(t, ctx, s, 0, 300, 7)
	a, b := newCounter("a"), newCounter("b")
	r := mustNew(t, projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{a, b}}, projections.Config{})
	stop := running(t, r)

	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() { appendRange(t, ctx, s, 1000*(w+1), 1000*(w+1)+150, 5) })
	}
	wg.Wait()
	h := head(t, s)
	if err := r.WaitFor(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, c := range []*counter{a, b} {
		seen := c.Seen()
		checkExactlyOnce(t, c.name, seen, h)
		for _, ap := range seen {
			evs, err := s.ReadStream(ctx, ap.Stream, eventstore.StreamRead{})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range evs {
				found = found || e.Position == ap.Pos
			}
			if !found {
				t.Fatalf("%s: position %d applied as from %s, which does not hold it", c.name, ap.Pos, ap.Stream)
			}
		}
	}
}

// An event a projection cannot decode stops that projection with an error
// naming the position; a projection that does not want that type goes on.
// Same in the catch-up phase and the live phase.
func TestDecodeFailureStopsOnlyThatProjection(t *testing.T) {
	for _, live := range []bool{false, true} {
		name := map[bool]string{false: "during catch-up", true: "while live"}[live]
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			ctx := t.Context()
			appendRange(t, ctx, s, 0, 20, 3)
			a := newCounter("a")
			b := filtered{&counter{name: "b", skip: poison}}
			r := mustNew(t, projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{a, b}}, projections.Config{})
			poisonAndMore := func() eventstore.Position {
				res, err := s.Append(ctx, "customer-x", eventstore.Any(), record(poison, 99))
				if err != nil {
					t.Fatal(err)
				}
				appendRange(t, ctx, s, 100, 120, 3)
				return res.Position
			}
			var bad eventstore.Position
			if !live {
				bad = poisonAndMore()
			}
			running(t, r)
			if live {
				bad = poisonAndMore()
			}
			h := head(t, s)

			if err := r.WaitFor(ctx, h, "b"); err != nil {
				t.Fatalf("b: %v", err)
			}
			err := r.WaitFor(ctx, h)
			se, ok := errors.AsType[*projections.StoppedError](err)
			if !ok || se.Projection != "a" || se.Position != bad || !se.Decode || !errors.Is(err, errPoison) || !errors.Is(err, projections.ErrStopped) {
				t.Fatalf("WaitFor: got %v, want a StoppedError of a at position %d wrapping errPoison", err, bad)
			}
			checkExactlyOnce(t, "a", a.Seen(), bad-1)
			checkExactlyOnce(t, "b", b.Seen(), h, bad)

			st, err := r.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st[0].State != projections.Stopped || !errors.Is(st[0].Err, projections.ErrStopped) || st[0].Checkpoint != bad-1 || st[0].LagEvents != uint64(h-bad+1) {
				t.Fatalf("status of a: %+v", st[0])
			}
			if st[1].State != projections.Live || st[1].Err != nil || st[1].Checkpoint != h || st[1].LagEvents != 0 {
				t.Fatalf("status of b: %+v", st[1])
			}
		})
	}
}

// A panic in Apply stops that projection (through Recoverer no event is
// redelivered forever) and the process goes on.
func TestApplyPanicStopsOnlyThatProjection(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	a := &counter{name: "a", panicAt: 5}
	b := newCounter("b")
	r := mustNew(t, projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{a, b}}, projections.Config{})
	running(t, r)
	appendRange(t, ctx, s, 0, 10, 2)
	if err := r.WaitFor(ctx, 10, "b"); err != nil {
		t.Fatal(err)
	}
	err := r.WaitFor(ctx, 10, "a")
	if se, ok := errors.AsType[*projections.StoppedError](err); !ok || se.Position != 5 || se.Decode {
		t.Fatalf("got %v, want an apply StoppedError at position 5", err)
	}
	checkExactlyOnce(t, "a", a.Seen(), 4)
}

func TestWaitFor(t *testing.T) {
	s := newStore(t)
	a := newCounter("a")
	r := mustNew(t, projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{a}}, projections.Config{})

	t.Run("unknown name", func(t *testing.T) {
		if err := r.WaitFor(t.Context(), 0, "nope"); !errors.Is(err, projections.ErrUnknownProjection) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("already reached", func(t *testing.T) {
		if err := r.WaitFor(t.Context(), 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ctx ends first", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := r.WaitFor(ctx, 1); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
	stop := running(t, r)
	t.Run("waits for an append", func(t *testing.T) {
		done := make(chan error, 1)
		go func() { done <- r.WaitFor(t.Context(), 3) }()
		appendRange(t, t.Context(), s, 0, 3, 1)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if n := len(a.Seen()); n < 3 {
			t.Fatalf("WaitFor(3) returned with %d events applied", n)
		}
	})
	t.Run("after Run returned", func(t *testing.T) {
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if err := r.WaitFor(t.Context(), 100); !errors.Is(err, projections.ErrNotRunning) {
			t.Fatalf("got %v, want ErrNotRunning", err)
		}
	})
}

// Status reports lag in events and in seconds while a projection is behind.
func TestStatusLag(t *testing.T) {
	recorded := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s := memstore.New(memstore.Options{Clock: func() time.Time { return recorded }})
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	slow := &counter{name: "slow", gate: make(chan struct{})}
	now := recorded.Add(90 * time.Second)
	r := mustNew(t, projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{slow},
		Clock: func() time.Time { return now }}, projections.Config{})
	running(t, r)
	appendRange(t, ctx, s, 0, 5, 1)
	slow.gate <- struct{}{} // let exactly one event through
	if err := r.WaitFor(ctx, 1); err != nil {
		t.Fatal(err)
	}
	st, err := r.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].Checkpoint != 1 || st[0].Head != 5 || st[0].LagEvents != 4 || st[0].LagSeconds != 90 || st[0].State != projections.Live {
		t.Fatalf("status %+v, want checkpoint 1, head 5, lag 4 events / 90 s", st[0])
	}
	close(slow.gate)
	if err := r.WaitFor(ctx, 5); err != nil {
		t.Fatal(err)
	}
	st, err = r.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].LagEvents != 0 || st[0].LagSeconds != 0 {
		t.Fatalf("caught up, status %+v", st[0])
	}
}

// Shutdown stops the forwarder, closes the router and saves durable
// checkpoints at the last applied position; a new runtime resumes from there
// and applies nothing twice.
func TestShutdownFlushesAndRestartResumes(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	dir := t.TempDir()
	cfg := projections.Config{CheckpointDir: dir, FlushInterval: time.Hour}
	appendRange(t, ctx, s, 0, 50, 4)

	first := durable{newCounter("pm")}
	r := mustNew(t, projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{first}}, cfg)
	stop := running(t, r)
	appendRange(t, ctx, s, 50, 80, 4)
	if err := r.WaitFor(ctx, 80); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	d, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := d.Load("pm")
	if err != nil {
		t.Fatal(err)
	}
	if ck.Position != 80 || ck.RecordedAt.IsZero() {
		t.Fatalf("saved checkpoint at %d (recorded %v), want 80", ck.Position, ck.RecordedAt)
	}

	appendRange(t, ctx, s, 80, 120, 4)
	second := durable{newCounter("pm")}
	r2 := mustNew(t, projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{second}}, cfg)
	running(t, r2)
	if len(second.Seen()) < 80 {
		t.Fatalf("restarted projection holds %d events, want the 80 of its snapshot at least", len(second.Seen()))
	}
	appendRange(t, ctx, s, 120, 130, 4)
	if err := r2.WaitFor(ctx, 130); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, "pm", second.Seen(), 130)
}

// A rebuild from zero, run while events are appended, reaches the same
// state as the live path once both have seen the same events.
func TestRebuildDigestEqualsLive(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	appendRange(t, ctx, s, 0, 2000, 13)
	live := newCounter("live")
	r := mustNew(t, projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{live}}, projections.Config{})
	running(t, r)

	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() { appendRange(t, ctx, s, 10000*(w+1), 10000*(w+1)+400, 11) })
	}
	// Rebuild concurrently with the appends, up to whatever the head is now.
	mid := head(t, s)
	during := newCounter("during")
	if err := projections.Rebuild(ctx, s, testDecoder, mid, during); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, "during", during.Seen(), mid)
	wg.Wait()

	h := head(t, s)
	if err := r.WaitFor(ctx, h); err != nil {
		t.Fatal(err)
	}
	after := newCounter("live")
	if err := projections.Rebuild(ctx, s, testDecoder, h, after); err != nil {
		t.Fatal(err)
	}
	got := r.Digests()["live"]
	if got.Position != h {
		t.Fatalf("live digest at %d, want %d", got.Position, h)
	}
	if got.Digest != after.Digest() {
		t.Fatal("rebuilt digest differs from the live one")
	}
	checkExactlyOnce(t, "after", after.Seen(), h)
}

func TestRebuildReportsStoppedProjections(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	appendRange(t, ctx, s, 0, 1500, 3)
	if _, err := s.Append(ctx, "customer-z", eventstore.Any(), record(poison, 1)); err != nil {
		t.Fatal(err)
	}
	appendRange(t, ctx, s, 1500, 1600, 3)
	a := newCounter("a")
	b := filtered{&counter{name: "b", skip: poison}}
	err := projections.Rebuild(ctx, s, testDecoder, 1601, a, b)
	se, ok := errors.AsType[*projections.StoppedError](err)
	if !ok || se.Projection != "a" || se.Position != 1501 {
		t.Fatalf("got %v, want a stopped at 1501", err)
	}
	checkExactlyOnce(t, "a", a.Seen(), 1500)
	checkExactlyOnce(t, "b", b.Seen(), 1601, 1501)
}

func TestRebuildHonoursCancel(t *testing.T) {
	s := newStore(t)
	appendRange(t, t.Context(), s, 0, 3000, 3)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := projections.Rebuild(ctx, s, testDecoder, 3000, newCounter("a")); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// Cancelling Run while a handler is in the middle of an event closes the
// router cleanly and saves the checkpoint of what was applied.
func TestShutdownWhileHandlerBusy(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	dir := t.TempDir()
	pm := durable{&counter{name: "pm", gate: make(chan struct{})}}
	r := mustNew(t, projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{pm}},
		projections.Config{CheckpointDir: dir, FlushInterval: time.Hour})
	stop := running(t, r)
	appendRange(t, ctx, s, 0, 10, 3)
	for range 4 {
		pm.gate <- struct{}{}
	}
	if err := r.WaitFor(ctx, 4); err != nil {
		t.Fatal(err)
	}
	// The handler now waits inside Apply for event 5; the forwarder waits for
	// its ack.
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	d, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := d.Load("pm")
	if err != nil {
		t.Fatal(err)
	}
	if ck.Position != 4 {
		t.Fatalf("checkpoint at %d, want 4", ck.Position)
	}
	checkExactlyOnce(t, "pm", pm.Seen(), 4)
	if st, err := r.Status(ctx); err != nil || st[0].State != projections.Ended || st[0].Err != nil {
		t.Fatalf("status after shutdown: %+v, %v", st, err)
	}
}

// A checkpoint beyond the log's head means the checkpoint directory belongs
// to another store: Run refuses instead of skipping events.
func TestRunRefusesCheckpointAheadOfLog(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	appendRange(t, ctx, s, 0, 5, 1)
	dir := t.TempDir()
	d, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Save("pm", checkpoint.Checkpoint{Position: 10, Snapshot: []byte("[]")}); err != nil {
		t.Fatal(err)
	}
	r := mustNew(t, projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{durable{newCounter("pm")}}},
		projections.Config{CheckpointDir: dir})
	if err := r.Run(ctx); !errors.Is(err, projections.ErrCheckpointAhead) {
		t.Fatalf("got %v, want ErrCheckpointAhead", err)
	}
}

// A decoder that panics on an event counts as a decode failure, in both
// phases.
func TestDecoderPanicIsADecodeFailure(t *testing.T) {
	panicky := projections.DecoderFunc(func(ctx context.Context, e eventstore.Event) (any, error) {
		if e.Type == poison {
			panic("malformed")
		}
		return testDecoder.Decode(ctx, e)
	})
	s := newStore(t)
	ctx := t.Context()
	appendRange(t, ctx, s, 0, 3, 1)
	if _, err := s.Append(ctx, "customer-0", eventstore.Any(), record(poison, 1)); err != nil {
		t.Fatal(err)
	}
	if err := projections.Rebuild(ctx, s, panicky, 4, newCounter("a")); !errors.Is(err, projections.ErrStopped) {
		t.Fatalf("Rebuild: got %v, want ErrStopped", err)
	}
	live := newStore(t)
	appendRange(t, ctx, live, 0, 3, 1)
	a := newCounter("a")
	r := mustNew(t, projections.Deps{Store: live, Decoder: panicky, Projections: []projections.Projection{a}}, projections.Config{})
	running(t, r)
	if _, err := live.Append(ctx, "customer-0", eventstore.Any(), record(poison, 2)); err != nil {
		t.Fatal(err)
	}
	err := r.WaitFor(ctx, 4)
	if se, ok := errors.AsType[*projections.StoppedError](err); !ok || se.Position != 4 || !se.Decode {
		t.Fatalf("WaitFor: got %v, want a decode StoppedError at 4", err)
	}
}

// failingSnapshot is a durable projection whose snapshots fail.
type failingSnapshot struct{ *counter }

var errSnapshot = errors.New("snapshot failed")

func (failingSnapshot) Snapshot() ([]byte, error) { return nil, errSnapshot }
func (failingSnapshot) Restore([]byte) error      { return nil }

// A checkpoint that cannot be saved shows in Status and in Run's error.
func TestCheckpointFailureIsReported(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	appendRange(t, ctx, s, 0, 3, 1)
	r := mustNew(t, projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{failingSnapshot{newCounter("pm")}}},
		projections.Config{CheckpointDir: t.TempDir(), FlushInterval: time.Hour})
	stop := running(t, r)
	st, err := r.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(st[0].CheckpointErr, errSnapshot) {
		t.Fatalf("CheckpointErr %v, want errSnapshot (the save at the end of catch-up failed)", st[0].CheckpointErr)
	}
	if err := stop(); !errors.Is(err, errSnapshot) {
		t.Fatalf("Run: got %v, want the failed final save", err)
	}
}

// Given a runtime logging at INFO, when it starts live, runs and stops, then
// watermill's routine lines (a few per read model) are not in the log; at
// DEBUG they are.
func TestWatermillRoutineLinesAreDebug(t *testing.T) {
	for _, tc := range []struct {
		level slog.Level
		want  bool
	}{{slog.LevelInfo, false}, {slog.LevelDebug, true}} {
		var buf testenv.Buffer
		s := newStore(t)
		appendRange(t, t.Context(), s, 0, 10, 2)
		r := mustNew(t, projections.Deps{
			Store: s, Decoder: testDecoder, Projections: []projections.Projection{newCounter("a"), newCounter("b")},
			Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tc.level})),
		}, projections.Config{CheckpointDir: t.TempDir()})
		stop := running(t, r)
		appendRange(t, t.Context(), s, 10, 20, 2)
		if err := r.WaitFor(t.Context(), 20); err != nil {
			t.Fatal(err)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if got := strings.Contains(out, "Adding handler") && strings.Contains(out, "Starting handler"); got != tc.want {
			t.Errorf("at %v: watermill's handler lines logged = %v, want %v\n%s", tc.level, got, tc.want, out)
		}
	}
}
