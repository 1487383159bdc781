package migrate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/eventstore/migrate"
	"github.com/kefu-crm/kefu/pii"
)

// source builds an embedded store with n events spread over streams in an
// interleaved order, in appends of one to three events.
func source(t *testing.T, n int) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	streams := []string{"customer-1", "customer-2", "campaign-spring", "customer-3"}
	revs := map[string]int{}
	for i := 0; i < n; {
		stream := streams[(i*7/3)%len(streams)]
		size := min(1+i%3, n-i)
		recs := make([]eventstore.Record, size)
		for j := range recs {
			recs[j] = eventstore.Record{
				ID: uuid.New(), Type: "ContactLogged", SchemaVersion: 1 + (i+j)%2,
				OccurredAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i+j) * time.Hour),
				Data:       fmt.Appendf(nil, `{"n":%d}`, i+j),
			}
			if (i+j)%3 != 0 {
				recs[j].Metadata = fmt.Appendf(nil, `{"correlationId":"c-%d", "actor":"a"}`, i+j)
			}
		}
		exp := eventstore.NoStream()
		if r, ok := revs[stream]; ok {
			exp = eventstore.Exact(uint64(r))
		}
		res, err := s.Append(ctx, stream, exp, recs...)
		if err != nil {
			t.Fatal(err)
		}
		revs[stream] = int(res.Revision)
		i += size
	}
	return s
}

