// Package eventstore is kefu's port to an append-only event log.
//
// The log is a set of streams ("customer-<id>", "campaign-<id>") whose events
// carry a 0-based stream revision, and a global order across all streams
// expressed as a Position (1-based; Position 0 means "before the first
// event"). Every backend — the embedded single-directory store, the in-memory
// store used by fast unit tests, EventStoreDB — passes the same contract
// suite, storetest.Run.
package eventstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"

	"github.com/google/uuid"
)

// Position is an event's place in the global order of the whole log. The
// first event has Position 1; Position 0 is the start, before any event.
type Position uint64

// Start is the position before the first event: reading or subscribing after
// Start sees every event.
const Start Position = 0

// Record is an event to append.
type Record struct {
	// ID identifies the event. Appending a record whose ID is already in the
	// stream is an idempotent retry: nothing is written and the original
	// result is returned.
	ID uuid.UUID
	// Type is the stable event type name (PascalCase, past tense).
	Type string
	// SchemaVersion is the version of Data's shape (1 for the first shape).
	SchemaVersion int
	// OccurredAt is business time; it may be backfilled by imports.
	OccurredAt time.Time
	// Data is the event body as JSON.
	Data []byte
	// Metadata is JSON: correlationId, causationId, actor.
	Metadata []byte
}

// Event is a stored event.
type Event struct {
	ID            uuid.UUID
	StreamID      string
	Revision      uint64
	Position      Position
	Type          string
	SchemaVersion int
	OccurredAt    time.Time
	// RecordedAt is the store's clock when the event was appended.
	RecordedAt time.Time
	Data       []byte
	Metadata   []byte
}

// AppendResult tells where the last appended event landed.
type AppendResult struct {
	// Revision is the stream revision of the last event of the append.
	Revision uint64
	// Position is the global position of the last event of the append.
	Position Position
}

// Expected is the caller's expectation of a stream's state before an append.
// The zero value is Any.
type Expected struct {
	kind expectKind
	rev  uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectRevision
	expectExists
)

// Any accepts whatever state the stream is in.
func Any() Expected { return Expected{} }

// NoStream requires that the stream has no events yet.
func NoStream() Expected { return Expected{kind: expectNoStream} }

// StreamExists requires that the stream has at least one event.
func StreamExists() Expected { return Expected{kind: expectExists} }

// Exact requires that the stream's last event has revision rev.
func Exact(rev uint64) Expected { return Expected{kind: expectRevision, rev: rev} }

// IsAny reports whether e accepts any stream state.
func (e Expected) IsAny() bool { return e.kind == expectAny }

// IsNoStream reports whether e requires an empty stream.
func (e Expected) IsNoStream() bool { return e.kind == expectNoStream }

// IsStreamExists reports whether e requires a non-empty stream.
func (e Expected) IsStreamExists() bool { return e.kind == expectExists }

// Revision returns the exact revision e expects, and whether it expects one.
func (e Expected) Revision() (uint64, bool) { return e.rev, e.kind == expectRevision }

// Check tells whether a stream whose last revision is current (exists false
// when the stream has no events) satisfies e. Backends use it so that every
// one of them decides the same way.
func (e Expected) Check(stream string, current uint64, exists bool) error {
	ok := true
	switch e.kind {
	case expectNoStream:
		ok = !exists
	case expectExists:
		ok = exists
	case expectRevision:
		ok = exists && current == e.rev
	}
	if ok {
		return nil
	}
	ce := &ConcurrencyError{Stream: stream, Expected: e}
	if exists {
		ce.Actual = int64(current)
	} else {
		ce.Actual = -1
	}
	return ce
}

func (e Expected) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectExists:
		return "stream exists"
	case expectRevision:
		return fmt.Sprintf("revision %d", e.rev)
	default:
		return "any"
	}
}

// Direction is the order of a stream read.
type Direction uint8

const (
	// Forward reads from From towards the stream's last event.
	Forward Direction = iota
	// Backward reads from From towards revision 0.
	Backward
)

// End, as ReadStream's From with Backward, starts at the stream's last event.
const End uint64 = math.MaxUint64

// StreamRead selects events of one stream.
type StreamRead struct {
	Direction Direction
	// From is the first revision to return (inclusive). With Backward, End
	// means the last event.
	From uint64
	// Limit is the most events to return; 0 means no limit.
	Limit int
}

// Store is the event log.
type Store interface {
	// Append writes records to the end of stream atomically, if the stream's
	// state satisfies expected. It is durable when it returns. A retry whose
	// records' IDs are all already stored in stream, at consecutive revisions
	// in the same order, writes nothing and returns the original result
	// (whatever expected says); IDs stored otherwise (only some of them, in
	// another stream, in another order) give ErrIdempotency. See
	// ResolveRetry.
	Append(ctx context.Context, stream string, expected Expected, records ...Record) (AppendResult, error)
	// ReadStream returns events of one stream; ErrStreamNotFound when it has
	// none.
	ReadStream(ctx context.Context, stream string, read StreamRead) ([]Event, error)
	// ReadAll calls fn with every event after the given position in global
	// order until the end of the log, fn returns an error, or ctx ends.
	// Returning ErrStop from fn ends the read with a nil error.
	ReadAll(ctx context.Context, after Position, fn func(Event) error) error
	// Subscribe calls fn with every event after the given position, first
	// those already stored and then new ones as they are appended, with no
	// gap and no duplicate. It returns nil when ctx is cancelled, fn's error
	// (nil for ErrStop) when fn fails, or the store's error.
	Subscribe(ctx context.Context, after Position, fn func(Event) error) error
	// Head is the position of the last event in the log (Start when empty).
	Head(ctx context.Context) (Position, error)
	// Close releases the store. Calls after Close return ErrClosed.
	Close() error
}

