package storebench_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
	"github.com/kefu-crm/kefu/eventstore/postgres"
)

// The fixture log: shortStreams streams of 10 events and longStreams of 50.
const (
	shortStreams = 9_000
	longStreams  = 200
	fixtureTotal = shortStreams*10 + longStreams*50
)

// record is a ~320-byte event shaped like a ContactLogged with a sealed
// summary.
func record(n int) eventstore.Record {
	return eventstore.Record{
		ID: uuid.New(), Type: "ContactLogged", SchemaVersion: 1,
		OccurredAt: time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute),
		Data: fmt.Appendf(nil, `{"channel":"PHONE","direction":"INBOUND","agent":"agent-%04d","summary":"pii:v1:`+
			`Q2FsbGVkIGFib3V0IHRoZSBsYXRlIGRlbGl2ZXJ5IG9mIG9yZGVyIDQyOyBjdXN0b21lciB3YW50cyBhIGNhbGwgYmFjaw==","n":%d}`, n%1000, n),
		Metadata: []byte(`{"correlationId":"5f0c6f7e-2b7d-4c1e-9a43-0d3f1b2c4e5a","actor":"agent-0042"}`),
	}
}

// backend opens a fresh, empty store of one kind.
type backend struct {
	name string
	open func(b *testing.B) eventstore.Store
}

func backends(b *testing.B) []backend {
	bs := []backend{{"embedded", func(b *testing.B) eventstore.Store {
		s, err := embedded.Open(b.TempDir(), embedded.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		return s
	}}}
	conn := os.Getenv("KEFU_TEST_PG")
	if conn == "" {
		b.Log("KEFU_TEST_PG not set: measuring the embedded store only")
		return bs
	}
	return append(bs, backend{"postgres", func(b *testing.B) eventstore.Store {
		schema := "kefu_bench_" + uuid.NewString()[:8]
		s, err := postgres.Open(b.Context(), conn, postgres.Options{Schema: schema})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			_ = s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if c, err := pgx.Connect(ctx, conn); err == nil {
				_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
				_ = c.Close(ctx)
			}
		})
		return s
	}})
}

// fill appends the fixture: 64 writers, one stream's events per append.
func fill(b *testing.B, s eventstore.Store) {
	var next, n atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= shortStreams+longStreams {
					return
				}
				stream, k := fmt.Sprintf("customer-%d", i), 10
				if i >= shortStreams {
					stream, k = fmt.Sprintf("customer-long%d", i-shortStreams), 50
				}
				recs := make([]eventstore.Record, k)
				for j := range recs {
					recs[j] = record(int(n.Add(1)))
				}
				if _, err := s.Append(b.Context(), stream, eventstore.NoStream(), recs...); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkAppend64 has 64 writers append one event each to streams of
// their own, each append durable when it returns.
func BenchmarkAppend64(b *testing.B) {
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			var next atomic.Int64
			per := b.N/64 + 1
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := range 64 {
				wg.Go(func() {
					for i := range per {
						if _, err := s.Append(b.Context(), fmt.Sprintf("customer-w%d-%d", w, i), eventstore.NoStream(), record(int(next.Add(1)))); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(64*per)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkReadAll reads the whole 100,000-event log in global order.
func BenchmarkReadAll(b *testing.B) {
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			fill(b, s)
			b.ResetTimer()
			for b.Loop() {
				n := 0
				if err := s.ReadAll(b.Context(), eventstore.Start, func(eventstore.Event) error { n++; return nil }); err != nil || n != fixtureTotal {
					b.Fatalf("read %d events, %v", n, err)
				}
			}
			b.ReportMetric(float64(b.N*fixtureTotal)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkReadStream50 reads one whole 50-event stream, a random one each
// time.
func BenchmarkReadStream50(b *testing.B) {
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			fill(b, s)
			rng := rand.New(rand.NewPCG(1, 2))
			b.ResetTimer()
			for b.Loop() {
				evs, err := s.ReadStream(b.Context(), fmt.Sprintf("customer-long%d", rng.IntN(longStreams)), eventstore.StreamRead{})
				if err != nil || len(evs) != 50 {
					b.Fatalf("%d events, %v", len(evs), err)
				}
			}
		})
	}
}
