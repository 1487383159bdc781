package rebuildbench_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/dupindex"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/readmodels"
)

// The server benchmarks rebuild the read-model set that kefu serve
// registers (server/server.go: customers, complaints, followups, lifecycle,
// loyalty, campaigns, erasure) from a data directory written by
// `kefu seed`, named by KEFU_REBUILD_DATA (skipped when unset). The
// directory is opened read-mostly: nothing is appended, and the erasure
// projection counts instead of destroying keys.

func openData(b *testing.B) *datadir.Dir {
	b.Helper()
	path := os.Getenv("KEFU_REBUILD_DATA")
	if path == "" {
		b.Skip("KEFU_REBUILD_DATA is not set: point it at a data directory written by kefu seed")
	}
	dir, err := datadir.Open(path, datadir.Options{MustExist: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = dir.Close() })
	return dir
}

// serverSet is the server's read-model set (readmodels.Set) plus an
// erasure projection that counts instead of destroying keys.
func serverSet(b *testing.B) []projections.Projection {
	b.Helper()
	set, err := readmodels.New(lifecycle.DefaultPolicy(), nil)
	if err != nil {
		b.Fatal(err)
	}
	dupes, err := dupindex.New(make([]byte, 32), dupindex.Options{GmailDots: true})
	if err != nil {
		b.Fatal(err)
	}
	return append(set.Projections(), &erasureCount{}, dupes)
}

// only keeps the named projections of a set.
func only(ps []projections.Projection, names ...string) []projections.Projection {
	var out []projections.Projection
	for _, p := range ps {
		if slices.Contains(names, p.Name()) {
			out = append(out, p)
		}
	}
	return out
}

// digests names every projection's digest, for comparing rebuilds.
func digests(ps []projections.Projection) string {
	var sb strings.Builder
	for _, p := range ps {
		d := p.Digest()
		fmt.Fprintf(&sb, "%s=%x ", p.Name(), d[:6])
	}
	return strings.TrimSpace(sb.String())
}

type erasureCount struct{ erased int }

func (e *erasureCount) Name() string                { return "erasure" }
func (e *erasureCount) Wants(eventType string) bool { return eventType == customer.TypeCustomerErased }
func (e *erasureCount) Digest() [32]byte            { return sha256.Sum256([]byte(fmt.Sprint(e.erased))) }
func (e *erasureCount) Apply(_ context.Context, d projections.Decoded) error {
	if _, ok := d.Payload.(*customer.CustomerErased); ok {
		e.erased++
	}
	return nil
}

// serverDecoder is the server's decoder: the codec's full Decode (payload,
// metadata, personal data opened), payload kept.
func serverDecoder(dir *datadir.Dir) projections.Decoder {
	return projections.DecoderFunc(func(ctx context.Context, ev eventstore.Event) (any, error) {
		d, err := dir.Codec.Decode(ctx, ev)
		return d.Payload, err
	})
}

// leanDecoder is a prototype of a cheaper server decoder: no metadata
// (no read model uses it) and personal data opened only for the event
// types whose personal fields a read model keeps (the book's profile, the
// complaint description); the rest stays sealed. With all false it opens
// nothing (the book would then open on read).
func leanDecoder(dir *datadir.Dir, open map[string]bool) projections.Decoder {
	return projections.DecoderFunc(func(ctx context.Context, ev eventstore.Event) (any, error) {
		d, err := dir.Codec.DecodeWith(ctx, ev, codec.DecodeOptions{NoMetadata: true, Sealed: !open[ev.Type]})
		return d.Payload, err
	})
}

// shownPersonal are the types whose personal fields the server's read
// models keep: the profile in the book, the description in complaints.
var shownPersonal = map[string]bool{
	customer.TypeCustomerRegistered: true,
	customer.TypeProfileUpdated:     true,
	customer.TypeComplaintFiled:     true,
}

