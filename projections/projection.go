package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/kefu-crm/kefu/eventstore"
)

// Decoder turns a stored event into its typed payload. The event codec,
// built in main, implements it. Decode must be safe for concurrent use: the
// catch-up phase decodes in parallel workers.
type Decoder interface {
	Decode(ctx context.Context, ev eventstore.Event) (any, error)
}

// DecoderFunc adapts a function to Decoder.
type DecoderFunc func(ctx context.Context, ev eventstore.Event) (any, error)

// Decode calls f.
func (f DecoderFunc) Decode(ctx context.Context, ev eventstore.Event) (any, error) { return f(ctx, ev) }

// Decoded is an event as a projection sees it: the stored envelope and the
// decoded payload. Projections must treat it as read-only (the catch-up phase
// shares one Decoded between projections).
type Decoded struct {
	// Event is the stored event (Data still holds the raw JSON).
	Event eventstore.Event
	// Payload is what the Decoder returned for Event.
	Payload any
}

// Projection is a consumer of the global log: a read model or a process
// manager.
//
// The runtime calls Apply, Digest and Snapshot/Restore from one goroutine at a
// time (never concurrently with each other), with every position once and in
// global order. Query methods that the API calls concurrently are the
// projection's own business (its own lock).
type Projection interface {
	// Name is permanent: it names the watermill handler and group and the
	// checkpoint file, so renaming it loses the checkpoint. It matches
	// [a-z][a-z0-9_.-]{0,63}.
	Name() string
	// Apply folds one event into the projection. An error stops this
	// projection (no retry, no skip); the others keep running.
	Apply(ctx context.Context, ev Decoded) error
	// Digest is a deterministic hash of the state (for example sha256 over
	// the sorted entries): equal states give equal digests, so a rebuild
	// from zero can be compared with the live path.
	Digest() [32]byte
}

// Filter is implemented by projections that only care about some event
// types. Events of other types are neither decoded nor applied for that
// projection (its checkpoint still moves past them), so an event that cannot
// be decoded only stops the projections that want it. Wants is called from
// the parallel decode workers, so it must be safe for concurrent use (a pure
// function of the type).
type Filter interface {
	Wants(eventType string) bool
}

// Snapshotter is implemented by durable projections — process managers that
// must never act twice, or read models too costly to rebuild at every start.
// The runtime saves Snapshot together with the position it reflects in one
// atomic checkpoint file, and at start restores it and resumes after that
// position. Projections that are not Snapshotters are rebuilt from zero at
// every start.
type Snapshotter interface {
	// Snapshot encodes the state. The bytes must not alias the state.
	Snapshot() ([]byte, error)
	// Restore replaces the state with a decoded snapshot.
	Restore(snapshot []byte) error
}

// Sentinel errors. Test with errors.Is.
var (
	// ErrStopped: a projection stopped on an event it could not decode or
	// apply. See StoppedError.
	ErrStopped = errors.New("projections: projection stopped")
	// ErrUnknownProjection: a name that no registered projection has.
	ErrUnknownProjection = errors.New("projections: unknown projection")
	// ErrInvalidConfig: New was given unusable dependencies or config.
	ErrInvalidConfig = errors.New("projections: invalid config")
	// ErrNotRunning: WaitFor or Status before Run started or after it ended
	// with an error.
	ErrNotRunning = errors.New("projections: runtime not running")
	// ErrCheckpointAhead: a durable projection's checkpoint is beyond the
	// log's head — the checkpoint directory belongs to another store.
	ErrCheckpointAhead = errors.New("projections: checkpoint ahead of the log")
)

// StoppedError says which event stopped a projection and why. It matches
// ErrStopped with errors.Is, and unwraps to the decode or apply error too.
type StoppedError struct {
	Projection string
	Position   eventstore.Position
	EventID    string
	EventType  string
	// Decode is true when the event could not be decoded, false when Apply
	// (or a panic in it) failed.
	Decode bool
	Err    error
}

func (e *StoppedError) Error() string {
	what := "apply"
	if e.Decode {
		what = "decode"
	}
	return fmt.Sprintf("projections: %s stopped at position %d (%s %s): %s: %v",
		e.Projection, e.Position, e.EventType, e.EventID, what, e.Err)
}

// Unwrap returns ErrStopped and the cause.
func (e *StoppedError) Unwrap() []error { return []error{ErrStopped, e.Err} }
