package graphql

import (
	"context"
	"fmt"
	"regexp"
	"time"

	gql "github.com/graphql-go/graphql"
)

// futureSkew is how far occurredAt may lie ahead of the server clock (client
// clocks drift); beyond it the input is refused as in the future.
const futureSkew = 5 * time.Second

var (
	idPattern      = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	sendAtPattern  = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	defaultStages  = []any{"NEW", "ACTIVE", "LOYAL", "GRUMBLING", "COMPLAINING", "SILENT", "DORMANT"}
	descOccurredAt = "Business time of the fact; default now. May be in the past (backfill), but never in the future nor before the customer was registered (a complaint step: before the complaint was filed)."
	descExpected   = "Fail with CONFLICT unless the stream is at this version (Customer.version)."
	descIdem       = "A retried call with the same key appends nothing new and returns the same result."
)

type inputFields = gql.InputObjectConfigFieldMap

func in(t gql.Input, desc string) *gql.InputObjectFieldConfig {
	return &gql.InputObjectFieldConfig{Type: t, Description: desc}
}

func inDefault(t gql.Input, def any, desc string) *gql.InputObjectFieldConfig {
	return &gql.InputObjectFieldConfig{Type: t, DefaultValue: def, Description: desc}
}

func nn(t gql.Input) gql.Input { return gql.NewNonNull(t) }

// withMeta adds occurredAt / expectedVersion / idempotencyKey.
func (b *builder) withMeta(f inputFields, occurred, expected bool) inputFields {
	if occurred {
		f["occurredAt"] = in(b.dateTime, descOccurredAt)
	}
	if expected {
		f["expectedVersion"] = in(gql.Int, descExpected)
	}
	f["idempotencyKey"] = in(gql.String, descIdem)
	return f
}

func (b *builder) inputObject(name, desc string, f inputFields) *gql.InputObject {
	return gql.NewInputObject(gql.InputObjectConfig{Name: name, Description: desc, Fields: f})
}

// meta reads the shared fields and applies the API-level rules.
func (b *builder) meta(a *args) Meta {
	m := Meta{OccurredAt: a.optTime("occurredAt"), ExpectedVersion: a.optInt("expectedVersion"), IdempotencyKey: a.str("idempotencyKey")}
	b.checkOccurred(a, m.OccurredAt)
	if m.ExpectedVersion != nil && *m.ExpectedVersion < 0 && a.err == nil {
		a.err = badInput(a.prefix+"expectedVersion", "expectedVersion must not be negative")
	}
	return m
}

func (b *builder) checkOccurred(a *args, t *time.Time) {
	if t != nil && t.After(b.now().Add(futureSkew)) && a.err == nil {
		a.err = badInput(a.prefix+"occurredAt", "occurredAt must not be in the future")
	}
}

func check(a *args, ok bool, field, msg string) {
	if !ok && a.err == nil {
		a.err = badInput(a.prefix+field, msg)
	}
}

// mutation describes one mutation: who may call it, its input and payload,
// and how to turn the input into a command.
type mutation struct {
	name, desc string
	perm       permission
	input      *gql.InputObject
	payload    *gql.Object
	run        func(ctx context.Context, by Actor, a *args) (any, error)
}

