package followups_test

import (
	"errors"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections/followups"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type feeder struct {
	m   *followups.Model
	pos eventstore.Position
}

func (f *feeder) apply(cust string, e customer.Event) {
	f.pos++
	f.m.Apply(eventstore.Event{StreamID: "customer-" + cust, Position: f.pos, OccurredAt: t0}, e)
}

func schedule(id, owner string, dueDays int, reason customer.FollowUpReason) *customer.FollowUpScheduled {
	return &customer.FollowUpScheduled{FollowUpID: id, Reason: reason, Owner: owner, DueAt: t0.Add(time.Duration(dueDays) * 24 * time.Hour)}
}

func ids(p followups.Page) (s []string) {
	for _, f := range p.Items {
		s = append(s, f.ID)
	}
	return s
}

func TestOwnerQueueOldestDueFirst(t *testing.T) {
	f := &feeder{m: followups.New()}
	f.apply("c1", schedule("f3", "amy", 3, customer.ReasonRecovery))
	f.apply("c2", schedule("f1", "amy", 1, customer.ReasonWinBack))
	f.apply("c3", schedule("f2", "amy", 2, customer.ReasonRecovery))
	f.apply("c4", schedule("f9", "bob", 0, customer.ReasonRecovery))
	f.apply("c2", &customer.FollowUpCompleted{FollowUpID: "f1", By: "amy", Outcome: customer.FollowUpSatisfied})

	p, err := f.m.List(followups.Filter{Owner: "amy", Status: followups.Due}, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p); len(got) != 2 || got[0] != "f2" || got[1] != "f3" || p.Total != 2 {
		t.Fatalf("amy's DUE queue = %v (total %d), want [f2 f3]", got, p.Total)
	}

	before := t0.Add(60 * time.Hour)
	p, _ = f.m.List(followups.Filter{Status: followups.Due, DueBefore: &before}, "", 10)
	if got := ids(p); len(got) != 2 || got[0] != "f9" || got[1] != "f2" {
		t.Fatalf("DUE before day 2.5 = %v, want [f9 f2]", got)
	}

	p, _ = f.m.List(followups.Filter{Reasons: []customer.FollowUpReason{customer.ReasonWinBack}}, "", 10)
	if got := ids(p); len(got) != 1 || got[0] != "f1" || p.Items[0].Status != followups.Done {
		t.Fatalf("WIN_BACK follow-ups = %v, want [f1] DONE", got)
	}

	got, ok := f.m.Find("f1")
	if !ok || got.CustomerID != "c2" || got.Outcome == nil || *got.Outcome != customer.FollowUpSatisfied {
		t.Fatalf("Find(f1) = %+v, %v", got, ok)
	}
	due, overdue, done, total := f.m.Counts(t0.Add(36 * time.Hour))
	if due != 3 || overdue != 1 || done != 1 || total != 4 {
		t.Fatalf("Counts = %d due, %d overdue, %d done, %d total; want 3, 1, 1, 4", due, overdue, done, total)
	}
}

func TestPaginationAndBadCursor(t *testing.T) {
	f := &feeder{m: followups.New()}
	for i, id := range []string{"a", "b", "c", "d", "e"} {
		f.apply("c1", schedule(id, "amy", i, customer.ReasonRoutine))
	}
	var got []string
	cursor := ""
	for {
		p, err := f.m.List(followups.Filter{Owner: "amy", Status: followups.Due}, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(p)...)
		if !p.HasMore {
			break
		}
		cursor = p.EndCursor
	}
	if len(got) != 5 || got[0] != "a" || got[4] != "e" {
		t.Fatalf("pages = %v, want a..e", got)
	}
	if _, err := f.m.List(followups.Filter{}, "not a cursor!", 2); !errors.Is(err, followups.ErrBadCursor) {
		t.Fatalf("bad cursor error = %v, want ErrBadCursor", err)
	}
}

func TestCancelledLeavesQueueAndDuplicateScheduleIgnored(t *testing.T) {
	f := &feeder{m: followups.New()}
	f.apply("c1", schedule("x", "amy", 1, customer.ReasonRoutine))
	f.apply("c1", schedule("x", "amy", 5, customer.ReasonRoutine)) // same ID again: ignored
	f.apply("c1", &customer.FollowUpCancelled{FollowUpID: "x", By: "amy", Reason: "customer moved"})
	p, _ := f.m.List(followups.Filter{Owner: "amy", Status: followups.Due}, "", 10)
	if p.Total != 0 {
		t.Fatalf("cancelled follow-up still DUE: %+v", p.Items)
	}
	got, _ := f.m.Get("c1", "x")
	if got.Status != followups.Cancelled || !got.DueAt.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("follow-up = %+v, want CANCELLED due day 1", got)
	}
}

// TestErasureClearsNotes: notes are personal data; once the customer is
// erased the model no longer shows them (another customer's stay).
func TestErasureClearsNotes(t *testing.T) {
	f := &feeder{m: followups.New()}
	a, b := schedule("f1", "amy", 1, customer.ReasonRoutine), schedule("f2", "amy", 1, customer.ReasonRoutine)
	a.Note, b.Note = "call Zhou at home", "call Wang at home"
	f.apply("c1", a)
	f.apply("c1", schedule("f3", "amy", 2, customer.ReasonRoutine))
	f.apply("c1", &customer.FollowUpCompleted{FollowUpID: "f3", By: "amy", Outcome: customer.FollowUpSatisfied, Note: "Zhou was pleased"})
	f.apply("c2", b)
	f.apply("c1", &customer.CustomerErased{By: "admin", Reason: "request"})
	for _, id := range []string{"f1", "f3"} {
		if got, ok := f.m.Find(id); !ok || got.Note != "" {
			t.Errorf("%s after erasure: %+v, %v; want it found, with no note", id, got, ok)
		}
	}
	if got, _ := f.m.Find("f2"); got.Note != "call Wang at home" {
		t.Errorf("another customer's note = %q after erasure", got.Note)
	}
}
