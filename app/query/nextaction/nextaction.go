// Package nextaction ranks what an account manager should do next: one
// list that merges what the read models already know about the manager's
// customers, each item with a plain-language reason.
//
// # The rule
//
// Actions are ordered first by kind, most urgent kind first, then within
// the kind:
//
//	kind            what                                            within the kind
//	COMPLAINT_REPLY a complaint whose first reply is overdue (SLA)   longest overdue first (earliest reply due)
//	FOLLOW_UP       a follow-up due by now (recovery, holiday,       earliest due first
//	                win-back, routine), not a replenishment call
//	REPLENISHMENT   a REPLENISHMENT follow-up due by now             earliest due first
//	WIN_BACK        a SILENT customer without a win-back follow-up   highest Value first (spend × P(alive))
//	LOYALTY_DROP    a VIP whose loyalty score fell                   largest fall (Value, points) first
//
// and finally by customer ID and reference, so equal actions always come
// in the same order. The kinds are in that order because a broken promise
// (an unanswered complaint) costs the customer, an agreed call that is
// late costs trust, a running-out bag is a sale about to be lost, and a
// silent or cooling customer can wait a day but not a month. A customer
// may appear more than once (a complaint and a follow-up); Best gives the
// customer's first.
package nextaction

import (
	"cmp"
	"slices"
	"time"
)

// Kind is what kind of action it is; Kinds lists them in rank order.
type Kind string

// The kinds, in rank order.
const (
	ComplaintReply Kind = "COMPLAINT_REPLY"
	FollowUp       Kind = "FOLLOW_UP"
	Replenishment  Kind = "REPLENISHMENT"
	WinBack        Kind = "WIN_BACK"
	LoyaltyDrop    Kind = "LOYALTY_DROP"
)

// Kinds returns the kinds in rank order.
func Kinds() []Kind { return []Kind{ComplaintReply, FollowUp, Replenishment, WinBack, LoyaltyDrop} }

func (k Kind) rank() int {
	if i := slices.Index(Kinds(), k); i >= 0 {
		return i
	}
	return len(Kinds())
}

// Action is one thing to do.
type Action struct {
	Kind       Kind
	CustomerID string
	// Ref names what the action is about: a complaint or follow-up ID;
	// empty for win-backs and loyalty drops.
	Ref string
	// Reason says in plain words why.
	Reason string
	// DueAt is when it was (or is) due; zero for win-backs and loyalty
	// drops, which are due now.
	DueAt time.Time
	// Value orders win-backs (spend × P(alive)) and loyalty drops (points
	// fallen); larger first.
	Value float64
}

// Compare orders a before b (negative) by the package rule.
func Compare(a, b Action) int {
	if c := cmp.Compare(a.Kind.rank(), b.Kind.rank()); c != 0 {
		return c
	}
	switch a.Kind {
	case WinBack, LoyaltyDrop:
		if c := cmp.Compare(b.Value, a.Value); c != 0 {
			return c
		}
	default:
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
	}
	return cmp.Or(cmp.Compare(a.CustomerID, b.CustomerID), cmp.Compare(a.Ref, b.Ref))
}

// Rank sorts actions by the rule, in place, and returns them.
func Rank(actions []Action) []Action {
	slices.SortStableFunc(actions, Compare)
	return actions
}

// Best is the first action by the rule; ok is false when there is none.
func Best(actions []Action) (best Action, ok bool) {
	if len(actions) == 0 {
		return Action{}, false
	}
	return slices.MinFunc(actions, Compare), true
}

// String is the kind's name.
func (k Kind) String() string { return string(k) }
