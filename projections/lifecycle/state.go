package lifecycle

import (
	"fmt"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
)

// Fact is one event of a customer's stream with the business time it
// happened (the envelope's occurredAt). Events are pointers, as decoded
// (*customer.PurchaseMade, …). At must lie within the range of
// time.Time.UnixNano (years 1678–2262); the zero time.Time does not.
type Fact struct {
	At    time.Time
	Event customer.Event
}

// Rules are a validated Policy and the churn model in use, shared by every
// customer's State. A churn view fitted on fewer than
// Policy.DormantMinFitted customers is ignored (no DORMANT).
type Rules struct {
	policy      Policy
	churn       ChurnView `snapshot:"-"` // bound again after a restore (Projector.RestoreChurn)
	silentAfter int64
	lostAfter   int64
	loyalWindow int32
}

// NewRules validates the policy and binds the churn view (nil: none).
func NewRules(policy Policy, churn ChurnView) (*Rules, error) {
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	if churn != nil && churn.FittedOn() < policy.DormantMinFitted {
		churn = nil
	}
	return &Rules{
		policy:      policy,
		churn:       churn,
		silentAfter: int64(policy.SilentAfterDays) * dayNanos,
		lostAfter:   int64(policy.LostAfterSilentDays) * dayNanos,
		loyalWindow: int32(policy.LoyalWindowDays),
	}, nil
}

// Policy returns the rules' policy.
func (r *Rules) Policy() Policy { return r.policy }

// ChurnActive reports whether the churn model is used (DORMANT possible).
func (r *Rules) ChurnActive() bool { return r.churn != nil }

// State is one customer's lifecycle, folded from their facts: a few
// hundred bytes, never the history. StageAt is exactly
//
//	for each fact with At ≤ t: state.Apply(rules, fact)
//	state.Advance(rules, t)
//
// and the live projection does the same, one fact at a time and advancing
// as the clock passes, so the two cannot disagree. The zero State is a
// customer with no facts yet (StageNone).
type State struct {
	now         int64 // the state's clock (Unix ns); never runs backwards
	since       int64 // when the current stage began
	lastInbound int64 // latest inbound fact (or registration)
	silentSince int64 // when SILENT began (valid while SILENT)
	next        int64 // next time-driven change; never if none
	purchases   uint32
	days        int32 // distinct purchase days
	firstDay    int32
	lastDay     int32
	// recent holds up to Policy.LoyalPurchaseDays most recent distinct
	// purchase days, oldest first.
	recent     []int32
	g          Grievances
	stage      Stage
	nextStage  Stage
	registered bool
	started    bool
}

// cause is what triggered a re-evaluation: an event, or (event nil) the
// clock reaching a deadline.
type cause struct {
	event       customer.Event
	prevInbound int64
	inbound     bool
	markLost    bool
	leaveLost   bool
	refit       bool
	answered    bool // the event answered a pending grumble
}

// crossings memoises the churn model's threshold instants for one
// evaluation round.
type crossings struct {
	done              bool
	dormant, lost     int64
	dormantOK, lostOK bool
}

// Apply folds one fact into the state and appends the stage changes it
// causes — first any time-driven ones due up to f.At, then the fact's
// own — to out, returning the extended slice. A fact dated before the
// state's clock (a backfilled import) is taken to happen at the clock: the
// clock never runs backwards.
func (s *State) Apply(r *Rules, f Fact, out []StageChange) []StageChange {
	at := f.At.UnixNano()
	if s.started && at < s.now {
		at = s.now
	}
	if s.started {
		out = s.advance(r, at, out)
	} else {
		s.started, s.next = true, never
	}
	s.now = at
	c, relevant := s.mutate(r, f.Event, at)
	if !relevant {
		return out
	}
	out = s.settle(r, at, c, out)
	s.plan(r)
	return out
}

// Advance moves the state's clock to t, appending the time-driven stage
// changes due by then (each dated when its threshold was crossed). A t
// before the clock changes nothing.
func (s *State) Advance(r *Rules, t time.Time, out []StageChange) []StageChange {
	ns := t.UnixNano()
	if !s.started || ns <= s.now {
		return out
	}
	out = s.advance(r, ns, out)
	s.now = ns
	return out
}

func (s *State) advance(r *Rules, t int64, out []StageChange) []StageChange {
	for s.next <= t && s.next != never {
		d := s.next
		s.now = d
		out = s.settle(r, d, cause{}, out)
		s.plan(r)
	}
	return out
}

