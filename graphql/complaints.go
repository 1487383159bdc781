package graphql

import (
	"context"
	"time"

	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/app/query"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

// customerOf resolves a Customer! reference by ID.
func (b *builder) customerOf(ctx context.Context, id string) (any, error) {
	c, err := b.q.Customers.Get(ctx, id, nil)
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
			"step": {Type: gql.NewNonNull(b.recoveryStep), Description: "Which of the five steps.", Resolve: get(func(s *query.RecoveryStep) any { return s.Step })},
			"at":   {Type: gql.NewNonNull(b.dateTime), Description: "When it was taken.", Resolve: get(func(s *query.RecoveryStep) any { return s.At })},
			"by":   {Type: gql.NewNonNull(gql.String), Description: "Who took it.", Resolve: get(func(s *query.RecoveryStep) any { return s.By })},
			"note": {Type: gql.String, Description: "Free-text note (personal data: null without PII access).",
				Resolve: getCtx(func(ctx context.Context, s *query.RecoveryStep) any { return pii(ctx, s.Note) })},
		},
	})
	b.complaint = gql.NewObject(gql.ObjectConfig{
		Name:        "Complaint",
		Description: "A formal complaint (投诉) and its handling: SLA, escalation, resolution, service recovery.",
		Fields: gql.FieldsThunk(func() gql.Fields {
			return gql.Fields{
				"id": {Type: gql.NewNonNull(gql.ID), Description: "Complaint ID.", Resolve: get(func(c *query.Complaint) any { return c.ID })},
				"customer": {Type: gql.NewNonNull(b.customer), Description: "The complaining customer.",
					Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
						c, ok := p.Source.(*query.Complaint)
						if !ok {
							return nil, nil
						}
						return b.customerOf(p.Context, c.CustomerID)
					})},
				"status":   {Type: gql.NewNonNull(b.complaintStatus), Description: "Where the complaint stands.", Resolve: get(func(c *query.Complaint) any { return c.Status })},
				"severity": {Type: gql.NewNonNull(b.severity), Description: "GENERAL or MAJOR.", Resolve: get(func(c *query.Complaint) any { return c.Severity })},
				"category": {Type: gql.NewNonNull(gql.String), Description: "Free-form category (e.g. delivery, billing).", Resolve: get(func(c *query.Complaint) any { return c.Category })},
				"channel":  {Type: gql.NewNonNull(b.channel), Description: "How the complaint came in.", Resolve: get(func(c *query.Complaint) any { return c.Channel })},
				"description": {Type: gql.String, Description: "What the customer said (personal data: null without PII access or after erasure).",
					Resolve: getCtx(func(ctx context.Context, c *query.Complaint) any { return pii(ctx, c.Description) })},
				"owner":          {Type: gql.NewNonNull(gql.String), Description: "First-contact owner (首问负责制); changes only by explicit transfer.", Resolve: get(func(c *query.Complaint) any { return c.Owner })},
				"filedAt":        {Type: gql.NewNonNull(b.dateTime), Description: "When it was filed.", Resolve: get(func(c *query.Complaint) any { return c.FiledAt })},
				"replyDueAt":     {Type: gql.NewNonNull(b.dateTime), Description: "Filed + half a working day on the working calendar.", Resolve: get(func(c *query.Complaint) any { return c.ReplyDueAt })},
				"acknowledgedAt": {Type: b.dateTime, Description: "When it was acknowledged.", Resolve: get(func(c *query.Complaint) any { return opt(c.AcknowledgedAt) })},
				"overdue": {Type: gql.NewNonNull(gql.Boolean), Description: "True when not acknowledged by replyDueAt, or a promised reply time passed.",
					Resolve: get(func(c *query.Complaint) any { return c.Overdue })},
				"replyDueProvisional": {Type: gql.NewNonNull(gql.Boolean), Description: "True when replyDueAt was computed in a year without official holiday data (no State Council arrangement built in or configured): only Mon–Fri were counted, so the deadline may be off around that year's holidays and adjusted working days.",
					Resolve: get(func(c *query.Complaint) any { return c.ReplyDueProvisional })},
				"escalatedTo":       {Type: gql.String, Description: "Who it was escalated to.", Resolve: get(func(c *query.Complaint) any { return opt(c.EscalatedTo) })},
				"promisedReplyBy":   {Type: b.dateTime, Description: "Reply time promised on escalation.", Resolve: get(func(c *query.Complaint) any { return opt(c.PromisedReplyBy) })},
				"resolutionOptions": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(gql.String))), Description: "Options offered to the customer.", Resolve: get(func(c *query.Complaint) any { return strList(c.ResolutionOptions) })},
				"acceptedOption":    {Type: gql.String, Description: "The option the customer accepted.", Resolve: get(func(c *query.Complaint) any { return opt(c.AcceptedOption) })},
				"recoverySteps": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(step))), Description: "Service-recovery steps taken, oldest first.",
					Resolve: get(func(c *query.Complaint) any { return ptrs(c.RecoverySteps) })},
				"compensation": {Type: gql.NewNonNull(gql.NewList(gql.NewNonNull(b.money))), Description: "Compensation given, totalled per currency.",
					Resolve: get(func(c *query.Complaint) any { return moneyList(c.Compensation) })},
				"outcome":             {Type: b.resolutionOutcome, Description: "The customer's verdict on resolution.", Resolve: get(func(c *query.Complaint) any { return opt(c.Outcome) })},
				"resolvedAt":          {Type: b.dateTime, Description: "When it was resolved.", Resolve: get(func(c *query.Complaint) any { return opt(c.ResolvedAt) })},
				"declineReason":       {Type: gql.String, Description: "Why it was declined as invalid.", Resolve: get(func(c *query.Complaint) any { return opt(c.DeclineReason) })},
				"repeatContacts":      {Type: gql.NewNonNull(gql.Int), Description: "Inbound contacts while open: the \"second call\" that should never be needed.", Resolve: get(func(c *query.Complaint) any { return c.RepeatContacts })},
				"incidentReportFiled": {Type: gql.NewNonNull(gql.Boolean), Description: "Whether the incident report (needed for MAJOR) was filed.", Resolve: get(func(c *query.Complaint) any { return c.IncidentReportFiled })},
				"version":             {Type: gql.NewNonNull(gql.Int), Description: "Revision of the customer stream holding the complaint; pass as expectedVersion.", Resolve: get(func(c *query.Complaint) any { return c.Version })},
			}
		}),
	})
	b.complaintConn = b.connection("Complaint", "complaint", b.complaint, true)
}

