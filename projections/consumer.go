package projections

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-crm/kefu/eventstore"
)

// consumer is the runtime's bookkeeping around one Projection.
type consumer struct {
	proj   Projection
	name   string
	filter Filter      // nil: wants every type
	snap   Snapshotter // nil: rebuilt from zero at start

	// mu serialises Apply, Digest, Snapshot and Restore, and guards pos and
	// rec.
	mu  sync.Mutex
	pos eventstore.Position // last position applied (or skipped by filter)
	rec time.Time           // RecordedAt of pos

	// Published copies of pos and rec, readable without mu.
	applied      atomic.Uint64
	lastRecorded atomic.Int64
	stopped      atomic.Pointer[StoppedError]
	// flushMu serialises checkpoint saves; flushed is the last saved
	// position (guarded by flushMu).
	flushMu sync.Mutex
	flushed eventstore.Position
	// flushErr is the last checkpoint save's error (nil after a success).
	flushErr atomic.Pointer[error]

	notify func() // called after progress or a stop; never nil
}

func newConsumer(p Projection, notify func()) *consumer {
	c := &consumer{proj: p, name: p.Name(), notify: notify}
	c.filter, _ = p.(Filter)
	c.snap, _ = p.(Snapshotter)
	if c.notify == nil {
		c.notify = func() {}
	}
	return c
}

func (c *consumer) wants(eventType string) bool {
	return c.filter == nil || c.filter.Wants(eventType)
}

// applyLocked applies one event unless it is at or before the checkpoint. A
// decode or apply failure stops the consumer and returns nil; only a
// cancelled ctx is returned. c.mu must be held.
func (c *consumer) applyLocked(ctx context.Context, d *Decoded, decodeErr error) error {
	pos := d.Event.Position
	if pos <= c.pos || c.stopped.Load() != nil {
		return nil
	}
	if !c.wants(d.Event.Type) {
		c.pos, c.rec = pos, d.Event.RecordedAt
		return nil
	}
	if decodeErr != nil {
		// A decode cut short by shutdown (the key lookup saw the cancelled
		// ctx) is not a bad event.
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		c.stop(d, true, decodeErr)
		return nil
	}
	if err := c.safeApply(ctx, d); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		c.stop(d, false, err)
		return nil
	}
	c.pos, c.rec = pos, d.Event.RecordedAt
	return nil
}

// safeApply turns a panic in Apply into an error, so that a buggy projection
// stops instead of taking the process down or being redelivered forever.
func (c *consumer) safeApply(ctx context.Context, d *Decoded) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.proj.Apply(ctx, *d)
}

// decode calls dec, turning a panic into a decode error: a decoder that
// panics on a malformed event must stop the projections that want it, not
// the process (catch-up) or loop on redelivery (live).
func decode(ctx context.Context, dec Decoder, ev eventstore.Event) (p any, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("decoder panic: %v", r)
		}
	}()
	return dec.Decode(ctx, ev)
}

func (c *consumer) stop(d *Decoded, decode bool, err error) {
	c.stopped.CompareAndSwap(nil, &StoppedError{
		Projection: c.name,
		Position:   d.Event.Position,
		EventID:    d.Event.ID.String(),
		EventType:  d.Event.Type,
		Decode:     decode,
		Err:        err,
	})
}

// publishLocked makes pos visible to WaitFor and Status. c.mu must be held.
func (c *consumer) publishLocked() {
	c.applied.Store(uint64(c.pos))
	if !c.rec.IsZero() {
		c.lastRecorded.Store(c.rec.UnixNano())
	}
}

// restore sets the consumer to a saved checkpoint. c.mu must not be held.
func (c *consumer) restore(pos eventstore.Position, rec time.Time, snapshot []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap != nil {
		if err := c.snap.Restore(snapshot); err != nil {
			return fmt.Errorf("projections: restore %s at position %d: %w", c.name, pos, err)
		}
	}
	c.pos, c.rec = pos, rec
	c.publishLocked()
	c.flushMu.Lock()
	c.flushed = pos
	c.flushMu.Unlock()
	return nil
}
