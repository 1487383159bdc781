package embedded_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
)

// contactLogged is a ~320-byte record shaped like a real ContactLogged.
func contactLogged(n int) eventstore.Record {
	return eventstore.Record{
		ID:            uuid.New(),
		Type:          "ContactLogged",
		SchemaVersion: 1,
		OccurredAt:    time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute),
		Data: fmt.Appendf(nil, `{"channel":"PHONE","direction":"INBOUND","agent":"agent-%04d","summary":{"enc":"v1:k42:`+
			`Q2FsbGVkIGFib3V0IHRoZSBsYXRlIGRlbGl2ZXJ5IG9mIG9yZGVyIDQyOyBjdXN0b21lciB3YW50cyBhIGNhbGwgYmFjaw=="},"relatesToComplaint":null,"n":%d}`, n%1000, n),
		Metadata: []byte(`{"correlationId":"5f0c6f7e-2b7d-4c1e-9a43-0d3f1b2c4e5a","actor":"agent-0042"}`),
	}
}

func BenchmarkAppendConcurrent64(b *testing.B) {
	s := open(b, b.TempDir())
	defer s.Close()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N/64 + 1
	for w := range 64 {
		wg.Go(func() {
			for i := 0; i < per; i++ {
				n := int(next.Add(1))
				if _, err := s.Append(b.Context(), fmt.Sprintf("customer-%d", w*per+i), eventstore.Any(), contactLogged(n)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(64*per)/time.Since(start).Seconds(), "events/s")
}