func (b *builder) complaintQueries() gql.Fields {
	type filter = query.ComplaintFilter
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
				c, err := b.q.Complaints.Get(p.Context, id)
				if err != nil {
					if isNotFound(err) {
						return nil, nil
					}
					return nil, err
				}
				return &c, nil
			}),
		},
		"complaints": listField(b, listing[filter, query.Complaint]{
			desc: "Complaints matching filter, oldest filed first, with the exact totalCount.",
			conn: b.complaintConn, what: "complaints", defaultFirst: 50,
			filterInput: "ComplaintFilter", filterDesc: "Which complaints to list; all given conditions must hold.", filterHelp: "Conditions on the complaints to list.",
			filter: []field[filter]{
				inValue("statuses", gql.NewList(nn(b.complaintStatus)), "Complaints in any of these statuses.", (*args).strs, func(f *filter, v []string) { f.Statuses = v }),
				inValue("severity", b.severity, "Complaints of this severity.", (*args).optStr, func(f *filter, v *string) { f.Severity = v }),
				inValue("owner", gql.String, "Complaints owned by this user.", (*args).optStr, func(f *filter, v *string) { f.Owner = v }),
				inValue("overdue", gql.Boolean, "Overdue (true) or not overdue (false) right now.", (*args).optBool, func(f *filter, v *bool) { f.Overdue = v }),
				inValue("filedFrom", b.dateTime, "Filed at or after this instant.", (*args).optTime, func(f *filter, v *time.Time) { f.FiledFrom = v }),
				inValue("filedTo", b.dateTime, "Filed before this instant.", (*args).optTime, func(f *filter, v *time.Time) { f.FiledTo = v }),
			},
			list: b.q.Complaints.List,
		}),
	}
}

