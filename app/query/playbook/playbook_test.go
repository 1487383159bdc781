package playbook_test

import (
	"math"
	"testing"

	"github.com/kefu-crm/kefu/app/query/playbook"
	"github.com/kefu-crm/kefu/domain/customer"
)

func TestWilson(t *testing.T) {
	for _, tt := range []struct {
		k, n   int
		lo, hi float64
	}{
		{9, 10, 0.5958, 0.9821},
		{1, 1, 0.2065, 1},
		{0, 10, 0, 0.2775},
		{50, 100, 0.4038, 0.5962},
	} {
		lo, hi := playbook.Wilson(tt.k, tt.n, playbook.Z)
		if math.Abs(lo-tt.lo) > 1e-4 || math.Abs(hi-tt.hi) > 1e-4 {
			t.Errorf("Wilson(%d, %d) = (%.4f, %.4f), want (%.4f, %.4f)", tt.k, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
	if lo, hi := playbook.Wilson(0, 0, playbook.Z); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("Wilson(0, 0) = (%v, %v), want NaN", lo, hi)
	}
}

func TestNormalize(t *testing.T) {
	for _, tt := range []struct{ a, b string }{
		{"Refund the fee.", "refund  the fee"},
		{"  退款。", "退款"},
		{"ＶＩＰ　升级！", "vip 升级"},
		{"Replace it!", "replace it"},
	} {
		if x, y := playbook.Normalize(tt.a), playbook.Normalize(tt.b); x != y {
			t.Errorf("Normalize(%q) = %q, Normalize(%q) = %q: want equal", tt.a, x, tt.b, y)
		}
	}
	for _, tt := range []struct{ a, b string }{{"退款", "全额退款"}, {"refund", "refunds"}} {
		if playbook.Normalize(tt.a) == playbook.Normalize(tt.b) {
			t.Errorf("%q and %q normalise alike", tt.a, tt.b)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func resolved(accepted string, o customer.Outcome, proposed ...string) playbook.Complaint {
	return playbook.Complaint{Options: proposed, Rounds: []playbook.Round{{Accepted: &accepted, Outcome: &o}}}
}

// TestBuildRanksByTheSureRate: an option satisfied 9 times of 10 ranks
// above one satisfied once of once; spellings of one option are counted
// together and shown by the most frequent; options without a verdict come
// last; steps and compensation are summed.
func TestBuildRanksByTheSureRate(t *testing.T) {
	var cs []playbook.Complaint
	for i := range 10 {
		o := customer.Satisfied
		if i == 0 {
			o = customer.Unsatisfied
		}
		spelling := "Replace the item"
		if i%3 == 0 {
			spelling = "replace the item."
		}
		cs = append(cs, resolved(spelling, o, spelling, "Refund"))
	}
	cs = append(cs, resolved("Voucher", customer.Satisfied, "Voucher", "Refund"))
	cs[1].Rounds[0].Reopened = true
	cs[2].Rounds[0].Retained, cs[3].Rounds[0].Retained = ptr(true), ptr(false)
	cs[2].Steps = []customer.RecoveryStep{customer.RecoverySteps()[0], customer.RecoverySteps()[1]}
	cs[3].Steps = []customer.RecoveryStep{customer.RecoverySteps()[0]}
	cs[2].Compensation = []customer.Money{{AmountMinor: 500, Currency: "CNY"}}
	cs[4].Compensation = []customer.Money{{AmountMinor: 1500, Currency: "CNY"}, {AmountMinor: 3, Currency: "USD"}}
	cs = append(cs, playbook.Complaint{Options: []string{"Apologise"}}) // unresolved

	bk := playbook.Build(cs)
	// A complaint reopened after an UNSATISFIED voucher and resolved again
	// with a refund: both verdicts count, each for its option.
	cs = append(cs, playbook.Complaint{Options: []string{"Voucher", "Refund"}, Rounds: []playbook.Round{
		{Accepted: ptr("voucher"), Outcome: ptr(customer.Unsatisfied), Reopened: true},
		{Accepted: ptr("Refund"), Outcome: ptr(customer.Satisfied)},
	}})
	if bk := playbook.Build(cs); bk.Complaints != 13 || bk.Resolved != 12 || bk.Satisfied != 11 || bk.Unsatisfied != 2 || bk.Reopened != 2 ||
		bk.Options[1].Text != "Refund" || bk.Options[1].Satisfied != 1 || bk.Options[2].Text != "Voucher" || bk.Options[2].Unsatisfied != 1 || bk.Options[2].Reopened != 1 {
		t.Errorf("with a reopened complaint resolved twice: %+v", bk)
	}
	if bk.Complaints != 12 || bk.Resolved != 11 || bk.Satisfied != 10 || bk.Unsatisfied != 1 || bk.Reopened != 1 {
		t.Errorf("totals %+v", bk)
	}
	var got []string
	for _, o := range bk.Options {
		got = append(got, o.Text)
	}
	want := []string{"Replace the item", "Voucher", "Refund", "Apologise"}
	if len(got) != len(want) {
		t.Fatalf("options %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("options %q, want %q", got, want)
		}
	}
	r := bk.Options[0]
	if r.Proposed != 10 || r.Accepted != 10 || r.Satisfied != 9 || r.Unsatisfied != 1 || r.Reopened != 1 || r.Retained != 1 || r.RetainedKnown != 2 {
		t.Errorf("replace: %+v", r)
	}
	if math.Abs(r.Rate-0.9) > 1e-9 || math.Abs(r.Lower-0.5958) > 1e-4 {
		t.Errorf("replace: rate %v lower %v", r.Rate, r.Lower)
	}
	if ref := bk.Options[2]; ref.Proposed != 11 || ref.Accepted != 0 || !math.IsNaN(ref.Rate) {
		t.Errorf("refund: %+v", ref)
	}
	if len(bk.Steps) != 2 || bk.Steps[0].Count != 2 || bk.Steps[1].Count != 1 {
		t.Errorf("steps %+v", bk.Steps)
	}
	if len(bk.Compensation) != 2 || bk.Compensation[0] != (customer.Money{AmountMinor: 2000, Currency: "CNY"}) || bk.Compensation[1].AmountMinor != 3 {
		t.Errorf("compensation %+v", bk.Compensation)
	}
}
