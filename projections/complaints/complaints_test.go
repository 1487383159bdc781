package complaints_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections/complaints"
)

var t0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

type feeder struct {
	m   *complaints.Model
	pos eventstore.Position
	rev map[string]uint64
}

func newFeeder() *feeder { return &feeder{m: complaints.New(), rev: map[string]uint64{}} }

func (f *feeder) apply(cust string, at time.Time, e customer.Event) {
	f.pos++
	stream := "customer-" + cust
	f.m.Apply(eventstore.Event{ID: uuid.New(), StreamID: stream, Revision: f.rev[stream], Position: f.pos, Type: e.EventType(), OccurredAt: at}, e)
	f.rev[stream]++
}

func ptr[T any](v T) *T { return &v }

func TestOverdueLifecycle(t *testing.T) {
	f := newFeeder()
	due := t0.Add(4*time.Hour + 30*time.Minute)
	f.apply("c1", t0, &customer.ComplaintFiled{ComplaintID: "k1", Channel: customer.ChannelPhone, Category: "delivery", Severity: customer.SeverityGeneral, Description: "late", Owner: "amy", ReplyDueAt: due})

	c, _ := f.m.Get("k1")
	if c.Overdue(due) || !c.Overdue(due.Add(time.Minute)) {
		t.Fatalf("unacknowledged complaint: overdue at due = %v, a minute later = %v; want false, true", c.Overdue(due), c.Overdue(due.Add(time.Minute)))
	}
	if n := f.m.OverdueCount(due.Add(time.Minute)); n != 1 {
		t.Fatalf("OverdueCount = %d, want 1", n)
	}

	f.apply("c1", t0.Add(time.Hour), &customer.ComplaintAcknowledged{ComplaintID: "k1", By: "amy"})
	if n := f.m.OverdueCount(due.Add(time.Hour)); n != 0 {
		t.Fatalf("after acknowledgement OverdueCount = %d, want 0", n)
	}

	promise := t0.Add(48 * time.Hour)
	f.apply("c1", t0.Add(2*time.Hour), &customer.ComplaintEscalated{ComplaintID: "k1", By: "amy", To: "boss", Reason: "refund", PromisedReplyBy: promise})
	if n := f.m.OverdueCount(promise.Add(time.Minute)); n != 1 {
		t.Fatalf("promise passed without outbound contact: OverdueCount = %d, want 1", n)
	}
	page, err := f.m.List(complaints.Filter{Overdue: ptr(true), Now: promise.Add(time.Minute)}, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || page.Items[0].ID != "k1" {
		t.Fatalf("overdue listing = %+v, want k1", page)
	}
	f.apply("c1", t0.Add(3*time.Hour), &customer.ContactLogged{Channel: customer.ChannelPhone, Direction: customer.Outbound, Agent: "amy", ComplaintID: "k1"})
	if n := f.m.OverdueCount(promise.Add(time.Minute)); n != 0 {
		t.Fatalf("outbound contact after the promise was made: OverdueCount = %d, want 0", n)
	}
}

func TestRecoveryRecordAndRepeatContacts(t *testing.T) {
	f := newFeeder()
	f.apply("c1", t0, &customer.ComplaintFiled{ComplaintID: "k1", Channel: customer.ChannelPhone, Category: "billing", Severity: customer.SeverityMajor, Description: "double charge", Owner: "amy", ReplyDueAt: t0.Add(5 * time.Hour)})
	f.apply("c1", t0.Add(time.Hour), &customer.ContactLogged{Channel: customer.ChannelPhone, Direction: customer.Inbound, Agent: "bob", ComplaintID: "k1"})
	f.apply("c1", t0.Add(2*time.Hour), &customer.ContactLogged{Channel: customer.ChannelPhone, Direction: customer.Inbound, Agent: "bob", ComplaintID: "k1"})
	f.apply("c1", t0.Add(3*time.Hour), &customer.RecoveryStepTaken{ComplaintID: "k1", Step: customer.StepApology, By: "amy"})
	f.apply("c1", t0.Add(4*time.Hour), &customer.RecoveryStepTaken{ComplaintID: "k1", Step: customer.StepSymbolicAtonement, By: "amy", Compensation: &customer.Money{AmountMinor: 5000, Currency: "CNY"}})
	f.apply("c1", t0.Add(5*time.Hour), &customer.RecoveryStepTaken{ComplaintID: "k1", Step: customer.StepSymbolicAtonement, By: "amy", Compensation: &customer.Money{AmountMinor: 2500, Currency: "CNY"}})
	f.apply("c1", t0.Add(5*time.Hour), &customer.RecoveryStepTaken{ComplaintID: "k1", Step: customer.StepSymbolicAtonement, By: "amy", Compensation: &customer.Money{AmountMinor: 100, Currency: "USD"}})
	f.apply("c1", t0.Add(6*time.Hour), &customer.ResolutionProposed{ComplaintID: "k1", By: "amy", Options: []string{"refund", "voucher"}})
	f.apply("c1", t0.Add(7*time.Hour), &customer.ResolutionAccepted{ComplaintID: "k1", OptionIndex: 1, Option: "voucher"})
	f.apply("c1", t0.Add(8*time.Hour), &customer.ComplaintTransferred{ComplaintID: "k1", By: "amy", From: "amy", To: "carl", Reason: "leave"})
	f.apply("c1", t0.Add(9*time.Hour), &customer.ComplaintResolved{ComplaintID: "k1", By: "carl", Outcome: customer.Satisfied})
	f.apply("c1", t0.Add(10*time.Hour), &customer.ContactLogged{Channel: customer.ChannelPhone, Direction: customer.Inbound, Agent: "bob", ComplaintID: "k1"})

	c, ok := f.m.Get("k1")
	if !ok {
		t.Fatal("complaint k1 not found")
	}
	if c.RepeatContacts != 2 {
		t.Errorf("RepeatContacts = %d, want 2 (inbound contacts while open; the one after resolution does not count)", c.RepeatContacts)
	}
	want := []customer.Money{{AmountMinor: 7500, Currency: "CNY"}, {AmountMinor: 100, Currency: "USD"}}
	if len(c.Compensation) != 2 || c.Compensation[0] != want[0] || c.Compensation[1] != want[1] {
		t.Errorf("Compensation = %v, want %v", c.Compensation, want)
	}
	if c.Status != complaints.Resolved || c.Outcome == nil || *c.Outcome != customer.Satisfied {
		t.Errorf("status %s outcome %v, want RESOLVED SATISFIED", c.Status, c.Outcome)
	}
	if c.AcceptedOption == nil || *c.AcceptedOption != "voucher" || c.Owner != "carl" || len(c.Transfers) != 1 {
		t.Errorf("accepted %v owner %s transfers %d, want voucher carl 1", c.AcceptedOption, c.Owner, len(c.Transfers))
	}
	if c.Overdue(t0.Add(100 * time.Hour)) {
		t.Error("a resolved complaint is never overdue")
	}

	f.apply("c1", t0.Add(11*time.Hour), &customer.ComplaintReopened{ComplaintID: "k1", By: "carl"})
	c, _ = f.m.Get("k1")
	if c.Status.Closed() || c.Outcome != nil || c.Reopened != 1 {
		t.Errorf("after reopen: status %s outcome %v reopened %d", c.Status, c.Outcome, c.Reopened)
	}
}

func TestRedeliveryIsIgnoredAndDigestStable(t *testing.T) {
	a, b := complaints.New(), complaints.New()
	ev := eventstore.Event{StreamID: "customer-c1", Position: 1, OccurredAt: t0}
	filed := &customer.ComplaintFiled{ComplaintID: "k1", Owner: "amy", ReplyDueAt: t0.Add(time.Hour)}
	inbound := &customer.ContactLogged{Direction: customer.Inbound, ComplaintID: "k1"}
	a.Apply(ev, filed)
	b.Apply(ev, filed)
	ev2 := ev
	ev2.Position, ev2.Revision = 2, 1
	a.Apply(ev2, inbound)
	a.Apply(ev2, inbound) // re-delivered: ignored
	b.Apply(ev2, inbound)
	if a.Digest() != b.Digest() {
		t.Fatal("re-delivering an event changed the model")
	}
	c, _ := a.Get("k1")
	if c.RepeatContacts != 1 {
		t.Fatalf("RepeatContacts = %d after a duplicate delivery, want 1", c.RepeatContacts)
	}
}

func TestListPagination(t *testing.T) {
	f := newFeeder()
	for i, id := range []string{"k1", "k2", "k3", "k4", "k5"} {
		f.apply("c1", t0.Add(time.Duration(i)*time.Hour), &customer.ComplaintFiled{ComplaintID: id, Owner: "amy", ReplyDueAt: t0.Add(100 * time.Hour)})
	}
	var got []string
	after := ""
	for {
		p, err := f.m.List(complaints.Filter{Owner: "amy"}, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 5 {
			t.Fatalf("Total = %d, want 5", p.Total)
		}
		for i, c := range p.Items {
			got = append(got, c.ID)
			after = p.Cursors[i]
		}
		if !p.HasMore {
			break
		}
	}
	if len(got) != 5 || got[0] != "k1" || got[4] != "k5" {
		t.Fatalf("paged listing = %v, want k1..k5 in filing order", got)
	}
}

// A page resumes after its cursor even when the cursor's complaint no
// longer matches the filter (it was acknowledged, or stopped being
// overdue): nothing after it is skipped.
func TestCursorSurvivesTheItemLeavingTheFilter(t *testing.T) {
	f := newFeeder()
	due := t0.Add(time.Hour)
	for i, id := range []string{"k1", "k2", "k3", "k4"} {
		f.apply("c1", t0.Add(time.Duration(i)*time.Minute), &customer.ComplaintFiled{ComplaintID: id, Owner: "amy", ReplyDueAt: due.Add(time.Duration(i) * time.Minute)})
	}
	for _, tc := range []struct {
		name   string
		filter complaints.Filter
	}{
		{"open complaints", complaints.Filter{Statuses: []complaints.Status{complaints.Open}}},
		{"overdue queue", complaints.Filter{Overdue: ptr(true), Now: due.Add(time.Hour)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFeeder()
			for i, id := range []string{"k1", "k2", "k3", "k4"} {
				g.apply("c1", t0.Add(time.Duration(i)*time.Minute), &customer.ComplaintFiled{ComplaintID: id, Owner: "amy", ReplyDueAt: due.Add(time.Duration(i) * time.Minute)})
			}
			p1, err := g.m.List(tc.filter, "", 2)
			if err != nil || len(p1.Items) != 2 || p1.Items[1].ID != "k2" {
				t.Fatalf("page 1 = %+v, %v", p1.Items, err)
			}
			g.apply("c1", t0.Add(time.Hour), &customer.ComplaintAcknowledged{ComplaintID: "k2", By: "amy"})
			p2, err := g.m.List(tc.filter, p1.Cursors[1], 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(p2.Items) != 2 || p2.Items[0].ID != "k3" || p2.Items[1].ID != "k4" {
				t.Fatalf("page 2 after the cursor's complaint left the filter = %v, want k3 k4", ids(p2.Items))
			}
		})
	}
	if _, err := f.m.List(complaints.Filter{}, "not-a-cursor", 2); err == nil {
		t.Fatal("a foreign cursor was accepted")
	}
}

func ids(cs []complaints.Complaint) (out []string) {
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// TestErasureClearsDescriptionsAndStepNotes: personal data goes with the
// customer — the description and the recovery steps' notes.
func TestErasureClearsDescriptionsAndStepNotes(t *testing.T) {
	f := newFeeder()
	f.apply("c1", t0, &customer.ComplaintFiled{ComplaintID: "k1", Channel: customer.ChannelPhone, Category: "delivery", Severity: customer.SeverityGeneral, Description: "Zhou's parcel", Owner: "amy", ReplyDueAt: t0.Add(time.Hour)})
	f.apply("c1", t0, &customer.ComplaintAcknowledged{ComplaintID: "k1", By: "amy"})
	f.apply("c1", t0, &customer.RecoveryStepTaken{ComplaintID: "k1", Step: customer.StepApology, By: "amy", Note: "apologised to Zhou"})
	f.apply("c2", t0, &customer.ComplaintFiled{ComplaintID: "k2", Channel: customer.ChannelPhone, Category: "delivery", Severity: customer.SeverityGeneral, Description: "Wang's parcel", Owner: "amy", ReplyDueAt: t0.Add(time.Hour)})
	f.apply("c2", t0, &customer.RecoveryStepTaken{ComplaintID: "k2", Step: customer.StepApology, By: "amy", Note: "apologised to Wang"})
	f.apply("c1", t0, &customer.CustomerErased{By: "admin", Reason: "request"})
	c, _ := f.m.Get("k1")
	if c.Description != "" || len(c.RecoverySteps) != 1 || c.RecoverySteps[0].Note != "" {
		t.Errorf("k1 after erasure: description %q, steps %+v; want no description and the step without its note", c.Description, c.RecoverySteps)
	}
	if k, _ := f.m.Get("k2"); k.Description != "Wang's parcel" || k.RecoverySteps[0].Note != "apologised to Wang" {
		t.Errorf("another customer's complaint after erasure: %+v", k)
	}
}
