package lifecycle

import (
	"math"
	"time"
)

// Purchases is a customer's purchase history reduced to what a BG/NBD
// style churn model needs, counted in distinct UTC calendar days.
type Purchases struct {
	// First is midnight UTC of the first purchase day.
	First time.Time
	// Last is midnight UTC of the latest purchase day.
	Last time.Time
	// Days is the number of distinct purchase days (repeat purchases x =
	// Days − 1). Zero means no purchase; First and Last are then zero.
	Days int
}

// ChurnView is what the lifecycle needs from a fitted churn model: DORMANT
// and LOST-by-churn come from it. A nil ChurnView, or one fitted on fewer
// customers than Policy.DormantMinFitted, makes no customer DORMANT.
//
// Implementations must be deterministic and P(alive) must not increase
// with t for a fixed history, as in BG/NBD; FallsBelow is the instant used
// for the transition, PAlive only feeds the human-readable reason.
//
// For BG/NBD (x = Days−1 > 0, t_x = Last−First and T = t−First in model
// units) P(alive) = 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)), so it
// falls below p at T* = (α+t_x)·((1/p−1)(b+x−1)/a)^(1/(r+x)) − α — a closed
// form.
type ChurnView interface {
	// FittedOn is the number of customers with purchases the model was
	// fitted on.
	FittedOn() int
	// PAlive is the probability that the customer with history h is
	// still alive at t (t ≥ h.Last).
	PAlive(h Purchases, t time.Time) float64
	// FallsBelow is the earliest instant at or after h.Last at which
	// P(alive) < p, and false when it never falls below p (e.g. a single
	// purchase day in BG/NBD, where P(alive) stays 1).
	FallsBelow(h Purchases, p float64) (time.Time, bool)
}

// never is the "no deadline" instant in the state's int64 clock.
const never = math.MaxInt64

const dayNanos = int64(Day)

// dayOf is the UTC day number of a Unix-nanosecond instant.
func dayOf(ns int64) int32 {
	d := ns / dayNanos
	if ns%dayNanos < 0 {
		d--
	}
	return int32(d)
}

// dayStart is the first instant of a UTC day number.
func dayStart(d int32) int64 { return int64(d) * dayNanos }