// Rebase switches the state to new rules (typically a refitted churn
// model) at t: the clock moves to t if it is behind (without firing the
// old rules' deadlines — advance first if they should fire), the stage is
// re-evaluated under the new rules (a change is appended, with the reason
// "churn model refitted", if it differs) and the next deadline is
// recomputed. Changes before t stay as they were.
func (s *State) Rebase(r *Rules, t time.Time, out []StageChange) []StageChange {
	if !s.started {
		return out
	}
	s.now = max(s.now, t.UnixNano())
	out = s.settle(r, s.now, cause{refit: true}, out)
	s.plan(r)
	return out
}

// Stage is the current stage.
func (s *State) Stage() Stage { return s.stage }

// Since is when the current stage began (zero for StageNone).
func (s *State) Since() time.Time {
	if s.stage == StageNone {
		return time.Time{}
	}
	return time.Unix(0, s.since).UTC()
}

// Now is the state's clock: the latest fact or Advance.
func (s *State) Now() time.Time {
	if !s.started {
		return time.Time{}
	}
	return time.Unix(0, s.now).UTC()
}

// Next is the next instant at which the stage changes if no fact arrives,
// and the stage it changes to; ok is false when nothing is due.
func (s *State) Next() (at time.Time, to Stage, ok bool) {
	if !s.started || s.next == never {
		return time.Time{}, StageNone, false
	}
	return time.Unix(0, s.next).UTC(), s.nextStage, true
}

// nextNanos is Next as Unix ns (never when none), for the deadline index.
func (s *State) nextNanos() int64 {
	if !s.started {
		return never
	}
	return s.next
}

// Grievances returns a copy of the customer's grievances.
func (s *State) Grievances() Grievances { return s.g.clone() }

// Purchases summarises the purchase history for a churn model.
func (s *State) Purchases() Purchases {
	if s.days == 0 {
		return Purchases{}
	}
	return Purchases{
		First: time.Unix(0, dayStart(s.firstDay)).UTC(),
		Last:  time.Unix(0, dayStart(s.lastDay)).UTC(),
		Days:  int(s.days),
	}
}

// Clone returns an independent copy.
func (s *State) Clone() State {
	c := *s
	c.recent = append([]int32(nil), s.recent...)
	c.g = s.g.clone()
	return c
}

func (s *State) mutate(r *Rules, e customer.Event, at int64) (cause, bool) {
	c := cause{event: e, prevInbound: s.lastInbound}
	relevant := false
	switch e := e.(type) {
	case *customer.CustomerRegistered:
		if !s.registered {
			s.registered = true
			s.lastInbound = max(s.lastInbound, at)
			relevant = true
		}
	case *customer.ContactLogged:
		c.inbound = e.Direction == customer.Inbound
	case *customer.PurchaseMade:
		c.inbound = true
		s.purchases++
		s.addPurchaseDay(r, dayOf(at))
	case *customer.ReferralMade, *customer.GrumbleVoiced, *customer.ComplaintFiled, *customer.SatisfactionRecorded:
		c.inbound = true
	case *customer.CustomerMarkedLost:
		c.markLost = true
		relevant = true
	case *customer.CustomerWonBack:
		// Staff record that the customer came back: it leaves LOST and,
		// like an inbound contact, restarts the silence clock.
		s.lastInbound = at
		c.leaveLost = true
		relevant = true
	}
	grumbled := s.g.grumble
	if s.g.Observe(e, r.policy.SatisfiedScore) {
		relevant = true
	}
	c.answered = grumbled && !s.g.grumble && answersGrumble(e)
	if c.inbound {
		s.lastInbound = at
		c.leaveLost = true
		relevant = true
	}
	return c, relevant
}

func (s *State) addPurchaseDay(r *Rules, d int32) {
	if s.days > 0 && d <= s.lastDay { // same day (days never go back: the clock is monotone)
		return
	}
	if s.days == 0 {
		s.firstDay = d
	}
	s.lastDay = d
	s.days++
	k := r.policy.LoyalPurchaseDays
	if len(s.recent) < k {
		if s.recent == nil {
			s.recent = make([]int32, 0, k)
		}
		s.recent = append(s.recent, d)
		return
	}
	copy(s.recent, s.recent[1:])
	s.recent[len(s.recent)-1] = d
}

