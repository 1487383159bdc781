package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"

	"github.com/kefu-crm/kefu/app"
	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/app/query"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/loyalty"
)

// Deps are what the API is built on: the application (its commands and
// queries) and a few settings.
type Deps struct {
	// App is the application the resolvers call: queries read, mutations
	// command, then read the result once the read models show it.
	App *app.Application
	// Logger receives the detail of INTERNAL errors. Nil means slog.Default().
	Logger *slog.Logger
	// MaxFirst caps every `first` argument; a larger value is BAD_USER_INPUT.
	// Zero means DefaultMaxFirst.
	MaxFirst int
}

// DefaultMaxFirst is the largest page a client may ask for with `first`.
const DefaultMaxFirst = 500

// Validate reports what is missing.
func (d Deps) Validate() error {
	var errs []error
	if d.App == nil {
		errs = append(errs, errors.New("graphql: Deps.App is nil"))
	}
	if d.MaxFirst < 0 {
		errs = append(errs, errors.New("graphql: Deps.MaxFirst is negative"))
	}
	return errors.Join(errs...)
}

// NewSchema assembles the API schema over deps. Each call builds fresh
// types: nothing is shared between schemas.
func NewSchema(deps Deps) (gql.Schema, error) {
	if err := deps.Validate(); err != nil {
		return gql.Schema{}, err
	}
	b := newBuilder(deps)
	query := gql.Fields{}
	for _, area := range []struct {
		name   string
		fields gql.Fields
	}{
		{"customers", b.customerQueries()},
		{"complaints", b.complaintQueries()},
		{"follow-ups", b.followUpQueries()},
		{"campaigns", b.campaignQueries()},
		{"holidays", b.holidayQueries()},
		{"analytics", b.analyticsQueries()},
		{"events", b.eventQueries()},
		{"viewer", b.viewerQueries()},
		{"next best actions", b.nextActionQueries()},
		{"resolution playbook", b.playbookQueries()},
		{"duplicates", b.duplicateQueries()},
	} {
		for name, f := range area.fields {
			if _, dup := query[name]; dup {
				return gql.Schema{}, fmt.Errorf("graphql: query field %q defined twice (area %s)", name, area.name)
			}
			query[name] = f
		}
	}
	schema, err := gql.NewSchema(gql.SchemaConfig{
		Query: gql.NewObject(gql.ObjectConfig{
			Name:        "Query",
			Description: "Read side: every field reads projections (read models); nothing here changes state.",
			Fields:      query,
		}),
		Mutation: gql.NewObject(gql.ObjectConfig{
			Name:        "Mutation",
			Description: "Write side: each mutation appends events to one stream, or appends nothing and fails.",
			Fields:      b.mutations(),
		}),
	})
	if err != nil {
		return gql.Schema{}, err
	}
	warmEnums(schema)
	guardResolvers(schema)
	return schema, nil
}

// warmEnums builds every enum's lookup tables before the schema serves
// requests. graphql-go v0.8.1 builds them lazily on first use without a
// lock, so concurrent first requests that parse or serialize the same enum
// race (seen under -race with concurrent logContact mutations).
func warmEnums(schema gql.Schema) {
	for _, t := range schema.TypeMap() {
		e, ok := t.(*gql.Enum)
		if !ok || len(e.Values()) == 0 {
			continue
		}
		v := e.Values()[0]
		e.ParseValue(v.Name)
		e.Serialize(v.Value)
	}
}

// builder holds the types of one schema while it is assembled.
type builder struct {
	app      *app.Application
	q        query.Queries
	c        command.Commands
	log      *slog.Logger
	now      func() time.Time
	maxFirst int

	dateTime, date, jsonScalar *gql.Scalar

	stage, loyaltyLevel, tier, channel, direction, severity, complaintStatus,
	resolutionOutcome, recoveryStep, followUpReason, followUpStatus, followUpOutcome,
	campaignStatus, deliveryStatus, bucket, timeUnit, role *gql.Enum

	money, pageInfo *gql.Object
	moneyInput      *gql.InputObject

	customer, complaint, followUp, campaign *gql.Object
	nextAction                              *gql.Object
	customerConn, complaintConn, followUpConn, campaignConn,
	timelineConn, eventConn *gql.Object
	reasonCountType, greeting *gql.Object

	customerPayload, complaintPayload, followUpPayload, campaignPayload *gql.Object
	inputs                                                              map[string]*gql.InputObject
}

