// Package owners keeps which customer each item of a read model — a
// complaint, a follow-up — belongs to while customers merge and unmerge.
// An item stays in the stream it was opened on (its events go there) and
// belongs to whoever holds that stream now: the customer, or the survivor
// it was merged into, until an unmerge gives it back.
package owners

import "slices"

// Index lists each customer's items in their order. The zero Index is
// ready to use.
type Index struct {
	// ByCustomer holds each customer's item IDs, in order.
	ByCustomer map[string][]string
	// Merged holds the customers merged into another.
	Merged map[string]bool
	// Into maps a merged customer to the survivor it was merged into.
	Into map[string]string
}

// Add appends an item to a customer's list.
func (x *Index) Add(customer, item string) {
	if x.ByCustomer == nil {
		x.ByCustomer = map[string][]string{}
	}
	x.ByCustomer[customer] = append(x.ByCustomer[customer], item)
}

// Merge gives the items of the customers from to survivor: setOwner is
// told of each, and survivor's list is re-sorted with cmp (stable).
func (x *Index) Merge(survivor string, from []string, setOwner func(item, owner string), cmp func(a, b string) int) {
	if x.ByCustomer == nil {
		x.ByCustomer = map[string][]string{}
	}
	if x.Merged == nil {
		x.Merged = map[string]bool{}
	}
	if x.Into == nil {
		x.Into = map[string]string{}
	}
	for _, f := range from {
		for _, item := range x.ByCustomer[f] {
			setOwner(item, survivor)
		}
		x.ByCustomer[survivor] = append(x.ByCustomer[survivor], x.ByCustomer[f]...)
		delete(x.ByCustomer, f)
		x.Merged[f] = true
		x.Into[f] = survivor
	}
	slices.SortStableFunc(x.ByCustomer[survivor], cmp)
}

// Unmerge gives back to each customer of back the survivor's items whose
// stream (streamOf: the customer the item was opened on) stems from it —
// its own and those of the customers merged into it — and re-sorts their
// lists with cmp.
func (x *Index) Unmerge(survivor string, back []string, streamOf func(item string) string, setOwner func(item, owner string), cmp func(a, b string) int) {
	for _, b := range back {
		var keep, moved []string
		for _, item := range x.ByCustomer[survivor] {
			if x.StemsFrom(streamOf(item), b) {
				setOwner(item, b)
				moved = append(moved, item)
			} else {
				keep = append(keep, item)
			}
		}
		if x.ByCustomer == nil {
			x.ByCustomer = map[string][]string{}
		}
		x.ByCustomer[survivor] = keep
		x.ByCustomer[b] = append(x.ByCustomer[b], moved...)
		slices.SortStableFunc(x.ByCustomer[b], cmp)
		delete(x.Merged, b)
		delete(x.Into, b)
	}
}

// StemsFrom reports whether the customer of stream s is c or was merged
// into c (through other merges).
func (x *Index) StemsFrom(s, c string) bool {
	for range 64 { // merges cannot cycle; bound the walk all the same
		if s == c {
			return true
		}
		next, ok := x.Into[s]
		if !ok {
			return false
		}
		s = next
	}
	return false
}
