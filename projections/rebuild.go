package projections

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/kefu-crm/kefu/eventstore"
)

const (
	// batchSize is how many events travel together through the catch-up
	// pipeline; it amortises channel operations and locking.
	batchSize = 512
	// pipelineDepth bounds how many batches each stage may run ahead.
	pipelineDepth = 16
)

// Rebuild applies the log from the first event up to and including until to
// fresh projections, bypassing watermill: one goroutine reads the log,
// GOMAXPROCS workers decode batches in parallel, and one goroutine per
// projection applies them in global order. An event that a projection cannot
// decode or apply stops that projection (the others go on); Rebuild then
// returns every StoppedError joined.
func Rebuild(ctx context.Context, store eventstore.Store, dec Decoder, until eventstore.Position, ps ...Projection) error {
	cs := make([]*consumer, len(ps))
	for i, p := range ps {
		cs[i] = newConsumer(p, nil)
	}
	if err := catchUp(ctx, store, dec, until, runtime.GOMAXPROCS(0), cs); err != nil {
		return err
	}
	var errs []error
	for _, c := range cs {
		if s := c.stopped.Load(); s != nil {
			errs = append(errs, s)
		}
	}
	return errors.Join(errs...)
}

// batch is a run of consecutive events on its way through catchUp.
type batch struct {
	evs  []Decoded
	errs []error // nil, or decode errors indexed like evs
	// wants[i] has bit j set when consumer j wants evs[i] (nil when there
	// are more consumers than bits: each asks its filter).
	wants []uint64
	// done is closed once evs are decoded.
	done chan struct{}
	// left counts appliers that have not finished with the batch.
	left atomic.Int32
}

// catchUp brings every consumer from its position up to until (inclusive).
// It returns an error only when reading fails or ctx ends; projection
// failures stop single consumers.
func catchUp(ctx context.Context, store eventstore.Store, dec Decoder, until eventstore.Position, workers int, cs []*consumer) error {
	if len(cs) == 0 {
		return nil
	}
	from := until
	for _, c := range cs {
		c.mu.Lock()
		from = min(from, c.pos)
		c.mu.Unlock()
	}
	if from >= until {
		return nil
	}
	workers = max(workers, 1)

	pool := sync.Pool{New: func() any { return &batch{evs: make([]Decoded, 0, batchSize)} }}
	get := func() *batch {
		b := pool.Get().(*batch)
		b.done = make(chan struct{})
		b.left.Store(int32(len(cs)))
		return b
	}
	release := func(b *batch) {
		if b.left.Add(-1) == 0 {
			clear(b.evs)
			b.evs, b.errs, b.wants = b.evs[:0], nil, b.wants[:0]
			pool.Put(b)
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *batch, pipelineDepth)
	outs := make([]chan *batch, len(cs))
	for i := range outs {
		outs[i] = make(chan *batch, pipelineDepth)
	}

	g.Go(func() error {
		defer func() {
			close(work)
			for _, o := range outs {
				close(o)
			}
		}()
		send := func(b *batch) error {
			for _, o := range outs {
				select {
				case o <- b:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			select {
			case work <- b:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		b := get()
		err := store.ReadAll(gctx, from, func(e eventstore.Event) error {
			if e.Position > until {
				return eventstore.ErrStop
			}
			b.evs = append(b.evs, Decoded{Event: e})
			if len(b.evs) == batchSize {
				if err := send(b); err != nil {
					return err
				}
				b = get()
			}
			return nil
		})
		if err == nil && len(b.evs) > 0 {
			err = send(b)
		}
		return err
	})

	// Which consumers want an event depends on its type only: each worker
	// asks the filters once per type and keeps the answer as a bit mask.
	masks := len(cs) <= 64
	wantMask := func(cache map[string]uint64, t string) uint64 {
		m, ok := cache[t]
		if !ok {
			for j, c := range cs {
				if c.wants(t) {
					m |= 1 << j
				}
			}
			cache[strings.Clone(t)] = m
		}
		return m
	}
	for range workers {
		g.Go(func() error {
			cache := make(map[string]uint64)
			for b := range work {
				if masks {
					b.wants = slices.Grow(b.wants[:0], len(b.evs))[:len(b.evs)]
				}
				for i := range b.evs {
					d := &b.evs[i]
					if m := wantMask(cache, d.Event.Type); masks {
						b.wants[i] = m
						if m == 0 {
							continue
						}
					} else if m == 0 {
						continue
					}
					p, err := decode(gctx, dec, d.Event)
					if err != nil {
						if b.errs == nil {
							b.errs = make([]error, len(b.evs))
						}
						b.errs[i] = err
						continue
					}
					d.Payload = p
				}
				close(b.done)
			}
			return nil
		})
	}

	for i, c := range cs {
		g.Go(func() error {
			for b := range outs[i] {
				select {
				case <-b.done:
				case <-gctx.Done():
					return gctx.Err()
				}
				if err := c.applyBatch(gctx, b, i); err != nil {
					return err
				}
				release(b)
			}
			return nil
		})
	}
	return g.Wait()
}

// applyBatch applies b to c, the j-th consumer of the catch-up.
func (c *consumer) applyBatch(ctx context.Context, b *batch, j int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if c.stopped.Load() == nil {
		for i := range b.evs {
			var derr error
			if b.errs != nil {
				derr = b.errs[i]
			}
			d := &b.evs[i]
			if b.wants != nil && b.wants[i]&(1<<j) == 0 {
				// Not wanted: move past it, as applyLocked would,
				// without asking the filter again.
				if pos := d.Event.Position; pos > c.pos && c.stopped.Load() == nil {
					c.pos, c.rec = pos, d.Event.RecordedAt
				}
				continue
			}
			if err = c.applyLocked(ctx, d, derr); err != nil {
				break
			}
		}
	}
	c.publishLocked()
	c.notify()
	return err
}
