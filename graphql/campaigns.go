package graphql

import (
	gql "github.com/graphql-go/graphql"
)

func (b *builder) reasonCount() *gql.Object {
	if b.reasonCountType == nil {
		b.reasonCountType = gql.NewObject(gql.ObjectConfig{
			Name:        "ReasonCount",
			Description: "A count of items sharing a reason (or another key such as a channel).",
			Fields: gql.Fields{
				"reason": {Type: gql.NewNonNull(gql.String), Description: "The reason, e.g. NO_CONSENT.", Resolve: get(func(r *ReasonCount) any { return r.Reason })},
				"count":  {Type: gql.NewNonNull(gql.Int), Description: "How many.", Resolve: get(func(r *ReasonCount) any { return r.Count })},
			},
		})
	}
	return b.reasonCountType
}

func (b *builder) greetingType() *gql.Object {
	if b.greeting == nil {
		b.greeting = gql.NewObject(gql.ObjectConfig{
			Name:        "Greeting",
			Description: "One greeting to a customer: sent, failed or skipped (with the reason).",
			Fields: gql.FieldsThunk(func() gql.Fields {
				return gql.Fields{
					"campaign": {Type: b.campaign, Description: "The campaign that sent it (null if unknown).",
						Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
							g, ok := p.Source.(*GreetingView)
							if !ok || g.CampaignID == nil {
								return nil, nil
							}
							c, err := b.d.Campaigns.Campaign(p.Context, *g.CampaignID)
							if err != nil {
								if isNotFound(err) {
									return nil, nil
								}
								return nil, err
							}
							return &c, nil
						})},
					"occasion": {Type: gql.NewNonNull(gql.String), Description: "The occasion greeted (holiday key, BIRTHDAY, ANNIVERSARY or a label).", Resolve: get(func(g *GreetingView) any { return g.Occasion })},
					"channel":  {Type: gql.NewNonNull(b.channel), Description: "Channel used (or that would have been).", Resolve: get(func(g *GreetingView) any { return g.Channel })},
					"status":   {Type: gql.NewNonNull(b.deliveryStatus), Description: "SENT, FAILED or SKIPPED.", Resolve: get(func(g *GreetingView) any { return g.Status })},
					"reason":   {Type: gql.String, Description: "Why it failed or was skipped (NO_CONSENT, MISSED …).", Resolve: get(func(g *GreetingView) any { return opt(g.Reason) })},
					"at":       {Type: gql.NewNonNull(b.dateTime), Description: "When it was sent, failed or skipped.", Resolve: get(func(g *GreetingView) any { return g.At })},
				}
			}),
		})
	}
	return b.greeting
}

