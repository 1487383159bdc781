package customer

import (
	"slices"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
)

// The complaint state machine
//
//	OPEN ──acknowledge──▶ ACKNOWLEDGED ──escalate──▶ ESCALATED ──propose──▶ RESOLUTION_PROPOSED ──resolve──▶ RESOLVED
//	  │                      │  │  └──────────propose──────────────────────────▲       │ accept, propose again
//	  │                      │  └──resolve (GENERAL)──▶ RESOLVED               └───────┘
//	  └──decline──▶ DECLINED ◀──decline── (from OPEN, ACKNOWLEDGED, ESCALATED)
//	RESOLVED, DECLINED ──reopen──▶ ACKNOWLEDGED
//
// Decisions:
//   - Escalation needs an acknowledgement first; it is optional for GENERAL
//     complaints and required for MAJOR ones before a resolution is proposed
//     or the complaint resolved. An escalated complaint may be escalated
//     again (a new promised reply time).
//   - A resolution comes only after acknowledgement: from ACKNOWLEDGED,
//     ESCALATED or RESOLUTION_PROPOSED. Accepting an option is not required
//     (the customer may reject every option: resolve UNSATISFIED). A MAJOR
//     complaint also needs an escalation and an incident report first.
//   - An option is accepted at most once per proposal; proposing again
//     replaces the options and clears the acceptance.
//   - An incident report may be filed (again) while the complaint is open
//     and has been escalated.
//   - Recovery steps and transfers are allowed while the complaint is open
//     (not RESOLVED or DECLINED).
//   - Reopening returns the complaint to ACKNOWLEDGED, not OPEN: the person
//     reopening it is talking to the customer, which is the acknowledgement.
//     The reply-due time is not reset (the SLA measures the first reply);
//     the first acknowledgement time is kept. The outcome, options and
//     acceptance of the previous round are cleared; escalation, incident
//     report, recovery steps, compensation and repeat contacts are kept.
//   - Contacts may name any complaint, closed ones included; inbound
//     contacts count as repeat contacts only while the complaint is open.

// ComplaintStatus is where a complaint is in its state machine.
type ComplaintStatus = enum[complaintStatusKind]

type complaintStatusKind struct{}

func (complaintStatusKind) kindName() string { return "complaintStatus" }

var complaintStatusValues = []string{"OPEN", "ACKNOWLEDGED", "ESCALATED", "RESOLUTION_PROPOSED", "RESOLVED", "DECLINED"}

func (complaintStatusKind) kindValues() []string { return complaintStatusValues }

// The complaint statuses.
var (
	ComplaintStatusOpen               = ComplaintStatus{"OPEN"}
	ComplaintStatusAcknowledged       = ComplaintStatus{"ACKNOWLEDGED"}
	ComplaintStatusEscalated          = ComplaintStatus{"ESCALATED"}
	ComplaintStatusResolutionProposed = ComplaintStatus{"RESOLUTION_PROPOSED"}
	ComplaintStatusResolved           = ComplaintStatus{"RESOLVED"}
	ComplaintStatusDeclined           = ComplaintStatus{"DECLINED"}
)

// ComplaintStatuses lists the statuses in order.
func ComplaintStatuses() []ComplaintStatus { return enumValues[complaintStatusKind]() }

// ReplyClock computes a complaint's reply-due time from its filing time
// (filed + half a working day on the organisation's working calendar).
// provisional is true when the calendar had no official data for the year.
type ReplyClock interface {
	ReplyDue(filed time.Time) (due time.Time, provisional bool)
}

// ReplyClockFunc adapts a function to ReplyClock.
type ReplyClockFunc func(filed time.Time) (time.Time, bool)

// ReplyDue calls f.
func (f ReplyClockFunc) ReplyDue(filed time.Time) (time.Time, bool) { return f(filed) }

// RecoveryStepRecord is one recovery step taken on a complaint.
type RecoveryStepRecord struct {
	Step         RecoveryStep
	At           time.Time
	By           string
	Note         string
	Compensation *Money
}