// Sentinel errors. Test with errors.Is.
var (
	// ErrConcurrency: the stream was not in the expected state.
	ErrConcurrency = errors.New("eventstore: wrong expected version")
	// ErrStreamNotFound: the stream has no events.
	ErrStreamNotFound = errors.New("eventstore: stream not found")
	// ErrInvalidStreamID: a stream ID that does not follow "<category>-<id>"
	// with id matching [A-Za-z0-9_.-]{1,64}.
	ErrInvalidStreamID = errors.New("eventstore: invalid stream id")
	// ErrInvalidRecord: a record that cannot be stored (no type, zero ID,
	// data that is not JSON, duplicate ID within one append …).
	ErrInvalidRecord = errors.New("eventstore: invalid record")
	// ErrIdempotency: some but not all of an append's event IDs are already
	// stored, or they are stored in another stream.
	ErrIdempotency = errors.New("eventstore: event IDs already used differently")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("eventstore: closed")
	// ErrLocked: another process holds the data directory.
	ErrLocked = errors.New("eventstore: data directory in use by another process")
	// ErrStop, returned from a ReadAll or Subscribe callback, ends the read
	// without an error.
	ErrStop = errors.New("eventstore: stop")
	// ErrInvalidArgument: a read with arguments out of range (a negative
	// limit, an unknown direction).
	ErrInvalidArgument = errors.New("eventstore: invalid argument")
)

// ConcurrencyError says which expectation failed. It matches
// ErrConcurrency with errors.Is.
type ConcurrencyError struct {
	Stream   string
	Expected Expected
	// Actual is the stream's last revision, -1 when it has no events.
	Actual int64
}

func (e *ConcurrencyError) Error() string {
	actual := "no stream"
	if e.Actual >= 0 {
		actual = fmt.Sprintf("revision %d", e.Actual)
	}
	return fmt.Sprintf("eventstore: stream %s: expected %s, found %s", e.Stream, e.Expected, actual)
}

func (e *ConcurrencyError) Unwrap() error { return ErrConcurrency }

// ValidID reports whether id is a valid entity ID (aggregate.IDSyntax,
// the domain's one ID syntax).
func ValidID(id string) bool { return aggregate.ValidID(id) }

// StreamID joins a category and an entity ID: StreamID("customer", "42") is
// "customer-42". It does not validate; see ParseStreamID.
func StreamID(category, id string) string { return category + "-" + id }

// ParseStreamID splits a stream ID at its first '-' into category and entity
// ID, and validates both: the category matches [A-Za-z0-9_$]{1,64}, the ID
// [A-Za-z0-9_.-]{1,64}.
func ParseStreamID(stream string) (category, id string, err error) {
	category, id, ok := strings.Cut(stream, "-")
	if !ok || category == "" || len(category) > 64 || !isCategory(category) || !ValidID(id) {
		return "", "", fmt.Errorf("%w: %q (want <category>-<id>, category matching [A-Za-z0-9_$]{1,64}, id matching %s)", ErrInvalidStreamID, stream, aggregate.IDSyntax)
	}
	return category, id, nil
}

func isCategory(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '$') {
			return false
		}
	}
	return true
}

// ValidateAppend checks an append's arguments the same way for every
// backend: a valid stream ID and at least one record, each with a non-zero
// unique ID, a type, a schema version ≥ 1, an occurredAt, and JSON data and
// metadata (empty metadata is allowed).
func ValidateAppend(stream string, records []Record) error {
	if _, _, err := ParseStreamID(stream); err != nil {
		return err
	}
	if len(records) == 0 {
		return fmt.Errorf("%w: append to %s with no records", ErrInvalidRecord, stream)
	}
	seen := make(map[uuid.UUID]struct{}, len(records))
	for i, r := range records {
		switch {
		case r.ID == uuid.Nil:
			return fmt.Errorf("%w: record %d of %s has no ID", ErrInvalidRecord, i, stream)
		case r.Type == "":
			return fmt.Errorf("%w: record %d of %s has no type", ErrInvalidRecord, i, stream)
		case r.SchemaVersion < 1:
			return fmt.Errorf("%w: record %d (%s) of %s has schema version %d, want ≥ 1", ErrInvalidRecord, i, r.Type, stream, r.SchemaVersion)
		case r.OccurredAt.IsZero():
			return fmt.Errorf("%w: record %d (%s) of %s has no occurredAt", ErrInvalidRecord, i, r.Type, stream)
		case !validJSON(r.Data, false):
			return fmt.Errorf("%w: record %d (%s) of %s: data is not a JSON value", ErrInvalidRecord, i, r.Type, stream)
		case !validJSON(r.Metadata, true):
			return fmt.Errorf("%w: record %d (%s) of %s: metadata is not a JSON value", ErrInvalidRecord, i, r.Type, stream)
		}
		if _, dup := seen[r.ID]; dup {
			return fmt.Errorf("%w: record %d of %s repeats event ID %s", ErrInvalidRecord, i, stream, r.ID)
		}
		seen[r.ID] = struct{}{}
	}
	return nil
}