func (b *builder) defineCampaign() {
	audience := gql.NewObject(gql.ObjectConfig{
		Name:        "Audience",
		Description: "Who a campaign is for (evaluated per customer at send time; marketing consent is always required).",
		Fields: gql.Fields{
			"stages":                {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.stage))), Description: "Stages included.", Resolve: get(func(a *AudienceView) any { return strList(a.Stages) })},
			"tiers":                 {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.tier))), Description: "Tiers included (empty = all).", Resolve: get(func(a *AudienceView) any { return strList(a.Tiers) })},
			"accountManager":        {Type: gql.String, Description: "Only customers of this account manager.", Resolve: get(func(a *AudienceView) any { return opt(a.AccountManager) })},
			"excludeConductFlagged": {Type: gql.NewNonNull(gql.Boolean), Description: "Whether conduct-flagged customers are skipped.", Resolve: get(func(a *AudienceView) any { return a.ExcludeConductFlagged })},
		},
	})
	b.campaign = gql.NewObject(gql.ObjectConfig{
		Name:        "GreetingCampaign",
		Description: "A holiday, birthday or anniversary greeting campaign and its delivery counts.",
		Fields: gql.FieldsThunk(func() gql.Fields {
			return gql.Fields{
				"id":          {Type: gql.NewNonNull(gql.ID), Description: "Campaign ID (the stream is campaign-<id>).", Resolve: get(func(c *CampaignView) any { return c.ID })},
				"name":        {Type: gql.NewNonNull(gql.String), Description: "Name given by marketing.", Resolve: get(func(c *CampaignView) any { return c.Name })},
				"occasion":    {Type: gql.NewNonNull(gql.String), Description: "Holiday key (e.g. CN:spring_festival), BIRTHDAY, ANNIVERSARY, or a custom label.", Resolve: get(func(c *CampaignView) any { return c.Occasion })},
				"date":        {Type: b.date, Description: "The occasion's date (null for BIRTHDAY and ANNIVERSARY, which recur per customer).", Resolve: get(func(c *CampaignView) any { return optDate(c.Date) })},
				"sendAtLocal": {Type: gql.NewNonNull(gql.String), Description: "HH:MM in each customer's own timezone (quiet hours move it).", Resolve: get(func(c *CampaignView) any { return c.SendAtLocal })},
				"status":      {Type: gql.NewNonNull(b.campaignStatus), Description: "SCHEDULED, RUNNING, COMPLETED or CANCELLED.", Resolve: get(func(c *CampaignView) any { return c.Status })},
				"audience":    {Type: gql.NewNonNull(audience), Description: "Who it is for.", Resolve: get(func(c *CampaignView) any { return &c.Audience })},
				"audienceSize": {Type: gql.NewNonNull(gql.Int),
					Description: "Customers in the audience (its stages, tiers and account manager; for BIRTHDAY and ANNIVERSARY, an occasion in the window): counted from the book when the campaign is scheduled, again when sending starts, and once completed the customers handled (sent + failed + skipped).",
					Resolve:     get(func(c *CampaignView) any { return c.AudienceSize })},
				"sent":    {Type: gql.NewNonNull(gql.Int), Description: "Greetings sent.", Resolve: get(func(c *CampaignView) any { return c.Sent })},
				"failed":  {Type: gql.NewNonNull(gql.Int), Description: "Greetings failed after retries.", Resolve: get(func(c *CampaignView) any { return c.Failed })},
				"skipped": {Type: gql.NewNonNull(gql.Int), Description: "Customers of the audience skipped.", Resolve: get(func(c *CampaignView) any { return c.Skipped })},
				"skippedByReason": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.reasonCount()))),
					Description: "Skips of the audience grouped by reason: NO_CONSENT, CONDUCT_FLAGGED, ERASED, MISSED, NO_CHANNEL (each but ERASED also a GreetingSkipped on the customer's stream).",
					Resolve:     get(func(c *CampaignView) any { return ptrs(c.SkippedByReason) })},
				"excluded": {Type: gql.NewNonNull(gql.Int),
					Description: "Customers the campaign covers that its audience leaves out (stage, tier): counted here only, nothing is recorded on their streams. Final once the campaign has completed.",
					Resolve:     get(func(c *CampaignView) any { return c.Excluded })},
				"excludedByReason": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.reasonCount()))),
					Description: "Exclusions grouped by reason: STAGE_EXCLUDED (a stage the audience leaves out, or one no template is meant for), TIER_EXCLUDED.",
					Resolve:     get(func(c *CampaignView) any { return ptrs(c.ExcludedByReason) })},
				"createdBy": {Type: gql.NewNonNull(gql.String), Description: "User who scheduled it.", Resolve: get(func(c *CampaignView) any { return c.CreatedBy })},
			}
		}),
	})
	b.campaignConn = b.connection("GreetingCampaign", "greeting campaign", b.campaign, true)
}

