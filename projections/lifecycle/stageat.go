package lifecycle

import "time"

// Result is a customer's lifecycle as of an instant.
type Result struct {
	// Stage at the instant; StageNone before registration.
	Stage Stage
	// Since is when Stage began (zero for StageNone).
	Since time.Time
	// Changes is every stage change up to the instant, oldest first.
	Changes []StageChange
	// Next is the instant after which the stage changes with no new fact
	// (zero when nothing is due), and NextStage the stage it changes to.
	// The deadline index keeps this per customer.
	Next      time.Time
	NextStage Stage
}

// StageAt is the customer's lifecycle at t: the one pure function of
// (history, t, policy, churn) behind both the live projection and as-of
// queries. history is the customer's stream in stream order; facts dated
// after t are ignored. churn may be nil (no DORMANT). The only error is an
// invalid policy.
func StageAt(history []Fact, t time.Time, policy Policy, churn ChurnView) (Result, error) {
	r, err := NewRules(policy, churn)
	if err != nil {
		return Result{}, err
	}
	return r.StageAt(history, t), nil
}

// StageAt is StageAt with rules already built.
func (r *Rules) StageAt(history []Fact, t time.Time) Result {
	var s State
	var changes []StageChange
	for _, f := range history {
		if f.At.After(t) {
			continue
		}
		changes = s.Apply(r, f, changes)
	}
	changes = s.Advance(r, t, changes)
	res := Result{Stage: s.Stage(), Since: s.Since(), Changes: changes}
	if at, to, ok := s.Next(); ok {
		res.Next, res.NextStage = at, to
	}
	return res
}