func newBuilder(d Deps) *builder {
	b := &builder{app: d.App, q: d.App.Queries, c: d.App.Commands, log: d.Logger, now: d.App.Now, maxFirst: d.MaxFirst}
	if b.log == nil {
		b.log = slog.Default()
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.maxFirst == 0 {
		b.maxFirst = DefaultMaxFirst
	}
	b.scalars()
	b.enums()
	b.money = gql.NewObject(gql.ObjectConfig{
		Name:        "Money",
		Description: "An amount of money: integer minor units (fen, cents) of an ISO 4217 currency.",
		Fields: gql.Fields{
			"amountMinor": {Type: gql.NewNonNull(gql.Int), Description: "Amount in minor units (e.g. 1999 = 19.99 CNY).",
				Resolve: get(func(m *query.Money) any { return int(m.AmountMinor) })},
			"currency": {Type: gql.NewNonNull(gql.String), Description: "ISO 4217 currency code, e.g. CNY.",
				Resolve: get(func(m *query.Money) any { return m.Currency })},
		},
	})
	b.moneyInput = gql.NewInputObject(gql.InputObjectConfig{
		Name:        "MoneyInput",
		Description: "An amount of money: integer minor units of an ISO 4217 currency.",
		Fields: gql.InputObjectConfigFieldMap{
			"amountMinor": {Type: gql.NewNonNull(gql.Int), Description: "Amount in minor units; must not be negative."},
			"currency":    {Type: gql.NewNonNull(gql.String), Description: "ISO 4217 currency code, e.g. CNY."},
		},
	})
	b.pageInfo = gql.NewObject(gql.ObjectConfig{
		Name:        "PageInfo",
		Description: "Relay page information of a connection.",
		Fields: gql.Fields{
			"hasNextPage": {Type: gql.NewNonNull(gql.Boolean), Description: "True when more items follow endCursor.",
				Resolve: get(func(c *connSource) any { return c.hasNext })},
			"endCursor": {Type: gql.String, Description: "Opaque cursor of the last edge; pass as `after` for the next page. Null on an empty page.",
				Resolve: get(func(c *connSource) any {
					if len(c.edges) == 0 {
						return nil
					}
					return c.edges[len(c.edges)-1].cursor
				})},
		},
	})
	b.defineTypes()
	return b
}

// ---- resolver plumbing ----

// get builds a resolver that reads a field of a *S source. A source of the
// wrong type is a programming error; it resolves to null.
func get[S any](f func(*S) any) gql.FieldResolveFn {
	return func(p gql.ResolveParams) (any, error) {
		s, ok := p.Source.(*S)
		if !ok || s == nil {
			return nil, nil
		}
		return f(s), nil
	}
}

// getCtx is get with the request context (for role checks).
func getCtx[S any](f func(context.Context, *S) any) gql.FieldResolveFn {
	return func(p gql.ResolveParams) (any, error) {
		s, ok := p.Source.(*S)
		if !ok || s == nil {
			return nil, nil
		}
		return f(p.Context, s), nil
	}
}

// wrap maps every error a resolver returns to an *Error, and turns a panic
// into INTERNAL.
func (b *builder) wrap(fn gql.FieldResolveFn) gql.FieldResolveFn {
	return func(p gql.ResolveParams) (v any, err error) {
		defer func() {
			if r := recover(); r != nil {
				b.log.ErrorContext(p.Context, "graphql: resolver panic", "field", p.Info.FieldName, "panic", r)
				v, err = nil, &Error{Code: CodeInternal, Message: internalMessage}
			}
		}()
		v, err = fn(p)
		if err != nil {
			return nil, toError(p.Context, b.log, err)
		}
		return v, nil
	}
}

// opt turns a typed nil pointer into an untyped nil and dereferences others.
func opt[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// pii returns v only when the request's actor may see personal data.
func pii(ctx context.Context, v *string) any {
	if v == nil || !canSeePII(ctx) {
		return nil
	}
	return *v
}

func optDate(d *calendar.Date) any {
	if d == nil || d.IsZero() {
		return nil
	}
	return *d
}

func moneyList(ms []query.Money) []any {
	out := make([]any, len(ms))
	for i := range ms {
		out[i] = &ms[i]
	}
	return out
}

func strList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// ptrs returns pointers to the elements of xs as a []any for list fields.
func ptrs[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i := range xs {
		out[i] = &xs[i]
	}
	return out
}

// ---- connections ----

type connSource struct {
	edges   []edgeSource
	hasNext bool
	total   int
}

type edgeSource struct {
	cursor string
	node   any
}

func toConn[T any](c query.Connection[T]) *connSource {
	out := &connSource{hasNext: c.HasNextPage, total: c.TotalCount, edges: make([]edgeSource, len(c.Edges))}
	for i := range c.Edges {
		out.edges[i] = edgeSource{cursor: c.Edges[i].Cursor, node: &c.Edges[i].Node}
	}
	return out
}

// connection defines <Name>query.Connection and <Name>query.Edge over node.
func (b *builder) connection(name, what string, node gql.Output, withTotal bool) *gql.Object {
	edge := gql.NewObject(gql.ObjectConfig{
		Name:        name + "Edge",
		Description: "One " + what + " in a page, with its cursor.",
		Fields: gql.Fields{
			"cursor": {Type: gql.NewNonNull(gql.String), Description: "Opaque cursor of this edge; pass as `after` to continue after it.",
				Resolve: get(func(e *edgeSource) any { return e.cursor })},
			"node": {Type: gql.NewNonNull(node), Description: "The " + what + ".",
				Resolve: get(func(e *edgeSource) any { return e.node })},
		},
	})
	fields := gql.Fields{
		"edges": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(edge))), Description: "The page's items in order.",
			Resolve: get(func(c *connSource) any { return ptrs(c.edges) })},
		"pageInfo": {Type: gql.NewNonNull(b.pageInfo), Description: "Whether more items follow, and the cursor to continue from.",
			Resolve: func(p gql.ResolveParams) (any, error) { return p.Source, nil }},
	}
	if withTotal {
		fields["totalCount"] = &gql.Field{Type: gql.NewNonNull(gql.Int), Description: "Exact number of items matching the query, over all pages.",
			Resolve: get(func(c *connSource) any { return c.total })}
	}
	return gql.NewObject(gql.ObjectConfig{
		Name:        name + "Connection",
		Description: "A page of " + what + "s (Relay cursor connection).",
		Fields:      fields,
	})
}

