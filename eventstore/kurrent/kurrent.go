package kurrent

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// IdempotencyWindow is how many of a stream's last events an append
	// searches for its event IDs when it has to decide itself whether the
	// append repeats an earlier one (an Any or StreamExists append, and
	// every append the server refuses as a wrong expected version); 0 means
	// 256.
	IdempotencyWindow int
	// RecentIDs is how many recently appended event IDs the store
	// remembers, to recognise a retry without a round trip and to refuse an
	// ID reused in another stream; 0 means 65,536.
	RecentIDs int
	// PageSize is how many events one read of $all asks for; 0 means 1024.
	PageSize int
	// MaxBackoff caps the wait between resubscription attempts of a dropped
	// subscription; 0 means 5 s.
	MaxBackoff time.Duration
	// Logger receives resubscription notices; nil discards them.
	Logger *slog.Logger
}

// Validate reports options out of range.
func (o Options) Validate() error {
	var errs []error
	if o.IdempotencyWindow < 0 {
		errs = append(errs, fmt.Errorf("IdempotencyWindow %d < 0", o.IdempotencyWindow))
	}
	if o.RecentIDs < 0 {
		errs = append(errs, fmt.Errorf("RecentIDs %d < 0", o.RecentIDs))
	}
	if o.PageSize < 0 || o.PageSize == 1 {
		errs = append(errs, fmt.Errorf("PageSize %d: want 0 or ≥ 2", o.PageSize))
	}
	if o.MaxBackoff < 0 {
		errs = append(errs, fmt.Errorf("MaxBackoff %v < 0", o.MaxBackoff))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.IdempotencyWindow == 0 {
		o.IdempotencyWindow = 256
	}
	if o.RecentIDs == 0 {
		o.RecentIDs = 1 << 16
	}
	if o.PageSize == 0 {
		o.PageSize = 1024
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Store is an eventstore.Store on an EventStoreDB or KurrentDB server or
// cluster. It is safe for concurrent use.
type Store struct {
	client *esdb.Client
	opts   Options

	closed atomic.Bool
	done   chan struct{}
	once   sync.Once

	mu     sync.Mutex
	recent *idCache
}

var _ eventstore.Store = (*Store)(nil)

// Open connects to the server named by connString — "esdb://host:2113?tls=false"
// for one node, "esdb+discover://a:2113,b:2113,c:2113" for a cluster found by
// gossip — and checks that it answers by reading the head of $all.
func Open(ctx context.Context, connString string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	cfg, err := esdb.ParseConnectionString(connString)
	if err != nil {
		return nil, fmt.Errorf("%w: connection string: %w", ErrInvalidConfig, err)
	}
	client, err := esdb.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	s := New(client, opts)
	if _, err := s.Head(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("kurrent: connect: %w", err)
	}
	return s, nil
}

// New wraps a connected client. The store owns it: Close closes it.
func New(client *esdb.Client, opts Options) *Store {
	opts = opts.withDefaults()
	return &Store{client: client, opts: opts, done: make(chan struct{}), recent: newIDCache(opts.RecentIDs)}
}

// Client is the underlying client, for the data-key streams and for tools.
func (s *Store) Client() *esdb.Client { return s.client }

// Close closes the connection. Subscriptions end with eventstore.ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return eventstore.ErrClosed
	}
	s.once.Do(func() { close(s.done) })
	if s.client == nil {
		return nil
	}
	return s.client.Close()
}

// begin checks the store is open and ctx alive.
func (s *Store) begin(ctx context.Context) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	return ctx.Err()
}

// fail turns an operation's error into the port's: the context's error when
// ctx ended, ErrClosed when the store was closed, else mapError's.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("kurrent: %s: %w", op, cerr)
	}
	if s.closed.Load() {
		return fmt.Errorf("kurrent: %s: %w", op, eventstore.ErrClosed)
	}
	return mapError(op, err)
}

