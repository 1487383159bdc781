package customer

import (
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
)

// FollowUpStatus is where a follow-up is: DUE until completed (DONE) or
// cancelled (CANCELLED).
type FollowUpStatus = enum[followUpStatusKind]

type followUpStatusKind struct{}

func (followUpStatusKind) kindName() string { return "followUpStatus" }

var followUpStatusValues = []string{"DUE", "DONE", "CANCELLED"}

func (followUpStatusKind) kindValues() []string { return followUpStatusValues }

// The follow-up statuses.
var (
	FollowUpStatusDue       = FollowUpStatus{"DUE"}
	FollowUpStatusDone      = FollowUpStatus{"DONE"}
	FollowUpStatusCancelled = FollowUpStatus{"CANCELLED"}
)

// FollowUpStatuses lists the statuses in declaration order.
func FollowUpStatuses() []FollowUpStatus { return enumValues[followUpStatusKind]() }

// FollowUp is a read-only copy of a follow-up's state.
type FollowUp struct {
	ID           string
	ComplaintID  string // "" when not about a complaint
	Reason       FollowUpReason
	Owner        string
	DueAt        time.Time
	Note         string
	Status       FollowUpStatus
	ScheduledAt  time.Time
	Outcome      FollowUpOutcome // zero unless DONE
	ClosedAt     time.Time       // when completed or cancelled
	ClosedBy     string
	CancelReason string
}

type followUp struct {
	id           string
	complaintID  string
	reason       FollowUpReason
	owner        string
	dueAt        time.Time
	note         string
	status       FollowUpStatus
	scheduledAt  time.Time
	outcome      FollowUpOutcome
	closedAt     time.Time
	closedBy     string
	cancelReason string
}

func (f *followUp) view() FollowUp {
	return FollowUp{
		ID: f.id, ComplaintID: f.complaintID, Reason: f.reason, Owner: f.owner,
		DueAt: f.dueAt, Note: f.note, Status: f.status, ScheduledAt: f.scheduledAt,
		Outcome: f.outcome, ClosedAt: f.closedAt, ClosedBy: f.closedBy, CancelReason: f.cancelReason,
	}
}

// FollowUp returns a copy of one follow-up's state.
func (c *Customer) FollowUp(id string) (FollowUp, bool) {
	f := c.followUps[id]
	if f == nil {
		return FollowUp{}, false
	}
	return f.view(), true
}

// FollowUps returns copies of all follow-ups, in scheduling order.
func (c *Customer) FollowUps() []FollowUp {
	out := make([]FollowUp, 0, len(c.followUpOrder))
	for _, id := range c.followUpOrder {
		out = append(out, c.followUps[id].view())
	}
	return out
}

// ScheduleFollowUp records FollowUpScheduled. The id must be new for this
// customer: scheduling an id again is refused with a aggregate.PreconditionError (a
// process manager deriving ids deterministically checks FollowUp first, or
// treats that refusal as "already done"). The due time may lie in the past
// (a backfill, or an overdue item). Owner defaults to the complaint's
// current owner, else the account manager; with neither, it is refused.
func (c *Customer) ScheduleFollowUp(cmd ScheduleFollowUp, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(
		requiredID("followUpId", cmd.FollowUpID),
		optionalID("complaintId", cmd.ComplaintID),
		requiredEnum("reason", cmd.Reason),
	); err != nil {
		return err
	}
	if cmd.DueAt.IsZero() {
		return invalid("dueAt", "required")
	}
	if cmd.Owner != "" {
		if err := required("owner", cmd.Owner); err != nil {
			return err
		}
	}
	action := "schedule follow-up " + cmd.FollowUpID
	if err := c.checkActive(action); err != nil {
		return err
	}
	owner := cmd.Owner
	if cmd.ComplaintID != "" {
		cp, err := c.complaint(cmd.ComplaintID)
		if err != nil {
			return err
		}
		if err := cp.notBefore(at); err != nil {
			return err
		}
		if owner == "" {
			owner = cp.owner
		}
	}
	if owner == "" {
		owner = c.accountManager
	}
	if owner == "" {
		return &aggregate.PreconditionError{Action: action, Reason: "no owner given and the customer has no account manager"}
	}
	if _, dup := c.followUps[cmd.FollowUpID]; dup {
		return &aggregate.PreconditionError{Action: action, Reason: "a follow-up with this id already exists"}
	}
	c.record(&FollowUpScheduled{
		FollowUpID: cmd.FollowUpID, ComplaintID: cmd.ComplaintID, Reason: cmd.Reason,
		Owner: owner, DueAt: cmd.DueAt, Note: cmd.Note,
	}, at)
	return nil
}

// CompleteFollowUp records FollowUpCompleted on a DUE follow-up.
func (c *Customer) CompleteFollowUp(cmd CompleteFollowUp, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(requiredID("followUpId", cmd.FollowUpID), required("by", cmd.By), requiredEnum("outcome", cmd.Outcome)); err != nil {
		return err
	}
	if _, err := c.dueFollowUp("complete follow-up "+cmd.FollowUpID, cmd.FollowUpID, at); err != nil {
		return err
	}
	c.record(&FollowUpCompleted{FollowUpID: cmd.FollowUpID, By: cmd.By, Outcome: cmd.Outcome, Note: cmd.Note}, at)
	return nil
}

// CancelFollowUp records FollowUpCancelled on a DUE follow-up.
func (c *Customer) CancelFollowUp(cmd CancelFollowUp, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(requiredID("followUpId", cmd.FollowUpID), required("by", cmd.By), required("reason", cmd.Reason)); err != nil {
		return err
	}
	if _, err := c.dueFollowUp("cancel follow-up "+cmd.FollowUpID, cmd.FollowUpID, at); err != nil {
		return err
	}
	c.record(&FollowUpCancelled{FollowUpID: cmd.FollowUpID, By: cmd.By, Reason: cmd.Reason}, at)
	return nil
}

// dueFollowUp finds a DUE follow-up for an action dated at, which may not
// precede the follow-up's scheduling.
func (c *Customer) dueFollowUp(action, id string, at time.Time) (*followUp, error) {
	if err := c.checkOpen(action); err != nil {
		return nil, err
	}
	f := c.followUps[id]
	if f == nil {
		return nil, &aggregate.NotFoundError{Kind: "follow-up", ID: id}
	}
	if f.status != FollowUpStatusDue {
		return nil, &aggregate.PreconditionError{Action: action, Reason: "the follow-up is " + f.status.String() + ", not DUE"}
	}
	if at.Before(f.scheduledAt) {
		return nil, invalid("occurredAt", "%s is before follow-up %s was scheduled (%s)", at.Format(time.RFC3339), id, f.scheduledAt.In(at.Location()).Format(time.RFC3339))
	}
	return f, nil
}
