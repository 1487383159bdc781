package seed

import (
	"context"
	"fmt"
	"strconv"

	"golang.org/x/sync/errgroup"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// Actor is recorded as the actor of every seeded event.
const Actor = "kefu-seed"

// WriteOptions configures Write.
type WriteOptions struct {
	// Workers generate, encode and append customers concurrently (default
	// 8); concurrent appends share the store's fsyncs.
	Workers int
	// Progress, if set, is called with the number of customers written
	// since the previous call.
	Progress func(n int)
}

// Write generates the history of cfg and appends it to store, one append
// per customer (the stream must not exist yet). Event IDs are derived from
// the seed, the customer and the event's index, so the same config writes
// the same events with the same IDs; a re-run into the same store is an
// idempotent no-op for the customers already written. The order in which
// different customers' streams interleave in the global log depends on
// scheduling.
func Write(ctx context.Context, store eventstore.Store, c *codec.Codec, cfg Config, opts WriteOptions) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, fmt.Errorf("seed: %w", err)
	}
	cfg = cfg.withDefaults()
	workers := opts.Workers
	if workers <= 0 {
		workers = 8
	}
	sums := make([]Summary, workers)
	g, ctx := errgroup.WithContext(ctx)
	for w := range workers {
		g.Go(func() error {
			for i := w; i < cfg.Customers; i += workers {
				if err := ctx.Err(); err != nil {
					return err
				}
				h, s, err := One(cfg, i)
				if err != nil {
					return err
				}
				if err := appendHistory(ctx, store, c, cfg.Seed, h); err != nil {
					return err
				}
				sums[w].add(s)
				if opts.Progress != nil {
					opts.Progress(1)
				}
			}
			return nil
		})
	}
	err := g.Wait()
	var total Summary
	for _, s := range sums {
		total.add(s)
	}
	return total, err
}

func appendHistory(ctx context.Context, store eventstore.Store, c *codec.Codec, seedValue uint64, h History) error {
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
			return fmt.Errorf("seed: encode %s event %d: %w", h.CustomerID, i, err)
		}
		recs[i] = rec
	}
	if _, err := store.Append(ctx, stream, eventstore.NoStream(), recs...); err != nil {
		return fmt.Errorf("seed: append %s: %w", stream, err)
	}
	return nil
}
