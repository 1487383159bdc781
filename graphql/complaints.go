package graphql

import (
	"context"

	gql "github.com/graphql-go/graphql"
)

// customerOf resolves a Customer! reference by ID.
func (b *builder) customerOf(ctx context.Context, id string) (any, error) {
	c, err := b.d.Customers.Customer(ctx, id, nil)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func (b *builder) defineComplaint() {
	step := gql.NewObject(gql.ObjectConfig{
		Name:        "RecoveryStepRecord",
		Description: "A service-recovery step taken on a complaint.",
		Fields: gql.Fields{
			"step": {Type: gql.NewNonNull(b.recoveryStep), Description: "Which of the five steps.", Resolve: get(func(s *RecoveryStepView) any { return s.Step })},
			"at":   {Type: gql.NewNonNull(b.dateTime), Description: "When it was taken.", Resolve: get(func(s *RecoveryStepView) any { return s.At })},
			"by":   {Type: gql.NewNonNull(gql.String), Description: "Who took it.", Resolve: get(func(s *RecoveryStepView) any { return s.By })},
			"note": {Type: gql.String, Description: "Free-text note (personal data: null without PII access).",
				Resolve: getCtx(func(ctx context.Context, s *RecoveryStepView) any { return pii(ctx, s.Note) })},
		},
	})
	b.complaint = gql.NewObject(gql.ObjectConfig{
		Name:        "Complaint",
		Description: "A formal complaint (投诉) and its handling: SLA, escalation, resolution, service recovery.",
		Fields: gql.FieldsThunk(func() gql.Fields {
			return gql.Fields{
				"id": {Type: gql.NewNonNull(gql.ID), Description: "Complaint ID.", Resolve: get(func(c *ComplaintView) any { return c.ID })},
				"customer": {Type: gql.NewNonNull(b.customer), Description: "The complaining customer.",
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						c, ok := p.Source.(*ComplaintView)
						if !ok {
							return nil, nil
						}
						return b.customerOf(p.Context, c.CustomerID)
					})},
				"status":   {Type: gql.NewNonNull(b.complaintStatus), Description: "Where the complaint stands.", Resolve: get(func(c *ComplaintView) any { return c.Status })},
				"severity": {Type: gql.NewNonNull(b.severity), Description: "GENERAL or MAJOR.", Resolve: get(func(c *ComplaintView) any { return c.Severity })},
				"category": {Type: gql.NewNonNull(gql.String), Description: "Free-form category (e.g. delivery, billing).", Resolve: get(func(c *ComplaintView) any { return c.Category })},
				"channel":  {Type: gql.NewNonNull(b.channel), Description: "How the complaint came in.", Resolve: get(func(c *ComplaintView) any { return c.Channel })},
				"description": {Type: gql.String, Description: "What the customer said (personal data: null without PII access or after erasure).",
					Resolve: getCtx(func(ctx context.Context, c *ComplaintView) any { return pii(ctx, c.Description) })},
				"owner":          {Type: gql.NewNonNull(gql.String), Description: "First-contact owner (首问负责制); changes only by explicit transfer.", Resolve: get(func(c *ComplaintView) any { return c.Owner })},
				"filedAt":        {Type: gql.NewNonNull(b.dateTime), Description: "When it was filed.", Resolve: get(func(c *ComplaintView) any { return c.FiledAt })},
				"replyDueAt":     {Type: gql.NewNonNull(b.dateTime), Description: "Filed + half a working day on the working calendar.", Resolve: get(func(c *ComplaintView) any { return c.ReplyDueAt })},
				"acknowledgedAt": {Type: b.dateTime, Description: "When it was acknowledged.", Resolve: get(func(c *ComplaintView) any { return opt(c.AcknowledgedAt) })},
				"overdue": {Type: gql.NewNonNull(gql.Boolean), Description: "True when not acknowledged by replyDueAt, or a promised reply time passed.",
					Resolve: get(func(c *ComplaintView) any { return c.Overdue })},
				"replyDueProvisional": {Type: gql.NewNonNull(gql.Boolean), Description: "True when replyDueAt was computed in a year without official holiday data (no State Council arrangement built in or configured): only Mon–Fri were counted, so the deadline may be off around that year's holidays and adjusted working days.",
					Resolve: get(func(c *ComplaintView) any { return c.ReplyDueProvisional })},
				"escalatedTo":       {Type: gql.String, Description: "Who it was escalated to.", Resolve: get(func(c *ComplaintView) any { return opt(c.EscalatedTo) })},
				"promisedReplyBy":   {Type: b.dateTime, Description: "Reply time promised on escalation.", Resolve: get(func(c *ComplaintView) any { return opt(c.PromisedReplyBy) })},
				"resolutionOptions": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(gql.String))), Description: "Options offered to the customer.", Resolve: get(func(c *ComplaintView) any { return strList(c.ResolutionOptions) })},
				"acceptedOption":    {Type: gql.String, Description: "The option the customer accepted.", Resolve: get(func(c *ComplaintView) any { return opt(c.AcceptedOption) })},
				"recoverySteps": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(step))), Description: "Service-recovery steps taken, oldest first.",
					Resolve: get(func(c *ComplaintView) any { return ptrs(c.RecoverySteps) })},
				"compensation": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.money))), Description: "Compensation given, totalled per currency.",
					Resolve: get(func(c *ComplaintView) any { return moneyList(c.Compensation) })},
				"outcome":             {Type: b.resolutionOutcome, Description: "The customer's verdict on resolution.", Resolve: get(func(c *ComplaintView) any { return opt(c.Outcome) })},
				"resolvedAt":          {Type: b.dateTime, Description: "When it was resolved.", Resolve: get(func(c *ComplaintView) any { return opt(c.ResolvedAt) })},
				"declineReason":       {Type: gql.String, Description: "Why it was declined as invalid.", Resolve: get(func(c *ComplaintView) any { return opt(c.DeclineReason) })},
				"repeatContacts":      {Type: gql.NewNonNull(gql.Int), Description: "Inbound contacts while open: the \"second call\" that should never be needed.", Resolve: get(func(c *ComplaintView) any { return c.RepeatContacts })},
				"incidentReportFiled": {Type: gql.NewNonNull(gql.Boolean), Description: "Whether the incident report (needed for MAJOR) was filed.", Resolve: get(func(c *ComplaintView) any { return c.IncidentReportFiled })},
				"version":             {Type: gql.NewNonNull(gql.Int), Description: "Revision of the customer stream holding the complaint; pass as expectedVersion.", Resolve: get(func(c *ComplaintView) any { return c.Version })},
			}
		}),
	})
	b.complaintConn = b.connection("Complaint", "complaint", b.complaint, true)
}