// pageArgs returns the standard first/after arguments.
func pageArgs(defaultFirst int, what string) gql.FieldConfigArgument {
	return gql.FieldConfigArgument{
		"first": {Type: gql.Int, DefaultValue: defaultFirst,
			Description: fmt.Sprintf("Page size: at most this many %s (0 ≤ first ≤ the server's cap, 500 by default).", what)},
		"after": {Type: gql.String, Description: "Opaque cursor (an edge's cursor or pageInfo.endCursor) to continue after."},
	}
}

// page reads first/after from args, enforcing the cap.
func (b *builder) page(args map[string]any, defaultFirst int) (query.Page, error) {
	p := query.Page{First: defaultFirst}
	if v, ok := args["first"]; ok {
		n, ok := v.(int)
		if !ok {
			return query.Page{}, badInput("first", "first must be an integer")
		}
		p.First = n
	}
	if p.First < 0 {
		return query.Page{}, badInput("first", "first must not be negative")
	}
	if p.First > b.maxFirst {
		return query.Page{}, badInput("first", fmt.Sprintf("first must be at most %d", b.maxFirst))
	}
	if v, ok := args["after"]; ok {
		s, ok := v.(string)
		if !ok {
			return query.Page{}, badInput("after", "after must be a string")
		}
		p.After = s
	}
	return p, nil
}

