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

const (
	general = "GENERAL"
	major   = "MAJOR"
)

func sev(s string) customer.Severity {
	v, err := customer.ParseSeverity(s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestFileComplaint(t *testing.T) {
	fc := func(mod func(*customer.FileComplaint)) step {
		return func(c *customer.Customer) error {
			cmd := customer.FileComplaint{
				ComplaintID: "c1", Channel: customer.ChannelPhone, Category: "delivery",
				Severity: customer.SeverityGeneral, Description: "parcel late", Owner: "agent-zhang",
			}
			mod(&cmd)
			return c.FileComplaint(cmd, halfDay, now)
		}
	}
	want := &customer.ComplaintFiled{
		ComplaintID: "c1", Channel: customer.ChannelPhone, Category: "delivery",
		Severity: customer.SeverityGeneral, Description: "parcel late", Owner: "agent-zhang",
		ReplyDueAt: now.Add(4*time.Hour + 30*time.Minute),
	}
	bad := func(name string, mod func(*customer.FileComplaint)) tc {
		return tc{name: name, given: []step{register()}, when: fc(mod), wantErr: aggregate.ErrInvalidInput}
	}
	run(t, []tc{
		{name: "file", given: []step{register()}, when: fc(func(*customer.FileComplaint) {}),
			then: []customer.Event{want},
			check: func(t *testing.T, c *customer.Customer) {
				cp, ok := c.Complaint("c1")
				if !ok || cp.Status != customer.ComplaintStatusOpen || cp.Owner != "agent-zhang" ||
					!cp.FiledAt.Equal(now) || !cp.ReplyDueAt.Equal(want.ReplyDueAt) || cp.AcceptedOption != -1 {
					t.Errorf("complaint = %+v", cp)
				}
				if !c.HasOpenComplaint() {
					t.Error("HasOpenComplaint = false")
				}
				if got := c.AllowedSteps("c1"); !reflect.DeepEqual(got, []string{"acknowledge", "decline", "take recovery step", "transfer"}) {
					t.Errorf("allowed = %v", got)
				}
			}},
		{name: "provisional reply due", given: []step{register()},
			when: func(c *customer.Customer) error {
				clock := customer.ReplyClockFunc(func(f time.Time) (time.Time, bool) { return f.Add(time.Hour), true })
				return c.FileComplaint(customer.FileComplaint{
					ComplaintID: "c1", Channel: customer.ChannelPhone, Category: "delivery",
					Severity: customer.SeverityGeneral, Description: "parcel late", Owner: "agent-zhang",
				}, clock, now)
			},
			then: []customer.Event{&customer.ComplaintFiled{
				ComplaintID: "c1", Channel: customer.ChannelPhone, Category: "delivery",
				Severity: customer.SeverityGeneral, Description: "parcel late", Owner: "agent-zhang",
				ReplyDueAt: now.Add(time.Hour), ReplyDueProvisional: true,
			}}},
		{name: "duplicate id", given: []step{register(), file("c1", customer.SeverityGeneral)},
			when: fc(func(*customer.FileComplaint) {}), wantErr: aggregate.ErrFailedPrecondition},
		{name: "unknown customer", when: fc(func(*customer.FileComplaint) {}), wantErr: aggregate.ErrNotFound},
		bad("bad id", func(f *customer.FileComplaint) { f.ComplaintID = "c 1" }),
		bad("empty id", func(f *customer.FileComplaint) { f.ComplaintID = "" }),
		bad("no channel", func(f *customer.FileComplaint) { f.Channel = customer.Channel{} }),
		bad("no category", func(f *customer.FileComplaint) { f.Category = "" }),
		bad("no severity", func(f *customer.FileComplaint) { f.Severity = customer.Severity{} }),
		bad("no description", func(f *customer.FileComplaint) { f.Description = "" }),
		bad("no owner", func(f *customer.FileComplaint) { f.Owner = "" }),
		bad("future", func(f *customer.FileComplaint) { f.OccurredAt = now.Add(time.Hour) }),
		{name: "reply due not after filing", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error {
				clock := customer.ReplyClockFunc(func(f time.Time) (time.Time, bool) { return f, false })
				return c.FileComplaint(customer.FileComplaint{ComplaintID: "c1", Channel: customer.ChannelPhone, Category: "x",
					Severity: customer.SeverityGeneral, Description: "x", Owner: "x"}, clock, now)
			}},
		{name: "nil clock", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error {
				return c.FileComplaint(customer.FileComplaint{ComplaintID: "c1", Channel: customer.ChannelPhone, Category: "x",
					Severity: customer.SeverityGeneral, Description: "x", Owner: "x"}, nil, now)
			}},
	})
}

// TestComplaintStateMachine walks every complaint step from every state
// that matters, for both severities.
func TestComplaintStateMachine(t *testing.T) {
	filed := func(s string) []step { return []step{register(), file("c1", sev(s))} }
	acked := func(s string) []step { return append(filed(s), ack("c1")) }
	escalated := func(s string) []step { return append(acked(s), escalate("c1")) }
	proposed := func(s string) []step {
		if s == major {
			return append(escalated(s), propose("c1", "refund", "replace"))
		}
		return append(acked(s), propose("c1", "refund", "replace"))
	}
	resolved := func(s string) []step {
		if s == major {
			return append(escalated(s), incident("c1"), resolve("c1", customer.Satisfied))
		}
		return append(acked(s), resolve("c1", customer.Satisfied))
	}
	declined := func(s string) []step { return append(filed(s), decline("c1")) }

	ok := func(name string, given []step, when step, then ...customer.Event) tc {
		return tc{name: name, given: given, when: when, then: then}
	}
	refused := func(name string, given []step, when step, allowed ...string) tc {
		return tc{name: name, given: given, when: when, wantErr: aggregate.ErrFailedPrecondition,
			check: func(t *testing.T, c *customer.Customer) {
				// The refusal names the allowed next steps.
				err := when(c)
				var pe *aggregate.PreconditionError
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v", err)
				}
				if !reflect.DeepEqual(pe.Allowed, allowed) {
					t.Errorf("allowed = %q, want %q", pe.Allowed, allowed)
				}
				if len(allowed) > 0 && !strings.Contains(err.Error(), "allowed now: "+strings.Join(allowed, ", ")) {
					t.Errorf("message %q does not list the allowed steps", err)
				}
			}}
	}
	ackEv := &customer.ComplaintAcknowledged{ComplaintID: "c1", By: "agent-zhang"}
	escEv := &customer.ComplaintEscalated{ComplaintID: "c1", By: "agent-zhang", To: "mgr-wang", Reason: "major", PromisedReplyBy: hoursAgo(8).Add(24 * time.Hour)}
	propEv := &customer.ResolutionProposed{ComplaintID: "c1", By: "agent-zhang", Options: []string{"refund", "replace"}}
	accEv := &customer.ResolutionAccepted{ComplaintID: "c1", OptionIndex: 1, Option: "replace"}
	resEv := &customer.ComplaintResolved{ComplaintID: "c1", By: "agent-zhang", Outcome: customer.Satisfied}
	decEv := &customer.ComplaintDeclined{ComplaintID: "c1", By: "agent-zhang", Reason: "outside contract"}
	reoEv := &customer.ComplaintReopened{ComplaintID: "c1", By: "agent-zhang"}
	incEv := &customer.IncidentReportFiled{ComplaintID: "c1", By: "mgr-wang", Impact: "one order", Handling: "reshipped", Cause: "warehouse", CorrectiveActions: "audit"}
	apoEv := &customer.RecoveryStepTaken{ComplaintID: "c1", Step: customer.StepApology, By: "agent-zhang"}

	openSteps := []string{"acknowledge", "decline", "take recovery step", "transfer"}
	closedSteps := []string{"reopen"}
	run(t, []tc{
		// OPEN
		ok("open: acknowledge", filed(general), ack("c1"), ackEv),
		ok("open: decline", filed(general), decline("c1"), decEv),
		ok("open: recovery step", filed(general), recovery("c1", customer.StepApology, nil), apoEv),
		refused("open: escalate", filed(general), escalate("c1"), openSteps...),
		refused("open: propose", filed(general), propose("c1", "a"), openSteps...),
		refused("open: accept", filed(general), accept("c1", 0), openSteps...),
		refused("open: resolve (no acknowledgement)", filed(general), resolve("c1", customer.Satisfied), openSteps...),
		refused("open: reopen", filed(general), reopen("c1"), openSteps...),
		refused("open: incident report", filed(major), incident("c1"), openSteps...),
		// ACKNOWLEDGED
		refused("acknowledged: acknowledge again", acked(general), ack("c1"),
			"escalate", "decline", "propose resolution", "resolve", "take recovery step", "transfer"),
		ok("acknowledged: escalate", acked(general), escalate("c1"), escEv),
		ok("acknowledged: propose (GENERAL)", acked(general), propose("c1", "refund", "replace"), propEv),
		ok("acknowledged: resolve directly (GENERAL)", acked(general), resolve("c1", customer.Satisfied), resEv),
		ok("acknowledged: decline", acked(general), decline("c1"), decEv),
		refused("acknowledged: propose (MAJOR, not escalated)", acked(major), propose("c1", "a"),
			"escalate", "decline", "take recovery step", "transfer"),
		refused("acknowledged: resolve (MAJOR, not escalated)", acked(major), resolve("c1", customer.Satisfied),
			"escalate", "decline", "take recovery step", "transfer"),
		// ESCALATED
		ok("escalated: escalate again", escalated(general), escalate("c1"), escEv),
		ok("escalated: incident report", escalated(major), incident("c1"), incEv),
		ok("escalated: propose (MAJOR)", escalated(major), propose("c1", "refund", "replace"), propEv),
		ok("escalated: resolve (GENERAL)", escalated(general), resolve("c1", customer.Satisfied), resEv),
		ok("escalated: decline", escalated(major), decline("c1"), decEv),
		refused("escalated: resolve (MAJOR, no incident report)", escalated(major), resolve("c1", customer.Satisfied),
			"escalate", "decline", "propose resolution", "take recovery step", "file incident report", "transfer"),
		ok("escalated: resolve (MAJOR, with incident report)", append(escalated(major), incident("c1")), resolve("c1", customer.Satisfied), resEv),
		// RESOLUTION_PROPOSED
		ok("proposed: accept", proposed(general), accept("c1", 1), accEv),
		ok("proposed: propose again", proposed(general), propose("c1", "refund", "replace"), propEv),
		ok("proposed: resolve without acceptance", proposed(general), resolve("c1", customer.Satisfied), resEv),
		ok("proposed: resolve after acceptance", append(proposed(general), accept("c1", 0)), resolve("c1", customer.Satisfied), resEv),
		ok("proposed: accept after proposing again", append(proposed(general), accept("c1", 0), propose("c1", "refund", "replace")), accept("c1", 1), accEv),
		refused("proposed: accept twice", append(proposed(general), accept("c1", 0)), accept("c1", 1),
			"propose resolution", "resolve", "take recovery step", "transfer"),
		refused("proposed: decline", proposed(general), decline("c1"),
			"propose resolution", "accept resolution", "resolve", "take recovery step", "transfer"),
		refused("proposed: resolve (MAJOR, no incident report)", proposed(major), resolve("c1", customer.Satisfied),
			"propose resolution", "accept resolution", "take recovery step", "file incident report", "transfer"),
		ok("proposed: resolve (MAJOR, incident report)", append(proposed(major), incident("c1")), resolve("c1", customer.Satisfied), resEv),
		// RESOLVED
		ok("resolved: reopen", resolved(general), reopen("c1"), reoEv),
		refused("resolved: resolve again", resolved(general), resolve("c1", customer.Unsatisfied), closedSteps...),
		refused("resolved: recovery step", resolved(major), recovery("c1", customer.StepApology, nil), closedSteps...),
		refused("resolved: decline", resolved(general), decline("c1"), closedSteps...),
		refused("resolved: incident report", resolved(major), incident("c1"), closedSteps...),
		refused("resolved: accept", resolved(general), accept("c1", 0), closedSteps...),
		// DECLINED
		ok("declined: reopen", declined(general), reopen("c1"), reoEv),
		refused("declined: acknowledge", declined(general), ack("c1"), closedSteps...),
		refused("declined: resolve", declined(general), resolve("c1", customer.Satisfied), closedSteps...),
		// after reopening: ACKNOWLEDGED again
		ok("reopened: resolve (GENERAL)", append(resolved(general), reopen("c1")), resolve("c1", customer.Unsatisfied),
			&customer.ComplaintResolved{ComplaintID: "c1", By: "agent-zhang", Outcome: customer.Unsatisfied}),
		ok("reopened: resolve (MAJOR keeps escalation and report)", append(resolved(major), reopen("c1")), resolve("c1", customer.Satisfied), resEv),
		refused("reopened: acknowledge", append(declined(general), reopen("c1")), ack("c1"),
			"escalate", "decline", "propose resolution", "resolve", "take recovery step", "transfer"),
	})
}

func TestComplaintStepsRefuseBadInput(t *testing.T) {
	given := []step{register(), file("c1", customer.SeverityGeneral), ack("c1")}
	esc := func(mod func(*customer.EscalateComplaint)) step {
		return func(c *customer.Customer) error {
			cmd := customer.EscalateComplaint{ComplaintID: "c1", By: "a", To: "m", Reason: "r",
				OccurredAt: hoursAgo(1), PromisedReplyBy: hoursAgo(1).Add(48 * time.Hour)}
			mod(&cmd)
			return c.EscalateComplaint(cmd, now)
		}
	}
	inv := func(name string, when step) tc {
		return tc{name: name, given: given, when: when, wantErr: aggregate.ErrInvalidInput}
	}
	nf := func(name string, when step) tc {
		return tc{name: name, given: given, when: when, wantErr: aggregate.ErrNotFound}
	}
	run(t, []tc{
		{name: "escalate: promise in 30 days exactly", given: given,
			when: esc(func(e *customer.EscalateComplaint) { e.PromisedReplyBy = e.OccurredAt.Add(30 * 24 * time.Hour) }),
			then: []customer.Event{&customer.ComplaintEscalated{ComplaintID: "c1", By: "a", To: "m", Reason: "r", PromisedReplyBy: hoursAgo(1).Add(30 * 24 * time.Hour)}}},
		inv("escalate: promise after 30 days", esc(func(e *customer.EscalateComplaint) {
			e.PromisedReplyBy = e.OccurredAt.Add(30*24*time.Hour + time.Second)
		})),
		inv("escalate: promise in the past", esc(func(e *customer.EscalateComplaint) { e.PromisedReplyBy = e.OccurredAt.Add(-time.Minute) })),
		inv("escalate: promise at the escalation", esc(func(e *customer.EscalateComplaint) { e.PromisedReplyBy = e.OccurredAt })),
		inv("escalate: no promise", esc(func(e *customer.EscalateComplaint) { e.PromisedReplyBy = time.Time{} })),
		inv("escalate: no target", esc(func(e *customer.EscalateComplaint) { e.To = "" })),
		inv("escalate: no reason", esc(func(e *customer.EscalateComplaint) { e.Reason = "" })),
		inv("escalate: future", esc(func(e *customer.EscalateComplaint) {
			e.OccurredAt = now.Add(time.Hour)
			e.PromisedReplyBy = now.Add(2 * time.Hour)
		})),
		inv("escalate: before the complaint was filed", esc(func(e *customer.EscalateComplaint) {
			e.OccurredAt = hoursAgo(11)
			e.PromisedReplyBy = hoursAgo(1)
		})),
		nf("escalate: unknown complaint", esc(func(e *customer.EscalateComplaint) { e.ComplaintID = "c9" })),
		nf("acknowledge: unknown complaint", ack("c9")),
		nf("resolve: unknown complaint", resolve("c9", customer.Satisfied)),
		nf("reopen: unknown complaint", reopen("c9")),
		nf("incident: unknown complaint", incident("c9")),
		nf("recovery: unknown complaint", recovery("c9", customer.StepApology, nil)),
		inv("acknowledge: no by", func(c *customer.Customer) error {
			return c.AcknowledgeComplaint(customer.AcknowledgeComplaint{ComplaintID: "c1"}, now)
		}),
		inv("decline: no reason", func(c *customer.Customer) error {
			return c.DeclineComplaint(customer.DeclineComplaint{ComplaintID: "c1", By: "a"}, now)
		}),
		inv("propose: no options", propose("c1")),
		inv("propose: empty option", propose("c1", "refund", " ")),
		inv("propose: repeated option", propose("c1", "refund", "refund")),
		inv("resolve: no outcome", resolve("c1", customer.Outcome{})),
		inv("incident: no cause", func(c *customer.Customer) error {
			return c.FileIncidentReport(customer.FileIncidentReport{ComplaintID: "c1", By: "m", Impact: "i", Handling: "h", CorrectiveActions: "c"}, now)
		}),
		{name: "accept: index out of range", given: append(given, propose("c1", "a", "b")), when: accept("c1", 2), wantErr: aggregate.ErrInvalidInput},
		{name: "accept: negative index", given: append(given, propose("c1", "a", "b")), when: accept("c1", -1), wantErr: aggregate.ErrInvalidInput},
	})
}

func TestRecoverySteps(t *testing.T) {
	given := []step{register(), file("c1", customer.SeverityGeneral)}
	run(t, []tc{
		{name: "apology before acknowledgement", given: given, when: recovery("c1", customer.StepApology, nil),
			then: []customer.Event{&customer.RecoveryStepTaken{ComplaintID: "c1", Step: customer.StepApology, By: "agent-zhang"}}},
		{name: "symbolic atonement with compensation", given: given, when: recovery("c1", customer.StepSymbolicAtonement, cny(5000)),
			then: []customer.Event{&customer.RecoveryStepTaken{ComplaintID: "c1", Step: customer.StepSymbolicAtonement, By: "agent-zhang", Compensation: cny(5000)}}},
		{name: "symbolic atonement without money", given: given, when: recovery("c1", customer.StepSymbolicAtonement, nil),
			then: []customer.Event{&customer.RecoveryStepTaken{ComplaintID: "c1", Step: customer.StepSymbolicAtonement, By: "agent-zhang"}}},
		{name: "compensation totals per currency",
			given: append(given,
				recovery("c1", customer.StepSymbolicAtonement, cny(5000)),
				recovery("c1", customer.StepSymbolicAtonement, &customer.Money{AmountMinor: 700, Currency: "USD"})),
			when: recovery("c1", customer.StepSymbolicAtonement, cny(1000)),
			then: []customer.Event{&customer.RecoveryStepTaken{ComplaintID: "c1", Step: customer.StepSymbolicAtonement, By: "agent-zhang", Compensation: cny(1000)}},
			check: func(t *testing.T, c *customer.Customer) {
				cp, _ := c.Complaint("c1")
				want := []customer.Money{{AmountMinor: 6000, Currency: "CNY"}, {AmountMinor: 700, Currency: "USD"}}
				if !reflect.DeepEqual(cp.Compensation, want) || len(cp.RecoverySteps) != 3 {
					t.Errorf("compensation = %v, steps = %d", cp.Compensation, len(cp.RecoverySteps))
				}
			}},
		{name: "compensation with another step", given: given, when: recovery("c1", customer.StepApology, cny(1)), wantErr: aggregate.ErrInvalidInput},
		{name: "negative compensation", given: given, when: recovery("c1", customer.StepSymbolicAtonement, cny(-1)), wantErr: aggregate.ErrInvalidInput},
		{name: "bad currency", given: given, when: recovery("c1", customer.StepSymbolicAtonement, &customer.Money{AmountMinor: 1, Currency: "元"}), wantErr: aggregate.ErrInvalidInput},
		{name: "no step", given: given, when: recovery("c1", customer.RecoveryStep{}, nil), wantErr: aggregate.ErrInvalidInput},
		{name: "declined complaint", given: append(given, decline("c1")), when: recovery("c1", customer.StepApology, nil), wantErr: aggregate.ErrFailedPrecondition},
	})
}

func TestTransferComplaint(t *testing.T) {
	transfer := func(to string) step {
		return func(c *customer.Customer) error {
			return c.TransferComplaint(customer.TransferComplaint{ComplaintID: "c1", By: "mgr-wang", To: to, Reason: "leave"}, now)
		}
	}
	given := []step{register(), file("c1", customer.SeverityGeneral)}
	run(t, []tc{
		{name: "transfer", given: given, when: transfer("agent-li"),
			then: []customer.Event{&customer.ComplaintTransferred{ComplaintID: "c1", By: "mgr-wang", From: "agent-zhang", To: "agent-li", Reason: "leave"}},
			check: func(t *testing.T, c *customer.Customer) {
				if cp, _ := c.Complaint("c1"); cp.Owner != "agent-li" {
					t.Errorf("owner = %q", cp.Owner)
				}
			}},
		{name: "second transfer records the current owner as from", given: append(given, transfer("agent-li")), when: transfer("agent-wu"),
			then: []customer.Event{&customer.ComplaintTransferred{ComplaintID: "c1", By: "mgr-wang", From: "agent-li", To: "agent-wu", Reason: "leave"}}},
		{name: "to the current owner", given: given, when: transfer("agent-zhang"), wantErr: aggregate.ErrFailedPrecondition},
		{name: "closed complaint", given: append(given, decline("c1")), when: transfer("agent-li"), wantErr: aggregate.ErrFailedPrecondition},
		{name: "no target", given: given, when: transfer(""), wantErr: aggregate.ErrInvalidInput},
		{name: "no reason", given: given, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error {
				return c.TransferComplaint(customer.TransferComplaint{ComplaintID: "c1", By: "m", To: "x"}, now)
			}},
		{name: "owner is unchanged by other steps", given: given,
			when: func(c *customer.Customer) error {
				return c.AcknowledgeComplaint(customer.AcknowledgeComplaint{ComplaintID: "c1", By: "someone-else"}, now)
			},
			then: []customer.Event{&customer.ComplaintAcknowledged{ComplaintID: "c1", By: "someone-else"}},
			check: func(t *testing.T, c *customer.Customer) {
				if cp, _ := c.Complaint("c1"); cp.Owner != "agent-zhang" {
					t.Errorf("owner = %q", cp.Owner)
				}
			}},
	})
}

func TestReopenKeepsAndClears(t *testing.T) {
	c, _ := customer.New(custID)
	for i, s := range []step{
		register(), file("c1", customer.SeverityMajor), ack("c1"), escalate("c1"), propose("c1", "a", "b"),
		accept("c1", 0), incident("c1"), recovery("c1", customer.StepSymbolicAtonement, cny(100)),
		contact("c1", customer.Inbound, hoursAgo(5)), resolve("c1", customer.Unsatisfied), reopen("c1"),
	} {
		if err := s(c); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	cp, _ := c.Complaint("c1")
	if cp.Status != customer.ComplaintStatusAcknowledged || !cp.Outcome.IsZero() || !cp.ResolvedAt.IsZero() ||
		cp.ResolutionOptions != nil || cp.AcceptedOption != -1 || cp.Reopened != 1 {
		t.Errorf("not cleared: %+v", cp)
	}
	if !cp.Escalated || !cp.IncidentReportFiled || len(cp.RecoverySteps) != 1 || cp.RepeatContacts != 1 ||
		!cp.AcknowledgedAt.Equal(hoursAgo(9)) {
		t.Errorf("not kept: %+v", cp)
	}
}

func TestOverdue(t *testing.T) {
	filedAt := hoursAgo(10)
	due := filedAt.Add(4*time.Hour + 30*time.Minute)
	cases := []struct {
		name  string
		steps []step
		at    time.Time
		want  bool
	}{
		{"open before reply due", []step{file("c1", customer.SeverityGeneral)}, due.Add(-time.Minute), false},
		{"open after reply due", []step{file("c1", customer.SeverityGeneral)}, due.Add(time.Minute), true},
		{"acknowledged in time", []step{file("c1", customer.SeverityGeneral), ack("c1")}, due.Add(time.Hour), false},
		{"promise passed with no outbound contact",
			[]step{file("c1", customer.SeverityGeneral), ack("c1"), escalate("c1")}, hoursAgo(8).Add(25 * time.Hour), true},
		{"promise not yet passed",
			[]step{file("c1", customer.SeverityGeneral), ack("c1"), escalate("c1")}, hoursAgo(8).Add(23 * time.Hour), false},
		{"promise passed, replied after escalation",
			[]step{file("c1", customer.SeverityGeneral), ack("c1"), escalate("c1"), contact("c1", customer.Outbound, hoursAgo(2))}, hoursAgo(8).Add(25 * time.Hour), false},
		{"inbound contact is no reply",
			[]step{file("c1", customer.SeverityGeneral), ack("c1"), escalate("c1"), contact("c1", customer.Inbound, hoursAgo(2))}, hoursAgo(8).Add(25 * time.Hour), true},
		{"resolved is never overdue",
			[]step{file("c1", customer.SeverityGeneral), ack("c1"), escalate("c1"), resolve("c1", customer.Satisfied)}, now.AddDate(1, 0, 0), false},
		{"declined unacknowledged is never overdue",
			[]step{file("c1", customer.SeverityGeneral), decline("c1")}, now.AddDate(1, 0, 0), false},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := customer.New(custID)
			for i, s := range append([]step{register()}, tt.steps...) {
				if err := s(c); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			cp, _ := c.Complaint("c1")
			if got := cp.Overdue(tt.at); got != tt.want {
				t.Errorf("Overdue(%v) = %v, want %v (%+v)", tt.at, got, tt.want, cp)
			}
		})
	}
}