// ---- mutations ----

func (b *builder) complaintMutations() []mutation {
	cmds := b.c
	return []mutation{
		b.fileComplaint(),
		complaintStep(b, customer.StepAcknowledge, "acknowledgeComplaint", "Acknowledge a complaint (meets the SLA when before replyDueAt).", "ComplaintActionInput", "Acknowledge or reopen a complaint.", cmds.AcknowledgeComplaint,
			[]field[customer.AcknowledgeComplaint]{
				inID("complaintId", "The complaint.", func(c *customer.AcknowledgeComplaint, v string) { c.ComplaintID = v }),
				inStr("by", "Who does it.", func(c *customer.AcknowledgeComplaint, v string) { c.By = v }),
				inOptStr("note", "Optional note.", func(c *customer.AcknowledgeComplaint, v string) { c.Note = v }),
			}),
		complaintStep(b, customer.StepEscalate, "escalateComplaint", "Escalate a complaint and promise the customer a reply time.", "EscalateComplaintInput", "An escalation.", cmds.EscalateComplaint,
			[]field[customer.EscalateComplaint]{
				inID("complaintId", "The complaint.", func(c *customer.EscalateComplaint, v string) { c.ComplaintID = v }),
				inStr("by", "Who escalates.", func(c *customer.EscalateComplaint, v string) { c.By = v }),
				inStr("to", "Who it is escalated to.", func(c *customer.EscalateComplaint, v string) { c.To = v }),
				inStr("reason", "Why.", func(c *customer.EscalateComplaint, v string) { c.Reason = v }),
				inDateTime(b, "promisedReplyBy", "When the customer will hear back (future, within 30 days).", func(c *customer.EscalateComplaint, v time.Time) { c.PromisedReplyBy = v }),
			}),
		complaintStep(b, customer.StepDecline, "declineComplaint", "Decline an invalid complaint, with the reason.", "DeclineComplaintInput", "A decline.", cmds.DeclineComplaint,
			[]field[customer.DeclineComplaint]{
				inID("complaintId", "The complaint.", func(c *customer.DeclineComplaint, v string) { c.ComplaintID = v }),
				inStr("by", "Who declines.", func(c *customer.DeclineComplaint, v string) { c.By = v }),
				inStr("reason", "Why it is not a valid complaint.", func(c *customer.DeclineComplaint, v string) { c.Reason = v }),
			}),
		complaintStep(b, customer.StepTransfer, "transferComplaint", "Hand a complaint to another owner explicitly (first-contact ownership never changes silently).", "TransferComplaintInput", "A transfer of ownership.", cmds.TransferComplaint,
			[]field[customer.TransferComplaint]{
				inID("complaintId", "The complaint.", func(c *customer.TransferComplaint, v string) { c.ComplaintID = v }),
				inStr("by", "Who transfers.", func(c *customer.TransferComplaint, v string) { c.By = v }),
				inStr("to", "The new owner.", func(c *customer.TransferComplaint, v string) { c.To = v }),
				inStr("reason", "Why.", func(c *customer.TransferComplaint, v string) { c.Reason = v }),
			}),
		complaintStep(b, customer.StepPropose, "proposeResolution", "Offer the customer resolution options to choose from.", "ProposeResolutionInput", "Resolution options.", cmds.ProposeResolution,
			[]field[customer.ProposeResolution]{
				inID("complaintId", "The complaint.", func(c *customer.ProposeResolution, v string) { c.ComplaintID = v }),
				inStr("by", "Who proposes.", func(c *customer.ProposeResolution, v string) { c.By = v }),
				inRequired("options", gql.NewList(nn(gql.String)), "The options, at least one.", func(a *args, n string, c *customer.ProposeResolution) {
					c.Options = a.strs(n)
					check(a, len(c.Options) > 0, n, "options must not be empty")
				}),
			}),
		complaintStep(b, customer.StepAccept, "acceptResolution", "Record the option the customer accepted.", "AcceptResolutionInput", "The accepted option.", cmds.AcceptResolution,
			[]field[customer.AcceptResolution]{
				inID("complaintId", "The complaint.", func(c *customer.AcceptResolution, v string) { c.ComplaintID = v }),
				inInt("optionIndex", "0-based index into the proposed options.", func(c *customer.AcceptResolution, v int) { c.OptionIndex = v }),
			}),
		complaintStep(b, customer.StepRecovery, "takeRecoveryStep", "Record a service-recovery step (apology, urgent restoration, empathy, symbolic atonement, follow-up).", "TakeRecoveryStepInput", "A recovery step.", cmds.TakeRecoveryStep,
			[]field[customer.TakeRecoveryStep]{
				inID("complaintId", "The complaint.", func(c *customer.TakeRecoveryStep, v string) { c.ComplaintID = v }),
				inEnum("step", b.recoveryStep, "", "Which step.", customer.ParseRecoveryStep, func(c *customer.TakeRecoveryStep, v customer.RecoveryStep) { c.Step = v }),
				inStr("by", "Who took it.", func(c *customer.TakeRecoveryStep, v string) { c.By = v }),
				inOptStr("note", "Optional note.", func(c *customer.TakeRecoveryStep, v string) { c.Note = v }),
				inMoney(b, "compensation", false, "Compensation given (SYMBOLIC_ATONEMENT), not negative.", func(c *customer.TakeRecoveryStep, m *customer.Money) { c.Compensation = m }),
			}),
		complaintStep(b, customer.StepResolve, "resolveComplaint", "Close a complaint with the customer's verdict; MAJOR complaints need an escalation and an incident report first.", "ResolveComplaintInput", "A resolution.", cmds.ResolveComplaint,
			[]field[customer.ResolveComplaint]{
				inID("complaintId", "The complaint.", func(c *customer.ResolveComplaint, v string) { c.ComplaintID = v }),
				inStr("by", "Who resolves.", func(c *customer.ResolveComplaint, v string) { c.By = v }),
				inEnum("outcome", b.resolutionOutcome, "", "SATISFIED or UNSATISFIED.", customer.ParseOutcome, func(c *customer.ResolveComplaint, v customer.Outcome) { c.Outcome = v }),
				inOptStr("note", "Optional note.", func(c *customer.ResolveComplaint, v string) { c.Note = v }),
			}),
		complaintStep(b, customer.StepReopen, "reopenComplaint", "Reopen a resolved complaint.", "ComplaintActionInput", "", cmds.ReopenComplaint,
			[]field[customer.ReopenComplaint]{
				inID("complaintId", "The complaint.", func(c *customer.ReopenComplaint, v string) { c.ComplaintID = v }),
				inStr("by", "Who does it.", func(c *customer.ReopenComplaint, v string) { c.By = v }),
				inOptStr("note", "Optional note.", func(c *customer.ReopenComplaint, v string) { c.Note = v }),
			}),
		complaintStep(b, customer.StepIncident, "fileIncidentReport", "File the problem-analysis report of a major complaint: impact, handling, cause, corrective actions.", "IncidentReportInput", "An incident report.", cmds.FileIncidentReport,
			[]field[customer.FileIncidentReport]{
				inID("complaintId", "The complaint.", func(c *customer.FileIncidentReport, v string) { c.ComplaintID = v }),
				inStr("by", "Who files it.", func(c *customer.FileIncidentReport, v string) { c.By = v }),
				inStr("impact", "What the incident affected.", func(c *customer.FileIncidentReport, v string) { c.Impact = v }),
				inStr("handling", "How it was handled.", func(c *customer.FileIncidentReport, v string) { c.Handling = v }),
				inStr("cause", "Root cause.", func(c *customer.FileIncidentReport, v string) { c.Cause = v }),
				inStr("correctiveActions", "Corrective and preventive actions.", func(c *customer.FileIncidentReport, v string) { c.CorrectiveActions = v }),
			}),
	}
}

