package graphql

import (
	"context"

	gql "github.com/graphql-go/graphql"
)

func (b *builder) defineEvent() {
	event := gql.NewObject(gql.ObjectConfig{
		Name:        "Event",
		Description: "A stored event, as analysts see raw history.",
		Fields: gql.Fields{
			"eventId":    {Type: gql.NewNonNull(gql.ID), Description: "Event ID (UUID).", Resolve: get(func(e *EventView) any { return e.EventID })},
			"streamId":   {Type: gql.NewNonNull(gql.String), Description: "Stream, e.g. customer-42 or campaign-7.", Resolve: get(func(e *EventView) any { return e.StreamID })},
			"type":       {Type: gql.NewNonNull(gql.String), Description: "Event type, e.g. ContactLogged.", Resolve: get(func(e *EventView) any { return e.Type })},
			"revision":   {Type: gql.NewNonNull(gql.Int), Description: "0-based revision in its stream.", Resolve: get(func(e *EventView) any { return e.Revision })},
			"position":   {Type: gql.NewNonNull(gql.String), Description: "Global position (opaque, ordered).", Resolve: get(func(e *EventView) any { return e.Position })},
			"occurredAt": {Type: gql.NewNonNull(b.dateTime), Description: "Business time of the fact.", Resolve: get(func(e *EventView) any { return e.OccurredAt })},
			"recordedAt": {Type: gql.NewNonNull(b.dateTime), Description: "When the store recorded it.", Resolve: get(func(e *EventView) any { return e.RecordedAt })},
			"data": {Type: gql.NewNonNull(b.jsonScalar), Description: "Event data (personal fields removed for callers who may not see PII).",
				Resolve: getCtx(func(ctx context.Context, e *EventView) any { return eventData(ctx, e.Data) })},
			"metadata": {Type: gql.NewNonNull(b.jsonScalar), Description: "Event metadata: correlationId, causationId, actor.",
				Resolve: getCtx(func(ctx context.Context, e *EventView) any { return eventData(ctx, e.Metadata) })},
		},
	})
	b.eventConn = b.connection("Event", "event", event, false)
}

func (b *builder) eventQueries() gql.Fields {
	filter := gql.NewInputObject(gql.InputObjectConfig{
		Name:        "EventFilter",
		Description: "Which events to list; all given conditions must hold.",
		Fields: gql.InputObjectConfigFieldMap{
			"streamId": {Type: gql.String, Description: "Only this stream, e.g. customer-42."},
			"types":    {Type: gql.NewList(gql.NewNonNull(gql.String)), Description: "Only these event types."},
			"from":     {Type: b.dateTime, Description: "Occurred at or after this instant."},
			"to":       {Type: b.dateTime, Description: "Occurred before this instant."},
		},
	})
	return gql.Fields{
		"events": {
			Type:        gql.NewNonNull(b.eventConn),
			Description: "Raw history, in global order, for analysts.",
			Args: func() gql.FieldConfigArgument {
				a := pageArgs(100, "events")
				a["filter"] = &gql.ArgumentConfig{Type: filter, Description: "Conditions on the events to list."}
				return a
			}(),
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				pg, err := b.page(p.Args, 100)
				if err != nil {
					return nil, err
				}
				a := newArgs(p.Args, "")
				var q EventQuery
				if f := a.obj("filter"); f != nil {
					q = EventQuery{StreamID: f.optStr("streamId"), Types: f.strs("types"), From: f.optTime("from"), To: f.optTime("to")}
					a.join(f)
				}
				if a.err != nil {
					return nil, a.err
				}
				conn, err := b.d.Events.Events(p.Context, q, pg)
				if err != nil {
					return nil, err
				}
				return toConn(conn), nil
			}),
		},
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
