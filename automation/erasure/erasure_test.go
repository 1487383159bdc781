package erasure_test

import (
	"context"
	"slices"
	"testing"

	"github.com/kefu-crm/kefu/automation/erasure"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
)

type destroyed []string

func (d *destroyed) Destroy(_ context.Context, id string) error {
	*d = append(*d, id)
	return nil
}

// Given a and b merged into s, and then a unmerged, erasing s destroys the
// keys of s and b (still part of its history), not a's.
func TestErasureSkipsUnmergedCustomers(t *testing.T) {
	var keys destroyed
	p := &erasure.Projection{Keys: &keys}
	pos := eventstore.Position(0)
	apply := func(id string, e customer.Event) {
		pos++
		if !p.Wants(e.EventType()) {
			return
		}
		if err := p.Apply(t.Context(), projections.Decoded{Event: eventstore.Event{StreamID: "customer-" + id, Position: pos, Type: e.EventType()}, Payload: e}); err != nil {
			t.Fatal(err)
		}
	}
	apply("a", &customer.CustomerMerged{Into: "s"})
	apply("b", &customer.CustomerMerged{Into: "s"})
	apply("s", &customer.CustomersMergedIn{From: []string{"a", "b"}})
	apply("a", &customer.CustomerUnmerged{From: "s"})
	apply("s", &customer.CustomersUnmerged{IDs: []string{"a"}})
	apply("s", &customer.CustomerErased{By: "dpo", Reason: "request"})
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"b", "s"}) {
		t.Errorf("keys destroyed %v, want those of s and b (a was unmerged before)", keys)
	}
}
