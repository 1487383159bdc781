// Package deadline is an ordered index of (time, id) keys — reply-due
// times, promised replies, follow-up due dates — so that "everything due
// before t" is a prefix walk rather than a scan.
package deadline

import (
	"slices"
	"strings"
	"time"
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

// Index is a sorted set of keys. The zero value is empty and ready.
// It is not safe for concurrent use; the owning read model locks.
type Index struct{ keys []Key }

// Insert adds k (no-op when present).
func (x *Index) Insert(k Key) {
	i, found := slices.BinarySearchFunc(x.keys, k, Compare)
	if !found {
		x.keys = slices.Insert(x.keys, i, k)
	}
}

// Remove deletes k (no-op when absent).
func (x *Index) Remove(k Key) {
	if i, found := slices.BinarySearchFunc(x.keys, k, Compare); found {
		x.keys = slices.Delete(x.keys, i, i+1)
	}
}

// Len is the number of keys.
func (x *Index) Len() int { return len(x.keys) }

// Before returns the keys strictly before t, in order. The slice is shared:
// read it under the owner's lock and do not modify it.
func (x *Index) Before(t time.Time) []Key {
	i, _ := slices.BinarySearchFunc(x.keys, Key{At: t}, Compare)
	return x.keys[:i]
}

// All returns every key in order (shared slice, as Before).
func (x *Index) All() []Key { return x.keys }

// After returns the keys strictly after k, in order (shared slice, as
// Before): the continuation of a listing whose last item was k.
func (x *Index) After(k Key) []Key {
	i, found := slices.BinarySearchFunc(x.keys, k, Compare)
	if found {
		i++
	}
	return x.keys[i:]
}
