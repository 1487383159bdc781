package server

import (
	"context"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/graphql"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/servicereport"
	"github.com/kefu-crm/kefu/projections/transitions"
)

// deps wires the API's ports to the read models and the command service.
func (s *Server) deps() graphql.Deps {
	r := reads{s}
	c := commands{s}
	return graphql.Deps{
		Customers:  r,
		Complaints: r,
		FollowUps:  r,
		Campaigns:  campaignReads{s},
		Calendar:   r,
		Analytics:  analyticsReads{r},
		Events:     r,
		Commands:   c,
		Logger:     s.log,
		Now:        s.clock,
	}
}

type analyticsReads struct{ reads }

func (a analyticsReads) LifecycleReport(ctx context.Context, from, to time.Time, bucket string) (graphql.LifecycleReportView, error) {
	b, err := transitions.ParseBucket(bucket)
	if err != nil {
		return graphql.LifecycleReportView{}, apiErr(&customer.InvalidInputError{Field: "bucket", Reason: err.Error()})
	}
	// Time-driven changes up to now are recorded as the clock moves them.
	a.s.AdvanceLifecycle(a.s.clock())
	// Buckets follow the calendar of the offset the caller wrote `from`
	// in: "2025-01-01T00:00:00+08:00" asks for Beijing months.
	r, err := a.s.Transitions.LifecycleReport(from, to, b, transitions.ReportOptions{Location: from.Location()})
	if err != nil {
		return graphql.LifecycleReportView{}, apiErr(&customer.InvalidInputError{Field: "from", Reason: err.Error()})
	}
	var v graphql.LifecycleReportView
	for _, br := range r.Buckets {
		bv := graphql.LifecycleBucketView{Start: br.Start}
		for _, st := range lifecycle.Stages() {
			bv.Population = append(bv.Population, graphql.StageCount{Stage: st.String(), Count: br.Population[st]})
		}
		for _, tc := range br.Transitions {
			t := graphql.TransitionCount{To: tc.To.String(), Count: tc.Count}
			if tc.From != lifecycle.StageNone {
				f := tc.From.String()
				t.From = &f
			}
			bv.Transitions = append(bv.Transitions, t)
		}
		v.Buckets = append(v.Buckets, bv)
	}
	return v, nil
}

func (a analyticsReads) ServiceReport(ctx context.Context, from, to time.Time) (graphql.ServiceReportView, error) {
	if !to.After(from) {
		return graphql.ServiceReportView{}, apiErr(&customer.InvalidInputError{Field: "to", Reason: "must be after from"})
	}
	s := a.s
	r := servicereport.Build(from, to, s.clock(), s.Complaints, s.FollowUps, s.Surveys)
	v := graphql.ServiceReportView{
		From: r.From, To: r.To, Complaints: r.Complaints, SLAMetPercent: r.SLAMetPercent,
		FirstContactResolutionPercent: r.FirstContactResolutionPercent, MedianTimeToResolution: r.MedianTimeToResolution,
		FollowUpsDue: r.FollowUpsDue, FollowUpsCompleted: r.FollowUpsCompleted, FollowUpCompletionPercent: r.FollowUpCompletionPercent,
		SatisfactionPercent: r.SatisfactionPercent, Declined: r.Declined, OverdueNow: r.OverdueNow,
	}
	for _, kc := range r.ByCategory {
		v.ByCategory = append(v.ByCategory, graphql.KeyCount{Key: kc.Key, Count: kc.Count})
	}
	for _, kc := range r.BySeverity {
		v.BySeverity = append(v.BySeverity, graphql.KeyCount{Key: kc.Key, Count: kc.Count})
	}
	return v, nil
}
