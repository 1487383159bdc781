package customer_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

// history turns recorded changes into a stored history (revisions 0…n-1).
func history(changes []customer.Change) []customer.Historic {
	h := make([]customer.Historic, len(changes))
	for i, ch := range changes {
		h[i] = customer.Historic{Event: ch.Event, Revision: uint64(i), OccurredAt: ch.OccurredAt}
	}
	return h
}

// recoveryPath is the full service-recovery story of one MAJOR complaint
// plus a bit of everything else.
func recoveryPath() []step {
	return []step{
		register(),
		func(c *customer.Customer) error {
			return c.RecordPurchase(customer.RecordPurchase{OrderID: "o-1", Amount: customer.Money{AmountMinor: 9900, Currency: "CNY"}, OccurredAt: hoursAgo(50)}, now)
		},
		file("c1", customer.SeverityMajor),
		recovery("c1", customer.StepApology, nil),
		ack("c1"),
		escalate("c1"),
		contact("c1", customer.Inbound, hoursAgo(7)),
		contact("c1", customer.Outbound, hoursAgo(6)),
		propose("c1", "refund", "replace"),
		accept("c1", 1),
		recovery("c1", customer.StepSymbolicAtonement, cny(2000)),
		incident("c1"),
		resolve("c1", customer.Satisfied),
		schedule("f1", "c1", ""),
		func(c *customer.Customer) error {
			return c.CompleteFollowUp(customer.CompleteFollowUp{FollowUpID: "f1", By: "agent-zhang", Outcome: customer.FollowUpSatisfied}, now)
		},
		func(c *customer.Customer) error {
			return c.RecordSatisfaction(customer.RecordSatisfaction{Score: 5, ComplaintID: "c1"}, now)
		},
		func(c *customer.Customer) error {
			return c.RecordGreetingSent(customer.RecordGreetingSent{CampaignID: "spring-2025", Occasion: "CN:spring_festival", Channel: customer.ChannelSMS}, now)
		},
		func(c *customer.Customer) error {
			return c.UpdateProfile(customer.UpdateProfile{Tier: ptr(customer.TierVIP)}, now)
		},
		markLost(),
		func(c *customer.Customer) error { return c.WinBack(customer.WinBack{Reason: "back"}, now) },
		file("c2", customer.SeverityGeneral),
		decline("c2"),
	}
}

func TestRehydrateReproducesState(t *testing.T) {
	live, _ := customer.New(custID)
	for i, s := range recoveryPath() {
		if err := s(live); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	changes := live.Changes()
	if rev, exists := live.Version(); exists || rev != 0 {
		t.Errorf("Version of a new aggregate = %d, %v", rev, exists)
	}
	rebuilt, err := customer.Rehydrate(custID, history(changes))
	if err != nil {
		t.Fatal(err)
	}
	if d := customer.StateDiff(live, rebuilt); d != "" {
		t.Fatalf("rebuilt state differs:\n%s", d)
	}
	if rev, exists := rebuilt.Version(); !exists || rev != uint64(len(changes)-1) {
		t.Errorf("Version = %d, %v; want %d, true", rev, exists, len(changes)-1)
	}
	if len(rebuilt.Changes()) != 0 {
		t.Errorf("rebuilt aggregate has %d pending changes", len(rebuilt.Changes()))
	}
	if !reflect.DeepEqual(live.Complaints(), rebuilt.Complaints()) || !reflect.DeepEqual(live.FollowUps(), rebuilt.FollowUps()) {
		t.Error("complaint or follow-up views differ")
	}
	cp, _ := rebuilt.Complaint("c1")
	if cp.Status != customer.ComplaintStatusResolved || cp.Outcome != customer.Satisfied || cp.RepeatContacts != 1 ||
		cp.AcceptedOption != 1 || len(cp.RecoverySteps) != 2 || !cp.IncidentReportFiled ||
		!reflect.DeepEqual(cp.Compensation, []customer.Money{{AmountMinor: 2000, Currency: "CNY"}}) {
		t.Errorf("complaint c1 = %+v", cp)
	}
	// A rebuilt aggregate decides like the live one.
	err = rebuilt.ResolveComplaint(customer.ResolveComplaint{ComplaintID: "c1", By: "x", Outcome: customer.Satisfied}, now)
	if !errors.Is(err, aggregate.ErrFailedPrecondition) {
		t.Errorf("resolve a resolved complaint after rebuild: %v", err)
	}
	if err := rebuilt.ReopenComplaint(customer.ReopenComplaint{ComplaintID: "c1", By: "x"}, now); err != nil {
		t.Errorf("reopen after rebuild: %v", err)
	}
}

func TestRehydrateDoesNotRevalidate(t *testing.T) {
	at := now.Add(-time.Hour)
	h := []customer.Historic{
		// Stored under older, looser rules: no timezone, no locale, a name
		// replaced by an erasure marker.
		{Event: &customer.CustomerRegistered{CustomerID: custID, Name: "[erased]"}, Revision: 0, OccurredAt: at},
		// A step for a complaint that was never filed is ignored, not fatal.
		{Event: &customer.ComplaintResolved{ComplaintID: "ghost", Outcome: customer.Satisfied}, Revision: 1, OccurredAt: at},
		// A greeting without consent, and a follow-up completed twice.
		{Event: &customer.GreetingSent{CampaignID: "g"}, Revision: 2, OccurredAt: at},
		{Event: &customer.FollowUpCompleted{FollowUpID: "nope"}, Revision: 3, OccurredAt: at},
		{Event: &customer.CustomerErased{}, Revision: 4, OccurredAt: at},
		// An event after erasure (a newer rule forbids it; history keeps it).
		{Event: &customer.ConductFlagged{}, Revision: 5, OccurredAt: at},
	}
	c, err := customer.Rehydrate(custID, h)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Erased() || !c.ConductFlagged() || c.Name() != "" {
		t.Errorf("state: erased=%v flagged=%v name=%q", c.Erased(), c.ConductFlagged(), c.Name())
	}
	if rev, ok := c.Version(); rev != 5 || !ok {
		t.Errorf("Version = %d, %v", rev, ok)
	}
}

func TestRehydrateRefusesCorruptHistory(t *testing.T) {
	reg := &customer.CustomerRegistered{CustomerID: custID, Name: "x"}
	cases := map[string][]customer.Historic{
		"gap":                {{Event: reg, Revision: 0}, {Event: &customer.ConductFlagged{}, Revision: 2}},
		"not from 0":         {{Event: reg, Revision: 1}},
		"nil event":          {{Event: reg, Revision: 0}, {Event: nil, Revision: 1}},
		"first not register": {{Event: &customer.ConductFlagged{}, Revision: 0}},
	}
	for name, h := range cases {
		if _, err := customer.Rehydrate(custID, h); !errors.Is(err, aggregate.ErrCorruptHistory) {
			t.Errorf("%s: err = %v, want ErrCorruptHistory", name, err)
		}
	}
	if _, err := customer.Rehydrate("bad id", nil); !errors.Is(err, aggregate.ErrInvalidInput) {
		t.Errorf("bad id: err = %v", err)
	}
	c, err := customer.Rehydrate(custID, nil)
	if err != nil || c.Registered() {
		t.Fatalf("empty history: %v, registered=%v", err, c.Registered())
	}
	if _, exists := c.Version(); exists {
		t.Error("empty history: stream exists")
	}
}
