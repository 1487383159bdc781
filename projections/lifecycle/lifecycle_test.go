package lifecycle_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// plus returns a new slice: h followed by fs.
func plus(h []lifecycle.Fact, fs ...lifecycle.Fact) []lifecycle.Fact {
	return append(append([]lifecycle.Fact(nil), h...), fs...)
}

type change struct {
	from, to lifecycle.Stage
	day      float64
	reason   string
}

func toChanges(cs []lifecycle.StageChange) []change {
	out := make([]change, len(cs))
	for i, c := range cs {
		out[i] = change{c.From, c.To, float64(c.At.Sub(t0)) / float64(lifecycle.Day), c.Reason}
	}
	return out
}

func stageAt(t *testing.T, history []lifecycle.Fact, at time.Time, churn lifecycle.ChurnView) lifecycle.Result {
	t.Helper()
	res, err := lifecycle.StageAt(history, at, lifecycle.DefaultPolicy(), churn)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func assertChanges(t *testing.T, got []lifecycle.StageChange, want []change) {
	t.Helper()
	g := toChanges(got)
	if fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("changes:\n got %v\nwant %v", strings.ReplaceAll(fmt.Sprint(g), "} {", "}\n     {"), strings.ReplaceAll(fmt.Sprint(want), "} {", "}\n     {"))
	}
}

const (
	none        = lifecycle.StageNone
	newS        = lifecycle.StageNew
	active      = lifecycle.StageActive
	loyal       = lifecycle.StageLoyal
	grumbling   = lifecycle.StageGrumbling
	complaining = lifecycle.StageComplaining
	silent      = lifecycle.StageSilent
	dormant     = lifecycle.StageDormant
	lost        = lifecycle.StageLost
)

// The worked scenario of issue 3: two purchases, a grumble, a complaint,
// no contact for 36 days, 60 more, then a purchase.
func TestWorkedScenario(t *testing.T) {
	history := []lifecycle.Fact{
		f(0, registered()),
		f(1, purchase("o-1")),
		f(10, purchase("o-2")),
		f(20, grumble()),
		f(22, complaint("c-17")),
		// nothing from day 22: 30 days later (day 52) SILENT, 60 more (day 112) LOST
		f(130, purchase("o-9")),
	}
	early := []change{
		{none, newS, 0, "registered"},
		{newS, active, 10, "purchase o-2"},
		{active, grumbling, 20, "grumble voiced"},
		{grumbling, complaining, 22, "complaint c-17 filed"},
	}

	// 36 days after the complaint: SILENT, entered on day 52 (complaint + 30 days), not day 58.
	res := stageAt(t, history, day(22+36), nil)
	if res.Stage != silent || !res.Since.Equal(day(52)) {
		t.Fatalf("day 58: got %s since %v, want SILENT since day 52", res.Stage, res.Since)
	}
	assertChanges(t, res.Changes, append(early, change{complaining, silent, 52, "no inbound contact for 30 days after complaint c-17"}))
	if !res.Next.Equal(day(112)) || res.NextStage != lost {
		t.Errorf("next deadline = %v %s, want day 112 LOST", res.Next, res.NextStage)
	}

	// 60 more days: LOST on day 112.
	res = stageAt(t, history, day(120), nil)
	if res.Stage != lost || !res.Since.Equal(day(112)) {
		t.Fatalf("day 120: got %s since %v, want LOST since day 112", res.Stage, res.Since)
	}

	// The purchase on day 130 wins the customer back. Complaint c-17 was
	// never resolved, so they return to COMPLAINING, not ACTIVE (DESIGN §4:
	// "a customer who still has an open complaint then returns to
	// COMPLAINING"); the silence clock restarts from the purchase.
	res = stageAt(t, history, day(131), nil)
	assertChanges(t, res.Changes, append(early,
		change{complaining, silent, 52, "no inbound contact for 30 days after complaint c-17"},
		change{silent, lost, 112, "silent for a further 60 days after complaint c-17 (no inbound contact for 90 days)"},
		change{lost, complaining, 130, "purchase o-9 after 108 days of silence (won back)"},
	))
	if res.Stage != complaining || !res.Next.Equal(day(160)) || res.NextStage != silent {
		t.Errorf("day 131: %s, next %v %s; want COMPLAINING, SILENT again on day 160", res.Stage, res.Next, res.NextStage)
	}
}

