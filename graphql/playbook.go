package graphql

import (
	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/app/query"
)

// playbookQueries defines Query.resolutionPlaybook and
// Query.suggestedResolutions (app/query/playbook counts and ranks).
func (b *builder) playbookQueries() gql.Fields {
	rate := func(desc string, f func(o *query.PlaybookOption) *float64) *gql.Field {
		return &gql.Field{Type: gql.Float, Description: desc, Resolve: get(func(o *query.PlaybookOption) any { return opt(f(o)) })}
	}
	count := func(desc string, f func(o *query.PlaybookOption) int) *gql.Field {
		return &gql.Field{Type: gql.NewNonNull(gql.Int), Description: desc, Resolve: get(func(o *query.PlaybookOption) any { return f(o) })}
	}
	option := gql.NewObject(gql.ObjectConfig{
		Name:        "ResolutionOptionRecord",
		Description: "How one resolution option fared: options are grouped by normalised text (case, full-width forms, spacing and trailing punctuation ignored) and shown by their most frequent spelling.",
		Fields: gql.Fields{
			"option":           {Type: gql.NewNonNull(gql.String), Description: "The option's text, as staff most often wrote it.", Resolve: get(func(o *query.PlaybookOption) any { return o.Text })},
			"proposed":         count("Complaints it was proposed on.", func(o *query.PlaybookOption) int { return o.Proposed }),
			"accepted":         count("Complaints where the customer accepted it.", func(o *query.PlaybookOption) int { return o.Accepted }),
			"satisfied":        count("Accepted, then resolved SATISFIED.", func(o *query.PlaybookOption) int { return o.Satisfied }),
			"unsatisfied":      count("Accepted, then resolved UNSATISFIED.", func(o *query.PlaybookOption) int { return o.Unsatisfied }),
			"reopened":         count("Accepted, and the complaint was reopened later.", func(o *query.PlaybookOption) int { return o.Reopened }),
			"retained":         count("Accepted, and the customer bought or got in touch 90 days or more after the resolution.", func(o *query.PlaybookOption) int { return o.Retained }),
			"retainedKnown":    count("Accepted and resolved at least 90 days ago (the complaints retained counts among).", func(o *query.PlaybookOption) int { return o.RetainedKnown }),
			"satisfactionRate": rate("satisfied / (satisfied + unsatisfied); null without a verdict.", func(o *query.PlaybookOption) *float64 { return o.SatisfactionRate }),
			"lower":            rate("Lower bound of the 95 % Wilson score interval of the rate (the ranking key).", func(o *query.PlaybookOption) *float64 { return o.Lower }),
			"upper":            rate("Upper bound of the 95 % Wilson score interval of the rate.", func(o *query.PlaybookOption) *float64 { return o.Upper }),
		},
	})
	stepCount := gql.NewObject(gql.ObjectConfig{
		Name: "RecoveryStepCount", Description: "How often a recovery step was taken.",
		Fields: gql.Fields{
			"step":  {Type: gql.NewNonNull(b.recoveryStep), Description: "The step.", Resolve: get(func(k *query.KeyCount) any { return k.Key })},
			"count": {Type: gql.NewNonNull(gql.Int), Description: "Times it was taken.", Resolve: get(func(k *query.KeyCount) any { return k.Count })},
		},
	})
	pb := func(desc string, f func(p *query.Playbook) int) *gql.Field {
		return &gql.Field{Type: gql.NewNonNull(gql.Int), Description: desc, Resolve: get(func(p *query.Playbook) any { return f(p) })}
	}
	playbook := gql.NewObject(gql.ObjectConfig{
		Name:        "ResolutionPlaybook",
		Description: "What resolved one category of complaint, from the events alone (app/query/playbook).",
		Fields: gql.Fields{
			"category":    {Type: gql.NewNonNull(gql.String), Description: "The category asked for.", Resolve: get(func(p *query.Playbook) any { return p.Category })},
			"complaints":  pb("Complaints of the category filed in the period.", func(p *query.Playbook) int { return p.Complaints }),
			"resolved":    pb("Of them resolved at least once.", func(p *query.Playbook) int { return p.Resolved }),
			"satisfied":   pb("Resolutions judged SATISFIED (a complaint reopened and resolved again counts each verdict).", func(p *query.Playbook) int { return p.Satisfied }),
			"unsatisfied": pb("Resolutions judged UNSATISFIED.", func(p *query.Playbook) int { return p.Unsatisfied }),
			"reopened":    pb("Complaints reopened after a resolution.", func(p *query.Playbook) int { return p.Reopened }),
			"options": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(option))),
				Description: "The options proposed, best first: by the lower bound of the 95 % Wilson interval of the satisfaction rate, then the rate, then how often accepted; options never judged last.",
				Resolve:     get(func(p *query.Playbook) any { return ptrs(p.Options) })},
			"recoverySteps": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(stepCount))), Description: "Recovery steps taken, in the order of the five steps.",
				Resolve: get(func(p *query.Playbook) any { return ptrs(p.Steps) })},
			"compensation": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.money))), Description: "Compensation paid, one total per currency.",
				Resolve: get(func(p *query.Playbook) any { return ptrs(p.Compensation) })},
		},
	})
	return gql.Fields{
		"resolutionPlaybook": {
			Type:        gql.NewNonNull(playbook),
			Description: "What resolved complaints of category (compared ignoring case and spacing) filed in [from, to) — all time without bounds.",
			Args: gql.FieldConfigArgument{
				"category": {Type: gql.NewNonNull(gql.String), Description: "The complaint category, e.g. delivery."},
				"from":     {Type: b.dateTime, Description: "Complaints filed at or after this instant."},
				"to":       {Type: b.dateTime, Description: "Complaints filed before this instant."},
			},
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				a := newArgs(p.Args, "")
				cat, from, to := a.str("category"), a.optTime("from"), a.optTime("to")
				if a.err != nil {
					return nil, a.err
				}
				v, err := b.q.Playbooks.Category(p.Context, cat, from, to)
				if err != nil {
					return nil, err
				}
				return &v, nil
			}),
		},
		"suggestedResolutions": {
			Type:        gql.NewNonNull(gql.NewList(gql.NewNonNull(option))),
			Description: "Options to propose on a complaint: those of its category's playbook (the other complaints, all time) that customers accepted and judged, best first; at most first (default 5, up to 20). Pass their option texts to proposeResolution.",
			Args: gql.FieldConfigArgument{
				"complaintId": {Type: gql.NewNonNull(gql.ID), Description: "The complaint to resolve."},
				"first":       {Type: gql.Int, Description: "How many (default 5, at most 20)."},
			},
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				a := newArgs(p.Args, "")
				id, first := a.str("complaintId"), a.optInt("first")
				if a.err != nil {
					return nil, a.err
				}
				os, err := b.q.Playbooks.Suggested(p.Context, id, first)
				if err != nil {
					return nil, err
				}
				return ptrs(os), nil
			}),
		},
	}
}