// Complaint is a read-only copy of a complaint's state.
type Complaint struct {
	ID                  string
	Status              ComplaintStatus
	Severity            Severity
	Category            string
	Channel             Channel
	Description         string // "" after erasure
	Owner               string
	FiledAt             time.Time
	ReplyDueAt          time.Time
	ReplyDueProvisional bool
	AcknowledgedAt      time.Time // zero until first acknowledged
	Escalated           bool
	EscalatedAt         time.Time // latest escalation
	EscalatedTo         string
	PromisedReplyBy     time.Time // latest escalation's promise
	LastOutboundAt      time.Time // latest outbound contact on the complaint
	ResolutionOptions   []string
	AcceptedOption      int // index into ResolutionOptions; -1 when none
	RecoverySteps       []RecoveryStepRecord
	Compensation        []Money // totals per currency, in first-seen order
	Outcome             Outcome // zero unless RESOLVED
	ResolvedAt          time.Time
	DeclineReason       string
	DeclinedAt          time.Time
	RepeatContacts      int
	IncidentReportFiled bool
	Reopened            int   // how many times it was reopened
	SurveyScores        []int // satisfaction scores recorded for it
}

// Open reports whether the complaint is neither resolved nor declined.
func (c Complaint) Open() bool { return isOpen(c.Status) }

// Overdue reports, at now, whether the open complaint was not acknowledged
// by its reply-due time, or a promised reply time passed with no outbound
// contact on the complaint since the escalation that promised it.
func (c Complaint) Overdue(now time.Time) bool {
	if !c.Open() {
		return false
	}
	if c.AcknowledgedAt.IsZero() && now.After(c.ReplyDueAt) {
		return true
	}
	if c.Escalated && now.After(c.PromisedReplyBy) && !c.LastOutboundAt.After(c.EscalatedAt) {
		return true
	}
	return false
}

func isOpen(s ComplaintStatus) bool {
	return s != ComplaintStatusResolved && s != ComplaintStatusDeclined
}

// complaint is the aggregate's internal state of one complaint.
type complaint struct {
	id                  string
	status              ComplaintStatus
	severity            Severity
	category            string
	channel             Channel
	description         string
	owner               string
	filedAt             time.Time
	replyDueAt          time.Time
	replyDueProvisional bool
	acknowledgedAt      time.Time
	escalated           bool
	escalatedAt         time.Time
	escalatedTo         string
	promisedReplyBy     time.Time
	lastOutboundAt      time.Time
	options             []string
	accepted            int
	steps               []RecoveryStepRecord
	compensation        []Money
	outcome             Outcome
	resolvedAt          time.Time
	declineReason       string
	declinedAt          time.Time
	repeatContacts      int
	incidentReport      bool
	reopened            int
	surveyScores        []int
}

func newComplaint(e *ComplaintFiled, at time.Time) *complaint {
	return &complaint{
		id: e.ComplaintID, status: ComplaintStatusOpen, severity: e.Severity,
		category: e.Category, channel: e.Channel, description: e.Description,
		owner: e.Owner, filedAt: at, replyDueAt: e.ReplyDueAt,
		replyDueProvisional: e.ReplyDueProvisional, accepted: -1,
	}
}

func (cp *complaint) view() Complaint {
	steps := make([]RecoveryStepRecord, len(cp.steps))
	for i, s := range cp.steps {
		steps[i] = s
		if s.Compensation != nil {
			m := *s.Compensation
			steps[i].Compensation = &m
		}
	}
	return Complaint{
		ID: cp.id, Status: cp.status, Severity: cp.severity, Category: cp.category,
		Channel: cp.channel, Description: cp.description, Owner: cp.owner,
		FiledAt: cp.filedAt, ReplyDueAt: cp.replyDueAt, ReplyDueProvisional: cp.replyDueProvisional,
		AcknowledgedAt: cp.acknowledgedAt, Escalated: cp.escalated, EscalatedAt: cp.escalatedAt,
		EscalatedTo: cp.escalatedTo, PromisedReplyBy: cp.promisedReplyBy, LastOutboundAt: cp.lastOutboundAt,
		ResolutionOptions: slices.Clone(cp.options), AcceptedOption: cp.accepted,
		RecoverySteps: steps, Compensation: slices.Clone(cp.compensation),
		Outcome: cp.outcome, ResolvedAt: cp.resolvedAt, DeclineReason: cp.declineReason,
		DeclinedAt: cp.declinedAt, RepeatContacts: cp.repeatContacts,
		IncidentReportFiled: cp.incidentReport, Reopened: cp.reopened,
		SurveyScores: slices.Clone(cp.surveyScores),
	}
}

