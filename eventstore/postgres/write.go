package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/kefu-crm/kefu/eventstore"
)

// pending is one Append or AppendBatch call waiting for the writer.
type pending struct {
	ctx   context.Context
	items []eventstore.StreamAppend
	// invalid[i] is item i's validation error, decided before queueing.
	invalid []error
	// results is filled by the writer before it sends on done.
	results []eventstore.BatchResult
	events  int
	done    chan error // buffered: the writer never waits for the caller
	// atomic: the items are stored all or none (AppendAtomic); atomicErr
	// is the failing item's, set by the writer.
	atomic    bool
	atomicErr *eventstore.AtomicError
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, records ...eventstore.Record) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, records); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := s.check(ctx); err != nil {
		return eventstore.AppendResult{}, err
	}
	p := newPending(ctx, []eventstore.StreamAppend{{Stream: stream, Expected: expected, Records: records}}, []error{nil})
	if err := s.submit(ctx, p); err != nil {
		return eventstore.AppendResult{}, err
	}
	r := p.results[0]
	return r.Result, r.Err
}

// AppendBatch implements eventstore.BatchAppender: the call's items are
// applied in order in one transaction (with whatever other appends of this
// process were queued at the same time), each checked on its own.
func (s *Store) AppendBatch(ctx context.Context, items []eventstore.StreamAppend) ([]eventstore.BatchResult, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return []eventstore.BatchResult{}, nil
	}
	invalid := make([]error, len(items))
	for i, it := range items {
		invalid[i] = eventstore.ValidateAppend(it.Stream, it.Records)
	}
	p := newPending(ctx, items, invalid)
	if err := s.submit(ctx, p); err != nil {
		return nil, err
	}
	return p.results, nil
}

// AppendAtomic implements eventstore.AtomicAppender: the items are decided
// together in the writer's transaction, in order, each as Append would
// decide it; if one fails, none of them is written (appends of other
// callers in the same transaction are not affected).
func (s *Store) AppendAtomic(ctx context.Context, items []eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if err := eventstore.ValidateAtomic(items); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return []eventstore.AppendResult{}, nil
	}
	p := newPending(ctx, items, make([]error, len(items)))
	p.atomic = true
	if err := s.submit(ctx, p); err != nil {
		return nil, err
	}
	if p.atomicErr != nil {
		return nil, p.atomicErr
	}
	out := make([]eventstore.AppendResult, len(items))
	for i, r := range p.results {
		out[i] = r.Result
	}
	return out, nil
}

func newPending(ctx context.Context, items []eventstore.StreamAppend, invalid []error) *pending {
	p := &pending{ctx: ctx, items: items, invalid: invalid, done: make(chan error, 1)}
	for i, it := range items {
		if invalid[i] == nil {
			p.events += len(it.Records)
		}
	}
	return p
}

// submit queues p and waits for its outcome. A caller whose ctx ends while
// its append is being committed gets ctx's error; the append may or may
// not be stored (a retry with the same event IDs tells).
func (s *Store) submit(ctx context.Context, p *pending) error {
	select {
	case s.queue <- p:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return eventstore.ErrClosed
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.writerDone:
		select {
		case err := <-p.done:
			return err
		default:
			return eventstore.ErrClosed
		}
	}
}

// writer applies queued appends, gathering whatever is queued into one
// transaction, until the store closes.
func (s *Store) writer() {
	defer s.workers.Done()
	defer close(s.writerDone)
	for {
		var first *pending
		select {
		case <-s.life.Done():
			s.drain()
			return
		case first = <-s.queue:
		}
		group, n := []*pending{first}, first.events
	gather:
		for n < s.opts.MaxBatchEvents {
			select {
			case p := <-s.queue:
				group = append(group, p)
				n += p.events
			default:
				break gather
			}
		}
		s.commit(group)
	}
}

