package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/graphql"
)

// commands runs the API's mutations through the application service, then
// waits until the read models have applied the write, so the payload the
// caller gets back reflects it (read your writes).
type commands struct{ s *Server }

// run executes one customer command with the actor and idempotency key in
// ctx, records its latency, and waits for the read models.
func (c commands) run(ctx context.Context, by graphql.Actor, m graphql.Meta, customerID string, fn func(ctx context.Context, expected *uint64) (command.Result, error)) (command.Result, error) {
	ctx = command.WithActor(ctx, command.Actor{User: by.User, Role: string(by.Role)})
	if m.IdempotencyKey != "" {
		ctx = command.WithIdempotencyKey(ctx, m.IdempotencyKey)
	}
	var expected *uint64
	if m.ExpectedVersion != nil {
		if *m.ExpectedVersion < 0 {
			return command.Result{}, apiErr(&customer.InvalidInputError{Field: "expectedVersion", Reason: "is negative"})
		}
		v := uint64(*m.ExpectedVersion)
		expected = &v
	}
	start := time.Now()
	res, err := fn(ctx, expected)
	if err != nil {
		return command.Result{}, apiErr(err)
	}
	c.s.metrics.ObserveAppend(time.Since(start))
	if err := c.s.runtime.WaitFor(ctx, res.Position); err != nil {
		if ctx.Err() != nil {
			// The write is durable; only the read models were late. Say
			// so, or a client retrying a command without an idempotency
			// key would record it twice.
			c.s.log.WarnContext(ctx, "command recorded but the request ended before the read models caught up",
				"customer", customerID, "version", res.Revision, "position", uint64(res.Position))
			return command.Result{}, &graphql.Error{Code: graphql.CodeInternal, Message: fmt.Sprintf(
				"the change was recorded (customer %s is at version %d) but the request ended before the read models showed it; "+
					"query the customer instead of retrying, or retry with the same idempotencyKey", customerID, res.Revision)}
		}
		return command.Result{}, err
	}
	return res, nil
}

