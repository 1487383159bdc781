package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// reportMemory prints what the process holds after the catch-up: the live
// heap after a forced GC (the read models, the store's caches and the
// codec), per customer of the book, beside the heap the runtime has from
// the OS and the resident set (RSS, which GOGC lets grow to a multiple of
// the live heap between collections).
func reportMemory(w io.Writer, when string, customers int) {
	rssBefore := residentBytes()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(w, "memory %s: live heap %.1f MiB after a forced GC (%.0f B/customer over %d customers); heap from the OS %.1f MiB; RSS %.1f MiB (before that GC)\n",
		when, mib(ms.HeapAlloc), float64(ms.HeapAlloc)/float64(max(customers, 1)), customers, mib(ms.HeapSys-ms.HeapReleased), mib(rssBefore))
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// residentBytes is the process's resident set size (VmRSS), 0 when unknown.
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			if f := strings.Fields(rest); len(f) >= 1 {
				if kb, err := strconv.ParseUint(f[0], 10, 64); err == nil {
					return kb * 1024
				}
			}
		}
	}
	return 0
}