// drain fails what is still queued at Close.
func (s *Store) drain() {
	for {
		select {
		case p := <-s.queue:
			p.done <- eventstore.ErrClosed
		default:
			return
		}
	}
}

// commit applies group in one transaction, retrying it when the connection
// fails: the event IDs make a retry of a transaction that did commit an
// idempotent no-op.
func (s *Store) commit(group []*pending) {
	live := group[:0]
	for _, p := range group {
		if err := p.ctx.Err(); err != nil {
			p.done <- err
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	var err error
	backoff := 20 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err = s.commitOnce(s.life, live)
		if err == nil || !transient(err) || attempt == 5 || s.life.Err() != nil {
			break
		}
		s.opts.Logger.Warn("postgres: append transaction failed, retrying", "attempt", attempt+1, "err", err)
		select {
		case <-time.After(backoff):
		case <-s.life.Done():
		}
		backoff *= 2
	}
	if err != nil {
		err = s.fail(s.life, "append", err)
	}
	for _, p := range live {
		p.done <- err
	}
}

// row is the columns of the events being inserted.
type columns struct {
	position, revision []int64
	stream, typ        []string
	id                 []string
	schema             []int32
	occurred, recorded []time.Time
	occurredNs         []int16
	data, meta         [][]byte
}

// len is the number of rows.
func (c *columns) len() int { return len(c.position) }

// truncate drops the rows after the first n.
func (c *columns) truncate(n int) {
	c.position, c.stream, c.revision, c.id, c.typ = c.position[:n], c.stream[:n], c.revision[:n], c.id[:n], c.typ[:n]
	c.schema, c.occurred, c.occurredNs, c.recorded = c.schema[:n], c.occurred[:n], c.occurredNs[:n], c.recorded[:n]
	c.data, c.meta = c.data[:n], c.meta[:n]
}

func (c *columns) add(e eventstore.Event) {
	at := e.OccurredAt.Truncate(time.Microsecond)
	c.position = append(c.position, int64(e.Position))
	c.stream = append(c.stream, e.StreamID)
	c.revision = append(c.revision, int64(e.Revision))
	c.id = append(c.id, e.ID.String())
	c.typ = append(c.typ, e.Type)
	c.schema = append(c.schema, int32(e.SchemaVersion))
	c.occurred = append(c.occurred, at)
	c.occurredNs = append(c.occurredNs, int16(e.OccurredAt.Sub(at)))
	c.recorded = append(c.recorded, e.RecordedAt)
	c.data = append(c.data, e.Data)
	meta := e.Metadata
	if meta == nil {
		meta = []byte{}
	}
	c.meta = append(c.meta, meta)
}

// commitOnce is one attempt: lock the counter, read what the checks need,
// decide every item, insert, move the counter, notify, commit.
func (s *Store) commitOnce(ctx context.Context, group []*pending) error {
	var ids []string
	var streams []string
	seenStream := map[string]bool{}
	for _, p := range group {
		for i, it := range p.items {
			if p.invalid[i] != nil {
				continue
			}
			for _, r := range it.Records {
				ids = append(ids, r.ID.String())
			}
			if !seenStream[it.Stream] {
				seenStream[it.Stream] = true
				streams = append(streams, it.Stream)
			}
		}
	}

	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	b := &pgx.Batch{}
	b.Queue(s.sql.lockHead)
	b.Queue(s.sql.lookupIDs, ids)
	b.Queue(s.sql.streamHeads, streams)
	br := tx.SendBatch(ctx, b)
	var head int64
	if err := br.QueryRow().Scan(&head); err != nil {
		_ = br.Close()
		return err
	}
	stored := make(map[uuid.UUID]eventstore.Stored, len(ids))
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return err
	}
	for rows.Next() {
		var id [16]byte
		var st eventstore.Stored
		var rev, pos int64
		if err := rows.Scan(&id, &st.Stream, &rev, &pos); err != nil {
			rows.Close()
			_ = br.Close()
			return err
		}
		st.Revision, st.Position = uint64(rev), eventstore.Position(pos)
		stored[id] = st
	}
	if err := rows.Err(); err != nil {
		_ = br.Close()
		return err
	}
	last := make(map[string]int64, len(streams)) // -1: no events
	rows, err = br.Query()
	if err != nil {
		_ = br.Close()
		return err
	}
	for rows.Next() {
		var stream string
		var rev *int64
		if err := rows.Scan(&stream, &rev); err != nil {
			rows.Close()
			_ = br.Close()
			return err
		}
		last[stream] = -1
		if rev != nil {
			last[stream] = *rev
		}
	}
	if err := rows.Err(); err != nil {
		_ = br.Close()
		return err
	}
	if err := br.Close(); err != nil {
		return err
	}

	// Decide, in order, with the effects of earlier items visible.
	lookup := func(id uuid.UUID) (eventstore.Stored, bool, error) {
		st, ok := stored[id]
		return st, ok, nil
	}
	now := s.opts.Clock().UTC().Truncate(time.Microsecond)
	pos := head
	var cols columns
	for _, p := range group {
		p.results = make([]eventstore.BatchResult, len(p.items))
		p.atomicErr = nil
		// An atomic call's rows, positions and stream heads are undone
		// when one of its items fails.
		rows, posBefore := cols.len(), pos
		lastBefore := map[string]int64{}
		var added []uuid.UUID
		fail := func(i int, err error) {
			if !p.atomic {
				p.results[i].Err = err
				return
			}
			p.atomicErr = &eventstore.AtomicError{Index: i, Stream: p.items[i].Stream, Err: err}
			cols.truncate(rows)
			pos = posBefore
			for st, v := range lastBefore {
				last[st] = v
			}
			for _, id := range added {
				delete(stored, id)
			}
		}
		for i, it := range p.items {
			if p.invalid[i] != nil {
				fail(i, p.invalid[i])
				if p.atomic {
					break
				}
				continue
			}
			res, retry, err := eventstore.ResolveRetry(it.Stream, it.Records, lookup)
			if err != nil {
				fail(i, err)
				if p.atomic {
					break
				}
				continue
			}
			if retry {
				p.results[i] = eventstore.BatchResult{Result: res}
				continue
			}
			cur := last[it.Stream]
			if err := it.Expected.Check(it.Stream, uint64(cur), cur >= 0); err != nil {
				fail(i, err)
				if p.atomic {
					break
				}
				continue
			}
			if _, seen := lastBefore[it.Stream]; !seen {
				lastBefore[it.Stream] = cur
			}
			for _, r := range it.Records {
				added = append(added, r.ID)
				pos++
				cur++
				e := eventstore.Event{
					ID: r.ID, StreamID: it.Stream, Revision: uint64(cur), Position: eventstore.Position(pos),
					Type: r.Type, SchemaVersion: r.SchemaVersion, OccurredAt: r.OccurredAt, RecordedAt: now,
					Data: r.Data, Metadata: r.Metadata,
				}
				cols.add(e)
				stored[r.ID] = eventstore.Stored{Stream: it.Stream, Revision: uint64(cur), Position: eventstore.Position(pos)}
			}
			last[it.Stream] = cur
			p.results[i].Result = eventstore.AppendResult{Revision: uint64(cur), Position: eventstore.Position(pos)}
		}
	}
	if pos == head {
		return tx.Rollback(ctx) // nothing to write: every item failed or was a retry
	}

	b = &pgx.Batch{}
	b.Queue(s.sql.insert, cols.position, cols.stream, cols.revision, cols.id, cols.typ, cols.schema,
		cols.occurred, cols.occurredNs, cols.recorded, cols.data, cols.meta)
	b.Queue(s.sql.setHead, pos)
	b.Queue(s.sql.notify, s.channel, strconv.FormatInt(pos, 10))
	br = tx.SendBatch(ctx, b)
	for range 3 {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return err
		}
	}
	if err := br.Close(); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
