package graphql

import (
	"context"

	gql "github.com/graphql-go/graphql"
)

func (b *builder) defineFollowUp() {
	b.followUp = gql.NewObject(gql.ObjectConfig{
		Name:        "FollowUp",
		Description: "A follow-up contact (回访) due for a customer: after a complaint, on a holiday, to win back, or by hand.",
		Fields: gql.FieldsThunk(func() gql.Fields {
			return gql.Fields{
				"id": {Type: gql.NewNonNull(gql.ID), Description: "Follow-up ID (deterministic for automatic ones).", Resolve: get(func(f *FollowUpView) any { return f.ID })},
				"customer": {Type: gql.NewNonNull(b.customer), Description: "The customer to contact.",
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						f, ok := p.Source.(*FollowUpView)
						if !ok {
							return nil, nil
						}
						return b.customerOf(p.Context, f.CustomerID)
					})},
				"complaint": {Type: b.complaint, Description: "The complaint it follows up, if any.",
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						f, ok := p.Source.(*FollowUpView)
						if !ok || f.ComplaintID == nil {
							return nil, nil
						}
						c, err := b.d.Complaints.Complaint(p.Context, *f.ComplaintID)
						if err != nil {
							if isNotFound(err) {
								return nil, nil
							}
							return nil, err
						}
						return &c, nil
					})},
				"reason":  {Type: gql.NewNonNull(b.followUpReason), Description: "Why it was scheduled.", Resolve: get(func(f *FollowUpView) any { return f.Reason })},
				"owner":   {Type: gql.NewNonNull(gql.String), Description: "Who should do it: the complaint owner, else the account manager.", Resolve: get(func(f *FollowUpView) any { return f.Owner })},
				"dueAt":   {Type: gql.NewNonNull(b.dateTime), Description: "When it is due.", Resolve: get(func(f *FollowUpView) any { return f.DueAt })},
				"status":  {Type: gql.NewNonNull(b.followUpStatus), Description: "DUE, DONE or CANCELLED.", Resolve: get(func(f *FollowUpView) any { return f.Status })},
				"outcome": {Type: b.followUpOutcome, Description: "The result, once DONE.", Resolve: get(func(f *FollowUpView) any { return opt(f.Outcome) })},
				"note": {Type: gql.String, Description: "Free-text note (personal data: null without PII access).",
					Resolve: getCtx(func(ctx context.Context, f *FollowUpView) any { return pii(ctx, f.Note) })},
			}
		}),
	})
	b.followUpConn = b.connection("FollowUp", "follow-up", b.followUp, true)
}

func (b *builder) followUpQueries() gql.Fields {
	filter := gql.NewInputObject(gql.InputObjectConfig{
		Name:        "FollowUpFilter",
		Description: "Which follow-ups to list (an account manager's queue); all given conditions must hold.",
		Fields: gql.InputObjectConfigFieldMap{
			"owner":     {Type: gql.String, Description: "Follow-ups owned by this user."},
			"status":    {Type: b.followUpStatus, Description: "Follow-ups in this status."},
			"dueBefore": {Type: b.dateTime, Description: "Due before this instant."},
			"reasons":   {Type: gql.NewList(gql.NewNonNull(b.followUpReason)), Description: "Follow-ups with any of these reasons."},
		},
	})
	return gql.Fields{
		"followUps": {
			Type:        gql.NewNonNull(b.followUpConn),
			Description: "Follow-ups matching filter, oldest due first, with the exact totalCount.",
			Args: func() gql.FieldConfigArgument {
				a := pageArgs(50, "follow-ups")
				a["filter"] = &gql.ArgumentConfig{Type: filter, Description: "Conditions on the follow-ups to list."}
				return a
			}(),
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				pg, err := b.page(p.Args, 50)
				if err != nil {
					return nil, err
				}
				a := newArgs(p.Args, "")
				var q FollowUpQuery
				if f := a.obj("filter"); f != nil {
					q = FollowUpQuery{Owner: f.optStr("owner"), Status: f.optStr("status"), DueBefore: f.optTime("dueBefore"), Reasons: f.strs("reasons")}
					a.join(f)
				}
				if a.err != nil {
					return nil, a.err
				}
				conn, err := b.d.FollowUps.FollowUps(p.Context, q, pg)
				if err != nil {
					return nil, err
				}
				return toConn(conn), nil
			}),
		},
	}
}
