package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/app/query"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
)

// defineTypes creates the object types that refer to each other; their
// fields are thunks so the order does not matter.
func (b *builder) defineTypes() {
	b.defineCustomer()
	b.defineComplaint()
	b.defineFollowUp()
	b.defineCampaign()
	b.defineEvent()
}

// loyaltySource carries what Loyalty.expectedPurchases needs besides the view.
type loyaltySource struct {
	query.Loyalty
	customerID string
	asOf       *time.Time
}

// customerDetails returns the costly parts of a customer view: computed by
// its Details loader when it has one, else the view's own fields.
func customerDetails(ctx context.Context, c *query.Customer) (query.CustomerDetails, error) {
	if c.Details == nil {
		return query.CustomerDetails{Stage: c.Stage, StageSince: c.StageSince, StageHistory: c.StageHistory, Loyalty: c.Loyalty}, nil
	}
	return c.Details(ctx)
}

// details resolves a Customer field from the view's query.CustomerDetails.
func (b *builder) details(f func(*query.CustomerDetails) any) gql.FieldResolveFn {
	return b.wrap(func(p gql.ResolveParams) (any, error) {
		c, ok := p.Source.(*query.Customer)
		if !ok || c == nil {
			return nil, nil
		}
		d, err := customerDetails(p.Context, c)
		if err != nil {
			return nil, err
		}
		return f(&d), nil
	})
}

