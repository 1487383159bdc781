package command

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// Sentinel errors. Test with errors.Is.
var (
	// ErrConflict: the stream was not at the revision the caller expected,
	// or kept changing under concurrent writers, or an idempotency key came
	// back with another request. A *ConflictError that wraps an
	// eventstore.ErrConcurrency matches both.
	ErrConflict = errors.New("command: conflict")
	// ErrInvalidConfig: a Config that cannot work.
	ErrInvalidConfig = errors.New("command: invalid config")
)

// ConflictError says which revision the caller expected and which the
// stream had. It matches ErrConflict and, when the store reported it,
// eventstore.ErrConcurrency (via Err).
type ConflictError struct {
	Kind string // "customer", "campaign"
	ID   string
	// Expected is the caller's expected revision; nil when the caller gave
	// none and the retries ran out.
	Expected *uint64
	// Actual is the stream's revision when the conflict was seen, -1 for
	// no stream.
	Actual int64
	// Err is the store's error, if it reported the conflict.
	Err error
}

// Error is meant for the caller of the API: what happened and what to do,
// without the store's internals (Err keeps them for errors.Is/As).
func (e *ConflictError) Error() string {
	if e.Expected == nil {
		return fmt.Sprintf("%s %s is busy: other writes kept changing it while this one was retried; retry", e.Kind, e.ID)
	}
	now := "does not exist"
	if e.Actual >= 0 {
		now = "is at version " + strconv.FormatInt(e.Actual, 10)
	}
	return fmt.Sprintf("%s %s changed since it was read: expectedVersion %d, but it %s; read it again and retry with its current version",
		e.Kind, e.ID, *e.Expected, now)
}

// Unwrap returns ErrConflict and the store's error.
func (e *ConflictError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrConflict}
	}
	return []error{ErrConflict, e.Err}
}

// KeyReuseError: an idempotency key the caller already used on the stream
// came with a different request. Nothing is appended; the first request's
// result stands. It matches ErrConflict.
type KeyReuseError struct {
	Kind string
	ID   string
	Key  string
}

func (e *KeyReuseError) Error() string {
	return fmt.Sprintf("idempotency key %q was already used for a different request on %s %s: send a new key for a new request (the same key only to retry the same one)", e.Key, e.Kind, e.ID)
}

// Unwrap returns ErrConflict.
func (e *KeyReuseError) Unwrap() error { return ErrConflict }

// Aggregate is what the repository needs of an aggregate: its ID, the
// revision it was loaded at, and the changes its verbs recorded since.
type Aggregate[E any] interface {
	ID() string
	Version() (rev uint64, exists bool)
	Changes() []aggregate.Change[E]
}

// Kind tells a Repository how the aggregates of one stream category are
// named and rebuilt.
type Kind[A Aggregate[E], E any] struct {
	// Name is what messages call one ("customer", "campaign").
	Name string
	// Category is the stream category (customer-<id>).
	Category string
	// Rehydrate rebuilds an aggregate from its stored history; with no
	// history, an aggregate that does not exist yet.
	Rehydrate func(id string, history []aggregate.Historic[E]) (A, error)
}

// Config wires a Repository.
type Config struct {
	// Store is the event log.
	Store eventstore.Store
	// Codec encodes the events (with personal data protection).
	Codec *codec.Codec
	// Clock is "now" for the verbs; nil means time.Now.
	Clock func() time.Time
	// MaxAttempts bounds load-decide-append rounds when the caller gave no
	// expected revision and concurrent writers keep winning; 0 means no
	// bound but RetryFor.
	MaxAttempts int
	// RetryFor bounds how long such a command is retried, with jittered
	// exponential backoff, when its context has no earlier deadline; 0
	// means 10s.
	RetryFor time.Duration
	// Appended, if set, hears how long each Update that appended took,
	// from its last load to the durable append (decide, encode, append,
	// fsync) — a metric's hook.
	Appended func(time.Duration)
	// Merge holds the rules of merging duplicates (how long a merge may
	// be undone); the zero value means customer.DefaultMergePolicy().
	Merge customer.MergePolicy
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, fmt.Errorf("%w: no store", ErrInvalidConfig))
	}
	if c.Codec == nil {
		errs = append(errs, fmt.Errorf("%w: no codec", ErrInvalidConfig))
	}
	if c.MaxAttempts < 0 || c.RetryFor < 0 {
		errs = append(errs, fmt.Errorf("%w: negative MaxAttempts or RetryFor", ErrInvalidConfig))
	}
	if err := c.Merge.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidConfig, err))
	}
	return errors.Join(errs...)
}

