package graphql

import (
	"context"

	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/app/query"
)

// duplicateQueries defines Query.duplicateCandidates over the blind index
// (projections/dupindex).
func (b *builder) duplicateQueries() gql.Fields {
	node := gql.NewObject(gql.ObjectConfig{
		Name:        "DuplicateCandidate",
		Description: "Customers who are probably one person: they share contact details (compared as keyed digests of the normalised details, never in clear). Merge them with mergeCustomers.",
		Fields: gql.Fields{
			"customers": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.customer))), Description: "The customers, by ID.",
				Resolve: get(func(c *query.DuplicateCandidate) any { return ptrs(c.Customers) })},
			"score": {Type: gql.NewNonNull(gql.Float), Description: "1 − Π(1 − weight) over the reasons (WeChat 0.90, phone 0.85, e-mail 0.85, name and birthday 0.75).",
				Resolve: get(func(c *query.DuplicateCandidate) any { return c.Score })},
			"reasons": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(gql.String))), Description: "What they share: SAME_WECHAT, SAME_PHONE, SAME_EMAIL, SAME_NAME_AND_BIRTHDAY.",
				Resolve: get(func(c *query.DuplicateCandidate) any { return c.Reasons })},
		},
	})
	type filter struct{ MinScore *float64 }
	return gql.Fields{
		"duplicateCandidates": listField(b, listing[filter, query.DuplicateCandidate]{
			desc: "Pairs of customers who are probably one person, best first, with the exact totalCount. Needs access to personal data (ANALYST gets FORBIDDEN).",
			conn: b.connection("DuplicateCandidate", "duplicate candidate", node, true), what: "candidates", defaultFirst: 50,
			filter: []field[filter]{
				inValue("minScore", gql.Float, "Lowest score listed, 0…1 (default 0.5: any one shared detail).", (*args).optFloat, func(f *filter, v *float64) { f.MinScore = v }),
			},
			allow: func(ctx context.Context, _ filter) error {
				_, err := require(ctx, permSeePII)
				return err
			},
			list: func(ctx context.Context, f filter, p query.Page) (query.Connection[query.DuplicateCandidate], error) {
				return b.q.Duplicates.Candidates(ctx, f.MinScore, p)
			},
		}),
	}
}
