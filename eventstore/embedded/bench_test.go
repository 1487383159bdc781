package embedded_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
)

// contactLogged is a ~320-byte record (data plus metadata) shaped like a
// real ContactLogged with an encrypted summary.
func contactLogged(n int) eventstore.Record {
	return eventstore.Record{
		ID:            uuid.New(),
		Type:          "ContactLogged",
		SchemaVersion: 1,
		OccurredAt:    time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute),
		Data: fmt.Appendf(nil, `{"channel":"PHONE","direction":"INBOUND","agent":"agent-%04d","summary":{"enc":"v1:k42:`+
			`Q2FsbGVkIGFib3V0IHRoZSBsYXRlIGRlbGl2ZXJ5IG9mIG9yZGVyIDQyOyBjdXN0b21lciB3YW50cyBhIGNhbGwgYmFjaw=="},"relatesToComplaint":null,"n":%d}`, n%1000, n),
		Metadata: []byte(`{"correlationId":"5f0c6f7e-2b7d-4c1e-9a43-0d3f1b2c4e5a","actor":"agent-0042"}`),
	}
}

// contactLoggedData is the shape benchmarks decode contactLogged's data into.
type contactLoggedData struct {
	Channel            string          `json:"channel"`
	Direction          string          `json:"direction"`
	Agent              string          `json:"agent"`
	Summary            json.RawMessage `json:"summary"`
	RelatesToComplaint *string         `json:"relatesToComplaint"`
	N                  int             `json:"n"`
}

// Fixture sizes: shortStreams streams of 10 events, then longStreams
// streams of 50 events, appended round-robin so that a stream's events
// spread over the log as they would over time.
const (
	shortStreams = 98_000
	longStreams  = 2_000
	shortEvents  = 10
	longEvents   = 50
	fixtureTotal = shortStreams*shortEvents + longStreams*longEvents
)

func longStream(i int) string  { return fmt.Sprintf("customer-long%d", i) }
func shortStream(i int) string { return fmt.Sprintf("customer-%d", i) }

