package analytics_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/analytics"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/churn"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/transitions"
	"github.com/kefu-crm/kefu/seed"
)

var end = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func seededStore(t testing.TB, customers int) (eventstore.Store, projections.Decoder) {
	t.Helper()
	c, err := codec.New(codec.Options{}, codec.SpecsOf(customer.Events()))
	if err != nil {
		t.Fatal(err)
	}
	s := memstore.New(memstore.Options{})
	cfg := seed.Config{Customers: customers, Seed: 1, End: end, Years: 1.5,
		ReplyClock: customer.ReplyClockFunc(func(t time.Time) (time.Time, bool) { return t.Add(4 * time.Hour), false })}
	if _, err := seed.Write(context.Background(), s, c, cfg, seed.WriteOptions{Workers: 4}); err != nil {
		t.Fatal(err)
	}
	dec := projections.DecoderFunc(func(ctx context.Context, ev eventstore.Event) (any, error) {
		d, err := c.Decode(ctx, ev)
		return d.Payload, err
	})
	return s, dec
}

func TestReplay(t *testing.T) {
	ctx := context.Background()
	store, dec := seededStore(t, 600)
	b1, err := analytics.Replay(ctx, store, dec, analytics.ReplayConfig{})
	if err != nil {
		t.Fatal(err)
	}
	b2, err := analytics.Replay(ctx, store, dec, analytics.ReplayConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if b1.Digest() != b2.Digest() {
		t.Fatal("two replays of one log differ")
	}
	if b1.Lifecycle.Len() != 600 {
		t.Fatalf("%d customers", b1.Lifecycle.Len())
	}
	var view lifecycle.ChurnView
	if b1.Model != nil {
		view = churn.View(*b1.Model, b1.Model.Customers)
	} else {
		t.Logf("no churn model: %v", b1.ModelErr)
	}
	// The transitions log agrees with the live read model: the last
	// bucket's populations are today's counts.
	rep, err := b1.Transitions.LifecycleReport(end.AddDate(-1, 0, 0), b1.AsOf.Add(time.Second), transitions.Month, transitions.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := rep.Buckets[len(rep.Buckets)-1].Population
	counts := b1.Lifecycle.Counts()
	for _, s := range lifecycle.Stages() {
		if last[s] != counts[s] {
			t.Fatalf("%s: report says %d at the end, the read model %d", s, last[s], counts[s])
		}
	}
	// Each customer's stage equals StageAt over its stream (the pure
	// function) under the same churn view.
	checked := 0
	for _, stage := range lifecycle.Stages() {
		ids := b1.Lifecycle.InStage(stage)
		for _, id := range ids[:min(len(ids), 15)] {
			evs, err := store.ReadStream(ctx, "customer-"+id, eventstore.StreamRead{})
			if err != nil {
				t.Fatal(err)
			}
			var facts []lifecycle.Fact
			for _, ev := range evs {
				p, err := dec.Decode(ctx, ev)
				if err != nil {
					t.Fatal(err)
				}
				facts = append(facts, lifecycle.Fact{At: ev.OccurredAt, Event: p.(customer.Event)})
			}
			r, err := lifecycle.StageAt(facts, b1.AsOf, lifecycle.DefaultPolicy(), view)
			if err != nil {
				t.Fatal(err)
			}
			if r.Stage != stage {
				t.Fatalf("customer %s: StageAt says %s, the replay %s", id, r.Stage, stage)
			}
			checked++
		}
	}
	t.Logf("checked %d customers against StageAt", checked)

	// Another policy changes the book; an earlier instant sees less.
	p := lifecycle.DefaultPolicy()
	p.SilentAfterDays = 45
	b45, err := analytics.Replay(ctx, store, dec, analytics.ReplayConfig{Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	if b45.Digest().Lifecycle == b1.Digest().Lifecycle {
		t.Fatal("silentAfterDays 45 changes nothing")
	}
	early, err := analytics.Replay(ctx, store, dec, analytics.ReplayConfig{Until: end.AddDate(0, -6, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if !early.AsOf.Equal(end.AddDate(0, -6, 0)) || early.Lifecycle.Len() >= 600 || early.Events >= b1.Events {
		t.Fatalf("until: as of %s, %d customers, %d events", early.AsOf, early.Lifecycle.Len(), early.Events)
	}
	if rate, closed, ok := b1.RecoveryRate(); !ok || closed == 0 || rate < 0 || rate > 1 {
		t.Fatalf("recovery rate %v of %d", rate, closed)
	}
}

func TestChurnModelAt(t *testing.T) {
	ctx := context.Background()
	store, dec := seededStore(t, 300)
	b, err := analytics.Replay(ctx, store, dec, analytics.ReplayConfig{})
	if err != nil {
		t.Fatal(err)
	}
	now, err := b.PurchaseDays.FitAt(ctx, end, "WEEK")
	if err != nil {
		t.Fatal(err)
	}
	earlier, err := b.PurchaseDays.FitAt(ctx, end.AddDate(0, -6, 0), "DAY")
	if err != nil {
		t.Fatal(err)
	}
	if now.Customers <= earlier.Customers || now.Unit != churn.Week || earlier.Unit != churn.Day {
		t.Fatalf("as of now %d customers (%v), six months earlier %d (%v)", now.Customers, now.Unit, earlier.Customers, earlier.Unit)
	}
	if _, err := b.PurchaseDays.FitAt(ctx, end.AddDate(-5, 0, 0), "DAY"); !errors.Is(err, churn.ErrNoModel) {
		t.Fatalf("before any purchase: %v", err)
	}
	if _, err := b.PurchaseDays.FitAt(ctx, end, "YEAR"); !errors.Is(err, churn.ErrInvalidUnit) {
		t.Fatalf("bad unit: %v", err)
	}
}

// TestChurnViewFallsBelow: the closed form agrees with P(alive).
func TestChurnViewFallsBelow(t *testing.T) {
	m := churn.Model{Params: churn.Params{R: 0.24, Alpha: 4.4 * 7, A: 0.79, B: 2.4}}
	v := churn.View(m, 1000)
	h := lifecycle.Purchases{First: end.AddDate(0, -8, 0), Last: end.AddDate(0, -2, 0), Days: 4}
	for _, p := range []float64{0.3, 0.05} {
		at, ok := v.FallsBelow(h, p)
		if !ok {
			t.Fatalf("P(alive) never falls below %v", p)
		}
		if before, after := v.PAlive(h, at.Add(-2*time.Second)), v.PAlive(h, at.Add(time.Second)); !(before >= p-1e-6 && after < p) {
			t.Fatalf("threshold %v at %s: P before %v, after %v", p, at, before, after)
		}
	}
	if _, ok := v.FallsBelow(lifecycle.Purchases{First: end, Last: end, Days: 1}, 0.3); ok {
		t.Fatal("a one-day buyer never churns in BG/NBD")
	}
	if p := v.PAlive(h, h.Last.AddDate(50, 0, 0)); p >= 0.05 || math.IsNaN(p) {
		t.Fatalf("P(alive) after 50 years %v", p)
	}
}

// TestPurchaseDaysAsProjection: the live path (Adapt + Rebuild) gives the
// same purchase days as the replay's.
func TestPurchaseDaysAsProjection(t *testing.T) {
	ctx := context.Background()
	store, dec := seededStore(t, 100)
	b, err := analytics.Replay(ctx, store, dec, analytics.ReplayConfig{})
	if err != nil {
		t.Fatal(err)
	}
	live := churn.NewPurchaseDays()
	head, _ := store.Head(ctx)
	if err := projections.Rebuild(ctx, store, dec, head, projections.Adapt[customer.Event](live)); err != nil {
		t.Fatal(err)
	}
	if live.Digest() != b.PurchaseDays.Digest() || live.Customers() != b.PurchaseDays.Customers() || live.Customers() == 0 {
		t.Fatalf("live %d customers, replay %d; digests differ: %v", live.Customers(), b.PurchaseDays.Customers(), live.Digest() != b.PurchaseDays.Digest())
	}
	// Re-delivery changes nothing.
	if err := projections.Rebuild(ctx, store, dec, head, projections.Adapt[customer.Event](live)); err != nil {
		t.Fatal(err)
	}
	if live.Digest() != b.PurchaseDays.Digest() {
		t.Fatal("re-applied purchases changed the model")
	}
}