// BenchmarkRebuildServer rebuilds the server's read models from the data
// directory and scans the same store raw in the same run:
//
//	KEFU_REBUILD_DATA=/path/to/data go test -run '^$' -bench RebuildServer -benchtime 1x ./projections/rebuildbench/
//
// Sub-benchmarks: ReadAll (the store's ReadAll, nothing else), DecodeOnly
// (the pipeline with the server's decoder and one projection that wants
// everything and does nothing) and Server (the full set). Each reports
// events/s (wall) and cpu-ns/event (user+system CPU of the process); the
// digests of every read model are logged and must agree between variants.
func BenchmarkRebuildServer(b *testing.B) {
	dir := openData(b)
	ctx := b.Context()
	head, err := dir.Store.Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("store head %d", head)
	b.Run("ReadAll", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			n := 0
			if err := dir.Store.ReadAll(ctx, 0, func(eventstore.Event) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			if n != int(head) {
				b.Fatalf("read %d events, head is %d", n, head)
			}
		}
		reportRates(b, float64(head)*float64(b.N), cpu0)
	})
	b.Run("DecodeOnly", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			if err := projections.Rebuild(ctx, dir.Store, serverDecoder(dir), head, nopProjection{}); err != nil {
				b.Fatal(err)
			}
		}
		reportRates(b, float64(head)*float64(b.N), cpu0)
	})
	var want string
	b.Run("Server", func(b *testing.B) {
		var ps []projections.Projection
		cpu0 := cpuTime()
		for b.Loop() {
			ps = serverSet(b)
			if err := projections.Rebuild(ctx, dir.Store, serverDecoder(dir), head, ps...); err != nil {
				b.Fatal(err)
			}
		}
		reportRates(b, float64(head)*float64(b.N), cpu0)
		b.StopTimer()
		want = digests(ps)
		b.Logf("digests: %s", want)
	})
	lean := func(name string, open map[string]bool, same bool) {
		b.Run(name, func(b *testing.B) {
			var ps []projections.Projection
			cpu0 := cpuTime()
			for b.Loop() {
				ps = serverSet(b)
				if err := projections.Rebuild(ctx, dir.Store, leanDecoder(dir, open), head, ps...); err != nil {
					b.Fatal(err)
				}
			}
			reportRates(b, float64(head)*float64(b.N), cpu0)
			b.StopTimer()
			got := digests(ps)
			b.Logf("digests: %s", got)
			if same && want != "" && got != want {
				b.Errorf("digests differ from the server decoder's:\n got %s\nwant %s", got, want)
			}
		})
	}
	// Same read models, same digests: only what they keep is opened.
	lean("ServerLean", shownPersonal, true)
	// Nothing opened: the book and complaints would keep sealed strings
	// and open them on read (digests differ: they hash what is kept).
	lean("ServerSealed", nil, false)
}

// nopProjection wants every event and keeps nothing.
type nopProjection struct{}

func (nopProjection) Name() string                                     { return "nop" }
func (nopProjection) Apply(context.Context, projections.Decoded) error { return nil }
func (nopProjection) Digest() [32]byte                                 { return [32]byte{} }

// BenchmarkServerMemory measures the heap the server's read models hold
// after a rebuild up to the KEFU_MEM_CUSTOMERS-th registration (default
// 1,000,000), per customer: the whole set (with the duplicates index),
// lifecycle + loyalty, and each read model alone.
// Heap in use after a forced GC, before (store, keystore and codec open)
// and after the rebuild, with the read models still referenced.
//
//	KEFU_REBUILD_DATA=/path/to/data go test -run '^$' -bench ServerMemory -benchtime 1x ./projections/rebuildbench/
//
// KEFU_MEM_PROFILE_DIR names a directory to write each sub-benchmark's
// heap profile to (go tool pprof -sample_index=inuse_space).
func BenchmarkServerMemory(b *testing.B) {
	dir := openData(b)
	ctx := b.Context()
	want := 1_000_000
	if s := os.Getenv("KEFU_MEM_CUSTOMERS"); s != "" {
		var err error
		if want, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	// The position of the want-th registration: every customer registered
	// up to there is in the models (with the events written before it).
	var until eventstore.Position
	n := 0
	err := dir.Store.ReadAll(ctx, 0, func(e eventstore.Event) error {
		if e.Type == customer.TypeCustomerRegistered {
			if n++; n == want {
				until = e.Position
				return eventstore.ErrStop
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if until == 0 {
		b.Skipf("the store has only %d registrations; the memory benchmark needs %d (seed a larger store)", n, want)
	}
	b.Logf("%d customers registered by position %d", want, until)
	measure := func(b *testing.B, build func() []projections.Projection) {
		for b.Loop() {
			before := heapInUse()
			ps := build()
			if err := projections.Rebuild(ctx, dir.Store, serverDecoder(dir), until, ps...); err != nil {
				b.Fatal(err)
			}
			after := heapInUse()
			if dir := os.Getenv("KEFU_MEM_PROFILE_DIR"); dir != "" {
				writeHeapProfile(b, filepath.Join(dir, strings.NewReplacer("/", "_", "=", "_").Replace(b.Name())+".pprof"))
			}
			b.ReportMetric(float64(after-before)/float64(want), "B/customer")
			b.ReportMetric(float64(after-before)/(1<<20), "MiB")
			runtime.KeepAlive(ps)
		}
	}
	b.Run("Server", func(b *testing.B) {
		measure(b, func() []projections.Projection { return serverSet(b) })
	})
	b.Run("LifecycleLoyalty", func(b *testing.B) {
		measure(b, func() []projections.Projection {
			return only(serverSet(b), "lifecycle", "loyalty")
		})
	})
	// Each read model alone (the lifecycle also feeds the transitions log).
	for _, p := range serverSet(b) {
		b.Run("Only="+p.Name(), func(b *testing.B) {
			measure(b, func() []projections.Projection { return only(serverSet(b), p.Name()) })
		})
	}
}

// writeHeapProfile writes the heap profile (in use as of the last GC) to
// path: where the read models' bytes were allocated.
func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
