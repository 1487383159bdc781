package projections_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/projections"
)

// streamCount counts events per stream; a read model in the Model shape.
type streamCount struct {
	mu     sync.Mutex
	counts map[string]int
}

func (m *streamCount) Name() string { return "stream-count" }

func (m *streamCount) Apply(ev eventstore.Event, p payload) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[ev.StreamID] += p.N
}

func (m *streamCount) Digest() [32]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return sha256.Sum256(fmt.Appendf(nil, "%v", m.counts))
}

func (m *streamCount) Get(stream string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[stream]
}

func ExampleNew() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := memstore.New(memstore.Options{})
	defer store.Close()

	model := &streamCount{counts: map[string]int{}}
	rt, err := projections.New(projections.Deps{
		Store:       store,
		Decoder:     testDecoder,
		Projections: []projections.Projection{projections.Adapt[payload](model)},
	}, projections.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()

	// A command appends; the API then waits for the read models.
	var last eventstore.Position
	for i := 1; i <= 3; i++ {
		res, err := store.Append(ctx, "customer-7", eventstore.Any(), record("Thing", i))
		if err != nil {
			fmt.Println(err)
			return
		}
		last = res.Position
	}
	if err := rt.WaitFor(ctx, last); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("customer-7:", model.Get("customer-7"))
	st, err := rt.Status(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st[0].Name, "checkpoint", st[0].Checkpoint, "lag", st[0].LagEvents)

	cancel()
	fmt.Println("run:", <-done)
	// Output:
	// customer-7: 6
	// stream-count checkpoint 3 lag 0
	// run: <nil>
}

// Adapt stops the projection when the payload is not the model's type.
func TestAdaptRejectsForeignPayload(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	appendRange(t, ctx, s, 0, 5, 2)
	model := &streamCount{counts: map[string]int{}}
	strs := projections.DecoderFunc(func(_ context.Context, e eventstore.Event) (any, error) {
		return strconv.Itoa(int(e.Position)), nil
	})
	err := projections.Rebuild(ctx, s, strs, 5, projections.Adapt[payload](model))
	if se, ok := errors.AsType[*projections.StoppedError](err); !ok || se.Position != 1 || se.Projection != "stream-count" {
		t.Fatalf("got %v, want stream-count stopped at position 1", err)
	}
}

// Adapt keeps the model's Filter and Snapshotter.
func TestAdaptKeepsOptionalInterfaces(t *testing.T) {
	m := &filteredCount{streamCount{counts: map[string]int{}}}
	p := projections.Adapt[payload](m)
	if _, ok := p.(projections.Filter); !ok {
		t.Fatal("adapted projection lost Filter")
	}
	if _, ok := p.(projections.Snapshotter); ok {
		t.Fatal("adapted projection gained Snapshotter")
	}
	s := newStore(t)
	ctx := t.Context()
	appendRange(t, ctx, s, 0, 4, 1)
	if _, err := s.Append(ctx, "customer-0", eventstore.Any(), record(poison, 9)); err != nil {
		t.Fatal(err)
	}
	if err := projections.Rebuild(ctx, s, testDecoder, 5, p); err != nil {
		t.Fatalf("filtered poison still stopped the projection: %v", err)
	}
	if got := m.Get("customer-0"); got != 0+1+2+3 {
		t.Fatalf("count %d, want 6", got)
	}
}

type filteredCount struct{ streamCount }

func (*filteredCount) Wants(t string) bool { return t != poison }
