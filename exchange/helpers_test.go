package exchange_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/seed"
)

var seedEnd = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// seeded returns a data directory holding a small seeded history.
func seeded(t testing.TB, customers int) *datadir.Dir {
	t.Helper()
	dir := openDir(t, t.TempDir())
	cfg := seed.Config{Customers: customers, Seed: 7, End: seedEnd, Years: 1,
		ReplyClock: customer.ReplyClockFunc(func(t time.Time) (time.Time, bool) { return t.Add(4 * time.Hour), false })}
	if _, err := seed.Write(context.Background(), dir.Store, dir.Codec, cfg, seed.WriteOptions{Workers: 4}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func openDir(t testing.TB, path string) *datadir.Dir {
	t.Helper()
	dir, err := datadir.Open(path, datadir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	return dir
}

func codecEnv() codec.Envelope { return codec.Envelope{OccurredAt: seedEnd} }

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func emptyStore() eventstore.Store { return memstore.New(memstore.Options{}) }
