package greeting

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// ServiceConfig wires a Service.
type ServiceConfig struct {
	Store     eventstore.Store
	Codec     *codec.Codec
	Directory Directory
	Stages    StageSource
	Policy    Policy
	// Clock is "now" for scheduling and previews; nil means time.Now.
	Clock func() time.Time
}

// Service is the command side of campaigns for the API: schedule, cancel,
// preview.
type Service struct {
	st     streams
	dir    Directory
	stages StageSource
	pol    campaign.SendRules
	clock  func() time.Time
	zones  *campaign.Zones
}

// NewService returns a Service.
func NewService(cfg ServiceConfig) (*Service, error) {
	var errs []error
	if cfg.Store == nil || cfg.Codec == nil || cfg.Directory == nil || cfg.Stages == nil {
		errs = append(errs, errors.New("greeting: Store, Codec, Directory and Stages are required"))
	}
	pol, err := cfg.Policy.Compile()
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Service{st: streams{cfg.Store, cfg.Codec}, dir: cfg.Directory, stages: cfg.Stages, pol: pol, clock: cfg.Clock, zones: &campaign.Zones{}}, nil
}

// Schedule records a new campaign and returns it, with its audience
// counted from the Directory and the stages now (recorded in
// GreetingCampaignScheduled: the campaign's audienceSize before sending
// starts). cmd.CampaignID may be empty (an ID is chosen). Invalid input
// returns a *campaign.InvalidInputError and stores nothing.
//
// With an idempotency key the campaign ID and event ID derive from it, so
// a repeated request — sequential or racing, minutes or days later —
// returns the campaign the first one scheduled and stores nothing. The
// same key with another definition (campaign.Campaign.Defines) is a
// *KeyConflictError and stores nothing.
func (s *Service) Schedule(ctx context.Context, cmd campaign.Schedule, idempotencyKey string) (*campaign.Campaign, error) {
	now := s.clock()
	if err := aggregate.CheckText(cmd); err != nil {
		return nil, err
	}
	eventID := uuid.New()
	if idempotencyKey != "" {
		// A key is the caller's own: another user's same key is another
		// campaign.
		eventID = codec.DeterministicID(NamespaceCampaign, "schedule/"+cmd.By+"\x00"+idempotencyKey)
	}
	if cmd.CampaignID == "" {
		cmd.CampaignID = eventID.String()
	}
	c, err := s.st.loadCampaign(ctx, cmd.CampaignID)
	if err != nil {
		return nil, err
	}
	if c.Exists() && idempotencyKey != "" {
		return retried(c, cmd, idempotencyKey, now)
	}
	def, err := campaign.Validate(cmd, now)
	if err != nil {
		return nil, err
	}
	if cmd.AudienceSize, _, err = countAudience(ctx, s.dir, s.stages, def); err != nil {
		return nil, fmt.Errorf("greeting: count the audience of %s: %w", cmd.CampaignID, err)
	}
	if err := c.Schedule(cmd, now); err != nil {
		return nil, err
	}
	stream := eventstore.StreamID(campaign.StreamCategory, cmd.CampaignID)
	ch := c.Changes()[0]
	if err := s.st.appendOne(ctx, stream, 0, false, ch.Event, codec.Envelope{ID: eventID, OccurredAt: ch.OccurredAt,
		Meta: codec.Metadata{Actor: cmd.By, IdempotencyKey: idempotencyKey}}); err != nil {
		if errors.Is(err, eventstore.ErrConcurrency) {
			return nil, &campaign.PreconditionError{Action: "schedule campaign " + cmd.CampaignID, Reason: "the campaign is already scheduled"}
		}
		return nil, err
	}
	c, err = s.st.loadCampaign(ctx, cmd.CampaignID)
	if err != nil || idempotencyKey == "" {
		return c, err
	}
	// A racing request with the same key may have stored its campaign
	// first: the store then took this append as a retry of that one (the
	// same event ID) and wrote nothing.
	return retried(c, cmd, idempotencyKey, now)
}

