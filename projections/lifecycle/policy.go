package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Day is the unit of every day-valued threshold: 24 hours exactly. Purchase
// days are UTC calendar days.
const Day = 24 * time.Hour

// Policy holds every lifecycle threshold (DESIGN §4). The zero Policy is
// invalid; start from DefaultPolicy. Analysts may replay history with
// another policy: StageAt takes it as a parameter.
type Policy struct {
	// NewBelowPurchases: a customer with fewer purchases (PurchaseMade
	// events) than this is NEW. Default 2.
	NewBelowPurchases int `json:"newBelowPurchases"`
	// LoyalPurchaseDays: at least this many distinct purchase days within
	// the last LoyalWindowDays make a customer without grievance LOYAL.
	// Default 5; at most 366.
	LoyalPurchaseDays int `json:"loyalPurchaseDays"`
	// LoyalWindowDays is the LOYAL look-back window. Default 365.
	LoyalWindowDays int `json:"loyalWindowDays"`
	// SilentAfterDays: a customer with a grievance and no inbound contact
	// for this many days is SILENT. Default 30. It is also the quiet
	// window DORMANT needs (see the package doc).
	SilentAfterDays int `json:"silentAfterDays"`
	// LostAfterSilentDays: SILENT for this many more days makes a customer
	// LOST. Default 60.
	LostAfterSilentDays int `json:"lostAfterSilentDays"`
	// DormantBelowPAlive: a customer without grievance whose P(alive) is
	// below this is DORMANT. Default 0.3.
	DormantBelowPAlive float64 `json:"dormantBelowPAlive"`
	// LostBelowPAlive: below this P(alive) a DORMANT customer is LOST.
	// Default 0.05; must be below DormantBelowPAlive.
	LostBelowPAlive float64 `json:"lostBelowPAlive"`
	// DormantMinFitted: DORMANT needs a churn model fitted on at least
	// this many customers with purchases; below it no customer is DORMANT.
	// Default 500.
	DormantMinFitted int `json:"dormantMinFitted"`
	// SatisfiedScore: a SatisfactionRecorded score at or above this (1–5)
	// settles a complaint that was resolved UNSATISFIED or declined.
	// Default 4.
	SatisfiedScore int `json:"satisfiedScore"`
}

// DefaultPolicy returns the thresholds of DESIGN §4.
func DefaultPolicy() Policy {
	return Policy{
		NewBelowPurchases:   2,
		LoyalPurchaseDays:   5,
		LoyalWindowDays:     365,
		SilentAfterDays:     30,
		LostAfterSilentDays: 60,
		DormantBelowPAlive:  0.3,
		LostBelowPAlive:     0.05,
		DormantMinFitted:    500,
		SatisfiedScore:      4,
	}
}

// Validate reports every wrong field at once (errors.Join of
// *PolicyError, each matching ErrInvalidPolicy).
func (p Policy) Validate() error {
	var errs []error
	positive := func(field string, v int) {
		if v <= 0 {
			errs = append(errs, &PolicyError{Field: field, Reason: fmt.Sprintf("must be positive, got %d", v)})
		}
	}
	positive("newBelowPurchases", p.NewBelowPurchases)
	positive("loyalPurchaseDays", p.LoyalPurchaseDays)
	positive("loyalWindowDays", p.LoyalWindowDays)
	positive("silentAfterDays", p.SilentAfterDays)
	positive("lostAfterSilentDays", p.LostAfterSilentDays)
	positive("dormantMinFitted", p.DormantMinFitted)
	positive("satisfiedScore", p.SatisfiedScore)
	if p.LoyalPurchaseDays > 366 {
		errs = append(errs, &PolicyError{Field: "loyalPurchaseDays", Reason: fmt.Sprintf("must be at most 366, got %d", p.LoyalPurchaseDays)})
	}
	if p.LoyalWindowDays > 100*366 {
		errs = append(errs, &PolicyError{Field: "loyalWindowDays", Reason: fmt.Sprintf("must be at most %d, got %d", 100*366, p.LoyalWindowDays)})
	}
	if p.SatisfiedScore > 5 {
		errs = append(errs, &PolicyError{Field: "satisfiedScore", Reason: fmt.Sprintf("must be a score 1–5, got %d", p.SatisfiedScore)})
	}
	prob := func(field string, v float64) bool {
		if !(v > 0 && v < 1) { // also rejects NaN
			errs = append(errs, &PolicyError{Field: field, Reason: fmt.Sprintf("must be a probability in (0, 1), got %g", v)})
			return false
		}
		return true
	}
	okD := prob("dormantBelowPAlive", p.DormantBelowPAlive)
	okL := prob("lostBelowPAlive", p.LostBelowPAlive)
	if okD && okL && p.LostBelowPAlive >= p.DormantBelowPAlive {
		errs = append(errs, &PolicyError{Field: "lostBelowPAlive", Reason: fmt.Sprintf("must be below dormantBelowPAlive (%g), got %g", p.DormantBelowPAlive, p.LostBelowPAlive)})
	}
	return errors.Join(errs...)
}

// LoadPolicy reads a policy from JSON. Fields left out keep their
// DefaultPolicy values; an unknown field, trailing data or a wrong
// threshold is an error naming the field (a *PolicyError, matching
// ErrInvalidPolicy).
func LoadPolicy(r io.Reader) (Policy, error) {
	p := DefaultPolicy()
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Policy{}, decodeError(err)
	}
	if dec.More() {
		return Policy{}, &PolicyError{Field: "(document)", Reason: "trailing data after the policy object"}
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return &PolicyError{Field: typeErr.Field, Reason: fmt.Sprintf("must be a JSON %s, got %s", typeErr.Type, typeErr.Value)}
	}
	// encoding/json reports unknown fields only as text: `json: unknown field "x"`.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &PolicyError{Field: strings.Trim(name, `"`), Reason: "unknown field"}
	}
	return fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
}