// Complaint returns a copy of one complaint's state.
func (c *Customer) Complaint(id string) (Complaint, bool) {
	cp := c.complaints[id]
	if cp == nil {
		return Complaint{}, false
	}
	return cp.view(), true
}

// Complaints returns copies of all complaints, in filing order.
func (c *Customer) Complaints() []Complaint {
	out := make([]Complaint, 0, len(c.complaintOrder))
	for _, id := range c.complaintOrder {
		out = append(out, c.complaints[id].view())
	}
	return out
}

// HasOpenComplaint reports whether any complaint is open.
func (c *Customer) HasOpenComplaint() bool {
	for _, cp := range c.complaints {
		if isOpen(cp.status) {
			return true
		}
	}
	return false
}

func complaintIDOf(e Event) string {
	switch e := e.(type) {
	case *ComplaintAcknowledged:
		return e.ComplaintID
	case *ComplaintEscalated:
		return e.ComplaintID
	case *ComplaintDeclined:
		return e.ComplaintID
	case *ComplaintTransferred:
		return e.ComplaintID
	case *ResolutionProposed:
		return e.ComplaintID
	case *ResolutionAccepted:
		return e.ComplaintID
	case *RecoveryStepTaken:
		return e.ComplaintID
	case *ComplaintResolved:
		return e.ComplaintID
	case *ComplaintReopened:
		return e.ComplaintID
	case *IncidentReportFiled:
		return e.ComplaintID
	}
	return ""
}

// apply changes one complaint's state; called from Customer.apply only.
func (cp *complaint) apply(e Event, at time.Time) {
	switch e := e.(type) {
	case *ComplaintAcknowledged:
		cp.status = ComplaintStatusAcknowledged
		if cp.acknowledgedAt.IsZero() {
			cp.acknowledgedAt = at
		}
	case *ComplaintEscalated:
		cp.status = ComplaintStatusEscalated
		cp.escalated = true
		cp.escalatedAt, cp.escalatedTo, cp.promisedReplyBy = at, e.To, e.PromisedReplyBy
	case *ComplaintDeclined:
		cp.status = ComplaintStatusDeclined
		cp.declineReason, cp.declinedAt = e.Reason, at
	case *ComplaintTransferred:
		cp.owner = e.To
	case *ResolutionProposed:
		cp.status = ComplaintStatusResolutionProposed
		cp.options, cp.accepted = slices.Clone(e.Options), -1
	case *ResolutionAccepted:
		cp.accepted = e.OptionIndex
	case *RecoveryStepTaken:
		rec := RecoveryStepRecord{Step: e.Step, At: at, By: e.By, Note: e.Note}
		if e.Compensation != nil {
			m := *e.Compensation
			rec.Compensation = &m
			cp.addCompensation(m)
		}
		cp.steps = append(cp.steps, rec)
	case *ComplaintResolved:
		cp.status = ComplaintStatusResolved
		cp.outcome, cp.resolvedAt = e.Outcome, at
	case *ComplaintReopened:
		cp.status = ComplaintStatusAcknowledged
		if cp.acknowledgedAt.IsZero() {
			cp.acknowledgedAt = at
		}
		cp.reopened++
		cp.outcome, cp.resolvedAt = Outcome{}, time.Time{}
		cp.declineReason, cp.declinedAt = "", time.Time{}
		cp.options, cp.accepted = nil, -1
	case *IncidentReportFiled:
		cp.incidentReport = true
	}
}