// settle re-evaluates the stage at t and records a change if it differs.
func (s *State) settle(r *Rules, t int64, c cause, out []StageChange) []StageChange {
	var cr crossings
	to := s.eval(r, t, c, &cr)
	if to == s.stage {
		return out
	}
	from := s.stage
	reason := s.reason(r, t, c, from, to, &cr)
	if to == StageSilent {
		s.silentSince = t
	}
	s.stage, s.since = to, t
	return append(out, StageChange{From: from, To: to, At: time.Unix(0, t).UTC(), Reason: reason})
}

// eval is the stage at t given the state (DESIGN §4). It depends on t only
// through comparisons with the candidates plan collects.
func (s *State) eval(r *Rules, t int64, c cause, cr *crossings) Stage {
	switch {
	case !s.registered:
		return StageNone
	case c.markLost:
		return StageLost
	case s.stage == StageLost && !c.leaveLost:
		return StageLost // LOST holds until an inbound fact or CustomerWonBack
	}
	quiet := t >= s.lastInbound+r.silentAfter
	if s.g.Any() {
		switch {
		case quiet && s.stage == StageSilent && t >= s.silentSince+r.lostAfter:
			return StageLost
		case quiet:
			return StageSilent
		case s.g.Open() > 0:
			return StageComplaining
		default:
			return StageGrumbling
		}
	}
	if quiet && r.churn != nil && s.days > 0 {
		s.cross(r, cr)
		if cr.lostOK && t >= cr.lost {
			return StageLost
		}
		if cr.dormantOK && t >= cr.dormant {
			return StageDormant
		}
	}
	switch {
	case int(s.purchases) < r.policy.NewBelowPurchases:
		return StageNew
	case s.loyalUntil(r) > t:
		return StageLoyal
	default:
		return StageActive
	}
}

// loyalUntil is when the oldest of the LoyalPurchaseDays most recent
// purchase days leaves the window (the instant LOYAL ends), or a time in
// the distant past when there are too few purchase days.
func (s *State) loyalUntil(r *Rules) int64 {
	if len(s.recent) < r.policy.LoyalPurchaseDays {
		return -never
	}
	return dayStart(s.recent[0] + r.loyalWindow)
}

func (s *State) cross(r *Rules, cr *crossings) {
	if cr.done {
		return
	}
	cr.done = true
	h := s.Purchases()
	if at, ok := r.churn.FallsBelow(h, r.policy.DormantBelowPAlive); ok {
		cr.dormant, cr.dormantOK = at.UnixNano(), true
	}
	if at, ok := r.churn.FallsBelow(h, r.policy.LostBelowPAlive); ok {
		cr.lost, cr.lostOK = at.UnixNano(), true
	}
}

// plan finds the next instant after the clock at which eval changes.
func (s *State) plan(r *Rules) {
	s.next, s.nextStage = never, StageNone
	if !s.registered || s.stage == StageLost {
		return // LOST changes only by facts
	}
	var cands [5]int64
	n := 0
	add := func(x int64) {
		if x > s.now {
			cands[n] = x
			n++
		}
	}
	add(s.lastInbound + r.silentAfter)
	if s.stage == StageSilent {
		add(s.silentSince + r.lostAfter)
	}
	var cr crossings
	if r.churn != nil && s.days > 0 && !s.g.Any() {
		s.cross(r, &cr)
		if cr.dormantOK {
			add(cr.dormant)
		}
		if cr.lostOK {
			add(cr.lost)
		}
	}
	if u := s.loyalUntil(r); u != -never {
		add(u)
	}
	// insertion sort of at most five
	for i := 1; i < n; i++ {
		for j := i; j > 0 && cands[j] < cands[j-1]; j-- {
			cands[j], cands[j-1] = cands[j-1], cands[j]
		}
	}
	for _, t := range cands[:n] {
		if to := s.eval(r, t, cause{}, &cr); to != s.stage {
			s.next, s.nextStage = t, to
			return
		}
	}
}

