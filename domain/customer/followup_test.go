package customer_test

import (
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

func TestScheduleFollowUp(t *testing.T) {
	due := now.Add(72 * time.Hour)
	ev := func(id, complaintID, owner string) *customer.FollowUpScheduled {
		return &customer.FollowUpScheduled{FollowUpID: id, ComplaintID: complaintID, Reason: customer.ReasonRecovery, Owner: owner, DueAt: due}
	}
	transfer := func(c *customer.Customer) error {
		return c.TransferComplaint(customer.TransferComplaint{ComplaintID: "c1", By: "m", To: "agent-li", Reason: "r"}, now)
	}
	noAM := register(func(r *customer.Register) { r.AccountManager = "" })
	run(t, []tc{
		{name: "explicit owner", given: []step{register()}, when: schedule("f1", "", "agent-wu"), then: []customer.Event{ev("f1", "", "agent-wu")},
			check: func(t *testing.T, c *customer.Customer) {
				f, ok := c.FollowUp("f1")
				if !ok || f.Status != customer.FollowUpStatusDue || f.Owner != "agent-wu" || !f.DueAt.Equal(due) || !f.ScheduledAt.Equal(hoursAgo(1)) {
					t.Errorf("follow-up = %+v", f)
				}
			}},
		{name: "owner defaults to the complaint owner", given: []step{register(), file("c1", customer.SeverityGeneral)},
			when: schedule("f1", "c1", ""), then: []customer.Event{ev("f1", "c1", "agent-zhang")}},
		{name: "owner defaults to the current complaint owner after a transfer", given: []step{register(), file("c1", customer.SeverityGeneral), transfer},
			when: schedule("f1", "c1", ""), then: []customer.Event{ev("f1", "c1", "agent-li")}},
		{name: "owner defaults to the account manager", given: []step{register()},
			when: schedule("f1", "", ""), then: []customer.Event{ev("f1", "", "am-li")}},
		{name: "no owner at all", given: []step{noAM}, when: schedule("f1", "", ""), wantErr: aggregate.ErrFailedPrecondition},
		{name: "duplicate id", given: []step{register(), schedule("f1", "", "")}, when: schedule("f1", "", ""), wantErr: aggregate.ErrFailedPrecondition},
		{name: "unknown complaint", given: []step{register()}, when: schedule("f1", "c9", ""), wantErr: aggregate.ErrNotFound},
		{name: "bad id", given: []step{register()}, when: schedule("f 1", "", ""), wantErr: aggregate.ErrInvalidInput},
		{name: "blank owner", given: []step{register()}, when: schedule("f1", "", "  "), wantErr: aggregate.ErrInvalidInput},
		{name: "no due time", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error {
				return c.ScheduleFollowUp(customer.ScheduleFollowUp{FollowUpID: "f1", Reason: customer.ReasonRoutine}, now)
			}},
		{name: "no reason", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error {
				return c.ScheduleFollowUp(customer.ScheduleFollowUp{FollowUpID: "f1", DueAt: due}, now)
			}},
		{name: "unknown customer", when: schedule("f1", "", "x"), wantErr: aggregate.ErrNotFound},
	})
}

func TestCompleteAndCancelFollowUp(t *testing.T) {
	complete := func(id string, o customer.FollowUpOutcome) step {
		return func(c *customer.Customer) error {
			return c.CompleteFollowUp(customer.CompleteFollowUp{FollowUpID: id, By: "am-li", Outcome: o, Note: "fine"}, now)
		}
	}
	cancel := func(id string) step {
		return func(c *customer.Customer) error {
			return c.CancelFollowUp(customer.CancelFollowUp{FollowUpID: id, By: "am-li", Reason: "customer moved"}, now)
		}
	}
	given := []step{register(), schedule("f1", "", "")}
	run(t, []tc{
		{name: "complete", given: given, when: complete("f1", customer.FollowUpSatisfied),
			then: []customer.Event{&customer.FollowUpCompleted{FollowUpID: "f1", By: "am-li", Outcome: customer.FollowUpSatisfied, Note: "fine"}},
			check: func(t *testing.T, c *customer.Customer) {
				f, _ := c.FollowUp("f1")
				if f.Status != customer.FollowUpStatusDone || f.Outcome != customer.FollowUpSatisfied || !f.ClosedAt.Equal(now) || f.ClosedBy != "am-li" {
					t.Errorf("follow-up = %+v", f)
				}
			}},
		{name: "complete twice", given: append(given, complete("f1", customer.FollowUpNoAnswer)), when: complete("f1", customer.FollowUpSatisfied), wantErr: aggregate.ErrFailedPrecondition},
		{name: "complete cancelled", given: append(given, cancel("f1")), when: complete("f1", customer.FollowUpSatisfied), wantErr: aggregate.ErrFailedPrecondition},
		{name: "complete unknown", given: given, when: complete("f9", customer.FollowUpSatisfied), wantErr: aggregate.ErrNotFound},
		{name: "complete without outcome", given: given, when: complete("f1", customer.FollowUpOutcome{}), wantErr: aggregate.ErrInvalidInput},
		{name: "cancel", given: given, when: cancel("f1"),
			then: []customer.Event{&customer.FollowUpCancelled{FollowUpID: "f1", By: "am-li", Reason: "customer moved"}},
			check: func(t *testing.T, c *customer.Customer) {
				if f, _ := c.FollowUp("f1"); f.Status != customer.FollowUpStatusCancelled || f.CancelReason != "customer moved" {
					t.Errorf("follow-up = %+v", f)
				}
			}},
		{name: "cancel done", given: append(given, complete("f1", customer.FollowUpSatisfied)), when: cancel("f1"), wantErr: aggregate.ErrFailedPrecondition},
		{name: "cancel unknown", given: given, when: cancel("f9"), wantErr: aggregate.ErrNotFound},
		{name: "cancel without reason", given: given, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error {
				return c.CancelFollowUp(customer.CancelFollowUp{FollowUpID: "f1", By: "x"}, now)
			}},
	})
}
