// Package memstore is an in-memory eventstore.Store for fast unit tests. It
// keeps nothing across Close and is not meant for production data.
package memstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Clock gives RecordedAt; nil means time.Now.
	Clock func() time.Time
}

// Store is an in-memory event log. It is safe for concurrent use.
type Store struct {
	clock func() time.Time

	mu      sync.RWMutex
	closed  bool
	log     []eventstore.Event // log[i] has Position i+1
	streams map[string][]eventstore.Position
	ids     map[uuid.UUID]eventstore.Position
	// changed is closed and replaced on every append and on Close, waking
	// subscribers.
	changed chan struct{}
}

var (
	_ eventstore.Store          = (*Store)(nil)
	_ eventstore.BatchAppender  = (*Store)(nil)
	_ eventstore.AtomicAppender = (*Store)(nil)
)

// New returns an empty store.
func New(opts Options) *Store {
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	return &Store{
		clock:   clock,
		streams: make(map[string][]eventstore.Position),
		ids:     make(map[uuid.UUID]eventstore.Position),
		changed: make(chan struct{}),
	}
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, records ...eventstore.Record) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, records); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	res, wrote, err := s.apply(stream, expected, records)
	if wrote {
		s.notify()
	}
	return res, err
}

// AppendBatch implements eventstore.BatchAppender: the items are applied in
// order under one lock, so no other append lands between them.
func (s *Store) AppendBatch(ctx context.Context, items []eventstore.StreamAppend) ([]eventstore.BatchResult, error) {
	out := make([]eventstore.BatchResult, len(items))
	for i, it := range items {
		out[i].Err = eventstore.ValidateAppend(it.Stream, it.Records)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, eventstore.ErrClosed
	}
	wroteAny := false
	for i, it := range items {
		if out[i].Err != nil {
			continue
		}
		res, wrote, err := s.apply(it.Stream, it.Expected, it.Records)
		out[i] = eventstore.BatchResult{Result: res, Err: err}
		wroteAny = wroteAny || wrote
	}
	if wroteAny {
		s.notify()
	}
	return out, nil
}

// AppendAtomic implements eventstore.AtomicAppender: every item is
// checked under the lock before any is applied, so either all are stored
// or none.
func (s *Store) AppendAtomic(ctx context.Context, items []eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	if err := eventstore.ValidateAtomic(items); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, eventstore.ErrClosed
	}
	for i, it := range items {
		if err := s.check(it.Stream, it.Expected, it.Records); err != nil {
			return nil, &eventstore.AtomicError{Index: i, Stream: it.Stream, Err: err}
		}
	}
	out := make([]eventstore.AppendResult, len(items))
	wroteAny := false
	for i, it := range items {
		res, wrote, err := s.apply(it.Stream, it.Expected, it.Records)
		if err != nil {
			// check passed under the same lock: cannot happen.
			return nil, fmt.Errorf("memstore: atomic append: %w", err)
		}
		out[i] = res
		wroteAny = wroteAny || wrote
	}
	if wroteAny {
		s.notify()
	}
	return out, nil
}

// check is apply without the write: the error apply would return.
func (s *Store) check(stream string, expected eventstore.Expected, records []eventstore.Record) error {
	_, retry, err := eventstore.ResolveRetry(stream, records, s.lookup)
	if err != nil || retry {
		return err
	}
	revs := s.streams[stream]
	return expected.Check(stream, uint64(len(revs))-1, len(revs) > 0)
}

