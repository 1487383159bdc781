package embedded

import (
	"context"
	"encoding/binary"
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

// request is one Append waiting for the writer.
type request struct {
	ctx      context.Context
	stream   string
	expected eventstore.Expected
	records  []eventstore.Record
	done     chan response // buffered 1
}

type response struct {
	res eventstore.AppendResult
	err error
}

// Append implements eventstore.Store. It returns once the events are on disk.
// If ctx ends while the append waits for its commit, Append returns ctx's
// error and the append may or may not be stored; retrying it with the same
// event IDs is safe and tells which.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, records ...eventstore.Record) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, records); err != nil {
		return eventstore.AppendResult{}, err
	}
	for i, r := range records {
		if n := len(r.Data) + len(r.Metadata); n > s.opts.MaxEventBytes {
			return eventstore.AppendResult{}, fmt.Errorf("%w: record %d (%s) of %s has %d bytes of data and metadata, more than the limit of %d",
				eventstore.ErrInvalidRecord, i, r.Type, stream, n, s.opts.MaxEventBytes)
		}
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	if s.closed.Load() {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	req := &request{ctx: ctx, stream: stream, expected: expected, records: records, done: make(chan response, 1)}
	select {
	case s.reqs <- req:
	case <-s.closing:
		return eventstore.AppendResult{}, eventstore.ErrClosed
	case <-ctx.Done():
		return eventstore.AppendResult{}, ctx.Err()
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
			return eventstore.AppendResult{}, eventstore.ErrClosed
		}
	case <-ctx.Done():
		return eventstore.AppendResult{}, fmt.Errorf("embedded: append to %s may or may not be stored: %w", stream, ctx.Err())
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
		n := len(batch[0].records)
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
				n += len(r.records)
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
				n += len(r.records)
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
	buf  []byte
	key  []byte
}

// commit applies batch in one transaction and answers every request.
func (w *writer) commit(batch []*request) {
	s := w.s
	out := make([]response, len(batch))
	head := w.head
	tx, err := s.db.Begin(true)
	if err != nil {
		w.fail(batch, fmt.Errorf("embedded: begin write: %w", err))
		return
	}
	tx.Bucket(bucketEvents).FillPercent = 1 // keys only ever grow: pack pages full
	wrote := false
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			out[i].err = err
			continue
		}
		res, written, err := w.apply(tx, r, &head)
		if err != nil && written {
			// A write failed half-way; the transaction is unusable.
			_ = tx.Rollback()
			w.fail(batch, err)
			return
		}
		out[i] = response{res, err}
		wrote = wrote || written
	}
	if !wrote {
		_ = tx.Rollback()
	} else if err := tx.Commit(); err != nil {
		w.fail(batch, fmt.Errorf("embedded: commit: %w", err))
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

func (w *writer) fail(batch []*request, err error) {
	w.s.opts.Logger.Error("event store write failed", "path", w.s.path, "appends", len(batch), "err", err)
	for _, r := range batch {
		r.done <- response{err: err}
	}
}

// apply writes one append into tx, advancing head. written reports whether
// it wrote anything: an error after a write leaves tx unusable.
func (w *writer) apply(tx *bolt.Tx, r *request, head *eventstore.Position) (res eventstore.AppendResult, written bool, err error) {
	res, retry, err := eventstore.ResolveRetry(r.stream, r.records, func(id uuid.UUID) (eventstore.Stored, bool, error) {
		return lookup(tx, &w.dec, id)
	})
	if err != nil || retry {
		return res, false, err
	}
	events, streams, ids := tx.Bucket(bucketEvents), tx.Bucket(bucketStreams), tx.Bucket(bucketIDs)
	last, exists := lastRevision(streams, r.stream)
	if err := r.expected.Check(r.stream, last, exists); err != nil {
		return eventstore.AppendResult{}, false, err
	}
	rev := uint64(0)
	if exists {
		rev = last + 1
	}
	now := w.s.opts.Clock().UTC()
	pos := *head
	for _, rec := range r.records {
		pos++
		e := eventstore.Event{
			ID: rec.ID, StreamID: r.stream, Revision: rev, Type: rec.Type, SchemaVersion: rec.SchemaVersion,
			OccurredAt: rec.OccurredAt, RecordedAt: now, Data: rec.Data, Metadata: rec.Metadata,
		}
		// bbolt keeps references to keys and values until the transaction
		// ends, so each needs its own memory.
		val := envelope.Append(make([]byte, 0, envelope.Size(&e)), &e)
		pk := binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(pos))
		if err := events.Put(pk, val); err != nil {
			return eventstore.AppendResult{}, true, fmt.Errorf("embedded: write event %d: %w", pos, err)
		}
		if err := streams.Put(streamKey(make([]byte, 0, len(r.stream)+9), r.stream, rev), pk); err != nil {
			return eventstore.AppendResult{}, true, fmt.Errorf("embedded: write stream index of %s@%d: %w", r.stream, rev, err)
		}
		if err := ids.Put(append(make([]byte, 0, 16), rec.ID[:]...), pk); err != nil {
			return eventstore.AppendResult{}, true, fmt.Errorf("embedded: write ID index of %s: %w", rec.ID, err)
		}
		rev++
	}
	*head = pos
	return eventstore.AppendResult{Revision: rev - 1, Position: pos}, true, nil
}
