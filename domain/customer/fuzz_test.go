package customer_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

// bytes is a little decoder over fuzz input: every read succeeds (0 once
// the input is exhausted), so any input is a valid command sequence.
type bytes struct {
	b []byte
	i int
}

func (r *bytes) next() byte {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

func (r *bytes) done() bool { return r.i >= len(r.b) }

func pick[T any](r *bytes, xs ...T) T { return xs[int(r.next())%len(xs)] }

// randomCommand decodes one command from r and applies it to c at now. It
// returns the command's name and whether it may legitimately record no
// event on success (UpdateProfile with unchanged fields).
func randomCommand(r *bytes, c *customer.Customer, now time.Time) (name string, mayNoop bool, err error) {
	at := func() time.Time {
		switch r.next() % 10 {
		case 7:
			return now.Add(-time.Duration(r.next()) * time.Hour)
		case 8:
			return now.Add(time.Hour) // future: refused
		case 9:
			return now.AddDate(-2, 0, 0)
		default:
			return time.Time{} // now
		}
	}
	cid := func() string { return pick(r, "c0", "c1", "c0", "c1", "c2", "c0", "", "bad id") }
	fid := func() string { return pick(r, "f0", "f1", "f2", "bad/") }
	who := func() string { return pick(r, "agent-a", "agent-b", "agent-a", "mgr", "") }
	text := func() string { return pick(r, "x", "x", "长文本", "y", "", "  ") }
	channel := func() customer.Channel {
		return pick(r, customer.ChannelPhone, customer.ChannelSMS, customer.ChannelVisit, customer.Channel{})
	}
	severity := func() customer.Severity {
		return pick(r, customer.SeverityGeneral, customer.SeverityMajor, customer.SeverityGeneral, customer.SeverityMajor, customer.Severity{})
	}
	money := func() customer.Money {
		return customer.Money{AmountMinor: int64(int8(r.next())), Currency: pick(r, "CNY", "USD", "cny", "")}
	}
	clock := customer.ReplyClockFunc(func(f time.Time) (time.Time, bool) {
		return f.Add(4*time.Hour + 30*time.Minute), false
	})

	switch op := r.next() % 40; op {
	case 0:
		return "Register", false, c.Register(customer.Register{
			Name: text(), Tier: pick(r, customer.TierStandard, customer.TierVIP, customer.Tier{}),
			AccountManager: who(), Timezone: pick(r, "Asia/Shanghai", "UTC", "Bad/Zone", ""),
			Locale: pick(r, "zh-CN", "en", "?"), Birthday: pick(r, "", "1990-01-01", "1990-13-01"),
			MarketingConsent: r.next()%2 == 0, OccurredAt: at(),
		}, now)
	case 1:
		var u customer.UpdateProfile
		if r.next()%2 == 0 {
			u.Name = ptr(text())
		}
		if r.next()%2 == 0 {
			u.AccountManager = ptr(who())
		}
		if r.next()%2 == 0 {
			u.Tier = ptr(pick(r, customer.TierGold, customer.TierStandard))
		}
		u.OccurredAt = at()
		return "UpdateProfile", true, c.UpdateProfile(u, now)
	case 2:
		return "SetMarketingConsent", false, c.SetMarketingConsent(customer.SetMarketingConsent{Consent: r.next()%2 == 0, OccurredAt: at()}, now)
	case 3:
		return "LogContact", false, c.LogContact(customer.LogContact{
			Channel: channel(), Direction: pick(r, customer.Inbound, customer.Outbound, customer.Direction{}),
			Agent: who(), ComplaintID: pick(r, "", "c0", "c1", "c9"), OccurredAt: at(),
		}, now)
	case 4:
		return "RecordPurchase", false, c.RecordPurchase(customer.RecordPurchase{OrderID: pick(r, "o1", "o2", ""), Amount: money(), OccurredAt: at()}, now)
	case 5:
		return "RecordReferral", false, c.RecordReferral(customer.RecordReferral{ReferredCustomerID: pick(r, "cust-2", custID, "x y"), OccurredAt: at()}, now)
	case 6:
		return "VoiceGrumble", false, c.VoiceGrumble(customer.VoiceGrumble{Channel: channel(), Summary: text(), OccurredAt: at()}, now)
	case 7, 27:
		return "FileComplaint", false, c.FileComplaint(customer.FileComplaint{
			ComplaintID: cid(), Channel: channel(), Category: text(), Severity: severity(),
			Description: text(), Owner: who(), OccurredAt: at(),
		}, clock, now)
	case 8, 28, 29:
		return "AcknowledgeComplaint", false, c.AcknowledgeComplaint(customer.AcknowledgeComplaint{ComplaintID: cid(), By: who(), OccurredAt: at()}, now)
	case 9, 30:
		o := at()
		base := o
		if base.IsZero() {
			base = now
		}
		return "EscalateComplaint", false, c.EscalateComplaint(customer.EscalateComplaint{
			ComplaintID: cid(), By: who(), To: who(), Reason: text(),
			PromisedReplyBy: base.Add(time.Duration(int(r.next()%64)-2) * 12 * time.Hour), OccurredAt: o,
		}, now)
	case 10:
		return "DeclineComplaint", false, c.DeclineComplaint(customer.DeclineComplaint{ComplaintID: cid(), By: who(), Reason: text(), OccurredAt: at()}, now)
	case 11:
		return "TransferComplaint", false, c.TransferComplaint(customer.TransferComplaint{ComplaintID: cid(), By: who(), To: who(), Reason: text(), OccurredAt: at()}, now)
	case 12, 31, 32:
		opts := []string{"a", "b", "c"}[:min(int(r.next()%7), 3)]
		return "ProposeResolution", false, c.ProposeResolution(customer.ProposeResolution{ComplaintID: cid(), By: who(), Options: opts, OccurredAt: at()}, now)
	case 13, 33:
		return "AcceptResolution", false, c.AcceptResolution(customer.AcceptResolution{ComplaintID: cid(), OptionIndex: int(r.next()%5) - 1, OccurredAt: at()}, now)
	case 14, 34:
		var comp *customer.Money
		if r.next()%2 == 0 {
			m := money()
			comp = &m
		}
		return "TakeRecoveryStep", false, c.TakeRecoveryStep(customer.TakeRecoveryStep{
			ComplaintID: cid(), Step: pick(r, append(customer.RecoverySteps(), customer.RecoveryStep{})...),
			By: who(), Compensation: comp, OccurredAt: at(),
		}, now)
	case 15, 35, 36:
		return "ResolveComplaint", false, c.ResolveComplaint(customer.ResolveComplaint{
			ComplaintID: cid(), By: who(), Outcome: pick(r, customer.Satisfied, customer.Unsatisfied, customer.Outcome{}), OccurredAt: at(),
		}, now)
	case 16, 37:
		return "ReopenComplaint", false, c.ReopenComplaint(customer.ReopenComplaint{ComplaintID: cid(), By: who(), OccurredAt: at()}, now)
	case 17, 38, 39:
		return "FileIncidentReport", false, c.FileIncidentReport(customer.FileIncidentReport{
			ComplaintID: cid(), By: who(), Impact: text(), Handling: "h", Cause: "c", CorrectiveActions: text(), OccurredAt: at(),
		}, now)
	case 18:
		return "ScheduleFollowUp", false, c.ScheduleFollowUp(customer.ScheduleFollowUp{
			FollowUpID: fid(), ComplaintID: pick(r, "", "c0", "c1"), Reason: pick(r, customer.ReasonRecovery, customer.FollowUpReason{}),
			Owner: pick(r, "", "agent-c"), DueAt: now.Add(time.Duration(int8(r.next())) * time.Hour), OccurredAt: at(),
		}, now)
	case 19:
		return "CompleteFollowUp", false, c.CompleteFollowUp(customer.CompleteFollowUp{
			FollowUpID: fid(), By: who(), Outcome: pick(r, append(customer.FollowUpOutcomes(), customer.FollowUpOutcome{})...), OccurredAt: at(),
		}, now)
	case 20:
		return "CancelFollowUp", false, c.CancelFollowUp(customer.CancelFollowUp{FollowUpID: fid(), By: who(), Reason: text(), OccurredAt: at()}, now)
	case 21:
		return "RecordSatisfaction", false, c.RecordSatisfaction(customer.RecordSatisfaction{
			Score: int(r.next()%8) - 1, ComplaintID: pick(r, "", "c0", "c9"), OccurredAt: at(),
		}, now)
	case 22:
		g := pick(r, "g0", "g1", "")
		switch r.next() % 3 {
		case 0:
			return "RecordGreetingSent", false, c.RecordGreetingSent(customer.RecordGreetingSent{CampaignID: g, Occasion: "o", Channel: channel(), OccurredAt: at()}, now)
		case 1:
			return "RecordGreetingFailed", false, c.RecordGreetingFailed(customer.RecordGreetingFailed{CampaignID: g, Occasion: "o", Channel: channel(), Reason: text(), OccurredAt: at()}, now)
		default:
			return "RecordGreetingSkipped", false, c.RecordGreetingSkipped(customer.RecordGreetingSkipped{CampaignID: g, Occasion: "o", Reason: text(), OccurredAt: at()}, now)
		}
	case 23:
		return "MarkLost", false, c.MarkLost(customer.MarkLost{Reason: text(), By: who(), OccurredAt: at()}, now)
	case 24:
		return "WinBack", false, c.WinBack(customer.WinBack{Reason: text(), OccurredAt: at()}, now)
	case 25:
		return "FlagConduct", false, c.FlagConduct(customer.FlagConduct{Severity: severity(), Note: text(), By: who(), OccurredAt: at()}, now)
	case 26:
		if r.next()%4 != 0 { // erasure ends most sequences; keep it rarer
			return "Erase(skipped)", true, nil
		}
		return "Erase", false, c.Erase(customer.Erase{By: who(), Reason: text(), OccurredAt: at()}, now)
	}
	panic("unreachable")
}

// checkSequence runs the command sequence encoded in data and checks the
// aggregate's contract after each command and at the end.
func checkSequence(t *testing.T, data []byte) {
	t.Helper()
	r := &bytes{b: data}
	c, err := customer.New(custID)
	if err != nil {
		t.Fatal(err)
	}
	if r.next()%2 == 0 { // most sequences start registered
		if err := c.Register(registerCmd(), now); err != nil {
			t.Fatal(err)
		}
	}
	clock := now
	for n := 0; !r.done() && n < 200; n++ {
		clock = clock.Add(time.Duration(r.next()) * time.Minute)
		before := len(c.Changes())
		name, mayNoop, err := randomCommand(r, c, clock)
		added := len(c.Changes()) - before
		if err != nil {
			if added != 0 {
				t.Fatalf("%s refused (%v) but recorded %d events", name, err, added)
			}
			k := 0
			for _, s := range []error{aggregate.ErrInvalidInput, aggregate.ErrNotFound, aggregate.ErrFailedPrecondition} {
				if errors.Is(err, s) {
					k++
				}
			}
			if k != 1 {
				t.Fatalf("%s: error %v matches %d sentinels, want 1", name, err, k)
			}
			continue
		}
		if added > 1 || (added == 0 && !mayNoop) {
			t.Fatalf("%s succeeded and recorded %d events", name, added)
		}
	}
	changes := c.Changes()
	if len(changes) == 0 {
		return
	}
	rebuilt, err := customer.Rehydrate(custID, history(changes))
	if err != nil {
		t.Fatalf("Rehydrate(Changes): %v", err)
	}
	if d := customer.StateDiff(c, rebuilt); d != "" {
		t.Fatalf("Rehydrate(Changes) differs from the live state:\n%s", d)
	}
}

// FuzzCommandSequences: random command sequences never panic, a refused
// command records nothing and matches exactly one sentinel, a successful
// one records one event, and Rehydrate of the recorded events reproduces
// the live state. Run with: go test -fuzz FuzzCommandSequences ./domain/customer
func FuzzCommandSequences(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{0, 0, 7, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0, 0, 0})
	f.Add([]byte("\x00\x01\x07\x00\x01\x01\x01\x01\x01\x01\x0f\x00\x00\x00"))
	rng := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		f.Add(b)
	}
	f.Fuzz(checkSequence)
}

// TestRandomCommandSequences is the same property over a fixed set of
// pseudo-random sequences, so that plain `go test` exercises it widely.
func TestRandomCommandSequences(t *testing.T) {
	rng := rand.New(rand.NewPCG(20250304, 8))
	n := 400
	if testing.Short() {
		n = 50
	}
	for range n {
		b := make([]byte, 64+rng.IntN(1024))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		checkSequence(t, b)
	}
}
