package lifecycle_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// randomHistory draws one customer's stream: registration, then events
// with gaps from minutes to months (some at the same instant), so that
// every threshold gets crossed somewhere.
func randomHistory(rng *rand.Rand, start time.Time, n int) []lifecycle.Fact {
	at := start
	out := []lifecycle.Fact{{At: at, Event: registered()}}
	var open, closed []string
	next := 0
	for range n {
		switch g := rng.IntN(10); {
		case g == 0: // same instant
		case g < 5:
			at = at.Add(time.Duration(rng.Int64N(int64(5 * lifecycle.Day))))
		case g < 8:
			at = at.Add(time.Duration(rng.Int64N(int64(45 * lifecycle.Day))))
		default:
			at = at.Add(time.Duration(rng.Int64N(int64(200 * lifecycle.Day))))
		}
		var e customer.Event
		switch k := rng.IntN(20); {
		case k < 6:
			e = purchase(fmt.Sprintf("o-%d", k))
		case k < 8:
			e = inbound()
		case k < 10:
			e = outbound()
		case k < 11:
			e = grumble()
		case k < 12:
			next++
			id := fmt.Sprintf("c-%d", next)
			open = append(open, id)
			e = complaint(id)
		case k < 14 && len(open) > 0:
			i := rng.IntN(len(open))
			id := open[i]
			open = slices.Delete(open, i, i+1)
			closed = append(closed, id)
			switch rng.IntN(3) {
			case 0:
				e = resolved(id, customer.Satisfied)
			case 1:
				e = resolved(id, customer.Unsatisfied)
			default:
				e = declined(id)
			}
		case k < 15 && len(closed) > 0:
			i := rng.IntN(len(closed))
			id := closed[i]
			closed = slices.Delete(closed, i, i+1)
			open = append(open, id)
			e = reopened(id)
		case k < 16:
			s := &customer.SatisfactionRecorded{Score: 1 + rng.IntN(5)}
			if len(closed) > 0 && rng.IntN(2) == 0 {
				s.ComplaintID = closed[rng.IntN(len(closed))]
			}
			e = s
		case k < 17:
			e = referral()
		case k < 18:
			if rng.IntN(3) == 0 {
				e = markedLost()
			} else {
				e = wonBack()
			}
		default:
			e = greeting()
		}
		out = append(out, lifecycle.Fact{At: at, Event: e})
	}
	return out
}

// The live projection — facts applied in order across many customers,
// the clock advanced at random moments in between, then to t — equals
// StageAt recomputed from each customer's history up to t: stage, since,
// next deadline and the whole change list (collected from OnChange).
func TestLiveEqualsStageAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(2024, 3))
	rounds, customers := 150, 12
	if testing.Short() {
		rounds = 30
	}
	for round := range rounds {
		var churn lifecycle.ChurnView
		if round%2 == 1 {
			churn = cdnow(1000)
		}
		type ev struct {
			id string
			f  lifecycle.Fact
		}
		histories := map[string][]lifecycle.Fact{}
		var all []ev
		for c := range customers {
			id := fmt.Sprintf("cust-%d", c)
			h := randomHistory(rng, t0.Add(time.Duration(rng.Int64N(int64(60*lifecycle.Day)))), rng.IntN(40))
			histories[id] = h
			for _, f := range h {
				all = append(all, ev{id, f})
			}
		}
		slices.SortStableFunc(all, func(a, b ev) int { return a.f.At.Compare(b.f.At) })
		last := all[len(all)-1].f.At
		// t: anywhere from the start to a year after the last fact.
		at := t0.Add(time.Duration(rng.Int64N(int64(last.Sub(t0) + 365*lifecycle.Day))))

		live := map[string][]lifecycle.StageChange{}
		p, err := lifecycle.New(lifecycle.Config{
			Policy:   lifecycle.DefaultPolicy(),
			Churn:    churn,
			OnChange: func(id string, c lifecycle.StageChange) { live[id] = append(live[id], c) },
		})
		if err != nil {
			t.Fatal(err)
		}
		prev := t0
		for _, e := range all {
			if e.f.At.After(at) {
				break
			}
			if rng.IntN(4) == 0 { // the clock ticks somewhere before this fact
				p.AdvanceTo(prev.Add(time.Duration(rng.Int64N(int64(e.f.At.Sub(prev)) + 1))))
			}
			p.Apply(e.id, e.f)
			prev = e.f.At
		}
		p.AdvanceTo(at)

		for id, h := range histories {
			want, err := lifecycle.StageAt(h, at, lifecycle.DefaultPolicy(), churn)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := p.Get(id)
			if !ok {
				if want.Stage != lifecycle.StageNone {
					t.Fatalf("round %d %s: live has no entry, StageAt says %s", round, id, want.Stage)
				}
				continue
			}
			if got.Stage != want.Stage || !got.Since.Equal(want.Since) || !got.Next.Equal(want.Next) || got.NextStage != want.NextStage {
				t.Fatalf("round %d %s at %v:\nlive     %s since %v next %v %s\nStageAt  %s since %v next %v %s\nhistory %v",
					round, id, at, got.Stage, got.Since, got.Next, got.NextStage, want.Stage, want.Since, want.Next, want.NextStage, h)
			}
			if fmt.Sprint(live[id]) != fmt.Sprint(want.Changes) {
				t.Fatalf("round %d %s: changes differ\nlive    %v\nStageAt %v", round, id, live[id], want.Changes)
			}
		}
		// The stage index agrees with the per-customer stages.
		counts := p.Counts()
		for _, s := range lifecycle.Stages() {
			ids := p.InStage(s)
			if len(ids) != counts[s] {
				t.Fatalf("round %d: InStage(%s) has %d, Counts %d", round, s, len(ids), counts[s])
			}
			for _, id := range ids {
				if st, _ := p.Get(id); st.Stage != s {
					t.Fatalf("round %d: %s listed in %s but is %s", round, id, s, st.Stage)
				}
			}
		}
	}
}

// The stages reached by the random histories, so the property test is
// known to cover every stage (a guard against a generator that never
// gets anywhere interesting).
func TestRandomHistoriesReachEveryStage(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	seen := map[lifecycle.Stage]bool{}
	for range 300 {
		h := randomHistory(rng, t0, 40)
		res, err := lifecycle.StageAt(h, h[len(h)-1].At.Add(400*lifecycle.Day), lifecycle.DefaultPolicy(), cdnow(1000))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Changes {
			seen[c.To] = true
		}
	}
	for _, s := range lifecycle.Stages() {
		if !seen[s] {
			t.Errorf("no random history reached %s", s)
		}
	}
}
