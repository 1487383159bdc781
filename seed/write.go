package seed

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// Actor is recorded as the actor of every seeded event.
const Actor = "kefu-seed"

// Batching of Write: workers generate and encode chunks of chunkCustomers
// customers; one committer appends consecutive chunks in customer order,
// up to batchEvents events per eventstore.AppendMany call.
const (
	chunkCustomers = 64
	batchEvents    = 4096
)

// WriteOptions configures Write.
type WriteOptions struct {
	// Workers generate and encode customers concurrently (default 8); the
	// appends themselves are made in customer order by one committer, in
	// batches (one durable commit for many customers on stores that
	// implement eventstore.BatchAppender).
	Workers int
	// BatchEvents caps the events of one append batch (default 4096); a
	// chunk larger than the cap is appended alone.
	BatchEvents int
	// Progress, if set, is called with the number of customers written
	// since the previous call.
	Progress func(n int)
}

// chunk is a run of consecutive customers, encoded and ready to append.
type chunk struct {
	index  int
	items  []eventstore.StreamAppend
	events int
	sum    Summary
}

// Write generates the history of cfg and appends it to store, one stream per
// customer (the stream must not exist yet). Event IDs are derived from the
// seed, the customer and the event's index, so the same config writes the
// same events with the same IDs; a re-run into the same store is an
// idempotent no-op for the customers already written.
//
// Customers are appended in index order, each customer's events together,
// so the global order of the log is a function of cfg: two seeds of the same
// config into empty stores give the same ReadAll sequence (apart from
// RecordedAt, and personal data, which a vault encrypts with fresh keys).
func Write(ctx context.Context, store eventstore.Store, c *codec.Codec, cfg Config, opts WriteOptions) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, fmt.Errorf("seed: %w", err)
	}
	cfg = cfg.withDefaults()
	workers := opts.Workers
	if workers <= 0 {
		workers = 8
	}
	batch := opts.BatchEvents
	if batch <= 0 {
		batch = batchEvents
	}
	chunks := (cfg.Customers + chunkCustomers - 1) / chunkCustomers
	g, ctx := errgroup.WithContext(ctx)
	var (
		next  atomic.Int64
		ready = make(chan chunk, workers)
		// window bounds the chunks built but not yet appended; the
		// lowest one not appended always holds a slot, so it cannot
		// deadlock.
		window = make(chan struct{}, 2*workers)
	)
	for range workers {
		g.Go(func() error {
			for {
				select {
				case window <- struct{}{}:
				case <-ctx.Done():
					return ctx.Err()
				}
				k := int(next.Add(1)) - 1
				if k >= chunks {
					return nil
				}
				ch, err := buildChunk(ctx, c, cfg, k)
				if err != nil {
					return err
				}
				select {
				case ready <- ch:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		})
	}
	var total Summary
	g.Go(func() error {
		// pending holds built chunks that arrived ahead of their turn. The
		// committer blocks for a chunk only when the next one in order is
		// missing; whatever is already here is appended first, one batch
		// after another, so chunks left over by the batch limit can never
		// wait for an arrival that will not come.
		pending := map[int]chunk{}
		var items []eventstore.StreamAppend
		for done := 0; done < chunks; {
			if _, ok := pending[done]; !ok {
				select {
				case ch := <-ready:
					pending[ch.index] = ch
				case <-ctx.Done():
					return ctx.Err()
				}
				continue
			}
			items = items[:0]
			events, customers, taken := 0, 0, 0
			var sum Summary
			for {
				ch, ok := pending[done]
				if !ok || (events > 0 && events+ch.events > batch) {
					break
				}
				delete(pending, done)
				items = append(items, ch.items...)
				events += ch.events
				customers += len(ch.items)
				sum.add(ch.sum)
				done++
				taken++
			}
			res, err := eventstore.AppendMany(ctx, store, items)
			if err != nil {
				return fmt.Errorf("seed: append customers %s…%s: %w", items[0].Stream, items[len(items)-1].Stream, err)
			}
			for i, r := range res {
				if r.Err != nil {
					return fmt.Errorf("seed: append %s: %w", items[i].Stream, r.Err)
				}
			}
			clear(items) // drop the records for the collector
			total.add(sum)
			for range taken {
				<-window
			}
			if opts.Progress != nil {
				opts.Progress(customers)
			}
		}
		return nil
	})
	err := g.Wait()
	return total, err
}

// buildChunk generates and encodes chunk k.
func buildChunk(ctx context.Context, c *codec.Codec, cfg Config, k int) (chunk, error) {
	from := k * chunkCustomers
	to := min(from+chunkCustomers, cfg.Customers)
	ch := chunk{index: k, items: make([]eventstore.StreamAppend, 0, to-from)}
	for i := from; i < to; i++ {
		if err := ctx.Err(); err != nil {
			return chunk{}, err
		}
		h, s, err := One(cfg, i)
		if err != nil {
			return chunk{}, err
		}
		sa, err := encodeHistory(ctx, c, cfg.Seed, h)
		if err != nil {
			return chunk{}, err
		}
		ch.items = append(ch.items, sa)
		ch.events += len(sa.Records)
		ch.sum.add(s)
	}
	return ch, nil
}

// encodeHistory encodes one customer's history as an append that creates
// the stream.
func encodeHistory(ctx context.Context, c *codec.Codec, seedValue uint64, h History) (eventstore.StreamAppend, error) {
	stream := eventstore.StreamID(customer.StreamCategory, h.CustomerID)
	recs := make([]eventstore.Record, len(h.Changes))
	ns := "seed/" + strconv.FormatUint(seedValue, 10) + "/" + h.CustomerID
	for i, ch := range h.Changes {
		rec, err := c.Encode(ctx, stream, ch.Event, codec.Envelope{
			ID:         codec.DeterministicID(ns, strconv.Itoa(i)),
			OccurredAt: ch.OccurredAt,
			Meta:       codec.Metadata{Actor: Actor, CorrelationID: ns},
		})
		if err != nil {
			return eventstore.StreamAppend{}, fmt.Errorf("seed: encode %s event %d: %w", h.CustomerID, i, err)
		}
		recs[i] = rec
	}
	return eventstore.StreamAppend{Stream: stream, Expected: eventstore.NoStream(), Records: recs}, nil
}