func (b *builder) defineCustomer() {
	stageChange := gql.NewObject(gql.ObjectConfig{
		Name:        "StageChange",
		Description: "One lifecycle transition and why it happened.",
		Fields: gql.Fields{
			"from":   {Type: b.stage, Description: "Stage before (null for the first stage).", Resolve: get(func(s *query.StageChange) any { return opt(s.From) })},
			"to":     {Type: gql.NewNonNull(b.stage), Description: "Stage after.", Resolve: get(func(s *query.StageChange) any { return s.To })},
			"at":     {Type: gql.NewNonNull(b.dateTime), Description: "When the transition happened.", Resolve: get(func(s *query.StageChange) any { return s.At })},
			"reason": {Type: gql.NewNonNull(gql.String), Description: "What caused it (an event type or the passing of time).", Resolve: get(func(s *query.StageChange) any { return s.Reason })},
		},
	})
	loyalty := gql.NewObject(gql.ObjectConfig{
		Name:        "Loyalty",
		Description: "Loyalty read model: a 0–100 score from recency, frequency, value, tenure, referrals, satisfaction and recovered complaints.",
		Fields: gql.Fields{
			"score":               {Type: gql.NewNonNull(gql.Int), Description: "Loyalty score 0–100.", Resolve: get(func(l *loyaltySource) any { return l.Score })},
			"level":               {Type: gql.NewNonNull(b.loyaltyLevel), Description: "Level derived from the score and referrals.", Resolve: get(func(l *loyaltySource) any { return l.Level })},
			"referrals":           {Type: gql.NewNonNull(gql.Int), Description: "Customers this customer referred.", Resolve: get(func(l *loyaltySource) any { return l.Referrals })},
			"csatAverage":         {Type: gql.Float, Description: "Average satisfaction score (1–5); null without surveys.", Resolve: get(func(l *loyaltySource) any { return opt(l.CSATAverage) })},
			"recoveredComplaints": {Type: gql.NewNonNull(gql.Int), Description: "Complaints resolved SATISFIED (the service-recovery bonus).", Resolve: get(func(l *loyaltySource) any { return l.RecoveredComplaints })},
			"pAlive": {Type: gql.Float, Description: "BG/NBD probability that the customer is still alive (null with no purchases).",
				Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
					l, ok := p.Source.(*loyaltySource)
					if !ok || l == nil {
						return nil, nil
					}
					if l.PAliveFn == nil {
						return opt(l.PAlive), nil
					}
					v, err := l.PAliveFn(p.Context)
					if err != nil {
						return nil, err
					}
					return opt(v), nil
				})},
			"expectedPurchases": {
				Type:        gql.Float,
				Description: "BG/NBD expected number of purchases in the next horizonDays (null with no purchases or no fitted model).",
				Args: gql.FieldConfigArgument{
					"horizonDays": {Type: gql.Int, DefaultValue: 90, Description: "Horizon in days (1–3650)."},
				},
				Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
					l, ok := p.Source.(*loyaltySource)
					if !ok {
						return nil, nil
					}
					a := newArgs(p.Args, "")
					h := a.integer("horizonDays")
					if a.err != nil {
						return nil, a.err
					}
					if h < 1 || h > 3650 {
						return nil, badInput("horizonDays", "horizonDays must be between 1 and 3650")
					}
					v, err := b.q.Customers.ExpectedPurchases(p.Context, l.customerID, l.asOf, h)
					if err != nil {
						return nil, err
					}
					return opt(v), nil
				}),
			},
		},
	})
	timelineEntry := gql.NewObject(gql.ObjectConfig{
		Name:        "TimelineEntry",
		Description: "One event of a customer's stream, as shown on the timeline.",
		Fields: gql.Fields{
			"eventId":    {Type: gql.NewNonNull(gql.ID), Description: "Event ID (UUID).", Resolve: get(func(e *query.TimelineEntry) any { return e.EventID })},
			"customerId": {Type: gql.NewNonNull(gql.ID), Description: "The customer whose stream holds the event: this customer, or one merged into it (revision is in that stream).", Resolve: get(func(e *query.TimelineEntry) any { return e.CustomerID })},
			"type":       {Type: gql.NewNonNull(gql.String), Description: "Event type, e.g. ComplaintFiled.", Resolve: get(func(e *query.TimelineEntry) any { return e.Type })},
			"revision":   {Type: gql.NewNonNull(gql.Int), Description: "0-based revision of the event in the customer's stream.", Resolve: get(func(e *query.TimelineEntry) any { return e.Revision })},
			"position":   {Type: gql.NewNonNull(gql.String), Description: "Global position in the store (opaque, ordered).", Resolve: get(func(e *query.TimelineEntry) any { return e.Position })},
			"occurredAt": {Type: gql.NewNonNull(b.dateTime), Description: "Business time of the fact (may be backfilled).", Resolve: get(func(e *query.TimelineEntry) any { return e.OccurredAt })},
			"recordedAt": {Type: gql.NewNonNull(b.dateTime), Description: "When the store recorded it.", Resolve: get(func(e *query.TimelineEntry) any { return e.RecordedAt })},
			"summary": {Type: gql.NewNonNull(gql.String), Description: "Human-readable one-line summary of the event (without personal data for callers who may not see PII).",
				Resolve: getCtx(func(ctx context.Context, e *query.TimelineEntry) any {
					if canSeePII(ctx) {
						return e.Summary
					}
					if e.SafeSummary != "" {
						return e.SafeSummary
					}
					return e.Type
				})},
			"data": {Type: gql.NewNonNull(b.jsonScalar), Description: "The event's data as JSON (personal fields removed for callers who may not see PII).",
				Resolve: getCtx(func(ctx context.Context, e *query.TimelineEntry) any { return eventData(ctx, e.Data, e.Personal) })},
		},
	})
	b.timelineConn = b.connection("Timeline", "timeline entry", timelineEntry, true)
	nextPurchase := gql.NewObject(gql.ObjectConfig{
		Name: "NextPurchase",
		Description: "When the customer is expected to buy an item category again (补货提醒): their own mean interval between " +
			"purchase days of the category, shrunk towards the category's population interval (empirical Bayes, gamma prior on the purchase rate).",
		Fields: gql.Fields{
			"category": {Type: gql.NewNonNull(gql.String), Description: "Item category: an item's text before ':' (or the whole item), lower-cased.", Resolve: get(func(n *query.NextPurchase) any { return n.Category })},
			"item":     {Type: gql.NewNonNull(gql.String), Description: "The latest item bought in the category, as recorded.", Resolve: get(func(n *query.NextPurchase) any { return n.Item })},
			"expectedAt": {Type: gql.NewNonNull(b.dateTime), Description: "Last purchase day (00:00 UTC) + interval: when the customer is expected to need the category again (in the past when overdue).",
				Resolve: get(func(n *query.NextPurchase) any { return n.ExpectedAt })},
			"interval": {Type: gql.NewNonNull(gql.Float), Description: "Estimated mean interval between purchases of the category, in days.", Resolve: get(func(n *query.NextPurchase) any { return n.Interval })},
			"confidence": {Type: gql.NewNonNull(gql.Float), Description: "0–1: the weight of the customer's own intervals in the estimate (0 with one purchase; towards 1 with many).",
				Resolve: get(func(n *query.NextPurchase) any { return n.Confidence })},
			"purchases":      {Type: gql.NewNonNull(gql.Int), Description: "Purchase days of the category (several purchases on one UTC day count once).", Resolve: get(func(n *query.NextPurchase) any { return n.Purchases })},
			"lastPurchaseAt": {Type: gql.NewNonNull(b.dateTime), Description: "The latest purchase day of the category (00:00 UTC).", Resolve: get(func(n *query.NextPurchase) any { return n.LastPurchaseAt })},
		},
	})

	b.customer = gql.NewObject(gql.ObjectConfig{
		Name:        "Customer",
		Description: "A customer: profile, lifecycle stage, loyalty, complaints, follow-ups, greetings and the full event timeline.",
		Fields: gql.FieldsThunk(func() gql.Fields {
			return gql.Fields{
				"id": {Type: gql.NewNonNull(gql.ID), Description: "Customer ID (the stream is customer-<id>).", Resolve: get(func(c *query.Customer) any { return c.ID })},
				"name": {Type: gql.String, Description: "Null when the caller may not see PII or the customer was erased.",
					Resolve: getCtx(func(ctx context.Context, c *query.Customer) any { return pii(ctx, c.Name) })},
				"phone": {Type: gql.String, Description: "Phone number; null without PII access, when unknown or erased.",
					Resolve: getCtx(func(ctx context.Context, c *query.Customer) any { return pii(ctx, c.Phone) })},
				"email": {Type: gql.String, Description: "E-mail address; null without PII access, when unknown or erased.",
					Resolve: getCtx(func(ctx context.Context, c *query.Customer) any { return pii(ctx, c.Email) })},
				"wechat": {Type: gql.String, Description: "WeChat ID; null without PII access, when unknown or erased.",
					Resolve: getCtx(func(ctx context.Context, c *query.Customer) any { return pii(ctx, c.WeChat) })},
				"tier":           {Type: gql.NewNonNull(b.tier), Description: "Service tier.", Resolve: get(func(c *query.Customer) any { return c.Tier })},
				"segment":        {Type: gql.String, Description: "Free-form market segment.", Resolve: get(func(c *query.Customer) any { return opt(c.Segment) })},
				"accountManager": {Type: gql.String, Description: "User name of the account manager.", Resolve: get(func(c *query.Customer) any { return opt(c.AccountManager) })},
				"timezone":       {Type: gql.NewNonNull(gql.String), Description: "IANA timezone, e.g. Asia/Shanghai (greetings are sent at local time).", Resolve: get(func(c *query.Customer) any { return c.Timezone })},
				"locale":         {Type: gql.NewNonNull(gql.String), Description: "BCP 47 locale, e.g. zh-CN.", Resolve: get(func(c *query.Customer) any { return c.Locale })},
				"birthday": {Type: b.date, Description: "Birthday; null without PII access, when unknown or erased.",
					Resolve: getCtx(func(ctx context.Context, c *query.Customer) any {
						if !canSeePII(ctx) {
							return nil
						}
						return optDate(c.Birthday)
					})},
				"marketingConsent": {Type: gql.NewNonNull(gql.Boolean), Description: "Whether the customer agreed to marketing messages (greetings need it).", Resolve: get(func(c *query.Customer) any { return c.MarketingConsent })},
				"erased":           {Type: gql.NewNonNull(gql.Boolean), Description: "True after eraseCustomer: personal data is unreadable (crypto-shredded).", Resolve: get(func(c *query.Customer) any { return c.Erased })},
				"conductFlagged":   {Type: gql.NewNonNull(gql.Boolean), Description: "True when abusive conduct was flagged.", Resolve: get(func(c *query.Customer) any { return c.ConductFlagged })},
				"registeredAt":     {Type: gql.NewNonNull(b.dateTime), Description: "When the customer registered.", Resolve: get(func(c *query.Customer) any { return c.RegisteredAt })},
				"stage": {Type: gql.NewNonNull(b.stage), Description: "Current lifecycle stage (or at asOf).",
					Resolve: b.details(func(d *query.CustomerDetails) any { return d.Stage })},
				"stageSince": {Type: gql.NewNonNull(b.dateTime), Description: "When the customer entered the current stage.",
					Resolve: b.details(func(d *query.CustomerDetails) any { return d.StageSince })},
				"stageHistory": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(stageChange))), Description: "Every stage change, oldest first, with its reason.",
					Resolve: b.details(func(d *query.CustomerDetails) any { return ptrs(d.StageHistory) })},
				"lastInboundAt":  {Type: b.dateTime, Description: "Last time the customer initiated anything (contact, purchase, complaint …).", Resolve: get(func(c *query.Customer) any { return opt(c.LastInboundAt) })},
				"lastPurchaseAt": {Type: b.dateTime, Description: "Last purchase.", Resolve: get(func(c *query.Customer) any { return opt(c.LastPurchaseAt) })},
				"purchaseCount":  {Type: gql.NewNonNull(gql.Int), Description: "Number of purchases.", Resolve: get(func(c *query.Customer) any { return c.PurchaseCount })},
				"lifetimeValue": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.money))), Description: "Total purchases, one amount per currency.",
					Resolve: get(func(c *query.Customer) any { return moneyList(c.LifetimeValue) })},
				"loyalty": {Type: gql.NewNonNull(loyalty), Description: "Loyalty score, level and churn estimates.",
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						c, ok := p.Source.(*query.Customer)
						if !ok || c == nil {
							return nil, nil
						}
						d, err := customerDetails(p.Context, c)
						if err != nil {
							return nil, err
						}
						return &loyaltySource{Loyalty: d.Loyalty, customerID: c.ID, asOf: c.AsOf}, nil
					})},
				"openComplaints": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.complaint))), Description: "Complaints not yet resolved or declined, oldest first.",
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						c, ok := p.Source.(*query.Customer)
						if !ok {
							return nil, nil
						}
						conn, err := b.q.Complaints.List(p.Context, query.ComplaintFilter{CustomerID: c.ID, AsOf: c.AsOf, Statuses: query.OpenStatuses()}, query.Page{First: b.maxFirst})
						if err != nil {
							return nil, err
						}
						return nodes(conn), nil
					})},
				"complaints": listField(b, listing[query.ComplaintFilter, query.Complaint]{
					desc: "All complaints of the customer, oldest first.", conn: b.complaintConn, what: "complaints", defaultFirst: 20,
					from: func(source any, f *query.ComplaintFilter) bool {
						c, ok := source.(*query.Customer)
						if ok {
							f.CustomerID, f.AsOf = c.ID, c.AsOf
						}
						return ok
					},
					list: b.q.Complaints.List,
				}),
				"followUps": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.followUp))), Description: "Follow-ups of the customer, oldest due first.",
					Args: gql.FieldConfigArgument{"status": {Type: b.followUpStatus, Description: "Only follow-ups in this status."}},
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						c, ok := p.Source.(*query.Customer)
						if !ok {
							return nil, nil
						}
						a := newArgs(p.Args, "")
						q := query.FollowUpFilter{CustomerID: c.ID, Status: a.optStr("status")}
						if a.err != nil {
							return nil, a.err
						}
						conn, err := b.q.FollowUps.List(p.Context, q, query.Page{First: b.maxFirst})
						if err != nil {
							return nil, err
						}
						return nodes(conn), nil
					})},
				"greetings": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.greetingType()))), Description: "Greetings sent, failed or skipped for this customer, oldest first.",
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						c, ok := p.Source.(*query.Customer)
						if !ok {
							return nil, nil
						}
						gs, err := b.q.Customers.Greetings(p.Context, c.ID, c.AsOf)
						if err != nil {
							return nil, err
						}
						return ptrs(gs), nil
					})},
				"timeline": listField(b, listing[timelineFilter, query.TimelineEntry]{
					desc: "Every event of the customer's stream, newest first unless oldestFirst.", conn: b.timelineConn, what: "entries", defaultFirst: 20,
					filter: []field[timelineFilter]{
						inValue("types", gql.NewList(nn(gql.String)), "Only these event types (e.g. [\"ComplaintFiled\"]).", (*args).strs, func(f *timelineFilter, v []string) { f.Types = v }),
						{name: "oldestFirst", typ: gql.Boolean, def: false, desc: "Oldest event first instead of newest first.",
							read: func(a *args, n string, r *request[timelineFilter]) { r.Cmd.OldestFirst = a.boolean(n) }},
					},
					from: func(source any, f *timelineFilter) bool {
						c, ok := source.(*query.Customer)
						if ok {
							f.customer, f.AsOf = c.ID, c.AsOf
						}
						return ok
					},
					list: func(ctx context.Context, f timelineFilter, p query.Page) (query.Connection[query.TimelineEntry], error) {
						return b.q.Customers.Timeline(ctx, f.customer, f.TimelineFilter, p)
					},
				}),
				"nextPurchase": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(nextPurchase))),
					Description: "Expected next purchase per item category (now, or as of asOf), soonest first; empty until a category has enough repeat buyers to estimate from.",
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						c, ok := p.Source.(*query.Customer)
						if !ok || c == nil {
							return nil, nil
						}
						ns, err := b.q.Customers.NextPurchase(p.Context, c.ID, c.AsOf)
						if err != nil {
							return nil, err
						}
						return ptrs(ns), nil
					})},
				"version": {Type: gql.NewNonNull(gql.Int), Description: "Stream revision of the last event; pass as expectedVersion for optimistic concurrency.",
					Resolve: get(func(c *query.Customer) any { return c.Version })},
				"mergedFrom": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(gql.ID))),
					Description: "Customers merged into this one (mergeCustomers), in merge order; their histories are part of this customer's.",
					Resolve:     get(func(c *query.Customer) any { return nonNilIDs(c.MergedFrom) })},
				"mergedInto": {Type: gql.ID,
					Description: "The survivor this customer was merged into; null when it was not. customer(id) of a merged id answers with the survivor (whose mergedFrom names the id), so this is null there too; commands on a merged id are refused with FAILED_PRECONDITION naming the survivor (extensions.into).",
					Resolve:     get(func(c *query.Customer) any { return opt(c.MergedInto) })},
				"nextBestAction": {Type: b.nextAction, Description: "The customer's best next action now (see Query.nextBestActions), or null.",
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						c, ok := p.Source.(*query.Customer)
						if !ok || c == nil {
							return nil, nil
						}
						a, err := b.q.NextActions.ForCustomer(p.Context, c.ID)
						if err != nil || a == nil {
							return nil, err
						}
						return a, nil
					})},
			}
		}),
	})
	b.customerConn = b.connection("Customer", "customer", b.customer, true)
}

