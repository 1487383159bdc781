package exchange

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/kefu-crm/kefu/eventstore"
)

// batchEvents is about how many events one eventstore.AppendMany call
// carries: enough that one durable commit covers thousands of customers,
// few enough that the store holds a call in memory comfortably.
const batchEvents = 4096

// batch is one AppendMany call in the making. Its items' Records are
// windows on recs, which is allocated with room for the whole batch and
// never grows (so the windows stay valid).
type batch struct {
	items []eventstore.StreamAppend
	recs  []eventstore.Record
}

// committer appends records in the order they are added: consecutive
// records of one stream become one item (NoStream for revision 0, Exact
// otherwise), about batchEvents records one AppendMany call. One call is
// in flight while the next batch fills.
type committer struct {
	ctx     context.Context
	g       *errgroup.Group
	cur     *batch
	full    chan *batch
	free    chan *batch
	opts    ImportOptions
	written int64 // owned by the committing goroutine until close
	lastRev uint64
}

func newCommitter(ctx context.Context, store eventstore.Store, opts ImportOptions) *committer {
	g, gctx := errgroup.WithContext(ctx)
	c := &committer{ctx: gctx, g: g, opts: opts, full: make(chan *batch, 1), free: make(chan *batch, 3)}
	for range 3 {
		c.free <- &batch{recs: make([]eventstore.Record, 0, batchEvents)}
	}
	g.Go(func() error {
		for b := range c.full {
			res, err := eventstore.AppendMany(gctx, store, b.items)
			if err != nil {
				return fmt.Errorf("exchange: append %d stream(s) %s…%s: %w", len(b.items), b.items[0].Stream, b.items[len(b.items)-1].Stream, err)
			}
			for i, r := range res {
				if r.Err != nil {
					it := b.items[i]
					first := uint64(0)
					if rev, ok := it.Expected.Revision(); ok {
						first = rev + 1
					}
					return fmt.Errorf("exchange: append %d event(s) to %s at revision %d: %w", len(it.Records), it.Stream, first, r.Err)
				}
			}
			c.written += int64(len(b.recs))
			if opts.Progress != nil {
				opts.Progress(len(b.recs))
			}
			clear(b.recs) // drop the data for the collector
			clear(b.items)
			b.items, b.recs = b.items[:0], b.recs[:0]
			c.free <- b
		}
		return nil
	})
	return c
}

// add queues rec as revision rev of stream. stream must not change
// afterwards (it is kept as the item's stream).
func (c *committer) add(stream string, rev uint64, rec eventstore.Record) error {
	if c.cur != nil && len(c.cur.recs) == cap(c.cur.recs) {
		if err := c.flush(); err != nil {
			return err
		}
	}
	if c.cur == nil {
		select {
		case c.cur = <-c.free:
		case <-c.ctx.Done():
			return c.ctx.Err()
		}
	}
	b := c.cur
	b.recs = append(b.recs, rec)
	if n := len(b.items); n > 0 && b.items[n-1].Stream == stream && rev == c.lastRev+1 {
		last := &b.items[n-1]
		last.Records = last.Records[:len(last.Records)+1]
	} else {
		exp := eventstore.NoStream()
		if rev > 0 {
			exp = eventstore.Exact(rev - 1)
		}
		k := len(b.recs) - 1
		b.items = append(b.items, eventstore.StreamAppend{Stream: stream, Expected: exp, Records: b.recs[k : k+1 : cap(b.recs)]})
	}
	c.lastRev = rev
	if len(b.recs) >= batchEvents {
		return c.flush()
	}
	return nil
}

// flush hands the current batch to the committing goroutine.
func (c *committer) flush() error {
	if c.cur == nil || len(c.cur.recs) == 0 {
		return nil
	}
	select {
	case c.full <- c.cur:
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
	c.cur = nil
	return nil
}

// abort stops after the calls already handed over, and waits for them;
// it returns the number of events written and the committer's failure.
func (c *committer) abort() (int64, error) {
	close(c.full)
	err := c.g.Wait()
	return c.written, err
}

// close appends what is left and waits for the last call; it returns the
// number of events written and the first failure.
func (c *committer) close() (int64, error) {
	err := c.flush()
	close(c.full)
	if werr := c.g.Wait(); werr != nil {
		err = werr
	}
	return c.written, err
}