func (cp *complaint) applyContact(e *ContactLogged, at time.Time) {
	switch e.Direction {
	case Inbound:
		if isOpen(cp.status) {
			cp.repeatContacts++
		}
	case Outbound:
		if at.After(cp.lastOutboundAt) {
			cp.lastOutboundAt = at
		}
	}
}

func (cp *complaint) addCompensation(m Money) {
	for i := range cp.compensation {
		if cp.compensation[i].Currency == m.Currency {
			cp.compensation[i].AmountMinor += m.AmountMinor
			return
		}
	}
	cp.compensation = append(cp.compensation, m)
}

// --- the rules of the state machine ---

// ComplaintStep names a step on a complaint as aggregate.PreconditionError.Allowed
// lists it (and an API names the command that takes it).
type ComplaintStep string

// The steps of a complaint.
const (
	StepAcknowledge ComplaintStep = "acknowledge"
	StepEscalate    ComplaintStep = "escalate"
	StepDecline     ComplaintStep = "decline"
	StepPropose     ComplaintStep = "propose resolution"
	StepAccept      ComplaintStep = "accept resolution"
	StepResolve     ComplaintStep = "resolve"
	StepRecovery    ComplaintStep = "take recovery step"
	StepIncident    ComplaintStep = "file incident report"
	StepTransfer    ComplaintStep = "transfer"
	StepReopen      ComplaintStep = "reopen"
)

// ComplaintSteps are every step of a complaint.
func ComplaintSteps() []ComplaintStep { return allComplaintActions[:] }

var allComplaintActions = [...]ComplaintStep{
	StepAcknowledge, StepEscalate, StepDecline, StepPropose, StepAccept, StepResolve,
	StepRecovery, StepIncident, StepTransfer, StepReopen,
}

// can reports whether the complaint's state allows the action and, when it
// does not, why. It is the single statement of the state machine: both the
// verbs and the allowed-steps lists come from it.
func (cp *complaint) can(a ComplaintStep) (ok bool, reason string) {
	s := cp.status
	major := cp.severity == SeverityMajor
	notIn := func() (bool, string) { return false, "the complaint is " + s.String() }
	switch a {
	case StepAcknowledge:
		if s != ComplaintStatusOpen {
			return notIn()
		}
	case StepEscalate:
		if s == ComplaintStatusOpen {
			return false, "the complaint is not acknowledged yet"
		}
		if s != ComplaintStatusAcknowledged && s != ComplaintStatusEscalated {
			return notIn()
		}
	case StepDecline:
		if s != ComplaintStatusOpen && s != ComplaintStatusAcknowledged && s != ComplaintStatusEscalated {
			return notIn()
		}
	case StepPropose:
		if s == ComplaintStatusOpen {
			return false, "the complaint is not acknowledged yet"
		}
		if !isOpen(s) {
			return notIn()
		}
		if major && !cp.escalated {
			return false, "a MAJOR complaint must be escalated first"
		}
	case StepAccept:
		if s != ComplaintStatusResolutionProposed {
			return false, "no resolution is proposed (the complaint is " + s.String() + ")"
		}
		if cp.accepted >= 0 {
			return false, "an option was already accepted; propose again to offer new options"
		}
	case StepResolve:
		if s == ComplaintStatusOpen {
			return false, "the complaint is not acknowledged yet"
		}
		if !isOpen(s) {
			return notIn()
		}
		if major && !cp.escalated {
			return false, "a MAJOR complaint must be escalated first"
		}
		if major && !cp.incidentReport {
			return false, "a MAJOR complaint needs an incident report first"
		}
	case StepRecovery, StepTransfer:
		if !isOpen(s) {
			return notIn()
		}
	case StepIncident:
		if !isOpen(s) {
			return notIn()
		}
		if !cp.escalated {
			return false, "the complaint was not escalated"
		}
	case StepReopen:
		if isOpen(s) {
			return notIn()
		}
	}
	return true, ""
}

// allowed lists the actions the complaint's state accepts now.
func (cp *complaint) allowed() []string {
	var out []string
	for _, a := range allComplaintActions {
		if ok, _ := cp.can(a); ok {
			out = append(out, string(a))
		}
	}
	return out
}

