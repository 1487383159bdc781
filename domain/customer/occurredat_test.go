package customer_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

// timedVerb is one verb with its business time as a parameter, and the
// history it needs to be accepted at a valid time.
type timedVerb struct {
	given []step
	do    func(c *customer.Customer, at time.Time) error
}

// timedVerbs lists every verb that takes an OccurredAt, except Register.
func timedVerbs() map[string]timedVerb {
	reg := []step{register()}
	open := []step{register(), file("k1", customer.SeverityGeneral)}
	acked := append(open[:len(open):len(open)], ack("k1"))
	escalated := append(acked[:len(acked):len(acked)], escalate("k1"))
	proposed := append(acked[:len(acked):len(acked)], propose("k1", "refund", "reship"))
	resolved := append(acked[:len(acked):len(acked)], resolve("k1", customer.Satisfied))
	followUp := append(open[:len(open):len(open)], schedule("f1", "k1", ""))
	campaign := "camp-1"
	return map[string]timedVerb{
		"UpdateProfile": {reg, func(c *customer.Customer, at time.Time) error {
			return c.UpdateProfile(customer.UpdateProfile{Segment: ptr("retail"), OccurredAt: at}, now)
		}},
		"SetMarketingConsent": {reg, func(c *customer.Customer, at time.Time) error {
			return c.SetMarketingConsent(customer.SetMarketingConsent{Consent: false, Source: "call", OccurredAt: at}, now)
		}},
		"LogContact": {reg, func(c *customer.Customer, at time.Time) error {
			return c.LogContact(customer.LogContact{Channel: customer.ChannelPhone, Direction: customer.Inbound, Agent: "agent-zhang", OccurredAt: at}, now)
		}},
		"RecordPurchase": {reg, func(c *customer.Customer, at time.Time) error {
			return c.RecordPurchase(customer.RecordPurchase{OrderID: "o-1", Amount: *cny(100), OccurredAt: at}, now)
		}},
		"RecordReferral": {reg, func(c *customer.Customer, at time.Time) error {
			return c.RecordReferral(customer.RecordReferral{ReferredCustomerID: "friend-1", OccurredAt: at}, now)
		}},
		"VoiceGrumble": {reg, func(c *customer.Customer, at time.Time) error {
			return c.VoiceGrumble(customer.VoiceGrumble{Channel: customer.ChannelChat, Summary: "slow", OccurredAt: at}, now)
		}},
		"RecordSatisfaction": {reg, func(c *customer.Customer, at time.Time) error {
			return c.RecordSatisfaction(customer.RecordSatisfaction{Score: 4, OccurredAt: at}, now)
		}},
		"RecordGreetingSent": {reg, func(c *customer.Customer, at time.Time) error {
			return c.RecordGreetingSent(customer.RecordGreetingSent{CampaignID: campaign, Occasion: "CN:spring_festival", Channel: customer.ChannelSMS, OccurredAt: at}, now)
		}},
		"RecordGreetingFailed": {reg, func(c *customer.Customer, at time.Time) error {
			return c.RecordGreetingFailed(customer.RecordGreetingFailed{CampaignID: campaign, Occasion: "CN:spring_festival", Channel: customer.ChannelSMS, Reason: "gateway down", OccurredAt: at}, now)
		}},
		"RecordGreetingSkipped": {reg, func(c *customer.Customer, at time.Time) error {
			return c.RecordGreetingSkipped(customer.RecordGreetingSkipped{CampaignID: campaign, Occasion: "CN:spring_festival", Reason: "MISSED", OccurredAt: at}, now)
		}},
		"MarkLost": {reg, func(c *customer.Customer, at time.Time) error {
			return c.MarkLost(customer.MarkLost{Reason: "moved", By: "am-li", OccurredAt: at}, now)
		}},
		"WinBack": {append(reg[:1:1], markLostAt(hoursAgo(20))), func(c *customer.Customer, at time.Time) error {
			return c.WinBack(customer.WinBack{Reason: "came back", OccurredAt: at}, now)
		}},
		"FlagConduct": {reg, func(c *customer.Customer, at time.Time) error {
			return c.FlagConduct(customer.FlagConduct{Severity: customer.SeverityGeneral, Note: "shouted", By: "agent-zhang", OccurredAt: at}, now)
		}},
		"Erase": {reg, func(c *customer.Customer, at time.Time) error {
			return c.Erase(customer.Erase{By: "admin", Reason: "asked", OccurredAt: at}, now)
		}},
		"FileComplaint": {reg, func(c *customer.Customer, at time.Time) error {
			return c.FileComplaint(customer.FileComplaint{ComplaintID: "k9", Channel: customer.ChannelPhone, Category: "delivery",
				Severity: customer.SeverityGeneral, Description: "late", Owner: "agent-zhang", OccurredAt: at}, halfDay, now)
		}},
		"AcknowledgeComplaint": {open, func(c *customer.Customer, at time.Time) error {
			return c.AcknowledgeComplaint(customer.AcknowledgeComplaint{ComplaintID: "k1", By: "agent-zhang", OccurredAt: at}, now)
		}},
		"EscalateComplaint": {acked, func(c *customer.Customer, at time.Time) error {
			return c.EscalateComplaint(customer.EscalateComplaint{ComplaintID: "k1", By: "agent-zhang", To: "mgr-wang", Reason: "r",
				PromisedReplyBy: at.Add(time.Hour), OccurredAt: at}, now)
		}},
		"DeclineComplaint": {open, func(c *customer.Customer, at time.Time) error {
			return c.DeclineComplaint(customer.DeclineComplaint{ComplaintID: "k1", By: "agent-zhang", Reason: "outside contract", OccurredAt: at}, now)
		}},
		"TransferComplaint": {open, func(c *customer.Customer, at time.Time) error {
			return c.TransferComplaint(customer.TransferComplaint{ComplaintID: "k1", By: "agent-zhang", To: "agent-li", Reason: "shift", OccurredAt: at}, now)
		}},
		"ProposeResolution": {acked, func(c *customer.Customer, at time.Time) error {
			return c.ProposeResolution(customer.ProposeResolution{ComplaintID: "k1", By: "agent-zhang", Options: []string{"refund"}, OccurredAt: at}, now)
		}},
		"AcceptResolution": {proposed, func(c *customer.Customer, at time.Time) error {
			return c.AcceptResolution(customer.AcceptResolution{ComplaintID: "k1", OptionIndex: 1, OccurredAt: at}, now)
		}},
		"TakeRecoveryStep": {open, func(c *customer.Customer, at time.Time) error {
			return c.TakeRecoveryStep(customer.TakeRecoveryStep{ComplaintID: "k1", Step: customer.StepApology, By: "agent-zhang", OccurredAt: at}, now)
		}},
		"ResolveComplaint": {acked, func(c *customer.Customer, at time.Time) error {
			return c.ResolveComplaint(customer.ResolveComplaint{ComplaintID: "k1", By: "agent-zhang", Outcome: customer.Satisfied, OccurredAt: at}, now)
		}},
		"ReopenComplaint": {resolved, func(c *customer.Customer, at time.Time) error {
			return c.ReopenComplaint(customer.ReopenComplaint{ComplaintID: "k1", By: "agent-zhang", OccurredAt: at}, now)
		}},
		"FileIncidentReport": {escalated, func(c *customer.Customer, at time.Time) error {
			return c.FileIncidentReport(customer.FileIncidentReport{ComplaintID: "k1", By: "mgr-wang", Impact: "i", Handling: "h",
				Cause: "c", CorrectiveActions: "a", OccurredAt: at}, now)
		}},
		"ScheduleFollowUp": {reg, func(c *customer.Customer, at time.Time) error {
			return c.ScheduleFollowUp(customer.ScheduleFollowUp{FollowUpID: "f9", Reason: customer.ReasonRoutine, DueAt: now.Add(time.Hour), OccurredAt: at}, now)
		}},
		"CompleteFollowUp": {followUp, func(c *customer.Customer, at time.Time) error {
			return c.CompleteFollowUp(customer.CompleteFollowUp{FollowUpID: "f1", By: "agent-zhang", Outcome: customer.FollowUpSatisfied, OccurredAt: at}, now)
		}},
		"CancelFollowUp": {followUp, func(c *customer.Customer, at time.Time) error {
			return c.CancelFollowUp(customer.CancelFollowUp{FollowUpID: "f1", By: "agent-zhang", Reason: "duplicate", OccurredAt: at}, now)
		}},
	}
}

