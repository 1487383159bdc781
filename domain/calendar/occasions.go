package calendar

import "time"

// Yearly per-customer occasions: BIRTHDAY (origin = date of birth) and
// ANNIVERSARY (origin = registration date). An occasion occurs once a year
// on the origin's month and day, in the years after the origin's year; an
// origin on 29 February occurs on 28 February in common years.

// YearlyOccurrence returns the day the occasion that started on origin is
// greeted in year; ok is false for years up to origin's own year or for an
// invalid origin.
func YearlyOccurrence(origin Date, year int) (day Date, ok bool) {
	if !origin.Valid() || year <= origin.Year || year > 9999 {
		return Date{}, false
	}
	d := Date{Year: year, Month: origin.Month, Day: origin.Day}
	if origin.Month == time.February && origin.Day == 29 && !IsLeap(year) {
		d.Day = 28
	}
	return d, true
}

// NextYearly returns the first occurrence of the yearly occasion that
// started on origin strictly after after (pass yesterday to include today).
// It returns the zero Date for an invalid origin or past year 9999.
func NextYearly(origin, after Date) Date {
	start := max(after.Year, origin.Year+1)
	for y := start; y <= start+1; y++ {
		if d, ok := YearlyOccurrence(origin, y); ok && d.After(after) {
			return d
		}
	}
	return Date{}
}

// NextBirthday returns the first birthday greeting day strictly after after.
func NextBirthday(birthday, after Date) Date { return NextYearly(birthday, after) }

// NextAnniversary returns the first registration anniversary strictly after after.
func NextAnniversary(registered, after Date) Date { return NextYearly(registered, after) }

// IsYearlyOccurrence reports whether day is a greeting day of the yearly
// occasion that started on origin.
func IsYearlyOccurrence(origin, day Date) bool {
	d, ok := YearlyOccurrence(origin, day.Year)
	return ok && d == day
}
