package query

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/kefu-crm/kefu/app/query/nextaction"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/churn"
	"github.com/kefu-crm/kefu/projections/complaints"
	"github.com/kefu-crm/kefu/projections/customers"
	"github.com/kefu-crm/kefu/projections/followups"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// NextActions serves the next best actions (app/query/nextaction ranks
// them): per account manager and per customer.
type NextActions struct{ *core }

// LoyaltyWindow is how far back a VIP's loyalty score is compared, and
// LoyaltyFall the fall in points over it that makes a LOYALTY_DROP action.
// MaxLoyaltyScan bounds how many VIPs of one owner a request re-scores
// (each is a fold of the customer's stream).
const (
	LoyaltyWindow  = 30 * 24 * time.Hour
	LoyaltyFall    = 10
	MaxLoyaltyScan = 500
)

// MaxNextActions bounds ForOwner's first.
const MaxNextActions = 200

// ForOwner is owner's ranked list, at most first items (default 20).
// Sources, all as of now: complaints owned by owner that are overdue
// (COMPLAINT_REPLY); follow-ups owned by owner, DUE and due by now
// (FOLLOW_UP, or REPLENISHMENT for replenishment calls); owner's SILENT
// customers (account manager) without a due WIN_BACK follow-up (WIN_BACK,
// valued lifetime spend × P(alive); P(alive) counts as 1 while the book has
// no churn model); VIPs of owner whose loyalty score fell LoyaltyFall
// points or more over LoyaltyWindow (LOYALTY_DROP, the fall in points).
func (h NextActions) ForOwner(ctx context.Context, owner string, first *int) ([]NextAction, error) {
	if owner == "" {
		return nil, &aggregate.InvalidInputError{Field: "owner", Reason: "is empty"}
	}
	n := 20
	if first != nil {
		n = *first
	}
	if n < 0 || n > MaxNextActions {
		return nil, &aggregate.InvalidInputError{Field: "first", Reason: fmt.Sprintf("%d is not in 0..%d", n, MaxNextActions)}
	}
	acts := nextaction.Rank(h.candidates(ctx, owner, "", h.clock()))
	if len(acts) > n {
		acts = acts[:n]
	}
	return views(acts), nil
}

// ForCustomer is the customer's best action (whoever owns it), or nil.
func (h NextActions) ForCustomer(ctx context.Context, customerID string) (*NextAction, error) {
	best, ok := nextaction.Best(h.candidates(ctx, "", customerID, h.clock()))
	if !ok {
		return nil, nil
	}
	v := views([]nextaction.Action{best})[0]
	return &v, nil
}

func views(acts []nextaction.Action) []NextAction {
	out := make([]NextAction, len(acts))
	for i, a := range acts {
		out[i] = NextAction{Kind: string(a.Kind), CustomerID: a.CustomerID, Ref: a.Ref, Reason: a.Reason}
		if !a.DueAt.IsZero() {
			due := a.DueAt
			out[i].DueAt = &due
		}
	}
	return out
}