func (b *builder) mutations() gql.Fields {
	customerPayload := gql.NewObject(gql.ObjectConfig{
		Name:        "CustomerPayload",
		Description: "Result of a customer mutation: the customer after it, and the stream version reached.",
		Fields: gql.Fields{
			"customer": {Type: gql.NewNonNull(b.customer), Description: "The customer after the mutation.", Resolve: get(func(r *CustomerResult) any { return &r.Customer })},
			"version":  {Type: gql.NewNonNull(gql.Int), Description: "Stream revision after the mutation.", Resolve: get(func(r *CustomerResult) any { return r.Version })},
		},
	})
	complaintPayload := gql.NewObject(gql.ObjectConfig{
		Name:        "ComplaintPayload",
		Description: "Result of a complaint mutation.",
		Fields: gql.Fields{
			"complaint": {Type: gql.NewNonNull(b.complaint), Description: "The complaint after the mutation.", Resolve: get(func(r *ComplaintResult) any { return &r.Complaint })},
			"version":   {Type: gql.NewNonNull(gql.Int), Description: "Customer stream revision after the mutation.", Resolve: get(func(r *ComplaintResult) any { return r.Version })},
		},
	})
	followUpPayload := gql.NewObject(gql.ObjectConfig{
		Name:        "FollowUpPayload",
		Description: "Result of a follow-up mutation.",
		Fields: gql.Fields{
			"followUp": {Type: gql.NewNonNull(b.followUp), Description: "The follow-up after the mutation.", Resolve: get(func(r *FollowUpResult) any { return &r.FollowUp })},
			"version":  {Type: gql.NewNonNull(gql.Int), Description: "Customer stream revision after the mutation.", Resolve: get(func(r *FollowUpResult) any { return r.Version })},
		},
	})
	campaignPayload := gql.NewObject(gql.ObjectConfig{
		Name:        "CampaignPayload",
		Description: "Result of a campaign mutation.",
		Fields: gql.Fields{
			"campaign": {Type: gql.NewNonNull(b.campaign), Description: "The campaign after the mutation.", Resolve: get(func(r *CampaignResult) any { return &r.Campaign })},
		},
	})
	cmd := b.d.Commands
	cust := func(r CustomerResult, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return &r, nil
	}
	compl := func(r ComplaintResult, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return &r, nil
	}
	fu := func(r FollowUpResult, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return &r, nil
	}
	camp := func(r CampaignResult, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return &r, nil
	}
	complaintAction := b.inputObject("ComplaintActionInput", "Acknowledge or reopen a complaint.", b.withMeta(inputFields{
		"complaintId": in(nn(gql.ID), "The complaint."),
		"by":          in(nn(gql.String), "Who does it."),
		"note":        in(gql.String, "Optional note."),
	}, true, true))

	ms := []mutation{
		{
			name: "registerCustomer", desc: "Register a new customer (opens the stream customer-<id>).", perm: permWriteCustomer, payload: customerPayload,
			input: b.inputObject("RegisterCustomerInput", "A new customer's profile.", b.withMeta(inputFields{
				"id":               in(gql.ID, "Optional; generated when absent. [A-Za-z0-9_.-]{1,64}."),
				"name":             in(nn(gql.String), "Full name (personal data)."),
				"phone":            in(gql.String, "Phone number (personal data)."),
				"email":            in(gql.String, "E-mail address (personal data)."),
				"wechat":           in(gql.String, "WeChat ID (personal data)."),
				"tier":             inDefault(b.tier, "STANDARD", "Service tier."),
				"segment":          in(gql.String, "Free-form market segment."),
				"accountManager":   in(gql.String, "User name of the account manager."),
				"timezone":         inDefault(gql.String, "Asia/Shanghai", "IANA timezone."),
				"locale":           inDefault(gql.String, "zh-CN", "BCP 47 locale."),
				"birthday":         in(b.date, "Birthday (personal data)."),
				"marketingConsent": inDefault(gql.Boolean, false, "Whether the customer agrees to marketing messages."),
			}, true, false)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := RegisterCustomerInput{
					ID: a.str("id"), Name: a.str("name"), Phone: a.optStr("phone"), Email: a.optStr("email"), WeChat: a.optStr("wechat"),
					Tier: a.str("tier"), Segment: a.optStr("segment"), AccountManager: a.optStr("accountManager"),
					Timezone: a.str("timezone"), Locale: a.str("locale"), Birthday: a.optDate("birthday"),
					MarketingConsent: a.boolean("marketingConsent"), OccurredAt: a.optTime("occurredAt"), IdempotencyKey: a.str("idempotencyKey"),
				}
				b.checkOccurred(a, x.OccurredAt)
				check(a, x.ID == "" || idPattern.MatchString(x.ID), "id", "id must match [A-Za-z0-9_.-]{1,64}")
				if a.err != nil {
					return nil, a.err
				}
				return cust(cmd.RegisterCustomer(ctx, by, x))
			},
		},
		{
			name: "updateProfile", desc: "Change profile fields; absent fields stay as they are.", perm: permWriteCustomer, payload: customerPayload,
			input: b.inputObject("UpdateProfileInput", "Profile fields to change (absent = unchanged).", b.withMeta(inputFields{
				"customerId":     in(nn(gql.ID), "The customer."),
				"name":           in(gql.String, "New name."),
				"phone":          in(gql.String, "New phone."),
				"email":          in(gql.String, "New e-mail."),
				"wechat":         in(gql.String, "New WeChat ID."),
				"tier":           in(b.tier, "New tier."),
				"segment":        in(gql.String, "New segment."),
				"accountManager": in(gql.String, "New account manager."),
				"timezone":       in(gql.String, "New IANA timezone."),
				"locale":         in(gql.String, "New locale."),
				"birthday":       in(b.date, "New birthday."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := UpdateProfileInput{
					CustomerID: a.str("customerId"), Name: a.optStr("name"), Phone: a.optStr("phone"), Email: a.optStr("email"),
					WeChat: a.optStr("wechat"), Tier: a.optStr("tier"), Segment: a.optStr("segment"), AccountManager: a.optStr("accountManager"),
					Timezone: a.optStr("timezone"), Locale: a.optStr("locale"), Birthday: a.optDate("birthday"), Meta: b.meta(a),
				}
				if a.err != nil {
					return nil, a.err
				}
				return cust(cmd.UpdateProfile(ctx, by, x))
			},
		},
		{
			name: "setMarketingConsent", desc: "Record the customer's marketing consent decision.", perm: permWriteCustomer, payload: customerPayload,
			input: b.inputObject("SetMarketingConsentInput", "A consent decision.", b.withMeta(inputFields{
				"customerId": in(nn(gql.ID), "The customer."),
				"consent":    in(nn(gql.Boolean), "Whether the customer agrees to marketing messages."),
				"source":     in(gql.String, "Where the decision was given (form, call …)."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := SetMarketingConsentInput{CustomerID: a.str("customerId"), Consent: a.boolean("consent"), Source: a.optStr("source"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return cust(cmd.SetMarketingConsent(ctx, by, x))
			},
		},
		{
			name: "logContact", desc: "Log a contact with the customer, either way, on any channel.", perm: permWriteCustomer, payload: customerPayload,
			input: b.inputObject("LogContactInput", "A contact.", b.withMeta(inputFields{
				"customerId":  in(nn(gql.ID), "The customer."),
				"channel":     in(nn(b.channel), "Channel of the contact."),
				"direction":   in(nn(b.direction), "INBOUND (customer-initiated) or OUTBOUND."),
				"agent":       in(nn(gql.String), "Staff member who handled it."),
				"summary":     in(gql.String, "What was said (personal data)."),
				"complaintId": in(gql.ID, "The complaint this contact is about, if any."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := LogContactInput{CustomerID: a.str("customerId"), Channel: a.str("channel"), Direction: a.str("direction"), Agent: a.str("agent"),
					Summary: a.optStr("summary"), ComplaintID: a.optStr("complaintId"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return cust(cmd.LogContact(ctx, by, x))
			},
		},
		{
			name: "recordPurchase", desc: "Record an order.", perm: permWriteCustomer, payload: customerPayload,
			input: b.inputObject("RecordPurchaseInput", "An order.", b.withMeta(inputFields{
				"customerId": in(nn(gql.ID), "The customer."),
				"orderId":    in(nn(gql.String), "Order number."),
				"amount":     in(nn(b.moneyInput), "Order total (not negative)."),
				"items":      in(gql.NewList(nn(gql.String)), "Items bought."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := RecordPurchaseInput{CustomerID: a.str("customerId"), OrderID: a.str("orderId"), Items: a.strs("items"), Meta: b.meta(a)}
				if m := a.money("amount"); m != nil {
					x.Amount = *m
				}
				check(a, x.Amount.AmountMinor >= 0, "amount.amountMinor", "amount must not be negative")
				if a.err != nil {
					return nil, a.err
				}
				return cust(cmd.RecordPurchase(ctx, by, x))
			},
		},
		{
			name: "recordReferral", desc: "Record that the customer referred another customer.", perm: permWriteCustomer, payload: customerPayload,
			input: b.inputObject("RecordReferralInput", "A referral.", b.withMeta(inputFields{
				"customerId":         in(nn(gql.ID), "The referring customer."),
				"referredCustomerId": in(nn(gql.ID), "The customer they brought in."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := RecordReferralInput{CustomerID: a.str("customerId"), ReferredCustomerID: a.str("referredCustomerId"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return cust(cmd.RecordReferral(ctx, by, x))
			},
		},
		{
			name: "voiceGrumble", desc: "Record informal dissatisfaction (抱怨): the first step on the path to a complaint.", perm: permWriteCustomer, payload: customerPayload,
			input: b.inputObject("VoiceGrumbleInput", "A grumble.", b.withMeta(inputFields{
				"customerId": in(nn(gql.ID), "The customer."),
				"channel":    in(nn(b.channel), "Channel it came through."),
				"summary":    in(nn(gql.String), "What the customer said (personal data)."),
				"agent":      in(gql.String, "Staff member who heard it."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := VoiceGrumbleInput{CustomerID: a.str("customerId"), Channel: a.str("channel"), Summary: a.str("summary"), Agent: a.optStr("agent"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return cust(cmd.VoiceGrumble(ctx, by, x))
			},
		},
		{
			name: "fileComplaint", desc: "File a formal complaint (投诉); replyDueAt is set to filed + half a working day.", perm: permWriteComplaint, payload: complaintPayload,
			input: b.inputObject("FileComplaintInput", "A new complaint.", b.withMeta(inputFields{
				"customerId":  in(nn(gql.ID), "The complaining customer."),
				"complaintId": in(gql.ID, "Optional; generated when absent."),
				"channel":     in(nn(b.channel), "How it came in."),
				"category":    in(nn(gql.String), "Category (e.g. delivery, billing)."),
				"severity":    inDefault(b.severity, "GENERAL", "GENERAL or MAJOR."),
				"description": in(nn(gql.String), "What the customer said (personal data)."),
				"owner":       in(nn(gql.String), "The first-contact owner."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := FileComplaintInput{CustomerID: a.str("customerId"), ComplaintID: a.str("complaintId"), Channel: a.str("channel"), Category: a.str("category"),
					Severity: a.str("severity"), Description: a.str("description"), Owner: a.str("owner"), Meta: b.meta(a)}
				check(a, x.ComplaintID == "" || idPattern.MatchString(x.ComplaintID), "complaintId", "complaintId must match [A-Za-z0-9_.-]{1,64}")
				if a.err != nil {
					return nil, a.err
				}
				return compl(cmd.FileComplaint(ctx, by, x))
			},
		},
		{
			name: "acknowledgeComplaint", desc: "Acknowledge a complaint (meets the SLA when before replyDueAt).", perm: permWriteComplaint, payload: complaintPayload, input: complaintAction,
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := ComplaintActionInput{ComplaintID: a.str("complaintId"), By: a.str("by"), Note: a.optStr("note"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return compl(cmd.AcknowledgeComplaint(ctx, by, x))
			},
		},
		{
			name: "escalateComplaint", desc: "Escalate a complaint and promise the customer a reply time.", perm: permWriteComplaint, payload: complaintPayload,
			input: b.inputObject("EscalateComplaintInput", "An escalation.", b.withMeta(inputFields{
				"complaintId":     in(nn(gql.ID), "The complaint."),
				"by":              in(nn(gql.String), "Who escalates."),
				"to":              in(nn(gql.String), "Who it is escalated to."),
				"reason":          in(nn(gql.String), "Why."),
				"promisedReplyBy": in(nn(b.dateTime), "When the customer will hear back (future, within 30 days)."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := EscalateComplaintInput{ComplaintID: a.str("complaintId"), By: a.str("by"), To: a.str("to"), Reason: a.str("reason"),
					PromisedReplyBy: a.timeVal("promisedReplyBy"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return compl(cmd.EscalateComplaint(ctx, by, x))
			},
		},
		{
			name: "declineComplaint", desc: "Decline an invalid complaint, with the reason.", perm: permWriteComplaint, payload: complaintPayload,
			input: b.inputObject("DeclineComplaintInput", "A decline.", b.withMeta(inputFields{
				"complaintId": in(nn(gql.ID), "The complaint."),
				"by":          in(nn(gql.String), "Who declines."),
				"reason":      in(nn(gql.String), "Why it is not a valid complaint."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := DeclineComplaintInput{ComplaintID: a.str("complaintId"), By: a.str("by"), Reason: a.str("reason"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return compl(cmd.DeclineComplaint(ctx, by, x))
			},
		},
		{
			name: "transferComplaint", desc: "Hand a complaint to another owner explicitly (first-contact ownership never changes silently).", perm: permWriteComplaint, payload: complaintPayload,
			input: b.inputObject("TransferComplaintInput", "A transfer of ownership.", b.withMeta(inputFields{
				"complaintId": in(nn(gql.ID), "The complaint."),
				"by":          in(nn(gql.String), "Who transfers."),
				"to":          in(nn(gql.String), "The new owner."),
				"reason":      in(nn(gql.String), "Why."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := TransferComplaintInput{ComplaintID: a.str("complaintId"), By: a.str("by"), To: a.str("to"), Reason: a.str("reason"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return compl(cmd.TransferComplaint(ctx, by, x))
			},
		},
		{
			name: "proposeResolution", desc: "Offer the customer resolution options to choose from.", perm: permWriteComplaint, payload: complaintPayload,
			input: b.inputObject("ProposeResolutionInput", "Resolution options.", b.withMeta(inputFields{
				"complaintId": in(nn(gql.ID), "The complaint."),
				"by":          in(nn(gql.String), "Who proposes."),
				"options":     in(nn(gql.NewList(nn(gql.String))), "The options, at least one."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := ProposeResolutionInput{ComplaintID: a.str("complaintId"), By: a.str("by"), Options: a.strs("options"), Meta: b.meta(a)}
				check(a, len(x.Options) > 0, "options", "options must not be empty")
				if a.err != nil {
					return nil, a.err
				}
				return compl(cmd.ProposeResolution(ctx, by, x))
			},
		},
		{
			name: "acceptResolution", desc: "Record the option the customer accepted.", perm: permWriteComplaint, payload: complaintPayload,
			input: b.inputObject("AcceptResolutionInput", "The accepted option.", b.withMeta(inputFields{
				"complaintId": in(nn(gql.ID), "The complaint."),
				"optionIndex": in(nn(gql.Int), "0-based index into the proposed options."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := AcceptResolutionInput{ComplaintID: a.str("complaintId"), OptionIndex: a.integer("optionIndex"), Meta: b.meta(a)}
				check(a, x.OptionIndex >= 0, "optionIndex", "optionIndex must not be negative")
				if a.err != nil {
					return nil, a.err
				}
				return compl(cmd.AcceptResolution(ctx, by, x))
			},
		},
		{
			name: "takeRecoveryStep", desc: "Record a service-recovery step (apology, urgent restoration, empathy, symbolic atonement, follow-up).", perm: permWriteComplaint, payload: complaintPayload,
			input: b.inputObject("TakeRecoveryStepInput", "A recovery step.", b.withMeta(inputFields{
				"complaintId":  in(nn(gql.ID), "The complaint."),
				"step":         in(nn(b.recoveryStep), "Which step."),
				"by":           in(nn(gql.String), "Who took it."),
				"note":         in(gql.String, "Optional note."),
				"compensation": in(b.moneyInput, "Compensation given (SYMBOLIC_ATONEMENT), not negative."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := TakeRecoveryStepInput{ComplaintID: a.str("complaintId"), Step: a.str("step"), By: a.str("by"), Note: a.optStr("note"),
					Compensation: a.money("compensation"), Meta: b.meta(a)}
				check(a, x.Compensation == nil || x.Compensation.AmountMinor >= 0, "compensation.amountMinor", "compensation must not be negative")
				if a.err != nil {
					return nil, a.err
				}
				return compl(cmd.TakeRecoveryStep(ctx, by, x))
			},
		},
		{
			name: "resolveComplaint", desc: "Close a complaint with the customer's verdict; MAJOR complaints need an escalation and an incident report first.", perm: permWriteComplaint, payload: complaintPayload,
			input: b.inputObject("ResolveComplaintInput", "A resolution.", b.withMeta(inputFields{
				"complaintId": in(nn(gql.ID), "The complaint."),
				"by":          in(nn(gql.String), "Who resolves."),
				"outcome":     in(nn(b.resolutionOutcome), "SATISFIED or UNSATISFIED."),
				"note":        in(gql.String, "Optional note."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := ResolveComplaintInput{ComplaintID: a.str("complaintId"), By: a.str("by"), Outcome: a.str("outcome"), Note: a.optStr("note"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return compl(cmd.ResolveComplaint(ctx, by, x))
			},
		},
		{
			name: "reopenComplaint", desc: "Reopen a resolved complaint.", perm: permWriteComplaint, payload: complaintPayload, input: complaintAction,
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := ComplaintActionInput{ComplaintID: a.str("complaintId"), By: a.str("by"), Note: a.optStr("note"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return compl(cmd.ReopenComplaint(ctx, by, x))
			},
		},
		{
			name: "fileIncidentReport", desc: "File the problem-analysis report of a major complaint: impact, handling, cause, corrective actions.", perm: permWriteComplaint, payload: complaintPayload,
			input: b.inputObject("IncidentReportInput", "An incident report.", b.withMeta(inputFields{
				"complaintId":       in(nn(gql.ID), "The complaint."),
				"by":                in(nn(gql.String), "Who files it."),
				"impact":            in(nn(gql.String), "What the incident affected."),
				"handling":          in(nn(gql.String), "How it was handled."),
				"cause":             in(nn(gql.String), "Root cause."),
				"correctiveActions": in(nn(gql.String), "Corrective and preventive actions."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := IncidentReportInput{ComplaintID: a.str("complaintId"), By: a.str("by"), Impact: a.str("impact"), Handling: a.str("handling"),
					Cause: a.str("cause"), CorrectiveActions: a.str("correctiveActions"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return compl(cmd.FileIncidentReport(ctx, by, x))
			},
		},
		{
			name: "scheduleFollowUp", desc: "Schedule a follow-up by hand.", perm: permWriteFollowUp, payload: followUpPayload,
			input: b.inputObject("ScheduleFollowUpInput", "A follow-up.", b.withMeta(inputFields{
				"customerId":  in(nn(gql.ID), "The customer."),
				"complaintId": in(gql.ID, "The complaint it follows up, if any."),
				"reason":      in(nn(b.followUpReason), "Why."),
				"owner":       in(gql.String, "Who should do it; default the complaint owner, else the account manager."),
				"dueAt":       in(nn(b.dateTime), "When it is due."),
				"note":        in(gql.String, "Optional note."),
			}, false, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := ScheduleFollowUpInput{CustomerID: a.str("customerId"), ComplaintID: a.optStr("complaintId"), Reason: a.str("reason"), Owner: a.optStr("owner"),
					DueAt: a.timeVal("dueAt"), Note: a.optStr("note"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return fu(cmd.ScheduleFollowUp(ctx, by, x))
			},
		},
		{
			name: "completeFollowUp", desc: "Record a follow-up's outcome; UNSATISFIED schedules one more try.", perm: permWriteFollowUp, payload: followUpPayload,
			input: b.inputObject("CompleteFollowUpInput", "A follow-up outcome.", b.withMeta(inputFields{
				"followUpId": in(nn(gql.ID), "The follow-up."),
				"by":         in(nn(gql.String), "Who did it."),
				"outcome":    in(nn(b.followUpOutcome), "The result."),
				"note":       in(gql.String, "Optional note."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := CompleteFollowUpInput{FollowUpID: a.str("followUpId"), By: a.str("by"), Outcome: a.str("outcome"), Note: a.optStr("note"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return fu(cmd.CompleteFollowUp(ctx, by, x))
			},
		},
		{
			name: "recordSatisfaction", desc: "Record a satisfaction survey answer (score 1–5).", perm: permWriteCustomer, payload: customerPayload,
			input: b.inputObject("RecordSatisfactionInput", "A survey answer.", b.withMeta(inputFields{
				"customerId":  in(nn(gql.ID), "The customer."),
				"score":       in(nn(gql.Int), "Score from 1 (bad) to 5 (excellent)."),
				"comment":     in(gql.String, "The customer's comment (personal data)."),
				"complaintId": in(gql.ID, "The complaint the survey is about, if any."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := RecordSatisfactionInput{CustomerID: a.str("customerId"), Score: a.integer("score"), Comment: a.optStr("comment"), ComplaintID: a.optStr("complaintId"), Meta: b.meta(a)}
				check(a, x.Score >= 1 && x.Score <= 5, "score", "score must be between 1 and 5")
				if a.err != nil {
					return nil, a.err
				}
				return cust(cmd.RecordSatisfaction(ctx, by, x))
			},
		},
		{
			name: "markLost", desc: "Mark a customer as lost explicitly.", perm: permWriteCustomer, payload: customerPayload,
			input: b.inputObject("MarkLostInput", "A lost mark.", b.withMeta(inputFields{
				"customerId": in(nn(gql.ID), "The customer."),
				"reason":     in(nn(gql.String), "Why the customer is considered lost."),
				"by":         in(nn(gql.String), "Who decided."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := MarkLostInput{CustomerID: a.str("customerId"), Reason: a.str("reason"), By: a.str("by"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return cust(cmd.MarkLost(ctx, by, x))
			},
		},
		{
			name: "flagConduct", desc: "Flag abusive conduct (such customers may be excluded from campaigns).", perm: permWriteCustomer, payload: customerPayload,
			input: b.inputObject("FlagConductInput", "A conduct flag.", b.withMeta(inputFields{
				"customerId": in(nn(gql.ID), "The customer."),
				"by":         in(nn(gql.String), "Who flags."),
				"note":       in(nn(gql.String), "What happened (personal data)."),
				"severity":   inDefault(b.severity, "GENERAL", "How serious."),
			}, true, true)),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := FlagConductInput{CustomerID: a.str("customerId"), By: a.str("by"), Note: a.str("note"), Severity: a.str("severity"), Meta: b.meta(a)}
				if a.err != nil {
					return nil, a.err
				}
				return cust(cmd.FlagConduct(ctx, by, x))
			},
		},
		{
			name: "scheduleGreetingCampaign", desc: "Schedule a greeting campaign; each customer is greeted once, at sendAtLocal in their own timezone.", perm: permWriteCampaign, payload: campaignPayload,
			input: b.scheduleCampaignInput(),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x, err := b.readScheduleCampaign(map[string]any{"input": a.m})
				if err != nil {
					return nil, err
				}
				return camp(cmd.ScheduleGreetingCampaign(ctx, by, x))
			},
		},
		{
			name: "cancelGreetingCampaign", desc: "Cancel a campaign; the remaining sends stop.", perm: permWriteCampaign, payload: campaignPayload,
			input: b.inputObject("CancelCampaignInput", "A cancellation.", inputFields{
				"campaignId": in(nn(gql.ID), "The campaign."),
				"reason":     in(nn(gql.String), "Why."),
			}),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := CancelCampaignInput{CampaignID: a.str("campaignId"), Reason: a.str("reason")}
				if a.err != nil {
					return nil, a.err
				}
				return camp(cmd.CancelGreetingCampaign(ctx, by, x))
			},
		},
		{
			name: "eraseCustomer", desc: "Erase a customer's personal data (crypto-shredding: the history stays, the PII becomes unreadable). ADMIN only.", perm: permErase, payload: customerPayload,
			input: b.inputObject("EraseCustomerInput", "An erasure request.", inputFields{
				"customerId": in(nn(gql.ID), "The customer."),
				"by":         in(nn(gql.String), "Who erases."),
				"reason":     in(nn(gql.String), "Why (e.g. the customer's request)."),
			}),
			run: func(ctx context.Context, by Actor, a *args) (any, error) {
				x := EraseCustomerInput{CustomerID: a.str("customerId"), By: a.str("by"), Reason: a.str("reason")}
				if a.err != nil {
					return nil, a.err
				}
				return cust(cmd.EraseCustomer(ctx, by, x))
			},
		},
	}
	fields := gql.Fields{}
	for _, m := range ms {
		m := m
		fields[m.name] = &gql.Field{
			Type:        gql.NewNonNull(m.payload),
			Description: m.desc + " Allowed for: " + rolesWith(m.perm) + ".",
			Args: gql.FieldConfigArgument{
				"input": {Type: gql.NewNonNull(m.input), Description: "The command's arguments."},
			},
			Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
				actor, err := require(p.Context, m.perm)
				if err != nil {
					return nil, err
				}
				a := newArgs(p.Args, "")
				inp := a.obj("input")
				if inp == nil {
					return nil, badInput("input", "input is required")
				}
				inp.prefix = "input."
				return m.run(p.Context, actor, inp)
			}),
		}
	}
	return fields
}

func rolesWith(p permission) string {
	s := ""
	for _, r := range []Role{RoleAdmin, RoleAccountManager, RoleMarketing, RoleAnalyst} {
		if r.allowed(p) {
			if s != "" {
				s += ", "
			}
			s += string(r)
		}
	}
	return s
}

func (b *builder) scheduleCampaignInput() *gql.InputObject {
	if b.scheduleCampaign != nil {
		return b.scheduleCampaign
	}
	audience := b.inputObject("AudienceInput", "Who a campaign is for; marketing consent is always required.", inputFields{
		"stages":                inDefault(gql.NewList(nn(b.stage)), defaultStages, "Stages to include (default: all but LOST)."),
		"tiers":                 in(gql.NewList(nn(b.tier)), "Tiers to include (default: all)."),
		"accountManager":        in(gql.String, "Only customers of this account manager."),
		"excludeConductFlagged": inDefault(gql.Boolean, true, "Skip customers flagged for abusive conduct."),
	})
	template := b.inputObject("TemplateInput", "A message template.", inputFields{
		"stages":  in(gql.NewList(nn(b.stage)), "Stages this template is for; the first matching template wins; an empty list matches all."),
		"channel": in(nn(b.channel), "Channel to send through."),
		"body":    in(nn(gql.String), "Text with {{name}} and {{occasion}} placeholders."),
	})
	b.scheduleCampaign = b.inputObject("ScheduleGreetingCampaignInput", "A greeting campaign.", inputFields{
		"name":           in(nn(gql.String), "Name of the campaign."),
		"occasion":       in(nn(gql.String), "Holiday key from holidays(), BIRTHDAY, ANNIVERSARY, or a custom label with date."),
		"date":           in(b.date, "Required for holidays and custom occasions; the year's occurrence is looked up when omitted for a holiday key."),
		"sendAtLocal":    inDefault(gql.String, "09:00", "HH:MM in each customer's own timezone."),
		"audience":       in(audience, "Who to greet (default: consenting customers in every stage but LOST, not conduct-flagged)."),
		"templates":      in(nn(gql.NewList(nn(template))), "Message templates, at least one."),
		"idempotencyKey": in(gql.String, descIdem),
	})
	return b.scheduleCampaign
}

// readScheduleCampaign reads args["input"] as a ScheduleGreetingCampaignInput.
func (b *builder) readScheduleCampaign(m map[string]any) (ScheduleGreetingCampaignInput, error) {
	top := newArgs(m, "")
	a := top.obj("input")
	if a == nil {
		return ScheduleGreetingCampaignInput{}, badInput("input", "input is required")
	}
	x := ScheduleGreetingCampaignInput{Name: a.str("name"), Occasion: a.str("occasion"), Date: a.optDate("date"),
		SendAtLocal: a.str("sendAtLocal"), IdempotencyKey: a.str("idempotencyKey")}
	if x.SendAtLocal == "" {
		x.SendAtLocal = "09:00"
	}
	x.Audience = AudienceInput{Stages: anyStrings(defaultStages), ExcludeConductFlagged: true}
	if au := a.obj("audience"); au != nil {
		if au.has("stages") {
			x.Audience.Stages = au.strs("stages")
		}
		x.Audience.Tiers = au.strs("tiers")
		x.Audience.AccountManager = au.optStr("accountManager")
		if au.has("excludeConductFlagged") {
			x.Audience.ExcludeConductFlagged = au.boolean("excludeConductFlagged")
		}
		a.join(au)
	}
	for _, t := range a.objs("templates") {
		x.Templates = append(x.Templates, TemplateInput{Stages: t.strs("stages"), Channel: t.str("channel"), Body: t.str("body")})
		a.join(t)
	}
	check(a, len(x.Templates) > 0, "templates", "templates must not be empty")
	check(a, sendAtPattern.MatchString(x.SendAtLocal), "sendAtLocal", fmt.Sprintf("sendAtLocal %q is not HH:MM", x.SendAtLocal))
	check(a, x.Occasion != "", "occasion", "occasion must not be empty")
	top.join(a)
	if top.err != nil {
		return ScheduleGreetingCampaignInput{}, top.err
	}
	return x, nil
}

func anyStrings(xs []any) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i], _ = x.(string)
	}
	return out
}
