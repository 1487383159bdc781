package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	gql "github.com/graphql-go/graphql"
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
	LoyaltyView
	customerID string
	asOf       *time.Time
}

// customerDetails returns the costly parts of a customer view: computed by
// its Details loader when it has one, else the view's own fields.
func customerDetails(ctx context.Context, c *CustomerView) (CustomerDetails, error) {
	if c.Details == nil {
		return CustomerDetails{Stage: c.Stage, StageSince: c.StageSince, StageHistory: c.StageHistory, Loyalty: c.Loyalty}, nil
	}
	return c.Details(ctx)
}

// details resolves a Customer field from the view's CustomerDetails.
func (b *builder) details(f func(*CustomerDetails) any) gql.FieldResolveFn {
	return b.wrap(func(p gql.ResolveParams) (any, error) {
		c, ok := p.Source.(*CustomerView)
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
			"from":   {Type: b.stage, Description: "Stage before (null for the first stage).", Resolve: get(func(s *StageChangeView) any { return opt(s.From) })},
			"to":     {Type: gql.NewNonNull(b.stage), Description: "Stage after.", Resolve: get(func(s *StageChangeView) any { return s.To })},
			"at":     {Type: gql.NewNonNull(b.dateTime), Description: "When the transition happened.", Resolve: get(func(s *StageChangeView) any { return s.At })},
			"reason": {Type: gql.NewNonNull(gql.String), Description: "What caused it (an event type or the passing of time).", Resolve: get(func(s *StageChangeView) any { return s.Reason })},
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
					v, err := b.d.Customers.ExpectedPurchases(p.Context, l.customerID, l.asOf, h)
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
			"eventId":    {Type: gql.NewNonNull(gql.ID), Description: "Event ID (UUID).", Resolve: get(func(e *TimelineEntryView) any { return e.EventID })},
			"type":       {Type: gql.NewNonNull(gql.String), Description: "Event type, e.g. ComplaintFiled.", Resolve: get(func(e *TimelineEntryView) any { return e.Type })},
			"revision":   {Type: gql.NewNonNull(gql.Int), Description: "0-based revision of the event in the customer's stream.", Resolve: get(func(e *TimelineEntryView) any { return e.Revision })},
			"position":   {Type: gql.NewNonNull(gql.String), Description: "Global position in the store (opaque, ordered).", Resolve: get(func(e *TimelineEntryView) any { return e.Position })},
			"occurredAt": {Type: gql.NewNonNull(b.dateTime), Description: "Business time of the fact (may be backfilled).", Resolve: get(func(e *TimelineEntryView) any { return e.OccurredAt })},
			"recordedAt": {Type: gql.NewNonNull(b.dateTime), Description: "When the store recorded it.", Resolve: get(func(e *TimelineEntryView) any { return e.RecordedAt })},
			"summary": {Type: gql.NewNonNull(gql.String), Description: "Human-readable one-line summary of the event (without personal data for callers who may not see PII).",
				Resolve: getCtx(func(ctx context.Context, e *TimelineEntryView) any {
					if canSeePII(ctx) {
						return e.Summary
					}
					if e.SafeSummary != "" {
						return e.SafeSummary
					}
					return e.Type
				})},
			"data": {Type: gql.NewNonNull(b.jsonScalar), Description: "The event's data as JSON (personal fields removed for callers who may not see PII).",
				Resolve: getCtx(func(ctx context.Context, e *TimelineEntryView) any { return eventData(ctx, e.Data) })},
		},
	})
	b.timelineConn = b.connection("Timeline", "timeline entry", timelineEntry, true)

	b.customer = gql.NewObject(gql.ObjectConfig{
		Name:        "Customer",
		Description: "A customer: profile, lifecycle stage, loyalty, complaints, follow-ups, greetings and the full event timeline.",
		Fields: gql.FieldsThunk(func() gql.Fields {
			return gql.Fields{
				"id": {Type: gql.NewNonNull(gql.ID), Description: "Customer ID (the stream is customer-<id>).", Resolve: get(func(c *CustomerView) any { return c.ID })},
				"name": {Type: gql.String, Description: "Null when the caller may not see PII or the customer was erased.",
					Resolve: getCtx(func(ctx context.Context, c *CustomerView) any { return pii(ctx, c.Name) })},
				"phone": {Type: gql.String, Description: "Phone number; null without PII access, when unknown or erased.",
					Resolve: getCtx(func(ctx context.Context, c *CustomerView) any { return pii(ctx, c.Phone) })},
				"email": {Type: gql.String, Description: "E-mail address; null without PII access, when unknown or erased.",
					Resolve: getCtx(func(ctx context.Context, c *CustomerView) any { return pii(ctx, c.Email) })},
				"tier":           {Type: gql.NewNonNull(b.tier), Description: "Service tier.", Resolve: get(func(c *CustomerView) any { return c.Tier })},
				"segment":        {Type: gql.String, Description: "Free-form market segment.", Resolve: get(func(c *CustomerView) any { return opt(c.Segment) })},
				"accountManager": {Type: gql.String, Description: "User name of the account manager.", Resolve: get(func(c *CustomerView) any { return opt(c.AccountManager) })},
				"timezone":       {Type: gql.NewNonNull(gql.String), Description: "IANA timezone, e.g. Asia/Shanghai (greetings are sent at local time).", Resolve: get(func(c *CustomerView) any { return c.Timezone })},
				"locale":         {Type: gql.NewNonNull(gql.String), Description: "BCP 47 locale, e.g. zh-CN.", Resolve: get(func(c *CustomerView) any { return c.Locale })},
				"birthday": {Type: b.date, Description: "Birthday; null without PII access, when unknown or erased.",
					Resolve: getCtx(func(ctx context.Context, c *CustomerView) any {
						if !canSeePII(ctx) {
							return nil
						}
						return optDate(c.Birthday)
					})},
				"marketingConsent": {Type: gql.NewNonNull(gql.Boolean), Description: "Whether the customer agreed to marketing messages (greetings need it).", Resolve: get(func(c *CustomerView) any { return c.MarketingConsent })},
				"erased":           {Type: gql.NewNonNull(gql.Boolean), Description: "True after eraseCustomer: personal data is unreadable (crypto-shredded).", Resolve: get(func(c *CustomerView) any { return c.Erased })},
				"conductFlagged":   {Type: gql.NewNonNull(gql.Boolean), Description: "True when abusive conduct was flagged.", Resolve: get(func(c *CustomerView) any { return c.ConductFlagged })},
				"registeredAt":     {Type: gql.NewNonNull(b.dateTime), Description: "When the customer registered.", Resolve: get(func(c *CustomerView) any { return c.RegisteredAt })},
				"stage": {Type: gql.NewNonNull(b.stage), Description: "Current lifecycle stage (or at asOf).",
					Resolve: b.details(func(d *CustomerDetails) any { return d.Stage })},
				"stageSince": {Type: gql.NewNonNull(b.dateTime), Description: "When the customer entered the current stage.",
					Resolve: b.details(func(d *CustomerDetails) any { return d.StageSince })},
				"stageHistory": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(stageChange))), Description: "Every stage change, oldest first, with its reason.",
					Resolve: b.details(func(d *CustomerDetails) any { return ptrs(d.StageHistory) })},
				"lastInboundAt":  {Type: b.dateTime, Description: "Last time the customer initiated anything (contact, purchase, complaint …).", Resolve: get(func(c *CustomerView) any { return opt(c.LastInboundAt) })},
				"lastPurchaseAt": {Type: b.dateTime, Description: "Last purchase.", Resolve: get(func(c *CustomerView) any { return opt(c.LastPurchaseAt) })},
				"purchaseCount":  {Type: gql.NewNonNull(gql.Int), Description: "Number of purchases.", Resolve: get(func(c *CustomerView) any { return c.PurchaseCount })},
				"lifetimeValue": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.money))), Description: "Total purchases, one amount per currency.",
					Resolve: get(func(c *CustomerView) any { return moneyList(c.LifetimeValue) })},
				"loyalty": {Type: gql.NewNonNull(loyalty), Description: "Loyalty score, level and churn estimates.",
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						c, ok := p.Source.(*CustomerView)
						if !ok || c == nil {
							return nil, nil
						}
						d, err := customerDetails(p.Context, c)
						if err != nil {
							return nil, err
						}
						return &loyaltySource{LoyaltyView: d.Loyalty, customerID: c.ID, asOf: c.AsOf}, nil
					})},
				"openComplaints": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.complaint))), Description: "Complaints not yet resolved or declined, oldest first.",
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						c, ok := p.Source.(*CustomerView)
						if !ok {
							return nil, nil
						}
						conn, err := b.d.Complaints.Complaints(p.Context, ComplaintQuery{CustomerID: c.ID, AsOf: c.AsOf, Statuses: OpenStatuses()}, Page{First: b.maxFirst})
						if err != nil {
							return nil, err
						}
						return nodes(conn), nil
					})},
				"complaints": {Type: gql.NewNonNull(b.complaintConn), Description: "All complaints of the customer, oldest first.",
					Args: pageArgs(20, "complaints"),
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						c, ok := p.Source.(*CustomerView)
						if !ok {
							return nil, nil
						}
						pg, err := b.page(p.Args, 20)
						if err != nil {
							return nil, err
						}
						conn, err := b.d.Complaints.Complaints(p.Context, ComplaintQuery{CustomerID: c.ID, AsOf: c.AsOf}, pg)
						if err != nil {
							return nil, err
						}
						return toConn(conn), nil
					})},
				"followUps": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.followUp))), Description: "Follow-ups of the customer, oldest due first.",
					Args: gql.FieldConfigArgument{"status": {Type: b.followUpStatus, Description: "Only follow-ups in this status."}},
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						c, ok := p.Source.(*CustomerView)
						if !ok {
							return nil, nil
						}
						a := newArgs(p.Args, "")
						q := FollowUpQuery{CustomerID: c.ID, Status: a.optStr("status")}
						if a.err != nil {
							return nil, a.err
						}
						conn, err := b.d.FollowUps.FollowUps(p.Context, q, Page{First: b.maxFirst})
						if err != nil {
							return nil, err
						}
						return nodes(conn), nil
					})},
				"greetings": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.greetingType()))), Description: "Greetings sent, failed or skipped for this customer, oldest first.",
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						c, ok := p.Source.(*CustomerView)
						if !ok {
							return nil, nil
						}
						gs, err := b.d.Customers.Greetings(p.Context, c.ID, c.AsOf)
						if err != nil {
							return nil, err
						}
						return ptrs(gs), nil
					})},
				"timeline": {Type: gql.NewNonNull(b.timelineConn), Description: "Every event of the customer's stream, newest first unless oldestFirst.",
					Args: func() gql.FieldConfigArgument {
						a := pageArgs(20, "entries")
						a["types"] = &gql.ArgumentConfig{Type: gql.NewList(gql.NewNonNull(gql.String)), Description: "Only these event types (e.g. [\"ComplaintFiled\"])."}
						a["oldestFirst"] = &gql.ArgumentConfig{Type: gql.Boolean, DefaultValue: false, Description: "Oldest event first instead of newest first."}
						return a
					}(),
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						c, ok := p.Source.(*CustomerView)
						if !ok {
							return nil, nil
						}
						pg, err := b.page(p.Args, 20)
						if err != nil {
							return nil, err
						}
						a := newArgs(p.Args, "")
						q := TimelineQuery{Types: a.strs("types"), OldestFirst: a.boolean("oldestFirst"), AsOf: c.AsOf}
						if a.err != nil {
							return nil, a.err
						}
						conn, err := b.d.Customers.Timeline(p.Context, c.ID, q, pg)
						if err != nil {
							return nil, err
						}
						return toConn(conn), nil
					})},
				"version": {Type: gql.NewNonNull(gql.Int), Description: "Stream revision of the last event; pass as expectedVersion for optimistic concurrency.",
					Resolve: get(func(c *CustomerView) any { return c.Version })},
			}
		}),
	})
	b.customerConn = b.connection("Customer", "customer", b.customer, true)
}