// Repository loads the aggregates of one kind from their streams and
// appends what their verbs decide — the one write path to a stream: the
// metadata (actor, role, correlation), idempotency keys and their request
// digests, expected revisions and the retries of lost races are decided
// here and nowhere else. It is safe for concurrent use.
type Repository[A Aggregate[E], E any] struct {
	kind        Kind[A, E]
	store       eventstore.Store
	codec       *codec.Codec
	clock       func() time.Time
	maxAttempts int
	retryFor    time.Duration
	appended    func(time.Duration)
}

// NewRepository returns a repository of kind over cfg's store and codec.
func NewRepository[A Aggregate[E], E any](kind Kind[A, E], cfg Config) (*Repository[A, E], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if kind.Name == "" || kind.Category == "" || kind.Rehydrate == nil {
		return nil, fmt.Errorf("%w: a Kind needs a name, a category and Rehydrate", ErrInvalidConfig)
	}
	r := &Repository[A, E]{kind: kind, store: cfg.Store, codec: cfg.Codec, clock: cfg.Clock, maxAttempts: cfg.MaxAttempts, retryFor: cfg.RetryFor, appended: cfg.Appended}
	if r.clock == nil {
		r.clock = time.Now
	}
	if r.retryFor == 0 {
		r.retryFor = 10 * time.Second
	}
	return r, nil
}

// Now is the repository's clock, the "now" to pass to verbs.
func (r *Repository[A, E]) Now() time.Time { return r.clock() }

// Stream is the stream of an aggregate: "<category>-<id>".
func (r *Repository[A, E]) Stream(id string) string { return eventstore.StreamID(r.kind.Category, id) }

// Result is the outcome of an Update.
type Result struct {
	// ID is the aggregate's ID.
	ID string
	// Entity is the complaint or follow-up the command created or acted
	// on, when it names one.
	Entity string
	// Revision is the stream's revision after the update (of its last
	// event); with no new events, the revision as loaded.
	Revision uint64
	// Position is the global position of the last appended event; with no
	// new events, of the last loaded one.
	Position eventstore.Position
	// Events are the events the update appended (or, for a repeated
	// idempotency key, the events the first attempt appended). For freshly
	// appended events, Position is known only for the last one (earlier
	// ones have 0) and RecordedAt is zero.
	Events []codec.Decoded
}

// loaded is an aggregate with the stored events it was rebuilt from.
type loaded[A any] struct {
	a      A
	events []codec.Decoded
}

func (r *Repository[A, E]) load(ctx context.Context, id string) (loaded[A], error) {
	var zero loaded[A]
	if err := aggregate.CheckID(r.kind.Name+"Id", id); err != nil {
		return zero, err
	}
	stored, err := r.store.ReadStream(ctx, r.Stream(id), eventstore.StreamRead{Direction: eventstore.Forward})
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		return zero, fmt.Errorf("load %s %s: %w", r.kind.Name, id, err)
	}
	events := make([]codec.Decoded, len(stored))
	for i, ev := range stored {
		d, err := r.codec.Decode(ctx, ev)
		if err != nil {
			return zero, fmt.Errorf("load %s %s: %w", r.kind.Name, id, err)
		}
		events[i] = d
	}
	return r.rehydrate(id, events)
}