func (b *builder) campaignQueries() gql.Fields {
	preview := gql.NewObject(gql.ObjectConfig{
		Name:        "CampaignPreview",
		Description: "What a campaign would do if its audience were evaluated now: nothing is scheduled or sent.",
		Fields: gql.Fields{
			"evaluated":    {Type: gql.NewNonNull(gql.Int), Description: "Customers the campaign covers (account manager; for BIRTHDAY and ANNIVERSARY, an occasion in the window): audienceSize + excluded.", Resolve: get(func(c *CampaignPreviewView) any { return c.Evaluated })},
			"audienceSize": {Type: gql.NewNonNull(gql.Int), Description: "Customers in the audience (its stages and tiers): greeted + skipped.", Resolve: get(func(c *CampaignPreviewView) any { return c.AudienceSize })},
			"greeted":      {Type: gql.NewNonNull(gql.Int), Description: "Customers who would be greeted.", Resolve: get(func(c *CampaignPreviewView) any { return c.Greeted })},
			"skipped":      {Type: gql.NewNonNull(gql.Int), Description: "Customers of the audience who would be skipped.", Resolve: get(func(c *CampaignPreviewView) any { return c.Skipped })},
			"skippedByReason": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.reasonCount()))), Description: "Skips grouped by reason (NO_CONSENT, CONDUCT_FLAGGED, ERASED, NO_CHANNEL).",
				Resolve: get(func(c *CampaignPreviewView) any { return ptrs(c.SkippedByReason) })},
			"excluded": {Type: gql.NewNonNull(gql.Int), Description: "Customers the audience leaves out (stage, tier): nothing would be recorded for them.", Resolve: get(func(c *CampaignPreviewView) any { return c.Excluded })},
			"excludedByReason": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.reasonCount()))), Description: "Exclusions grouped by reason (STAGE_EXCLUDED, TIER_EXCLUDED).",
				Resolve: get(func(c *CampaignPreviewView) any { return ptrs(c.ExcludedByReason) })},
			"byChannel": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.reasonCount()))), Description: "Greetings that would go out, per channel (reason = channel name).",
				Resolve: get(func(c *CampaignPreviewView) any { return ptrs(c.ByChannel) })},
		},
	})
	return gql.Fields{
		"campaign": {
			Type:        b.campaign,
			Description: "One greeting campaign by ID; null when unknown.",
			Args:        gql.FieldConfigArgument{"id": {Type: gql.NewNonNull(gql.ID), Description: "Campaign ID."}},
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				a := newArgs(p.Args, "")
				id := a.str("id")
				if a.err != nil {
					return nil, a.err
				}
				c, err := b.d.Campaigns.Campaign(p.Context, id)
				if err != nil {
					if isNotFound(err) {
						return nil, nil
					}
					return nil, err
				}
				return &c, nil
			}),
		},
		"campaigns": {
			Type:        gql.NewNonNull(b.campaignConn),
			Description: "Greeting campaigns, newest first, with the exact totalCount.",
			Args:        pageArgs(50, "campaigns"),
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				pg, err := b.page(p.Args, 50)
				if err != nil {
					return nil, err
				}
				conn, err := b.d.Campaigns.Campaigns(p.Context, pg)
				if err != nil {
					return nil, err
				}
				return toConn(conn), nil
			}),
		},
		"previewGreetingCampaign": {
			Type:        gql.NewNonNull(preview),
			Description: "Preview a campaign before scheduling it: how many customers would be greeted, and how many skipped by reason. Schedules nothing.",
			Args: gql.FieldConfigArgument{
				"input": {Type: gql.NewNonNull(b.scheduleCampaignInput()), Description: "The campaign as it would be scheduled."},
			},
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				in, err := b.readScheduleCampaign(p.Args)
				if err != nil {
					return nil, err
				}
				v, err := b.d.Campaigns.PreviewCampaign(p.Context, in)
				if err != nil {
					return nil, err
				}
				return &v, nil
			}),
		},
	}
}

func (b *builder) holidayQueries() gql.Fields {
	holiday := gql.NewObject(gql.ObjectConfig{
		Name:        "Holiday",
		Description: "An occasion of a built-in calendar on a given date.",
		Fields: gql.Fields{
			"calendar":  {Type: gql.NewNonNull(gql.String), Description: "Calendar code, e.g. CN.", Resolve: get(func(h *HolidayView) any { return h.Calendar })},
			"key":       {Type: gql.NewNonNull(gql.String), Description: "Stable key, e.g. CN:spring_festival (use as a campaign occasion).", Resolve: get(func(h *HolidayView) any { return h.Key })},
			"name":      {Type: gql.NewNonNull(gql.String), Description: "English name, e.g. Spring Festival.", Resolve: get(func(h *HolidayView) any { return h.Name })},
			"localName": {Type: gql.String, Description: "Name in the local language, e.g. 春节.", Resolve: get(func(h *HolidayView) any { return opt(h.LocalName) })},
			"date":      {Type: gql.NewNonNull(b.date), Description: "The day of the occasion.", Resolve: get(func(h *HolidayView) any { return h.Date })},
		},
	})
	return gql.Fields{
		"holidays": {
			Type:        gql.NewNonNull(gql.NewList(gql.NewNonNull(holiday))),
			Description: "Occasions of a built-in calendar (e.g. CN) between two dates, inclusive.",
			Args: gql.FieldConfigArgument{
				"calendar": {Type: gql.String, DefaultValue: "CN", Description: "Calendar code: CN, or a country code the holiday library knows."},
				"from":     {Type: gql.NewNonNull(b.date), Description: "First day, inclusive."},
				"to":       {Type: gql.NewNonNull(b.date), Description: "Last day, inclusive (at most 10 years after from)."},
			},
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				a := newArgs(p.Args, "")
				cal, from, to := a.str("calendar"), a.date("from"), a.date("to")
				if a.err != nil {
					return nil, a.err
				}
				if to.Before(from) {
					return nil, badInput("to", "to must not be before from")
				}
				if to.Sub(from) > 3660 {
					return nil, badInput("to", "the range must not exceed 10 years")
				}
				hs, err := b.d.Calendar.Holidays(p.Context, cal, from, to)
				if err != nil {
					return nil, err
				}
				return ptrs(hs), nil
			}),
		},
	}
}
