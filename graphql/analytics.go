package graphql

import (
	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/app/query"
)

func (b *builder) analyticsQueries() gql.Fields {
	stageCount := gql.NewObject(gql.ObjectConfig{
		Name:        "StageCount",
		Description: "Number of customers in a stage.",
		Fields: gql.Fields{
			"stage": {Type: gql.NewNonNull(b.stage), Description: "The stage.", Resolve: get(func(s *query.StageCount) any { return s.Stage })},
			"count": {Type: gql.NewNonNull(gql.Int), Description: "Customers in it.", Resolve: get(func(s *query.StageCount) any { return s.Count })},
		},
	})
	transitionCount := gql.NewObject(gql.ObjectConfig{
		Name:        "TransitionCount",
		Description: "Number of stage transitions from one stage to another.",
		Fields: gql.Fields{
			"from":  {Type: b.stage, Description: "Stage left (null: entered on registration).", Resolve: get(func(t *query.TransitionCount) any { return opt(t.From) })},
			"to":    {Type: gql.NewNonNull(b.stage), Description: "Stage entered.", Resolve: get(func(t *query.TransitionCount) any { return t.To })},
			"count": {Type: gql.NewNonNull(gql.Int), Description: "How many transitions.", Resolve: get(func(t *query.TransitionCount) any { return t.Count })},
		},
	})
	bucket := gql.NewObject(gql.ObjectConfig{
		Name:        "LifecycleBucket",
		Description: "One bucket (day, week or month) of the lifecycle report.",
		Fields: gql.Fields{
			"start": {Type: gql.NewNonNull(b.dateTime), Description: "Start of the bucket.", Resolve: get(func(l *query.LifecycleBucket) any { return l.Start })},
			"population": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(stageCount))), Description: "Population of each stage as of the end of the bucket (the next bucket's start): what customer(asOf:) says of each customer at that instant, under the same churn model.",
				Resolve: get(func(l *query.LifecycleBucket) any { return ptrs(l.Population) })},
			"transitions": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(transitionCount))), Description: "Transitions that happened inside the bucket: after its start, up to and including its end.",
				Resolve: get(func(l *query.LifecycleBucket) any { return ptrs(l.Transitions) })},
		},
	})
	report := gql.NewObject(gql.ObjectConfig{
		Name:        "LifecycleReport",
		Description: "Stage populations and transitions per bucket: the complain → silence → lost funnel.",
		Fields: gql.Fields{
			"buckets": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(bucket))), Description: "Buckets in time order.",
				Resolve: get(func(r *query.LifecycleReport) any { return ptrs(r.Buckets) })},
		},
	})
	churn := gql.NewObject(gql.ObjectConfig{
		Name:        "ChurnModel",
		Description: "A BG/NBD model (Fader, Hardie & Lee 2005) fitted by maximum likelihood over all customers' purchase histories.",
		Fields: gql.Fields{
			"unit":          {Type: gql.NewNonNull(b.timeUnit), Description: "Time unit of the parameters.", Resolve: get(func(c *query.ChurnModel) any { return c.Unit })},
			"asOf":          {Type: gql.NewNonNull(b.dateTime), Description: "End of the calibration period.", Resolve: get(func(c *query.ChurnModel) any { return c.AsOf })},
			"customers":     {Type: gql.NewNonNull(gql.Int), Description: "Customers in the fit.", Resolve: get(func(c *query.ChurnModel) any { return c.Customers })},
			"r":             {Type: gql.NewNonNull(gql.Float), Description: "Gamma shape of the purchase rate.", Resolve: get(func(c *query.ChurnModel) any { return c.R })},
			"alpha":         {Type: gql.NewNonNull(gql.Float), Description: "Gamma scale of the purchase rate.", Resolve: get(func(c *query.ChurnModel) any { return c.Alpha })},
			"a":             {Type: gql.NewNonNull(gql.Float), Description: "Beta parameter a of the dropout probability.", Resolve: get(func(c *query.ChurnModel) any { return c.A })},
			"b":             {Type: gql.NewNonNull(gql.Float), Description: "Beta parameter b of the dropout probability.", Resolve: get(func(c *query.ChurnModel) any { return c.B })},
			"logLikelihood": {Type: gql.NewNonNull(gql.Float), Description: "Log-likelihood at the fitted parameters.", Resolve: get(func(c *query.ChurnModel) any { return c.LogLikelihood })},
		},
	})
	keyCount := gql.NewObject(gql.ObjectConfig{
		Name:        "KeyCount",
		Description: "A count of items sharing a key (a category, a severity …).",
		Fields: gql.Fields{
			"key":   {Type: gql.NewNonNull(gql.String), Description: "The key.", Resolve: get(func(k *query.KeyCount) any { return k.Key })},
			"count": {Type: gql.NewNonNull(gql.Int), Description: "How many.", Resolve: get(func(k *query.KeyCount) any { return k.Count })},
		},
	})
	service := gql.NewObject(gql.ObjectConfig{
		Name:        "ServiceReport",
		Description: "The manager's complaint-handling summary for a period (the daily or weekly report). Percentages are 0–100 and null when there is nothing to measure.",
		Fields: gql.Fields{
			"from":       {Type: gql.NewNonNull(b.dateTime), Description: "Start of the period, inclusive.", Resolve: get(func(s *query.ServiceReport) any { return s.From })},
			"to":         {Type: gql.NewNonNull(b.dateTime), Description: "End of the period, exclusive.", Resolve: get(func(s *query.ServiceReport) any { return s.To })},
			"complaints": {Type: gql.NewNonNull(gql.Int), Description: "Complaints filed in the period.", Resolve: get(func(s *query.ServiceReport) any { return s.Complaints })},
			"byCategory": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(keyCount))), Description: "Complaints filed, by category.",
				Resolve: get(func(s *query.ServiceReport) any { return ptrs(s.ByCategory) })},
			"bySeverity": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(keyCount))), Description: "Complaints filed, by severity (GENERAL, MAJOR).",
				Resolve: get(func(s *query.ServiceReport) any { return ptrs(s.BySeverity) })},
			"slaMetPercent": {Type: gql.Float, Description: "Share of complaints acknowledged by replyDueAt.",
				Resolve: get(func(s *query.ServiceReport) any { return opt(s.SLAMetPercent) })},
			"firstContactResolutionPercent": {Type: gql.Float, Description: "Share of resolved complaints resolved with no repeat contact.",
				Resolve: get(func(s *query.ServiceReport) any { return opt(s.FirstContactResolutionPercent) })},
			"medianTimeToResolutionSeconds": {Type: gql.Int, Description: "Median time from filing to resolution, in seconds.",
				Resolve: get(func(s *query.ServiceReport) any {
					if s.MedianTimeToResolution == nil {
						return nil
					}
					return int(s.MedianTimeToResolution.Seconds())
				})},
			"followUpsDue":       {Type: gql.NewNonNull(gql.Int), Description: "Follow-ups due in the period.", Resolve: get(func(s *query.ServiceReport) any { return s.FollowUpsDue })},
			"followUpsCompleted": {Type: gql.NewNonNull(gql.Int), Description: "Of those, completed.", Resolve: get(func(s *query.ServiceReport) any { return s.FollowUpsCompleted })},
			"followUpCompletionPercent": {Type: gql.Float, Description: "Follow-up completion rate (回访率).",
				Resolve: get(func(s *query.ServiceReport) any { return opt(s.FollowUpCompletionPercent) })},
			"satisfactionPercent": {Type: gql.Float, Description: "Share of SATISFIED outcomes and surveys scoring ≥ 4.",
				Resolve: get(func(s *query.ServiceReport) any { return opt(s.SatisfactionPercent) })},
			"declined":   {Type: gql.NewNonNull(gql.Int), Description: "Complaints declined as invalid in the period.", Resolve: get(func(s *query.ServiceReport) any { return s.Declined })},
			"overdueNow": {Type: gql.NewNonNull(gql.Int), Description: "Complaints overdue right now.", Resolve: get(func(s *query.ServiceReport) any { return s.OverdueNow })},
		},
	})
	fromTo := func(what string) gql.FieldConfigArgument {
		return gql.FieldConfigArgument{
			"from": {Type: gql.NewNonNull(b.dateTime), Description: "Start of the " + what + ", inclusive."},
			"to":   {Type: gql.NewNonNull(b.dateTime), Description: "End of the " + what + ", exclusive."},
		}
	}
	return gql.Fields{
		"lifecycleReport": {
			Type:        gql.NewNonNull(report),
			Description: "Stage populations and transitions per bucket: the complain -> silence -> lost funnel.",
			Args: func() gql.FieldConfigArgument {
				a := fromTo("report")
				a["bucket"] = &gql.ArgumentConfig{Type: b.bucket, DefaultValue: "MONTH", Description: "Bucket size."}
				return a
			}(),
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				a := newArgs(p.Args, "")
				from, to, bk := a.timeVal("from"), a.timeVal("to"), a.str("bucket")
				if a.err != nil {
					return nil, a.err
				}
				if !to.After(from) {
					return nil, badInput("to", "to must be after from")
				}
				r, err := b.q.Analytics.LifecycleReport(p.Context, from, to, bk)
				if err != nil {
					return nil, err
				}
				return &r, nil
			}),
		},
		"churnModel": {
			Type:        gql.NewNonNull(churn),
			Description: "BG/NBD fitted over all customers' purchase histories as of asOf (default now).",
			Args: gql.FieldConfigArgument{
				"asOf": {Type: b.dateTime, Description: "End of the calibration period (default now)."},
				"unit": {Type: b.timeUnit, DefaultValue: "WEEK", Description: "Time unit of the parameters."},
			},
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				a := newArgs(p.Args, "")
				asOf, unit := a.optTime("asOf"), a.str("unit")
				if a.err != nil {
					return nil, a.err
				}
				m, err := b.q.Analytics.ChurnModel(p.Context, asOf, unit)
				if err != nil {
					return nil, err
				}
				return &m, nil
			}),
		},
		"serviceReport": {
			Type:        gql.NewNonNull(service),
			Description: "The manager's complaint-handling summary for [from, to): counts by category and severity, SLA met, first-contact resolution, median time to resolution, follow-up completion, satisfaction, declined, overdue now.",
			Args:        fromTo("period"),
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				a := newArgs(p.Args, "")
				from, to := a.timeVal("from"), a.timeVal("to")
				if a.err != nil {
					return nil, a.err
				}
				if !to.After(from) {
					return nil, badInput("to", "to must be after from")
				}
				r, err := b.q.Analytics.ServiceReport(p.Context, from, to)
				if err != nil {
					return nil, err
				}
				return &r, nil
			}),
		},
	}
}
