package seed_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/embedded"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/seed"
)

func customerCodec(t testing.TB) *codec.Codec {
	t.Helper()
	c, err := codec.New(codec.Options{}, codec.SpecsOf(customer.Events()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// appendOnly hides a store's AppendBatch, so Write falls back to Append.
type appendOnly struct{ eventstore.Store }

// logOf returns the whole log with RecordedAt cleared.
func logOf(t *testing.T, st eventstore.Store) []eventstore.Event {
	t.Helper()
	var out []eventstore.Event
	if err := st.ReadAll(t.Context(), eventstore.Start, func(e eventstore.Event) error {
		e.RecordedAt = time.Time{} // the store's clock: not compared
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameLog(a, b []eventstore.Event) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d events vs %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.ID != y.ID || x.StreamID != y.StreamID || x.Revision != y.Revision || x.Position != y.Position ||
			x.Type != y.Type || x.SchemaVersion != y.SchemaVersion || !x.OccurredAt.Equal(y.OccurredAt) ||
			!bytes.Equal(x.Data, y.Data) || !bytes.Equal(x.Metadata, y.Metadata) {
			return fmt.Errorf("event %d differs: %s %s@%d pos %d vs %s %s@%d pos %d", i, x.ID, x.StreamID, x.Revision, x.Position, y.ID, y.StreamID, y.Revision, y.Position)
		}
	}
	return nil
}

// Given the same config, when it is seeded twice — into different backends,
// with different worker counts, with and without the batch append — then the
// logs are byte-identical apart from RecordedAt, in customer order.
func TestWriteIsDeterministic(t *testing.T) {
	cfg := config(t, 300)
	cd := customerCodec(t)
	openEmbedded := func(t *testing.T) eventstore.Store {
		s, err := embedded.Open(t.TempDir(), embedded.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	runs := []struct {
		name    string
		open    func(t *testing.T) eventstore.Store
		workers int
	}{
		{"embedded, 8 workers", openEmbedded, 8},
		{"embedded, 3 workers", openEmbedded, 3},
		{"memstore, 1 worker", func(*testing.T) eventstore.Store { return memstore.New(memstore.Options{}) }, 1},
		{"fallback to Append, 5 workers", func(*testing.T) eventstore.Store { return appendOnly{memstore.New(memstore.Options{})} }, 5},
	}
	var first []eventstore.Event
	var firstSum seed.Summary
	for _, run := range runs {
		st := run.open(t)
		progress := 0
		sum, err := seed.Write(t.Context(), st, cd, cfg, seed.WriteOptions{Workers: run.workers, Progress: func(n int) { progress += n }})
		if err != nil {
			t.Fatalf("%s: %v", run.name, err)
		}
		if progress != 300 || sum.Customers != 300 {
			t.Fatalf("%s: progress %d, summary %d customers; want 300", run.name, progress, sum.Customers)
		}
		log := logOf(t, st)
		if len(log) != sum.Events {
			t.Fatalf("%s: %d events stored, summary says %d", run.name, len(log), sum.Events)
		}
		if first == nil {
			first, firstSum = log, sum
			// Customer order: each stream's events together, c000000 first.
			last := ""
			for _, e := range log {
				if e.StreamID < last {
					t.Fatalf("stream %s after %s", e.StreamID, last)
				}
				last = e.StreamID
			}
			continue
		}
		if sum != firstSum {
			t.Errorf("%s: summary %+v, want %+v", run.name, sum, firstSum)
		}
		if err := sameLog(first, log); err != nil {
			t.Errorf("%s: %v", run.name, err)
		}
	}
}

// Given a seeded store, when the same config is written again, then nothing
// changes (idempotent retries); a different seed into the same store is
// refused because the streams exist.
func TestWriteAgain(t *testing.T) {
	cfg := config(t, 100)
	cd := customerCodec(t)
	st := memstore.New(memstore.Options{})
	if _, err := seed.Write(t.Context(), st, cd, cfg, seed.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	before := logOf(t, st)
	if _, err := seed.Write(t.Context(), st, cd, cfg, seed.WriteOptions{Workers: 2}); err != nil {
		t.Fatalf("second write: %v", err)
	}
	if err := sameLog(before, logOf(t, st)); err != nil {
		t.Fatalf("second write changed the log: %v", err)
	}
	cfg.Seed++
	if _, err := seed.Write(t.Context(), st, cd, cfg, seed.WriteOptions{}); !errors.Is(err, eventstore.ErrConcurrency) {
		t.Fatalf("another seed into the same store: %v, want ErrConcurrency", err)
	}
}

// Given any worker count, batch size and book size, when Write runs, then it
// finishes with every customer appended exactly once and in order — the
// committer never waits for a chunk that is already pending. Each run has a
// deadline: a deadlock fails the test instead of hanging it.
func TestWriteFinishesForAnyWorkerCount(t *testing.T) {
	const deadline = 2 * time.Minute
	cd := customerCodec(t)
	// The large book runs once per worker count at the default batch; the
	// small one many times at every batch size.
	books := []struct{ customers, rounds int }{{2000, 4}, {20000, 1}}
	workers := []int{1, 8, 64, 256}
	batches := []int{0, 1, 700} // default (4096), one chunk per batch, a few chunks per batch
	if testing.Short() {
		books = books[:1]
	}
	for _, book := range books {
		n := book.customers
		cfg := config(t, n)
		for _, w := range workers {
			for _, b := range batches {
				if n > 2000 && b != 0 {
					continue
				}
				for r := range book.rounds {
					name := fmt.Sprintf("%d customers, %d workers, batch %d, round %d", n, w, b, r)
					st := memstore.New(memstore.Options{})
					written := 0
					done := make(chan error, 1)
					var sum seed.Summary
					go func() {
						var err error
						sum, err = seed.Write(t.Context(), st, cd, cfg, seed.WriteOptions{Workers: w, BatchEvents: b, Progress: func(k int) { written += k }})
						done <- err
					}()
					select {
					case err := <-done:
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
					case <-time.After(deadline):
						t.Fatalf("%s: Write has not returned after %s (deadlock?)", name, deadline)
					}
					if written != n || sum.Customers != n {
						t.Fatalf("%s: progress %d, summary %d customers; want %d", name, written, sum.Customers, n)
					}
					head, err := st.Head(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					if int(head) != sum.Events {
						t.Fatalf("%s: %d events stored, summary says %d", name, head, sum.Events)
					}
				}
			}
		}
	}
}
