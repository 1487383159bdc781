package graphql

import (
	"container/list"
	"sync"

	"github.com/graphql-go/graphql/language/ast"
)

// docCache is an LRU of parsed and validated documents keyed by query text,
// bounded both in entries and in total query bytes.
type docCache struct {
	mu       sync.Mutex
	maxItems int
	maxBytes int
	bytes    int
	ll       *list.List // front = most recent
	items    map[string]*list.Element
	hits     uint64
	misses   uint64
}

type cacheEntry struct {
	query string
	doc   *ast.Document
}

func newDocCache(maxItems, maxBytes int) *docCache {
	return &docCache{maxItems: maxItems, maxBytes: maxBytes, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *docCache) get(q string) (*ast.Document, bool) {
	if c == nil || c.maxItems <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[q]; ok {
		c.ll.MoveToFront(e)
		c.hits++
		return e.Value.(*cacheEntry).doc, true
	}
	c.misses++
	return nil, false
}

func (c *docCache) put(q string, doc *ast.Document) {
	if c == nil || c.maxItems <= 0 || len(q) > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[q]; ok {
		c.ll.MoveToFront(e)
		return
	}
	c.items[q] = c.ll.PushFront(&cacheEntry{query: q, doc: doc})
	c.bytes += len(q)
	for c.ll.Len() > c.maxItems || c.bytes > c.maxBytes {
		old := c.ll.Back()
		ent := old.Value.(*cacheEntry)
		c.ll.Remove(old)
		delete(c.items, ent.query)
		c.bytes -= len(ent.query)
	}
}

// stats returns the cache's size and hit/miss counters.
func (c *docCache) stats() CacheStats {
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: c.ll.Len(), Bytes: c.bytes, Hits: c.hits, Misses: c.misses}
}

// CacheStats describes the parse/validate cache.
type CacheStats struct {
	Entries int
	Bytes   int
	Hits    uint64
	Misses  uint64
}
