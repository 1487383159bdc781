package postgres

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-crm/kefu/eventstore"
)

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, read eventstore.StreamRead) ([]eventstore.Event, error) {
	if err := eventstore.ValidateStreamRead(stream, read); err != nil {
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	from := int64(min(read.From, math.MaxInt64))
	var limit *int64 // NULL: no limit
	if read.Limit > 0 {
		n := int64(read.Limit)
		limit = &n
	}
	q := s.sql.readFwd
	if read.Direction == eventstore.Backward {
		q = s.sql.readBwd
	}
	rows, err := s.pool.Query(ctx, q, stream, from, limit)
	if err != nil {
		return nil, s.fail(ctx, "read stream "+stream, err)
	}
	evs, err := scanEvents(rows)
	if err != nil {
		return nil, s.fail(ctx, "read stream "+stream, err)
	}
	if len(evs) > 0 {
		return evs, nil
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, s.sql.streamExists, stream).Scan(&exists); err != nil {
		return nil, s.fail(ctx, "read stream "+stream, err)
	}
	if !exists {
		return nil, eventstore.ErrStreamNotFound
	}
	return []eventstore.Event{}, nil
}

func scanEvents(rows pgx.Rows) ([]eventstore.Event, error) {
	defer rows.Close()
	var out []eventstore.Event
	for rows.Next() {
		var (
			e             eventstore.Event
			pos, rev      int64
			id            [16]byte
			schema        int32
			occurred, rec time.Time
			ns            int16
		)
		if err := rows.Scan(&pos, &e.StreamID, &rev, &id, &e.Type, &schema, &occurred, &ns, &rec, &e.Data, &e.Metadata); err != nil {
			return nil, err
		}
		e.Position, e.Revision, e.ID, e.SchemaVersion = eventstore.Position(pos), uint64(rev), id, int(schema)
		e.OccurredAt = occurred.UTC().Add(time.Duration(ns))
		e.RecordedAt = rec.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// ReadAll implements eventstore.Store: it reads up to the head it finds
// when it starts, a page at a time, holding no connection while fn runs
// (fn may append).
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, fn func(eventstore.Event) error) error {
	head, err := s.Head(ctx)
	if err != nil {
		return err
	}
	_, fnErr, err := s.readRange(ctx, after, head, fn)
	switch {
	case err != nil:
		return err
	case errors.Is(fnErr, eventstore.ErrStop):
		return nil
	}
	return fnErr
}

// readRange calls fn with the events after `after` up to `upTo`, and
// returns the last position delivered, fn's error and the store's error
// apart.
func (s *Store) readRange(ctx context.Context, after, upTo eventstore.Position, fn func(eventstore.Event) error) (eventstore.Position, error, error) {
	for after < upTo {
		if err := s.check(ctx); err != nil {
			return after, nil, err
		}
		rows, err := s.pool.Query(ctx, s.sql.readAll, int64(after), int64(min(upTo, math.MaxInt64)), s.opts.PageSize)
		if err != nil {
			return after, nil, s.fail(ctx, "read the log", err)
		}
		page, err := scanEvents(rows)
		if err != nil {
			return after, nil, s.fail(ctx, "read the log", err)
		}
		for _, e := range page {
			if err := ctx.Err(); err != nil {
				return after, nil, err
			}
			if err := fn(e); err != nil {
				return after, err, nil
			}
			after = e.Position
		}
		if len(page) < s.opts.PageSize {
			break
		}
	}
	return after, nil, nil
}

// Subscribe implements eventstore.Store: it reads to the end of the log,
// waits for a notification (or PollInterval), and reads again. A read that
// fails because the connection dropped is retried with backoff.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, fn func(eventstore.Event) error) error {
	if s.isClosed() {
		return eventstore.ErrClosed
	}
	backoff := 50 * time.Millisecond
	for {
		changed := s.changes()
		last, fnErr, err := s.readRange(ctx, after, math.MaxInt64, fn)
		after = last
		switch {
		case ctx.Err() != nil:
			return nil
		case s.isClosed():
			return eventstore.ErrClosed
		case errors.Is(fnErr, eventstore.ErrStop):
			return nil
		case fnErr != nil:
			return fnErr
		case err != nil && !transient(errors.Unwrap(err)):
			return err
		case err != nil:
			s.opts.Logger.Warn("postgres: subscription read failed, retrying", "after", after, "backoff", backoff, "err", err)
			if !s.sleep(ctx, backoff) {
				return s.endErr(ctx)
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		timer := time.NewTimer(s.opts.PollInterval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-s.done:
			timer.Stop()
			return eventstore.ErrClosed
		case <-changed:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// sleep waits d; false when ctx ended or the store closed first.
func (s *Store) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

// endErr is what Subscribe returns once ctx ended or the store closed.
func (s *Store) endErr(ctx context.Context) error {
	if ctx.Err() != nil {
		return nil
	}
	return eventstore.ErrClosed
}

// listen keeps one connection LISTENing on the schema's channel and wakes
// the subscribers on every notification, reconnecting with backoff when the
// connection drops (and waking them once it listens again, for what was
// missed meanwhile).
func (s *Store) listen() {
	defer s.workers.Done()
	backoff := 100 * time.Millisecond
	for s.life.Err() == nil {
		listening, err := s.listenOnce()
		if s.life.Err() != nil {
			return
		}
		if listening {
			backoff = 100 * time.Millisecond
		}
		s.opts.Logger.Warn("postgres: notification connection lost, reconnecting", "backoff", backoff, "err", err)
		select {
		case <-time.After(backoff):
		case <-s.life.Done():
			return
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenOnce connects, listens and wakes subscribers until the connection
// fails or the store closes; listening reports whether LISTEN succeeded.
func (s *Store) listenOnce() (listening bool, err error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = cfg.RuntimeParams["application_name"] + "-listen"
	conn, err := pgx.ConnectConfig(s.life, cfg)
	if err != nil {
		return false, err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(s.life)) }()
	if _, err := conn.Exec(s.life, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return false, err
	}
	s.wake()
	for {
		if _, err := conn.WaitForNotification(s.life); err != nil {
			return true, err
		}
		s.wake()
	}
}