// Append implements eventstore.Store.
//
// Idempotency: the server itself recognises a retry whose expected revision
// is the one of the original append. The port promises more (a retry is
// recognised whatever it expects, partial overlaps and IDs reused in
// another stream are refused), so the store decides with
// eventstore.ResolveRetry over (a) the IDs it appended recently and (b) the
// stream's last IdempotencyWindow events, read before an Any or
// StreamExists append and after a wrong-expected-version refusal. An ID
// older than the window, or reused in another stream by another process,
// is not recognised: such an append is written again (Any) or refused as a
// conflict (Exact, NoStream).
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, records ...eventstore.Record) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, records); err != nil {
		return eventstore.AppendResult{}, err
	}
	for i, r := range records {
		if isHidden(stream, r.Type) {
			return eventstore.AppendResult{}, fmt.Errorf("%w: record %d of %s: type %q or stream is reserved (system or data-key)", eventstore.ErrInvalidRecord, i, stream, r.Type)
		}
	}
	if err := s.begin(ctx); err != nil {
		return eventstore.AppendResult{}, err
	}
	// A retry this process saw succeed needs no round trip.
	res, retry, err := eventstore.ResolveRetry(stream, records, s.recentLookup)
	if err != nil || retry {
		return res, err
	}
	if expected.IsAny() || expected.IsStreamExists() {
		res, retry, _, err := s.resolveFromStream(ctx, stream, records)
		if err != nil || retry {
			return res, err
		}
	}
	events := make([]esdb.EventData, len(records))
	for i, r := range records {
		events[i] = toEventData(r)
	}
	wr, err := s.client.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: expectedRevision(expected)}, events...)
	if err != nil {
		if ctx.Err() == nil && !s.closed.Load() && isCode(err, esdb.ErrorCodeWrongExpectedVersion) {
			return s.afterConflict(ctx, stream, expected, records)
		}
		return eventstore.AppendResult{}, s.fail(ctx, "append to "+stream, err)
	}
	res = eventstore.AppendResult{Revision: wr.NextExpectedVersion, Position: eventstore.Position(wr.CommitPosition)}
	s.remember(stream, records, res)
	return res, nil
}

// afterConflict decides a refused append: a retry of an earlier one (the
// original result), a misuse of IDs (ErrIdempotency) or a real conflict
// (*eventstore.ConcurrencyError with the stream's actual revision).
func (s *Store) afterConflict(ctx context.Context, stream string, expected eventstore.Expected, records []eventstore.Record) (eventstore.AppendResult, error) {
	res, retry, actual, err := s.resolveFromStream(ctx, stream, records)
	if err != nil || retry {
		return res, err
	}
	return eventstore.AppendResult{}, &eventstore.ConcurrencyError{Stream: stream, Expected: expected, Actual: actual}
}

// resolveFromStream runs ResolveRetry over the stream's last events and the
// recent IDs. actual is the stream's last revision (-1 when it has none).
func (s *Store) resolveFromStream(ctx context.Context, stream string, records []eventstore.Record) (eventstore.AppendResult, bool, int64, error) {
	tail, err := s.ReadStream(ctx, stream, eventstore.StreamRead{Direction: eventstore.Backward, From: eventstore.End, Limit: s.opts.IdempotencyWindow})
	actual := int64(-1)
	switch {
	case errors.Is(err, eventstore.ErrStreamNotFound):
	case err != nil:
		return eventstore.AppendResult{}, false, 0, err
	default:
		actual = int64(tail[0].Revision)
	}
	in := make(map[uuid.UUID]eventstore.Stored, len(tail))
	for _, e := range tail {
		in[e.ID] = eventstore.Stored{Stream: stream, Revision: e.Revision, Position: e.Position}
	}
	res, retry, err := eventstore.ResolveRetry(stream, records, func(id uuid.UUID) (eventstore.Stored, bool, error) {
		if st, ok := in[id]; ok {
			return st, true, nil
		}
		st, ok, _ := s.recentLookup(id)
		if ok && st.Stream == stream {
			// Remembered in this stream but no longer in the window:
			// trust the stream read, which is newer.
			return eventstore.Stored{}, false, nil
		}
		return st, ok, nil
	})
	return res, retry, actual, err
}

func (s *Store) recentLookup(id uuid.UUID) (eventstore.Stored, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.recent.get(id)
	return st, ok, nil
}

// remember records where an append's IDs landed. Only the last record's
// position is known; ResolveRetry needs no other.
func (s *Store) remember(stream string, records []eventstore.Record, res eventstore.AppendResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := res.Revision + 1 - uint64(len(records))
	for i, r := range records {
		st := eventstore.Stored{Stream: stream, Revision: first + uint64(i)}
		if i == len(records)-1 {
			st.Position = res.Position
		}
		s.recent.put(r.ID, st)
	}
}

