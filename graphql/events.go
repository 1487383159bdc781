package graphql

import (
	"context"
	"time"

	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/app/query"
)

func (b *builder) defineEvent() {
	event := gql.NewObject(gql.ObjectConfig{
		Name:        "Event",
		Description: "A stored event, as analysts see raw history.",
		Fields: gql.Fields{
			"eventId":    {Type: gql.NewNonNull(gql.ID), Description: "Event ID (UUID).", Resolve: get(func(e *query.Event) any { return e.EventID })},
			"streamId":   {Type: gql.NewNonNull(gql.String), Description: "Stream, e.g. customer-42 or campaign-7.", Resolve: get(func(e *query.Event) any { return e.StreamID })},
			"type":       {Type: gql.NewNonNull(gql.String), Description: "Event type, e.g. ContactLogged.", Resolve: get(func(e *query.Event) any { return e.Type })},
			"revision":   {Type: gql.NewNonNull(gql.Int), Description: "0-based revision in its stream.", Resolve: get(func(e *query.Event) any { return e.Revision })},
			"position":   {Type: gql.NewNonNull(gql.String), Description: "Global position (opaque, ordered).", Resolve: get(func(e *query.Event) any { return e.Position })},
			"occurredAt": {Type: gql.NewNonNull(b.dateTime), Description: "Business time of the fact.", Resolve: get(func(e *query.Event) any { return e.OccurredAt })},
			"recordedAt": {Type: gql.NewNonNull(b.dateTime), Description: "When the store recorded it.", Resolve: get(func(e *query.Event) any { return e.RecordedAt })},
			"data": {Type: gql.NewNonNull(b.jsonScalar), Description: "Event data (personal fields removed for callers who may not see PII).",
				Resolve: getCtx(func(ctx context.Context, e *query.Event) any { return eventData(ctx, e.Data, e.Personal) })},
			"metadata": {Type: gql.NewNonNull(b.jsonScalar), Description: "Event metadata: correlationId, causationId, actor.",
				Resolve: get(func(e *query.Event) any { return metadataJSON(e.Metadata) })},
		},
	})
	b.eventConn = b.connection("Event", "event", event, false)
}

func (b *builder) eventQueries() gql.Fields {
	type filter = query.EventFilter
	return gql.Fields{
		"events": listField(b, listing[filter, query.Event]{
			desc: "Raw history, in global order, for analysts.",
			conn: b.eventConn, what: "events", defaultFirst: 100,
			filterInput: "EventFilter", filterDesc: "Which events to list; all given conditions must hold.", filterHelp: "Conditions on the events to list.",
			filter: []field[filter]{
				inValue("streamId", gql.String, "Only this stream, e.g. customer-42.", (*args).optStr, func(f *filter, v *string) { f.StreamID = v }),
				inValue("types", gql.NewList(nn(gql.String)), "Only these event types.", (*args).strs, func(f *filter, v []string) { f.Types = v }),
				inValue("from", b.dateTime, "Occurred at or after this instant.", (*args).optTime, func(f *filter, v *time.Time) { f.From = v }),
				inValue("to", b.dateTime, "Occurred before this instant.", (*args).optTime, func(f *filter, v *time.Time) { f.To = v }),
			},
			list: b.q.Events.List,
		}),
	}
}

func (b *builder) viewerQueries() gql.Fields {
	viewer := gql.NewObject(gql.ObjectConfig{
		Name:        "Viewer",
		Description: "The authenticated caller.",
		Fields: gql.Fields{
			"user":      {Type: gql.NewNonNull(gql.String), Description: "User name (recorded as the actor of the events this caller appends).", Resolve: get(func(a *Actor) any { return a.User })},
			"role":      {Type: gql.NewNonNull(b.role), Description: "The caller's role.", Resolve: get(func(a *Actor) any { return string(a.Role) })},
			"canSeePII": {Type: gql.NewNonNull(gql.Boolean), Description: "Whether personal fields resolve for this caller.", Resolve: get(func(a *Actor) any { return a.Role.allowed(permSeePII) })},
		},
	})
	return gql.Fields{
		"viewer": {
			Type:        gql.NewNonNull(viewer),
			Description: "Who the server thinks you are, and your role.",
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				a, ok := ActorFrom(p.Context)
				if !ok {
					return nil, &Error{Code: CodeUnauthenticated, Message: "authentication required"}
				}
				return &a, nil
			}),
		},
	}
}
