package dupindex_test

import (
	"bytes"
	"testing"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/dupindex"
)

// Given two customers with one phone, a merge takes the pair off the
// index and an unmerge puts it back.
func TestUnmergeReturnsToTheIndex(t *testing.T) {
	x, err := dupindex.New(bytes.Repeat([]byte{7}, 32), dupindex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	apply := func(id string, e customer.Event) {
		if err := x.Apply(t.Context(), projections.Decoded{Event: eventstore.Event{StreamID: "customer-" + id, Type: e.EventType()}, Payload: e}); err != nil {
			t.Fatal(err)
		}
	}
	apply("a", &customer.CustomerRegistered{CustomerID: "a", Name: "王芳", Phone: "13800138000"})
	apply("b", &customer.CustomerRegistered{CustomerID: "b", Name: "Wang Fang", Phone: "+86 138 0013 8000"})
	pairs := func() int { return len(x.Candidates(0.5)) }
	if pairs() != 1 {
		t.Fatalf("%d candidates before the merge, want 1", pairs())
	}
	apply("b", &customer.CustomerMerged{Into: "a"})
	apply("a", &customer.CustomersMergedIn{From: []string{"b"}})
	if pairs() != 0 {
		t.Fatalf("%d candidates after the merge, want 0", pairs())
	}
	apply("b", &customer.CustomerUnmerged{From: "a"})
	apply("a", &customer.CustomersUnmerged{IDs: []string{"b"}})
	if c := x.Candidates(0.5); len(c) != 1 || c[0].Customers != [2]string{"a", "b"} {
		t.Errorf("candidates after the unmerge: %+v, want the pair a, b", c)
	}
	if got := x.Lookup("13800138000"); len(got) != 2 {
		t.Errorf("Lookup of the shared phone after the unmerge = %v, want both", got)
	}
}
