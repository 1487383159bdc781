package lifecycle_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// Given two customers' histories folded live and then merged at an
// instant (Retire the merged one, Recompose the survivor from the union),
// the survivor's state, deadlines and later changes equal those of one
// customer who had the union history; the merged customer is out of
// every population and its later facts are ignored; the book's changes
// are the survivor's own up to the merge, one change at the merge, then
// the union's.
func TestMergeRecomposesTheSurvivor(t *testing.T) {
	for seed := range uint64(60) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 11))
			a := randomHistory(rng, day(0), 2+rng.IntN(12))
			b := randomHistory(rng, day(float64(rng.IntN(30))), 2+rng.IntN(12))
			last := a[len(a)-1].At
			if l := b[len(b)-1].At; l.After(last) {
				last = l
			}
			mergeAt := last.Add(time.Duration(rng.Int64N(int64(60 * lifecycle.Day))))
			union := slices.Concat(a, b)
			slices.SortStableFunc(union, func(x, y lifecycle.Fact) int { return x.At.Compare(y.At) })

			var heard []string
			p := newProjector(t, nil, func(id string, c lifecycle.StageChange) {
				if id == "A" {
					heard = append(heard, fmt.Sprintf("%v→%v@%s", c.From, c.To, c.At.Format(time.RFC3339)))
				}
			})
			for _, f := range a {
				p.Apply("A", f)
			}
			for _, f := range b {
				p.Apply("B", f)
			}
			for _, f := range union {
				p.Apply("U", f)
			}
			p.AdvanceTo(mergeAt)
			before, _ := p.Get("A")
			nBefore := len(heard)
			p.Retire("B", mergeAt, "merged into A")
			p.Recompose("A", union, mergeAt, "merged with B")

			check := func(when string) {
				t.Helper()
				ga, _ := p.Get("A")
				gu, _ := p.Get("U")
				if ga != gu {
					t.Errorf("%s: survivor %+v, one customer with the union history %+v", when, ga, gu)
				}
				if gb, _ := p.Get("B"); gb.Stage != lifecycle.StageNone || !p.Retired("B") {
					t.Errorf("%s: merged customer %+v still in the book", when, gb)
				}
				counts := p.Counts()
				if n := counts[gu.Stage]; n != 2 {
					t.Errorf("%s: %d customers in %s, want the survivor and U: %v", when, n, gu.Stage, counts)
				}
				if slices.Contains(p.InStage(gu.Stage), "B") {
					t.Errorf("%s: the merged customer is listed in %s", when, gu.Stage)
				}
			}
			check("at the merge")
			switch after, _ := p.Get("A"); {
			case after.Stage == before.Stage && len(heard) != nBefore:
				t.Errorf("the merge changed nothing but the hook heard %v", heard[nBefore:])
			case after.Stage != before.Stage && (len(heard) != nBefore+1 || heard[nBefore] != fmt.Sprintf("%v→%v@%s", before.Stage, after.Stage, mergeAt.Format(time.RFC3339))):
				t.Errorf("the merge should be one change %v→%v at the merge; heard %v", before.Stage, after.Stage, heard[nBefore:])
			}

			// Later facts and the clock: the merged stream's facts are
			// ignored, the survivor's fold on as U's.
			later := mergeAt.Add(time.Hour)
			p.Apply("B", lifecycle.Fact{At: later, Event: purchase("late")})
			p.Apply("A", lifecycle.Fact{At: later, Event: complaint("c-late")})
			p.Apply("U", lifecycle.Fact{At: later, Event: complaint("c-late")})
			p.AdvanceTo(later.Add(400 * lifecycle.Day))
			check("later")

			// An unmerge: each recomposed from its own history.
			p.Recompose("B", b, later.Add(400*lifecycle.Day), "unmerged from A")
			if p.Retired("B") {
				t.Error("a recomposed customer is still retired")
			}
			if gb, _ := p.Get("B"); gb.Stage == lifecycle.StageNone {
				t.Errorf("B after the unmerge: %+v", gb)
			}
		})
	}
}

// A retired customer's digest differs from a customer who never had a
// fact: a rebuild that forgot the merge is caught.
func TestRetiredCustomerInDigest(t *testing.T) {
	p1 := newProjector(t, nil, nil)
	p2 := newProjector(t, nil, nil)
	p1.Apply("A", f(0, registered()))
	p2.Apply("A", f(0, registered()))
	p1.Retire("A", day(1), "merged into B")
	p2.Apply("A", f(0, erased()))
	if p1.Digest() == p2.Digest() {
		t.Error("the digest does not see the retirement")
	}
}

// A rebuild folds the log without moving the clock between events, so a
// merge may reach customers whose time-driven changes since their last
// fact (GRUMBLING → SILENT, SILENT → LOST …) have not fired yet. Retire
// and Recompose fire them first, dated when they happened: the changes
// the book hears for both customers, and so the populations at every
// instant before the merge, are those of a live fold whose clock reached
// the merge first (what customer(asOf:) says of each), and the survivor
// ends in the same state.
func TestMergeInARebuildFiresTheChangesDueBeforeIt(t *testing.T) {
	for seed := range uint64(60) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 23))
			a := randomHistory(rng, day(0), 2+rng.IntN(12))
			b := randomHistory(rng, day(float64(rng.IntN(30))), 2+rng.IntN(12))
			last := a[len(a)-1].At
			if l := b[len(b)-1].At; l.After(last) {
				last = l
			}
			mergeAt := last.Add(time.Duration(rng.Int64N(int64(200 * lifecycle.Day))))
			union := slices.Concat(a, b)
			slices.SortStableFunc(union, func(x, y lifecycle.Fact) int { return x.At.Compare(y.At) })

			// Each customer's changes in the order heard (the order across
			// customers is the clock's, which a rebuild does not keep).
			fold := func(live bool) (map[string][]string, lifecycle.Status) {
				heard := map[string][]string{}
				p := newProjector(t, nil, func(id string, c lifecycle.StageChange) {
					heard[id] = append(heard[id], fmt.Sprintf("%v→%v@%s", c.From, c.To, c.At.Format(time.RFC3339Nano)))
				})
				for _, f := range a {
					p.Apply("A", f)
				}
				for _, f := range b {
					p.Apply("B", f)
				}
				if live {
					p.AdvanceTo(mergeAt)
				}
				p.Retire("B", mergeAt, "merged into A")
				p.Recompose("A", union, mergeAt, "merged with B")
				p.AdvanceTo(mergeAt.Add(400 * lifecycle.Day))
				st, _ := p.Get("A")
				return heard, st
			}
			liveHeard, liveA := fold(true)
			rebuiltHeard, rebuiltA := fold(false)
			for _, id := range []string{"A", "B"} {
				if !slices.Equal(liveHeard[id], rebuiltHeard[id]) {
					t.Errorf("changes of %s heard\nlive    %v\nrebuilt %v", id, liveHeard[id], rebuiltHeard[id])
				}
			}
			if liveA != rebuiltA {
				t.Errorf("survivor live %+v, rebuilt %+v", liveA, rebuiltA)
			}
		})
	}
}