// AllowedSteps lists the steps a complaint accepts now (the same names a
// aggregate.PreconditionError lists), or nil when there is no such complaint.
func (c *Customer) AllowedSteps(complaintID string) []string {
	cp := c.complaints[complaintID]
	if cp == nil {
		return nil
	}
	return cp.allowed()
}

// step looks up a complaint for a step and checks the customer and the
// state machine; the returned complaint accepts the action.
func (c *Customer) step(id string, a ComplaintStep, at time.Time) (*complaint, error) {
	if err := c.checkOpen(string(a) + " complaint " + id); err != nil {
		return nil, err
	}
	cp, err := c.complaint(id)
	if err != nil {
		return nil, err
	}
	if err := cp.notBefore(at); err != nil {
		return nil, err
	}
	if ok, reason := cp.can(a); !ok {
		return nil, &aggregate.PreconditionError{Action: string(a) + " complaint " + id, Reason: reason, Allowed: cp.allowed()}
	}
	return cp, nil
}

// notBefore refuses a business time before the complaint was filed: a
// step, a survey or a follow-up about a complaint cannot precede it.
func (cp *complaint) notBefore(at time.Time) error {
	if at.Before(cp.filedAt) {
		return invalid("occurredAt", "%s is before complaint %s was filed (%s)", at.Format(time.RFC3339), cp.id, cp.filedAt.In(at.Location()).Format(time.RFC3339))
	}
	return nil
}

func (c *Customer) complaint(id string) (*complaint, error) {
	cp := c.complaints[id]
	if cp == nil {
		return nil, &aggregate.NotFoundError{Kind: "complaint", ID: id}
	}
	return cp, nil
}

// --- verbs on complaints ---

// FileComplaint records ComplaintFiled; the reply-due time is
// clock.ReplyDue(occurredAt), which must lie after the filing time.
func (c *Customer) FileComplaint(cmd FileComplaint, clock ReplyClock, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(
		requiredID("complaintId", cmd.ComplaintID),
		requiredEnum("channel", cmd.Channel),
		required("category", cmd.Category),
		requiredEnum("severity", cmd.Severity),
		required("description", cmd.Description),
		required("owner", cmd.Owner),
	); err != nil {
		return err
	}
	if clock == nil {
		return invalid("replyClock", "required")
	}
	due, provisional := clock.ReplyDue(at)
	if !due.After(at) {
		return invalid("replyDueAt", "%s is not after the filing time %s", due.Format(time.RFC3339), at.Format(time.RFC3339))
	}
	action := "file complaint " + cmd.ComplaintID
	if err := c.checkActive(action); err != nil {
		return err
	}
	if _, dup := c.complaints[cmd.ComplaintID]; dup {
		return &aggregate.PreconditionError{Action: action, Reason: "a complaint with this id already exists"}
	}
	c.record(&ComplaintFiled{
		ComplaintID: cmd.ComplaintID, Channel: cmd.Channel, Category: cmd.Category,
		Severity: cmd.Severity, Description: cmd.Description, Owner: cmd.Owner,
		ReplyDueAt: due, ReplyDueProvisional: provisional,
	}, at)
	return nil
}

// AcknowledgeComplaint records ComplaintAcknowledged (from OPEN).
func (c *Customer) AcknowledgeComplaint(cmd AcknowledgeComplaint, now time.Time) error {
	return c.complaintStep(cmd.OccurredAt, now, cmd.ComplaintID, StepAcknowledge,
		firstErr(requiredID("complaintId", cmd.ComplaintID), required("by", cmd.By)),
		&ComplaintAcknowledged{ComplaintID: cmd.ComplaintID, By: cmd.By, Note: cmd.Note})
}

