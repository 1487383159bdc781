package server_test

import (
	"testing"
)

// Clients may reuse an idempotency key for different customers; the
// complaints it creates must stay two complaints, each on its customer.
func TestIdempotencyKeyReusedAcrossCustomers(t *testing.T) {
	h := startServer(t, options{})
	h.register("a1", "王芳", nil)
	h.register("b1", "李娜", nil)
	ka := h.fileComplaint("a1", map[string]any{"idempotencyKey": "ticket-1"})
	kb := h.fileComplaint("b1", map[string]any{"idempotencyKey": "ticket-1"})
	if ka == "" || kb == "" || ka == kb {
		t.Fatalf("complaint IDs %q and %q: want two distinct complaints", ka, kb)
	}
	for cust, want := range map[string]string{"a1": ka, "b1": kb} {
		r := h.ok(`query($id:ID!){ customer(id:$id){ openComplaints{ id } } }`, map[string]any{"id": cust})
		if got := r.str("customer.openComplaints.0.id"); got != want {
			t.Errorf("%s's open complaint = %q, want %q", cust, got, want)
		}
	}
	// The retry of a1's request still replays it.
	if again := h.fileComplaint("a1", map[string]any{"idempotencyKey": "ticket-1"}); again != ka {
		t.Errorf("retry gave %q, want %q", again, ka)
	}
}

// Naming a stage twice in a filter lists each customer once.
func TestRepeatedStageFilter(t *testing.T) {
	h := startServer(t, options{})
	h.register("a1", "王芳", nil)
	h.register("b1", "李娜", nil)
	r := h.ok(`{ customers(filter:{stages:[NEW, NEW]}){ totalCount edges{ node{ id } } } }`, nil)
	if n, edges := r.num("customers.totalCount"), len(r.list("customers.edges")); n != 2 || edges != 2 {
		t.Fatalf("totalCount %d, %d edges; want 2 and 2", n, edges)
	}
}
