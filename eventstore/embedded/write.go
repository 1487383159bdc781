package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded/internal/envelope"
)

// gatherDelay is the longest the writer waits for appends in flight before
// committing what it has.
const gatherDelay = 300 * time.Microsecond

// request is one Append or AppendBatch call waiting for the writer.
type request struct {
	ctx   context.Context
	items []eventstore.StreamAppend
	// res has one entry per item. Items refused before queueing (invalid)
	// carry their error already; the writer skips them and fills the rest.
	res    []eventstore.BatchResult
	events int // events of the items to write, for MaxBatchEvents
	// atomic: the items are stored all or none (AppendAtomic).
	atomic bool
	done   chan response // buffered 1
}

// response answers a request: res, or an error for the whole call.
type response struct {
	res []eventstore.BatchResult
	err error
}

// Append implements eventstore.Store. It returns once the events are on disk.
// If ctx ends while the append waits for its commit, Append returns ctx's
// error and the append may or may not be stored; retrying it with the same
// event IDs is safe and tells which.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, records ...eventstore.Record) (eventstore.AppendResult, error) {
	if err := s.validate(stream, records); err != nil {
		return eventstore.AppendResult{}, err
	}
	req := &request{
		ctx:    ctx,
		items:  []eventstore.StreamAppend{{Stream: stream, Expected: expected, Records: records}},
		res:    make([]eventstore.BatchResult, 1),
		events: len(records),
	}
	res, err := s.submit(ctx, req)
	if err != nil {
		if errors.Is(err, errMayBeStored) {
			return eventstore.AppendResult{}, fmt.Errorf("embedded: append to %s may or may not be stored: %w", stream, ctx.Err())
		}
		return eventstore.AppendResult{}, err
	}
	return res[0].Result, res[0].Err
}

// AppendBatch implements eventstore.BatchAppender. The valid items of one
// call go into one transaction, shared with the appends queued at the same
// time (group commit), and so one pair of fsyncs; a call with more than
// MaxBatchEvents events is written whole, in a transaction of its own. If ctx
// ends while the call waits for its commit, AppendBatch returns ctx's error
// and the items may or may not be stored; retrying with the same event IDs
// is safe and tells which.
func (s *Store) AppendBatch(ctx context.Context, items []eventstore.StreamAppend) ([]eventstore.BatchResult, error) {
	req := &request{ctx: ctx, items: items, res: make([]eventstore.BatchResult, len(items))}
	valid := 0
	for i, it := range items {
		if err := s.validate(it.Stream, it.Records); err != nil {
			req.res[i].Err = err
			continue
		}
		valid++
		req.events += len(it.Records)
	}
	if valid == 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.closed.Load() {
			return nil, eventstore.ErrClosed
		}
		return req.res, nil
	}
	res, err := s.submit(ctx, req)
	if errors.Is(err, errMayBeStored) {
		return nil, fmt.Errorf("embedded: batch of %d appends may or may not be stored: %w", len(items), ctx.Err())
	}
	return res, err
}

// AppendAtomic implements eventstore.AtomicAppender. The writer checks
// every item of the call inside the transaction it commits (so no other
// append can slip between check and write) and writes them all, or none
// and answers with an *eventstore.AtomicError. The call shares the
// transaction with the appends queued at the same time, like AppendBatch.
func (s *Store) AppendAtomic(ctx context.Context, items []eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	if err := eventstore.ValidateAtomic(items); err != nil {
		return nil, err
	}
	for i, it := range items {
		if err := s.validate(it.Stream, it.Records); err != nil {
			return nil, &eventstore.AtomicError{Index: i, Stream: it.Stream, Err: err}
		}
	}
	if len(items) == 0 {
		return nil, nil
	}
	req := &request{ctx: ctx, items: items, res: make([]eventstore.BatchResult, len(items)), atomic: true}
	for _, it := range items {
		req.events += len(it.Records)
	}
	res, err := s.submit(ctx, req)
	if errors.Is(err, errMayBeStored) {
		return nil, fmt.Errorf("embedded: atomic append of %d streams may or may not be stored (all or none): %w", len(items), ctx.Err())
	}
	if err != nil {
		return nil, err
	}
	out := make([]eventstore.AppendResult, len(res))
	for i, r := range res {
		if r.Err != nil {
			return nil, r.Err // the *AtomicError, on every item
		}
		out[i] = r.Result
	}
	return out, nil
}

