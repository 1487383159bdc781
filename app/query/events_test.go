package query_test

import (
	"testing"

	"github.com/kefu-crm/kefu/app/query"
	"github.com/kefu-crm/kefu/domain/customer"
)

// A sparse filter over a long log returns a short page once the scan bound
// is reached after a match, and the client pages on from its cursor to
// find the rest; the pages together are exactly the matching events.
func TestEventsSparseFilterPagesOn(t *testing.T) {
	unbounded, _ := book(t)
	q, _ := book(t, func(d *query.Deps) { d.MaxScan = 2 })
	ctx := t.Context()
	all, err := unbounded.Events.List(ctx, query.EventFilter{}, query.Page{First: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, e := range all.Edges {
		if e.Node.Type == customer.TypePurchaseMade {
			want++
		}
	}
	if want != 2 || len(all.Edges) < 4 {
		t.Fatalf("the book has %d events, %d purchases; the test needs two purchases among others", len(all.Edges), want)
	}
	filter := query.EventFilter{Types: []string{customer.TypePurchaseMade}}
	got, pages, after := 0, 0, ""
	for {
		page, err := q.Events.List(ctx, filter, query.Page{First: 100, After: after})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range page.Edges {
			if e.Node.Type != customer.TypePurchaseMade {
				t.Fatalf("filter let through %s", e.Node.Type)
			}
			got++
			after = e.Cursor
		}
		if !page.HasNextPage {
			break
		}
		if len(page.Edges) == 0 || pages > 10 {
			t.Fatalf("page %d: hasNextPage with %d edges", pages, len(page.Edges))
		}
	}
	if got != want || pages < 2 {
		t.Errorf("paged %d purchases in %d pages, want %d in at least 2 (scan bound 2)", got, pages, want)
	}
}
