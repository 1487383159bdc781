package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/server"
)

type blockingSender struct {
	once    sync.Once
	started chan struct{}
	release chan struct{}
}

func (s *blockingSender) Send(ctx context.Context, m greeting.Message) (greeting.Receipt, error) {
	s.once.Do(func() { close(s.started) })
	select {
	case <-s.release:
	case <-ctx.Done():
		return greeting.Receipt{}, ctx.Err()
	}
	return greeting.Receipt{Attempts: 1}, nil
}

// A campaign whose gateway hangs must not hold up the API: the dispatcher
// walks the book without keeping it locked while it sends.
func TestSlowGatewayDoesNotBlockTheAPI(t *testing.T) {
	t0 := time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	snd := &blockingSender{started: make(chan struct{}), release: make(chan struct{})}
	defer func() {
		select {
		case <-snd.release:
		default:
			close(snd.release)
		}
	}()
	h := campaignServer(t, t.TempDir(), clock, func(c *server.Config) { c.Sender = snd; c.RequestTimeout = 3 * time.Second })
	for i := range 600 {
		h.setup(campCustomer{id: fmt.Sprintf("sh-%03d", i), name: "王", tier: "GOLD", phone: fmt.Sprintf("+861390000%04d", i), consent: true}, t0.Add(-time.Hour))
	}
	h.schedule(map[string]any{"name": "Spring 2027", "occasion": "CN:spring_festival", "date": "2027-02-06",
		"templates": []any{map[string]any{"channel": "SMS", "body": "Happy {{occasion}}, {{name}}"}}})
	clock.Set(at(t, shanghai, 2027, 2, 6, 9, 0))
	<-snd.started
	time.Sleep(200 * time.Millisecond)
	// With the book locked for the walk, both requests ran into the 3 s
	// request timeout and failed.
	if r := h.gql(`mutation{ registerCustomer(input:{id:"late", name:"L"}){ version } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("registerCustomer during a hanging send: %s", r.Raw)
	}
	if r := h.gql(`{ customer(id:"sh-001"){ id } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("customer read during a hanging send: %s", r.Raw)
	}
	close(snd.release)
}
