package eventstore

import (
	"context"
	"errors"
	"fmt"
)

// ErrAborted is the error of the items of an all-or-nothing append that
// were not stored because another item of the same call failed.
var ErrAborted = errors.New("eventstore: aborted: another append of the same atomic call failed")

// AtomicAppender is an optional extension of Store: appends to several
// streams that are stored all together or not at all (a merge of
// customers: one event on each stream). Use it through AppendAtomic.
//
// Semantics, which storetest checks for every backend that implements it:
//
//   - The items name distinct streams. Each is checked as Append would
//     check it (validation, expected revision, an idempotent retry when all
//     its IDs are already stored).
//   - If every item passes, every item is stored, durably, in one
//     transaction, with increasing positions in slice order; the results
//     say where each item's last event landed.
//   - If one item fails, none is stored: the error is an *AtomicError
//     naming the first failing item and wrapping its error (ErrConcurrency,
//     ErrIdempotency, ErrInvalidStreamID, ErrInvalidRecord).
//   - A non-nil error that is not an *AtomicError (ctx ended while waiting,
//     ErrClosed, a storage failure) concerns the whole call: the items may
//     or may not be stored — all or none of them. Retrying with the same
//     event IDs is safe and tells which.
type AtomicAppender interface {
	// AppendAtomic stores every item or none.
	AppendAtomic(ctx context.Context, items []StreamAppend) ([]AppendResult, error)
}

// AtomicError says which item of an all-or-nothing append failed, and why;
// nothing of the call is stored.
type AtomicError struct {
	// Index is the failing item's index; Stream its stream.
	Index  int
	Stream string
	// Err is the item's error.
	Err error
}

func (e *AtomicError) Error() string {
	return fmt.Sprintf("eventstore: atomic append: item %d (%s): %v; nothing was stored", e.Index, e.Stream, e.Err)
}

// Unwrap returns the item's error.
func (e *AtomicError) Unwrap() error { return e.Err }

// ValidateAtomic checks the arguments of an all-or-nothing append: valid
// items on distinct streams. Backends call it before they queue the call.
func ValidateAtomic(items []StreamAppend) error {
	seen := make(map[string]struct{}, len(items))
	for i, it := range items {
		if err := ValidateAppend(it.Stream, it.Records); err != nil {
			return &AtomicError{Index: i, Stream: it.Stream, Err: err}
		}
		if _, dup := seen[it.Stream]; dup {
			return &AtomicError{Index: i, Stream: it.Stream, Err: fmt.Errorf("%w: stream %s appears twice in one atomic append", ErrInvalidStreamID, it.Stream)}
		}
		seen[it.Stream] = struct{}{}
	}
	return nil
}

// ErrNotAtomic: the store cannot append to several streams all or nothing
// (it does not implement AtomicAppender).
var ErrNotAtomic = errors.New("eventstore: the store has no all-or-nothing multi-stream append")

// AppendAtomic appends items all or none through store's AppendAtomic.
// A store without one gets ErrNotAtomic and nothing is appended: callers
// that can make a sequence of appends idempotent instead fall back to
// AppendMany themselves, knowing it is not atomic.
func AppendAtomic(ctx context.Context, store Store, items []StreamAppend) ([]AppendResult, error) {
	a, ok := store.(AtomicAppender)
	if !ok {
		return nil, ErrNotAtomic
	}
	if len(items) == 0 {
		return nil, nil
	}
	res, err := a.AppendAtomic(ctx, items)
	if err == nil && len(res) != len(items) {
		return nil, fmt.Errorf("eventstore: AppendAtomic returned %d results for %d items", len(res), len(items))
	}
	return res, err
}