// EscalateComplaint records ComplaintEscalated (from ACKNOWLEDGED or
// ESCALATED). PromisedReplyBy must be after OccurredAt and at most
// MaxComplaintWindow later.
func (c *Customer) EscalateComplaint(cmd EscalateComplaint, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(
		requiredID("complaintId", cmd.ComplaintID),
		required("by", cmd.By),
		required("to", cmd.To),
		required("reason", cmd.Reason),
	); err != nil {
		return err
	}
	switch p := cmd.PromisedReplyBy; {
	case p.IsZero():
		return invalid("promisedReplyBy", "required")
	case !p.After(at):
		return invalid("promisedReplyBy", "%s is not after the escalation (%s)", p.Format(time.RFC3339), at.Format(time.RFC3339))
	case p.Sub(at) > MaxComplaintWindow:
		return invalid("promisedReplyBy", "%s is more than 30 days after the escalation (%s)", p.Format(time.RFC3339), at.Format(time.RFC3339))
	}
	if _, err := c.step(cmd.ComplaintID, StepEscalate, at); err != nil {
		return err
	}
	c.record(&ComplaintEscalated{ComplaintID: cmd.ComplaintID, By: cmd.By, To: cmd.To, Reason: cmd.Reason, PromisedReplyBy: cmd.PromisedReplyBy}, at)
	return nil
}

// DeclineComplaint records ComplaintDeclined (from OPEN, ACKNOWLEDGED or
// ESCALATED).
func (c *Customer) DeclineComplaint(cmd DeclineComplaint, now time.Time) error {
	return c.complaintStep(cmd.OccurredAt, now, cmd.ComplaintID, StepDecline,
		firstErr(requiredID("complaintId", cmd.ComplaintID), required("by", cmd.By), required("reason", cmd.Reason)),
		&ComplaintDeclined{ComplaintID: cmd.ComplaintID, By: cmd.By, Reason: cmd.Reason})
}

// TransferComplaint records ComplaintTransferred (while open). The new
// owner must differ from the current one.
func (c *Customer) TransferComplaint(cmd TransferComplaint, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(
		requiredID("complaintId", cmd.ComplaintID),
		required("by", cmd.By),
		required("to", cmd.To),
		required("reason", cmd.Reason),
	); err != nil {
		return err
	}
	cp, err := c.step(cmd.ComplaintID, StepTransfer, at)
	if err != nil {
		return err
	}
	if cp.owner == cmd.To {
		return &aggregate.PreconditionError{Action: "transfer complaint " + cmd.ComplaintID, Reason: cmd.To + " already owns it", Allowed: cp.allowed()}
	}
	c.record(&ComplaintTransferred{ComplaintID: cmd.ComplaintID, By: cmd.By, From: cp.owner, To: cmd.To, Reason: cmd.Reason}, at)
	return nil
}

// ProposeResolution records ResolutionProposed (after acknowledgement,
// while open; a MAJOR complaint must be escalated). Options must be
// non-empty, distinct strings.
func (c *Customer) ProposeResolution(cmd ProposeResolution, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(requiredID("complaintId", cmd.ComplaintID), required("by", cmd.By)); err != nil {
		return err
	}
	if len(cmd.Options) == 0 {
		return invalid("options", "at least one option is required")
	}
	for i, o := range cmd.Options {
		if err := required("options", o); err != nil {
			return invalid("options", "option %d is empty", i)
		}
		if slices.Index(cmd.Options, o) != i {
			return invalid("options", "option %d repeats %q", i, o)
		}
	}
	if _, err := c.step(cmd.ComplaintID, StepPropose, at); err != nil {
		return err
	}
	c.record(&ResolutionProposed{ComplaintID: cmd.ComplaintID, By: cmd.By, Options: slices.Clone(cmd.Options)}, at)
	return nil
}

// AcceptResolution records ResolutionAccepted (in RESOLUTION_PROPOSED, once
// per proposal); OptionIndex must index the proposed options.
func (c *Customer) AcceptResolution(cmd AcceptResolution, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := requiredID("complaintId", cmd.ComplaintID); err != nil {
		return err
	}
	if cmd.OptionIndex < 0 {
		return invalid("optionIndex", "%d is negative", cmd.OptionIndex)
	}
	cp, err := c.step(cmd.ComplaintID, StepAccept, at)
	if err != nil {
		return err
	}
	if cmd.OptionIndex >= len(cp.options) {
		return invalid("optionIndex", "%d is not one of the %d proposed options", cmd.OptionIndex, len(cp.options))
	}
	c.record(&ResolutionAccepted{ComplaintID: cmd.ComplaintID, OptionIndex: cmd.OptionIndex, Option: cp.options[cmd.OptionIndex]}, at)
	return nil
}

