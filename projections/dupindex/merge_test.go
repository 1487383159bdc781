package dupindex_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/dupindex"
)

func newIndex(t *testing.T) (*dupindex.Index, func(id string, e customer.Event)) {
	t.Helper()
	x, err := dupindex.New(bytes.Repeat([]byte{7}, 32), dupindex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return x, func(id string, e customer.Event) {
		t.Helper()
		if err := x.Apply(t.Context(), projections.Decoded{Event: eventstore.Event{StreamID: "customer-" + id, Type: e.EventType()}, Payload: e}); err != nil {
			t.Fatal(err)
		}
	}
}

func merge(apply func(string, customer.Event), into string, from ...string) {
	for _, f := range from {
		apply(f, &customer.CustomerMerged{Into: into})
	}
	apply(into, &customer.CustomersMergedIn{From: from})
}

// A merge that takes the merged customer's phone (a profile choice)
// changes the survivor's entries as updateProfile would: its old phone no
// longer finds it, the new one does.
func TestMergeProfileChoicesReachTheIndex(t *testing.T) {
	x, apply := newIndex(t)
	apply("a", &customer.CustomerRegistered{CustomerID: "a", Name: "王芳", Phone: "13800000001", Email: "a@example.com"})
	apply("b", &customer.CustomerRegistered{CustomerID: "b", Name: "王芳", Phone: "13800000002", Email: "b@example.com"})
	apply("c", &customer.CustomerRegistered{CustomerID: "c", Name: "Other", Phone: "13800000001"})
	phone := "13800000002"
	apply("b", &customer.CustomerMerged{Into: "a"})
	apply("a", &customer.CustomersMergedIn{From: []string{"b"}, Phone: &phone,
		Choices: []customer.ProfileChoice{{Field: "phone", From: "b"}}})
	if got := x.Lookup("13800000001"); !slices.Equal(got, []string{"c"}) {
		t.Errorf("Lookup(the survivor's old phone) = %v, want [c] (the survivor took b's phone)", got)
	}
	if got := x.Lookup("+86 138 0000 0002"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Lookup(the phone the survivor took) = %v, want [a]", got)
	}
	if c := x.Candidates(0.5); len(c) != 0 {
		t.Errorf("candidates %+v, want none: a no longer shares c's phone", c)
	}
}

// A merged customer's details stand for its survivor: looking up the
// merged customer's e-mail finds the survivor (through a chain of merges
// too), a new registration sharing it is a candidate with the survivor,
// and an unmerge or the survivor's erasure takes them off again.
func TestMergedDetailsFindTheSurvivor(t *testing.T) {
	x, apply := newIndex(t)
	apply("a", &customer.CustomerRegistered{CustomerID: "a", Name: "Li Na", Email: "a@example.com"})
	apply("b", &customer.CustomerRegistered{CustomerID: "b", Name: "Li Na", Email: "b@example.com", Phone: "13900000002"})
	apply("d", &customer.CustomerRegistered{CustomerID: "d", Name: "Li Na", Email: "d@example.com"})
	merge(apply, "a", "b")
	if got := x.Lookup("B@example.com"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Lookup(b's e-mail) after merging b into a = %v, want [a]", got)
	}
	apply("n", &customer.CustomerRegistered{CustomerID: "n", Name: "Li Na (import)", Phone: "139 0000 0002"})
	if c := x.Candidates(0.5); len(c) != 1 || c[0].Customers != [2]string{"a", "n"} || !slices.Equal(c[0].Reasons, []string{dupindex.SamePhone}) {
		t.Errorf("candidates %+v, want a (standing for b) and n, SAME_PHONE", c)
	}
	merge(apply, "d", "a") // a chain: d ← a ← b
	if got := x.Lookup("b@example.com"); !slices.Equal(got, []string{"d"}) {
		t.Errorf("Lookup(b's e-mail) after merging a into d = %v, want [d]", got)
	}
	if got := x.Lookup("a@example.com"); !slices.Equal(got, []string{"d"}) {
		t.Errorf("Lookup(a's e-mail) after merging a into d = %v, want [d]", got)
	}
	// Undo d ← a: a stands for itself and b again.
	apply("a", &customer.CustomerUnmerged{From: "d"})
	apply("d", &customer.CustomersUnmerged{IDs: []string{"a"}})
	if got := x.Lookup("b@example.com"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Lookup(b's e-mail) after unmerging a from d = %v, want [a]", got)
	}
	if got := x.Lookup("d@example.com"); !slices.Equal(got, []string{"d"}) {
		t.Errorf("Lookup(d's e-mail) after the unmerge = %v, want [d]", got)
	}
	// Undo a ← b: b is its own again.
	apply("b", &customer.CustomerUnmerged{From: "a"})
	apply("a", &customer.CustomersUnmerged{IDs: []string{"b"}})
	if got := x.Lookup("b@example.com"); !slices.Equal(got, []string{"b"}) {
		t.Errorf("Lookup(b's e-mail) after unmerging b = %v, want [b]", got)
	}
	if c := x.Candidates(0.5); len(c) != 1 || c[0].Customers != [2]string{"b", "n"} {
		t.Errorf("candidates after both unmerges %+v, want b and n", c)
	}
	// Erasing a survivor takes the merged customers' details with it.
	merge(apply, "a", "b")
	apply("a", &customer.CustomerErased{By: "dpo", Reason: "asked"})
	if got := x.Lookup("b@example.com"); len(got) != 0 {
		t.Errorf("Lookup(b's e-mail) after erasing its survivor = %v, want none", got)
	}
	apply("b", &customer.CustomerUnmerged{From: "a"}) // cannot happen, and must not bring b back
	if got := x.Lookup("b@example.com"); len(got) != 0 {
		t.Errorf("Lookup(b's e-mail) after erasing its survivor and a stray unmerge = %v, want none", got)
	}
}