func at(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// scopedKey scopes a client's idempotency key to the caller and to the
// customer it was sent for: callers pick keys independently and may reuse
// them across customers, but IDs derived from them (customers, complaints,
// follow-ups) are global. customerID is "" for a new customer.
func scopedKey(by graphql.Actor, customerID, key string) string {
	if key == "" {
		return ""
	}
	return by.User + "\x00" + customerID + "\x00" + key
}

// newID makes an entity ID: derived from the idempotency key when there is
// one (so a retried create names the same entity), random otherwise.
func newID(prefix, idempotencyKey string) string {
	if idempotencyKey != "" {
		u := codec.DeterministicID("id/"+prefix, idempotencyKey)
		return prefix + "-" + hex.EncodeToString(u[:6])
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func (c commands) customerResult(ctx context.Context, id string, res command.Result) (graphql.CustomerResult, error) {
	v, err := reads(c).Customer(ctx, id, nil)
	if err != nil {
		return graphql.CustomerResult{}, err
	}
	return graphql.CustomerResult{Customer: v, Version: int(res.Revision)}, nil
}

// customerCommand runs a verb of the Customer aggregate and returns the
// customer.
func customerCommand[C any](ctx context.Context, c commands, by graphql.Actor, m graphql.Meta, id string, cmd C, verb func(*customer.Customer, C, time.Time) error) (graphql.CustomerResult, error) {
	res, err := c.run(ctx, by, m, id, func(ctx context.Context, exp *uint64) (command.Result, error) {
		return command.NewCustomerVerb(c.s.cmds.Customers, verb).Handle(ctx, id, exp, cmd)
	})
	if err != nil {
		return graphql.CustomerResult{}, err
	}
	return c.customerResult(ctx, id, res)
}

// complaintCommand finds the complaint's customer, runs a verb and returns
// the complaint.
func complaintCommand[C any](ctx context.Context, c commands, by graphql.Actor, m graphql.Meta, complaintID string, cmd C, verb func(*customer.Customer, C, time.Time) error) (graphql.ComplaintResult, error) {
	id, ok := c.s.Complaints.CustomerOf(complaintID)
	if !ok {
		return graphql.ComplaintResult{}, notFound("complaint", complaintID)
	}
	res, err := c.run(ctx, by, m, id, func(ctx context.Context, exp *uint64) (command.Result, error) {
		return command.NewCustomerVerb(c.s.cmds.Customers, verb).Handle(ctx, id, exp, cmd)
	})
	if err != nil {
		return graphql.ComplaintResult{}, err
	}
	return c.complaintResult(complaintID, res)
}

func (c commands) complaintResult(complaintID string, res command.Result) (graphql.ComplaintResult, error) {
	k, ok := c.s.Complaints.Get(complaintID)
	if !ok {
		return graphql.ComplaintResult{}, notFound("complaint", complaintID)
	}
	return graphql.ComplaintResult{Complaint: complaintView(k, res.Revision, c.s.clock()), Version: int(res.Revision)}, nil
}

func (c commands) RegisterCustomer(ctx context.Context, by graphql.Actor, in graphql.RegisterCustomerInput) (graphql.CustomerResult, error) {
	tier, err := parseOr(in.Tier, customer.TierStandard, customer.ParseTier)
	if err != nil {
		return graphql.CustomerResult{}, apiErr(err)
	}
	id := in.ID
	if id == "" {
		id = newID("c", scopedKey(by, "", in.IdempotencyKey))
	}
	cmd := customer.Register{
		Name: in.Name, Phone: str(in.Phone), Email: str(in.Email), WeChat: str(in.WeChat), Tier: tier,
		Segment: str(in.Segment), AccountManager: str(in.AccountManager), Timezone: in.Timezone, Locale: in.Locale,
		MarketingConsent: in.MarketingConsent, OccurredAt: at(in.OccurredAt),
	}
	if in.Birthday != nil {
		cmd.Birthday = in.Birthday.String()
	}
	m := graphql.Meta{OccurredAt: in.OccurredAt, IdempotencyKey: in.IdempotencyKey}
	return customerCommand(ctx, c, by, m, id, cmd, (*customer.Customer).Register)
}

func parseOr[T interface{ IsZero() bool }](s string, def T, parse func(string) (T, error)) (T, error) {
	if s == "" {
		return def, nil
	}
	return parse(s)
}

func (c commands) UpdateProfile(ctx context.Context, by graphql.Actor, in graphql.UpdateProfileInput) (graphql.CustomerResult, error) {
	cmd := customer.UpdateProfile{Name: in.Name, Phone: in.Phone, Email: in.Email, WeChat: in.WeChat, Segment: in.Segment,
		AccountManager: in.AccountManager, Timezone: in.Timezone, Locale: in.Locale, OccurredAt: at(in.OccurredAt)}
	if in.Tier != nil {
		t, err := customer.ParseTier(*in.Tier)
		if err != nil {
			return graphql.CustomerResult{}, apiErr(err)
		}
		cmd.Tier = &t
	}
	if in.Birthday != nil {
		b := in.Birthday.String()
		cmd.Birthday = &b
	}
	return customerCommand(ctx, c, by, in.Meta, in.CustomerID, cmd, (*customer.Customer).UpdateProfile)
}

func (c commands) SetMarketingConsent(ctx context.Context, by graphql.Actor, in graphql.SetMarketingConsentInput) (graphql.CustomerResult, error) {
	cmd := customer.SetMarketingConsent{Consent: in.Consent, Source: str(in.Source), OccurredAt: at(in.OccurredAt)}
	return customerCommand(ctx, c, by, in.Meta, in.CustomerID, cmd, (*customer.Customer).SetMarketingConsent)
}

func (c commands) LogContact(ctx context.Context, by graphql.Actor, in graphql.LogContactInput) (graphql.CustomerResult, error) {
	ch, err1 := customer.ParseChannel(in.Channel)
	dir, err2 := customer.ParseDirection(in.Direction)
	if err := errors.Join(err1, err2); err != nil {
		return graphql.CustomerResult{}, apiErr(firstOf(err1, err2))
	}
	cmd := customer.LogContact{Channel: ch, Direction: dir, Agent: in.Agent, Summary: str(in.Summary), ComplaintID: str(in.ComplaintID), OccurredAt: at(in.OccurredAt)}
	return customerCommand(ctx, c, by, in.Meta, in.CustomerID, cmd, (*customer.Customer).LogContact)
}

func firstOf(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (c commands) RecordPurchase(ctx context.Context, by graphql.Actor, in graphql.RecordPurchaseInput) (graphql.CustomerResult, error) {
	cmd := customer.RecordPurchase{OrderID: in.OrderID, Amount: customer.Money{AmountMinor: in.Amount.AmountMinor, Currency: in.Amount.Currency},
		Items: in.Items, OccurredAt: at(in.OccurredAt)}
	return customerCommand(ctx, c, by, in.Meta, in.CustomerID, cmd, (*customer.Customer).RecordPurchase)
}

func (c commands) RecordReferral(ctx context.Context, by graphql.Actor, in graphql.RecordReferralInput) (graphql.CustomerResult, error) {
	cmd := customer.RecordReferral{ReferredCustomerID: in.ReferredCustomerID, OccurredAt: at(in.OccurredAt)}
	return customerCommand(ctx, c, by, in.Meta, in.CustomerID, cmd, (*customer.Customer).RecordReferral)
}

func (c commands) VoiceGrumble(ctx context.Context, by graphql.Actor, in graphql.VoiceGrumbleInput) (graphql.CustomerResult, error) {
	ch, err := customer.ParseChannel(in.Channel)
	if err != nil {
		return graphql.CustomerResult{}, apiErr(err)
	}
	cmd := customer.VoiceGrumble{Channel: ch, Summary: in.Summary, Agent: str(in.Agent), OccurredAt: at(in.OccurredAt)}
	return customerCommand(ctx, c, by, in.Meta, in.CustomerID, cmd, (*customer.Customer).VoiceGrumble)
}

func (c commands) RecordSatisfaction(ctx context.Context, by graphql.Actor, in graphql.RecordSatisfactionInput) (graphql.CustomerResult, error) {
	cmd := customer.RecordSatisfaction{Score: in.Score, Comment: str(in.Comment), ComplaintID: str(in.ComplaintID), OccurredAt: at(in.OccurredAt)}
	return customerCommand(ctx, c, by, in.Meta, in.CustomerID, cmd, (*customer.Customer).RecordSatisfaction)
}

func (c commands) MarkLost(ctx context.Context, by graphql.Actor, in graphql.MarkLostInput) (graphql.CustomerResult, error) {
	cmd := customer.MarkLost{Reason: in.Reason, By: in.By, OccurredAt: at(in.OccurredAt)}
	return customerCommand(ctx, c, by, in.Meta, in.CustomerID, cmd, (*customer.Customer).MarkLost)
}

func (c commands) FlagConduct(ctx context.Context, by graphql.Actor, in graphql.FlagConductInput) (graphql.CustomerResult, error) {
	sev, err := parseOr(in.Severity, customer.SeverityGeneral, customer.ParseSeverity)
	if err != nil {
		return graphql.CustomerResult{}, apiErr(err)
	}
	cmd := customer.FlagConduct{Severity: sev, Note: in.Note, By: in.By, OccurredAt: at(in.OccurredAt)}
	return customerCommand(ctx, c, by, in.Meta, in.CustomerID, cmd, (*customer.Customer).FlagConduct)
}

func (c commands) EraseCustomer(ctx context.Context, by graphql.Actor, in graphql.EraseCustomerInput) (graphql.CustomerResult, error) {
	res, err := c.run(ctx, by, graphql.Meta{}, in.CustomerID, func(ctx context.Context, exp *uint64) (command.Result, error) {
		return c.s.cmds.EraseCustomer.Handle(ctx, in.CustomerID, exp, customer.Erase{By: in.By, Reason: in.Reason})
	})
	if err != nil {
		return graphql.CustomerResult{}, err
	}
	return c.customerResult(ctx, in.CustomerID, res)
}

// ---- complaints ----

func (c commands) FileComplaint(ctx context.Context, by graphql.Actor, in graphql.FileComplaintInput) (graphql.ComplaintResult, error) {
	ch, err1 := customer.ParseChannel(in.Channel)
	sev, err2 := parseOr(in.Severity, customer.SeverityGeneral, customer.ParseSeverity)
	if err := firstOf(err1, err2); err != nil {
		return graphql.ComplaintResult{}, apiErr(err)
	}
	id := in.ComplaintID
	if id == "" {
		id = newID("k", scopedKey(by, in.CustomerID, in.IdempotencyKey))
	}
	// Complaint IDs are global: one another customer has is refused (a
	// retry of the same request, with its key, replays instead).
	if owner, taken := c.s.Complaints.CustomerOf(id); taken && (in.IdempotencyKey == "" || owner != in.CustomerID) {
		return graphql.ComplaintResult{}, apiErr(&customer.PreconditionError{Action: "file complaint " + id, Reason: "a complaint with this id already exists"})
	}
	cmd := customer.FileComplaint{ComplaintID: id, Channel: ch, Category: in.Category, Severity: sev, Description: in.Description, Owner: in.Owner, OccurredAt: at(in.OccurredAt)}
	res, err := c.run(ctx, by, in.Meta, in.CustomerID, func(ctx context.Context, exp *uint64) (command.Result, error) {
		return c.s.cmds.FileComplaint.Handle(ctx, in.CustomerID, exp, cmd)
	})
	if err != nil {
		return graphql.ComplaintResult{}, err
	}
	return c.complaintResult(id, res)
}

func (c commands) AcknowledgeComplaint(ctx context.Context, by graphql.Actor, in graphql.ComplaintActionInput) (graphql.ComplaintResult, error) {
	cmd := customer.AcknowledgeComplaint{ComplaintID: in.ComplaintID, By: in.By, Note: str(in.Note), OccurredAt: at(in.OccurredAt)}
	return complaintCommand(ctx, c, by, in.Meta, in.ComplaintID, cmd, (*customer.Customer).AcknowledgeComplaint)
}

func (c commands) EscalateComplaint(ctx context.Context, by graphql.Actor, in graphql.EscalateComplaintInput) (graphql.ComplaintResult, error) {
	cmd := customer.EscalateComplaint{ComplaintID: in.ComplaintID, By: in.By, To: in.To, Reason: in.Reason, PromisedReplyBy: in.PromisedReplyBy, OccurredAt: at(in.OccurredAt)}
	return complaintCommand(ctx, c, by, in.Meta, in.ComplaintID, cmd, (*customer.Customer).EscalateComplaint)
}

func (c commands) DeclineComplaint(ctx context.Context, by graphql.Actor, in graphql.DeclineComplaintInput) (graphql.ComplaintResult, error) {
	cmd := customer.DeclineComplaint{ComplaintID: in.ComplaintID, By: in.By, Reason: in.Reason, OccurredAt: at(in.OccurredAt)}
	return complaintCommand(ctx, c, by, in.Meta, in.ComplaintID, cmd, (*customer.Customer).DeclineComplaint)
}

func (c commands) TransferComplaint(ctx context.Context, by graphql.Actor, in graphql.TransferComplaintInput) (graphql.ComplaintResult, error) {
	cmd := customer.TransferComplaint{ComplaintID: in.ComplaintID, By: in.By, To: in.To, Reason: in.Reason, OccurredAt: at(in.OccurredAt)}
	return complaintCommand(ctx, c, by, in.Meta, in.ComplaintID, cmd, (*customer.Customer).TransferComplaint)
}

func (c commands) ProposeResolution(ctx context.Context, by graphql.Actor, in graphql.ProposeResolutionInput) (graphql.ComplaintResult, error) {
	cmd := customer.ProposeResolution{ComplaintID: in.ComplaintID, By: in.By, Options: in.Options, OccurredAt: at(in.OccurredAt)}
	return complaintCommand(ctx, c, by, in.Meta, in.ComplaintID, cmd, (*customer.Customer).ProposeResolution)
}

func (c commands) AcceptResolution(ctx context.Context, by graphql.Actor, in graphql.AcceptResolutionInput) (graphql.ComplaintResult, error) {
	cmd := customer.AcceptResolution{ComplaintID: in.ComplaintID, OptionIndex: in.OptionIndex, OccurredAt: at(in.OccurredAt)}
	return complaintCommand(ctx, c, by, in.Meta, in.ComplaintID, cmd, (*customer.Customer).AcceptResolution)
}

func (c commands) TakeRecoveryStep(ctx context.Context, by graphql.Actor, in graphql.TakeRecoveryStepInput) (graphql.ComplaintResult, error) {
	step, err := customer.ParseRecoveryStep(in.Step)
	if err != nil {
		return graphql.ComplaintResult{}, apiErr(err)
	}
	cmd := customer.TakeRecoveryStep{ComplaintID: in.ComplaintID, Step: step, By: in.By, Note: str(in.Note), OccurredAt: at(in.OccurredAt)}
	if in.Compensation != nil {
		cmd.Compensation = &customer.Money{AmountMinor: in.Compensation.AmountMinor, Currency: in.Compensation.Currency}
	}
	return complaintCommand(ctx, c, by, in.Meta, in.ComplaintID, cmd, (*customer.Customer).TakeRecoveryStep)
}

func (c commands) ResolveComplaint(ctx context.Context, by graphql.Actor, in graphql.ResolveComplaintInput) (graphql.ComplaintResult, error) {
	o, err := customer.ParseOutcome(in.Outcome)
	if err != nil {
		return graphql.ComplaintResult{}, apiErr(err)
	}
	cmd := customer.ResolveComplaint{ComplaintID: in.ComplaintID, By: in.By, Outcome: o, Note: str(in.Note), OccurredAt: at(in.OccurredAt)}
	return complaintCommand(ctx, c, by, in.Meta, in.ComplaintID, cmd, (*customer.Customer).ResolveComplaint)
}

func (c commands) ReopenComplaint(ctx context.Context, by graphql.Actor, in graphql.ComplaintActionInput) (graphql.ComplaintResult, error) {
	cmd := customer.ReopenComplaint{ComplaintID: in.ComplaintID, By: in.By, Note: str(in.Note), OccurredAt: at(in.OccurredAt)}
	return complaintCommand(ctx, c, by, in.Meta, in.ComplaintID, cmd, (*customer.Customer).ReopenComplaint)
}

func (c commands) FileIncidentReport(ctx context.Context, by graphql.Actor, in graphql.IncidentReportInput) (graphql.ComplaintResult, error) {
	cmd := customer.FileIncidentReport{ComplaintID: in.ComplaintID, By: in.By, Impact: in.Impact, Handling: in.Handling, Cause: in.Cause,
		CorrectiveActions: in.CorrectiveActions, OccurredAt: at(in.OccurredAt)}
	return complaintCommand(ctx, c, by, in.Meta, in.ComplaintID, cmd, (*customer.Customer).FileIncidentReport)
}

// ---- follow-ups ----

func (c commands) ScheduleFollowUp(ctx context.Context, by graphql.Actor, in graphql.ScheduleFollowUpInput) (graphql.FollowUpResult, error) {
	reason, err := customer.ParseFollowUpReason(in.Reason)
	if err != nil {
		return graphql.FollowUpResult{}, apiErr(err)
	}
	id := newID("fu", scopedKey(by, in.CustomerID, in.IdempotencyKey))
	cmd := customer.ScheduleFollowUp{FollowUpID: id, ComplaintID: str(in.ComplaintID), Reason: reason, Owner: str(in.Owner), DueAt: in.DueAt, Note: str(in.Note)}
	res, err := c.run(ctx, by, in.Meta, in.CustomerID, func(ctx context.Context, exp *uint64) (command.Result, error) {
		return command.NewCustomerVerb(c.s.cmds.Customers, (*customer.Customer).ScheduleFollowUp).Handle(ctx, in.CustomerID, exp, cmd)
	})
	if err != nil {
		return graphql.FollowUpResult{}, err
	}
	return c.followUpResult(in.CustomerID, id, res)
}

func (c commands) followUpResult(customerID, id string, res command.Result) (graphql.FollowUpResult, error) {
	f, ok := c.s.FollowUps.Get(customerID, id)
	if !ok {
		return graphql.FollowUpResult{}, notFound("follow-up", id)
	}
	return graphql.FollowUpResult{FollowUp: followUpView(f), Version: int(res.Revision)}, nil
}

func (c commands) CompleteFollowUp(ctx context.Context, by graphql.Actor, in graphql.CompleteFollowUpInput) (graphql.FollowUpResult, error) {
	f, ok := c.s.FollowUps.Find(in.FollowUpID)
	if !ok {
		return graphql.FollowUpResult{}, notFound("follow-up", in.FollowUpID)
	}
	o, err := customer.ParseFollowUpOutcome(in.Outcome)
	if err != nil {
		return graphql.FollowUpResult{}, apiErr(err)
	}
	cmd := customer.CompleteFollowUp{FollowUpID: in.FollowUpID, By: in.By, Outcome: o, Note: str(in.Note), OccurredAt: at(in.OccurredAt)}
	res, err := c.run(ctx, by, in.Meta, f.CustomerID, func(ctx context.Context, exp *uint64) (command.Result, error) {
		return command.NewCustomerVerb(c.s.cmds.Customers, (*customer.Customer).CompleteFollowUp).Handle(ctx, f.CustomerID, exp, cmd)
	})
	if err != nil {
		return graphql.FollowUpResult{}, err
	}
	return c.followUpResult(f.CustomerID, in.FollowUpID, res)
}
