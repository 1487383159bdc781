package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/internal/testenv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/postgres"
	"github.com/kefu-crm/kefu/eventstore/storetest"
	"github.com/kefu-crm/kefu/pii"
)

// schemaFor names the schema of one test directory, so that each subtest
// of the contract suite gets a fresh log and reopening the same directory
// reopens the same log.
func schemaFor(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return "kefu_t_" + hex.EncodeToString(sum[:8])
}

// dropSchema removes schema when t ends.
func dropSchema(t testing.TB, conn, schema string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, conn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
}

func open(t testing.TB, conn, schema string, opts postgres.Options) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	opts.Schema = schema
	s, err := postgres.Open(ctx, conn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// freshSchema returns a new schema, dropped when t ends.
func freshSchema(t testing.TB, conn string) string {
	schema := "kefu_t_" + uuid.NewString()[:8]
	dropSchema(t, conn, schema)
	return schema
}

func TestContract(t *testing.T) {
	conn := testenv.Postgres(t)
	var mu sync.Mutex
	dropping := map[string]bool{}
	storetest.RunConfig(t, storetest.Config{
		New: func(t *testing.T, dir string) eventstore.Store {
			schema := schemaFor(dir)
			mu.Lock()
			if !dropping[schema] {
				dropping[schema] = true
				dropSchema(t, conn, schema)
			}
			mu.Unlock()
			return open(t, conn, schema, postgres.Options{})
		},
		ManyStreams: 20_000,
	})
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		give postgres.Options
		ok   bool
	}{
		{"zero", postgres.Options{}, true},
		{"set", postgres.Options{Schema: "crm_2", PageSize: 10, PollInterval: time.Second, MaxConns: 4, MaxBatchEvents: 10}, true},
		{"schema with a quote", postgres.Options{Schema: `a"b`}, false},
		{"schema upper case", postgres.Options{Schema: "Kefu"}, false},
		{"negative page", postgres.Options{PageSize: -1}, false},
		{"negative poll", postgres.Options{PollInterval: -time.Second}, false},
		{"one connection", postgres.Options{MaxConns: 1}, false},
		{"negative batch", postgres.Options{MaxBatchEvents: -1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.give.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func record(n int) eventstore.Record {
	return eventstore.Record{
		ID: uuid.New(), Type: "ContactLogged", SchemaVersion: 1,
		OccurredAt: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		Data:       fmt.Appendf(nil, `{"n":%d}`, n),
	}
}

// TestTailingReaderNeverSkips races writers in two stores on one schema
// (two kefu processes) — single appends and multi-stream batches — against
// subscribers that check every position arrives exactly once, in order,
// with no gap: the bigserial pitfall would show as a subscriber seeing a
// position before a lower one commits.
func TestTailingReaderNeverSkips(t *testing.T) {
	conn := testenv.Postgres(t)
	schema := freshSchema(t, conn)
	a := open(t, conn, schema, postgres.Options{})
	defer a.Close()
	b := open(t, conn, schema, postgres.Options{PollInterval: time.Hour})
	defer b.Close()
	const writers, appends = 16, 60
	want := writers * appends * 2 // each append writes two events

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	type tail struct {
		seen int
		err  error
	}
	tails := make(chan tail, 2)
	for _, st := range []*postgres.Store{a, b} {
		go func() {
			var last eventstore.Position
			revs := map[string]uint64{}
			n := 0
			err := st.Subscribe(ctx, eventstore.Start, func(e eventstore.Event) error {
				if e.Position != last+1 {
					return fmt.Errorf("position %d after %d", e.Position, last)
				}
				last = e.Position
				if r, ok := revs[e.StreamID]; ok && e.Revision != r+1 || !ok && e.Revision != 0 {
					return fmt.Errorf("%s: revision %d after %d", e.StreamID, e.Revision, r)
				}
				revs[e.StreamID] = e.Revision
				if n++; n == want {
					return eventstore.ErrStop
				}
				return nil
			})
			tails <- tail{n, err}
		}()
	}

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		st := a
		if w%2 == 1 {
			st = b
		}
		wg.Go(func() {
			mine, other := fmt.Sprintf("race-w%d", w), fmt.Sprintf("race-b%d", w)
			for i := range appends {
				var err error
				if i%3 == 0 {
					var res []eventstore.BatchResult
					res, err = st.AppendBatch(ctx, []eventstore.StreamAppend{
						{Stream: mine, Records: []eventstore.Record{record(i)}},
						{Stream: other, Records: []eventstore.Record{record(i)}},
					})
					for _, r := range res {
						err = errors.Join(err, r.Err)
					}
				} else {
					_, err = st.Append(ctx, mine, eventstore.Any(), record(i), record(i))
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d append %d: %w", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for range 2 {
		tl := <-tails
		if tl.err != nil || tl.seen != want {
			t.Fatalf("subscriber saw %d of %d events: %v", tl.seen, want, tl.err)
		}
	}
	if h, err := a.Head(ctx); err != nil || h != eventstore.Position(want) {
		t.Fatalf("Head %d, %v; want %d", h, err, want)
	}
}

// TestSubscribeSurvivesDroppedConnections kills every connection the store
// has (the listener's and the pool's) while a subscriber waits, with
// polling off: the next append must still reach the subscriber, through a
// retried append transaction and a listener that reconnected.
func TestSubscribeSurvivesDroppedConnections(t *testing.T) {
	conn := testenv.Postgres(t)
	schema := freshSchema(t, conn)
	st := open(t, conn, schema, postgres.Options{PollInterval: time.Hour})
	defer st.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	got := make(chan eventstore.Event, 16)
	subErr := make(chan error, 1)
	go func() {
		subErr <- st.Subscribe(ctx, eventstore.Start, func(e eventstore.Event) error {
			got <- e
			return nil
		})
	}()
	if _, err := st.Append(ctx, "drop-1", eventstore.NoStream(), record(1)); err != nil {
		t.Fatal(err)
	}
	expect := func(n int) {
		t.Helper()
		select {
		case e := <-got:
			if e.Position != eventstore.Position(n) {
				t.Fatalf("got position %d, want %d", e.Position, n)
			}
		case err := <-subErr:
			t.Fatalf("Subscribe ended: %v", err)
		case <-time.After(20 * time.Second):
			t.Fatalf("event %d did not arrive", n)
		}
	}
	expect(1)

	for round := 2; round <= 3; round++ {
		killed := terminate(t, conn)
		if killed < 2 {
			t.Fatalf("terminated %d backends, want the listener and at least one pooled connection", killed)
		}
		if _, err := st.Append(ctx, "drop-1", eventstore.Exact(uint64(round-2)), record(round)); err != nil {
			t.Fatalf("append after the connections dropped: %v", err)
		}
		expect(round)
	}
	cancel()
	if err := <-subErr; err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
}

// terminate kills the store's backends (application_name kefu…) and
// returns how many.
func terminate(t *testing.T, conn string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	// Wait until the listener is back (after an earlier round).
	for {
		var listening int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'kefu-listen' AND datname = current_database()`).Scan(&listening); err != nil {
			t.Fatal(err)
		}
		if listening > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name LIKE 'kefu%' AND datname = current_database() AND pid <> pg_backend_pid()) k`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestKeystore(t *testing.T) {
	conn := testenv.Postgres(t)
	schema := freshSchema(t, conn)
	st := open(t, conn, schema, postgres.Options{})
	defer st.Close()
	other := open(t, conn, schema, postgres.Options{}) // a second instance
	defer other.Close()
	ks, ks2 := postgres.NewKeystore(st, postgres.KeystoreOptions{}), postgres.NewKeystore(other, postgres.KeystoreOptions{})
	ctx := t.Context()

	if _, err := ks.Key(ctx, "c1", false); !errors.Is(err, pii.ErrNoKey) {
		t.Fatalf("Key of a new subject without create: %v, want ErrNoKey", err)
	}
	k1, err := ks.Key(ctx, "c1", true)
	if err != nil || len(k1) != pii.KeySize {
		t.Fatalf("Key(create): %x, %v", k1, err)
	}
	if k2, err := ks2.Key(ctx, "c1", true); err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("the other instance's Key: %x, %v; want the first key", k2, err)
	}
	if err := ks2.Import(ctx, "c1", k1); err != nil {
		t.Fatalf("Import of the same key: %v", err)
	}
	if err := ks2.Import(ctx, "c1", make([]byte, pii.KeySize)); !errors.Is(err, postgres.ErrKeyConflict) {
		t.Fatalf("Import of another key: %v, want ErrKeyConflict", err)
	}
	if _, err := ks.Key(ctx, "not valid!", true); !errors.Is(err, pii.ErrInvalidSubject) {
		t.Fatalf("Key of an invalid subject: %v", err)
	}

	// Racing creators agree on one key.
	var wg sync.WaitGroup
	keys := make([][]byte, 8)
	for i := range keys {
		wg.Go(func() {
			k := ks
			if i%2 == 1 {
				k = ks2
			}
			keys[i], _ = k.Key(ctx, "c2", true)
		})
	}
	wg.Wait()
	for i := range keys {
		if len(keys[i]) != pii.KeySize || !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("racing creators got different keys: %x vs %x", keys[i], keys[0])
		}
	}

	for range 2 {
		if err := ks.Destroy(ctx, "c1"); err != nil {
			t.Fatalf("Destroy: %v", err)
		}
	}
	for _, create := range []bool{false, true} {
		if _, err := ks2.Key(ctx, "c1", create); !errors.Is(err, pii.ErrDestroyed) {
			t.Fatalf("Key(create=%v) after Destroy: %v, want ErrDestroyed", create, err)
		}
	}
	if err := ks.Import(ctx, "c1", k1); !errors.Is(err, pii.ErrDestroyed) {
		t.Fatalf("Import after Destroy: %v, want ErrDestroyed", err)
	}
	if err := ks.Destroy(ctx, "never"); err != nil {
		t.Fatalf("Destroy of a subject without key: %v", err)
	}
	if _, err := ks.Key(ctx, "never", true); !errors.Is(err, pii.ErrDestroyed) {
		t.Fatalf("Key after destroying a missing key: %v, want ErrDestroyed", err)
	}
	// No copy of the key stays readable in the table.
	var n int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, "data_keys"}.Sanitize()+` WHERE key = $1`, k1).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows still holding the destroyed key: %d, %v", n, err)
	}
}
