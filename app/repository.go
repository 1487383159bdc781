// Package app is kefu's application layer: the customer repository (load,
// decide, append with optimistic concurrency) and the command service the
// API and the process managers call.
package app

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// Sentinel errors. Test with errors.Is.
var (
	// ErrConflict: the customer's stream was not at the revision the caller
	// expected, or kept changing under concurrent writers. A *ConflictError
	// that wraps an eventstore.ErrConcurrency matches both.
	ErrConflict = errors.New("app: conflict")
	// ErrInvalidConfig: a Config that cannot work.
	ErrInvalidConfig = errors.New("app: invalid config")
)

// ConflictError says which revision the caller expected and which the
// stream had. It matches ErrConflict and, when the store reported it,
// eventstore.ErrConcurrency (via Err).
type ConflictError struct {
	CustomerID string
	// Expected is the caller's expected revision; nil when the caller gave
	// none and the retries ran out.
	Expected *uint64
	// Actual is the stream's revision when the conflict was seen, -1 for
	// no stream.
	Actual int64
	// Err is the store's error, if it reported the conflict.
	Err error
}

func (e *ConflictError) Error() string {
	exp := "none (retries exhausted)"
	if e.Expected != nil {
		exp = strconv.FormatUint(*e.Expected, 10)
	}
	act := "no stream"
	if e.Actual >= 0 {
		act = strconv.FormatInt(e.Actual, 10)
	}
	msg := fmt.Sprintf("app: conflict on customer %s: expected revision %s, stream at %s", e.CustomerID, exp, act)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrConflict and the store's error.
func (e *ConflictError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrConflict}
	}
	return []error{ErrConflict, e.Err}
}

// Config wires a Repository.
type Config struct {
	// Store is the event log.
	Store eventstore.Store
	// Codec encodes customer events (with personal data protection).
	Codec *codec.Codec
	// Clock is "now" for the verbs; nil means time.Now.
	Clock func() time.Time
	// MaxAttempts bounds load-decide-append rounds when the caller gave no
	// expected revision and concurrent writers keep winning; 0 means 5.
	MaxAttempts int
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
	if c.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("%w: negative MaxAttempts", ErrInvalidConfig))
	}
	return errors.Join(errs...)
}

// Repository loads customers from their streams and appends what their
// verbs decide. It is safe for concurrent use.
type Repository struct {
	store       eventstore.Store
	codec       *codec.Codec
	clock       func() time.Time
	maxAttempts int
}

// NewRepository returns a repository over cfg's store and codec.
func NewRepository(cfg Config) (*Repository, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Repository{store: cfg.Store, codec: cfg.Codec, clock: cfg.Clock, maxAttempts: cfg.MaxAttempts}
	if r.clock == nil {
		r.clock = time.Now
	}
	if r.maxAttempts == 0 {
		r.maxAttempts = 5
	}
	return r, nil
}

// Now is the repository's clock, the "now" to pass to verbs.
func (r *Repository) Now() time.Time { return r.clock() }

// Result is the outcome of an Update.
type Result struct {
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

// CustomerSpecs adapts the customer events for codec.New.
func CustomerSpecs() []codec.Spec {
	var out []codec.Spec
	for _, s := range customer.Events() {
		out = append(out, codec.Spec{Type: s.Type, Version: s.Version, New: func() any { return s.New() }, Upcast: s.Upcast})
	}
	return out
}

// StreamOf is the stream of a customer: "customer-<id>".
func StreamOf(customerID string) string {
	return eventstore.StreamID(customer.StreamCategory, customerID)
}

// idempotencyNamespace is the DeterministicID namespace of command
// idempotency keys. Never change it.
const idempotencyNamespace = "kefu.command.idempotency"

// EventID is the ID of the index-th event appended by the command with
// the given idempotency key on the customer.
func EventID(customerID, key string, index int) uuid.UUID {
	return codec.DeterministicID(idempotencyNamespace, customerID+"\x00"+key+"\x00"+strconv.Itoa(index))
}

// loaded is a customer with the stored events it was rebuilt from.
type loaded struct {
	c      *customer.Customer
	events []codec.Decoded
}

func (r *Repository) load(ctx context.Context, id string) (loaded, error) {
	if !eventstore.ValidID(id) {
		return loaded{}, &customer.InvalidInputError{Field: "customerId", Reason: fmt.Sprintf("%q does not match [A-Za-z0-9_.-]{1,64}", id)}
	}
	stored, err := r.store.ReadStream(ctx, StreamOf(id), eventstore.StreamRead{Direction: eventstore.Forward})
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		return loaded{}, fmt.Errorf("app: load customer %s: %w", id, err)
	}
	events := make([]codec.Decoded, len(stored))
	history := make([]customer.Historic, len(stored))
	for i, ev := range stored {
		d, err := r.codec.Decode(ctx, ev)
		if err != nil {
			return loaded{}, fmt.Errorf("app: load customer %s: %w", id, err)
		}
		e, ok := d.Payload.(customer.Event)
		if !ok {
			return loaded{}, fmt.Errorf("app: load customer %s: %w: %s at revision %d is not a customer event", id, customer.ErrCorruptHistory, ev.Type, ev.Revision)
		}
		events[i] = d
		history[i] = customer.Historic{Event: e, Revision: ev.Revision, OccurredAt: ev.OccurredAt}
	}
	c, err := customer.Rehydrate(id, history)
	if err != nil {
		return loaded{}, fmt.Errorf("app: load customer %s: %w", id, err)
	}
	return loaded{c: c, events: events}, nil
}

