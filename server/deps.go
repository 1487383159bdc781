package server

import (
	"context"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/graphql"
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

func (analytics) ServiceReport(ctx context.Context, from, to time.Time) (graphql.ServiceReportView, error) {
	return graphql.ServiceReportView{}, notYet("build the service report")
}
