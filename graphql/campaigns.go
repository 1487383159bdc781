package graphql

import (
	"context"

	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/app/query"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/campaign"
)

func (b *builder) reasonCount() *gql.Object {
	if b.reasonCountType == nil {
		b.reasonCountType = gql.NewObject(gql.ObjectConfig{
			Name:        "ReasonCount",
			Description: "A count of items sharing a reason (or another key such as a channel).",
			Fields: gql.Fields{
				"reason": {Type: gql.NewNonNull(gql.String), Description: "The reason, e.g. NO_CONSENT.", Resolve: get(func(r *query.ReasonCount) any { return r.Reason })},
				"count":  {Type: gql.NewNonNull(gql.Int), Description: "How many.", Resolve: get(func(r *query.ReasonCount) any { return r.Count })},
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
							g, ok := p.Source.(*query.Greeting)
							if !ok || g.CampaignID == nil {
								return nil, nil
							}
							c, err := b.q.Campaigns.Get(p.Context, *g.CampaignID)
							if err != nil {
								if isNotFound(err) {
									return nil, nil
								}
								return nil, err
							}
							return &c, nil
						})},
					"occasion": {Type: gql.NewNonNull(gql.String), Description: "The occasion greeted (holiday key, BIRTHDAY, ANNIVERSARY or a label).", Resolve: get(func(g *query.Greeting) any { return g.Occasion })},
					"channel":  {Type: gql.NewNonNull(b.channel), Description: "Channel used (or that would have been).", Resolve: get(func(g *query.Greeting) any { return g.Channel })},
					"status":   {Type: gql.NewNonNull(b.deliveryStatus), Description: "SENT, FAILED or SKIPPED.", Resolve: get(func(g *query.Greeting) any { return g.Status })},
					"reason":   {Type: gql.String, Description: "Why it failed or was skipped (NO_CONSENT, MISSED …).", Resolve: get(func(g *query.Greeting) any { return opt(g.Reason) })},
					"at":       {Type: gql.NewNonNull(b.dateTime), Description: "When it was sent, failed or skipped.", Resolve: get(func(g *query.Greeting) any { return g.At })},
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
			"stages":                {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.stage))), Description: "Stages included.", Resolve: get(func(a *query.Audience) any { return strList(a.Stages) })},
			"tiers":                 {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.tier))), Description: "Tiers included (empty = all).", Resolve: get(func(a *query.Audience) any { return strList(a.Tiers) })},
			"accountManager":        {Type: gql.String, Description: "Only customers of this account manager.", Resolve: get(func(a *query.Audience) any { return opt(a.AccountManager) })},
			"excludeConductFlagged": {Type: gql.NewNonNull(gql.Boolean), Description: "Whether conduct-flagged customers are skipped.", Resolve: get(func(a *query.Audience) any { return a.ExcludeConductFlagged })},
		},
	})
	b.campaign = gql.NewObject(gql.ObjectConfig{
		Name:        "GreetingCampaign",
		Description: "A holiday, birthday or anniversary greeting campaign and its delivery counts.",
		Fields: gql.FieldsThunk(func() gql.Fields {
			return gql.Fields{
				"id":          {Type: gql.NewNonNull(gql.ID), Description: "Campaign ID (the stream is campaign-<id>).", Resolve: get(func(c *query.Campaign) any { return c.ID })},
				"name":        {Type: gql.NewNonNull(gql.String), Description: "Name given by marketing.", Resolve: get(func(c *query.Campaign) any { return c.Name })},
				"occasion":    {Type: gql.NewNonNull(gql.String), Description: "Holiday key (e.g. CN:spring_festival), BIRTHDAY, ANNIVERSARY, or a custom label.", Resolve: get(func(c *query.Campaign) any { return c.Occasion })},
				"date":        {Type: b.date, Description: "The occasion's date (null for BIRTHDAY and ANNIVERSARY, which recur per customer).", Resolve: get(func(c *query.Campaign) any { return optDate(c.Date) })},
				"sendAtLocal": {Type: gql.NewNonNull(gql.String), Description: "HH:MM in each customer's own timezone (quiet hours move it).", Resolve: get(func(c *query.Campaign) any { return c.SendAtLocal })},
				"status":      {Type: gql.NewNonNull(b.campaignStatus), Description: "SCHEDULED, RUNNING, COMPLETED or CANCELLED.", Resolve: get(func(c *query.Campaign) any { return c.Status })},
				"audience":    {Type: gql.NewNonNull(audience), Description: "Who it is for.", Resolve: get(func(c *query.Campaign) any { return &c.Audience })},
				"audienceSize": {Type: gql.NewNonNull(gql.Int),
					Description: "Customers in the audience (its stages, tiers and account manager; for BIRTHDAY and ANNIVERSARY, an occasion in the window): counted from the book when the campaign is scheduled, again when sending starts, and once completed the customers handled (sent + failed + skipped).",
					Resolve:     get(func(c *query.Campaign) any { return c.AudienceSize })},
				"sent":    {Type: gql.NewNonNull(gql.Int), Description: "Greetings sent.", Resolve: get(func(c *query.Campaign) any { return c.Sent })},
				"failed":  {Type: gql.NewNonNull(gql.Int), Description: "Greetings failed after retries.", Resolve: get(func(c *query.Campaign) any { return c.Failed })},
				"skipped": {Type: gql.NewNonNull(gql.Int), Description: "Customers of the audience skipped.", Resolve: get(func(c *query.Campaign) any { return c.Skipped })},
				"skippedByReason": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.reasonCount()))),
					Description: "Skips of the audience grouped by reason: NO_CONSENT, CONDUCT_FLAGGED, ERASED, MISSED, NO_CHANNEL (each but ERASED also a GreetingSkipped on the customer's stream).",
					Resolve:     get(func(c *query.Campaign) any { return ptrs(c.SkippedByReason) })},
				"excluded": {Type: gql.NewNonNull(gql.Int),
					Description: "Customers the campaign covers that its audience leaves out (stage, tier): counted here only, nothing is recorded on their streams. Final once the campaign has completed.",
					Resolve:     get(func(c *query.Campaign) any { return c.Excluded })},
				"excludedByReason": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.reasonCount()))),
					Description: "Exclusions grouped by reason: STAGE_EXCLUDED (a stage the audience leaves out, or one no template is meant for), TIER_EXCLUDED.",
					Resolve:     get(func(c *query.Campaign) any { return ptrs(c.ExcludedByReason) })},
				"createdBy": {Type: gql.NewNonNull(gql.String), Description: "User who scheduled it.", Resolve: get(func(c *query.Campaign) any { return c.CreatedBy })},
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
			"evaluated":    {Type: gql.NewNonNull(gql.Int), Description: "Customers the campaign covers (account manager; for BIRTHDAY and ANNIVERSARY, an occasion in the window): audienceSize + excluded.", Resolve: get(func(c *query.CampaignPreview) any { return c.Evaluated })},
			"audienceSize": {Type: gql.NewNonNull(gql.Int), Description: "Customers in the audience (its stages and tiers): greeted + skipped.", Resolve: get(func(c *query.CampaignPreview) any { return c.AudienceSize })},
			"greeted":      {Type: gql.NewNonNull(gql.Int), Description: "Customers who would be greeted.", Resolve: get(func(c *query.CampaignPreview) any { return c.Greeted })},
			"skipped":      {Type: gql.NewNonNull(gql.Int), Description: "Customers of the audience who would be skipped.", Resolve: get(func(c *query.CampaignPreview) any { return c.Skipped })},
			"skippedByReason": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.reasonCount()))), Description: "Skips grouped by reason (NO_CONSENT, CONDUCT_FLAGGED, ERASED, NO_CHANNEL).",
				Resolve: get(func(c *query.CampaignPreview) any { return ptrs(c.SkippedByReason) })},
			"excluded": {Type: gql.NewNonNull(gql.Int), Description: "Customers the audience leaves out (stage, tier): nothing would be recorded for them.", Resolve: get(func(c *query.CampaignPreview) any { return c.Excluded })},
			"excludedByReason": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.reasonCount()))), Description: "Exclusions grouped by reason (STAGE_EXCLUDED, TIER_EXCLUDED).",
				Resolve: get(func(c *query.CampaignPreview) any { return ptrs(c.ExcludedByReason) })},
			"byChannel": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.reasonCount()))), Description: "Greetings that would go out, per channel (reason = channel name).",
				Resolve: get(func(c *query.CampaignPreview) any { return ptrs(c.ByChannel) })},
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
				c, err := b.q.Campaigns.Get(p.Context, id)
				if err != nil {
					if isNotFound(err) {
						return nil, nil
					}
					return nil, err
				}
				return &c, nil
			}),
		},
		"campaigns": listField(b, listing[struct{}, query.Campaign]{
			desc: "Greeting campaigns, newest first, with the exact totalCount.",
			conn: b.campaignConn, what: "campaigns", defaultFirst: 50,
			list: func(ctx context.Context, _ struct{}, p query.Page) (query.Connection[query.Campaign], error) {
				return b.q.Campaigns.List(ctx, p)
			},
		}),
		"previewGreetingCampaign": {
			Type:        gql.NewNonNull(preview),
			Description: "Preview a campaign before scheduling it: how many customers would be greeted, and how many skipped by reason. Schedules nothing.",
			Args: gql.FieldConfigArgument{
				"input": {Type: gql.NewNonNull(b.scheduleCampaignInput()), Description: "The campaign as it would be scheduled."},
			},
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				a := newArgs(p.Args, "")
				in := a.obj("input")
				if in == nil {
					return nil, badInput("input", "input is required")
				}
				in.prefix = "input."
				r := read(in, b.scheduleCampaignFields())
				if in.err != nil {
					return nil, in.err
				}
				by, _ := ActorFrom(p.Context)
				r.Cmd.By = by.User
				v, err := b.q.Campaigns.Preview(p.Context, r.Cmd)
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
			"calendar":  {Type: gql.NewNonNull(gql.String), Description: "Calendar code, e.g. CN.", Resolve: get(func(h *query.Holiday) any { return h.Calendar })},
			"key":       {Type: gql.NewNonNull(gql.String), Description: "Stable key, e.g. CN:spring_festival (use as a campaign occasion).", Resolve: get(func(h *query.Holiday) any { return h.Key })},
			"name":      {Type: gql.NewNonNull(gql.String), Description: "English name, e.g. Spring Festival.", Resolve: get(func(h *query.Holiday) any { return h.Name })},
			"localName": {Type: gql.String, Description: "Name in the local language, e.g. 春节.", Resolve: get(func(h *query.Holiday) any { return opt(h.LocalName) })},
			"date":      {Type: gql.NewNonNull(b.date), Description: "The day of the occasion.", Resolve: get(func(h *query.Holiday) any { return h.Date })},
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
				hs, err := b.q.Calendar.Holidays(p.Context, cal, from, to)
				if err != nil {
					return nil, err
				}
				return ptrs(hs), nil
			}),
		},
	}
}

