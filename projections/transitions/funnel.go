package transitions

import (
	"slices"
	"time"

	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// Funnel is the complaint → silence → lost path of a cohort: the customers
// who entered COMPLAINING (first time) within the funnel's window. Each
// later step counts a customer of the step before: went silent (entered
// SILENT after complaining), lost (entered LOST after that silence), won
// back (left LOST after that).
type Funnel struct {
	Complained, WentSilent, Lost, WonBack int
	// Median days from each step to the next, over the customers who
	// took it; NaN-free: ok flags say whether there was anyone.
	DaysToSilent, DaysToLost, DaysToWinBack Median
}

// Median is a median number of days, when there is any sample.
type Median struct {
	Days float64
	OK   bool
}

// Funnel computes the funnel of the customers whose first COMPLAINING
// began in [from, to); zero from or to leave that side open.
func (t *Log) Funnel(from, to time.Time) Funnel {
	t.mu.RLock()
	defer t.mu.RUnlock()
	per := t.byCustomer()
	lo, hi := int64(-1<<62), int64(1<<62)
	if !from.IsZero() {
		lo = nanos(from)
	}
	if !to.IsZero() {
		hi = nanos(to)
	}
	var f Funnel
	var toSilent, toLost, toBack []float64
	for c := range t.names {
		step := 0 // 0 none, 1 complained, 2 silent, 3 lost, 4 won back
		var at int64
		for _, k := range per.of(int32(c)) {
			to := lifecycle.Stage(t.stage[k] & 0xf)
			from := lifecycle.Stage(t.stage[k] >> 4)
			x := t.at[k]
			switch {
			case step == 0 && to == lifecycle.StageComplaining:
				if x < lo || x >= hi {
					step = -1 // first complaint outside the window: not in the cohort
					break
				}
				step, at = 1, x
				f.Complained++
			case step == 1 && to == lifecycle.StageSilent:
				toSilent = append(toSilent, days(x-at))
				step, at = 2, x
				f.WentSilent++
			case step == 2 && to == lifecycle.StageLost:
				toLost = append(toLost, days(x-at))
				step, at = 3, x
				f.Lost++
			case step == 3 && from == lifecycle.StageLost && to != lifecycle.StageLost && to != lifecycle.StageNone: // StageNone: merged away, not won back
				toBack = append(toBack, days(x-at))
				step = 4
				f.WonBack++
			}
			if step < 0 || step == 4 {
				break
			}
		}
	}
	f.DaysToSilent, f.DaysToLost, f.DaysToWinBack = median(toSilent), median(toLost), median(toBack)
	return f
}

func days(ns int64) float64 { return float64(ns) / float64(24*time.Hour) }

func median(xs []float64) Median {
	if len(xs) == 0 {
		return Median{}
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return Median{Days: xs[n/2], OK: true}
	}
	return Median{Days: (xs[n/2-1] + xs[n/2]) / 2, OK: true}
}
