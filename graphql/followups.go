package graphql

import (
	"context"
	"time"

	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/app/query"
	"github.com/kefu-crm/kefu/domain/customer"
)

func (b *builder) defineFollowUp() {
	b.followUp = gql.NewObject(gql.ObjectConfig{
		Name:        "FollowUp",
		Description: "A follow-up contact (回访) due for a customer: after a complaint, on a holiday, to win back, or by hand.",
		Fields: gql.FieldsThunk(func() gql.Fields {
			return gql.Fields{
				"id": {Type: gql.NewNonNull(gql.ID), Description: "Follow-up ID (deterministic for automatic ones).", Resolve: get(func(f *query.FollowUp) any { return f.ID })},
				"customer": {Type: gql.NewNonNull(b.customer), Description: "The customer to contact.",
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						f, ok := p.Source.(*query.FollowUp)
						if !ok {
							return nil, nil
						}
						return b.customerOf(p.Context, f.CustomerID)
					})},
				"complaint": {Type: b.complaint, Description: "The complaint it follows up, if any.",
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						f, ok := p.Source.(*query.FollowUp)
						if !ok || f.ComplaintID == nil {
							return nil, nil
						}
						c, err := b.q.Complaints.Get(p.Context, *f.ComplaintID)
						if err != nil {
							if isNotFound(err) {
								return nil, nil
							}
							return nil, err
						}
						return &c, nil
					})},
				"reason":  {Type: gql.NewNonNull(b.followUpReason), Description: "Why it was scheduled.", Resolve: get(func(f *query.FollowUp) any { return f.Reason })},
				"owner":   {Type: gql.NewNonNull(gql.String), Description: "Who should do it: the complaint owner, else the account manager.", Resolve: get(func(f *query.FollowUp) any { return f.Owner })},
				"dueAt":   {Type: gql.NewNonNull(b.dateTime), Description: "When it is due.", Resolve: get(func(f *query.FollowUp) any { return f.DueAt })},
				"status":  {Type: gql.NewNonNull(b.followUpStatus), Description: "DUE, DONE or CANCELLED.", Resolve: get(func(f *query.FollowUp) any { return f.Status })},
				"outcome": {Type: b.followUpOutcome, Description: "The result, once DONE.", Resolve: get(func(f *query.FollowUp) any { return opt(f.Outcome) })},
				"note": {Type: gql.String, Description: "Free-text note (personal data: null without PII access).",
					Resolve: getCtx(func(ctx context.Context, f *query.FollowUp) any { return pii(ctx, f.Note) })},
			}
		}),
	})
	b.followUpConn = b.connection("FollowUp", "follow-up", b.followUp, true)
}

func (b *builder) followUpQueries() gql.Fields {
	type filter = query.FollowUpFilter
	return gql.Fields{
		"followUps": listField(b, listing[filter, query.FollowUp]{
			desc: "Follow-ups matching filter, oldest due first, with the exact totalCount.",
			conn: b.followUpConn, what: "follow-ups", defaultFirst: 50,
			filterInput: "FollowUpFilter", filterDesc: "Which follow-ups to list (an account manager's queue); all given conditions must hold.", filterHelp: "Conditions on the follow-ups to list.",
			filter: []field[filter]{
				inValue("owner", gql.String, "Follow-ups owned by this user.", (*args).optStr, func(f *filter, v *string) { f.Owner = v }),
				inValue("status", b.followUpStatus, "Follow-ups in this status.", (*args).optStr, func(f *filter, v *string) { f.Status = v }),
				inValue("dueBefore", b.dateTime, "Due before this instant.", (*args).optTime, func(f *filter, v *time.Time) { f.DueBefore = v }),
				inValue("reasons", gql.NewList(nn(b.followUpReason)), "Follow-ups with any of these reasons.", (*args).strs, func(f *filter, v []string) { f.Reasons = v }),
			},
			list: b.q.FollowUps.List,
		}),
	}
}

// ---- mutations ----

func (b *builder) followUpMutations() []mutation {
	schedule := append([]field[customer.ScheduleFollowUp]{
		customerID[customer.ScheduleFollowUp]("The customer."),
		inOptID("complaintId", "The complaint it follows up, if any.", func(c *customer.ScheduleFollowUp, v string) { c.ComplaintID = v }),
		inEnum("reason", b.followUpReason, "", "Why.", customer.ParseFollowUpReason, func(c *customer.ScheduleFollowUp, v customer.FollowUpReason) { c.Reason = v }),
		inOptStr("owner", "Who should do it; default the complaint owner, else the account manager.", func(c *customer.ScheduleFollowUp, v string) { c.Owner = v }),
		inDateTime(b, "dueAt", "When it is due.", func(c *customer.ScheduleFollowUp, v time.Time) { c.DueAt = v }),
		inOptStr("note", "Optional note.", func(c *customer.ScheduleFollowUp, v string) { c.Note = v }),
	}, meta[customer.ScheduleFollowUp](b, noOccurredAt)...)
	complete := append([]field[customer.CompleteFollowUp]{
		inID("followUpId", "The follow-up.", func(c *customer.CompleteFollowUp, v string) { c.FollowUpID = v }),
		inStr("by", "Who did it.", func(c *customer.CompleteFollowUp, v string) { c.By = v }),
		inEnum("outcome", b.followUpOutcome, "", "The result.", customer.ParseFollowUpOutcome, func(c *customer.CompleteFollowUp, v customer.FollowUpOutcome) { c.Outcome = v }),
		inOptStr("note", "Optional note.", func(c *customer.CompleteFollowUp, v string) { c.Note = v }),
	}, meta[customer.CompleteFollowUp](b, allShared)...)
	return []mutation{
		{name: "scheduleFollowUp", desc: "Schedule a follow-up by hand.", perm: permWriteFollowUp, payload: b.followUpPayload,
			input: inputObject("ScheduleFollowUpInput", "A follow-up.", schedule),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				r := read(a, schedule)
				if a.err != nil {
					return nil, a.err
				}
				res, err := b.c.ScheduleFollowUp.Handle(commandContext(ctx, by, r.Key), r.Customer, r.Expected, r.Cmd)
				if err != nil {
					return nil, err
				}
				return b.followUpAfter(ctx, res)
			}},
		{name: "completeFollowUp", desc: "Record a follow-up's outcome; UNSATISFIED schedules one more try.", perm: permWriteFollowUp, payload: b.followUpPayload,
			input: inputObject("CompleteFollowUpInput", "A follow-up outcome.", complete),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				r := read(a, complete)
				if a.err != nil {
					return nil, a.err
				}
				res, err := b.c.CompleteFollowUp.Handle(commandContext(ctx, by, r.Key), r.Expected, r.Cmd)
				if err != nil {
					return nil, err
				}
				return b.followUpAfter(ctx, res)
			}},
	}
}

// followUpAfter is the payload of a follow-up command once the read models
// show it.
func (b *builder) followUpAfter(ctx context.Context, res command.Result) (any, error) {
	if err := b.app.Await(ctx, res); err != nil {
		return nil, err
	}
	f, err := b.q.FollowUps.Get(ctx, res.ID, res.Entity)
	if err != nil {
		return nil, err
	}
	return &followUpResult{FollowUp: f, Version: int(res.Revision)}, nil
}