// rehydrate folds decoded events of a stream into the aggregate.
func (r *Repository[A, E]) rehydrate(id string, events []codec.Decoded) (loaded[A], error) {
	var zero loaded[A]
	history := make([]aggregate.Historic[E], len(events))
	for i, d := range events {
		e, ok := d.Payload.(E)
		if !ok {
			return zero, fmt.Errorf("load %s %s: %w: %s at revision %d is not a %s event", r.kind.Name, id, aggregate.ErrCorruptHistory, d.Event.Type, d.Event.Revision, r.kind.Name)
		}
		history[i] = aggregate.Historic[E]{Event: e, Revision: d.Event.Revision, OccurredAt: d.Event.OccurredAt}
	}
	a, err := r.kind.Rehydrate(id, history)
	if err != nil {
		return zero, fmt.Errorf("load %s %s: %w", r.kind.Name, id, err)
	}
	return loaded[A]{a: a, events: events}, nil
}

// loadBefore loads an aggregate as it stood before the events appended
// under key, when those are the last of its stream (a multi-stream write
// interrupted half-way and now retried): the retry decides again on that
// state and appends the same event IDs at the same revisions, which the
// store recognises. resumed says whether the key's events were found.
func (r *Repository[A, E]) loadBefore(ctx context.Context, id, key string) (l loaded[A], resumed bool, err error) {
	if l, err = r.load(ctx, id); err != nil || key == "" {
		return l, false, err
	}
	res, ok := replay(id, key, l.events)
	if !ok || len(res.Events) == 0 || res.Events[len(res.Events)-1].Event.ID != l.events[len(l.events)-1].Event.ID {
		return l, false, nil
	}
	before, err := r.rehydrate(id, l.events[:len(l.events)-len(res.Events)])
	return before, true, err
}

// Load returns the aggregate rebuilt from its stream; one that does not
// exist yet when the stream is empty (its Version says so).
func (r *Repository[A, E]) Load(ctx context.Context, id string) (A, error) {
	l, err := r.load(ctx, id)
	return l.a, err
}

// Current is the aggregate as Load returns it, with where its stream
// stands (a Result with no Events): what a caller that found the
// aggregate already written — a retried request — waits for.
func (r *Repository[A, E]) Current(ctx context.Context, id string) (A, Result, error) {
	l, err := r.load(ctx, id)
	if err != nil {
		return l.a, Result{}, err
	}
	return l.a, l.result(id), nil
}

// result is where the loaded stream stands.
func (l loaded[A]) result(id string) Result {
	res := Result{ID: id}
	if n := len(l.events); n > 0 {
		res.Revision, res.Position = l.events[n-1].Event.Revision, l.events[n-1].Event.Position
	}
	return res
}

// Options tune one Update or Encode.
type Options[E any] struct {
	// EventID, when set, names the i-th appended event (deterministic IDs
	// of a process manager: a retry, a restart or a second instance
	// appends the same IDs, which the store takes as the same append). It
	// takes precedence over the idempotency key in ctx.
	EventID func(i int, e E) uuid.UUID
}