func markLostAt(at time.Time) step {
	return func(c *customer.Customer) error {
		return c.MarkLost(customer.MarkLost{Reason: "moved away", By: "am-li", OccurredAt: at}, now)
	}
}

// given builds a customer from the steps, which must all succeed.
func given(t *testing.T, steps []step) *customer.Customer {
	t.Helper()
	c, err := customer.New(custID)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		if err := s(c); err != nil {
			t.Fatalf("given[%d]: %v", i, err)
		}
	}
	return c
}

// refusedAt checks that err is an invalid occurredAt mentioning what, and
// that nothing was recorded since before.
func refusedAt(t *testing.T, c *customer.Customer, before int, err error, what string) {
	t.Helper()
	var ie *aggregate.InvalidInputError
	switch {
	case err == nil:
		t.Errorf("accepted; want an invalid occurredAt (%s)", what)
	case !errors.Is(err, aggregate.ErrInvalidInput) || !errors.As(err, &ie) || ie.Field != "occurredAt":
		t.Errorf("err = %v (%T), want an invalid occurredAt", err, err)
	case !strings.Contains(err.Error(), what):
		t.Errorf("err = %q does not say %q", err, what)
	}
	if n := len(c.Changes()) - before; n != 0 {
		t.Errorf("a refused command recorded %d event(s)", n)
	}
}

