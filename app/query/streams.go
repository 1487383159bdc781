package query

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/projections/complaints"
	"github.com/kefu-crm/kefu/projections/customers"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/loyalty"
)

// snapshot is one customer folded from their stream up to an instant.
type snapshot struct {
	book    *customers.Model
	compl   *complaints.Model
	facts   []lifecycle.Fact
	stage   lifecycle.Result
	version uint64
}

// fold folds a customer's union history (their stream and the streams
// merged into it, see history), keeping events that occurred at or before
// asOf (all when asOf is nil), and evaluates the lifecycle at t. The read
// models take the events in global order, as they do live; the lifecycle
// takes the union's facts.
func (s *core) fold(id string, u *union, asOf *time.Time, t time.Time) (*snapshot, error) {
	sn := &snapshot{book: customers.New(), compl: complaints.New()}
	own := streamOf(id)
	for _, d := range u.events() {
		e, ok := d.Payload.(customer.Event)
		if !ok || (asOf != nil && d.Event.OccurredAt.After(*asOf)) {
			continue
		}
		sn.book.Apply(d.Event, e)
		sn.compl.Apply(d.Event, e)
		if d.Event.StreamID == own {
			sn.version = d.Event.Revision
		}
	}
	for _, f := range u.facts() {
		if asOf == nil || !f.At.After(*asOf) {
			sn.facts = append(sn.facts, f)
		}
	}
	if len(sn.facts) == 0 {
		return nil, notFound("customer", id)
	}
	res, err := lifecycle.StageAt(sn.facts, t, s.Policy(), s.Churn.View())
	if err != nil {
		return nil, err
	}
	sn.stage = res
	return sn, nil
}

// readCacheSize bounds how many customers' decoded streams are kept. A
// 50-event stream decodes to roughly 40 KB, so the cache stays under
// ~160 MB at its bound; it exists so that one request reads and decodes a
// stream once (customer, then its timeline and nested fields) and so
// that a customer read again soon is not decoded again.
const readCacheSize = 4096

// readCache keeps recently read customers' decoded streams, each tagged
// with the revision of its last event. Every use first asks the store for
// the stream's last revision (one indexed read of one event), so a cached
// stream is only served while no event has been appended to it: the
// answers are exactly those of reading the whole stream again. Streams
// that contain CustomerErased are never cached, because the erasure
// projection destroys the data key after the event is appended: a stream
// decoded in between would still hold personal data.
//
// The zero value is ready to use; it is safe for concurrent use.
type readCache struct {
	mu   sync.Mutex
	m    map[string]*streamEntry
	ring []string // insertion order, for FIFO eviction
	next int

	rulesOnce sync.Once
	loyalty   *loyalty.Rules
	life      *lifecycle.Rules
}

// streamEntry is one customer's decoded stream. evs and facts are never
// modified once the entry is published; timeline parts are filled in
// lazily under mu.
type streamEntry struct {
	rev   uint64
	evs   []codec.Decoded
	facts []lifecycle.Fact // facts of evs, in order (all of them)

	mu    sync.Mutex
	parts []*timelinePart // per event index; nil until first shown
}

// timelinePart is what the timeline shows of one event beyond its
// envelope: the JSON data and the two summaries.
type timelinePart struct {
	data       json.RawMessage
	full, safe string
}

// rules returns the loyalty and lifecycle rules used by the "as of" folds
// (built once; they are immutable).
func (c *readCache) rules() (*loyalty.Rules, *lifecycle.Rules) {
	c.rulesOnce.Do(func() {
		c.loyalty, _ = loyalty.NewRules(loyalty.DefaultConfig())
		c.life, _ = lifecycle.NewRules(lifecycle.DefaultPolicy(), nil)
	})
	return c.loyalty, c.life
}