// The same path, but the complaint was closed UNSATISFIED before the
// silence: the win-back purchase settles it and the customer is ACTIVE.
func TestWorkedScenarioResolvedUnsatisfied(t *testing.T) {
	history := []lifecycle.Fact{
		f(0, registered()),
		f(1, purchase("o-1")),
		f(10, purchase("o-2")),
		f(20, grumble()),
		f(22, complaint("c-17")),
		f(40, resolved("c-17", customer.Unsatisfied)),
		f(130, purchase("o-9")),
	}
	res := stageAt(t, history, day(200), nil)
	assertChanges(t, res.Changes, []change{
		{none, newS, 0, "registered"},
		{newS, active, 10, "purchase o-2"},
		{active, grumbling, 20, "grumble voiced"},
		{grumbling, complaining, 22, "complaint c-17 filed"},
		{complaining, grumbling, 40, "complaint c-17 resolved UNSATISFIED"},
		{grumbling, silent, 52, "no inbound contact for 30 days after unresolved complaint c-17"},
		{silent, lost, 112, "silent for a further 60 days after unresolved complaint c-17 (no inbound contact for 90 days)"},
		{lost, active, 130, "purchase o-9 after 108 days of silence (won back)"},
	})
	if res.Stage != active {
		t.Errorf("stage %s, want ACTIVE", res.Stage)
	}
}