func (s *State) reason(r *Rules, t int64, c cause, from, to Stage, cr *crossings) string {
	p := r.policy
	if c.refit {
		if s.days > 0 && r.churn != nil {
			return fmt.Sprintf("churn model refitted: P(alive) %.3f", r.churn.PAlive(s.Purchases(), time.Unix(0, t).UTC()))
		}
		return "churn model refitted"
	}
	if c.event == nil {
		switch {
		case to == StageSilent:
			return fmt.Sprintf("no inbound contact for %s after %s", days(t-s.lastInbound), s.g.Describe())
		case to == StageLost && from == StageSilent:
			return fmt.Sprintf("silent for a further %s after %s (no inbound contact for %s)",
				days(t-s.silentSince), s.g.Describe(), days(t-s.lastInbound))
		case to == StageLost:
			return s.churnReason(r, t, p.LostBelowPAlive, cr.lost)
		case to == StageDormant:
			return s.churnReason(r, t, p.DormantBelowPAlive, cr.dormant)
		case from == StageLoyal:
			return fmt.Sprintf("fewer than %d purchase days in the last %d days", p.LoyalPurchaseDays, p.LoyalWindowDays)
		}
		return fmt.Sprintf("%s after %s", to, days(t-s.since))
	}
	desc := describe(c.event)
	switch {
	case c.markLost:
		return desc
	case c.inbound && (from == StageSilent || from == StageDormant || from == StageLost):
		desc += " after " + days(t-c.prevInbound) + " of silence"
		if from == StageLost {
			desc += " (won back)"
		}
		return desc
	case to == StageSilent:
		return desc + " after " + days(t-s.lastInbound) + " without inbound contact"
	case to == StageLost || to == StageDormant:
		thr := p.DormantBelowPAlive
		if to == StageLost {
			thr = p.LostBelowPAlive
		}
		return fmt.Sprintf("%s; P(alive) %.3f below %.2f", desc, r.churn.PAlive(s.Purchases(), time.Unix(0, t).UTC()), thr)
	case to == StageLoyal:
		return fmt.Sprintf("%s: %d purchase days in the last %d days", desc, p.LoyalPurchaseDays, p.LoyalWindowDays)
	case c.answered && from == StageGrumbling:
		return "grumble answered by " + desc
	}
	return desc
}

func (s *State) churnReason(r *Rules, t int64, thr float64, crossing int64) string {
	if t == crossing {
		return fmt.Sprintf("P(alive) fell below %.2f, %s after the last purchase day", thr, days(t-dayStart(s.lastDay)))
	}
	return fmt.Sprintf("no inbound contact for %s and P(alive) %.3f below %.2f",
		days(t-s.lastInbound), r.churn.PAlive(s.Purchases(), time.Unix(0, t).UTC()), thr)
}

func answersGrumble(e customer.Event) bool {
	switch e := e.(type) {
	case *customer.ContactLogged:
		return e.Direction == customer.Outbound
	case *customer.SatisfactionRecorded:
		return true
	}
	return false
}

// describe names an event for a reason text. It never includes personal
// data (summaries, descriptions, comments).
func describe(e customer.Event) string {
	switch e := e.(type) {
	case *customer.CustomerRegistered:
		return "registered"
	case *customer.ContactLogged:
		return fmt.Sprintf("%s %s contact", strings.ToLower(e.Direction.String()), e.Channel)
	case *customer.PurchaseMade:
		return "purchase " + e.OrderID
	case *customer.ReferralMade:
		return "referral made"
	case *customer.GrumbleVoiced:
		return "grumble voiced"
	case *customer.ComplaintFiled:
		return "complaint " + e.ComplaintID + " filed"
	case *customer.ComplaintReopened:
		return "complaint " + e.ComplaintID + " reopened"
	case *customer.ComplaintResolved:
		return "complaint " + e.ComplaintID + " resolved " + e.Outcome.String()
	case *customer.ComplaintDeclined:
		return "complaint " + e.ComplaintID + " declined"
	case *customer.SatisfactionRecorded:
		return fmt.Sprintf("satisfaction %d/5 recorded", e.Score)
	case *customer.CustomerMarkedLost:
		if e.Reason == "" {
			return "marked lost"
		}
		return "marked lost: " + e.Reason
	case *customer.CustomerWonBack:
		if e.Reason == "" {
			return "won back"
		}
		return "won back: " + e.Reason
	}
	return e.EventType()
}

// days renders a duration in whole days ("1 day", "41 days"), or hours
// below a day.
func days(ns int64) string {
	d := ns / dayNanos
	switch {
	case d == 1:
		return "1 day"
	case d > 1:
		return fmt.Sprintf("%d days", d)
	}
	h := ns / int64(time.Hour)
	if h == 1 {
		return "1 hour"
	}
	return fmt.Sprintf("%d hours", h)
}