func (b *builder) complaintQueries() gql.Fields {
	filter := gql.NewInputObject(gql.InputObjectConfig{
		Name:        "ComplaintFilter",
		Description: "Which complaints to list; all given conditions must hold.",
		Fields: gql.InputObjectConfigFieldMap{
			"statuses":  {Type: gql.NewList(gql.NewNonNull(b.complaintStatus)), Description: "Complaints in any of these statuses."},
			"severity":  {Type: b.severity, Description: "Complaints of this severity."},
			"owner":     {Type: gql.String, Description: "Complaints owned by this user."},
			"overdue":   {Type: gql.Boolean, Description: "Overdue (true) or not overdue (false) right now."},
			"filedFrom": {Type: b.dateTime, Description: "Filed at or after this instant."},
			"filedTo":   {Type: b.dateTime, Description: "Filed before this instant."},
		},
	})
	return gql.Fields{
		"complaint": {
			Type:        b.complaint,
			Description: "One complaint by ID; null when unknown.",
			Args:        gql.FieldConfigArgument{"id": {Type: gql.NewNonNull(gql.ID), Description: "Complaint ID."}},
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				a := newArgs(p.Args, "")
				id := a.str("id")
				if a.err != nil {
					return nil, a.err
				}
				c, err := b.d.Complaints.Complaint(p.Context, id)
				if err != nil {
					if isNotFound(err) {
						return nil, nil
					}
					return nil, err
				}
				return &c, nil
			}),
		},
		"complaints": {
			Type:        gql.NewNonNull(b.complaintConn),
			Description: "Complaints matching filter, oldest filed first, with the exact totalCount.",
			Args: func() gql.FieldConfigArgument {
				a := pageArgs(50, "complaints")
				a["filter"] = &gql.ArgumentConfig{Type: filter, Description: "Conditions on the complaints to list."}
				return a
			}(),
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				pg, err := b.page(p.Args, 50)
				if err != nil {
					return nil, err
				}
				a := newArgs(p.Args, "")
				var q ComplaintQuery
				if f := a.obj("filter"); f != nil {
					q = ComplaintQuery{
						Statuses: f.strs("statuses"), Severity: f.optStr("severity"), Owner: f.optStr("owner"),
						Overdue: f.optBool("overdue"), FiledFrom: f.optTime("filedFrom"), FiledTo: f.optTime("filedTo"),
					}
					a.join(f)
				}
				if a.err != nil {
					return nil, a.err
				}
				conn, err := b.d.Complaints.Complaints(p.Context, q, pg)
				if err != nil {
					return nil, err
				}
				return toConn(conn), nil
			}),
		},
	}
}