// timelineFilter is a customer's timeline filter with the customer.
type timelineFilter struct {
	query.TimelineFilter
	customer string
}

// nodes returns the nodes of a connection as list items.
func nodes[T any](c query.Connection[T]) []any {
	out := make([]any, len(c.Edges))
	for i := range c.Edges {
		out[i] = &c.Edges[i].Node
	}
	return out
}

// eventData decodes event JSON and, for callers without PII access, drops
// its personal fields (the keys the application names personal).
func eventData(ctx context.Context, raw json.RawMessage, personal []string) any {
	if len(raw) == 0 {
		return map[string]any{}
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return map[string]any{}
	}
	if !canSeePII(ctx) {
		for _, k := range personal {
			delete(v, k)
		}
	}
	return v
}

// metadataJSON decodes event metadata JSON (no personal data).
func metadataJSON(raw json.RawMessage) any {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil || v == nil {
		return map[string]any{}
	}
	return v
}

func (b *builder) customerQueries() gql.Fields {
	type filter = query.CustomerFilter
	return gql.Fields{
		"customer": {
			Type:        b.customer,
			Description: "A customer's state now, or as it was at asOf (recomputed from the stream). Null when unknown.",
			Args: gql.FieldConfigArgument{
				"id":   {Type: gql.NewNonNull(gql.ID), Description: "Customer ID."},
				"asOf": {Type: b.dateTime, Description: "Show the customer as it was at this instant (recomputed from its events)."},
			},
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				a := newArgs(p.Args, "")
				id, asOf := a.str("id"), a.optTime("asOf")
				if a.err != nil {
					return nil, a.err
				}
				c, err := b.q.Customers.Get(p.Context, id, asOf)
				if err != nil {
					if isNotFound(err) {
						return nil, nil
					}
					return nil, err
				}
				if asOf != nil && c.AsOf == nil {
					c.AsOf = asOf
				}
				return &c, nil
			}),
		},
		"customers": listField(b, listing[filter, query.Customer]{
			desc: "Customers matching filter, in a stable order, with the exact totalCount.",
			conn: b.customerConn, what: "customers", defaultFirst: 50,
			filterInput: "CustomerFilter", filterDesc: "Which customers to list; all given conditions must hold.", filterHelp: "Conditions on the customers to list.",
			filter: []field[filter]{
				inValue("stages", gql.NewList(nn(b.stage)), "Customers in any of these stages.", (*args).strs, func(f *filter, v []string) { f.Stages = v }),
				inValue("tiers", gql.NewList(nn(b.tier)), "Customers in any of these tiers.", (*args).strs, func(f *filter, v []string) { f.Tiers = v }),
				inValue("accountManager", gql.String, "Customers of this account manager.", (*args).optStr, func(f *filter, v *string) { f.AccountManager = v }),
				inValue("minLoyaltyScore", gql.Int, "Customers with at least this loyalty score.", (*args).optInt, func(f *filter, v *int) { f.MinLoyaltyScore = v }),
				inValue("hasOpenComplaint", gql.Boolean, "Customers with (true) or without (false) an open complaint.", (*args).optBool, func(f *filter, v *bool) { f.HasOpenComplaint = v }),
				inValue("search", gql.String, "Full-text match on name or contact details (needs PII access).", (*args).optStr, func(f *filter, v *string) { f.Search = v }),
				inValue("dueForReplenishmentBy", b.date, "Customers expected to buy some item category again on or before this date (UTC; overdue ones included): see Customer.nextPurchase.",
					(*args).optDate, func(f *filter, v *calendar.Date) { f.DueForReplenishmentBy = v }),
			},
			allow: func(ctx context.Context, f filter) error {
				if f.Search == nil {
					return nil
				}
				_, err := require(ctx, permSearch)
				return err
			},
			list: b.q.Customers.List,
		}),
	}
}

