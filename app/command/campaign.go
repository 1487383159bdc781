package command

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// Campaigns is the repository of greeting-campaign streams.
type Campaigns = Repository[*campaign.Campaign, campaign.Event]

// NewCampaigns returns the repository of campaign streams.
func NewCampaigns(cfg Config) (*Campaigns, error) {
	return NewRepository(Kind[*campaign.Campaign, campaign.Event]{
		Name: "campaign", Category: campaign.StreamCategory, Rehydrate: campaign.Rehydrate,
	}, cfg)
}

// NamespaceCampaign is the DeterministicID namespace of campaign events
// with a derived ID: a scheduled campaign, keyed by the caller and their
// idempotency key; the dispatcher's "<campaignID>/started" and
// "<campaignID>/completed". It is part of the stored data: never change
// it.
const NamespaceCampaign = "greeting-campaign"

// ScheduleCampaign records a new greeting campaign, its audience counted
// from the book as it stands.
type ScheduleCampaign struct {
	repo   *Campaigns
	dir    campaign.Directory
	stages campaign.StageSource
}

// Handle schedules cmd and returns where the campaign's stream stands
// (Result.ID is the campaign's ID). cmd.CampaignID may be
// empty (an ID is chosen). Invalid input returns a
// *aggregate.InvalidInputError and stores nothing.
//
// With an idempotency key in ctx the campaign ID and event ID derive from
// it (and the caller), so a repeated request — sequential or racing,
// minutes or days later — returns the campaign the first one scheduled
// and stores nothing. The same key with another definition
// (campaign.Campaign.Defines) is a *KeyReuseError and stores nothing.
func (h ScheduleCampaign) Handle(ctx context.Context, cmd campaign.Schedule) (Result, error) {
	if err := aggregate.CheckText(cmd); err != nil {
		return Result{}, err
	}
	now := h.repo.Now()
	key, _ := IdempotencyKeyFrom(ctx)
	eventID := uuid.New()
	if key != "" {
		eventID = codec.DeterministicID(NamespaceCampaign, "schedule/"+cmd.By+"\x00"+key)
	}
	if cmd.CampaignID == "" {
		cmd.CampaignID = eventID.String()
	}
	c, res, err := h.repo.Current(ctx, cmd.CampaignID)
	if err != nil {
		return Result{}, err
	}
	if c.Exists() && key != "" {
		return retried(c, res, cmd, key, now)
	}
	def, err := campaign.Validate(cmd, now)
	if err != nil {
		return Result{}, err
	}
	if cmd.AudienceSize, _, err = campaign.CountAudience(ctx, h.dir, h.stages, def); err != nil {
		return Result{}, fmt.Errorf("count the audience of %s: %w", cmd.CampaignID, err)
	}
	res, err = h.repo.Update(ctx, cmd.CampaignID, nil, func(c *campaign.Campaign) error { return c.Schedule(cmd, now) },
		Options[campaign.Event]{EventID: func(int, campaign.Event) uuid.UUID { return eventID }})
	var pe *aggregate.PreconditionError
	switch {
	case err == nil && key == "":
		return res, nil
	case err != nil && !(key != "" && errors.As(err, &pe)):
		return Result{}, err
	}
	// A racing request with the same key may have stored its campaign
	// first: the store then took this append as a retry of that one (the
	// same event ID) and wrote nothing, or this one found it scheduled.
	if c, res, err = h.repo.Current(ctx, cmd.CampaignID); err != nil {
		return Result{}, err
	}
	return retried(c, res, cmd, key, now)
}

// retried answers a scheduling request whose idempotency key already
// scheduled campaign c (its stream at res): res when the request defines
// it, else the request's own input error, else a *KeyReuseError.
func retried(c *campaign.Campaign, res Result, cmd campaign.Schedule, key string, now time.Time) (Result, error) {
	if c.Defines(cmd) {
		return res, nil
	}
	if _, err := campaign.Validate(cmd, now); err != nil {
		return Result{}, err
	}
	return Result{}, &KeyReuseError{Kind: "campaign", ID: c.ID(), Key: key}
}

// CancelCampaign stops a campaign's remaining sends (those already handed
// to a sender finish).
type CancelCampaign struct{ repo *Campaigns }

// Handle records GreetingCampaignCancelled on campaignID.
func (h CancelCampaign) Handle(ctx context.Context, campaignID string, cmd campaign.Cancel) (Result, error) {
	if err := aggregate.CheckText(cmd); err != nil {
		return Result{}, err
	}
	return h.repo.Update(ctx, campaignID, nil, func(c *campaign.Campaign) error {
		if !c.Exists() {
			return &aggregate.NotFoundError{Kind: "campaign", ID: campaignID}
		}
		return c.Cancel(cmd, h.repo.Now())
	})
}