// Update loads the aggregate, calls decide (which calls verbs), and
// appends the events it recorded at the loaded revision.
//
// expected is the revision the caller last saw, nil for none. With an
// expected revision, a stream at another revision is a *ConflictError
// before decide runs, and a concurrent append that wins the race is one
// too. Without one, a lost race is retried from a fresh load after a
// jittered, growing pause until the context's deadline (or RetryFor), so
// writers colliding on one stream all get through; only then is it a
// *ConflictError ("busy, retry"). decide's errors (the domain's typed
// errors) are returned as they are.
//
// With an idempotency key in ctx (WithIdempotencyKey), a repeated command
// appends nothing and returns the first attempt's result without calling
// decide; the same key with another request (WithRequest) is a
// *KeyReuseError.
func (r *Repository[A, E]) Update(ctx context.Context, id string, expected *uint64, decide func(A) error, opts ...Options[E]) (Result, error) {
	var opt Options[E]
	if len(opts) > 0 {
		opt = opts[0]
	}
	giveUp := time.Now().Add(r.retryFor)
	if d, ok := ctx.Deadline(); ok && d.Before(giveUp) {
		giveUp = d
	}
	clientKey, _ := IdempotencyKeyFrom(ctx)
	key := ScopeKey(ctx, clientKey)
	meta := metadataFrom(ctx)
	for attempt := 1; ; attempt++ {
		start := time.Now()
		l, err := r.load(ctx, id)
		if err != nil {
			return Result{}, err
		}
		if key != "" && opt.EventID == nil {
			if res, ok := replay(id, key, l.events); ok {
				return res, r.sameRequest(id, clientKey, meta.RequestHash, res)
			}
		}
		rev, exists := l.a.Version()
		if expected != nil && (!exists || rev != *expected) {
			return Result{}, &ConflictError{Kind: r.kind.Name, ID: id, Expected: expected, Actual: actual(rev, exists)}
		}
		if err := decide(l.a); err != nil {
			return Result{}, err
		}
		changes := l.a.Changes()
		if len(changes) == 0 {
			return l.result(id), nil
		}
		sa, err := r.encode(ctx, id, rev, exists, changes, key, meta, opt)
		if err != nil {
			return Result{}, err
		}
		res, err := r.store.Append(ctx, sa.Stream, sa.Expected, sa.Records...)
		if errors.Is(err, eventstore.ErrConcurrency) {
			if expected == nil && (r.maxAttempts == 0 || attempt < r.maxAttempts) {
				if pause := backoff(attempt); time.Now().Add(pause).Before(giveUp) {
					if err := sleep(ctx, pause); err != nil {
						return Result{}, err
					}
					continue
				}
			}
			var ce *eventstore.ConcurrencyError
			act := int64(-1)
			if errors.As(err, &ce) {
				act = ce.Actual
			}
			return Result{}, &ConflictError{Kind: r.kind.Name, ID: id, Expected: expected, Actual: act, Err: err}
		}
		if err != nil {
			return Result{}, fmt.Errorf("%s %s: append: %w", r.kind.Name, id, err)
		}
		first := uint64(0)
		if exists {
			first = rev + 1
		}
		if key != "" && opt.EventID == nil && res.Revision != first+uint64(len(sa.Records))-1 {
			// The store recognised the IDs: a concurrent attempt with the
			// same key got there first. Report what it stored.
			l, err := r.load(ctx, id)
			if err != nil {
				return Result{}, err
			}
			if res, ok := replay(id, key, l.events); ok {
				return res, r.sameRequest(id, clientKey, meta.RequestHash, res)
			}
			return Result{}, fmt.Errorf("%s %s: %w: idempotency key %q", r.kind.Name, id, eventstore.ErrIdempotency, clientKey)
		}
		if r.appended != nil {
			r.appended(time.Since(start))
		}
		return appended(id, sa, changes, first, res, meta), nil
	}
}

// Encode returns the pending changes of a, loaded by Load and decided by
// the caller, as one append at the revision it was loaded at — for
// callers that append many aggregates at once (AppendMany: one durable
// commit). The metadata and event IDs follow the same rules as Update.
func (r *Repository[A, E]) Encode(ctx context.Context, a A, opts ...Options[E]) (eventstore.StreamAppend, error) {
	var opt Options[E]
	if len(opts) > 0 {
		opt = opts[0]
	}
	rev, exists := a.Version()
	clientKey, _ := IdempotencyKeyFrom(ctx)
	return r.encode(ctx, a.ID(), rev, exists, a.Changes(), ScopeKey(ctx, clientKey), metadataFrom(ctx), opt)
}

// Append appends one encoded aggregate (Encode).
func (r *Repository[A, E]) Append(ctx context.Context, sa eventstore.StreamAppend) (eventstore.AppendResult, error) {
	return r.store.Append(ctx, sa.Stream, sa.Expected, sa.Records...)
}

// AppendMany appends many encoded aggregates (Encode) in as few durable
// commits as the store allows; each result says how its append went.
func (r *Repository[A, E]) AppendMany(ctx context.Context, items []eventstore.StreamAppend) ([]eventstore.BatchResult, error) {
	return eventstore.AppendMany(ctx, r.store, items)
}

