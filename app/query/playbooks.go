package query

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/kefu-crm/kefu/app/query/playbook"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/projections/complaints"
)

// Playbooks serves what resolved each kind of complaint (package
// playbook), from the complaints and customers read models.
type Playbooks struct{ *core }

// RetainedAfter is how long after a resolution a customer must still be
// active (a purchase or an inbound contact) to count as retained.
const RetainedAfter = 90 * 24 * time.Hour

// MaxSuggestions bounds Suggested's first.
const MaxSuggestions = 20

// Playbook is one category's playbook as the API shows it.
type Playbook struct {
	Category                                               string
	From, To                                               *time.Time
	Complaints, Resolved, Satisfied, Unsatisfied, Reopened int
	Options                                                []PlaybookOption
	Steps                                                  []KeyCount
	Compensation                                           []Money
}

// PlaybookOption is one resolution option's record; the rate and its
// interval are nil without a verdict.
type PlaybookOption struct {
	Text                                       string
	Proposed, Accepted, Satisfied, Unsatisfied int
	Reopened, Retained, RetainedKnown          int
	SatisfactionRate, Lower, Upper             *float64
}

// Category is the playbook of category (compared as playbook.Normalize
// compares options) over the complaints filed in [from, to) — all of
// them when a bound is nil.
func (h Playbooks) Category(_ context.Context, category string, from, to *time.Time) (Playbook, error) {
	if playbook.Normalize(category) == "" {
		return Playbook{}, &aggregate.InvalidInputError{Field: "category", Reason: "is empty"}
	}
	if from != nil && to != nil && !from.Before(*to) {
		return Playbook{}, &aggregate.InvalidInputError{Field: "to", Reason: "must be after from"}
	}
	bk := playbook.Build(h.playbookInput(category, "", from, to))
	v := Playbook{Category: category, From: from, To: to, Complaints: bk.Complaints, Resolved: bk.Resolved,
		Satisfied: bk.Satisfied, Unsatisfied: bk.Unsatisfied, Reopened: bk.Reopened, Options: optionViews(bk.Options)}
	for _, s := range bk.Steps {
		v.Steps = append(v.Steps, KeyCount{Key: s.Step.String(), Count: s.Count})
	}
	for _, m := range bk.Compensation {
		v.Compensation = append(v.Compensation, Money{AmountMinor: m.AmountMinor, Currency: m.Currency})
	}
	return v, nil
}

// Suggested is what to propose on complaint id: the options of its
// category's playbook (the other complaints of the category, all time)
// that were accepted and judged, best first, at most first (default 5).
func (h Playbooks) Suggested(_ context.Context, id string, first *int) ([]PlaybookOption, error) {
	n := 5
	if first != nil {
		n = *first
	}
	if n < 0 || n > MaxSuggestions {
		return nil, &aggregate.InvalidInputError{Field: "first", Reason: fmt.Sprintf("%d is not in 0..%d", n, MaxSuggestions)}
	}
	c, ok := h.Complaints.Get(id)
	if !ok {
		return nil, notFound("complaint", id)
	}
	var out []PlaybookOption
	for _, o := range optionViews(playbook.Build(h.playbookInput(c.Category, id, nil, nil)).Options) {
		if o.SatisfactionRate != nil && len(out) < n {
			out = append(out, o)
		}
	}
	return out, nil
}

// playbookInput reads the complaints of category (but not the complaint
// except) filed in [from, to).
func (h Playbooks) playbookInput(category, except string, from, to *time.Time) []playbook.Complaint {
	want, now := playbook.Normalize(category), h.clock()
	var out []playbook.Complaint
	h.Complaints.All(func(c complaints.Complaint) {
		if c.ID == except || playbook.Normalize(c.Category) != want ||
			(from != nil && c.FiledAt.Before(*from)) || (to != nil && !c.FiledAt.Before(*to)) {
			return
		}
		pc := playbook.Complaint{Compensation: c.Compensation}
		for _, s := range c.RecoverySteps {
			pc.Steps = append(pc.Steps, s.Step)
		}
		for _, r := range c.Resolutions {
			pc.Options = append(pc.Options, r.Options...)
			o := r.Outcome
			pc.Rounds = append(pc.Rounds, playbook.Round{Accepted: r.Accepted, Outcome: &o, Reopened: r.Reopened, Retained: h.retained(c.CustomerID, r.At, now)})
		}
		// The round on the table of a complaint never resolved: proposed,
		// perhaps accepted. (After a reopening the read model still holds
		// the last round's acceptance; a new one counts once resolved.)
		if len(c.Resolutions) == 0 {
			pc.Options = append(pc.Options, c.ResolutionOptions...)
			if c.AcceptedOption != nil {
				pc.Rounds = append(pc.Rounds, playbook.Round{Accepted: c.AcceptedOption})
			}
		}
		out = append(out, pc)
	})
	return out
}

// retained says whether the customer bought or got in touch RetainedAfter
// or more after a resolution at resolvedAt; nil before that time has come.
func (h Playbooks) retained(customerID string, resolvedAt, now time.Time) *bool {
	since := resolvedAt.Add(RetainedAfter)
	if now.Before(since) {
		return nil
	}
	cu, ok := h.Customers.Get(customerID)
	r := ok && ((cu.LastInboundAt != nil && !cu.LastInboundAt.Before(since)) ||
		(cu.LastPurchaseAt != nil && !cu.LastPurchaseAt.Before(since)))
	return &r
}

func optionViews(os []playbook.Option) []PlaybookOption {
	out := make([]PlaybookOption, len(os))
	num := func(f float64) *float64 {
		if math.IsNaN(f) {
			return nil
		}
		return &f
	}
	for i, o := range os {
		out[i] = PlaybookOption{Text: o.Text, Proposed: o.Proposed, Accepted: o.Accepted, Satisfied: o.Satisfied,
			Unsatisfied: o.Unsatisfied, Reopened: o.Reopened, Retained: o.Retained, RetainedKnown: o.RetainedKnown,
			SatisfactionRate: num(o.Rate), Lower: num(o.Lower), Upper: num(o.Upper)}
	}
	return out
}