// ---- scalars ----

func (b *builder) scalars() {
	b.dateTime = gql.NewScalar(gql.ScalarConfig{
		Name:        "DateTime",
		Description: "An instant as an RFC 3339 string with an explicit offset, e.g. 2025-03-04T10:00:00+08:00.",
		Serialize: func(v any) any {
			switch t := v.(type) {
			case time.Time:
				return t.Format(time.RFC3339Nano)
			case *time.Time:
				if t == nil {
					return nil
				}
				return t.Format(time.RFC3339Nano)
			}
			return nil
		},
		ParseValue: func(v any) any {
			s, ok := v.(string)
			if !ok {
				return nil
			}
			t, err := ParseDateTime(s)
			if err != nil {
				return nil
			}
			return t
		},
		ParseLiteral: func(v ast.Value) any {
			s, ok := v.(*ast.StringValue)
			if !ok {
				return nil
			}
			t, err := ParseDateTime(s.Value)
			if err != nil {
				return nil
			}
			return t
		},
	})
	b.date = gql.NewScalar(gql.ScalarConfig{
		Name:        "Date",
		Description: "A calendar date without time or timezone: YYYY-MM-DD.",
		Serialize: func(v any) any {
			switch d := v.(type) {
			case calendar.Date:
				return d.String()
			case *calendar.Date:
				if d == nil {
					return nil
				}
				return d.String()
			}
			return nil
		},
		ParseValue: func(v any) any {
			s, ok := v.(string)
			if !ok {
				return nil
			}
			d, err := calendar.Parse(s)
			if err != nil {
				return nil
			}
			return d
		},
		ParseLiteral: func(v ast.Value) any {
			s, ok := v.(*ast.StringValue)
			if !ok {
				return nil
			}
			d, err := calendar.Parse(s.Value)
			if err != nil {
				return nil
			}
			return d
		},
	})
	b.jsonScalar = gql.NewScalar(gql.ScalarConfig{
		Name:        "JSON",
		Description: "Any JSON value (objects, arrays, strings, numbers, booleans, null).",
		Serialize: func(v any) any {
			switch j := v.(type) {
			case json.RawMessage:
				if len(j) == 0 {
					return map[string]any{}
				}
				var out any
				if err := json.Unmarshal(j, &out); err != nil {
					return nil
				}
				return out
			}
			return v
		},
		ParseValue:   func(v any) any { return v },
		ParseLiteral: func(v ast.Value) any { return jsonFromAST(v) },
	})
}

// ParseDateTime parses an RFC 3339 instant that carries an offset (Z or
// ±hh:mm), with optional fractional seconds.
func ParseDateTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, &aggregate.InvalidInputError{Reason: fmt.Sprintf("%q is not an RFC 3339 date-time with offset", s)}
	}
	return t, nil
}

func jsonFromAST(v ast.Value) any {
	switch v := v.(type) {
	case *ast.StringValue:
		return v.Value
	case *ast.BooleanValue:
		return v.Value
	case *ast.IntValue:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			return v.Value
		}
		return n
	case *ast.FloatValue:
		f, err := strconv.ParseFloat(v.Value, 64)
		if err != nil {
			return v.Value
		}
		return f
	case *ast.EnumValue:
		return v.Value
	case *ast.ListValue:
		out := make([]any, len(v.Values))
		for i, x := range v.Values {
			out[i] = jsonFromAST(x)
		}
		return out
	case *ast.ObjectValue:
		out := make(map[string]any, len(v.Fields))
		for _, f := range v.Fields {
			out[f.Name.Value] = jsonFromAST(f.Value)
		}
		return out
	}
	return nil
}

// ---- enums ----

type enumValue struct{ name, desc string }

