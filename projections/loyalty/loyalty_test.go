package loyalty_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/loyalty"
)

// now is the instant every worked example is scored at; ago(d) is d days
// before it, so day counts are exact.
var now = time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)

func ago(d float64) time.Time { return now.Add(-time.Duration(d * float64(24*time.Hour))) }

func fact(d float64, e customer.Event) lifecycle.Fact { return lifecycle.Fact{At: ago(d), Event: e} }

func buy(d float64, yuan int64) lifecycle.Fact {
	return fact(d, &customer.PurchaseMade{OrderID: "o", Amount: customer.Money{AmountMinor: yuan * 100, Currency: "CNY"}})
}

func rules(t *testing.T) *loyalty.Rules {
	t.Helper()
	r, err := loyalty.NewRules(loyalty.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Example A — a regular who never complained.
// Registered 400 days ago; six ¥500 purchases 300, 240, 180, 120, 60 and
// 30 days ago; one survey, 4/5.
//
//	recency    20 × (1 − 30/365)                                = 18.356
//	frequency  6 purchase days in 365 → 5 × min(6, 5)           = 25
//	monetary   s = 500/1000 × (2^(−300/365) + 2^(−240/365) + 2^(−180/365)
//	                + 2^(−120/365) + 2^(−60/365) + 2^(−30/365))
//	             = 0.5 × (0.5657 + 0.6340 + 0.7105 + 0.7962 + 0.8923 + 0.9446)
//	             = 2.2716;  5 × log2(1 + 2.2716) = 5 × 1.7100   =  8.550
//	tenure     2 × 400/365                                      =  2.192
//	referrals  0                                                =  0
//	CSAT       5 × (4 − 3)                                      =  5
//	recovery   0, grievances 0
//	total      59.098 → 59; 6 ≥ 5 purchase days, 59 ≥ 50, no grievance,
//	           no referral → LOYAL
func exampleA() []lifecycle.Fact {
	return []lifecycle.Fact{
		fact(400, &customer.CustomerRegistered{CustomerID: "a"}),
		buy(300, 500), buy(240, 500), buy(180, 500), buy(120, 500), buy(60, 500), buy(30, 500),
		fact(29, &customer.SatisfactionRecorded{Score: 4}),
	}
}

// Example B — the recovery paradox: A plus a complaint resolved
// SATISFIED, a second survey (5/5) and a referral.
//
//	A's recency, frequency, monetary, tenure     18.356 + 25 + 8.550 + 2.192
//	CSAT       5 × ((4 + 5)/2 − 3) = 5 × 1.5                    =  7.5
//	recovery   1 complaint resolved SATISFIED × 5               =  5
//	referrals  1 × 5                                            =  5
//	total      71.598 → 72 (A scored 59: the customer whose complaint was
//	           resolved well scores higher than one who never complained);
//	           LOYAL + a referral → ADVOCATE
func exampleB() []lifecycle.Fact {
	return append(exampleA(),
		fact(100, &customer.ComplaintFiled{ComplaintID: "c-1"}),
		fact(95, &customer.ComplaintResolved{ComplaintID: "c-1", Outcome: customer.Satisfied}),
		fact(94, &customer.SatisfactionRecorded{Score: 5, ComplaintID: "c-1"}),
		fact(50, &customer.ReferralMade{ReferredCustomerID: "x"}),
	)
}

// Example C — a lapsing customer with an open complaint.
// Registered 3 × 365 days ago; ¥2,000 purchases 500, 400 and 200 days
// ago; grumbled 30 days ago, a 2/5 survey 25 days ago, a complaint filed
// 20 days ago and still open.
//
//	recency    20 × (1 − 200/365)                               =  9.041
//	frequency  1 purchase day in the last 365 → 5 × 1           =  5
//	monetary   s = 2000/1000 × (2^(−500/365) + 2^(−400/365) + 2^(−200/365))
//	             = 2 × (0.3869 + 0.4678 + 0.6840) = 3.0775
//	           5 × log2(4.0775) = 5 × 2.0277                    = 10.138
//	tenure     2 × 3                                            =  6
//	CSAT       5 × (2 − 3)                                      = −5
//	grievances the open complaint (the survey answered the grumble) −10
//	total      15.180 → 15; 3 purchase days in its life → REPEAT
func exampleC() []lifecycle.Fact {
	return []lifecycle.Fact{
		fact(3*365, &customer.CustomerRegistered{CustomerID: "c"}),
		buy(500, 2000), buy(400, 2000), buy(200, 2000),
		fact(30, &customer.GrumbleVoiced{}),
		fact(25, &customer.SatisfactionRecorded{Score: 2}),
		fact(20, &customer.ComplaintFiled{ComplaintID: "c-9"}),
	}
}

func TestWorkedExamples(t *testing.T) {
	tests := []struct {
		name      string
		history   []lifecycle.Fact
		want      loyalty.Breakdown
		wantScore int
		wantLevel loyalty.Level
	}{
		{"A regular", exampleA(), loyalty.Breakdown{Recency: 18.356, Frequency: 25, Monetary: 8.550, Tenure: 2.192, CSAT: 5}, 59, loyalty.LevelLoyal},
		{"B recovered advocate", exampleB(), loyalty.Breakdown{Recency: 18.356, Frequency: 25, Monetary: 8.550, Tenure: 2.192, Referrals: 5, CSAT: 7.5, Recovery: 5}, 72, loyalty.LevelAdvocate},
		{"C lapsing complainer", exampleC(), loyalty.Breakdown{Recency: 9.041, Frequency: 5, Monetary: 10.138, Tenure: 6, CSAT: -5, Grievances: -10}, 15, loyalty.LevelRepeat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rules(t).ScoreAt(tt.history, now)
			if got.Points != tt.wantScore || got.Level != tt.wantLevel {
				t.Errorf("score %d %s, want %d %s (%+v)", got.Points, got.Level, tt.wantScore, tt.wantLevel, got.Breakdown)
			}
			g, w := got.Breakdown, tt.want
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"recency", g.Recency, w.Recency}, {"frequency", g.Frequency, w.Frequency}, {"monetary", g.Monetary, w.Monetary},
				{"tenure", g.Tenure, w.Tenure}, {"referrals", g.Referrals, w.Referrals}, {"csat", g.CSAT, w.CSAT},
				{"recovery", g.Recovery, w.Recovery}, {"grievances", g.Grievances, w.Grievances}} {
				if math.Abs(c.got-c.want) > 0.0005 {
					t.Errorf("%s = %.4f, want %.3f", c.name, c.got, c.want)
				}
			}
		})
	}
}

