package customer_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

const custID = "cust-1"

// now is the clock of every table test: Tue 2025-03-04 10:00 +08:00.
var (
	cst = time.FixedZone("CST", 8*3600)
	now = time.Date(2025, 3, 4, 10, 0, 0, 0, cst)
)

// halfDay is a stand-in for the working calendar: filed + 4h30m.
var halfDay = customer.ReplyClockFunc(func(filed time.Time) (time.Time, bool) {
	return filed.Add(4*time.Hour + 30*time.Minute), false
})

// step is one command on the aggregate.
type step func(c *customer.Customer) error

// tc is a given/when/then case: given commands that must all succeed, when
// one command, then either the events it records or the error it returns
// (and then nothing is recorded).
type tc struct {
	name    string
	given   []step
	when    step
	then    []customer.Event // events recorded by when, in order
	wantErr error            // a sentinel; nil means success
	check   func(t *testing.T, c *customer.Customer)
}

func run(t *testing.T, cases []tc) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c, err := customer.New(custID)
			if err != nil {
				t.Fatal(err)
			}
			for i, g := range tt.given {
				if err := g(c); err != nil {
					t.Fatalf("given[%d]: %v", i, err)
				}
			}
			before := len(c.Changes())
			err = tt.when(c)
			got := c.Changes()[before:]
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				assertTyped(t, err)
				if len(got) != 0 {
					t.Fatalf("refused command recorded %d events: %+v", len(got), got)
				}
			} else {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				var evs []customer.Event
				for _, ch := range got {
					evs = append(evs, ch.Event)
				}
				if !reflect.DeepEqual(evs, tt.then) {
					t.Fatalf("events:\n got %#v\nwant %#v", evs, tt.then)
				}
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// assertTyped checks that err is exactly one of the typed errors and that
// the type agrees with the sentinel it matches.
func assertTyped(t *testing.T, err error) {
	t.Helper()
	var (
		ii *aggregate.InvalidInputError
		nf *aggregate.NotFoundError
		pe *aggregate.PreconditionError
		me *customer.MergedError
		we *customer.UnmergeWindowError
	)
	n := 0
	if errors.As(err, &we) {
		n++
		if !errors.Is(err, aggregate.ErrFailedPrecondition) || we.ClosedAt.IsZero() {
			t.Errorf("UnmergeWindowError %v: no closing time or wrong sentinel", err)
		}
	}
	if errors.As(err, &me) {
		n++
		if !errors.Is(err, aggregate.ErrFailedPrecondition) || me.Into == "" {
			t.Errorf("MergedError %v: no survivor or wrong sentinel", err)
		}
	}
	if errors.As(err, &ii) {
		n++
		if !errors.Is(err, aggregate.ErrInvalidInput) || ii.Field == "" {
			t.Errorf("InvalidInputError %v: no field or wrong sentinel", err)
		}
	}
	if errors.As(err, &nf) {
		n++
		if !errors.Is(err, aggregate.ErrNotFound) || nf.Kind == "" {
			t.Errorf("NotFoundError %v: no kind or wrong sentinel", err)
		}
	}
	if errors.As(err, &pe) {
		n++
		if !errors.Is(err, aggregate.ErrFailedPrecondition) || pe.Reason == "" {
			t.Errorf("PreconditionError %v: no reason or wrong sentinel", err)
		}
	}
	if n != 1 {
		t.Errorf("error %v (%T) matches %d typed errors, want 1", err, err, n)
	}
}

// --- command builders ---

func register(mod ...func(*customer.Register)) step {
	return func(c *customer.Customer) error {
		cmd := registerCmd()
		for _, m := range mod {
			m(&cmd)
		}
		return c.Register(cmd, now)
	}
}

func registerCmd() customer.Register {
	return customer.Register{
		Name: "王小明", Phone: "+86 138-0000-0000", Email: "xm@example.com",
		Tier: customer.TierGold, AccountManager: "am-li", Timezone: "Asia/Shanghai",
		Locale: "zh-CN", Birthday: "1990-05-01", MarketingConsent: true,
		OccurredAt: now.Add(-100 * 24 * time.Hour),
	}
}

// hoursAgo is a backfilled business time, h hours before now.
func hoursAgo(h int) time.Time { return now.Add(-time.Duration(h) * time.Hour) }

func file(id string, sev customer.Severity) step {
	return func(c *customer.Customer) error {
		return c.FileComplaint(customer.FileComplaint{
			ComplaintID: id, Channel: customer.ChannelPhone, Category: "delivery",
			Severity: sev, Description: "parcel late", Owner: "agent-zhang", OccurredAt: hoursAgo(10),
		}, halfDay, now)
	}
}

func ack(id string) step {
	return func(c *customer.Customer) error {
		return c.AcknowledgeComplaint(customer.AcknowledgeComplaint{ComplaintID: id, By: "agent-zhang", OccurredAt: hoursAgo(9)}, now)
	}
}

func escalate(id string) step {
	return func(c *customer.Customer) error {
		return c.EscalateComplaint(customer.EscalateComplaint{
			ComplaintID: id, By: "agent-zhang", To: "mgr-wang", Reason: "major",
			PromisedReplyBy: hoursAgo(8).Add(24 * time.Hour), OccurredAt: hoursAgo(8),
		}, now)
	}
}

func propose(id string, opts ...string) step {
	return func(c *customer.Customer) error {
		return c.ProposeResolution(customer.ProposeResolution{ComplaintID: id, By: "agent-zhang", Options: opts, OccurredAt: hoursAgo(7)}, now)
	}
}

func accept(id string, i int) step {
	return func(c *customer.Customer) error {
		return c.AcceptResolution(customer.AcceptResolution{ComplaintID: id, OptionIndex: i, OccurredAt: hoursAgo(6)}, now)
	}
}

func incident(id string) step {
	return func(c *customer.Customer) error {
		return c.FileIncidentReport(customer.FileIncidentReport{
			ComplaintID: id, By: "mgr-wang", Impact: "one order", Handling: "reshipped",
			Cause: "warehouse", CorrectiveActions: "audit", OccurredAt: hoursAgo(5),
		}, now)
	}
}

func resolve(id string, o customer.Outcome) step {
	return func(c *customer.Customer) error {
		return c.ResolveComplaint(customer.ResolveComplaint{ComplaintID: id, By: "agent-zhang", Outcome: o, OccurredAt: hoursAgo(4)}, now)
	}
}

func decline(id string) step {
	return func(c *customer.Customer) error {
		return c.DeclineComplaint(customer.DeclineComplaint{ComplaintID: id, By: "agent-zhang", Reason: "outside contract", OccurredAt: hoursAgo(4)}, now)
	}
}

func reopen(id string) step {
	return func(c *customer.Customer) error {
		return c.ReopenComplaint(customer.ReopenComplaint{ComplaintID: id, By: "agent-zhang", OccurredAt: hoursAgo(3)}, now)
	}
}

func recovery(id string, s customer.RecoveryStep, comp *customer.Money) step {
	return func(c *customer.Customer) error {
		return c.TakeRecoveryStep(customer.TakeRecoveryStep{ComplaintID: id, Step: s, By: "agent-zhang", Compensation: comp, OccurredAt: hoursAgo(5)}, now)
	}
}

func contact(id string, d customer.Direction, at time.Time) step {
	return func(c *customer.Customer) error {
		return c.LogContact(customer.LogContact{Channel: customer.ChannelPhone, Direction: d, Agent: "agent-zhang", ComplaintID: id, OccurredAt: at}, now)
	}
}

func schedule(id, complaintID, owner string) step {
	return func(c *customer.Customer) error {
		return c.ScheduleFollowUp(customer.ScheduleFollowUp{
			FollowUpID: id, ComplaintID: complaintID, Reason: customer.ReasonRecovery,
			Owner: owner, DueAt: now.Add(72 * time.Hour), OccurredAt: hoursAgo(1),
		}, now)
	}
}

func erase() step {
	return func(c *customer.Customer) error {
		return c.Erase(customer.Erase{By: "admin", Reason: "customer request"}, now)
	}
}

func markLost() step {
	return func(c *customer.Customer) error {
		return c.MarkLost(customer.MarkLost{Reason: "moved away", By: "am-li"}, now)
	}
}

func ptr[T any](v T) *T { return &v }

func cny(n int64) *customer.Money { return &customer.Money{AmountMinor: n, Currency: "CNY"} }