// TakeRecoveryStep records RecoveryStepTaken (while open). Compensation is
// allowed only with SYMBOLIC_ATONEMENT and must be non-negative.
func (c *Customer) TakeRecoveryStep(cmd TakeRecoveryStep, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(requiredID("complaintId", cmd.ComplaintID), requiredEnum("step", cmd.Step), required("by", cmd.By)); err != nil {
		return err
	}
	var comp *Money
	if cmd.Compensation != nil {
		if cmd.Step != StepSymbolicAtonement {
			return invalid("compensation", "only a SYMBOLIC_ATONEMENT step carries compensation, not %s", cmd.Step)
		}
		if err := validMoney("compensation", *cmd.Compensation); err != nil {
			return err
		}
		m := *cmd.Compensation
		comp = &m
	}
	if _, err := c.step(cmd.ComplaintID, StepRecovery, at); err != nil {
		return err
	}
	c.record(&RecoveryStepTaken{ComplaintID: cmd.ComplaintID, Step: cmd.Step, By: cmd.By, Note: cmd.Note, Compensation: comp}, at)
	return nil
}

// ResolveComplaint records ComplaintResolved (from ACKNOWLEDGED, ESCALATED
// or RESOLUTION_PROPOSED; a MAJOR complaint needs an escalation and an
// incident report).
func (c *Customer) ResolveComplaint(cmd ResolveComplaint, now time.Time) error {
	return c.complaintStep(cmd.OccurredAt, now, cmd.ComplaintID, StepResolve,
		firstErr(requiredID("complaintId", cmd.ComplaintID), required("by", cmd.By), requiredEnum("outcome", cmd.Outcome)),
		&ComplaintResolved{ComplaintID: cmd.ComplaintID, By: cmd.By, Outcome: cmd.Outcome, Note: cmd.Note})
}

// ReopenComplaint records ComplaintReopened (from RESOLVED or DECLINED); the
// complaint returns to ACKNOWLEDGED.
func (c *Customer) ReopenComplaint(cmd ReopenComplaint, now time.Time) error {
	return c.complaintStep(cmd.OccurredAt, now, cmd.ComplaintID, StepReopen,
		firstErr(requiredID("complaintId", cmd.ComplaintID), required("by", cmd.By)),
		&ComplaintReopened{ComplaintID: cmd.ComplaintID, By: cmd.By, Note: cmd.Note})
}

// FileIncidentReport records IncidentReportFiled (while open, after an
// escalation). Every part of the report is required.
func (c *Customer) FileIncidentReport(cmd FileIncidentReport, now time.Time) error {
	return c.complaintStep(cmd.OccurredAt, now, cmd.ComplaintID, StepIncident,
		firstErr(
			requiredID("complaintId", cmd.ComplaintID),
			required("by", cmd.By),
			required("impact", cmd.Impact),
			required("handling", cmd.Handling),
			required("cause", cmd.Cause),
			required("correctiveActions", cmd.CorrectiveActions),
		),
		&IncidentReportFiled{
			ComplaintID: cmd.ComplaintID, By: cmd.By, Impact: cmd.Impact, Handling: cmd.Handling,
			Cause: cmd.Cause, CorrectiveActions: cmd.CorrectiveActions,
		})
}

// complaintStep is the shape the plain complaint verbs share: resolve the
// business time, refuse bad arguments (argsErr), ask the state machine
// whether the action is allowed now, record the event.
func (c *Customer) complaintStep(occurred, now time.Time, complaintID string, a ComplaintStep, argsErr error, e Event) error {
	at, err := c.occurredAt(occurred, now)
	if err != nil {
		return err
	}
	if argsErr != nil {
		return argsErr
	}
	if _, err := c.step(complaintID, a, at); err != nil {
		return err
	}
	c.record(e, at)
	return nil
}
