package graphql

import (
	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/app/query"
	"github.com/kefu-crm/kefu/app/query/nextaction"
)

// nextActionQueries defines NextBestAction and Query.nextBestActions;
// Customer.nextBestAction (customers.go) uses the same type.
func (b *builder) nextActionQueries() gql.Fields {
	kind := domainEnum("NextBestActionKind", "What kind of next best action, in rank order (app/query/nextaction).", nextaction.Kinds(), map[string]string{
		"COMPLAINT_REPLY": "A complaint's reply (or a promised step) is overdue.",
		"FOLLOW_UP":       "A follow-up is due.",
		"REPLENISHMENT":   "A replenishment call (补货提醒) is due: the customer is about to run out.",
		"WIN_BACK":        "A SILENT customer worth a win-back call (ranked by spend × P(alive)).",
		"LOYALTY_DROP":    "A VIP whose loyalty fell.",
	})
	b.nextAction = gql.NewObject(gql.ObjectConfig{
		Name:        "NextBestAction",
		Description: "Something an account manager should do next, with the reason in plain words. Ranked: overdue complaint replies, due follow-ups, replenishment calls, win-backs, loyalty drops.",
		Fields: gql.Fields{
			"kind":   {Type: gql.NewNonNull(kind), Description: "What kind of action.", Resolve: get(func(a *query.NextAction) any { return a.Kind })},
			"reason": {Type: gql.NewNonNull(gql.String), Description: "Why, in plain words.", Resolve: get(func(a *query.NextAction) any { return a.Reason })},
			"dueAt":  {Type: b.dateTime, Description: "When it was due; null when it is due now (win-backs).", Resolve: get(func(a *query.NextAction) any { return opt(a.DueAt) })},
			"ref": {Type: gql.ID, Description: "The complaint or follow-up it is about, if any.", Resolve: get(func(a *query.NextAction) any {
				if a.Ref == "" {
					return nil
				}
				return a.Ref
			})},
			"customer": {Type: gql.NewNonNull(b.customer), Description: "The customer.", Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				a, ok := p.Source.(*query.NextAction)
				if !ok {
					return nil, nil
				}
				return b.customerOf(p.Context, a.CustomerID)
			})},
		},
	})
	return gql.Fields{
		"nextBestActions": {
			Type:        gql.NewNonNull(gql.NewList(gql.NewNonNull(b.nextAction))),
			Description: "The owner's next best actions, best first (at most first, default 20, up to 200).",
			Args: gql.FieldConfigArgument{
				"owner": {Type: gql.NewNonNull(gql.String), Description: "The account manager (or complaint/follow-up owner)."},
				"first": {Type: gql.Int, Description: "How many (default 20, at most 200)."},
			},
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				a := newArgs(p.Args, "")
				owner, first := a.str("owner"), a.optInt("first")
				if a.err != nil {
					return nil, a.err
				}
				acts, err := b.q.NextActions.ForOwner(p.Context, owner, first)
				if err != nil {
					return nil, err
				}
				return ptrs(acts), nil
			}),
		},
	}
}
