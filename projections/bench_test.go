package projections_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/projections"
)

// benchEvents is the size of the benchmark log; KEFU_BENCH_EVENTS overrides.
func benchEvents(b *testing.B) int {
	if s := os.Getenv("KEFU_BENCH_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 2_000_000
}

var benchStore struct {
	once sync.Once
	s    *memstore.Store
	n    int
}

// synthetic event mix: mostly contacts, some purchases, few complaints.
type (
	benchContact   struct{ Channel, Direction, Agent, Summary string }
	benchPurchase  struct{ Amount, Currency, SKU string }
	benchComplaint struct {
		ComplaintID, Severity, Summary string
		Rating                         int
	}
)

func benchRecord(i int) eventstore.Record {
	var typ, data string
	switch i % 10 {
	case 0, 1, 2, 3, 4, 5:
		typ = "ContactLogged"
		data = `{"channel":"PHONE","direction":"INBOUND","agent":"agent-0042","summary":"asked about the invoice, promised a call back"}`
	case 6, 7, 8:
		typ = "PurchaseRecorded"
		data = `{"amount":"129.90","currency":"CNY","sku":"sku-` + strconv.Itoa(i%997) + `"}`
	default:
		typ = "ComplaintFiled"
		data = `{"complaintId":"k-` + strconv.Itoa(i) + `","severity":"HIGH","summary":"late delivery","rating":2}`
	}
	var id uuid.UUID
	binary.BigEndian.PutUint64(id[8:], uint64(i)+1)
	id[6] = 0x40
	return eventstore.Record{ID: id, Type: typ, SchemaVersion: 1,
		OccurredAt: time.Unix(1_700_000_000+int64(i), 0).UTC(),
		Data:       []byte(data), Metadata: []byte(`{"actor":"agent-0042"}`)}
}

// loadBenchStore appends n synthetic events over n/20 customer streams.
func loadBenchStore(b *testing.B) *memstore.Store {
	benchStore.once.Do(func() {
		n := benchEvents(b)
		s := memstore.New(memstore.Options{})
		ctx := context.Background()
		streams := max(n/20, 1)
		const perAppend = 10
		for i := 0; i < n; i += perAppend {
			recs := make([]eventstore.Record, 0, perAppend)
			for j := i; j < min(i+perAppend, n); j++ {
				recs = append(recs, benchRecord(j))
			}
			if _, err := s.Append(ctx, "customer-"+strconv.Itoa((i/perAppend)%streams), eventstore.Any(), recs...); err != nil {
				panic(err)
			}
		}
		benchStore.s, benchStore.n = s, n
	})
	return benchStore.s
}

// jsonDecoder decodes the synthetic mix with encoding/json.
var jsonDecoder = projections.DecoderFunc(func(_ context.Context, e eventstore.Event) (any, error) {
	var v any
	switch e.Type {
	case "ContactLogged":
		v = new(benchContact)
	case "PurchaseRecorded":
		v = new(benchPurchase)
	case "ComplaintFiled":
		v = new(benchComplaint)
	default:
		return nil, fmt.Errorf("unknown type %s", e.Type)
	}
	return v, json.Unmarshal(e.Data, v)
})

// nopDecoder measures the runtime without decode cost.
var nopDecoder = projections.DecoderFunc(func(_ context.Context, e eventstore.Event) (any, error) {
	return e.Type, nil
})

// tally is a tiny read model: events and purchases per stream.
type tally struct {
	name      string
	events    map[string]int
	purchases map[string]int
}

func newTally(name string) *tally {
	return &tally{name: name, events: map[string]int{}, purchases: map[string]int{}}
}

func (t *tally) Name() string { return t.name }

func (t *tally) Apply(_ context.Context, ev projections.Decoded) error {
	t.events[ev.Event.StreamID]++
	if _, ok := ev.Payload.(*benchPurchase); ok {
		t.purchases[ev.Event.StreamID]++
	}
	return nil
}

func (t *tally) Digest() [32]byte {
	return sha256.Sum256(fmt.Appendf(nil, "%v%v", t.events, t.purchases))
}

func BenchmarkRebuild(b *testing.B) {
	s := loadBenchStore(b)
	n := benchStore.n
	ctx := b.Context()
	b.Run("ReadAll", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			count := 0
			if err := s.ReadAll(ctx, 0, func(eventstore.Event) error { count++; return nil }); err != nil {
				b.Fatal(err)
			}
			if count != n {
				b.Fatalf("read %d events, want %d", count, n)
			}
		}
		reportRates(b, float64(n)*float64(b.N), cpu0)
	})
	for _, bc := range []struct {
		name  string
		dec   projections.Decoder
		projs int
	}{
		{"NoDecode/1proj", nopDecoder, 1},
		{"JSON/1proj", jsonDecoder, 1},
		{"JSON/3proj", jsonDecoder, 3},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				ps := make([]projections.Projection, bc.projs)
				for i := range ps {
					ps[i] = newTally("t" + strconv.Itoa(i))
				}
				if err := projections.Rebuild(ctx, s, bc.dec, eventstore.Position(n), ps...); err != nil {
					b.Fatal(err)
				}
			}
			reportRates(b, float64(n)*float64(b.N), cpu0)
		})
	}
}

// BenchmarkLive measures the watermill path: append one event, wait until
// the projection applied it.
func BenchmarkLive(b *testing.B) {
	s := memstore.New(memstore.Options{})
	defer s.Close()
	ctx, cancel := context.WithCancel(b.Context())
	r, err := projections.New(projections.Deps{Store: s, Decoder: jsonDecoder,
		Projections: []projections.Projection{newTally("a"), newTally("b"), newTally("c")}}, projections.Config{})
	if err != nil {
		b.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	<-r.Ready()
	i := 0
	for b.Loop() {
		res, err := s.Append(ctx, "customer-"+strconv.Itoa(i%100), eventstore.Any(), benchRecord(i))
		if err != nil {
			b.Fatal(err)
		}
		if err := r.WaitFor(ctx, res.Position); err != nil {
			b.Fatal(err)
		}
		i++
	}
	cancel()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLiveThroughput measures the watermill path's throughput: events
// appended in batches of 100, then wait for the last.
func BenchmarkLiveThroughput(b *testing.B) {
	s := memstore.New(memstore.Options{})
	defer s.Close()
	ctx, cancel := context.WithCancel(b.Context())
	r, err := projections.New(projections.Deps{Store: s, Decoder: jsonDecoder,
		Projections: []projections.Projection{newTally("a"), newTally("b"), newTally("c")}}, projections.Config{})
	if err != nil {
		b.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	<-r.Ready()
	b.ResetTimer()
	recs := make([]eventstore.Record, 0, 100)
	for i := 0; i < b.N; i++ {
		recs = append(recs, benchRecord(i))
		if len(recs) == cap(recs) || i == b.N-1 {
			if _, err := s.Append(ctx, "customer-"+strconv.Itoa(i%100), eventstore.Any(), recs...); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	if err := r.WaitFor(ctx, eventstore.Position(b.N)); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	cancel()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}

// reportRates reports events per wall-clock second and CPU nanoseconds per
// event (user+system time of the whole process, all goroutines): on a
// loaded machine the wall-clock rate says little, while 2e9 / cpu-ns/event
// bounds what two dedicated cores would reach.
func reportRates(b *testing.B, events float64, cpu0 time.Duration) {
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/events, "cpu-ns/event")
	}
}