func all(t *testing.T, s eventstore.Store) []eventstore.Event {
	t.Helper()
	var out []eventstore.Event
	if err := s.ReadAll(t.Context(), eventstore.Start, func(e eventstore.Event) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameLog fails unless the target holds the source's events in the same
// global order with the same content.
func sameLog(t *testing.T, from, to eventstore.Store) {
	t.Helper()
	a, b := all(t, from), all(t, to)
	if len(a) != len(b) {
		t.Fatalf("target holds %d events, source %d", len(b), len(a))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.ID != y.ID || x.StreamID != y.StreamID || x.Revision != y.Revision || x.Type != y.Type ||
			x.SchemaVersion != y.SchemaVersion || !x.OccurredAt.Equal(y.OccurredAt) ||
			!bytes.Equal(x.Data, y.Data) || !bytes.Equal(x.Metadata, y.Metadata) {
			t.Fatalf("event %d:\n source %+v\n target %+v", i, x, y)
		}
		if i > 0 && y.Position <= b[i-1].Position {
			t.Fatalf("target positions not increasing at %d", i)
		}
	}
}

func TestMigrateCopiesInGlobalOrder(t *testing.T) {
	from, to := source(t, 200), memstore.New(memstore.Options{})
	var progressed int
	st, err := migrate.Migrate(t.Context(), from, to, migrate.Options{Progress: func(n int, _ eventstore.Position) { progressed += n }})
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if st.Events != 200 || st.Skipped != 0 || progressed != 200 || st.Last != 200 {
		t.Fatalf("stats %+v, progress %d; want 200 events, none skipped, last 200", st, progressed)
	}
	sameLog(t, from, to)
	// A second run finds everything in place and writes nothing.
	head, _ := to.Head(t.Context())
	st2, err := migrate.Migrate(t.Context(), from, to, migrate.Options{MaxBatch: 2})
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if h, _ := to.Head(t.Context()); h != head || st2.Events != 200 {
		t.Fatalf("second run: head %d → %d, stats %+v", head, h, st2)
	}
	sameLog(t, from, to)
}

// failing fails its n-th append (after which it works again).
type failing struct {
	eventstore.Store
	mu    sync.Mutex
	calls int
	n     int
}

var errInjected = errors.New("injected: connection lost")

func (f *failing) Append(ctx context.Context, stream string, exp eventstore.Expected, recs ...eventstore.Record) (eventstore.AppendResult, error) {
	f.mu.Lock()
	f.calls++
	fail := f.calls == f.n
	f.mu.Unlock()
	if fail {
		return eventstore.AppendResult{}, errInjected
	}
	return f.Store.Append(ctx, stream, exp, recs...)
}

func TestMigrateResumesAfterInterruption(t *testing.T) {
	tests := []struct {
		name        string
		every       int // checkpoint every
		firstBatch  int
		secondBatch int
		checkpoint  bool
	}{
		{"checkpoint lags, same batching", 25, 3, 3, true},
		{"checkpoint lags, other batching", 25, 3, 1, true},
		{"checkpoint lags, larger batches overlap", 25, 1, 50, true},
		{"no checkpoint: rerun from the start", 0, 2, 7, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Given a copy interrupted by a failed append.
			from := source(t, 300)
			mem := memstore.New(memstore.Options{})
			var cp migrate.Checkpoint
			if tc.checkpoint {
				cp = migrate.FileCheckpoint{Path: filepath.Join(t.TempDir(), "migrate.checkpoint")}
			}
			st1, err := migrate.Migrate(t.Context(), from, &failing{Store: mem, n: 40}, migrate.Options{Checkpoint: cp, CheckpointEvery: tc.every, MaxBatch: tc.firstBatch})
			if !errors.Is(err, errInjected) {
				t.Fatalf("first run: %v, want the injected failure", err)
			}
			if st1.Events == 0 || st1.Events >= 300 {
				t.Fatalf("first run covered %d events; the test wants an interruption in the middle", st1.Events)
			}
			if tc.checkpoint {
				p, err := cp.Load()
				if err != nil || p == eventstore.Start || p > st1.Last {
					t.Fatalf("checkpoint %d (%v) after a run that reached %d", p, err, st1.Last)
				}
			}
			// When it is run again.
			st2, err := migrate.Migrate(t.Context(), from, mem, migrate.Options{Checkpoint: cp, CheckpointEvery: tc.every, MaxBatch: tc.secondBatch})
			if err != nil {
				t.Fatalf("resumed run: %v", err)
			}
			// Then the target is a faithful copy: nothing lost, nothing twice.
			sameLog(t, from, mem)
			if st2.Last != 300 {
				t.Fatalf("resumed run ended at %d, want 300", st2.Last)
			}
			if tc.checkpoint {
				if p, _ := cp.Load(); p != 300 {
					t.Fatalf("final checkpoint %d, want 300", p)
				}
			}
		})
	}
}

func TestMigrateInterruptedByCancel(t *testing.T) {
	from, to := source(t, 120), memstore.New(memstore.Options{})
	cp := migrate.FileCheckpoint{Path: filepath.Join(t.TempDir(), "cp")}
	ctx, cancel := context.WithCancel(t.Context())
	done := 0
	_, err := migrate.Migrate(ctx, from, to, migrate.Options{Checkpoint: cp, CheckpointEvery: 10, Progress: func(n int, _ eventstore.Position) {
		if done += n; done >= 50 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v, want context.Canceled", err)
	}
	if _, err := migrate.Migrate(t.Context(), from, to, migrate.Options{Checkpoint: cp}); err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	sameLog(t, from, to)
}

func TestMigrateRefusesADivergedTarget(t *testing.T) {
	from, to := source(t, 30), memstore.New(memstore.Options{})
	other := eventstore.Record{ID: uuid.New(), Type: "CustomerRegistered", SchemaVersion: 1, OccurredAt: time.Now(), Data: []byte(`{}`)}
	if _, err := to.Append(t.Context(), "customer-2", eventstore.NoStream(), other); err != nil {
		t.Fatal(err)
	}
	_, err := migrate.Migrate(t.Context(), from, to, migrate.Options{})
	if !errors.Is(err, migrate.ErrDiverged) {
		t.Fatalf("Migrate into a diverged target: %v, want ErrDiverged", err)
	}
}

func TestFileCheckpoint(t *testing.T) {
	dir := t.TempDir()
	cp := migrate.FileCheckpoint{Path: filepath.Join(dir, "cp")}
	if p, err := cp.Load(); err != nil || p != eventstore.Start {
		t.Fatalf("Load of a missing file: %d, %v; want Start", p, err)
	}
	for _, p := range []eventstore.Position{1, 42, 1 << 50} {
		if err := cp.Save(p); err != nil {
			t.Fatal(err)
		}
		if got, err := cp.Load(); err != nil || got != p {
			t.Fatalf("Load after Save(%d): %d, %v", p, got, err)
		}
	}
	if err := os.WriteFile(cp.Path, []byte("forty-two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.Load(); !errors.Is(err, migrate.ErrCheckpoint) {
		t.Fatalf("Load of a corrupt file: %v, want ErrCheckpoint", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("checkpoint dir holds %d files, want 1 (no temporaries left)", len(entries))
	}
}

// importer is a target keystore that records what it was given.
type importer struct {
	keys      map[string][]byte
	destroyed map[string]bool
}

func (m *importer) Import(_ context.Context, s string, key []byte) error {
	m.keys[s] = bytes.Clone(key)
	return nil
}

func (m *importer) Destroy(_ context.Context, s string) error {
	m.destroyed[s] = true
	return nil
}

func TestKeysCopiesLiveAndDestroyedKeys(t *testing.T) {
	ctx := t.Context()
	src := pii.NewMemKeystore()
	live, err := src.Key(ctx, "1", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Key(ctx, "2", true); err != nil {
		t.Fatal(err)
	}
	if err := src.Destroy(ctx, "2"); err != nil {
		t.Fatal(err)
	}
	dst := &importer{keys: map[string][]byte{}, destroyed: map[string]bool{}}
	st, err := migrate.Keys(ctx, []string{"1", "2", "3"}, src, dst)
	if err != nil {
		t.Fatalf("Keys: %v", err)
	}
	if st != (migrate.KeyStats{Copied: 1, Destroyed: 1, Missing: 1}) {
		t.Fatalf("stats %+v", st)
	}
	if !bytes.Equal(dst.keys["1"], live) || !dst.destroyed["2"] || dst.keys["2"] != nil || dst.keys["3"] != nil {
		t.Fatalf("target keys %v, destroyed %v", dst.keys, dst.destroyed)
	}
}

// A resumed run batches differently from the interrupted one, so one of its
// appends covers events the target holds and events it does not: the held
// prefix is recognised and only the rest is appended.
func TestMigrateResumesInsideABatch(t *testing.T) {
	from, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	for i := range 10 {
		recs := make([]eventstore.Record, 10)
		for j := range recs {
			recs[j] = eventstore.Record{ID: uuid.New(), Type: "ContactLogged", SchemaVersion: 1, OccurredAt: time.Unix(int64(i*10+j), 0), Data: []byte(`{}`)}
		}
		exp := eventstore.NoStream()
		if i > 0 {
			exp = eventstore.Exact(uint64(i*10 - 1))
		}
		if _, err := from.Append(t.Context(), "customer-9", exp, recs...); err != nil {
			t.Fatal(err)
		}
	}
	mem := memstore.New(memstore.Options{})
	// Appends of 7: the 5th (events 28..34) fails.
	if _, err := migrate.Migrate(t.Context(), from, &failing{Store: mem, n: 5}, migrate.Options{MaxBatch: 7}); !errors.Is(err, errInjected) {
		t.Fatalf("first run: %v", err)
	}
	// Appends of 10: the 3rd (events 20..29) finds 20..27 held.
	st, err := migrate.Migrate(t.Context(), from, mem, migrate.Options{MaxBatch: 10})
	if err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	if st.Skipped != 8 {
		t.Fatalf("resumed run recognised %d held events, want 8 (stats %+v)", st.Skipped, st)
	}
	sameLog(t, from, mem)
}