func TestLevelsAndLimits(t *testing.T) {
	reg := fact(10, &customer.CustomerRegistered{CustomerID: "x"})
	tests := []struct {
		name      string
		history   []lifecycle.Fact
		wantLevel loyalty.Level
		check     func(loyalty.Score) bool
	}{
		{"no purchase: NONE, zero", []lifecycle.Fact{reg}, loyalty.LevelNone, func(s loyalty.Score) bool { return s.Points == 0 }},
		{"one purchase day: NONE", []lifecycle.Fact{reg, buy(5, 10), buy(5, 10)}, loyalty.LevelNone, func(s loyalty.Score) bool { return s.PurchaseDays365 == 1 }},
		{"two purchase days: REPEAT", []lifecycle.Fact{reg, buy(5, 10), buy(4, 10)}, loyalty.LevelRepeat, nil},
		{"a purchase 365 days ago is out of the window", []lifecycle.Fact{reg, buy(365, 10), buy(364, 10)}, loyalty.LevelRepeat,
			func(s loyalty.Score) bool { return s.PurchaseDays365 == 1 && s.Breakdown.Recency > 0 }},
		{"the score never goes below 0", []lifecycle.Fact{reg,
			fact(9, &customer.SatisfactionRecorded{Score: 1}), fact(8, &customer.ComplaintFiled{ComplaintID: "1"}),
			fact(7, &customer.ComplaintFiled{ComplaintID: "2"}), fact(6, &customer.ComplaintFiled{ComplaintID: "3"}),
			fact(5, &customer.ComplaintFiled{ComplaintID: "4"})}, loyalty.LevelNone,
			func(s loyalty.Score) bool { return s.Points == 0 && s.Breakdown.Grievances == -30 }},
		{"an unsettled complaint blocks LOYAL until a purchase", append(exampleA(),
			fact(20, &customer.ComplaintFiled{ComplaintID: "c"}), fact(19, &customer.ComplaintResolved{ComplaintID: "c", Outcome: customer.Unsatisfied})),
			loyalty.LevelRepeat, func(s loyalty.Score) bool { return s.Breakdown.Grievances == -10 }},
		{"… a purchase settles it", append(exampleA(),
			fact(20, &customer.ComplaintFiled{ComplaintID: "c"}), fact(19, &customer.ComplaintResolved{ComplaintID: "c", Outcome: customer.Unsatisfied}), buy(1, 500)),
			loyalty.LevelLoyal, func(s loyalty.Score) bool { return s.Breakdown.Grievances == 0 }},
		{"caps: 100 at most", func() []lifecycle.Fact {
			h := []lifecycle.Fact{fact(3000, &customer.CustomerRegistered{CustomerID: "x"})}
			for d := 0; d < 300; d += 10 {
				h = append(h, buy(float64(d), 100000))
			}
			for i := range 5 {
				id := string(rune('a' + i))
				h = append(h, fact(1, &customer.ComplaintFiled{ComplaintID: id}), fact(1, &customer.ComplaintResolved{ComplaintID: id, Outcome: customer.Satisfied}),
					fact(1, &customer.SatisfactionRecorded{Score: 5}), fact(1, &customer.ReferralMade{}))
			}
			return h
		}(), loyalty.LevelAdvocate, func(s loyalty.Score) bool {
			b := s.Breakdown
			return s.Points == 100 && b.Tenure == 10 && b.Monetary == 15 && b.Referrals == 10 && b.Recovery == 10 && b.CSAT == 10 && b.Recency == 20
		}},
		{"currencies are normalised by their reference", []lifecycle.Fact{reg,
			fact(0, &customer.PurchaseMade{Amount: customer.Money{AmountMinor: 100000, Currency: "CNY"}})}, loyalty.LevelNone,
			func(s loyalty.Score) bool { return math.Abs(s.Breakdown.Monetary-5) < 1e-9 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rules(t).ScoreAt(tt.history, now)
			if got.Level != tt.wantLevel || (tt.check != nil && !tt.check(got)) {
				t.Errorf("got %d %s days365=%d %+v; want level %s", got.Points, got.Level, got.PurchaseDays365, got.Breakdown, tt.wantLevel)
			}
		})
	}
}

