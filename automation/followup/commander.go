package followup

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

// Actor is the actor recorded on the follow-ups the scheduler schedules.
const Actor = "followup-scheduler"

// RepositoryCommander schedules follow-ups through the customer
// repository: load, decide, append, with the repository's retries on
// concurrent writers and an idempotency key per follow-up.
type RepositoryCommander struct {
	Repo *command.Customers
}

// Schedule implements Commander. The owner is decided here, from the
// customer's current state: a retry keeps the owner of the follow-up it
// retries; a follow-up about a complaint goes to the complaint's owner
// (the aggregate's default); a replenishment call to the account manager
// only, and only for a consenting customer; any other to the account
// manager, else to the owner of the customer's latest complaint.
func (r RepositoryCommander) Schedule(ctx context.Context, a Action) error {
	ctx = command.WithActor(ctx, command.Actor{User: Actor, Role: "SYSTEM"})
	ctx = command.WithIdempotencyKey(ctx, "followup/"+a.FollowUpID)
	if a.Cause != "" {
		ctx = command.WithCorrelationID(ctx, a.Cause)
	}
	_, err := r.Repo.Update(ctx, a.CustomerID, nil, func(c *customer.Customer) error {
		return Decide(c, a, r.Repo.Now())
	})
	return err
}

// Decide calls the aggregate's ScheduleFollowUp for a, choosing the owner
// as Schedule documents. It returns ErrAlreadyScheduled (and records
// nothing) when c already has a follow-up with a's ID, and the aggregate's
// typed refusals as they are.
func Decide(c *customer.Customer, a Action, now time.Time) error {
	if _, ok := c.FollowUp(a.FollowUpID); ok {
		return fmt.Errorf("%w: %s of customer %s", ErrAlreadyScheduled, a.FollowUpID, c.ID())
	}
	cmd := customer.ScheduleFollowUp{FollowUpID: a.FollowUpID, ComplaintID: a.ComplaintID, Reason: a.Reason, DueAt: a.DueAt, Note: a.Note}
	if a.RetryOf != "" {
		orig, ok := c.FollowUp(a.RetryOf)
		if !ok {
			return &aggregate.NotFoundError{Kind: "follow-up", ID: a.RetryOf}
		}
		cmd.Reason, cmd.ComplaintID, cmd.Owner = orig.Reason, orig.ComplaintID, orig.Owner
	}
	if a.Reason == customer.ReasonReplenishment {
		// A sales call: only with consent, and only the account manager
		// makes it.
		switch {
		case !c.MarketingConsent():
			return &aggregate.PreconditionError{Action: "schedule replenishment follow-up " + a.FollowUpID, Reason: "the customer has not consented to marketing"}
		case c.AccountManager() == "":
			return &aggregate.PreconditionError{Action: "schedule replenishment follow-up " + a.FollowUpID, Reason: "the customer has no account manager"}
		}
		cmd.Owner = c.AccountManager()
	}
	if cmd.Owner == "" && cmd.ComplaintID == "" && c.AccountManager() == "" {
		if cps := c.Complaints(); len(cps) > 0 {
			cmd.Owner = cps[len(cps)-1].Owner
		}
	}
	return c.ScheduleFollowUp(cmd, now)
}