// ---- mutations ----

// scheduleCampaignFields are the fields of ScheduleGreetingCampaignInput,
// read into a campaign.Schedule (the campaign domain checks them).
func (b *builder) scheduleCampaignFields() []field[campaign.Schedule] {
	type audience = campaign.Audience
	audienceFields := []field[audience]{
		{name: "stages", typ: gql.NewList(nn(b.stage)), def: defaultStages(), desc: "Stages to include (default: all but LOST).",
			read: func(a *args, n string, r *request[audience]) {
				if a.has(n) {
					r.Cmd.Stages = a.strs(n)
				} else {
					r.Cmd.Stages = anyStrings(defaultStages())
				}
			}},
		{name: "tiers", typ: gql.NewList(nn(b.tier)), desc: "Tiers to include (default: all).",
			read: func(a *args, n string, r *request[audience]) { r.Cmd.Tiers = a.strs(n) }},
		inOptStr("accountManager", "Only customers of this account manager.", func(c *audience, v string) { c.AccountManager = v }),
		inBool("excludeConductFlagged", true, "Skip customers flagged for abusive conduct.", func(c *audience, v bool) { c.ExcludeConductFlagged = v }),
	}
	templateFields := []field[campaign.Template]{
		{name: "stages", typ: gql.NewList(nn(b.stage)), desc: "Stages this template is for; the first matching template wins; an empty list matches all.",
			read: func(a *args, n string, r *request[campaign.Template]) { r.Cmd.Stages = a.strs(n) }},
		{name: "channel", typ: nn(b.channel), desc: "Channel to send through.",
			read: func(a *args, n string, r *request[campaign.Template]) { r.Cmd.Channel = a.str(n) }},
		inStr("body", "Text with {{name}} and {{occasion}} placeholders.", func(c *campaign.Template, v string) { c.Body = v }),
	}
	audienceInput := b.sharedInput("AudienceInput", func() *gql.InputObject {
		return inputObject("AudienceInput", "Who a campaign is for; marketing consent is always required.", audienceFields)
	})
	templateInput := b.sharedInput("TemplateInput", func() *gql.InputObject {
		return inputObject("TemplateInput", "A message template.", templateFields)
	})
	return []field[campaign.Schedule]{
		inStr("name", "Name of the campaign.", func(c *campaign.Schedule, v string) { c.Name = v }),
		inStr("occasion", "Holiday key from holidays(), BIRTHDAY, ANNIVERSARY, or a custom label with date.", func(c *campaign.Schedule, v string) { c.Occasion = v }),
		inOptDate(b, "date", "Required for holidays and custom occasions; the year's occurrence is looked up when omitted for a holiday key.",
			func(c *campaign.Schedule, v *calendar.Date) {
				if v != nil {
					c.Date = *v
				}
			}),
		withDefault(inOptStr("sendAtLocal", "HH:MM in each customer's own timezone.", func(c *campaign.Schedule, v string) { c.SendAtLocal = v }), campaign.DefaultSendAtLocal),
		{name: "audience", typ: audienceInput, desc: "Who to greet (default: consenting customers in every stage but LOST, not conduct-flagged).",
			read: func(a *args, n string, r *request[campaign.Schedule]) {
				au := a.obj(n)
				if au == nil {
					au = newArgs(map[string]any{}, a.prefix+n+".")
				}
				r.Cmd.Audience = read(au, audienceFields).Cmd
				a.join(au)
			}},
		{name: "templates", typ: nn(gql.NewList(nn(templateInput))), desc: "Message templates, at least one.",
			read: func(a *args, n string, r *request[campaign.Schedule]) {
				for _, t := range a.objs(n) {
					r.Cmd.Templates = append(r.Cmd.Templates, read(t, templateFields).Cmd)
					a.join(t)
				}
			}},
		{name: "idempotencyKey", typ: gql.String, desc: descIdem, read: func(a *args, n string, r *request[campaign.Schedule]) { r.Key = a.idemKey(n) }},
	}
}