func (b *builder) fileComplaint() mutation {
	fields := append([]field[customer.FileComplaint]{
		customerID[customer.FileComplaint]("The complaining customer."),
		inOptID("complaintId", "Optional; generated when absent.", func(c *customer.FileComplaint, v string) { c.ComplaintID = v }),
		inEnum("channel", b.channel, "", "How it came in.", customer.ParseChannel, func(c *customer.FileComplaint, v customer.Channel) { c.Channel = v }),
		inStr("category", "Category (e.g. delivery, billing).", func(c *customer.FileComplaint, v string) { c.Category = v }),
		inEnum("severity", b.severity, customer.SeverityGeneral.String(), "GENERAL or MAJOR.", customer.ParseSeverity, func(c *customer.FileComplaint, v customer.Severity) { c.Severity = v }),
		inStr("description", "What the customer said (personal data).", func(c *customer.FileComplaint, v string) { c.Description = v }),
		inStr("owner", "The first-contact owner.", func(c *customer.FileComplaint, v string) { c.Owner = v }),
	}, meta[customer.FileComplaint](b, allShared)...)
	return mutation{name: "fileComplaint", desc: "File a formal complaint (投诉); replyDueAt is set to filed + half a working day.", perm: permWriteComplaint,
		payload: b.complaintPayload, input: inputObject("FileComplaintInput", "A new complaint.", fields),
		run: func(ctx context.Context, by Actor, a *args) (any, error) {
			r := read(a, fields)
			check(a, r.Cmd.ComplaintID == "" || aggregate.ValidID(r.Cmd.ComplaintID), "complaintId", "complaintId must match "+aggregate.IDSyntax)
			if a.err != nil {
				return nil, a.err
			}
			res, err := b.c.FileComplaint.Handle(commandContext(ctx, by, r.Key), r.Customer, r.Expected, r.Cmd)
			if err != nil {
				return nil, err
			}
			return b.complaintAfter(ctx, res)
		}}
}