// candidates gathers the actions of owner (when not empty) or of one
// customer (when customerID is not empty).
func (s *core) candidates(ctx context.Context, owner, customerID string, now time.Time) []nextaction.Action {
	var out []nextaction.Action
	mine := func(o, c string) bool {
		return (owner == "" || o == owner) && (customerID == "" || c == customerID)
	}
	// One customer's actions read only that customer's entries; an
	// owner's walk the read models.
	eachComplaint, eachFollowUp := s.Complaints.All, s.FollowUps.All
	eachCustomer := func(fn func(*customers.Customer) bool) { s.Customers.Each(fn) }
	if customerID != "" {
		eachComplaint = func(fn func(complaints.Complaint)) {
			for _, c := range s.Complaints.OfCustomer(customerID) {
				fn(c)
			}
		}
		eachFollowUp = func(fn func(followups.FollowUp)) {
			for _, f := range s.FollowUps.OfCustomer(customerID) {
				fn(f)
			}
		}
		eachCustomer = func(fn func(*customers.Customer) bool) {
			if c, ok := s.Customers.Get(customerID); ok {
				fn(&c)
			}
		}
	}
	eachComplaint(func(c complaints.Complaint) {
		if !mine(c.Owner, c.CustomerID) || !c.Overdue(now) {
			return
		}
		due := c.ReplyDueAt
		what := "the first reply was due"
		if c.AcknowledgedAt != nil {
			what = "a promised step is overdue since about"
		}
		out = append(out, nextaction.Action{Kind: nextaction.ComplaintReply, CustomerID: c.CustomerID, Ref: c.ID, DueAt: due,
			Reason: fmt.Sprintf("Complaint %s (%s) is overdue: %s %s.", c.ID, c.Category, what, due.UTC().Format("2006-01-02 15:04 UTC"))})
	})
	winBackDue := map[string]bool{}
	eachFollowUp(func(f followups.FollowUp) {
		if f.Status != followups.Due {
			return
		}
		if f.Reason == customer.ReasonWinBack {
			winBackDue[f.CustomerID] = true
		}
		if !mine(f.Owner, f.CustomerID) || f.DueAt.After(now) {
			return
		}
		kind, reason := nextaction.FollowUp, fmt.Sprintf("%s follow-up %s is due since %s.", f.Reason, f.ID, f.DueAt.UTC().Format("2006-01-02 15:04 UTC"))
		if f.Reason == customer.ReasonReplenishment {
			kind, reason = nextaction.Replenishment, "Call before they run out: "+f.Note
		}
		out = append(out, nextaction.Action{Kind: kind, CustomerID: f.CustomerID, Ref: f.ID, DueAt: f.DueAt, Reason: reason})
	})
	model, _ := s.Churn.Model()
	var silent []customers.Customer
	var vips []string
	eachCustomer(func(c *customers.Customer) bool {
		if c.MergedInto != "" {
			return true // its survivor stands for it
		}
		if !c.Erased && mine(c.AccountManager, c.ID) && !winBackDue[c.ID] {
			silent = append(silent, *c)
		}
		if !c.Erased && mine(c.AccountManager, c.ID) && c.Tier == customer.TierVIP && len(vips) < MaxLoyaltyScan {
			vips = append(vips, c.ID)
		}
		return true
	})
	out = append(out, s.loyaltyDrops(ctx, vips, now)...)
	for _, c := range silent {
		st, ok := s.Lifecycle.Get(c.ID)
		if !ok || st.Stage != lifecycle.StageSilent {
			continue
		}
		spend := 0.0
		for _, m := range c.LifetimeValue {
			spend += float64(m.AmountMinor) / 100
		}
		p, known := 1.0, false
		if h, ok := s.Lifecycle.Purchases(c.ID); ok && model != nil && h.Days > 0 {
			if v := model.PAlive(churn.SummaryOf(h, now)); !math.IsNaN(v) {
				p, known = v, true
			}
		}
		reason := fmt.Sprintf("Silent since %s after a grievance; lifetime spend %.0f", st.Since.UTC().Format(time.DateOnly), spend)
		if known {
			reason += fmt.Sprintf(", P(alive) %.2f", p)
		}
		out = append(out, nextaction.Action{Kind: nextaction.WinBack, CustomerID: c.ID, Value: spend * p, Reason: reason + ": worth a win-back call."})
	}
	return out
}

// loyaltyDrops are the VIPs among ids whose loyalty score fell by
// LoyaltyFall points or more over the last LoyaltyWindow: the score now
// and the score then, both from the customer's history (their stream and
// those merged into it) by the as-of path of the loyalty rules, so the
// fall is the events' and the clock's, not a stored history's.
func (s *core) loyaltyDrops(ctx context.Context, ids []string, now time.Time) []nextaction.Action {
	rules, _ := s.cache.rules()
	then := now.Add(-LoyaltyWindow)
	var out []nextaction.Action
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		u, err := s.history(ctx, id, nil)
		if err != nil {
			continue
		}
		sn, err := s.fold(id, u, nil, now)
		if err != nil {
			continue
		}
		was, is := rules.ScoreAt(sn.facts, then), rules.ScoreAt(sn.facts, now)
		if fall := was.Points - is.Points; fall >= LoyaltyFall {
			out = append(out, nextaction.Action{Kind: nextaction.LoyaltyDrop, CustomerID: id, Value: float64(fall),
				Reason: fmt.Sprintf("VIP whose loyalty fell from %d (%s) to %d (%s) in %d days: call before they drift away.",
					was.Points, was.Level, is.Points, is.Level, int(LoyaltyWindow.Hours()/24))})
		}
	}
	return out
}