// errMayBeStored: ctx ended after the request was queued.
var errMayBeStored = errors.New("embedded: may or may not be stored")

// validate checks one append's arguments, before it is queued.
func (s *Store) validate(stream string, records []eventstore.Record) error {
	if err := eventstore.ValidateAppend(stream, records); err != nil {
		return err
	}
	for i, r := range records {
		if n := len(r.Data) + len(r.Metadata); n > s.opts.MaxEventBytes {
			return fmt.Errorf("%w: record %d (%s) of %s has %d bytes of data and metadata, more than the limit of %d",
				eventstore.ErrInvalidRecord, i, r.Type, stream, n, s.opts.MaxEventBytes)
		}
	}
	return nil
}

// submit queues req for the writer and waits for its answer.
func (s *Store) submit(ctx context.Context, req *request) ([]eventstore.BatchResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	req.done = make(chan response, 1)
	select {
	case s.reqs <- req:
	case <-s.closing:
		return nil, eventstore.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-req.done:
		return r.res, r.err
	case <-s.writerDone:
		// Closed; the writer may have answered just before it stopped.
		select {
		case r := <-req.done:
			return r.res, r.err
		default:
			return nil, eventstore.ErrClosed
		}
	case <-ctx.Done():
		return nil, errMayBeStored
	}
}

// write is the writer goroutine: it takes the appends waiting for it, up
// to MaxBatchEvents events, and commits them in one transaction.
func (s *Store) write() {
	defer close(s.writerDone)
	w := writer{s: s, head: eventstore.Position(s.head.Load())}
	var batch []*request
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		batch = batch[:0]
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		case <-s.closing:
			return
		}
		n := batch[0].events
		// Take what is queued, then wait a little for appends that are on
		// their way: callers inside Append that have not queued yet (they
		// were just answered and are appending again). Without the wait,
		// concurrent appenders split into two cohorts that alternate,
		// halving every batch.
		var deadline <-chan time.Time
	gather:
		for n < s.opts.MaxBatchEvents {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
				n += r.events
				continue
			default:
			}
			if int64(len(batch)) >= s.inflight.Load() {
				break
			}
			if deadline == nil {
				timer.Reset(gatherDelay)
				deadline = timer.C
			}
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
				n += r.events
			case <-deadline:
				deadline = nil
				break gather
			}
		}
		if deadline != nil {
			timer.Stop() // since Go 1.23 no stale tick can follow Stop
		}
		w.commit(batch)
		clear(batch)
	}
}

// writer is the writer goroutine's state.
type writer struct {
	s    *Store
	head eventstore.Position // last committed position
	dec  envelope.Decoder
}

// commit applies batch in one transaction and answers every request. The
// transaction runs under protect: a damaged page fails the whole batch with
// the store's damage, and every later batch with it.
func (w *writer) commit(batch []*request) {
	s := w.s
	head := w.head
	var (
		tx  *bolt.Tx
		out []response
	)
	err := s.Damage()
	if err == nil {
		err = s.protect("append", func() (err error) {
			out, err = w.transact(batch, &tx, &head)
			return err
		})
	}
	if err != nil {
		if tx != nil {
			// Gone already after a failed Commit; after a panic the
			// transaction is still open and holds the writer lock.
			_ = guard(s.path, "rollback", tx.Rollback)
		}
		w.fail(batch, err)
		return
	}
	if head != w.head {
		w.head = head
		s.head.Store(uint64(head))
		s.mu.Lock()
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
	for i, r := range batch {
		r.done <- out[i]
	}
}

// transact writes batch in one transaction, which it keeps in *txp until
// it is committed or rolled back, and advances *head. An error fails the
// whole batch; the caller then rolls back *txp.
func (w *writer) transact(batch []*request, txp **bolt.Tx, head *eventstore.Position) ([]response, error) {
	out := make([]response, len(batch))
	tx, err := w.s.db.Begin(true)
	if err != nil {
		return nil, fmt.Errorf("embedded: begin write: %w", err)
	}
	*txp = tx
	tx.Bucket(bucketEvents).FillPercent = 1 // keys only ever grow: pack pages full
	wrote := false
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			out[i].err = err
			continue
		}
		if r.atomic {
			if err := w.check(tx, r.items); err != nil {
				for j := range r.res {
					r.res[j].Err = err
				}
				out[i].res = r.res
				continue
			}
		}
		for j := range r.items {
			if r.res[j].Err != nil {
				continue // refused before queueing
			}
			res, written, err := w.apply(tx, &r.items[j], head)
			if err != nil && written {
				// A write failed half-way; the transaction is unusable.
				return nil, w.s.annotate(err)
			}
			r.res[j] = eventstore.BatchResult{Result: res, Err: w.s.annotate(err)}
			wrote = wrote || written
		}
		out[i].res = r.res
	}
	if !wrote {
		*txp = nil
		return out, tx.Rollback()
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("embedded: commit: %w", err)
	}
	*txp = nil
	return out, nil
}