func isNotFound(err error) bool { return errors.Is(err, aggregate.ErrNotFound) }

// ---- mutations ----

// newCustomer is the registration request: the chosen ID, if any, and the
// profile.
type newCustomer struct {
	ID string
	customer.Register
}

func (b *builder) customerMutations() []mutation {
	cmds := b.c
	setCustomerProfile := func(c *newCustomer) *customer.Register { return &c.Register }
	register := append([]field[newCustomer]{
		inOptID("id", "Optional; generated when absent. "+aggregate.IDSyntax+".", func(c *newCustomer, v string) { c.ID = v }),
		inStr("name", "Full name (personal data).", func(c *newCustomer, v string) { setCustomerProfile(c).Name = v }),
		inOptStr("phone", "Phone number (personal data).", func(c *newCustomer, v string) { c.Phone = v }),
		inOptStr("email", "E-mail address (personal data).", func(c *newCustomer, v string) { c.Email = v }),
		inOptStr("wechat", "WeChat ID (personal data).", func(c *newCustomer, v string) { c.WeChat = v }),
		inEnum("tier", b.tier, customer.TierStandard.String(), "Service tier.", customer.ParseTier, func(c *newCustomer, v customer.Tier) { c.Tier = v }),
		inOptStr("segment", "Free-form market segment.", func(c *newCustomer, v string) { c.Segment = v }),
		inOptStr("accountManager", "User name of the account manager.", func(c *newCustomer, v string) { c.AccountManager = v }),
		withDefault(inOptStr("timezone", "IANA timezone.", func(c *newCustomer, v string) { c.Timezone = v }), "Asia/Shanghai"),
		withDefault(inOptStr("locale", "BCP 47 locale.", func(c *newCustomer, v string) { c.Locale = v }), "zh-CN"),
		inOptDate(b, "birthday", "Birthday (personal data).", func(c *newCustomer, d *calendar.Date) {
			if d != nil {
				c.Birthday = d.String()
			}
		}),
		inBool("marketingConsent", false, "Whether the customer agrees to marketing messages.", func(c *newCustomer, v bool) { c.MarketingConsent = v }),
	}, meta[newCustomer](b, shared{occurredAt: true, idempotencyKey: true})...)
	return []mutation{
		{
			name: "registerCustomer", desc: "Register a new customer (opens the stream customer-<id>).", perm: permWriteCustomer, payload: b.customerPayload,
			input: inputObject("RegisterCustomerInput", "A new customer's profile.", register),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				r := read(a, register)
				check(a, r.Cmd.ID == "" || aggregate.ValidID(r.Cmd.ID), "id", "id must match "+aggregate.IDSyntax)
				if a.err != nil {
					return nil, a.err
				}
				res, err := cmds.RegisterCustomer.Handle(commandContext(ctx, by, r.Key), r.Cmd.ID, r.Cmd.Register)
				if err != nil {
					return nil, err
				}
				return b.customerAfter(ctx, res)
			},
		},
		customerMutation(b, "updateProfile", "Change profile fields; absent fields stay as they are.", "UpdateProfileInput", "Profile fields to change (absent = unchanged).", permWriteCustomer, allShared,
			[]field[customer.UpdateProfile]{
				inOptStrPtr("name", "New name.", func(c *customer.UpdateProfile, v *string) { c.Name = v }),
				inOptStrPtr("phone", "New phone.", func(c *customer.UpdateProfile, v *string) { c.Phone = v }),
				inOptStrPtr("email", "New e-mail.", func(c *customer.UpdateProfile, v *string) { c.Email = v }),
				inOptStrPtr("wechat", "New WeChat ID.", func(c *customer.UpdateProfile, v *string) { c.WeChat = v }),
				inOptEnum("tier", b.tier, "New tier.", customer.ParseTier, func(c *customer.UpdateProfile, v *customer.Tier) { c.Tier = v }),
				inOptStrPtr("segment", "New segment.", func(c *customer.UpdateProfile, v *string) { c.Segment = v }),
				inOptStrPtr("accountManager", "New account manager.", func(c *customer.UpdateProfile, v *string) { c.AccountManager = v }),
				inOptStrPtr("timezone", "New IANA timezone.", func(c *customer.UpdateProfile, v *string) { c.Timezone = v }),
				inOptStrPtr("locale", "New locale.", func(c *customer.UpdateProfile, v *string) { c.Locale = v }),
				inOptDate(b, "birthday", "New birthday.", func(c *customer.UpdateProfile, d *calendar.Date) {
					if d != nil {
						s := d.String()
						c.Birthday = &s
					}
				}),
			}, verb(cmds.UpdateProfile)),
		customerMutation(b, "setMarketingConsent", "Record the customer's marketing consent decision.", "SetMarketingConsentInput", "A consent decision.", permWriteCustomer, allShared,
			[]field[customer.SetMarketingConsent]{
				inRequired("consent", gql.Boolean, "Whether the customer agrees to marketing messages.", func(a *args, n string, c *customer.SetMarketingConsent) { c.Consent = a.boolean(n) }),
				inOptStr("source", "Where the decision was given (form, call …).", func(c *customer.SetMarketingConsent, v string) { c.Source = v }),
			}, verb(cmds.SetMarketingConsent)),
		customerMutation(b, "logContact", "Log a contact with the customer, either way, on any channel.", "LogContactInput", "A contact.", permWriteCustomer, allShared,
			[]field[customer.LogContact]{
				inEnum("channel", b.channel, "", "Channel of the contact.", customer.ParseChannel, func(c *customer.LogContact, v customer.Channel) { c.Channel = v }),
				inEnum("direction", b.direction, "", "INBOUND (customer-initiated) or OUTBOUND.", customer.ParseDirection, func(c *customer.LogContact, v customer.Direction) { c.Direction = v }),
				inStr("agent", "Staff member who handled it.", func(c *customer.LogContact, v string) { c.Agent = v }),
				inOptStr("summary", "What was said (personal data).", func(c *customer.LogContact, v string) { c.Summary = v }),
				inOptID("complaintId", "The complaint this contact is about, if any.", func(c *customer.LogContact, v string) { c.ComplaintID = v }),
			}, verb(cmds.LogContact)),
		customerMutation(b, "recordPurchase", "Record an order.", "RecordPurchaseInput", "An order.", permWriteCustomer, allShared,
			[]field[customer.RecordPurchase]{
				inStr("orderId", "Order number.", func(c *customer.RecordPurchase, v string) { c.OrderID = v }),
				inMoney(b, "amount", true, "Order total (not negative).", func(c *customer.RecordPurchase, m *customer.Money) {
					if m != nil {
						c.Amount = *m
					}
				}),
				inStrs("items", "Items bought.", func(c *customer.RecordPurchase, v []string) { c.Items = v }),
			}, verb(cmds.RecordPurchase)),
		customerMutation(b, "recordReferral", "Record that the customer referred another customer.", "RecordReferralInput", "A referral.", permWriteCustomer, allShared,
			[]field[customer.RecordReferral]{
				inID("referredCustomerId", "The customer they brought in.", func(c *customer.RecordReferral, v string) { c.ReferredCustomerID = v }),
			}, verb(cmds.RecordReferral)),
		customerMutation(b, "voiceGrumble", "Record informal dissatisfaction (抱怨): the first step on the path to a complaint.", "VoiceGrumbleInput", "A grumble.", permWriteCustomer, allShared,
			[]field[customer.VoiceGrumble]{
				inEnum("channel", b.channel, "", "Channel it came through.", customer.ParseChannel, func(c *customer.VoiceGrumble, v customer.Channel) { c.Channel = v }),
				inStr("summary", "What the customer said (personal data).", func(c *customer.VoiceGrumble, v string) { c.Summary = v }),
				inOptStr("agent", "Staff member who heard it.", func(c *customer.VoiceGrumble, v string) { c.Agent = v }),
			}, verb(cmds.VoiceGrumble)),
		customerMutation(b, "recordSatisfaction", "Record a satisfaction survey answer (score 1–5).", "RecordSatisfactionInput", "A survey answer.", permWriteCustomer, allShared,
			[]field[customer.RecordSatisfaction]{
				inInt("score", "Score from 1 (bad) to 5 (excellent).", func(c *customer.RecordSatisfaction, v int) { c.Score = v }),
				inOptStr("comment", "The customer's comment (personal data).", func(c *customer.RecordSatisfaction, v string) { c.Comment = v }),
				inOptID("complaintId", "The complaint the survey is about, if any.", func(c *customer.RecordSatisfaction, v string) { c.ComplaintID = v }),
			}, verb(cmds.RecordSatisfaction)),
		customerMutation(b, "markLost", "Mark a customer as lost explicitly.", "MarkLostInput", "A lost mark.", permWriteCustomer, allShared,
			[]field[customer.MarkLost]{
				inStr("reason", "Why the customer is considered lost.", func(c *customer.MarkLost, v string) { c.Reason = v }),
				inStr("by", "Who decided.", func(c *customer.MarkLost, v string) { c.By = v }),
			}, verb(cmds.MarkLost)),
		customerMutation(b, "flagConduct", "Flag abusive conduct (such customers may be excluded from campaigns).", "FlagConductInput", "A conduct flag.", permWriteCustomer, allShared,
			[]field[customer.FlagConduct]{
				inStr("by", "Who flags.", func(c *customer.FlagConduct, v string) { c.By = v }),
				inStr("note", "What happened (personal data).", func(c *customer.FlagConduct, v string) { c.Note = v }),
				inEnum("severity", b.severity, customer.SeverityGeneral.String(), "How serious.", customer.ParseSeverity, func(c *customer.FlagConduct, v customer.Severity) { c.Severity = v }),
			}, verb(cmds.FlagConduct)),
		customerMutation(b, "eraseCustomer", "Erase a customer's personal data (crypto-shredding: the history stays, the PII becomes unreadable). ADMIN only.", "EraseCustomerInput", "An erasure request.", permErase, noShared,
			[]field[customer.Erase]{
				inStr("by", "Who erases.", func(c *customer.Erase, v string) { c.By = v }),
				inStr("reason", "Why (e.g. the customer's request).", func(c *customer.Erase, v string) { c.Reason = v }),
			}, func(ctx context.Context, r request[customer.Erase]) (command.Result, error) {
				return cmds.EraseCustomer.Handle(ctx, r.Customer, r.Expected, r.Cmd)
			}),
		b.mergeMutation(),
		b.unmergeMutation(),
	}
}

// verb runs a customer verb's handler on the request.
func verb[C any](h command.CustomerVerb[C]) func(context.Context, request[C]) (command.Result, error) {
	return func(ctx context.Context, r request[C]) (command.Result, error) {
		return h.Handle(ctx, r.Customer, r.Expected, r.Cmd)
	}
}
