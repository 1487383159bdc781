package exchange_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/embedded"
	"github.com/kefu-crm/kefu/exchange"
	"github.com/kefu-crm/kefu/pii"
	"github.com/kefu-crm/kefu/seed"
)

// benchFixture is an embedded store seeded once for the export and import
// benchmarks. Keys live in a MemKeystore: the benchmark measures the
// exchange and the store, not the file keystore's per-customer fsyncs
// (BENCHMARKS.md gives the end-to-end CLI numbers too).
type benchFixture struct {
	dir    string
	store  *embedded.Store
	codec  *codec.Codec
	events int64
	ndjson []byte
}

var (
	benchOnce sync.Once
	bench     *benchFixture
	benchErr  error
)

func benchCustomers() int {
	if n, err := strconv.Atoi(os.Getenv("KEFU_BENCH_CUSTOMERS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

func newMemCodec() (*codec.Codec, *pii.Vault) {
	vault := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{CacheSize: 1 << 20})
	c, err := codec.New(codec.Options{Protector: vault}, codec.SpecsOf(customer.Events()))
	if err != nil {
		panic(err)
	}
	return c, vault
}

func fixture(b *testing.B) *benchFixture {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kefu-exchange-bench-*")
		if err != nil {
			benchErr = err
			return
		}
		store, err := embedded.Open(dir, embedded.Options{})
		if err != nil {
			benchErr = err
			return
		}
		c, _ := newMemCodec()
		cfg := seed.Config{Customers: benchCustomers(), Seed: 1, End: seedEnd, Years: 2,
			ReplyClock: customer.ReplyClockFunc(func(t time.Time) (time.Time, bool) { return t.Add(4 * time.Hour), false })}
		sum, err := seed.Write(context.Background(), store, c, cfg, seed.WriteOptions{Workers: 8})
		if err != nil {
			benchErr = err
			return
		}
		var buf bytes.Buffer
		if _, err := exchange.Export(context.Background(), store, c, exchange.DefaultTypes(), &buf, exchange.ExportOptions{}); err != nil {
			benchErr = err
			return
		}
		bench = &benchFixture{dir: dir, store: store, codec: c, events: int64(sum.Events), ndjson: buf.Bytes()}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return bench
}

// BenchmarkExport streams the whole seeded log as NDJSON (personal data
// decrypted) to io.Discard.
func BenchmarkExport(b *testing.B) {
	f := fixture(b)
	ctx := context.Background()
	b.Logf("%d events, %d bytes of NDJSON", f.events, len(f.ndjson))
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, err := exchange.Export(ctx, f.store, f.codec, exchange.DefaultTypes(), io.Discard, exchange.ExportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(f.events)*float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.SetBytes(int64(len(f.ndjson)))
}

// BenchmarkExportPseudonymized is the analysts' sharing export.
func BenchmarkExportPseudonymized(b *testing.B) {
	f := fixture(b)
	ctx := context.Background()
	opts := exchange.ExportOptions{Pseudonymize: true, Key: []byte("benchmark key 0123456789")}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, err := exchange.Export(ctx, f.store, f.codec, exchange.DefaultTypes(), io.Discard, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(f.events)*float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkImport validates and imports the whole export into a fresh
// embedded store (personal data sealed again, new keys in memory).
func BenchmarkImport(b *testing.B) {
	f := fixture(b)
	ctx := context.Background()
	var took time.Duration
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		store, err := embedded.Open(dir, embedded.Options{})
		if err != nil {
			b.Fatal(err)
		}
		c, _ := newMemCodec()
		b.StartTimer()
		start := time.Now()
		st, err := exchange.ImportNDJSON(ctx, store, c, exchange.DefaultTypes(), bytes.NewReader(f.ndjson), exchange.ImportOptions{})
		took += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if st.Written != f.events {
			b.Fatalf("wrote %d of %d", st.Written, f.events)
		}
		b.StopTimer()
		store.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(f.events)*float64(b.N)/took.Seconds(), "events/s")
}

// BenchmarkValidate is the import's first pass alone.
func BenchmarkValidate(b *testing.B) {
	f := fixture(b)
	ctx := context.Background()
	store, err := embedded.Open(b.TempDir(), embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	start := time.Now()
	for b.Loop() {
		if err := exchange.ValidateNDJSON(ctx, store, exchange.DefaultTypes(), bytes.NewReader(f.ndjson), "bench"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(f.events)*float64(b.N)/time.Since(start).Seconds(), "events/s")
}
