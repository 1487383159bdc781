package readmodels

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/loyalty"
)

// Merged customers in the lifecycle and the loyalty index
//
// The lifecycle read model is one State per stream, folded event by event.
// A merge (CustomersMergedIn on the survivor's stream) makes one customer
// of several: the merged customers leave the populations
// (lifecycle.Projector.Retire) and the survivor's state becomes the fold
// of the union history — its own stream and those merged into it, up to
// the merge, in the order the query side folds it (app/query: global
// order, then business time) — at the instant of the merge
// (Recompose). The union is read from the log, which is why the set needs
// it (UseLog; Rebuild passes its own). Before the merge the book counted
// two customers and its reports still do; from the merge on, one: the
// lifecycle report agrees with customer(asOf:) at every instant. An
// unmerge (CustomersUnmerged on the survivor) recomposes the survivor from
// what is still merged into it and brings each restored customer back,
// recomposed from its own union, at the instant of the unmerge. The
// loyalty index does the same with scores.

// logReader reads customers' union histories for the lifecycle.
type logReader struct {
	store eventstore.Store
	dec   projections.Decoder
}

// UseLog gives the set the log it folds, read when a merge needs a
// customer's union history. The decoder may be PlainDecoder: the
// lifecycle reads no personal data.
func (s *Set) UseLog(store eventstore.Store, dec projections.Decoder) {
	s.lifeMu.Lock()
	s.log = &logReader{store: store, dec: dec}
	s.lifeMu.Unlock()
}

// logReader is the log UseLog gave (nil if none).
func (s *Set) logReader() *logReader {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.log
}

// foldLoyalty folds one customer event into the loyalty index: a merge
// rescores the survivor over the union history and takes the merged
// customers out, an unmerge rescores the survivor and the restored.
func foldLoyalty(ctx context.Context, p *loyalty.Projector, log *logReader, ev eventstore.Event, e customer.Event) error {
	id := CustomerIDOf(ev)
	var recompose []string
	switch e := e.(type) {
	case *customer.CustomersMergedIn:
		for _, from := range e.From {
			p.Retire(from)
		}
		recompose = []string{id}
	case *customer.CustomersUnmerged:
		recompose = append([]string{id}, e.IDs...)
	default:
		p.Apply(id, lifecycle.Fact{At: ev.OccurredAt, Event: e})
		return nil
	}
	for _, c := range recompose {
		facts, err := log.unionAt(ctx, c, ev.Position)
		if err != nil {
			return err
		}
		p.Recompose(c, facts)
	}
	return nil
}

// errNoLog: a merge reached a set that was given no log.
var errNoLog = errors.New("readmodels: a merge needs the log to read the union history (Set.UseLog)")

// foldLifecycle folds one customer event into p: a merge recomposes the
// survivor and retires the merged customers, an unmerge recomposes the
// survivor and each restored customer from their own unions; every other
// event is a fact of its stream.
func foldLifecycle(ctx context.Context, p *lifecycle.Projector, log *logReader, ev eventstore.Event, e customer.Event) error {
	id := CustomerIDOf(ev)
	switch e := e.(type) {
	case *customer.CustomersMergedIn:
		facts, err := log.unionAt(ctx, id, ev.Position)
		if err != nil {
			return err
		}
		for _, from := range e.From {
			p.Retire(from, ev.OccurredAt, "merged into "+id)
		}
		p.Recompose(id, facts, ev.OccurredAt, "merged with "+strings.Join(e.From, ", "))
	case *customer.CustomersUnmerged:
		facts, err := log.unionAt(ctx, id, ev.Position)
		if err != nil {
			return err
		}
		p.Recompose(id, facts, ev.OccurredAt, "unmerged from "+strings.Join(e.IDs, ", "))
		for _, r := range e.IDs {
			facts, err := log.unionAt(ctx, r, ev.Position)
			if err != nil {
				return err
			}
			p.Recompose(r, facts, ev.OccurredAt, "unmerged from "+id)
		}
	default:
		p.Apply(id, lifecycle.Fact{At: ev.OccurredAt, Event: e})
	}
	return nil
}

// unionAt is union with the errors a projection reports.
func (r *logReader) unionAt(ctx context.Context, id string, upTo eventstore.Position) ([]lifecycle.Fact, error) {
	if r == nil {
		return nil, errNoLog
	}
	facts, err := r.union(ctx, id, upTo)
	if err != nil {
		return nil, fmt.Errorf("readmodels: the union history of %s at position %d: %w", id, upTo, err)
	}
	return facts, nil
}

// union is the lifecycle history of customer id with every customer merged
// into it, as of position upTo: for each stream, its events up to upTo;
// the customers merged into it are those its CustomersMergedIn name and
// no later CustomersUnmerged takes out (app/query's rule), followed
// transitively. The facts are every stream's events in global order, the
// merge bookkeeping left out, then stably sorted by business time —
// app/query's union.facts, so the live stage and the query side's agree.
func (r *logReader) union(ctx context.Context, id string, upTo eventstore.Position) ([]lifecycle.Fact, error) {
	type ev struct {
		pos eventstore.Position
		f   lifecycle.Fact
	}
	var all []ev
	seen := map[string]bool{id: true}
	queue := []string{id}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		evs, err := r.stream(ctx, cur)
		if err != nil {
			return nil, err
		}
		var in []string
		for _, x := range evs {
			if x.Position > upTo {
				break
			}
			payload, err := r.dec.Decode(ctx, x)
			if err != nil {
				return nil, fmt.Errorf("decode %s at position %d: %w", x.Type, x.Position, err)
			}
			e, ok := payload.(customer.Event)
			if !ok {
				continue
			}
			switch e := e.(type) {
			case *customer.CustomersMergedIn:
				for _, from := range e.From {
					if !slices.Contains(in, from) {
						in = append(in, from)
					}
				}
				continue
			case *customer.CustomersUnmerged:
				in = slices.DeleteFunc(in, func(f string) bool { return slices.Contains(e.IDs, f) })
				continue
			case *customer.CustomerMerged, *customer.CustomerUnmerged:
				continue
			}
			all = append(all, ev{pos: x.Position, f: lifecycle.Fact{At: x.OccurredAt, Event: e}})
		}
		for _, from := range in {
			if !seen[from] {
				seen[from] = true
				queue = append(queue, from)
			}
		}
	}
	slices.SortFunc(all, func(a, b ev) int {
		switch {
		case a.pos < b.pos:
			return -1
		case a.pos > b.pos:
			return 1
		}
		return 0
	})
	slices.SortStableFunc(all, func(a, b ev) int { return a.f.At.Compare(b.f.At) })
	out := make([]lifecycle.Fact, len(all))
	for i, x := range all {
		out[i] = x.f
	}
	return out, nil
}

// stream reads one customer's stream, retrying a failing store a few
// times (a projection that returns an error stops until the restart).
func (r *logReader) stream(ctx context.Context, id string) ([]eventstore.Event, error) {
	var err error
	for attempt := range 5 {
		var evs []eventstore.Event
		evs, err = r.store.ReadStream(ctx, eventstore.StreamID(customer.StreamCategory, id), eventstore.StreamRead{})
		switch {
		case err == nil:
			return evs, nil
		case errors.Is(err, eventstore.ErrStreamNotFound):
			return nil, nil
		case errors.Is(err, eventstore.ErrClosed), ctx.Err() != nil:
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
		}
	}
	return nil, err
}