// Load returns the customer rebuilt from its stream; a *customer.NotFoundError
// (customer.ErrNotFound) when it has no events.
func (r *Repository) Load(ctx context.Context, id string) (*customer.Customer, error) {
	l, err := r.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, exists := l.c.Version(); !exists {
		return nil, &customer.NotFoundError{Kind: "customer", ID: id}
	}
	return l.c, nil
}

// Update loads the customer, calls fn to decide (fn calls verbs), and
// appends the events fn recorded at the loaded revision.
//
// expected is the revision the caller last saw, nil for none. With an
// expected revision, a stream at another revision is a *ConflictError
// before fn runs, and a concurrent append that wins the race is one too.
// Without one, a lost race is retried from a fresh load after a short
// random pause, up to MaxAttempts times in all. fn's errors (the domain's typed errors) are returned as they are.
// With an idempotency key in ctx (WithIdempotencyKey), a repeated command
// appends nothing and returns the first attempt's result without calling
// fn.
func (r *Repository) Update(ctx context.Context, id string, expected *uint64, fn func(*customer.Customer) error) (Result, error) {
	key, _ := IdempotencyKeyFrom(ctx)
	meta := metadataFrom(ctx, key)
	for attempt := 1; ; attempt++ {
		l, err := r.load(ctx, id)
		if err != nil {
			return Result{}, err
		}
		if key != "" {
			if res, ok := replay(id, key, l.events); ok {
				return res, nil
			}
		}
		rev, exists := l.c.Version()
		if expected != nil && (!exists || rev != *expected) {
			return Result{}, &ConflictError{CustomerID: id, Expected: expected, Actual: actual(rev, exists)}
		}
		if err := fn(l.c); err != nil {
			return Result{}, err
		}
		changes := l.c.Changes()
		if len(changes) == 0 {
			res := Result{Revision: rev}
			if n := len(l.events); n > 0 {
				res.Position = l.events[n-1].Event.Position
			}
			return res, nil
		}
		stream := StreamOf(id)
		records := make([]eventstore.Record, len(changes))
		for i, ch := range changes {
			env := codec.Envelope{OccurredAt: ch.OccurredAt, Meta: meta}
			if key != "" {
				env.ID = EventID(id, key, i)
			}
			if records[i], err = r.codec.Encode(ctx, stream, ch.Event, env); err != nil {
				return Result{}, fmt.Errorf("app: customer %s: %w", id, err)
			}
		}
		exp := eventstore.NoStream()
		first := uint64(0)
		if exists {
			exp, first = eventstore.Exact(rev), rev+1
		}
		res, err := r.store.Append(ctx, stream, exp, records...)
		if errors.Is(err, eventstore.ErrConcurrency) {
			if expected == nil && attempt < r.maxAttempts {
				if err := backoff(ctx, attempt); err != nil {
					return Result{}, err
				}
				continue
			}
			var ce *eventstore.ConcurrencyError
			act := int64(-1)
			if errors.As(err, &ce) {
				act = ce.Actual
			}
			return Result{}, &ConflictError{CustomerID: id, Expected: expected, Actual: act, Err: err}
		}
		if err != nil {
			return Result{}, fmt.Errorf("app: customer %s: append: %w", id, err)
		}
		if key != "" && res.Revision != first+uint64(len(records))-1 {
			// The store recognised the IDs: a concurrent attempt with the
			// same key got there first. Report what it stored.
			l, err := r.load(ctx, id)
			if err != nil {
				return Result{}, err
			}
			if res, ok := replay(id, key, l.events); ok {
				return res, nil
			}
			return Result{}, fmt.Errorf("app: customer %s: %w: idempotency key %q", id, eventstore.ErrIdempotency, key)
		}
		out := Result{Revision: res.Revision, Position: res.Position, Events: make([]codec.Decoded, len(records))}
		for i, rec := range records {
			ev := eventstore.Event{ID: rec.ID, StreamID: stream, Revision: first + uint64(i), Type: rec.Type,
				SchemaVersion: rec.SchemaVersion, OccurredAt: rec.OccurredAt, Data: rec.Data, Metadata: rec.Metadata}
			if i == len(records)-1 {
				ev.Position = res.Position
			}
			out.Events[i] = codec.Decoded{Event: ev, Payload: changes[i].Event, Meta: meta}
		}
		return out, nil
	}
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
		return Result{Revision: last.Revision, Position: last.Position, Events: events[j : j+n]}, true
	}
	return Result{}, false
}

// backoff waits a random time below attempt milliseconds, so that writers
// that keep colliding spread out.
func backoff(ctx context.Context, attempt int) error {
	t := time.NewTimer(rand.N(time.Duration(attempt) * time.Millisecond))
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

func metadataFrom(ctx context.Context, key string) codec.Metadata {
	m := codec.Metadata{IdempotencyKey: key}
	if a, ok := ActorFrom(ctx); ok {
		m.Actor, m.Role = a.User, a.Role
	}
	if id, ok := CorrelationIDFrom(ctx); ok {
		m.CorrelationID = id
	}
	return m
}
