package e2e_test

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// wilsonLower is the lower bound of the 95 % Wilson interval, written out
// here independently of the server's.
func wilsonLower(k, n float64) float64 {
	const z = 1.959963984540054
	p := k / n
	return (p + z*z/(2*n) - z*math.Sqrt(p*(1-p)/n+z*z/(4*n*n))) / (1 + z*z/n)
}

// TestResolutionPlaybook is a team lead's question "what works for late
// deliveries?" and an agent's "what should I offer this customer?": seven
// delivery complaints resolved through the API with different options and
// verdicts (one reopened, two resolved long enough ago to tell whether the
// customer stayed), then resolutionPlaybook ranks the options by the sure
// satisfaction rate with their counts and Wilson bounds, and
// suggestedResolutions on a new complaint offers them best first — and
// proposeResolution takes them as they are. A restart gives the same answer.
func TestResolutionPlaybook(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 2*time.Minute)
	dir := t.TempDir()
	s := startServer(t, ctx, serveOpts{dir: dir})
	c := s.client("")
	now := time.Now().UTC()
	day := 24 * time.Hour
	step := func(name, typ string, in map[string]any) {
		t.Helper()
		c.must(ctx, nil, `mutation($in: `+typ+`!) { `+name+`(input: $in) { version } }`, map[string]any{"in": in})
	}
	register := func(id string, at time.Time) {
		step("registerCustomer", "RegisterCustomerInput", map[string]any{"id": id, "name": "客户 " + id, "accountManager": "lead", "occurredAt": stamp(at)})
	}
	n := 0
	// complaint files a complaint and, with options, takes it to outcome;
	// extra runs before the resolution.
	complaint := func(cust, category string, at time.Time, options []string, pick int, outcome string, extra ...func(id string, at time.Time)) string {
		t.Helper()
		n++
		id := fmt.Sprintf("pb-k-%d", n)
		step("fileComplaint", "FileComplaintInput", map[string]any{"customerId": cust, "complaintId": id, "channel": "PHONE", "category": category,
			"description": "parcel late", "owner": "lead", "occurredAt": stamp(at)})
		if options == nil {
			return id
		}
		step("acknowledgeComplaint", "ComplaintActionInput", map[string]any{"complaintId": id, "by": "lead", "occurredAt": stamp(at.Add(time.Hour))})
		step("proposeResolution", "ProposeResolutionInput", map[string]any{"complaintId": id, "by": "lead", "options": options, "occurredAt": stamp(at.Add(2 * time.Hour))})
		step("acceptResolution", "AcceptResolutionInput", map[string]any{"complaintId": id, "optionIndex": pick, "occurredAt": stamp(at.Add(3 * time.Hour))})
		for _, f := range extra {
			f(id, at.Add(3*time.Hour+30*time.Minute))
		}
		step("resolveComplaint", "ResolveComplaintInput", map[string]any{"complaintId": id, "by": "lead", "outcome": outcome, "occurredAt": stamp(at.Add(4 * time.Hour))})
		return id
	}
	const replace, refund, voucher = "Replace the parcel", "Refund the shipping fee", "Voucher"
	for i := 1; i <= 8; i++ {
		register(fmt.Sprintf("pb-%d", i), now.Add(-300*day))
	}
	long := now.Add(-200 * day)
	complaint("pb-1", "delivery", long, []string{replace, refund}, 0, "SATISFIED", func(id string, at time.Time) {
		step("takeRecoveryStep", "TakeRecoveryStepInput", map[string]any{"complaintId": id, "step": "APOLOGY", "by": "lead", "occurredAt": stamp(at)})
		step("takeRecoveryStep", "TakeRecoveryStepInput", map[string]any{"complaintId": id, "step": "SYMBOLIC_ATONEMENT", "by": "lead",
			"compensation": map[string]any{"amountMinor": 2000, "currency": "CNY"}, "occurredAt": stamp(at.Add(time.Minute))})
	})
	// pb-1 buys again 100 days after the resolution: retained; pb-2 does not.
	step("recordPurchase", "RecordPurchaseInput", map[string]any{"customerId": "pb-1", "orderId": "o-1",
		"amount": map[string]any{"amountMinor": 9900, "currency": "CNY"}, "occurredAt": stamp(long.Add(100 * day))})
	complaint("pb-2", "delivery", long, []string{"replace the parcel.", refund}, 0, "SATISFIED")
	complaint("pb-3", "Delivery", now.Add(-3*day), []string{replace, refund}, 0, "SATISFIED")
	complaint("pb-4", "delivery", now.Add(-2*day), []string{replace}, 0, "SATISFIED")
	complaint("pb-5", "delivery", now.Add(-2*day), []string{refund, voucher}, 0, "SATISFIED")
	k6 := complaint("pb-6", "delivery", now.Add(-2*day), []string{refund, voucher}, 0, "UNSATISFIED")
	step("reopenComplaint", "ComplaintActionInput", map[string]any{"complaintId": k6, "by": "lead"})
	complaint("pb-7", "delivery", now.Add(-day), []string{voucher}, 0, "SATISFIED")
	complaint("pb-7", "billing", now.Add(-day), []string{"Correct the invoice"}, 0, "SATISFIED")
	open := complaint("pb-8", "delivery", now.Add(-time.Hour), nil, 0, "")

	type record struct {
		Option                                                         string
		Proposed, Accepted, Satisfied, Unsatisfied, Reopened, Retained int
		RetainedKnown                                                  int
		SatisfactionRate, Lower, Upper                                 *float64
	}
	type book struct {
		ResolutionPlaybook struct {
			Complaints, Resolved, Satisfied, Unsatisfied, Reopened int
			Options                                                []record
			RecoverySteps                                          []struct {
				Step  string
				Count int
			}
			Compensation []struct {
				AmountMinor int
				Currency    string
			}
		}
	}
	const fields = `option proposed accepted satisfied unsatisfied reopened retained retainedKnown satisfactionRate lower upper`
	const q = `query($c: String!) { resolutionPlaybook(category: $c) { complaints resolved satisfied unsatisfied reopened
		options { ` + fields + ` } recoverySteps { step count } compensation { amountMinor currency } } }`
	ask := func(c *client) book {
		var b book
		c.must(ctx, &b, q, map[string]any{"c": "delivery"})
		return b
	}
	got := ask(c)
	p := got.ResolutionPlaybook
	if p.Complaints != 8 || p.Resolved != 7 || p.Satisfied != 6 || p.Unsatisfied != 1 || p.Reopened != 1 {
		t.Errorf("playbook totals %s, want 8 complaints, 7 resolved, 6 satisfied, 1 unsatisfied, 1 reopened", js(p))
	}
	want := []struct {
		option                                               string
		proposed, accepted, satisfied, unsatisfied, reopened int
		retained, retainedKnown                              int
	}{
		{replace, 4, 4, 4, 0, 0, 1, 2},
		{voucher, 3, 1, 1, 0, 0, 0, 0},
		{refund, 5, 2, 1, 1, 1, 0, 0},
	}
	if len(p.Options) != len(want) {
		t.Fatalf("options %s, want %d", js(p.Options), len(want))
	}
	for i, w := range want {
		o := p.Options[i]
		if o.Option != w.option || o.Proposed != w.proposed || o.Accepted != w.accepted || o.Satisfied != w.satisfied || o.Unsatisfied != w.unsatisfied ||
			o.Reopened != w.reopened || o.Retained != w.retained || o.RetainedKnown != w.retainedKnown {
			t.Errorf("option %d = %s, want %+v", i, js(o), w)
			continue
		}
		judged := float64(w.satisfied + w.unsatisfied)
		if o.SatisfactionRate == nil || o.Lower == nil || o.Upper == nil ||
			math.Abs(*o.SatisfactionRate-float64(w.satisfied)/judged) > 1e-9 || math.Abs(*o.Lower-wilsonLower(float64(w.satisfied), judged)) > 1e-9 ||
			*o.Upper < *o.SatisfactionRate {
			t.Errorf("option %q: rate %v in [%v, %v], want %v with lower bound %v", o.Option, o.SatisfactionRate, o.Lower, o.Upper,
				float64(w.satisfied)/judged, wilsonLower(float64(w.satisfied), judged))
		}
	}
	if js(p.RecoverySteps) != `[{"Step":"APOLOGY","Count":1},{"Step":"SYMBOLIC_ATONEMENT","Count":1}]` || js(p.Compensation) != `[{"AmountMinor":2000,"Currency":"CNY"}]` {
		t.Errorf("steps %s, compensation %s", js(p.RecoverySteps), js(p.Compensation))
	}

	// The agent on the open complaint: the options best first, as they are.
	var sug struct{ SuggestedResolutions []record }
	c.must(ctx, &sug, `query($id: ID!) { suggestedResolutions(complaintId: $id) { `+fields+` } }`, map[string]any{"id": open})
	var texts []string
	for _, o := range sug.SuggestedResolutions {
		texts = append(texts, o.Option)
	}
	if js(texts) != js([]string{replace, voucher, refund}) {
		t.Errorf("suggestedResolutions = %q, want the playbook's order", texts)
	}
	step("acknowledgeComplaint", "ComplaintActionInput", map[string]any{"complaintId": open, "by": "lead"})
	step("proposeResolution", "ProposeResolutionInput", map[string]any{"complaintId": open, "by": "lead", "options": texts[:2]})

	// Bad questions are refused with a code.
	c.fails(ctx, "BAD_USER_INPUT", `{ resolutionPlaybook(category: "  ") { complaints } }`, nil)
	c.fails(ctx, "BAD_USER_INPUT", `{ resolutionPlaybook(category: "delivery", from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z") { complaints } }`, nil)
	c.fails(ctx, "NOT_FOUND", `{ suggestedResolutions(complaintId: "pb-nope") { option } }`, nil)
	c.fails(ctx, "BAD_USER_INPUT", `query($id: ID!) { suggestedResolutions(complaintId: $id, first: 99) { option } }`, map[string]any{"id": open})

	// The other category is its own; a period keeps to its complaints.
	var billing book
	c.must(ctx, &billing, `{ resolutionPlaybook(category: "billing") { complaints resolved options { option } } }`, nil)
	if b := billing.ResolutionPlaybook; b.Complaints != 1 || len(b.Options) != 1 || b.Options[0].Option != "Correct the invoice" {
		t.Errorf("billing playbook %s", js(b))
	}
	var recent book
	c.must(ctx, &recent, `query($from: DateTime) { resolutionPlaybook(category: "delivery", from: $from) { complaints } }`, map[string]any{"from": stamp(now.Add(-10 * day))})
	if recent.ResolutionPlaybook.Complaints != 6 {
		t.Errorf("delivery complaints of the last 10 days: %d, want 6", recent.ResolutionPlaybook.Complaints)
	}

	// Rebuilt from the log after a restart: the same playbook (the open
	// complaint now has its proposal: proposed counts move by one each).
	before := ask(c)
	s.stop()
	s2 := startServer(t, ctx, serveOpts{dir: dir})
	if after := ask(s2.client("")); js(after) != js(before) {
		t.Errorf("after a restart:\n%s\nbefore:\n%s", js(after), js(before))
	}
}