// ReadStream implements eventstore.Store. A missing stream arrives from the
// server on the first Recv as ResourceNotFound and becomes
// eventstore.ErrStreamNotFound; a hard-deleted one matches both
// ErrStreamNotFound and ErrStreamDeleted.
func (s *Store) ReadStream(ctx context.Context, stream string, read eventstore.StreamRead) ([]eventstore.Event, error) {
	if err := eventstore.ValidateStreamRead(stream, read); err != nil {
		return nil, err
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	evs, err := s.readStream(ctx, stream, read)
	if err == nil && len(evs) == 0 && read.Direction == eventstore.Backward && read.From != eventstore.End {
		// Backward from past the end starts at the last event.
		read.From = eventstore.End
		evs, err = s.readStream(ctx, stream, read)
	}
	return evs, err
}

func (s *Store) readStream(ctx context.Context, stream string, read eventstore.StreamRead) ([]eventstore.Event, error) {
	opts := esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(read.From)}
	if read.Direction == eventstore.Backward {
		opts.Direction = esdb.Backwards
		if read.From == eventstore.End {
			opts.From = esdb.End{}
		}
	}
	op := "read stream " + stream
	rs, err := s.client.ReadStream(ctx, stream, opts, readCount(read.Limit))
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	defer rs.Close()
	var out []eventstore.Event
	for {
		re, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			if isCode(err, esdb.ErrorCodeResourceNotFound) || isCode(err, esdb.ErrorCodeStreamDeleted) {
				return nil, &Error{Op: op, Code: codeOf(err), Kind: eventstore.ErrStreamNotFound, Err: mapError(op, err)}
			}
			return nil, s.fail(ctx, op, err)
		}
		e, err := fromRecorded(re.Event)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
}

func codeOf(err error) esdb.ErrorCode {
	var ee *esdb.Error
	if errors.As(err, &ee) {
		return ee.Code()
	}
	return esdb.ErrorCodeUnknown
}

// ReadAll implements eventstore.Store over $all, leaving out system events
// and the data-key streams (isHidden).
//
// Positions are commit positions (see toPosition). Reading after a position
// that is an event's (a checkpoint, a Head) starts there directly. A
// position between two events is not a valid place to start a read of $all
// — the server refuses it — so after such a refusal the read looks
// backwards from the end of $all for the last event at or before it and
// starts there; that costs a scan from the end and is meant for the rare
// caller that invents positions.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, fn func(eventstore.Event) error) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	_, _, err := s.readAll(ctx, after, fn)
	if errors.Is(err, eventstore.ErrStop) {
		return nil
	}
	return err
}

// readAll delivers the hidden-free events after `after` until the end of
// $all. It returns the position to continue from (a valid $all position:
// the last event it received, hidden or not) and the last position it
// delivered or skipped.
func (s *Store) readAll(ctx context.Context, after eventstore.Position, fn func(eventstore.Event) error) (esdb.AllPosition, eventstore.Position, error) {
	from, last := fromPosition(after), after
	resolved := after == eventstore.Start
	op := "read $all"
	for {
		n := 0
		rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: from}, uint64(s.opts.PageSize))
		if err != nil {
			return from, last, s.fail(ctx, op, err)
		}
		for {
			re, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rs.Close()
				if !resolved && n == 0 && ctx.Err() == nil && !s.closed.Load() && !isTransient(err) {
					// Not an event's position: find one at or before it.
					resolved = true
					if from, err = s.boundaryAtOrBefore(ctx, after); err != nil {
						return from, last, err
					}
					n = -1
					break
				}
				return from, last, s.fail(ctx, op, err)
			}
			resolved = true
			n++
			ev := re.OriginalEvent()
			if ev == nil {
				continue
			}
			from = ev.Position
			pos := toPosition(ev.Position)
			if pos <= last || isHidden(ev.StreamID, ev.EventType) {
				continue
			}
			if err := ctx.Err(); err != nil {
				rs.Close()
				return from, last, fmt.Errorf("kurrent: %s: %w", op, err)
			}
			e, err := fromRecorded(ev)
			if err != nil {
				rs.Close()
				return from, last, err
			}
			if err := fn(e); err != nil {
				rs.Close()
				return from, last, err
			}
			last = pos
		}
		rs.Close()
		if n >= 0 && n < s.opts.PageSize {
			return from, last, nil
		}
	}
}

// boundaryAtOrBefore finds the position of the last event of $all at or
// before p, reading backwards from the end; Start when there is none.
func (s *Store) boundaryAtOrBefore(ctx context.Context, p eventstore.Position) (esdb.AllPosition, error) {
	var from esdb.AllPosition = esdb.End{}
	var prev *esdb.Position
	for {
		rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: from}, uint64(s.opts.PageSize))
		if err != nil {
			return nil, s.fail(ctx, "read $all backwards", err)
		}
		n := 0
		for {
			re, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rs.Close()
				return nil, s.fail(ctx, "read $all backwards", err)
			}
			n++
			ev := re.OriginalEvent()
			if ev == nil {
				continue
			}
			if toPosition(ev.Position) <= p {
				rs.Close()
				return ev.Position, nil
			}
			if prev != nil && *prev == ev.Position && n > 1 {
				continue
			}
			pos := ev.Position
			prev, from = &pos, pos
		}
		rs.Close()
		if n < s.opts.PageSize {
			return esdb.Start{}, nil
		}
	}
}

// isTransient reports a failure worth retrying rather than a refusal.
func isTransient(err error) bool {
	return errors.Is(mapError("", err), ErrUnavailable)
}