func newEnum(name, desc string, values ...enumValue) *gql.Enum {
	m := gql.EnumValueConfigMap{}
	for _, v := range values {
		m[v.name] = &gql.EnumValueConfig{Value: v.name, Description: v.desc}
	}
	return gql.NewEnum(gql.EnumConfig{Name: name, Description: desc, Values: m})
}

// domainEnum is the GraphQL enum of a domain enum: its values are the
// domain's, in the domain's order; descs describes each of them (a value
// without a description, or a description of no value, is a bug caught
// when the schema is built).
func domainEnum[V fmt.Stringer](name, desc string, values []V, descs map[string]string) *gql.Enum {
	out := make([]enumValue, len(values))
	for i, v := range values {
		d, ok := descs[v.String()]
		if !ok {
			panic(fmt.Sprintf("graphql: enum %s: value %s has no description", name, v))
		}
		out[i] = enumValue{v.String(), d}
	}
	if len(descs) != len(values) {
		panic(fmt.Sprintf("graphql: enum %s: %d descriptions for %d values", name, len(descs), len(values)))
	}
	return newEnum(name, desc, out...)
}

func (b *builder) enums() {
	b.stage = domainEnum("Stage", "Lifecycle stage of a customer (a projection; DESIGN §4). The path to watch is GRUMBLING → COMPLAINING → SILENT → LOST.", lifecycle.Stages(), map[string]string{
		"NEW":         "Registered, fewer than 2 purchases.",
		"ACTIVE":      "Buying, no open grievance.",
		"LOYAL":       "Buys often (≥ 5 purchase days in 365 days by default), no open grievance.",
		"GRUMBLING":   "Voiced informal dissatisfaction (抱怨) not yet answered.",
		"COMPLAINING": "Has a formal complaint (投诉) open.",
		"SILENT":      "Has a grievance and has not been in touch for 30 days (沉默).",
		"DORMANT":     "No grievance, but probably no longer buying (P(alive) < 0.3).",
		"LOST":        "Gone (丢失): silent a further 60 days, very unlikely alive, or marked lost.",
	})
	b.loyaltyLevel = domainEnum("LoyaltyLevel", "Loyalty level derived from the loyalty score.", loyalty.Levels(), map[string]string{
		"NONE":     "No repeat behaviour yet.",
		"REPEAT":   "Buys repeatedly.",
		"LOYAL":    "Loyal: repeat purchases, resistant to competitors.",
		"ADVOCATE": "Loyal and has referred at least one customer.",
	})
	b.tier = domainEnum("Tier", "Service tier; customers are served differently by tier.", customer.Tiers(), map[string]string{
		"STANDARD": "Standard customer.",
		"GOLD":     "Gold customer.",
		"VIP":      "VIP customer.",
	})
	b.channel = domainEnum("Channel", "How a contact, complaint or greeting travelled.", customer.Channels(), map[string]string{
		"PHONE":  "Telephone.",
		"VISIT":  "In person.",
		"LETTER": "Letter.",
		"EMAIL":  "E-mail.",
		"CHAT":   "Web or app chat.",
		"WECHAT": "WeChat.",
		"SMS":    "Text message.",
	})
	b.direction = domainEnum("Direction", "Who initiated a contact.", customer.Directions(), map[string]string{
		"INBOUND":  "The customer contacted us (counts as activity for the lifecycle).",
		"OUTBOUND": "We contacted the customer.",
	})
	b.severity = domainEnum("Severity", "Complaint classification.", customer.Severities(), map[string]string{
		"GENERAL": "A general complaint.",
		"MAJOR":   "A major complaint: escalate at once; an incident report is needed before it can be resolved.",
	})
	b.complaintStatus = domainEnum("ComplaintStatus", "Where a complaint stands in its workflow.", customer.ComplaintStatuses(), map[string]string{
		"OPEN":                "Filed, not yet acknowledged.",
		"ACKNOWLEDGED":        "The customer was told we are on it.",
		"ESCALATED":           "Escalated to management with a promised reply time.",
		"RESOLUTION_PROPOSED": "Resolution options were offered to the customer.",
		"RESOLVED":            "Closed with the customer's verdict (outcome).",
		"DECLINED":            "Declined as invalid, with a reason.",
	})
	b.resolutionOutcome = domainEnum("ResolutionOutcome", "How the customer took a complaint's resolution.", customer.Outcomes(), map[string]string{
		"SATISFIED":   "The customer is satisfied.",
		"UNSATISFIED": "The customer is not satisfied.",
	})
	b.recoveryStep = domainEnum("RecoveryStep", "The five steps of service recovery.", customer.RecoverySteps(), map[string]string{
		"APOLOGY":            "Apologise.",
		"URGENT_RESTORATION": "Fix the problem urgently.",
		"EMPATHY":            "Show understanding.",
		"SYMBOLIC_ATONEMENT": "Compensate (may carry an amount).",
		"FOLLOW_UP":          "Check back that the customer is content.",
	})
	b.followUpReason = domainEnum("FollowUpReason", "Why a follow-up was scheduled.", customer.FollowUpReasons(), map[string]string{
		"RECOVERY":      "After a complaint's resolution (回访).",
		"HOLIDAY":       "A major holiday after a recent recovery.",
		"WIN_BACK":      "The customer went silent.",
		"ROUTINE":       "Scheduled by hand.",
		"REPLENISHMENT": "The customer is expected to buy an item category again soon (补货提醒); the note names the category.",
	})
	b.followUpStatus = domainEnum("FollowUpStatus", "State of a follow-up.", customer.FollowUpStatuses(), map[string]string{
		"DUE":       "Not done yet.",
		"DONE":      "Completed with an outcome.",
		"CANCELLED": "No longer needed.",
	})
	b.followUpOutcome = domainEnum("FollowUpOutcome", "Result of a follow-up contact.", customer.FollowUpOutcomes(), map[string]string{
		"SATISFIED":   "The customer is content.",
		"UNSATISFIED": "The customer is not content (another try is scheduled).",
		"NO_ANSWER":   "Could not reach the customer.",
	})
	b.campaignStatus = domainEnum("CampaignStatus", "State of a greeting campaign.", campaign.Statuses(), map[string]string{
		"SCHEDULED": "Waiting for its send time.",
		"RUNNING":   "Sending.",
		"COMPLETED": "Every customer was greeted, failed or skipped.",
		"CANCELLED": "Cancelled; remaining sends were stopped.",
	})
	b.deliveryStatus = newEnum("DeliveryStatus", "Outcome of one greeting.",
		enumValue{"SENT", "Delivered to the sender."},
		enumValue{"FAILED", "The sender failed after its retries."},
		enumValue{"SKIPPED", "Not sent; see reason."},
	)
	b.bucket = newEnum("Bucket", "Bucket size of a report.",
		enumValue{"DAY", "One bucket per day."},
		enumValue{"WEEK", "One bucket per ISO week."},
		enumValue{"MONTH", "One bucket per calendar month."},
	)
	b.timeUnit = newEnum("TimeUnit", "Time unit of the churn model's parameters.",
		enumValue{"DAY", "Days."},
		enumValue{"WEEK", "Weeks."},
	)
	b.role = newEnum("Role", "What a user may do (see the API documentation's role matrix).",
		enumValue{string(RoleAdmin), "Everything, including erasing customers."},
		enumValue{string(RoleAccountManager), "Customers, complaints and follow-ups; no campaigns, no erasure."},
		enumValue{string(RoleMarketing), "Reads customers; schedules and cancels greeting campaigns."},
		enumValue{string(RoleAnalyst), "Reads everything except personal data."},
	)
}

// sharedInput returns the input object called name, declaring it with
// declare the first time: one GraphQL input type serves every mutation
// that shares its shape (ComplaintActionInput).
func (b *builder) sharedInput(name string, declare func() *gql.InputObject) *gql.InputObject {
	if b.inputs == nil {
		b.inputs = map[string]*gql.InputObject{}
	}
	if in, ok := b.inputs[name]; ok {
		return in
	}
	in := declare()
	b.inputs[name] = in
	return in
}