func (r *Repository[A, E]) encode(ctx context.Context, id string, rev uint64, exists bool, changes []aggregate.Change[E], key string, meta codec.Metadata, opt Options[E]) (eventstore.StreamAppend, error) {
	stream := r.Stream(id)
	records := make([]eventstore.Record, len(changes))
	for i, ch := range changes {
		env := codec.Envelope{OccurredAt: ch.OccurredAt, Meta: meta}
		switch {
		case opt.EventID != nil:
			env.ID = opt.EventID(i, ch.Event)
		case key != "":
			env.ID = EventID(id, key, i)
		}
		var err error
		if records[i], err = r.codec.Encode(ctx, stream, ch.Event, env); err != nil {
			return eventstore.StreamAppend{}, fmt.Errorf("%s %s: %w", r.kind.Name, id, err)
		}
	}
	exp := eventstore.NoStream()
	if exists {
		exp = eventstore.Exact(rev)
	}
	return eventstore.StreamAppend{Stream: stream, Expected: exp, Records: records}, nil
}

// appended is the Result of an append of changes that began at revision
// first.
func appended[E any](id string, sa eventstore.StreamAppend, changes []aggregate.Change[E], first uint64, res eventstore.AppendResult, meta codec.Metadata) Result {
	out := Result{ID: id, Revision: res.Revision, Position: res.Position, Events: make([]codec.Decoded, len(sa.Records))}
	for i, rec := range sa.Records {
		ev := eventstore.Event{ID: rec.ID, StreamID: sa.Stream, Revision: first + uint64(i), Type: rec.Type,
			SchemaVersion: rec.SchemaVersion, OccurredAt: rec.OccurredAt, Data: rec.Data, Metadata: rec.Metadata}
		if i == len(sa.Records)-1 {
			ev.Position = res.Position
		}
		out.Events[i] = codec.Decoded{Event: ev, Payload: changes[i].Event, Meta: meta}
	}
	return out
}

// idempotencyNamespace is the DeterministicID namespace of command
// idempotency keys. Never change it.
const idempotencyNamespace = "kefu.command.idempotency"

// EventID is the ID of the index-th event appended by the command with
// the given idempotency key on the aggregate (key as ScopeKey qualified
// it).
func EventID(id, key string, index int) uuid.UUID {
	return codec.DeterministicID(idempotencyNamespace, id+"\x00"+key+"\x00"+strconv.Itoa(index))
}

// sameRequest refuses a replayed key whose first request differed from
// this one (both digests known).
func (r *Repository[A, E]) sameRequest(id, key, hash string, res Result) error {
	if len(res.Events) == 0 || hash == "" {
		return nil
	}
	if first := res.Events[0].Meta.RequestHash; first != "" && first != hash {
		return &KeyReuseError{Kind: r.kind.Name, ID: id, Key: key}
	}
	return nil
}

// requestHash digests a request: its type and its JSON form.
func requestHash(req any) string {
	b, err := json.Marshal(req)
	if err != nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%T\x00", req)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// replay finds the events an earlier command with key appended.
func replay(id, key string, events []codec.Decoded) (Result, bool) {
	first := EventID(id, key, 0)
	for j, d := range events {
		if d.Event.ID != first {
			continue
		}
		n := 1
		for j+n < len(events) && events[j+n].Event.ID == EventID(id, key, n) {
			n++
		}
		last := events[j+n-1].Event
		return Result{ID: id, Revision: last.Revision, Position: last.Position, Events: events[j : j+n]}, true
	}
	return Result{}, false
}

// backoff is the pause before retry attempt+1: random ("full jitter")
// below a ceiling that doubles from 1ms up to 64ms, so that writers that
// keep colliding spread out.
func backoff(attempt int) time.Duration {
	ceiling := time.Millisecond << min(attempt-1, 6)
	return rand.N(ceiling) + 1
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func actual(rev uint64, exists bool) int64 {
	if !exists {
		return -1
	}
	return int64(rev)
}

func metadataFrom(ctx context.Context) codec.Metadata {
	key, _ := IdempotencyKeyFrom(ctx)
	m := codec.Metadata{IdempotencyKey: key, RequestHash: requestHashFrom(ctx)}
	if a, ok := ActorFrom(ctx); ok {
		m.Actor, m.Role = a.User, a.Role
	}
	if id, ok := CorrelationIDFrom(ctx); ok {
		m.CorrelationID = id
	}
	m.CausationID, _ = ctx.Value(causationKey{}).(string)
	return m
}
