package server

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
)

// The lag in seconds is the age of the oldest event a projection has not
// applied: with events recorded at t0, t0+10m and t0+20m, a projection
// that applied only the first is 20 minutes behind at t0+30m — not 30
// (the age of what it applied last, which is what an idle store followed
// by one new event would otherwise show), and 0 once caught up.
func TestLagSecondsIsTheAgeOfTheOldestUnappliedEvent(t *testing.T) {
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	s, err := New(t.Context(), Config{DataDir: t.TempDir(), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for i, at := range []time.Time{t0, t0.Add(10 * time.Minute), t0.Add(20 * time.Minute)} {
		set(at)
		rec := eventstore.Record{ID: uuid.New(), Type: "LagProbe", SchemaVersion: 1, OccurredAt: at, Data: []byte(`{}`)}
		if _, err := s.dir.Store.Append(context.Background(), "probe-lag", eventstore.Any(), rec); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	set(t0.Add(30 * time.Minute))
	sts := []projections.Status{
		{Name: "behind", Checkpoint: 1, Head: 3, LagEvents: 2, LagSeconds: (30 * time.Minute).Seconds()},
		{Name: "caught-up", Checkpoint: 3, Head: 3},
	}
	got := s.lagSeconds(t.Context(), sts)
	if got[0] != (20*time.Minute).Seconds() || got[1] != 0 {
		t.Errorf("lag seconds %v, want [1200 0]", got)
	}
}
