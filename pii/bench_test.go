package pii_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/kefu-crm/kefu/pii"
)

// BenchmarkFileKeystoreCreate creates new keys from 64 goroutines, as
// `kefu seed --workers 64` does; concurrent creators share fsyncs.
func BenchmarkFileKeystoreCreate(b *testing.B) {
	ks := openKeys(b, filepath.Join(b.TempDir(), "keys"))
	var n atomic.Int64
	b.SetParallelism(64 / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ks.Key(b.Context(), fmt.Sprintf("c%07d", n.Add(1)), true); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	st := ks.Stats()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "keys/s")
	b.ReportMetric(float64(st.Syncs)/float64(b.N), "fsyncs/key")
	b.ReportMetric(float64(st.FileBytes)/float64(b.N), "file-bytes/key")
}

// BenchmarkFileKeystoreOpen opens a keystore of a million customers
// ("c0000000" …) and reports the heap it keeps.
func BenchmarkFileKeystoreOpen(b *testing.B) {
	const n = 1_000_000
	dir := filepath.Join(b.TempDir(), "keys")
	if err := pii.WriteKeystoreFile(dir, n, func(i int) string { return fmt.Sprintf("c%07d", i) }); err != nil {
		b.Fatal(err)
	}
	var heap uint64
	b.ResetTimer()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ks, err := pii.OpenFileKeystore(dir)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		if st := ks.Stats(); st.Live != n {
			b.Fatalf("%d live keys, want %d", st.Live, n)
		}
		runtime.KeepAlive(ks)
		if err := ks.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(heap)/n, "heap-bytes/key")
}

// BenchmarkFileKeystoreLookup reads existing keys from every core.
func BenchmarkFileKeystoreLookup(b *testing.B) {
	const n = 100_000
	dir := filepath.Join(b.TempDir(), "keys")
	if err := pii.WriteKeystoreFile(dir, n, func(i int) string { return fmt.Sprintf("c%07d", i) }); err != nil {
		b.Fatal(err)
	}
	ks := openKeys(b, dir)
	subjects := make([]string, n)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("c%07d", i)
	}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ks.Key(b.Context(), subjects[next.Add(1)%n], false); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
