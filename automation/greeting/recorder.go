package greeting

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/eventstore"
)

// Recorder sizes. A batch is what one eventstore.AppendMany call carries;
// at most recordInFlight calls are outstanding, so that the store always has
// the next batch queued while it commits one; workers wait when
// recordBuffered outcomes are waiting.
const (
	recordBatch    = 4096
	recordInFlight = 2
	recordBuffered = 2 * recordBatch
)

// recorder appends the outcomes of one tick's customers in batches
// (eventstore.AppendMany: one durable commit for many customers), so that
// the workers go on to the next customer instead of waiting for the store.
// An outcome is counted only once it is stored; a conflicting append (the
// customer changed after it was loaded) is redone by greet with the same
// decision, never re-sent; any other failure is reported to fail and the
// customer is retried on the next tick.
type recorder struct {
	d    *Dispatcher
	ctx  context.Context
	def  *campaign.GreetingCampaignScheduled
	r    *run
	now  time.Time
	fail func(customerID string, err error)

	in      chan outcome
	loop    chan struct{} // closed when the loop has ended
	retries sync.WaitGroup
}

func (d *Dispatcher) newRecorder(ctx context.Context, def *campaign.GreetingCampaignScheduled, r *run, now time.Time, fail func(string, error)) *recorder {
	rc := &recorder{
		d: d, ctx: ctx, def: def, r: r, now: now, fail: fail,
		in: make(chan outcome, recordBuffered), loop: make(chan struct{}),
	}
	go rc.run()
	return rc
}

// submit hands an outcome to the recorder.
func (rc *recorder) submit(ctx context.Context, o outcome) error {
	select {
	case rc.in <- o:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close waits until every submitted outcome is stored (or failed), redone
// conflicts included. No submit may follow.
func (rc *recorder) close() {
	close(rc.in)
	<-rc.loop
	rc.retries.Wait()
}

// run gathers outcomes and starts a batch whenever fewer than
// recordInFlight are outstanding: the outcomes that arrive while the store
// commits form the next batch.
func (rc *recorder) run() {
	defer close(rc.loop)
	var (
		buf      []outcome
		inflight int
		done     = make(chan struct{}, recordInFlight)
		in       = rc.in
	)
	for in != nil || inflight > 0 || len(buf) > 0 {
		if len(buf) > 0 && inflight < recordInFlight {
			n := min(len(buf), recordBatch)
			batch := buf[:n:n]
			buf = append([]outcome(nil), buf[n:]...)
			inflight++
			go func() {
				rc.commit(batch)
				done <- struct{}{}
			}()
			continue
		}
		recv := in
		if len(buf) >= recordBuffered {
			recv = nil // back-pressure: workers wait in submit
		}
		select {
		case o, ok := <-recv:
			if !ok {
				in = nil
				continue
			}
			buf = append(buf, o)
			// Take what else is waiting without blocking.
		drain:
			for len(buf) < recordBuffered {
				select {
				case o, ok := <-in:
					if !ok {
						in = nil
						break drain
					}
					buf = append(buf, o)
				default:
					break drain
				}
			}
		case <-done:
			inflight--
		}
	}
}

// commit appends one batch and settles each outcome.
func (rc *recorder) commit(batch []outcome) {
	items := make([]eventstore.StreamAppend, len(batch))
	for i := range batch {
		items[i] = batch[i].append
	}
	res, err := rc.d.cfg.Customers.AppendMany(rc.ctx, items)
	if err != nil {
		for _, o := range batch {
			rc.fail(o.state.planned.CustomerID, err)
		}
		return
	}
	for i, o := range batch {
		switch err := res[i].Err; {
		case err == nil:
			rc.r.count(o.status, o.reason)
		case errors.Is(err, eventstore.ErrConcurrency):
			// The customer changed meanwhile: reload and record again,
			// synchronously, with the decision already taken.
			rc.retries.Go(func() {
				if err := rc.d.greet(rc.ctx, rc.def, rc.r, rc.now, o.state, nil); err != nil {
					rc.fail(o.state.planned.CustomerID, err)
				}
			})
		default:
			rc.fail(o.state.planned.CustomerID, err)
		}
	}
}
