package churn

import (
	"fmt"
	"math"
	"time"
)

// Summary is one customer's purchase history reduced to the BG/NBD
// sufficient statistics, in some time Unit counted from the customer's
// first purchase.
type Summary struct {
	// X is the number of repeat purchases: distinct purchase days after
	// the first purchase day, up to the as-of date.
	X float64
	// Tx is the recency: the time of the last purchase since the first
	// (0 when X is 0).
	Tx float64
	// T is the age: the time from the first purchase to the as-of date.
	T float64
}

// Validate reports whether s lies in the model's domain: all fields
// finite, X ≥ 0, 0 ≤ Tx ≤ T, and Tx = 0 when X = 0. X need not be an
// integer for the formulas, though histories always give one.
func (s Summary) Validate() error {
	return s.validate(-1)
}

func (s Summary) validate(i int) error {
	reason := ""
	switch {
	case math.IsNaN(s.X) || math.IsInf(s.X, 0) || math.IsNaN(s.Tx) || math.IsInf(s.Tx, 0) || math.IsNaN(s.T) || math.IsInf(s.T, 0):
		reason = "fields must be finite"
	case s.X < 0:
		reason = "X must be ≥ 0"
	case s.Tx < 0:
		reason = "Tx must be ≥ 0"
	case s.Tx > s.T:
		reason = "Tx must be ≤ T"
	case s.X == 0 && s.Tx != 0:
		reason = "Tx must be 0 when X is 0"
	default:
		return nil
	}
	return &SummaryError{Index: i, Summary: s, Reason: reason}
}

// Unit is the time unit of a Summary's Tx and T and of forecast
// horizons. The zero Unit is invalid; use Day or Week.
type Unit int

// The supported units.
const (
	// Day is one calendar day.
	Day Unit = iota + 1
	// Week is seven calendar days.
	Week
)

// ParseUnit parses "DAY" or "WEEK" (the GraphQL TimeUnit names).
func ParseUnit(s string) (Unit, error) {
	switch s {
	case "DAY":
		return Day, nil
	case "WEEK":
		return Week, nil
	}
	return 0, fmt.Errorf("%w: %q (want DAY or WEEK)", ErrInvalidUnit, s)
}

// String returns "DAY" or "WEEK".
func (u Unit) String() string {
	switch u {
	case Day:
		return "DAY"
	case Week:
		return "WEEK"
	}
	return fmt.Sprintf("Unit(%d)", int(u))
}

// Days returns the length of the unit in days (1 or 7), or 0 for an
// invalid unit.
func (u Unit) Days() int {
	switch u {
	case Day:
		return 1
	case Week:
		return 7
	}
	return 0
}

// DayNumber returns the civil date of t, in t's own location, as the
// number of days since 1970-01-01. Two instants on the same calendar day
// (as seen in their location) get the same number.
func DayNumber(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// SummaryFromPurchases builds a customer's Summary as of the calendar
// day of asOf from the instants of their purchases. Purchases are
// reduced to calendar days (each in its own location; see DayNumber), so
// several purchases on one day count once, as in the paper's data;
// purchases after asOf's day are ignored; the order of purchases does
// not matter.
//
// A customer with no purchase on or before asOf has no Summary: the
// error is ErrNoPurchases, and the caller must leave that customer out
// of Fit (the model describes customers from their first purchase on).
func SummaryFromPurchases(purchases []time.Time, asOf time.Time, unit Unit) (Summary, error) {
	days := make([]int64, len(purchases))
	for i, p := range purchases {
		days[i] = DayNumber(p)
	}
	return SummaryFromDays(days, DayNumber(asOf), unit)
}

// SummaryFromDays is SummaryFromPurchases for purchase days already
// given as day numbers (any consistent day count, e.g. DayNumber).
// Repeated day numbers count once; days after asOfDay are ignored.
func SummaryFromDays(purchaseDays []int64, asOfDay int64, unit Unit) (Summary, error) {
	per := unit.Days()
	if per == 0 {
		return Summary{}, fmt.Errorf("%w: %v", ErrInvalidUnit, unit)
	}
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for _, d := range purchaseDays {
		if d > asOfDay {
			continue
		}
		first = min(first, d)
		last = max(last, d)
	}
	if first > asOfDay {
		return Summary{}, ErrNoPurchases
	}
	// Distinct days strictly after the first, up to asOf. A small set
	// avoids sorting the caller's slice.
	seen := make(map[int64]struct{}, len(purchaseDays))
	for _, d := range purchaseDays {
		if d > first && d <= asOfDay {
			seen[d] = struct{}{}
		}
	}
	u := float64(per)
	return Summary{
		X:  float64(len(seen)),
		Tx: float64(last-first) / u,
		T:  float64(asOfDay-first) / u,
	}, nil
}