// scheduleCampaignInput is ScheduleGreetingCampaignInput, which the
// mutation and the preview share.
func (b *builder) scheduleCampaignInput() *gql.InputObject {
	return b.sharedInput("ScheduleGreetingCampaignInput", func() *gql.InputObject {
		return inputObject("ScheduleGreetingCampaignInput", "A greeting campaign.", b.scheduleCampaignFields())
	})
}

func (b *builder) campaignMutations() []mutation {
	schedule := b.scheduleCampaignFields()
	cancel := []field[campaign.Cancel]{
		{name: "campaignId", typ: nn(gql.ID), desc: "The campaign.", read: func(a *args, n string, r *request[campaign.Cancel]) { r.Customer = a.str(n) }},
		inStr("reason", "Why.", func(c *campaign.Cancel, v string) { c.Reason = v }),
	}
	return []mutation{
		{name: "scheduleGreetingCampaign", desc: "Schedule a greeting campaign; each customer is greeted once, at sendAtLocal in their own timezone.",
			perm: permWriteCampaign, payload: b.campaignPayload, input: b.scheduleCampaignInput(),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				r := read(a, schedule)
				if a.err != nil {
					return nil, a.err
				}
				r.Cmd.By = by.User
				res, err := b.c.ScheduleCampaign.Handle(commandContext(ctx, by, r.Key), r.Cmd)
				if err != nil {
					return nil, err
				}
				return b.campaignAfter(ctx, res)
			}},
		{name: "cancelGreetingCampaign", desc: "Cancel a campaign; the remaining sends stop.",
			perm: permWriteCampaign, payload: b.campaignPayload, input: inputObject("CancelCampaignInput", "A cancellation.", cancel),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				r := read(a, cancel)
				if a.err != nil {
					return nil, a.err
				}
				r.Cmd.By = by.User
				res, err := b.c.CancelCampaign.Handle(commandContext(ctx, by, ""), r.Customer, r.Cmd)
				if err != nil {
					return nil, err
				}
				return b.campaignAfter(ctx, res)
			}},
	}
}

// campaignAfter is the payload of a campaign command once the read models
// show it.
func (b *builder) campaignAfter(ctx context.Context, res command.Result) (any, error) {
	if err := b.app.Await(ctx, res); err != nil {
		return nil, err
	}
	c, err := b.q.Campaigns.Get(ctx, res.ID)
	if err != nil {
		return nil, err
	}
	return &campaignResult{Campaign: c}, nil
}

func anyStrings(xs []any) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i], _ = x.(string)
	}
	return out
}