// retried answers a scheduling request whose idempotency key already
// scheduled campaign c: c when the request defines it, else the request's
// own input error, else a *KeyConflictError.
func retried(c *campaign.Campaign, cmd campaign.Schedule, key string, now time.Time) (*campaign.Campaign, error) {
	if c.Defines(cmd) {
		return c, nil
	}
	if _, err := campaign.Validate(cmd, now); err != nil {
		return nil, err
	}
	return nil, &KeyConflictError{Key: key, CampaignID: c.ID()}
}

// Cancel records GreetingCampaignCancelled; the dispatcher stops the
// remaining sends (sends already handed to a sender finish).
func (s *Service) Cancel(ctx context.Context, campaignID string, cmd campaign.Cancel) (*campaign.Campaign, error) {
	stream := eventstore.StreamID(campaign.StreamCategory, campaignID)
	for range 5 {
		c, err := s.st.loadCampaign(ctx, campaignID)
		if err != nil {
			return nil, err
		}
		if err := c.Cancel(cmd, s.clock()); err != nil {
			return nil, err
		}
		rev, exists := c.Version()
		ch := c.Changes()[0]
		err = s.st.appendOne(ctx, stream, rev, exists, ch.Event, codec.Envelope{OccurredAt: ch.OccurredAt, Meta: codec.Metadata{Actor: cmd.By}})
		if errors.Is(err, eventstore.ErrConcurrency) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return s.st.loadCampaign(ctx, campaignID)
	}
	return nil, fmt.Errorf("greeting: cancel %s: too many concurrent changes", campaignID)
}

// Load returns a campaign from its stream (*campaign.NotFoundError when
// it does not exist).
func (s *Service) Load(ctx context.Context, campaignID string) (*campaign.Campaign, error) {
	c, err := s.st.loadCampaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	if !c.Exists() {
		return nil, &campaign.NotFoundError{Kind: "campaign", ID: campaignID}
	}
	return c, nil
}

// Preview is what a campaign would do if its audience were evaluated now.
type Preview struct {
	// Evaluated customers: those the campaign covers (account manager
	// scope; for BIRTHDAY and ANNIVERSARY, an occasion in the window):
	// AudienceSize + Excluded.
	Evaluated int
	// AudienceSize: the evaluated customers in the audience (its stages
	// and tiers): Greeted + Skipped.
	AudienceSize int
	Greeted      int
	Skipped      int
	// SkippedByReason and ByChannel count skips per reason and greetings
	// per channel.
	SkippedByReason map[string]int
	ByChannel       map[string]int
	// Excluded: the evaluated customers outside the audience, by reason
	// (STAGE_EXCLUDED, TIER_EXCLUDED) in ExcludedByReason.
	Excluded         int
	ExcludedByReason map[string]int
}

// Preview validates cmd (as Schedule would) and evaluates the audience
// from the Directory and the stages now, without storing or sending
// anything. MISSED cannot be predicted and is never counted.
func (s *Service) Preview(ctx context.Context, cmd campaign.Schedule) (Preview, error) {
	if cmd.CampaignID == "" {
		cmd.CampaignID = "preview"
	}
	def, err := campaign.Validate(cmd, s.clock())
	if err != nil {
		return Preview{}, err
	}
	p := Preview{SkippedByReason: map[string]int{}, ByChannel: map[string]int{}, ExcludedByReason: map[string]int{}}
	err = s.dir.Each(ctx, func(r Recipient) error {
		if _, ok := campaign.Covers(def, &r); !ok {
			return nil
		}
		p.Evaluated++
		d := campaign.Decide(def, &r, s.stages.StageOf(r.CustomerID), 0, s.pol)
		if d.Exclude != "" {
			p.Excluded++
			p.ExcludedByReason[d.Exclude]++
			return nil
		}
		p.AudienceSize++
		if d.Skip != "" {
			p.Skipped++
			p.SkippedByReason[d.Skip]++
			return nil
		}
		p.Greeted++
		p.ByChannel[d.Channel]++
		return nil
	})
	return p, err
}