// complaintStep is the mutation that takes step on one complaint, found by
// its complaintId; the payload is the complaint after it.
func complaintStep[C any](b *builder, step customer.ComplaintStep, name, desc, inputName, inputDesc string, h command.OwnedVerb[C], fields []field[C]) mutation {
	fields = append(fields, meta[C](b, allShared)...)
	input := b.sharedInput(inputName, func() *gql.InputObject { return inputObject(inputName, inputDesc, fields) })
	return mutation{name: name, step: string(step), desc: desc, perm: permWriteComplaint, payload: b.complaintPayload, input: input,
		run: func(ctx context.Context, by Actor, a *args) (any, error) {
			r := read(a, fields)
			if a.err != nil {
				return nil, a.err
			}
			res, err := h.Handle(commandContext(ctx, by, r.Key), r.Expected, r.Cmd)
			if err != nil {
				return nil, err
			}
			return b.complaintAfter(ctx, res)
		}}
}

// complaintAfter is the payload of a complaint command once the read
// models show it.
func (b *builder) complaintAfter(ctx context.Context, res command.Result) (any, error) {
	if err := b.app.Await(ctx, res); err != nil {
		return nil, err
	}
	k, err := b.q.Complaints.Get(ctx, res.Entity)
	if err != nil {
		return nil, err
	}
	k.Version = int(res.Revision)
	return &complaintResult{Complaint: k, Version: int(res.Revision)}, nil
}
