package customer_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
)

// fiftyEvents is a 50-event history: registration, purchases, contacts and
// a complaint taken through recovery.
func fiftyEvents(b *testing.B) []customer.Historic {
	c, _ := customer.New(custID)
	steps := recoveryPath()
	for i := 0; len(steps) < 50; i++ {
		at := hoursAgo(200 - i)
		steps = append(steps, func(c *customer.Customer) error {
			return c.RecordPurchase(customer.RecordPurchase{OrderID: fmt.Sprintf("bulk-%d", i), Amount: customer.Money{AmountMinor: 100, Currency: "CNY"}, OccurredAt: at}, now)
		})
	}
	for i, s := range steps {
		if err := s(c); err != nil {
			b.Fatalf("step %d: %v", i, err)
		}
	}
	h := history(c.Changes())
	if len(h) != 50 {
		b.Fatalf("history has %d events", len(h))
	}
	return h
}

// BenchmarkRehydrate50 rebuilds a customer from 50 decoded events (the
// aggregate's share of loading a stream; decoding and I/O are not in it).
func BenchmarkRehydrate50(b *testing.B) {
	h := fiftyEvents(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := customer.Rehydrate(custID, h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecide measures one command on a loaded 50-event customer.
func BenchmarkDecide(b *testing.B) {
	h := fiftyEvents(b)
	b.ReportAllocs()
	for b.Loop() {
		c, _ := customer.Rehydrate(custID, h)
		if err := c.LogContact(customer.LogContact{Channel: customer.ChannelPhone, Direction: customer.Inbound, Agent: "a", ComplaintID: "c1"}, now.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
}