// Fill appends, round after round, perAppend events to every stream that
// wants more, with many concurrent appenders so that group commit batches
// them. It is how benchmarks build a large store quickly through the public
// API.
func fill(ctx context.Context, s eventstore.Store, streams []string, events func(i int) int, perAppend, workers int) error {
	var n atomic.Int64
	for round := 0; ; round++ {
		var todo []int
		for i := range streams {
			if events(i) > round*perAppend {
				todo = append(todo, i)
			}
		}
		if len(todo) == 0 {
			return nil
		}
		var (
			wg    sync.WaitGroup
			next  atomic.Int64
			first atomic.Pointer[error]
		)
		for range workers {
			wg.Go(func() {
				for {
					j := int(next.Add(1)) - 1
					if j >= len(todo) || first.Load() != nil {
						return
					}
					i := todo[j]
					k := min(perAppend, events(i)-round*perAppend)
					batch := make([]eventstore.Record, k)
					for b := range batch {
						batch[b] = contactLogged(int(n.Add(1)))
					}
					if _, err := s.Append(ctx, streams[i], eventstore.Any(), batch...); err != nil {
						first.CompareAndSwap(nil, &err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err := first.Load(); err != nil {
			return *err
		}
	}
}

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

// fixture returns the directory of a closed store of fixtureTotal events,
// built once per test binary run.
func fixture(b *testing.B) string {
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "kefu-embedded-bench-")
		if fixtureErr != nil {
			return
		}
		start := time.Now()
		s, err := embedded.Open(fixtureDir, embedded.Options{})
		if err != nil {
			fixtureErr = err
			return
		}
		defer s.Close()
		streams := make([]string, 0, shortStreams+longStreams)
		for i := range shortStreams {
			streams = append(streams, shortStream(i))
		}
		for i := range longStreams {
			streams = append(streams, longStream(i))
		}
		fixtureErr = fill(context.Background(), s, streams, func(i int) int {
			if i < shortStreams {
				return shortEvents
			}
			return longEvents
		}, 5, 512)
		st, _ := os.Stat(fixtureDir + "/" + embedded.FileName)
		fmt.Fprintf(os.Stderr, "fixture: %d events in %d streams built in %v, file %d MiB\n",
			fixtureTotal, shortStreams+longStreams, time.Since(start).Round(time.Millisecond), st.Size()>>20)
	})
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return fixtureDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		_ = os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

func BenchmarkAppendBatch100(b *testing.B) {
	s := open(b, b.TempDir())
	defer s.Close()
	batch := make([]eventstore.Record, 100)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for j := range batch {
			batch[j] = contactLogged(i*100 + j)
		}
		if _, err := s.Append(b.Context(), shortStream(i), eventstore.NoStream(), batch...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendBatchStreams has callers goroutines each send AppendBatch
// calls of 1000 new streams × 5 events (durable when the call returns); the
// records are built outside the timed part.
func BenchmarkAppendBatchStreams(b *testing.B) {
	const streams, events = 1000, 5
	for _, callers := range []int{1, 4} {
		b.Run(fmt.Sprintf("1000x5/callers=%d", callers), func(b *testing.B) {
			s := open(b, b.TempDir())
			defer s.Close()
			var next atomic.Int64
			mk := func() []eventstore.StreamAppend {
				items := make([]eventstore.StreamAppend, streams)
				for i := range items {
					n := int(next.Add(1))
					recs := make([]eventstore.Record, events)
					for j := range recs {
						recs[j] = contactLogged(n*events + j)
					}
					items[i] = eventstore.StreamAppend{Stream: shortStream(n), Expected: eventstore.NoStream(), Records: recs}
				}
				return items
			}
			var elapsed time.Duration
			calls := 0
			for b.Loop() {
				b.StopTimer()
				batches := make([][]eventstore.StreamAppend, callers)
				for c := range batches {
					batches[c] = mk()
				}
				b.StartTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for _, items := range batches {
					wg.Go(func() {
						res, err := s.AppendBatch(b.Context(), items)
						if err != nil {
							b.Error(err)
							return
						}
						for _, r := range res {
							if r.Err != nil {
								b.Error(r.Err)
								return
							}
						}
					})
				}
				wg.Wait()
				elapsed += time.Since(start)
				calls += callers
			}
			b.ReportMetric(float64(calls*streams*events)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(b.N), "ms/round")
		})
	}
}

// BenchmarkAppendConcurrent64 has 64 goroutines append one event each to
// their own streams; each append is durable when it returns.
func BenchmarkAppendConcurrent64(b *testing.B) {
	s := open(b, b.TempDir())
	defer s.Close()
	var next atomic.Int64
	per := b.N/64 + 1
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Go(func() {
			for i := range per {
				n := int(next.Add(1))
				if _, err := s.Append(b.Context(), shortStream(w*per+i), eventstore.Any(), contactLogged(n)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(64*per)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkReadAll reads the whole fixture log: raw is the chunked bbolt
// scan alone, decode is ReadAll (scan + envelope decode into Events), json
// adds encoding/json decoding of each event's data.
func BenchmarkReadAll(b *testing.B) {
	dir := fixture(b)
	s := open(b, dir)
	defer s.Close()
	var rawRate float64
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			n, _, err := s.ScanRaw(b.Context())
			if err != nil || n != fixtureTotal {
				b.Fatalf("scanned %d, %v", n, err)
			}
		}
		rawRate = float64(b.N*fixtureTotal) / b.Elapsed().Seconds()
		b.ReportMetric(rawRate, "events/s")
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			n := 0
			if err := s.ReadAll(b.Context(), eventstore.Start, func(e eventstore.Event) error {
				n += len(e.Data)
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
		rate := float64(b.N*fixtureTotal) / b.Elapsed().Seconds()
		b.ReportMetric(rate, "events/s")
		if rawRate > 0 {
			b.ReportMetric(rate/rawRate, "x_raw")
		}
	})
	b.Run("decode+json", func(b *testing.B) {
		for b.Loop() {
			var d contactLoggedData
			if err := s.ReadAll(b.Context(), eventstore.Start, func(e eventstore.Event) error {
				return json.Unmarshal(e.Data, &d)
			}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*fixtureTotal)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkReadStream50 reads a whole 50-event stream, a random one each
// time, from the fixture of 100,000 streams.
func BenchmarkReadStream50(b *testing.B) {
	dir := fixture(b)
	s := open(b, dir)
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		evs, err := s.ReadStream(b.Context(), longStream(rng.IntN(longStreams)), eventstore.StreamRead{})
		if err != nil || len(evs) != longEvents {
			b.Fatalf("%d events, %v", len(evs), err)
		}
	}
}
