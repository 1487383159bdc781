package customer_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

// A complaint taken from filing to resolution; a step out of order is
// refused with the steps allowed instead, and records nothing.
func ExampleNew() {
	now := time.Date(2025, 3, 4, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	sla := customer.ReplyClockFunc(func(filed time.Time) (time.Time, bool) {
		return filed.Add(4*time.Hour + 30*time.Minute), false
	})
	c, _ := customer.New("cust-42")
	_ = c.Register(customer.Register{Name: "李雷", Tier: customer.TierStandard, Timezone: "Asia/Shanghai", Locale: "zh-CN"}, now)
	_ = c.FileComplaint(customer.FileComplaint{
		ComplaintID: "c-1", Channel: customer.ChannelPhone, Category: "billing",
		Severity: customer.SeverityGeneral, Description: "charged twice", Owner: "agent-han",
	}, sla, now)

	err := c.ResolveComplaint(customer.ResolveComplaint{ComplaintID: "c-1", By: "agent-han", Outcome: customer.Satisfied}, now)
	fmt.Println(errors.Is(err, aggregate.ErrFailedPrecondition), err)

	_ = c.AcknowledgeComplaint(customer.AcknowledgeComplaint{ComplaintID: "c-1", By: "agent-han"}, now)
	_ = c.ResolveComplaint(customer.ResolveComplaint{ComplaintID: "c-1", By: "agent-han", Outcome: customer.Satisfied}, now)
	for _, ch := range c.Changes() {
		fmt.Println(ch.Event.EventType())
	}
	cp, _ := c.Complaint("c-1")
	fmt.Println(cp.Status, cp.ReplyDueAt.Format(time.Kitchen))
	// Output:
	// true cannot resolve complaint c-1: the complaint is not acknowledged yet (allowed now: acknowledge, decline, take recovery step, transfer)
	// CustomerRegistered
	// ComplaintFiled
	// ComplaintAcknowledged
	// ComplaintResolved
	// RESOLVED 2:30PM
}
