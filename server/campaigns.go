package server

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/graphql"
	"github.com/kefu-crm/kefu/projections/campaigns"
	"github.com/kefu-crm/kefu/projections/customers"
)

// directory lets the greeting dispatcher walk the book.
type directory struct{ s *Server }

// Each walks the book in chunks: recipients are copied under the book's
// read lock and handed to fn without it, so a dispatcher that blocks on a
// slow gateway never holds up the projections (and with them every read
// and every command waiting for its write to show).
func (d directory) Each(ctx context.Context, fn func(greeting.Recipient) error) error {
	const chunk = 1024
	ids := d.s.Customers.IDs()
	batch := make([]greeting.Recipient, 0, chunk)
	for start := 0; start < len(ids); start += chunk {
		batch = batch[:0]
		for _, id := range ids[start:min(start+chunk, len(ids))] {
			if c, ok := d.s.Customers.Get(id); ok {
				batch = append(batch, recipientOf(&c))
			}
		}
		for _, r := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

func recipientOf(c *customers.Customer) greeting.Recipient {
	r := greeting.Recipient{
		CustomerID: c.ID, Name: c.Name, Phone: c.Phone, Email: c.Email, WeChat: c.WeChat, Tier: c.Tier.String(),
		AccountManager: c.AccountManager, Timezone: c.Timezone, Locale: c.Locale, MarketingConsent: c.MarketingConsent,
		ConductFlagged: c.ConductFlagged, Erased: c.Erased,
	}
	if b, err := calendar.Parse(c.Birthday); err == nil {
		r.Birthday = b
	}
	if loc, err := loadLocation(c.Timezone); err == nil {
		r.RegisteredOn = calendar.DateOf(c.RegisteredAt.In(loc))
	} else {
		r.RegisteredOn = calendar.DateOf(c.RegisteredAt.UTC())
	}
	return r
}

func (s *Server) stageOf(id string) string {
	st, ok := s.Lifecycle.Get(id)
	if !ok {
		return ""
	}
	return st.Stage.String()
}

// campaignReads serves campaigns from their read model and previews from
// the greeting service.
type campaignReads struct{ s *Server }

func campaignView(c campaigns.Campaign) graphql.CampaignView {
	v := graphql.CampaignView{
		ID: c.ID, Name: c.Name, Occasion: c.Occasion, Date: c.Date, SendAtLocal: c.SendAtLocal, Status: string(c.Status),
		Audience: graphql.AudienceView{Stages: nonNil(c.Audience.Stages), Tiers: nonNil(c.Audience.Tiers),
			AccountManager: strPtr(c.Audience.AccountManager), ExcludeConductFlagged: c.Audience.ExcludeConductFlagged},
		AudienceSize: c.AudienceSize, Sent: c.Sent, Failed: c.Failed, Skipped: c.Skipped, CreatedBy: c.CreatedBy,
	}
	for _, rc := range c.SkippedByReasonSorted() {
		v.SkippedByReason = append(v.SkippedByReason, graphql.ReasonCount{Reason: rc.Reason, Count: rc.Count})
	}
	v.Excluded = c.Excluded
	for _, rc := range c.ExcludedByReasonSorted() {
		v.ExcludedByReason = append(v.ExcludedByReason, graphql.ReasonCount{Reason: rc.Reason, Count: rc.Count})
	}
	return v
}

// sortedReasons lists counts by reason in reason order.
func sortedReasons(m map[string]int) []graphql.ReasonCount {
	var out []graphql.ReasonCount
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, graphql.ReasonCount{Reason: k, Count: m[k]})
	}
	return out
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// withProgress overlays a running campaign's live counts (the dispatcher's
// own tally is ahead of the read model while a campaign is sending, and it
// alone counts the exclusions and ERASED skips before completion). The
// audience size stays the read model's count from the campaign's stream
// unless more customers have been handled.
func (r campaignReads) withProgress(v graphql.CampaignView) graphql.CampaignView {
	if r.s.dispatch == nil || v.Status != string(campaign.StatusRunning) {
		return v
	}
	p := r.s.dispatch.Progress(v.ID)
	if p.Sent+p.Failed+p.Skipped+p.Excluded <= v.Sent+v.Failed+v.Skipped+v.Excluded {
		return v
	}
	v.AudienceSize = max(v.AudienceSize, p.AudienceSize)
	v.Sent, v.Failed, v.Skipped, v.Excluded = p.Sent, p.Failed, p.Skipped, p.Excluded
	v.SkippedByReason, v.ExcludedByReason = sortedReasons(p.SkippedByReason), sortedReasons(p.ExcludedByReason)
	return v
}

func (r campaignReads) Campaign(ctx context.Context, id string) (graphql.CampaignView, error) {
	c, ok := r.s.Campaigns.Get(id)
	if !ok {
		return graphql.CampaignView{}, notFound("campaign", id)
	}
	return r.withProgress(campaignView(c)), nil
}

func (r campaignReads) Campaigns(ctx context.Context, p graphql.Page) (graphql.Connection[graphql.CampaignView], error) {
	after, err := decodeCursor(p.After)
	if err != nil {
		return graphql.Connection[graphql.CampaignView]{}, err
	}
	page, err := r.s.Campaigns.List(after, p.First)
	if err != nil {
		return graphql.Connection[graphql.CampaignView]{}, badCursor()
	}
	out := graphql.Connection[graphql.CampaignView]{HasNextPage: page.HasNextPage, TotalCount: page.TotalCount}
	for i, c := range page.Items {
		out.Edges = append(out.Edges, graphql.Edge[graphql.CampaignView]{Cursor: encodeCursor(page.Cursors[i]), Node: r.withProgress(campaignView(c))})
	}
	return out, nil
}

func scheduleOf(in graphql.ScheduleGreetingCampaignInput, by string) campaign.Schedule {
	cmd := campaign.Schedule{Name: in.Name, Occasion: in.Occasion, SendAtLocal: in.SendAtLocal, By: by,
		Audience: campaign.Audience{Stages: in.Audience.Stages, Tiers: in.Audience.Tiers, AccountManager: str(in.Audience.AccountManager),
			ExcludeConductFlagged: in.Audience.ExcludeConductFlagged}}
	if in.Date != nil {
		cmd.Date = *in.Date
	}
	for _, t := range in.Templates {
		cmd.Templates = append(cmd.Templates, campaign.Template{Stages: t.Stages, Channel: t.Channel, Body: t.Body})
	}
	return cmd
}

func (r campaignReads) PreviewCampaign(ctx context.Context, in graphql.ScheduleGreetingCampaignInput) (graphql.CampaignPreviewView, error) {
	by, _ := graphql.ActorFrom(ctx)
	p, err := campaign.PreviewAudience(ctx, directory(r), campaign.StageFunc(r.s.stageOf), r.s.sendRules, scheduleOf(in, by.User), r.s.clock())
	if err != nil {
		return graphql.CampaignPreviewView{}, apiErr(err)
	}
	return graphql.CampaignPreviewView{Evaluated: p.Evaluated, AudienceSize: p.AudienceSize, Greeted: p.Greeted, Skipped: p.Skipped,
		SkippedByReason: sortedReasons(p.SkippedByReason), ByChannel: sortedReasons(p.ByChannel),
		Excluded: p.Excluded, ExcludedByReason: sortedReasons(p.ExcludedByReason)}, nil
}

// waitForCampaign waits until the campaigns read model has applied
// everything appended so far and campaign id's stream as a read sees it
// now (the campaign service returns no position). The store's head alone
// is not enough: it can trail what a read already sees for a moment after
// another request's append commits — a retry with the same idempotency key
// then found the campaign, waited for an older head, and answered
// NOT_FOUND.
func (c commands) waitForCampaign(ctx context.Context, id string) error {
	head, err := c.s.dir.Store.Head(ctx)
	if err != nil {
		return err
	}
	last, err := c.s.dir.Store.ReadStream(ctx, eventstore.StreamID(campaign.StreamCategory, id),
		eventstore.StreamRead{Direction: eventstore.Backward, From: eventstore.End, Limit: 1})
	switch {
	case errors.Is(err, eventstore.ErrStreamNotFound):
	case err != nil:
		return err
	case len(last) == 1 && last[0].Position > head:
		head = last[0].Position
	}
	return c.s.runtime.WaitFor(ctx, head, "campaigns")
}

func (c commands) ScheduleGreetingCampaign(ctx context.Context, by graphql.Actor, in graphql.ScheduleGreetingCampaignInput) (graphql.CampaignResult, error) {
	ctx = command.WithActor(ctx, command.Actor{User: by.User, Role: string(by.Role)})
	if in.IdempotencyKey != "" {
		ctx = command.WithIdempotencyKey(ctx, in.IdempotencyKey)
	}
	camp, err := c.s.cmds.ScheduleCampaign.Handle(ctx, scheduleOf(in, by.User))
	if err != nil {
		return graphql.CampaignResult{}, apiErr(err)
	}
	return c.campaignResult(ctx, camp.ID())
}

func (c commands) CancelGreetingCampaign(ctx context.Context, by graphql.Actor, in graphql.CancelCampaignInput) (graphql.CampaignResult, error) {
	if _, ok := c.s.Campaigns.Get(in.CampaignID); !ok {
		return graphql.CampaignResult{}, notFound("campaign", in.CampaignID)
	}
	ctx = command.WithActor(ctx, command.Actor{User: by.User, Role: string(by.Role)})
	if _, err := c.s.cmds.CancelCampaign.Handle(ctx, in.CampaignID, campaign.Cancel{By: by.User, Reason: in.Reason}); err != nil {
		return graphql.CampaignResult{}, apiErr(err)
	}
	return c.campaignResult(ctx, in.CampaignID)
}

func (c commands) campaignResult(ctx context.Context, id string) (graphql.CampaignResult, error) {
	if err := c.waitForCampaign(ctx, id); err != nil {
		return graphql.CampaignResult{}, err
	}
	v, err := campaignReads(c).Campaign(ctx, id)
	if err != nil {
		return graphql.CampaignResult{}, err
	}
	return graphql.CampaignResult{Campaign: v}, nil
}
