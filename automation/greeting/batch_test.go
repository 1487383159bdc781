package greeting_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/memstore"
)

// appendOnly hides a store's AppendBatch, so the dispatcher falls back to
// one Append per outcome.
type appendOnly struct{ eventstore.Store }

// Given a customer whose stream changes between the dispatcher loading it
// and recording the outcome (an agent logs a contact while the greeting is
// being sent), when the campaign runs, then the outcome's append conflicts,
// the dispatcher reloads and records it again — once — and never sends
// again; with and without the store's batch append.
func TestConflictAfterSendIsRecordedOnceWithoutResend(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(eventstore.Store) eventstore.Store
	}{
		{"batch", func(s eventstore.Store) eventstore.Store { return s }},
		{"fallback", func(s eventstore.Store) eventstore.Store { return appendOnly{s} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inner := memstore.New(memstore.Options{})
			e := newEnv(t, tc.wrap(inner))
			population(t, e, 40)
			id := schedule(t, e.ctx, e.svc, nil)
			var (
				mu    sync.Mutex
				sends = map[string]int{}
			)
			at := time.Date(2025, 1, 29, 2, 0, 0, 0, time.UTC)
			interfering := senderFunc(func(ctx context.Context, m greeting.Message) (greeting.Receipt, error) {
				mu.Lock()
				sends[m.CustomerID]++
				mu.Unlock()
				stream := eventstore.StreamID(customer.StreamCategory, m.CustomerID)
				rec, err := e.codec.Encode(ctx, stream, &customer.ContactLogged{Channel: customer.ChannelSMS, Direction: customer.Inbound, Agent: "agent-1"},
					codec.Envelope{OccurredAt: at})
				if err != nil {
					return greeting.Receipt{}, err
				}
				if _, err := inner.Append(ctx, stream, eventstore.Exact(0), rec); err != nil {
					return greeting.Receipt{}, err
				}
				return greeting.Receipt{Attempts: 1}, nil
			})
			d := e.dispatcher(t, interfering, id)
			if err := d.Tick(e.ctx, at); err != nil {
				t.Fatal(err)
			}
			got := greetings(t, e.ctx, e.store, e.codec, id)
			if len(got) != 40 {
				t.Fatalf("%d customers have an outcome, want 40", len(got))
			}
			for cid, evs := range got {
				if len(evs) != 1 {
					t.Errorf("%s: %d outcome events, want 1", cid, len(evs))
				}
				if sends[cid] != 1 {
					t.Errorf("%s: sent %d times, want 1", cid, sends[cid])
				}
				if n := len(mustRead(t, e, cid)); n != 3 {
					t.Errorf("%s: %d events, want registered, contact, greeting", cid, n)
				}
			}
			if p := d.Progress(id); p.Sent != 40 || p.AudienceSize != 40 {
				t.Errorf("progress %+v, want 40 sent", p)
			}
		})
	}
}

func mustRead(t *testing.T, e *env, customerID string) []eventstore.Event {
	t.Helper()
	evs, err := e.store.ReadStream(e.ctx, eventstore.StreamID(customer.StreamCategory, customerID), eventstore.StreamRead{})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
