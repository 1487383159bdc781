package dupindex_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/dupindex"
)

// BenchmarkBuild indexes n registrations with a phone, an e-mail, a WeChat
// ID and a name with a birthday each (1 % of them planted duplicates of
// the customer before), and reports the time and the heap per customer,
// and what listing the candidates costs.
//
//	go test ./projections/dupindex -run '^$' -bench Build -benchtime 1x
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			key := make([]byte, 32)
			evs := make([]projections.Decoded, n)
			for i := range evs {
				j := i
				if i%100 == 99 {
					j = i - 1 // a planted duplicate: the same person again
				}
				evs[i] = projections.Decoded{
					Event: eventstore.Event{StreamID: fmt.Sprintf("customer-c%07d", i), Type: customer.TypeCustomerRegistered},
					Payload: &customer.CustomerRegistered{Name: fmt.Sprintf("客户%07d", j), Phone: fmt.Sprintf("+86 139 %04d %04d", j/10000, j%10000),
						Email: fmt.Sprintf("c%07d@example.com", j), WeChat: fmt.Sprintf("wx_%07d", j), Birthday: "1990-01-01"},
				}
			}
			var perCustomer float64
			var build, list time.Duration
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				x, err := dupindex.New(key, dupindex.Options{GmailDots: true})
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				for _, d := range evs {
					if err := x.Apply(context.Background(), d); err != nil {
						b.Fatal(err)
					}
				}
				build += time.Since(start)
				runtime.GC()
				runtime.ReadMemStats(&after)
				perCustomer = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
				start = time.Now()
				if got := len(x.Candidates(0.5)); got != n/100 {
					b.Fatalf("%d candidates, want the %d planted", got, n/100)
				}
				list += time.Since(start)
				runtime.KeepAlive(x)
			}
			b.ReportMetric(float64(build.Nanoseconds())/float64(b.N*n), "build-ns/customer")
			b.ReportMetric(list.Seconds()/float64(b.N), "candidates-s")
			b.ReportMetric(perCustomer, "heapB/customer")
		})
	}
}