// check checks the items of an atomic request in tx, as apply would,
// without writing: the *eventstore.AtomicError of the first that would
// fail, or nil. The items name distinct streams (ValidateAtomic), so each
// is checked against the stream as it stands.
func (w *writer) check(tx *bolt.Tx, items []eventstore.StreamAppend) error {
	streams := tx.Bucket(bucketStreams)
	for i := range items {
		it := &items[i]
		_, retry, err := eventstore.ResolveRetry(it.Stream, it.Records, func(id uuid.UUID) (eventstore.Stored, bool, error) {
			return lookup(tx, &w.dec, id)
		})
		if err == nil && !retry {
			last, exists := lastRevision(streams, it.Stream)
			err = it.Expected.Check(it.Stream, last, exists)
		}
		if err != nil {
			return &eventstore.AtomicError{Index: i, Stream: it.Stream, Err: w.s.annotate(err)}
		}
	}
	return nil
}

func (w *writer) fail(batch []*request, err error) {
	w.s.opts.Logger.Error("event store write failed", "path", w.s.path, "appends", len(batch), "err", err)
	for _, r := range batch {
		r.done <- response{err: err}
	}
}

// apply writes one append into tx, advancing head. written reports whether
// it wrote anything: an error after a write leaves tx unusable.
func (w *writer) apply(tx *bolt.Tx, r *eventstore.StreamAppend, head *eventstore.Position) (res eventstore.AppendResult, written bool, err error) {
	res, retry, err := eventstore.ResolveRetry(r.Stream, r.Records, func(id uuid.UUID) (eventstore.Stored, bool, error) {
		return lookup(tx, &w.dec, id)
	})
	if err != nil || retry {
		return res, false, err
	}
	events, streams, ids := tx.Bucket(bucketEvents), tx.Bucket(bucketStreams), tx.Bucket(bucketIDs)
	last, exists := lastRevision(streams, r.Stream)
	if err := r.Expected.Check(r.Stream, last, exists); err != nil {
		return eventstore.AppendResult{}, false, err
	}
	rev := uint64(0)
	if exists {
		rev = last + 1
	}
	now := w.s.opts.Clock().UTC()
	pos := *head
	for _, rec := range r.Records {
		pos++
		e := eventstore.Event{
			ID: rec.ID, StreamID: r.Stream, Revision: rev, Type: rec.Type, SchemaVersion: rec.SchemaVersion,
			OccurredAt: rec.OccurredAt, RecordedAt: now, Data: rec.Data, Metadata: rec.Metadata,
		}
		// bbolt keeps references to keys and values until the transaction
		// ends, so each needs its own memory.
		val := envelope.Append(make([]byte, 0, envelope.Size(&e)), &e)
		pk := binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(pos))
		if err := events.Put(pk, val); err != nil {
			return eventstore.AppendResult{}, true, fmt.Errorf("embedded: write event %d: %w", pos, err)
		}
		if err := streams.Put(streamKey(make([]byte, 0, len(r.Stream)+9), r.Stream, rev), pk); err != nil {
			return eventstore.AppendResult{}, true, fmt.Errorf("embedded: write stream index of %s@%d: %w", r.Stream, rev, err)
		}
		if err := ids.Put(append(make([]byte, 0, 16), rec.ID[:]...), pk); err != nil {
			return eventstore.AppendResult{}, true, fmt.Errorf("embedded: write ID index of %s: %w", rec.ID, err)
		}
		rev++
	}
	*head = pos
	return eventstore.AppendResult{Revision: rev - 1, Position: pos}, true, nil
}
