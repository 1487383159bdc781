package command

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
)

// MergeCustomers merges duplicate customers into a survivor: it loads
// every stream, lets the domain decide (customer.Merge), and appends
// CustomerMerged on each merged stream and CustomersMergedIn on the
// survivor's in one all-or-nothing append (eventstore.AppendAtomic) at the
// revisions it loaded — a refusal, a stale expected version or a lost race
// leaves every stream as it was.
//
// On a store without an all-or-nothing multi-stream append
// (EventStoreDB/KurrentDB through the kurrent adapter) the streams are
// appended one after the other, the merged ones first and the survivor
// last, each at its loaded revision: each append is atomic, the merge is
// not. The event IDs come from the idempotency key, so a merge given one
// and interrupted half-way is safe to send again: a merged stream whose
// last events are that key's is decided on as it stood before them, and
// the store recognises the same events at the same revision as a retry.
// Callers there should always send an idempotencyKey; expected versions,
// if given, are those read before the first attempt.
type MergeCustomers struct{ repo *Customers }

// mergeRequest is what a merge's idempotency key is bound to.
type mergeRequest struct {
	Survivor string
	Merged   []string
	Expected []uint64
	Cmd      customer.MergeCustomers
}

// Handle merges mergedIDs into survivorID. expected, when given, holds
// the revision the caller last saw of the survivor and then of each merged
// customer in order (len(mergedIDs)+1 entries); a stream at another
// revision is a *ConflictError and nothing is appended. Without it a lost
// race is retried from a fresh load, as Repository.Update does. The
// Result is the survivor's.
func (h MergeCustomers) Handle(ctx context.Context, survivorID string, mergedIDs []string, expected []uint64, cmd customer.MergeCustomers) (Result, error) {
	res, err := h.handle(ctx, survivorID, mergedIDs, expected, cmd)
	return res, lastSurvivor(ctx, h.repo, err)
}

func (h MergeCustomers) handle(ctx context.Context, survivorID string, mergedIDs []string, expected []uint64, cmd customer.MergeCustomers) (Result, error) {
	if err := aggregate.CheckText(cmd); err != nil {
		return Result{}, err
	}
	req := mergeRequest{Survivor: survivorID, Merged: mergedIDs, Expected: expected, Cmd: cmd}
	return updateMany(ctx, h.repo, "merge customers into", "mergedIds", survivorID, mergedIDs, expected, req,
		func(s *customer.Customer, others []*customer.Customer, now time.Time) error {
			return customer.Merge(s, others, cmd, now)
		})
}

// MaxMergeIDs bounds the customers one merge or unmerge names: each is a
// stream read and appended to in one transaction.
const MaxMergeIDs = 50