func TestTransitions(t *testing.T) {
	base := []lifecycle.Fact{f(0, registered()), f(1, purchase("o-1")), f(2, purchase("o-2"))} // ACTIVE from day 2
	with := func(fs ...lifecycle.Fact) []lifecycle.Fact { return plus(base, fs...) }
	fiveDays := with(f(3, purchase("o-3")), f(4, purchase("o-4")), f(5, purchase("o-5")))
	model := cdnow(1000)
	// purchases on days 1, 2, 20 → x = 2; the model's crossing instants:
	dormantH := with(f(20, purchase("o-3")))
	h := lifecycle.Purchases{First: time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC), Last: time.Date(2024, 3, 21, 0, 0, 0, 0, time.UTC), Days: 3}
	crossD, _ := model.FallsBelow(h, 0.3)
	crossL, _ := model.FallsBelow(h, 0.05)
	dd := float64(crossD.Sub(t0)) / float64(lifecycle.Day)
	dl := float64(crossL.Sub(t0)) / float64(lifecycle.Day)

	tests := []struct {
		name       string
		given      []lifecycle.Fact
		churn      lifecycle.ChurnView
		when       float64 // day of the query
		wantStage  lifecycle.Stage
		wantSince  float64
		wantReason string // of the last change
	}{
		{"nothing before registration", []lifecycle.Fact{f(0, purchase("o-0"))}, nil, 5, none, -1, ""},
		{"registration is NEW", base[:1], nil, 5, newS, 0, "registered"},
		{"one purchase stays NEW", base[:2], nil, 5, newS, 0, "registered"},
		{"second purchase is ACTIVE", base, nil, 5, active, 2, "purchase o-2"},
		{"fifth purchase day is LOYAL", fiveDays, nil, 6, loyal, 5, "purchase o-5: 5 purchase days in the last 365 days"},
		{"purchases on one day count once", with(f(2.1, purchase("o-3")), f(2.2, purchase("o-4")), f(2.3, purchase("o-5"))), nil, 6, active, 2, "purchase o-2"},
		{"LOYAL ends when the oldest day leaves the window", fiveDays, nil, 400, active, 366 - 9.0/24, "fewer than 5 purchase days in the last 365 days"},
		{"grumble is GRUMBLING", with(f(3, grumble())), nil, 4, grumbling, 3, "grumble voiced"},
		{"inbound contact does not answer a grumble", with(f(3, grumble()), f(4, inbound())), nil, 5, grumbling, 3, "grumble voiced"},
		{"outbound contact answers a grumble", with(f(3, grumble()), f(4, outbound())), nil, 5, active, 4, "grumble answered by outbound PHONE contact"},
		{"a survey answers a grumble", with(f(3, grumble()), f(4, csat(2))), nil, 5, active, 4, "grumble answered by satisfaction 2/5 recorded"},
		{"complaint is COMPLAINING", with(f(3, complaint("c-1"))), nil, 4, complaining, 3, "complaint c-1 filed"},
		{"complaint absorbs the grumble", with(f(3, grumble()), f(4, complaint("c-1")), f(5, resolved("c-1", customer.Satisfied))), nil, 6, active, 5, "complaint c-1 resolved SATISFIED"},
		{"resolved UNSATISFIED is GRUMBLING", with(f(3, complaint("c-1")), f(4, resolved("c-1", customer.Unsatisfied))), nil, 5, grumbling, 4, "complaint c-1 resolved UNSATISFIED"},
		{"declined is GRUMBLING", with(f(3, complaint("c-1")), f(4, declined("c-1"))), nil, 5, grumbling, 4, "complaint c-1 declined"},
		{"a good survey settles an unsatisfied complaint", with(f(3, complaint("c-1")), f(4, resolved("c-1", customer.Unsatisfied)), f(5, csat(4))), nil, 6, active, 5, "satisfaction 4/5 recorded"},
		{"a poor survey does not", with(f(3, complaint("c-1")), f(4, resolved("c-1", customer.Unsatisfied)), f(5, csat(3))), nil, 6, grumbling, 4, "complaint c-1 resolved UNSATISFIED"},
		{"a purchase settles an unsatisfied complaint", with(f(3, complaint("c-1")), f(4, declined("c-1")), f(5, purchase("o-3"))), nil, 6, active, 5, "purchase o-3"},
		{"reopened is COMPLAINING", with(f(3, complaint("c-1")), f(4, resolved("c-1", customer.Unsatisfied)), f(5, reopened("c-1"))), nil, 6, complaining, 5, "complaint c-1 reopened"},
		{"one of two complaints still open", with(f(3, complaint("c-1")), f(4, complaint("c-2")), f(5, resolved("c-1", customer.Satisfied))), nil, 6, complaining, 3, "complaint c-1 filed"},
		{"grumble unanswered 30 days is SILENT", with(f(3, grumble())), nil, 40, silent, 33, "no inbound contact for 30 days after an unanswered grumble"},
		{"an outbound contact does not break silence", with(f(3, complaint("c-1")), f(20, outbound())), nil, 40, silent, 33, "no inbound contact for 30 days after complaint c-1"},
		{"an inbound contact leaves SILENT", with(f(3, complaint("c-1")), f(40, inbound())), nil, 41, complaining, 40, "inbound PHONE contact after 37 days of silence"},
		{"a referral is inbound", with(f(3, complaint("c-1")), f(20, referral())), nil, 40, complaining, 3, "complaint c-1 filed"},
		{"SATISFIED resolution leaves SILENT", with(f(3, complaint("c-1")), f(40, resolved("c-1", customer.Satisfied))), nil, 41, active, 40, "complaint c-1 resolved SATISFIED"},
		{"SILENT 60 more days is LOST", with(f(3, complaint("c-1"))), nil, 100, lost, 93, "silent for a further 60 days after complaint c-1 (no inbound contact for 90 days)"},
		{"LOST holds without inbound", with(f(3, complaint("c-1")), f(95, resolved("c-1", customer.Satisfied))), nil, 100, lost, 93, "silent for a further 60 days after complaint c-1 (no inbound contact for 90 days)"},
		{"grievance after a long quiet is SILENT at once", with(f(3, complaint("c-1")), f(4, resolved("c-1", customer.Satisfied)), f(50, reopened("c-1"))), nil, 51, silent, 50, "complaint c-1 reopened after 47 days without inbound contact"},
		{"marked lost is LOST", with(f(3, markedLost())), nil, 4, lost, 3, "marked lost: moved abroad"},
		{"won back leaves LOST", with(f(3, markedLost()), f(5, wonBack())), nil, 6, active, 5, "won back: returned after call"},
		{"inbound contact from LOST is a win-back", with(f(3, markedLost()), f(5, inbound())), nil, 6, active, 5, "inbound PHONE contact after 3 days of silence (won back)"},
		{"erasure keeps the stage and its clock", with(f(3, complaint("c-1")), f(4, erased())), nil, 40, silent, 33, "no inbound contact for 30 days after complaint c-1"},
		{"other events change nothing", with(f(3, greeting())), nil, 4, active, 2, "purchase o-2"},
		{"no churn model: never DORMANT", dormantH, nil, 1000, active, 2, "purchase o-2"},
		{"model fitted on too few customers: never DORMANT", dormantH, cdnow(499), 1000, active, 2, "purchase o-2"},
		{"a single purchase day never crosses", base[:2], model, 1000, newS, 0, "registered"},
		{"P(alive) < 0.3 is DORMANT", dormantH, model, dd + 1, dormant, dd, fmt.Sprintf("P(alive) fell below 0.30, %d days after the last purchase day", int((dd - 19.625)))},
		{"P(alive) < 0.05 is LOST", dormantH, model, dl + 1, lost, dl, fmt.Sprintf("P(alive) fell below 0.05, %d days after the last purchase day", int((dl - 19.625)))},
		{"an inbound contact leaves DORMANT", plus(dormantH, f(dd+5, inbound())), model, dd + 6, active, dd + 5, "inbound PHONE contact after " + fmt.Sprint(int(dd+5-20)) + " days of silence"},
		{"… and DORMANT again after a quiet window", plus(dormantH, f(dd+5, inbound())), model, dd + 40, dormant, dd + 35, fmt.Sprintf("no inbound contact for 30 days and P(alive) %.3f below 0.30", model.PAlive(h, day(dd+35)))},
		{"a grievance overrides DORMANT", plus(dormantH, f(dd+5, grumble())), model, dd + 6, grumbling, dd + 5, "grumble voiced after " + fmt.Sprint(int(dd+5-20)) + " days of silence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := stageAt(t, tt.given, day(tt.when), tt.churn)
			if res.Stage != tt.wantStage {
				t.Fatalf("stage = %s, want %s; changes %v", res.Stage, tt.wantStage, res.Changes)
			}
			if tt.wantSince < 0 {
				if !res.Since.IsZero() || len(res.Changes) != 0 {
					t.Fatalf("since %v, changes %v; want none", res.Since, res.Changes)
				}
				return
			}
			if got := float64(res.Since.Sub(t0)) / float64(lifecycle.Day); fmt.Sprintf("%.6f", got) != fmt.Sprintf("%.6f", tt.wantSince) {
				t.Errorf("since day %.6f, want %.6f", got, tt.wantSince)
			}
			last := res.Changes[len(res.Changes)-1]
			if last.Reason != tt.wantReason {
				t.Errorf("reason %q, want %q", last.Reason, tt.wantReason)
			}
			if last.To != res.Stage || !last.At.Equal(res.Since) {
				t.Errorf("last change %v disagrees with stage %s since %v", last, res.Stage, res.Since)
			}
		})
	}
}
