// Package app is kefu's application layer: the customer repository (load,
// decide, append with optimistic concurrency) and the command service the
// API and the process managers call.
package app

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

	"github.com/kefu-crm/kefu/domain/aggregate"

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

// KeyReuseError: an idempotency key the caller already used on the
// customer came with a different request. Nothing is appended; the first
// request's result stands. It matches ErrConflict.
type KeyReuseError struct {
	CustomerID string
	Key        string
}

func (e *KeyReuseError) Error() string {
	return fmt.Sprintf("app: idempotency key %q was already used for a different request on customer %s: send a new key for a new request (the same key only to retry the same one)", e.Key, e.CustomerID)
}

// Unwrap returns ErrConflict.
func (e *KeyReuseError) Unwrap() error { return ErrConflict }

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

// Error is meant for the caller of the API: what happened and what to do,
// without the store's internals (Err keeps them for errors.Is/As).
func (e *ConflictError) Error() string {
	if e.Expected == nil {
		return fmt.Sprintf("customer %s is busy: other writes kept changing it while this one was retried; retry", e.CustomerID)
	}
	now := "does not exist"
	if e.Actual >= 0 {
		now = "is at version " + strconv.FormatInt(e.Actual, 10)
	}
	return fmt.Sprintf("customer %s changed since it was read: expectedVersion %d, but it %s; read it again and retry with its current version",
		e.CustomerID, *e.Expected, now)
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
	// expected revision and concurrent writers keep winning; 0 means no
	// bound but RetryFor.
	MaxAttempts int
	// RetryFor bounds how long such a command is retried, with jittered
	// exponential backoff, when its context has no earlier deadline; 0
	// means 10s.
	RetryFor time.Duration
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
	return errors.Join(errs...)
}

// Repository loads customers from their streams and appends what their
// verbs decide. It is safe for concurrent use.
type Repository struct {
	store       eventstore.Store
	codec       *codec.Codec
	clock       func() time.Time
	maxAttempts int
	retryFor    time.Duration
}

// NewRepository returns a repository over cfg's store and codec.
func NewRepository(cfg Config) (*Repository, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Repository{store: cfg.Store, codec: cfg.Codec, clock: cfg.Clock, maxAttempts: cfg.MaxAttempts, retryFor: cfg.RetryFor}
	if r.clock == nil {
		r.clock = time.Now
	}
	if r.retryFor == 0 {
		r.retryFor = 10 * time.Second
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

// StreamOf is the stream of a customer: "customer-<id>".
func StreamOf(customerID string) string {
	return eventstore.StreamID(customer.StreamCategory, customerID)
}

// idempotencyNamespace is the DeterministicID namespace of command
// idempotency keys. Never change it.
const idempotencyNamespace = "kefu.command.idempotency"

// EventID is the ID of the index-th event appended by the command with
// the given idempotency key on the customer (key as ScopeKey qualified it).
func EventID(customerID, key string, index int) uuid.UUID {
	return codec.DeterministicID(idempotencyNamespace, customerID+"\x00"+key+"\x00"+strconv.Itoa(index))
}

// loaded is a customer with the stored events it was rebuilt from.
type loaded struct {
	c      *customer.Customer
	events []codec.Decoded
}

func (r *Repository) load(ctx context.Context, id string) (loaded, error) {
	if err := aggregate.CheckID("customerId", id); err != nil {
		return loaded{}, err
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
// Without one, a lost race is retried from a fresh load after a jittered,
// growing pause until the context's deadline (or RetryFor), so writers
// colliding on one customer all get through; only then is it a
// *ConflictError ("busy, retry"). fn's errors (the domain's typed errors) are returned as they are.
// With an idempotency key in ctx (WithIdempotencyKey), a repeated command
// appends nothing and returns the first attempt's result without calling
// fn.
func (r *Repository) Update(ctx context.Context, id string, expected *uint64, fn func(*customer.Customer) error) (Result, error) {
	giveUp := time.Now().Add(r.retryFor)
	if d, ok := ctx.Deadline(); ok && d.Before(giveUp) {
		giveUp = d
	}
	clientKey, _ := IdempotencyKeyFrom(ctx)
	key := ScopeKey(ctx, clientKey)
	meta := metadataFrom(ctx, clientKey)
	meta.RequestHash = requestHashFrom(ctx)
	for attempt := 1; ; attempt++ {
		l, err := r.load(ctx, id)
		if err != nil {
			return Result{}, err
		}
		if key != "" {
			if res, ok := replay(id, key, l.events); ok {
				return res, sameRequest(id, clientKey, meta.RequestHash, res)
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
				return res, sameRequest(id, clientKey, meta.RequestHash, res)
			}
			return Result{}, fmt.Errorf("app: customer %s: %w: idempotency key %q", id, eventstore.ErrIdempotency, clientKey)
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

// sameRequest refuses a replayed key whose first request differed from
// this one (both digests known).
func sameRequest(id, key, hash string, res Result) error {
	if len(res.Events) == 0 || hash == "" {
		return nil
	}
	if first := res.Events[0].Meta.RequestHash; first != "" && first != hash {
		return &KeyReuseError{CustomerID: id, Key: key}
	}
	return nil
}

// requestHash digests a command: its type and its JSON form.
func requestHash(cmd any) string {
	b, err := json.Marshal(cmd)
	if err != nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%T\x00", cmd)
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
		return Result{Revision: last.Revision, Position: last.Position, Events: events[j : j+n]}, true
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