// apply appends one validated append; s.mu must be held. wrote reports
// whether it stored events.
func (s *Store) apply(stream string, expected eventstore.Expected, records []eventstore.Record) (eventstore.AppendResult, bool, error) {
	res, retry, err := eventstore.ResolveRetry(stream, records, s.lookup)
	if err != nil || retry {
		return res, false, err
	}
	revs := s.streams[stream]
	if err := expected.Check(stream, uint64(len(revs))-1, len(revs) > 0); err != nil {
		return eventstore.AppendResult{}, false, err
	}
	now := s.clock().UTC()
	for _, r := range records {
		pos := eventstore.Position(len(s.log) + 1)
		s.log = append(s.log, eventstore.Event{
			ID:            r.ID,
			StreamID:      stream,
			Revision:      uint64(len(revs)),
			Position:      pos,
			Type:          r.Type,
			SchemaVersion: r.SchemaVersion,
			OccurredAt:    r.OccurredAt,
			RecordedAt:    now,
			Data:          slices.Clone(r.Data),
			Metadata:      slices.Clone(r.Metadata),
		})
		revs = append(revs, pos)
		s.ids[r.ID] = pos
	}
	s.streams[stream] = revs
	return eventstore.AppendResult{Revision: uint64(len(revs) - 1), Position: eventstore.Position(len(s.log))}, true, nil
}

// notify wakes subscribers; s.mu must be held.
func (s *Store) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// lookup is ResolveRetry's lookup; s.mu must be held.
func (s *Store) lookup(id uuid.UUID) (eventstore.Stored, bool, error) {
	pos, ok := s.ids[id]
	if !ok {
		return eventstore.Stored{}, false, nil
	}
	e := &s.log[pos-1]
	return eventstore.Stored{Stream: e.StreamID, Revision: e.Revision, Position: pos}, true, nil
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, read eventstore.StreamRead) ([]eventstore.Event, error) {
	if err := eventstore.ValidateStreamRead(stream, read); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, eventstore.ErrClosed
	}
	revs := s.streams[stream]
	if len(revs) == 0 {
		return nil, eventstore.ErrStreamNotFound
	}
	var out []eventstore.Event
	full := func() bool { return read.Limit > 0 && len(out) >= read.Limit }
	if read.Direction == eventstore.Forward {
		for r := read.From; r < uint64(len(revs)) && !full(); r++ {
			out = append(out, clone(s.log[revs[r]-1]))
		}
		return out, nil
	}
	from := min(read.From, uint64(len(revs)-1))
	for r := int64(from); r >= 0 && !full(); r-- {
		out = append(out, clone(s.log[revs[r]-1]))
	}
	return out, nil
}

// ReadAll implements eventstore.Store. fn runs without the store's lock, so it
// may append.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, fn func(eventstore.Event) error) error {
	_, err := s.readAll(ctx, after, fn)
	return err
}

// readAll delivers the events after the given position that are stored when
// it starts and returns the last position it delivered.
func (s *Store) readAll(ctx context.Context, after eventstore.Position, fn func(eventstore.Event) error) (eventstore.Position, error) {
	s.mu.RLock()
	closed, log := s.closed, s.log
	s.mu.RUnlock()
	if closed {
		return after, eventstore.ErrClosed
	}
	// log is a snapshot: appends never change stored elements.
	for i := int(after); i < len(log); i++ {
		if err := ctx.Err(); err != nil {
			return after, err
		}
		if err := fn(clone(log[i])); err != nil {
			if errors.Is(err, eventstore.ErrStop) {
				return after, nil
			}
			return after, err
		}
		after = log[i].Position
	}
	return after, nil
}

// Subscribe implements eventstore.Store.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, fn func(eventstore.Event) error) error {
	stopped := false
	stopFn := func(e eventstore.Event) error {
		err := fn(e)
		if errors.Is(err, eventstore.ErrStop) {
			stopped = true
		}
		return err
	}
	for {
		s.mu.RLock()
		closed, changed := s.closed, s.changed
		s.mu.RUnlock()
		if closed {
			return eventstore.ErrClosed
		}
		last, err := s.readAll(ctx, after, stopFn)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil || stopped:
			return err
		}
		after = last
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, eventstore.ErrClosed
	}
	return eventstore.Position(len(s.log)), nil
}

// Close implements eventstore.Store. It drops every event.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	s.closed = true
	s.log, s.streams, s.ids = nil, nil, nil
	close(s.changed)
	return nil
}

func clone(e eventstore.Event) eventstore.Event {
	e.Data = slices.Clone(e.Data)
	e.Metadata = slices.Clone(e.Metadata)
	return e
}
