// Package deadline is an ordered index of (time, id) keys — reply-due
// times, promised replies, follow-up due dates — so that "everything due
// before t" is a prefix walk rather than a scan.
//
// Keys live in a B-tree, so inserts and removals cost O(log n) whatever
// order they arrive in (a rebuild from a log seeded customer by customer
// inserts far out of time order). Readers get sorted slices, materialised
// from the tree on the first read after a change and shared until the next
// change.
package deadline

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/btree"
)

// Key orders by time, then by ID.
type Key struct {
	At time.Time
	ID string
}

// Compare orders keys by At, then ID.
func Compare(a, b Key) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

func less(a, b Key) bool { return Compare(a, b) < 0 }

// Index is a sorted set of keys. The zero value is empty and ready.
// Mutations need the owner's write lock; reads may run concurrently with
// each other under the owner's read lock.
type Index struct {
	tree *btree.BTreeG[Key] `snapshot:"-"` // written as its keys (EncodeState)
	// decoded holds the keys a snapshot gave, until StateDecoded.
	decoded []Key `snapshot:"-"`

	mu     sync.Mutex // guards sorted against concurrent readers
	sorted []Key
	stale  bool
}

func (x *Index) init() {
	if x.tree == nil {
		x.tree = btree.NewG(32, less)
	}
}

// Insert adds k (no-op when present).
func (x *Index) Insert(k Key) {
	x.init()
	if _, had := x.tree.ReplaceOrInsert(k); !had {
		x.changed()
	}
}

// Remove deletes k (no-op when absent).
func (x *Index) Remove(k Key) {
	if x.tree == nil {
		return
	}
	if _, had := x.tree.Delete(k); had {
		x.changed()
	}
}

func (x *Index) changed() {
	x.mu.Lock()
	x.stale, x.sorted = true, nil
	x.mu.Unlock()
}

// Len is the number of keys.
func (x *Index) Len() int {
	if x.tree == nil {
		return 0
	}
	return x.tree.Len()
}

// All returns every key in order. The slice is shared: read it under the
// owner's lock and do not modify it.
func (x *Index) All() []Key {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.stale || (x.sorted == nil && x.Len() > 0) {
		out := make([]Key, 0, x.Len())
		x.tree.Ascend(func(k Key) bool {
			out = append(out, k)
			return true
		})
		x.sorted, x.stale = out, false
	}
	return x.sorted
}

// Before returns the keys strictly before t, in order (shared slice, as
// All).
func (x *Index) Before(t time.Time) []Key {
	all := x.All()
	i, _ := slices.BinarySearchFunc(all, Key{At: t}, Compare)
	return all[:i]
}

// After returns the keys strictly after k, in order (shared slice, as
// All): the continuation of a listing whose last item was k.
func (x *Index) After(k Key) []Key {
	all := x.All()
	i, found := slices.BinarySearchFunc(all, k, Compare)
	if found {
		i++
	}
	return all[i:]
}

// AscendBefore calls fn with the keys strictly before t, in order, until
// fn returns false, without materialising a slice.
func (x *Index) AscendBefore(t time.Time, fn func(Key) bool) {
	if x.tree == nil {
		return
	}
	x.tree.AscendLessThan(Key{At: t}, fn)
}

// EncodeState writes the index in a snapshot as its keys in order
// (statecodec.Custom).
func (x *Index) EncodeState() any { return slices.Clone(x.All()) }

// DecodeState is where a snapshot's keys are read into.
func (x *Index) DecodeState() any { return &x.decoded }

// StateDecoded rebuilds the index from the snapshot's keys.
func (x *Index) StateDecoded() error {
	keys := x.decoded
	x.decoded = nil
	x.tree = nil
	x.init()
	x.changed()
	for i, k := range keys {
		if i > 0 && Compare(keys[i-1], k) >= 0 {
			return fmt.Errorf("deadline: keys out of order at %d", i)
		}
		x.tree.ReplaceOrInsert(k)
	}
	return nil
}
