package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// The read path caches decoded streams by their last revision: every read
// after an append must see the new event, from the customer view, the
// timeline and nested fields alike, also while other requests read the
// same customer concurrently.
func TestReadsSeeEveryAppendThroughTheCache(t *testing.T) {
	h := startServer(t, options{})
	h.register("cached", "Cache Customer", nil)
	const q = `{ customer(id:"cached"){ version stage loyalty{ score } openComplaints{ id }
		timeline(first:2){ totalCount edges{ node{ type summary } } } } }`
	for i := range 5 {
		// Read twice: the second read is served from the cache.
		for range 2 {
			r := h.ok(q, nil)
			if got := r.num("customer.timeline.totalCount"); got != 1+i {
				t.Fatalf("after %d contacts: totalCount %d, want %d: %s", i, got, 1+i, r.Raw)
			}
			if got := r.num("customer.version"); got != i {
				t.Fatalf("after %d contacts: version %d, want %d", i, got, i)
			}
			if i > 0 && r.str("customer.timeline.edges.0.node.summary") != fmt.Sprintf("inbound phone contact with agent-%d: contact %d", i-1, i-1) {
				t.Fatalf("newest entry after %d contacts: %s", i, r.Raw)
			}
		}
		h.ok(fmt.Sprintf(`mutation{ logContact(input:{customerId:"cached", channel:PHONE, direction:INBOUND, agent:"agent-%d", summary:"contact %d"}){ version } }`, i, i), nil)
	}

	// Concurrent readers while contacts are appended: no errors, and the
	// timeline (read after the customer view, within one request) is never
	// older than the view.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan string, 8)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := h.post(h.token, q, nil)
				if len(r.Errors) > 0 {
					errs <- r.Raw
					return
				}
				if r.num("customer.timeline.totalCount") < r.num("customer.version")+1 {
					errs <- "timeline older than the customer view: " + r.Raw
					return
				}
			}
		})
	}
	for i := 5; i < 15; i++ {
		h.ok(fmt.Sprintf(`mutation{ logContact(input:{customerId:"cached", channel:CHAT, direction:OUTBOUND, agent:"a", summary:"c%d"}){ version } }`, i), nil)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if r := h.ok(q, nil); r.num("customer.timeline.totalCount") != 16 {
		t.Fatalf("final totalCount: %s", r.Raw)
	}
}

// A customer read (and cached) before erasure is read again in full after
// it: nothing decoded while the key existed is served afterwards.
func TestErasureIsNotServedFromTheCache(t *testing.T) {
	h := startServer(t, options{})
	h.register("shred", "Secret Name-Wu", map[string]any{"phone": "+8613700001111"})
	h.ok(`mutation{ logContact(input:{customerId:"shred", channel:PHONE, direction:INBOUND, agent:"a", summary:"Secret Name-Wu called"}){ version } }`, nil)
	const q = `{ customer(id:"shred"){ name timeline(first:10){ edges{ node{ summary data } } } } }`
	for range 2 {
		if r := h.ok(q, nil); !strings.Contains(r.Raw, "Secret Name-Wu") {
			t.Fatalf("before erasure: %s", r.Raw)
		}
	}
	r := h.ok(`mutation{ eraseCustomer(input:{customerId:"shred", by:"admin", reason:"request"}){ version customer{ timeline(first:10){ edges{ node{ summary data } } } } } }`, nil)
	if strings.Contains(r.Raw, "Secret") || strings.Contains(r.Raw, "8613700001111") {
		t.Fatalf("erasure payload still shows personal data: %s", r.Raw)
	}
	for range 2 {
		if r := h.ok(q, nil); strings.Contains(r.Raw, "Secret") || strings.Contains(r.Raw, "8613700001111") {
			t.Fatalf("after erasure: %s", r.Raw)
		}
	}
}
