package followup

import (
	"errors"
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
)

// Day is 24 hours: the unit of every day-valued policy field.
const Day = 24 * time.Hour

// Policy holds the scheduler's rules. DefaultPolicy gives the values of
// issue 5 and the package documentation.
type Policy struct {
	// SatisfiedAfter: recovery follow-ups after a SATISFIED resolution,
	// as offsets from it (default 3 and 30 days).
	SatisfiedAfter []time.Duration
	// UnsatisfiedAfter: recovery follow-ups after an UNSATISFIED one
	// (default 7 days).
	UnsatisfiedAfter []time.Duration
	// RetryAfter is when one more try is due after a follow-up was
	// completed UNSATISFIED or NO_ANSWER (default 3 days).
	RetryAfter time.Duration
	// MaxRetries bounds the extra tries per follow-up (default 2: three
	// calls in all); 0 disables retries.
	MaxRetries int
	// RecoveredWithin: a customer with a SATISFIED resolution this long
	// before a holiday gets a holiday follow-up (default 90 days).
	RecoveredWithin time.Duration
	// HolidayLead: holiday follow-ups are planned once the holiday is at
	// most this far away (default 14 days).
	HolidayLead time.Duration
	// Holidays are the calendar keys of the major holidays (default
	// CN:spring_festival, CN:labour_day, CN:national_day).
	Holidays []string
	// ReplenishLead: a REPLENISHMENT follow-up is due this long before
	// the customer's predicted next purchase of a category (default 3
	// days: time to call before the bag runs out). At most 60 days.
	ReplenishLead time.Duration
	// ReplenishMinShape: only categories bought on a rhythm get
	// replenishment calls — the category prior's fitted Erlang shape k
	// (projections/replenish) at least this (default 2; k = 1 is
	// memoryless buying, a rice cooker bought whenever, with nothing to
	// anticipate). At least 1.
	ReplenishMinShape float64
	// MaxLateness: a follow-up due more than this before now is never
	// scheduled (default 7 days). See "History and staleness".
	MaxLateness time.Duration
}

// DefaultPolicy returns the default rules.
func DefaultPolicy() Policy {
	return Policy{
		SatisfiedAfter:    []time.Duration{3 * Day, 30 * Day},
		UnsatisfiedAfter:  []time.Duration{7 * Day},
		RetryAfter:        3 * Day,
		MaxRetries:        2,
		RecoveredWithin:   90 * Day,
		HolidayLead:       14 * Day,
		Holidays:          []string{"CN:spring_festival", "CN:labour_day", "CN:national_day"},
		ReplenishLead:     3 * Day,
		ReplenishMinShape: 2,
		MaxLateness:       7 * Day,
	}
}

// Validate reports every problem with p, joined; each matches
// ErrInvalidConfig.
func (p Policy) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: policy %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...)))
	}
	for _, d := range p.SatisfiedAfter {
		if d < 0 {
			bad("SatisfiedAfter", "%v is negative", d)
		}
	}
	for _, d := range p.UnsatisfiedAfter {
		if d < 0 {
			bad("UnsatisfiedAfter", "%v is negative", d)
		}
	}
	if p.RetryAfter <= 0 && p.MaxRetries > 0 {
		bad("RetryAfter", "%v must be positive when MaxRetries > 0", p.RetryAfter)
	}
	if p.MaxRetries < 0 || p.MaxRetries > 9 {
		bad("MaxRetries", "%d is not in 0..9", p.MaxRetries)
	}
	if p.RecoveredWithin < 0 {
		bad("RecoveredWithin", "%v is negative", p.RecoveredWithin)
	}
	if p.HolidayLead < 0 {
		bad("HolidayLead", "%v is negative", p.HolidayLead)
	}
	if p.ReplenishLead < 0 || p.ReplenishLead > 60*Day {
		bad("ReplenishLead", "%v is not in 0..60 days", p.ReplenishLead)
	}
	if !(p.ReplenishMinShape >= 1) {
		bad("ReplenishMinShape", "%v is below 1", p.ReplenishMinShape)
	}
	if p.MaxLateness < 0 {
		bad("MaxLateness", "%v is negative", p.MaxLateness)
	}
	for _, k := range p.Holidays {
		if _, err := calendar.Lookup(k, 2025); err != nil {
			bad("Holidays", "%q: %v", k, err)
		}
	}
	return errors.Join(errs...)
}
