package query

import (
	"context"
	"slices"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/projections/customers"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// Merged customers
//
// A merge appends CustomerMerged on each merged stream and
// CustomersMergedIn on the survivor's; no event moves. A customer's
// history is therefore their own stream plus, for every CustomersMergedIn
// in it (at or before asOf), the history of each customer it names — in
// global order, which is the order the live read models applied them in
// (all of a merged customer's events precede the merge). An unmerge
// (CustomersUnmerged at or before asOf) takes the customers it names out
// of the union again: from the unmerge on the survivor's history is its
// own and that of the customers still merged into it; as of an instant
// between a merge and its unmerge the two are one customer. The folds below
// (as of, stage, loyalty, expected purchases, timeline) read that union,
// so a survivor is one customer with both histories, and a merge after
// asOf is not seen at all: as of an instant before it the customers are
// as they were.

// eventRef is one event of a union history: the cached stream it is in
// and its index there.
type eventRef struct {
	e *streamEntry
	i int
}

func (r eventRef) decoded() codec.Decoded { return r.e.evs[r.i] }

// union is a customer's history with the histories merged into it.
type union struct {
	own  *streamEntry
	refs []eventRef
	// merged reports whether any other stream is part of it;
	// bookkeeping whether any of its streams holds a merge or unmerge.
	merged, bookkeeping bool
}

// history returns a customer's union history as of asOf (nil: now). A
// customer without events is NOT_FOUND.
func (s *core) history(ctx context.Context, id string, asOf *time.Time) (*union, error) {
	own, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	u := &union{own: own}
	erased := slices.ContainsFunc(own.evs, func(d codec.Decoded) bool {
		_, ok := d.Payload.(*customer.CustomerErased)
		return ok
	})
	seen := map[string]bool{id: true}
	var add func(e *streamEntry) error
	add = func(e *streamEntry) error {
		// The customers merged into e's customer as of asOf: merged in
		// and not unmerged since, in merge order.
		var in []string
		for i, d := range e.evs {
			u.refs = append(u.refs, eventRef{e: e, i: i})
			switch p := d.Payload.(type) {
			case *customer.CustomersMergedIn:
				u.bookkeeping = true
				if asOf != nil && d.Event.OccurredAt.After(*asOf) {
					continue
				}
				for _, from := range p.From {
					if !slices.Contains(in, from) {
						in = append(in, from)
					}
				}
			case *customer.CustomersUnmerged:
				u.bookkeeping = true
				if asOf != nil && d.Event.OccurredAt.After(*asOf) {
					continue
				}
				in = slices.DeleteFunc(in, func(f string) bool { return slices.Contains(p.IDs, f) })
			case *customer.CustomerMerged, *customer.CustomerUnmerged:
				u.bookkeeping = true
			}
		}
		for _, from := range in {
			if seen[from] {
				continue
			}
			seen[from] = true
			if erased {
				// Erasing the survivor shreds the merged customers'
				// keys too (automation/erasure), without an event on
				// their streams: what the cache opened is stale.
				s.cache.drop(from)
			}
			fe, err := s.load(ctx, from)
			if err != nil {
				return err
			}
			if err := add(fe); err != nil {
				return err
			}
		}
		return nil
	}
	if err := add(own); err != nil {
		return nil, err
	}
	if len(seen) > 1 {
		u.merged = true
		slices.SortStableFunc(u.refs, func(a, b eventRef) int {
			pa, pb := a.decoded().Event.Position, b.decoded().Event.Position
			switch {
			case pa < pb:
				return -1
			case pa > pb:
				return 1
			}
			return 0
		})
	}
	return u, nil
}

// events are the union's decoded events, in global order.
func (u *union) events() []codec.Decoded {
	if !u.merged {
		return u.own.evs
	}
	out := make([]codec.Decoded, len(u.refs))
	for i, r := range u.refs {
		out[i] = r.decoded()
	}
	return out
}

// facts are the lifecycle facts of the union: the customer's own, or, for
// a survivor, those of every stream in business-time order (one customer
// who had the union history; the first registration is when they became
// a customer). The merge events are bookkeeping, not facts about the
// customer.
func (u *union) facts() []lifecycle.Fact {
	if !u.merged && !u.bookkeeping {
		return u.own.facts
	}
	if !u.merged {
		// The customer's own facts, in their order, without the merge
		// bookkeeping of a survivor alone again or a restored customer.
		return slices.DeleteFunc(slices.Clone(u.own.facts), func(f lifecycle.Fact) bool { return isBookkeeping(f.Event) })
	}
	var out []lifecycle.Fact
	for _, r := range u.refs {
		d := r.decoded()
		e, ok := d.Payload.(customer.Event)
		if !ok {
			continue
		}
		if isBookkeeping(e) {
			continue
		}
		out = append(out, lifecycle.Fact{At: d.Event.OccurredAt, Event: e})
	}
	slices.SortStableFunc(out, func(a, b lifecycle.Fact) int { return a.At.Compare(b.At) })
	return out
}

// isBookkeeping reports whether e records a merge or an unmerge.
func isBookkeeping(e customer.Event) bool {
	switch e.(type) {
	case *customer.CustomerMerged, *customer.CustomersMergedIn, *customer.CustomerUnmerged, *customer.CustomersUnmerged:
		return true
	}
	return false
}

// survivor follows a merged customer's MergedInto to the customer the
// book shows now (c itself when not merged).
func (s *core) survivor(c customers.Customer) customers.Customer {
	for range 64 { // merges cannot cycle; bound the walk all the same
		if c.MergedInto == "" {
			return c
		}
		next, ok := s.Customers.Get(c.MergedInto)
		if !ok {
			return c
		}
		c = next
	}
	return c
}

// streamOf is a customer's stream.
func streamOf(id string) string { return eventstore.StreamID(customer.StreamCategory, id) }