// nodes returns the nodes of a connection as list items.
func nodes[T any](c Connection[T]) []any {
	out := make([]any, len(c.Edges))
	for i := range c.Edges {
		out[i] = &c.Edges[i].Node
	}
	return out
}

// piiKeys are the data keys of events that hold personal data (DESIGN §3).
var piiKeys = map[string]bool{
	"name": true, "phone": true, "email": true, "wechat": true, "birthday": true,
	"summary": true, "description": true, "comment": true, "note": true,
}

// eventData decodes event JSON and, for callers without PII access, drops
// the personal fields at any depth.
func eventData(ctx context.Context, raw json.RawMessage) any {
	if len(raw) == 0 {
		return map[string]any{}
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return map[string]any{}
	}
	if !canSeePII(ctx) {
		v = redact(v)
	}
	return v
}

func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if piiKeys[k] {
				delete(x, k)
				continue
			}
			x[k] = redact(e)
		}
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
	}
	return v
}

func (b *builder) customerQueries() gql.Fields {
	filter := gql.NewInputObject(gql.InputObjectConfig{
		Name:        "CustomerFilter",
		Description: "Which customers to list; all given conditions must hold.",
		Fields: gql.InputObjectConfigFieldMap{
			"stages":           {Type: gql.NewList(gql.NewNonNull(b.stage)), Description: "Customers in any of these stages."},
			"tiers":            {Type: gql.NewList(gql.NewNonNull(b.tier)), Description: "Customers in any of these tiers."},
			"accountManager":   {Type: gql.String, Description: "Customers of this account manager."},
			"minLoyaltyScore":  {Type: gql.Int, Description: "Customers with at least this loyalty score."},
			"hasOpenComplaint": {Type: gql.Boolean, Description: "Customers with (true) or without (false) an open complaint."},
			"search":           {Type: gql.String, Description: "Full-text match on name or contact details (needs PII access)."},
		},
	})
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
				c, err := b.d.Customers.Customer(p.Context, id, asOf)
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
		"customers": {
			Type:        gql.NewNonNull(b.customerConn),
			Description: "Customers matching filter, in a stable order, with the exact totalCount.",
			Args: func() gql.FieldConfigArgument {
				a := pageArgs(50, "customers")
				a["filter"] = &gql.ArgumentConfig{Type: filter, Description: "Conditions on the customers to list."}
				return a
			}(),
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				pg, err := b.page(p.Args, 50)
				if err != nil {
					return nil, err
				}
				a := newArgs(p.Args, "")
				var q CustomerQuery
				if f := a.obj("filter"); f != nil {
					q = CustomerQuery{
						Stages: f.strs("stages"), Tiers: f.strs("tiers"), AccountManager: f.optStr("accountManager"),
						MinLoyaltyScore: f.optInt("minLoyaltyScore"), HasOpenComplaint: f.optBool("hasOpenComplaint"),
						Search: f.optStr("search"),
					}
					a.join(f)
				}
				if a.err != nil {
					return nil, a.err
				}
				if q.Search != nil {
					if _, err := require(p.Context, permSearch); err != nil {
						return nil, err
					}
				}
				conn, err := b.d.Customers.Customers(p.Context, q, pg)
				if err != nil {
					return nil, err
				}
				return toConn(conn), nil
			}),
		},
	}
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
