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
		Campaigns:  campaignsPending{},
		Calendar:   r,
		Analytics:  analytics{r},
		Events:     r,
		Commands:   campaignCommandsPending{c},
		Logger:     s.log,
		Now:        s.clock,
	}
}

// notYet refuses features whose back end is not wired into this build.
func notYet(what string) error {
	return apiErr(&customer.PreconditionError{Action: what, Reason: "not available in this build yet"})
}

type campaignsPending struct{}

func (campaignsPending) Campaign(ctx context.Context, id string) (graphql.CampaignView, error) {
	return graphql.CampaignView{}, notFound("campaign", id)
}

func (campaignsPending) Campaigns(ctx context.Context, p graphql.Page) (graphql.Connection[graphql.CampaignView], error) {
	return graphql.Connection[graphql.CampaignView]{}, nil
}

func (campaignsPending) PreviewCampaign(ctx context.Context, in graphql.ScheduleGreetingCampaignInput) (graphql.CampaignPreviewView, error) {
	return graphql.CampaignPreviewView{}, notYet("preview a greeting campaign")
}

type campaignCommandsPending struct{ commands }

func (campaignCommandsPending) ScheduleGreetingCampaign(ctx context.Context, by graphql.Actor, in graphql.ScheduleGreetingCampaignInput) (graphql.CampaignResult, error) {
	return graphql.CampaignResult{}, notYet("schedule a greeting campaign")
}

func (campaignCommandsPending) CancelGreetingCampaign(ctx context.Context, by graphql.Actor, in graphql.CancelCampaignInput) (graphql.CampaignResult, error) {
	return graphql.CampaignResult{}, notYet("cancel a greeting campaign")
}

type analytics struct{ reads }

func (analytics) LifecycleReport(ctx context.Context, from, to time.Time, bucket string) (graphql.LifecycleReportView, error) {
	return graphql.LifecycleReportView{}, notYet("build the lifecycle report")
}

func (analytics) ServiceReport(ctx context.Context, from, to time.Time) (graphql.ServiceReportView, error) {
	return graphql.ServiceReportView{}, notYet("build the service report")
}