// updateMany is the write path of a decision over a survivor and other
// customers (a merge, an unmerge): load every stream, decide, append the
// others' changes and the survivor's all or none at the loaded revisions,
// the survivor last. expected, when given, has the survivor's revision
// and then each other's in order; req is what the idempotency key is
// bound to; what names the command in errors and othersField the input
// field of otherIDs.
func updateMany(ctx context.Context, r *Customers, what, othersField, survivorID string, otherIDs []string, expected []uint64, req any,
	decide func(survivor *customer.Customer, others []*customer.Customer, now time.Time) error) (Result, error) {
	if len(otherIDs) > MaxMergeIDs {
		return Result{}, aggregate.Invalid(othersField, "names %d customers; at most %d in one call (merge the rest in another)", len(otherIDs), MaxMergeIDs)
	}
	if len(expected) != 0 && len(expected) != len(otherIDs)+1 {
		return Result{}, aggregate.Invalid("expectedVersions", "give %d versions (the survivor's, then each of %s in order) or none; got %d", len(otherIDs)+1, othersField, len(expected))
	}
	if err := aggregate.CheckID("survivorId", survivorID); err != nil {
		return Result{}, err
	}
	for _, id := range otherIDs {
		if err := aggregate.CheckID(othersField, id); err != nil {
			return Result{}, err
		}
	}
	ctx = WithRequest(ctx, req)
	clientKey, _ := IdempotencyKeyFrom(ctx)
	key := ScopeKey(ctx, clientKey)
	meta := metadataFrom(ctx)
	giveUp := time.Now().Add(r.retryFor)
	if d, ok := ctx.Deadline(); ok && d.Before(giveUp) {
		giveUp = d
	}
	for attempt := 1; ; attempt++ {
		start := time.Now()
		ls, err := r.load(ctx, survivorID)
		if err != nil {
			return Result{}, err
		}
		if key != "" {
			if res, ok := replay(survivorID, key, ls.events); ok {
				return res, r.sameRequest(survivorID, clientKey, meta.RequestHash, res)
			}
		}
		all := []*customer.Customer{ls.a}
		for _, id := range otherIDs {
			// A stream already holding this request's event is a write
			// interrupted half-way on a store without all-or-nothing
			// appends: decide on the state before it, and the store takes
			// the same event again as the retry it is.
			l, _, err := r.loadBefore(ctx, id, key)
			if err != nil {
				return Result{}, err
			}
			all = append(all, l.a)
		}
		for i, a := range all {
			if len(expected) == 0 {
				break
			}
			if rev, exists := a.Version(); !exists || rev != expected[i] {
				return Result{}, &ConflictError{Kind: r.kind.Name, ID: a.ID(), Expected: &expected[i], Actual: actual(rev, exists)}
			}
		}
		if err := decide(ls.a, all[1:], r.Now()); err != nil {
			return Result{}, err
		}
		// The others first, the survivor last: its event is the last
		// position, which the caller waits for.
		items := make([]eventstore.StreamAppend, 0, len(all))
		for _, a := range append(all[1:], all[0]) {
			rev, exists := a.Version()
			sa, err := r.encode(ctx, a.ID(), rev, exists, a.Changes(), key, meta, Options[customer.Event]{})
			if err != nil {
				return Result{}, err
			}
			items = append(items, sa)
		}
		res, err := appendMerge(ctx, r.store, items)
		if errors.Is(err, eventstore.ErrConcurrency) {
			if len(expected) == 0 && (r.maxAttempts == 0 || attempt < r.maxAttempts) {
				if pause := backoff(attempt); time.Now().Add(pause).Before(giveUp) {
					if err := sleep(ctx, pause); err != nil {
						return Result{}, err
					}
					continue
				}
			}
			ce := &ConflictError{Kind: r.kind.Name, ID: survivorID, Actual: -1, Err: err}
			var ae *eventstore.AtomicError
			if errors.As(err, &ae) {
				ce.ID, _ = customerOf(ae.Stream)
				if len(expected) > 0 {
					ce.Expected = &expected[(ae.Index+1)%len(items)]
				}
			}
			var sc *eventstore.ConcurrencyError
			if errors.As(err, &sc) {
				ce.Actual = sc.Actual
			}
			return Result{}, ce
		}
		if err != nil {
			return Result{}, fmt.Errorf("%s %s: append: %w", what, survivorID, err)
		}
		last := len(items) - 1
		rev, exists := ls.a.Version()
		first := uint64(0)
		if exists {
			first = rev + 1
		}
		if r.appended != nil {
			r.appended(time.Since(start))
		}
		return appended(survivorID, items[last], ls.a.Changes(), first, res[last], meta), nil
	}
}

// appendMerge appends the merge's items all or none, or one after the
// other on a store that cannot (see MergeCustomers).
func appendMerge(ctx context.Context, store eventstore.Store, items []eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	res, err := eventstore.AppendAtomic(ctx, store, items)
	if !errors.Is(err, eventstore.ErrNotAtomic) {
		return res, err
	}
	res = make([]eventstore.AppendResult, len(items))
	for i, it := range items {
		if res[i], err = store.Append(ctx, it.Stream, it.Expected, it.Records...); err != nil {
			return nil, &eventstore.AtomicError{Index: i, Stream: it.Stream, Err: err}
		}
	}
	return res, nil
}

// customerOf is the customer ID of a customer stream.
func customerOf(stream string) (string, bool) {
	return strings.CutPrefix(stream, customer.StreamCategory+"-")
}