// The live read model agrees with ScoreAt, and its index with Get.
func TestProjector(t *testing.T) {
	p, err := loyalty.New(loyalty.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for id, h := range map[string][]lifecycle.Fact{"a": exampleA(), "b": exampleB(), "c": exampleC()} {
		for _, f := range h {
			p.Apply(id, f)
		}
	}
	p.Refresh(now)
	top := p.Top(2)
	if len(top) != 2 || top[0].CustomerID != "b" || top[0].Points != 72 || top[1].CustomerID != "a" || top[1].Level != loyalty.LevelLoyal {
		t.Errorf("Top(2) = %+v", top)
	}
	if got := p.CountAtLeast(50); got != 2 {
		t.Errorf("CountAtLeast(50) = %d", got)
	}
	if s, _ := p.Get("c"); s.Points != 15 {
		t.Errorf("Get(c) = %d", s.Points)
	}
	p.Refresh(now.Add(365 * 24 * time.Hour)) // a year on, everyone has lapsed
	if got := p.CountAtLeast(50); got != 0 {
		t.Errorf("a year later CountAtLeast(50) = %d", got)
	}
}

func TestConfigValidate(t *testing.T) {
	c := loyalty.DefaultConfig()
	c.Reference["USD"] = -1
	c.LoyalMinScore = 101
	err := c.Validate()
	var ce *loyalty.ConfigError
	if !errors.Is(err, loyalty.ErrInvalidConfig) || !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	for _, f := range []string{"reference.USD", "loyalMinScore"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%v does not name %s", err, f)
		}
	}
}

// The 365-day purchase-day window (a bitmap shifted as days pass) counts
// exactly what a naive count over the history gives, at random instants.
func TestPurchaseDaysWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	r := rules(t)
	for round := range 300 {
		at := now.Add(-1000 * 24 * time.Hour)
		h := []lifecycle.Fact{{At: at, Event: &customer.CustomerRegistered{}}}
		var times []time.Time
		for range rng.IntN(60) {
			at = at.Add(time.Duration(rng.Int64N(int64(40 * 24 * time.Hour))))
			pt := at
			if rng.IntN(6) == 0 { // a backfilled purchase, up to 300 days earlier
				pt = at.Add(-time.Duration(rng.Int64N(int64(300 * 24 * time.Hour))))
			}
			times = append(times, pt)
			h = append(h, lifecycle.Fact{At: pt, Event: &customer.PurchaseMade{Amount: customer.Money{AmountMinor: 100, Currency: "CNY"}}})
		}
		q := at.Add(time.Duration(rng.Int64N(int64(500 * 24 * time.Hour))))
		var s loyalty.State
		for _, f := range h {
			s.Apply(r, f)
		}
		days := map[int64]bool{}
		qd := q.Unix() / 86400
		for _, pt := range times {
			if d := pt.Unix() / 86400; qd-d < 365 && d <= qd {
				days[d] = true
			}
		}
		if got := s.At(r, q).PurchaseDays365; got != len(days) {
			t.Fatalf("round %d: window count %d, naive %d", round, got, len(days))
		}
	}
}
