package embedded_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
)

// Given a store whose group commits hold at most 100 events, when one call
// brings 300 events, then it is written whole and in order; an item over the
// event size limit fails alone.
func TestAppendBatchLargerThanMaxBatchEvents(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{MaxBatchEvents: 100, MaxEventBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	items := make([]eventstore.StreamAppend, 60)
	for i := range items {
		recs := make([]eventstore.Record, 5)
		for j := range recs {
			recs[j] = contactLogged(i*5 + j)
		}
		items[i] = eventstore.StreamAppend{Stream: fmt.Sprintf("customer-b%d", i), Expected: eventstore.NoStream(), Records: recs}
	}
	big := contactLogged(999)
	big.Data = []byte(fmt.Sprintf(`"%01100d"`, 0))
	items = append(items, eventstore.StreamAppend{Stream: "customer-big", Records: []eventstore.Record{big}})
	res, err := s.AppendBatch(t.Context(), items)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res[:60] {
		if r.Err != nil || r.Result.Position != eventstore.Position(i*5+5) || r.Result.Revision != 4 {
			t.Fatalf("item %d: %+v, %v; want revision 4 at position %d", i, r.Result, r.Err, i*5+5)
		}
	}
	if !errors.Is(res[60].Err, eventstore.ErrInvalidRecord) {
		t.Fatalf("oversized item: %v, want ErrInvalidRecord", res[60].Err)
	}
	if h, _ := s.Head(t.Context()); h != 300 {
		t.Fatalf("Head %d, want 300", h)
	}
}