// get returns the entry of a customer at revision rev (hit), or else an
// entry at an earlier revision that can be extended (older), if any.
func (c *readCache) get(id string, rev uint64) (hit, older *streamEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e := c.m[id]; {
	case e == nil:
		return nil, nil
	case e.rev == rev:
		return e, nil
	case e.rev < rev:
		return nil, e
	}
	return nil, nil
}

func (c *readCache) put(id string, e *streamEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]*streamEntry, readCacheSize)
		c.ring = make([]string, readCacheSize)
	}
	if _, ok := c.m[id]; ok {
		c.m[id] = e
		return
	}
	if old := c.ring[c.next]; old != "" {
		delete(c.m, old)
	}
	c.ring[c.next] = id
	c.next = (c.next + 1) % readCacheSize
	c.m[id] = e
}

// drop forgets a customer's entry (its ring slot is reused later).
func (c *readCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// load returns a customer's decoded stream, from the cache when no event
// was appended since it was cached. A customer without events is
// NOT_FOUND.
func (s *core) load(ctx context.Context, id string) (*streamEntry, error) {
	if !customer.ValidID(id) {
		return nil, notFound("customer", id)
	}
	stream := eventstore.StreamID(customer.StreamCategory, id)
	last, err := s.store.ReadStream(ctx, stream, eventstore.StreamRead{Direction: eventstore.Backward, From: eventstore.End, Limit: 1})
	if errors.Is(err, eventstore.ErrStreamNotFound) || (err == nil && len(last) == 0) {
		return nil, notFound("customer", id)
	}
	if err != nil {
		return nil, err
	}
	rev := last[0].Revision
	hit, older := s.cache.get(id, rev)
	if hit != nil {
		return hit, nil
	}
	read := eventstore.StreamRead{}
	e := &streamEntry{}
	if older != nil {
		// Events were appended since the customer was cached: read and
		// decode only those (the cached ones are immutable and shared).
		read.From = older.rev + 1
		e.evs = slices.Clip(older.evs)
		e.facts = slices.Clip(older.facts)
		older.mu.Lock()
		e.parts = slices.Clone(older.parts)
		older.mu.Unlock()
	}
	raw, err := s.store.ReadStream(ctx, stream, read)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil, notFound("customer", id)
	}
	if err != nil {
		return nil, err
	}
	if older != nil && (len(raw) == 0 || raw[0].Revision != older.rev+1 || slices.ContainsFunc(raw, isErasure)) {
		// Not a continuation of the cached stream, or the customer was
		// erased (the cached events hold opened personal data): read and
		// decode it all again.
		s.cache.drop(id)
		return s.load(ctx, id)
	}
	erased := false
	for _, ev := range raw {
		d, err := s.codec.Decode(ctx, ev)
		if err != nil {
			return nil, err
		}
		e.evs = append(e.evs, d)
		if ce, ok := d.Payload.(customer.Event); ok {
			e.facts = append(e.facts, lifecycle.Fact{At: ev.OccurredAt, Event: ce})
		}
		if isErasure(ev) {
			erased = true
		}
		e.rev = ev.Revision
	}
	e.parts = append(e.parts, make([]*timelinePart, len(e.evs)-len(e.parts))...)
	if erased {
		// An entry cached before the erasure holds opened personal data:
		// drop it rather than wait for eviction.
		s.cache.drop(id)
	} else {
		s.cache.put(id, e)
	}
	return e, nil
}

// part returns the timeline data and summaries of event i (computed once
// per cached stream).
func (e *streamEntry) part(i int) (*timelinePart, error) {
	e.mu.Lock()
	p := e.parts[i]
	e.mu.Unlock()
	if p != nil {
		return p, nil
	}
	d := e.evs[i]
	data, err := json.Marshal(d.Payload)
	if err != nil {
		return nil, err
	}
	full, safe := summarize(d.Payload)
	p = &timelinePart{data: data, full: full, safe: safe}
	e.mu.Lock()
	e.parts[i] = p
	e.mu.Unlock()
	return p, nil
}

func isErasure(ev eventstore.Event) bool { return ev.Type == customer.TypeCustomerErased }