// Nothing can happen to a customer before they were registered: every verb
// dated before the registration is refused as invalid input and records
// nothing, and the same verb dated after it is accepted.
func TestNoVerbBeforeRegistration(t *testing.T) {
	registeredAt := registerCmd().OccurredAt
	verbs := timedVerbs()
	for name, v := range verbs {
		t.Run(name, func(t *testing.T) {
			c := given(t, v.given)
			before := len(c.Changes())
			refusedAt(t, c, before, v.do(c, registeredAt.Add(-time.Second)), "before the customer was registered")

			c = given(t, v.given)
			if err := v.do(c, now.Add(-time.Minute)); err != nil {
				t.Fatalf("dated after the registration: %v", err)
			}
		})
	}
	t.Run("at the registration instant", func(t *testing.T) {
		c := given(t, []step{register()})
		if err := verbs["LogContact"].do(c, registeredAt); err != nil {
			t.Fatalf("a contact at the registration instant: %v", err)
		}
	})
	// Every verb with a business time is in the table: a new verb cannot
	// skip the rule unnoticed.
	typ := reflect.TypeFor[*customer.Customer]()
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		if m.Type.NumIn() < 2 || m.Type.In(1).Kind() != reflect.Struct {
			continue
		}
		if _, ok := m.Type.In(1).FieldByName("OccurredAt"); !ok || m.Name == "Register" {
			continue
		}
		if _, ok := verbs[m.Name]; !ok {
			t.Errorf("verb %s takes an OccurredAt but is not checked here", m.Name)
		}
	}
}

// A step on a complaint, a survey about it or a follow-up booked for it
// cannot be dated before the complaint was filed; a follow-up cannot be
// closed before it was scheduled.
func TestNothingBeforeItsComplaintOrFollowUp(t *testing.T) {
	filed := hoursAgo(10) // the helpers' filing time
	open := []step{register(), file("k1", customer.SeverityGeneral)}
	cases := []struct {
		name  string
		given []step
		do    func(c *customer.Customer, at time.Time) error
		first time.Time // the earliest accepted time
		what  string
	}{
		{"acknowledge", open, timedVerbs()["AcknowledgeComplaint"].do, filed, "before complaint k1 was filed"},
		{"survey about the complaint", open, func(c *customer.Customer, at time.Time) error {
			return c.RecordSatisfaction(customer.RecordSatisfaction{Score: 2, ComplaintID: "k1", OccurredAt: at}, now)
		}, filed, "before complaint k1 was filed"},
		{"follow-up for the complaint", open, func(c *customer.Customer, at time.Time) error {
			return c.ScheduleFollowUp(customer.ScheduleFollowUp{FollowUpID: "f9", ComplaintID: "k1", Reason: customer.ReasonRecovery, DueAt: now, OccurredAt: at}, now)
		}, filed, "before complaint k1 was filed"},
		{"complete a follow-up", append(open[:2:2], schedule("f1", "k1", "")), timedVerbs()["CompleteFollowUp"].do, hoursAgo(1), "before follow-up f1 was scheduled"},
		{"cancel a follow-up", append(open[:2:2], schedule("f1", "k1", "")), timedVerbs()["CancelFollowUp"].do, hoursAgo(1), "before follow-up f1 was scheduled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := given(t, tc.given)
			before := len(c.Changes())
			refusedAt(t, c, before, tc.do(c, tc.first.Add(-time.Second)), tc.what)
			c = given(t, tc.given)
			if err := tc.do(c, tc.first); err != nil {
				t.Fatalf("dated at %s: %v", tc.first, err)
			}
		})
	}
}
