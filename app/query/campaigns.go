package query

import (
	"context"
	"maps"
	"slices"

	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/projections/campaigns"
	"github.com/kefu-crm/kefu/projections/customers"
)

// directory lets the greeting dispatcher walk the book.
type directory struct{ s *core }

// Each walks the book in chunks: recipients are copied under the book's
// read lock and handed to fn without it, so a dispatcher that blocks on a
// slow gateway never holds up the projections (and with them every read
// and every command waiting for its write to show).
func (d directory) Each(ctx context.Context, fn func(campaign.Recipient) error) error {
	const chunk = 1024
	ids := d.s.Customers.IDs()
	batch := make([]campaign.Recipient, 0, chunk)
	for start := 0; start < len(ids); start += chunk {
		batch = batch[:0]
		for _, id := range ids[start:min(start+chunk, len(ids))] {
			// A merged customer is its survivor's: one person, one recipient.
			if c, ok := d.s.Customers.Get(id); ok && c.MergedInto == "" {
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

func recipientOf(c *customers.Customer) campaign.Recipient {
	r := campaign.Recipient{
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

func (s *core) stageOf(id string) string {
	st, ok := s.Lifecycle.Get(id)
	if !ok {
		return ""
	}
	return st.Stage.String()
}

func campaignView(c campaigns.Campaign) Campaign {
	v := Campaign{
		ID: c.ID, Name: c.Name, Occasion: c.Occasion, Date: c.Date, SendAtLocal: c.SendAtLocal, Status: string(c.Status),
		Audience: Audience{Stages: nonNil(c.Audience.Stages), Tiers: nonNil(c.Audience.Tiers),
			AccountManager: strPtr(c.Audience.AccountManager), ExcludeConductFlagged: c.Audience.ExcludeConductFlagged},
		AudienceSize: c.AudienceSize, Sent: c.Sent, Failed: c.Failed, Skipped: c.Skipped, CreatedBy: c.CreatedBy,
	}
	for _, rc := range c.SkippedByReasonSorted() {
		v.SkippedByReason = append(v.SkippedByReason, ReasonCount{Reason: rc.Reason, Count: rc.Count})
	}
	v.Excluded = c.Excluded
	for _, rc := range c.ExcludedByReasonSorted() {
		v.ExcludedByReason = append(v.ExcludedByReason, ReasonCount{Reason: rc.Reason, Count: rc.Count})
	}
	return v
}

// sortedReasons lists counts by reason in reason order.
func sortedReasons(m map[string]int) []ReasonCount {
	var out []ReasonCount
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, ReasonCount{Reason: k, Count: m[k]})
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
func (h Campaigns) withProgress(v Campaign) Campaign {
	if h.progress == nil || v.Status != string(campaign.StatusRunning) {
		return v
	}
	p := h.progress(v.ID)
	if p.Sent+p.Failed+p.Skipped+p.Excluded <= v.Sent+v.Failed+v.Skipped+v.Excluded {
		return v
	}
	v.AudienceSize = max(v.AudienceSize, p.AudienceSize)
	v.Sent, v.Failed, v.Skipped, v.Excluded = p.Sent, p.Failed, p.Skipped, p.Excluded
	v.SkippedByReason, v.ExcludedByReason = sortedReasons(p.SkippedByReason), sortedReasons(p.ExcludedByReason)
	return v
}

func (h Campaigns) Get(ctx context.Context, id string) (Campaign, error) {
	c, ok := h.Campaigns.Get(id)
	if !ok {
		return Campaign{}, notFound("campaign", id)
	}
	return h.withProgress(campaignView(c)), nil
}

func (h Campaigns) List(ctx context.Context, p Page) (Connection[Campaign], error) {
	after, err := decodeCursor(p.After)
	if err != nil {
		return Connection[Campaign]{}, err
	}
	page, err := h.Campaigns.List(after, p.First)
	if err != nil {
		return Connection[Campaign]{}, badCursor()
	}
	out := Connection[Campaign]{HasNextPage: page.HasNextPage, TotalCount: page.TotalCount}
	for i, c := range page.Items {
		out.Edges = append(out.Edges, Edge[Campaign]{Cursor: encodeCursor(page.Cursors[i]), Node: h.withProgress(campaignView(c))})
	}
	return out, nil
}

// Preview is what cmd would do if its audience were evaluated now: who
// would be greeted, skipped (and why) or excluded — nothing is stored.
func (h Campaigns) Preview(ctx context.Context, cmd campaign.Schedule) (CampaignPreview, error) {
	p, err := campaign.PreviewAudience(ctx, directory{h.core}, campaign.StageFunc(h.stageOf), h.sendRules, cmd, h.clock())
	if err != nil {
		return CampaignPreview{}, err
	}
	return CampaignPreview{Evaluated: p.Evaluated, AudienceSize: p.AudienceSize, Greeted: p.Greeted, Skipped: p.Skipped,
		SkippedByReason: sortedReasons(p.SkippedByReason), ByChannel: sortedReasons(p.ByChannel),
		Excluded: p.Excluded, ExcludedByReason: sortedReasons(p.ExcludedByReason)}, nil
}
