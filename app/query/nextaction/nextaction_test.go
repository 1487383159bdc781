package nextaction_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/app/query/nextaction"
)

func TestRankOrder(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	reply := func(c string, due time.Time) nextaction.Action {
		return nextaction.Action{Kind: nextaction.ComplaintReply, CustomerID: c, Ref: "cp-" + c, DueAt: due}
	}
	fu := func(c string, due time.Time) nextaction.Action {
		return nextaction.Action{Kind: nextaction.FollowUp, CustomerID: c, Ref: "fu-" + c, DueAt: due}
	}
	rp := func(c string, due time.Time) nextaction.Action {
		return nextaction.Action{Kind: nextaction.Replenishment, CustomerID: c, Ref: "rp-" + c, DueAt: due}
	}
	wb := func(c string, v float64) nextaction.Action {
		return nextaction.Action{Kind: nextaction.WinBack, CustomerID: c, Value: v}
	}
	drop := func(c string, v float64) nextaction.Action {
		return nextaction.Action{Kind: nextaction.LoyaltyDrop, CustomerID: c, Value: v}
	}
	tests := []struct {
		name string
		want []nextaction.Action // in rank order
	}{
		{"kinds: complaint reply, follow-up, replenishment, win-back, loyalty drop",
			[]nextaction.Action{reply("a", t0), fu("b", t0), rp("c", t0), wb("d", 100), drop("e", 30)}},
		{"a complaint reply due later still beats an older follow-up",
			[]nextaction.Action{reply("a", t0.Add(time.Hour)), fu("b", t0.Add(-72*time.Hour))}},
		{"replies and follow-ups: longest overdue first",
			[]nextaction.Action{reply("b", t0.Add(-3*time.Hour)), reply("a", t0), fu("c", t0.Add(-48*time.Hour)), fu("a", t0.Add(-time.Hour))}},
		{"win-backs: highest value × P(alive) first, then loyalty drops by points",
			[]nextaction.Action{wb("z", 5000), wb("a", 120.5), wb("b", 120), drop("c", 25), drop("a", 8)}},
		{"ties: by customer, then reference",
			[]nextaction.Action{fu("a", t0), {Kind: nextaction.FollowUp, CustomerID: "a", Ref: "fu-b", DueAt: t0}, fu("b", t0), wb("a", 1), wb("b", 1)}},
		{"a due replenishment call beats the most valuable win-back",
			[]nextaction.Action{rp("a", t0), wb("b", 1e9)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := range uint64(20) {
				got := slices.Clone(tt.want)
				rand.New(rand.NewPCG(seed, 1)).Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
				nextaction.Rank(got)
				if !slices.Equal(got, tt.want) {
					t.Fatalf("shuffle %d ranked\n%v\nwant\n%v", seed, got, tt.want)
				}
				if b, ok := nextaction.Best(got); !ok || b != tt.want[0] {
					t.Fatalf("Best = %v, %v; want %v", b, ok, tt.want[0])
				}
			}
		})
	}
	if _, ok := nextaction.Best(nil); ok {
		t.Fatal("Best(nil) reported an action")
	}
}
