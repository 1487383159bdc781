// Package rebuildbench_test benchmarks projections.Rebuild over a seeded
// history with the real codec and read models. It lives apart from package
// projections so that the runtime's own tests do not depend on the domain,
// the codec and the seed generator.
package rebuildbench_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/pii"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/complaints"
	"github.com/kefu-crm/kefu/projections/followups"
	"github.com/kefu-crm/kefu/seed"
)

var seeded struct {
	once  sync.Once
	store *memstore.Store
	codec *codec.Codec
	head  eventstore.Position
	err   error
}

// loadSeeded writes a seeded history (KEFU_BENCH_CUSTOMERS customers,
// default 20,000) with the real codec and personal-data vault.
func loadSeeded(b *testing.B) (*memstore.Store, *codec.Codec, eventstore.Position) {
	seeded.once.Do(func() {
		n := 20_000
		if s := os.Getenv("KEFU_BENCH_CUSTOMERS"); s != "" {
			n, seeded.err = strconv.Atoi(s)
			if seeded.err != nil {
				return
			}
		}
		vault := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{})
		seeded.codec, seeded.err = codec.New(codec.Options{Protector: vault}, codec.SpecsOf(customer.Events()))
		if seeded.err != nil {
			return
		}
		seeded.store = memstore.New(memstore.Options{})
		ctx := context.Background()
		halfDay := customer.ReplyClockFunc(func(t time.Time) (time.Time, bool) { return t.Add(4 * time.Hour), false })
		_, seeded.err = seed.Write(ctx, seeded.store, seeded.codec, seed.Config{
			Customers: n, Seed: 1, End: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ReplyClock: halfDay,
		}, seed.WriteOptions{Workers: 2})
		if seeded.err != nil {
			return
		}
		seeded.head, seeded.err = seeded.store.Head(ctx)
	})
	if seeded.err != nil {
		b.Fatal(seeded.err)
	}
	return seeded.store, seeded.codec, seeded.head
}

// BenchmarkRebuildSeeded rebuilds real read models (complaints, follow-ups)
// from a seeded history with the real codec (personal data opened by the
// vault).
func BenchmarkRebuildSeeded(b *testing.B) {
	s, c, h := loadSeeded(b)
	ctx := b.Context()
	dec := projections.DecoderFunc(func(ctx context.Context, e eventstore.Event) (any, error) {
		d, err := c.Decode(ctx, e)
		return d.Payload, err
	})
	b.Run("ReadAll", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			if err := s.ReadAll(ctx, 0, func(eventstore.Event) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
		reportRates(b, float64(h)*float64(b.N), cpu0)
	})
	b.Run("DecodeOnly", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			if err := projections.Rebuild(ctx, s, dec, h, newTally("t")); err != nil {
				b.Fatal(err)
			}
		}
		reportRates(b, float64(h)*float64(b.N), cpu0)
	})
	b.Run("ComplaintsFollowups", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			err := projections.Rebuild(ctx, s, dec, h,
				projections.Adapt[customer.Event](complaints.New()), projections.Adapt[customer.Event](followups.New()))
			if err != nil {
				b.Fatal(err)
			}
		}
		reportRates(b, float64(h)*float64(b.N), cpu0)
	})
	b.ReportMetric(float64(h), "events")
}

// tally is a tiny read model: events per stream.
type tally struct{ events map[string]int }

func newTally(string) *tally { return &tally{events: map[string]int{}} }

func (t *tally) Name() string { return "tally" }

func (t *tally) Apply(_ context.Context, ev projections.Decoded) error {
	t.events[ev.Event.StreamID]++
	return nil
}

func (t *tally) Digest() [32]byte { return sha256.Sum256(fmt.Appendf(nil, "%v", t.events)) }

// reportRates reports events per wall-clock second and CPU nanoseconds per
// event (user+system time of the whole process).
func reportRates(b *testing.B, events float64, cpu0 time.Duration) {
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/events, "cpu-ns/event")
	}
}
