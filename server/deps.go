package server

import (
	"context"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/graphql"
	"github.com/kefu-crm/kefu/projections/servicereport"
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
		Analytics:  analytics{r},
		Events:     r,
		Commands:   c,
		Logger:     s.log,
		Now:        s.clock,
	}
}

// notYet refuses features whose back end is not wired into this build.
func notYet(what string) error {
	return apiErr(&customer.PreconditionError{Action: what, Reason: "not available in this build yet"})
}

type analytics struct{ reads }

func (analytics) LifecycleReport(ctx context.Context, from, to time.Time, bucket string) (graphql.LifecycleReportView, error) {
	return graphql.LifecycleReportView{}, notYet("build the lifecycle report")
}

func (a analytics) ServiceReport(ctx context.Context, from, to time.Time) (graphql.ServiceReportView, error) {
	if !to.After(from) {
		return graphql.ServiceReportView{}, apiErr(&customer.InvalidInputError{Field: "to", Reason: "must be after from"})
	}
	s := a.s
	r := servicereport.Build(from, to, s.clock(), s.compl, s.fups, s.surveys)
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
