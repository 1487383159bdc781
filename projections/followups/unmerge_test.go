package followups_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections/followups"
)

// Given a merged into s, a's follow-up is s's; after the unmerge it is a's
// again and s keeps its own.
func TestUnmergeGivesFollowUpsBack(t *testing.T) {
	m := followups.New()
	pos := eventstore.Position(0)
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	apply := func(cust string, h int, e customer.Event) {
		pos++
		m.Apply(eventstore.Event{StreamID: "customer-" + cust, Position: pos, Type: e.EventType(), OccurredAt: t0.Add(time.Duration(h) * time.Hour)}, e)
	}
	apply("s", 1, &customer.FollowUpScheduled{FollowUpID: "fs", Reason: customer.ReasonRoutine, Owner: "amy", DueAt: t0.Add(48 * time.Hour)})
	apply("a", 2, &customer.FollowUpScheduled{FollowUpID: "fa", Reason: customer.ReasonRoutine, Owner: "amy", DueAt: t0.Add(50 * time.Hour)})
	apply("a", 3, &customer.CustomerMerged{Into: "s"})
	apply("s", 3, &customer.CustomersMergedIn{From: []string{"a"}})
	ids := func(id string) []string {
		var out []string
		for _, f := range m.OfCustomer(id) {
			out = append(out, f.ID+"@"+f.CustomerID)
		}
		return out
	}
	if got := ids("s"); !slices.Equal(got, []string{"fs@s", "fa@s"}) {
		t.Fatalf("s's follow-ups while merged: %v", got)
	}
	apply("a", 4, &customer.CustomerUnmerged{From: "s"})
	apply("s", 4, &customer.CustomersUnmerged{IDs: []string{"a"}})
	if got := ids("s"); !slices.Equal(got, []string{"fs@s"}) {
		t.Errorf("s's follow-ups after the unmerge: %v", got)
	}
	if got := ids("a"); !slices.Equal(got, []string{"fa@a"}) {
		t.Errorf("a's follow-ups after the unmerge: %v", got)
	}
}
