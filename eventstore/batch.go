package eventstore

import (
	"context"
	"errors"
	"fmt"
)

// StreamAppend is one item of a batch: what Store.Append would take.
type StreamAppend struct {
	// Stream is the stream ID ("<category>-<id>").
	Stream string
	// Expected is the stream's state this item requires.
	Expected Expected
	// Records are appended to Stream, in order, all or none.
	Records []Record
}

// BatchResult is the outcome of one item of a batch.
type BatchResult struct {
	// Result is where the item's last event landed (or, for an idempotent
	// retry, landed originally). Zero when Err is not nil.
	Result AppendResult
	// Err is the item's own failure: ErrConcurrency, ErrIdempotency,
	// ErrInvalidStreamID, ErrInvalidRecord. Nothing of the item is stored
	// when it is not nil.
	Err error
}

// BatchAppender is an optional extension of Store: many streams' appends in
// one call, made durable together (for the embedded store: one transaction
// and one fsync for the whole call). Use it through AppendMany, which falls
// back to one Append per item for stores without it.
//
// Semantics, which storetest checks for every backend that implements it:
//
//   - Each item is checked and applied as if by Append(ctx, item.Stream,
//     item.Expected, item.Records...) — its own validation, its own expected
//     revision, an idempotent retry when all its IDs are already stored (see
//     ResolveRetry) — in slice order: an item sees the effects of the
//     earlier items of the same call (two items may append to one stream,
//     the second expecting the first's last revision).
//   - A failing item fails alone: its error is in its BatchResult and the
//     other items go on.
//   - Atomicity is per item, not across items: an item's records are stored
//     all or none, but there is no promise that the successful items of one
//     call are stored together if the process crashes or the call fails.
//     (The embedded store happens to write a whole call in one transaction.)
//   - When AppendBatch returns a nil error, every item whose Err is nil is
//     durable, and the events of the successful items have increasing
//     positions in slice order.
//   - A non-nil error from AppendBatch (ctx ended while waiting, ErrClosed, a
//     storage failure) concerns the whole call: results is nil, and each item
//     may or may not be stored. Retrying the same call with the same event IDs
//     is safe and tells which.
//
// An empty batch returns an empty result and a nil error. Calls should stay
// within a few thousand events: a backend may hold a whole call in memory
// and write it in one transaction.
type BatchAppender interface {
	// AppendBatch appends every item independently, durably, with one
	// result per item in the order of items.
	AppendBatch(ctx context.Context, items []StreamAppend) ([]BatchResult, error)
}

// AppendMany appends items through store's AppendBatch when it has one, and
// otherwise with one Append per item, in order. The results and the error
// follow BatchAppender's rules either way; on the fallback path, an error
// that concerns the whole store (a cancelled ctx, ErrClosed) ends the call
// with that error, and the items before it are stored.
func AppendMany(ctx context.Context, store Store, items []StreamAppend) ([]BatchResult, error) {
	if b, ok := store.(BatchAppender); ok {
		res, err := b.AppendBatch(ctx, items)
		if err == nil && len(res) != len(items) {
			return nil, fmt.Errorf("eventstore: AppendBatch returned %d results for %d items", len(res), len(items))
		}
		return res, err
	}
	out := make([]BatchResult, len(items))
	for i, it := range items {
		res, err := store.Append(ctx, it.Stream, it.Expected, it.Records...)
		if err != nil && !ItemError(err) {
			return nil, err
		}
		out[i] = BatchResult{Result: res, Err: err}
	}
	return out, nil
}

// ItemError reports whether err, returned by Append, concerns only that
// append (a wrong expected revision, reused event IDs, an invalid stream or
// record) rather than the store or the call: the errors a BatchResult
// carries.
func ItemError(err error) bool {
	return errors.Is(err, ErrConcurrency) || errors.Is(err, ErrIdempotency) ||
		errors.Is(err, ErrInvalidStreamID) || errors.Is(err, ErrInvalidRecord)
}