// Head implements eventstore.Store: the position of the last event of $all
// that is not hidden, found by reading $all backwards.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	var from esdb.AllPosition = esdb.End{}
	for {
		rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: from}, uint64(s.opts.PageSize))
		if err != nil {
			return 0, s.fail(ctx, "head", err)
		}
		n := 0
		for {
			re, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rs.Close()
				return 0, s.fail(ctx, "head", err)
			}
			n++
			ev := re.OriginalEvent()
			if ev == nil {
				continue
			}
			from = ev.Position
			if !isHidden(ev.StreamID, ev.EventType) {
				rs.Close()
				return toPosition(ev.Position), nil
			}
		}
		rs.Close()
		if n < s.opts.PageSize {
			return eventstore.Start, nil
		}
	}
}

// Subscribe implements eventstore.Store: it reads $all after the given
// position page by page, then follows it with a catch-up subscription from
// the last event it received, with a server-side filter that drops system
// events. When the subscription drops for any reason but a refusal
// (network error, leader election, server restart) it resubscribes from the
// last event received, after a backoff that grows to Options.MaxBackoff;
// since subscribing from a position delivers only later events, and events
// at or before the last delivered position are skipped, there is no gap and
// no duplicate.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, fn func(eventstore.Event) error) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	if ctx.Err() != nil {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	end := func(err error) error {
		switch {
		case errors.Is(err, eventstore.ErrStop):
			return nil
		case s.closed.Load():
			return eventstore.ErrClosed
		case ctx.Err() != nil:
			return nil
		}
		return err
	}
	from, last, err := s.readAll(ctx, after, fn)
	if err != nil {
		return end(err)
	}
	backoff := 50 * time.Millisecond
	for {
		sub, err := s.client.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: from, Filter: subscriptionFilter()})
		if err != nil {
			if ctx.Err() != nil || permanent(err) {
				return end(mapError("subscribe to $all", err))
			}
			s.opts.Logger.Warn("kurrent: subscribe to $all failed; retrying", "err", err, "backoff", backoff)
		} else {
			from, last, err = s.follow(ctx, sub, from, last, fn, &backoff)
			_ = sub.Close()
			if err != nil {
				return end(err)
			}
		}
		select {
		case <-ctx.Done():
			return end(ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, s.opts.MaxBackoff)
	}
}

// follow delivers a subscription's events until it drops. It returns nil
// (with the position to resubscribe from) when the drop is worth a
// resubscription, else the error that ends Subscribe.
func (s *Store) follow(ctx context.Context, sub *esdb.Subscription, from esdb.AllPosition, last eventstore.Position, fn func(eventstore.Event) error, backoff *time.Duration) (esdb.AllPosition, eventstore.Position, error) {
	for {
		se := sub.Recv()
		switch {
		case se.EventAppeared != nil:
			ev := se.EventAppeared.OriginalEvent()
			if ev == nil {
				continue
			}
			*backoff = 50 * time.Millisecond
			from = ev.Position
			pos := toPosition(ev.Position)
			if pos <= last || isHidden(ev.StreamID, ev.EventType) {
				continue
			}
			e, err := fromRecorded(ev)
			if err != nil {
				return from, last, err
			}
			if err := fn(e); err != nil {
				return from, last, err
			}
			last = pos
		case se.SubscriptionDropped != nil:
			err := se.SubscriptionDropped.Error
			if ctx.Err() != nil || s.closed.Load() {
				return from, last, context.Canceled
			}
			if permanent(err) {
				return from, last, mapError("subscription to $all", err)
			}
			s.opts.Logger.Warn("kurrent: subscription to $all dropped; resubscribing", "err", err, "after", last)
			return from, last, nil
		}
	}
}

// idCache remembers where recently appended event IDs landed, evicting the
// oldest.
type idCache struct {
	max   int
	byID  map[uuid.UUID]*list.Element
	order *list.List
}

type idEntry struct {
	id uuid.UUID
	st eventstore.Stored
}

func newIDCache(max int) *idCache {
	return &idCache{max: max, byID: make(map[uuid.UUID]*list.Element), order: list.New()}
}

func (c *idCache) get(id uuid.UUID) (eventstore.Stored, bool) {
	el, ok := c.byID[id]
	if !ok {
		return eventstore.Stored{}, false
	}
	return el.Value.(*idEntry).st, true
}

func (c *idCache) put(id uuid.UUID, st eventstore.Stored) {
	if el, ok := c.byID[id]; ok {
		el.Value.(*idEntry).st = st
		return
	}
	c.byID[id] = c.order.PushBack(&idEntry{id: id, st: st})
	for c.order.Len() > c.max {
		old := c.order.Remove(c.order.Front()).(*idEntry)
		delete(c.byID, old.id)
	}
}
