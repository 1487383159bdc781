package projections_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/projections"
)

// payload is the test events' body: {"n": 7}.
type payload struct {
	N int `json:"n"`
}

// Poison is an event type testDecoder refuses.
const poison = "Poison"

var errPoison = errors.New("poisoned event")

// testDecoder decodes {"n":…} and fails on Poison events.
var testDecoder = projections.DecoderFunc(func(_ context.Context, e eventstore.Event) (any, error) {
	if e.Type == poison {
		return nil, errPoison
	}
	var p payload
	if err := json.Unmarshal(e.Data, &p); err != nil {
		return nil, err
	}
	return p, nil
})

// applied is what a counter saw of one event.
type applied struct {
	Pos    eventstore.Position `json:"p"`
	Stream string              `json:"s"`
	N      int                 `json:"n"`
}

// counter is a test projection that remembers every event it applied.
type counter struct {
	name    string
	skip    string              // event type it does not want ("" = wants all)
	panicAt eventstore.Position // Apply panics at this position
	gate    chan struct{}       // when set, Apply waits for a token

	mu   sync.Mutex
	seen []applied
}

func newCounter(name string) *counter { return &counter{name: name} }

func (c *counter) Name() string { return c.name }

func (c *counter) Apply(ctx context.Context, ev projections.Decoded) error {
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if ev.Event.Position == c.panicAt {
		panic("boom")
	}
	p, ok := ev.Payload.(payload)
	if !ok {
		return fmt.Errorf("payload %T", ev.Payload)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, applied{Pos: ev.Event.Position, Stream: ev.Event.StreamID, N: p.N})
	return nil
}

func (c *counter) Digest() [32]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := sha256.New()
	for _, a := range c.seen {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(a.Pos))
		h.Write(b[:])
		h.Write([]byte(a.Stream))
		binary.LittleEndian.PutUint64(b[:], uint64(a.N))
		h.Write(b[:])
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func (c *counter) Seen() []applied {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.seen)
}

// filtered is a counter that does not want one event type.
type filtered struct{ *counter }

func (f filtered) Wants(t string) bool { return t != f.skip }

// durable is a counter whose state survives restarts through snapshots.
type durable struct{ *counter }

func (d durable) Snapshot() ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return json.Marshal(d.seen)
}

func (d durable) Restore(b []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen = nil
	return json.Unmarshal(b, &d.seen)
}

// record makes the i-th test record: deterministic ID, {"n": i}.
func record(typ string, i int) eventstore.Record {
	return eventstore.Record{
		ID:            uuid.NewSHA1(uuid.NameSpaceOID, []byte("ev-"+strconv.Itoa(i)+typ)),
		Type:          typ,
		SchemaVersion: 1,
		OccurredAt:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
		Data:          []byte(`{"n":` + strconv.Itoa(i) + `}`),
		Metadata:      []byte(`{"actor":"test"}`),
	}
}

// appendRange appends events from..to-1 (type "Thing") round-robin over
// streams customer-0 … customer-(streams-1), one event per append.
func appendRange(tb testing.TB, ctx context.Context, s eventstore.Store, from, to, streams int) {
	tb.Helper()
	for i := from; i < to; i++ {
		if _, err := s.Append(ctx, "customer-"+strconv.Itoa(i%streams), eventstore.Any(), record("Thing", i)); err != nil {
			tb.Error(err)
			return
		}
	}
}

// checkExactlyOnce fails unless seen holds positions 1..head once each, in
// order (positions listed in skipped excepted).
func checkExactlyOnce(t *testing.T, name string, seen []applied, head eventstore.Position, skipped ...eventstore.Position) {
	t.Helper()
	want := eventstore.Position(1)
	for _, a := range seen {
		for slices.Contains(skipped, want) {
			want++
		}
		if a.Pos != want {
			t.Fatalf("%s: applied position %d where %d was due (duplicate, gap or disorder)", name, a.Pos, want)
		}
		want++
	}
	for slices.Contains(skipped, want) {
		want++
	}
	if want != head+1 {
		t.Fatalf("%s: applied up to %d, want %d", name, want-1, head)
	}
}

// running starts r.Run in the background and waits for it to go live. The
// returned stop cancels it and returns Run's error.
func running(t *testing.T, r *projections.Runtime) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	select {
	case <-r.Ready():
	case err := <-errc:
		cancel()
		t.Fatalf("Run ended before going live: %v", err)
	}
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-errc
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func newStore(t *testing.T) *memstore.Store {
	t.Helper()
	s := memstore.New(memstore.Options{})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mustNew(t *testing.T, deps projections.Deps, cfg projections.Config) *projections.Runtime {
	t.Helper()
	r, err := projections.New(deps, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func head(t *testing.T, s eventstore.Store) eventstore.Position {
	t.Helper()
	h, err := s.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return h
}
