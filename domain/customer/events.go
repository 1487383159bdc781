package customer

import (
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
)

// Event type names: stable string constants stored with every event. They
// are never derived from Go type names, so renaming a Go type cannot change
// what is stored.
const (
	TypeCustomerRegistered      = "CustomerRegistered"
	TypeProfileUpdated          = "ProfileUpdated"
	TypeMarketingConsentChanged = "MarketingConsentChanged"
	TypeContactLogged           = "ContactLogged"
	TypePurchaseMade            = "PurchaseMade"
	TypeReferralMade            = "ReferralMade"
	TypeGrumbleVoiced           = "GrumbleVoiced"
	TypeComplaintFiled          = "ComplaintFiled"
	TypeComplaintAcknowledged   = "ComplaintAcknowledged"
	TypeComplaintEscalated      = "ComplaintEscalated"
	TypeComplaintDeclined       = "ComplaintDeclined"
	TypeComplaintTransferred    = "ComplaintTransferred"
	TypeResolutionProposed      = "ResolutionProposed"
	TypeResolutionAccepted      = "ResolutionAccepted"
	TypeRecoveryStepTaken       = "RecoveryStepTaken"
	TypeComplaintResolved       = "ComplaintResolved"
	TypeComplaintReopened       = "ComplaintReopened"
	TypeIncidentReportFiled     = "IncidentReportFiled"
	TypeFollowUpScheduled       = "FollowUpScheduled"
	TypeFollowUpCompleted       = "FollowUpCompleted"
	TypeFollowUpCancelled       = "FollowUpCancelled"
	TypeSatisfactionRecorded    = "SatisfactionRecorded"
	TypeGreetingSent            = "GreetingSent"
	TypeGreetingFailed          = "GreetingFailed"
	TypeGreetingSkipped         = "GreetingSkipped"
	TypeCustomerMarkedLost      = "CustomerMarkedLost"
	TypeCustomerWonBack         = "CustomerWonBack"
	TypeConductFlagged          = "ConductFlagged"
	TypeCustomerErased          = "CustomerErased"
	TypeCustomerMerged          = "CustomerMerged"
	TypeCustomersMergedIn       = "CustomersMergedIn"
	TypeCustomerUnmerged        = "CustomerUnmerged"
	TypeCustomersUnmerged       = "CustomersUnmerged"
)

// StreamCategory is the category of customer streams: "customer-<id>".
const StreamCategory = "customer"

// Event is a fact recorded in a customer's stream. Events travel as
// pointers (*ContactLogged, …) everywhere — recorded by the aggregate,
// decoded by the codec — so type switches use pointer cases.
type Event interface {
	// EventType is the stable stored type name.
	EventType() string
}

// Personal is implemented by events that carry personal data (the fields
// marked * in the design, and the free-text notes of complaint steps and
// follow-ups, which quote what customers said and how to reach them).
// PersonalData returns pointers to those fields so
// that a codec can encrypt them before storage and decrypt — or, after
// erasure, replace with a marker — when reading. Nil or empty fields are
// left alone.
type Personal interface {
	Event
	PersonalData() []*string
}

// Money is an amount in minor units (fen, cents) of an ISO 4217 currency.
type Money struct {
	AmountMinor int64  `json:"amountMinor"`
	Currency    string `json:"currency"`
}

// CustomerRegistered opens a customer's stream.
type CustomerRegistered struct {
	CustomerID       string `json:"customerId"`
	Name             string `json:"name"`
	Phone            string `json:"phone,omitempty"`
	Email            string `json:"email,omitempty"`
	WeChat           string `json:"wechat,omitempty"`
	Tier             Tier   `json:"tier"`
	Segment          string `json:"segment,omitempty"`
	AccountManager   string `json:"accountManager,omitempty"`
	Timezone         string `json:"timezone"`
	Locale           string `json:"locale"`
	Birthday         string `json:"birthday,omitempty"` // YYYY-MM-DD; personal
	MarketingConsent bool   `json:"marketingConsent"`
}

// ProfileUpdated carries only the fields that changed (nil = unchanged).
type ProfileUpdated struct {
	Name           *string `json:"name,omitempty"`
	Phone          *string `json:"phone,omitempty"`
	Email          *string `json:"email,omitempty"`
	WeChat         *string `json:"wechat,omitempty"`
	Tier           *Tier   `json:"tier,omitempty"`
	Segment        *string `json:"segment,omitempty"`
	AccountManager *string `json:"accountManager,omitempty"`
	Timezone       *string `json:"timezone,omitempty"`
	Locale         *string `json:"locale,omitempty"`
	Birthday       *string `json:"birthday,omitempty"`
}

// MarketingConsentChanged records a consent decision and where it came from.
type MarketingConsentChanged struct {
	Consent bool   `json:"consent"`
	Channel string `json:"channel,omitempty"`
	Source  string `json:"source,omitempty"`
}

// ContactLogged is any contact, either way, on any channel.
type ContactLogged struct {
	Channel     Channel   `json:"channel"`
	Direction   Direction `json:"direction"`
	Agent       string    `json:"agent"`
	Summary     string    `json:"summary,omitempty"` // personal
	ComplaintID string    `json:"complaintId,omitempty"`
}

// PurchaseMade is an order.
type PurchaseMade struct {
	OrderID string   `json:"orderId"`
	Amount  Money    `json:"amount"`
	Items   []string `json:"items,omitempty"`
}

// ReferralMade: the customer brought in another customer.
type ReferralMade struct {
	ReferredCustomerID string `json:"referredCustomerId"`
}

// GrumbleVoiced is informal dissatisfaction (抱怨), not a formal complaint.
type GrumbleVoiced struct {
	Channel Channel `json:"channel"`
	Summary string  `json:"summary"` // personal
	Agent   string  `json:"agent,omitempty"`
}

// ComplaintFiled opens a formal complaint (投诉). Owner is the first-contact
// owner (首问负责制). ReplyDueAt is filed + half a working day.
type ComplaintFiled struct {
	ComplaintID         string    `json:"complaintId"`
	Channel             Channel   `json:"channel"`
	Category            string    `json:"category"`
	Severity            Severity  `json:"severity"`
	Description         string    `json:"description"` // personal
	Owner               string    `json:"owner"`
	ReplyDueAt          time.Time `json:"replyDueAt"`
	ReplyDueProvisional bool      `json:"replyDueProvisional,omitempty"`
}

// ComplaintAcknowledged: the customer was told the complaint is being handled.
type ComplaintAcknowledged struct {
	ComplaintID string `json:"complaintId"`
	By          string `json:"by"`
	Note        string `json:"note,omitempty"`
}

// ComplaintEscalated: handed to management, with a promised reply time.
type ComplaintEscalated struct {
	ComplaintID     string    `json:"complaintId"`
	By              string    `json:"by"`
	To              string    `json:"to"`
	Reason          string    `json:"reason"`
	PromisedReplyBy time.Time `json:"promisedReplyBy"`
}

// ComplaintDeclined: an invalid complaint (outside the contract), politely
// declined with the reason.
type ComplaintDeclined struct {
	ComplaintID string `json:"complaintId"`
	By          string `json:"by"`
	Reason      string `json:"reason"`
}

// ComplaintTransferred: an explicit change of owner — who, to whom, why.
// Ownership never changes any other way.
type ComplaintTransferred struct {
	ComplaintID string `json:"complaintId"`
	By          string `json:"by"`
	From        string `json:"from"`
	To          string `json:"to"`
	Reason      string `json:"reason"`
}

// ResolutionProposed offers the customer options to choose from.
type ResolutionProposed struct {
	ComplaintID string   `json:"complaintId"`
	By          string   `json:"by"`
	Options     []string `json:"options"`
}

// ResolutionAccepted: the customer chose one of the proposed options.
type ResolutionAccepted struct {
	ComplaintID string `json:"complaintId"`
	OptionIndex int    `json:"optionIndex"`
	Option      string `json:"option"`
}

// RecoveryStepTaken records one of the five service-recovery steps.
type RecoveryStepTaken struct {
	ComplaintID  string       `json:"complaintId"`
	Step         RecoveryStep `json:"step"`
	By           string       `json:"by"`
	Note         string       `json:"note,omitempty"`
	Compensation *Money       `json:"compensation,omitempty"`
}

// ComplaintResolved closes a complaint with the customer's verdict.
type ComplaintResolved struct {
	ComplaintID string  `json:"complaintId"`
	By          string  `json:"by"`
	Outcome     Outcome `json:"outcome"`
	Note        string  `json:"note,omitempty"`
}

// ComplaintReopened: a resolved or declined complaint is open again.
type ComplaintReopened struct {
	ComplaintID string `json:"complaintId"`
	By          string `json:"by"`
	Note        string `json:"note,omitempty"`
}

// IncidentReportFiled is the problem analysis report a MAJOR complaint
// needs before it can be resolved.
type IncidentReportFiled struct {
	ComplaintID       string `json:"complaintId"`
	By                string `json:"by"`
	Impact            string `json:"impact"`
	Handling          string `json:"handling"`
	Cause             string `json:"cause"`
	CorrectiveActions string `json:"correctiveActions"`
}

// FollowUpScheduled puts a follow-up (回访) on someone's queue.
type FollowUpScheduled struct {
	FollowUpID  string         `json:"followUpId"`
	ComplaintID string         `json:"complaintId,omitempty"`
	Reason      FollowUpReason `json:"reason"`
	Owner       string         `json:"owner"`
	DueAt       time.Time      `json:"dueAt"`
	Note        string         `json:"note,omitempty"`
}

// FollowUpCompleted records the follow-up's outcome.
type FollowUpCompleted struct {
	FollowUpID string          `json:"followUpId"`
	By         string          `json:"by"`
	Outcome    FollowUpOutcome `json:"outcome"`
	Note       string          `json:"note,omitempty"`
}

// FollowUpCancelled takes a follow-up off the queue.
type FollowUpCancelled struct {
	FollowUpID string `json:"followUpId"`
	By         string `json:"by"`
	Reason     string `json:"reason"`
}

// SatisfactionRecorded is a survey answer, 1–5.
type SatisfactionRecorded struct {
	Score       int    `json:"score"`
	Comment     string `json:"comment,omitempty"` // personal
	ComplaintID string `json:"complaintId,omitempty"`
}

// GreetingSent: a campaign's greeting was delivered to the customer.
type GreetingSent struct {
	CampaignID string  `json:"campaignId"`
	Occasion   string  `json:"occasion"`
	Channel    Channel `json:"channel"`
	Template   int     `json:"template"`
	Attempts   int     `json:"attempts,omitempty"`
}

// GreetingFailed: delivery failed after retries.
type GreetingFailed struct {
	CampaignID string  `json:"campaignId"`
	Occasion   string  `json:"occasion"`
	Channel    Channel `json:"channel"`
	Reason     string  `json:"reason"`
	Attempts   int     `json:"attempts,omitempty"`
}

// GreetingSkipped: the customer, of a campaign's audience, was not greeted,
// and why (NO_CONSENT, CONDUCT_FLAGGED, NO_CHANNEL, MISSED). Customers
// outside the audience get no event (the campaign counts them); streams
// written before that may hold STAGE_EXCLUDED and TIER_EXCLUDED skips.
type GreetingSkipped struct {
	CampaignID string `json:"campaignId"`
	Occasion   string `json:"occasion"`
	Reason     string `json:"reason"`
	// Channel is the channel the customer's template would have used
	// (absent on events recorded before it was kept).
	Channel Channel `json:"channel,omitzero"`
}

// CustomerMarkedLost: someone decided the customer is gone.
type CustomerMarkedLost struct {
	Reason string `json:"reason"`
	By     string `json:"by"`
}

// CustomerWonBack: a lost customer came back.
type CustomerWonBack struct {
	Reason string `json:"reason"`
}

// ConductFlagged records abusive behaviour; dignified service may refuse
// unreasonable customers [004].
type ConductFlagged struct {
	Severity Severity `json:"severity"`
	Note     string   `json:"note"` // personal
	By       string   `json:"by"`
}

// CustomerErased: the customer's personal-data key was destroyed. No events
// follow it except erasure bookkeeping.
type CustomerErased struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

func (CustomerRegistered) EventType() string      { return TypeCustomerRegistered }
func (ProfileUpdated) EventType() string          { return TypeProfileUpdated }
func (MarketingConsentChanged) EventType() string { return TypeMarketingConsentChanged }
func (ContactLogged) EventType() string           { return TypeContactLogged }
func (PurchaseMade) EventType() string            { return TypePurchaseMade }
func (ReferralMade) EventType() string            { return TypeReferralMade }
func (GrumbleVoiced) EventType() string           { return TypeGrumbleVoiced }
func (ComplaintFiled) EventType() string          { return TypeComplaintFiled }
func (ComplaintAcknowledged) EventType() string   { return TypeComplaintAcknowledged }
func (ComplaintEscalated) EventType() string      { return TypeComplaintEscalated }
func (ComplaintDeclined) EventType() string       { return TypeComplaintDeclined }
func (ComplaintTransferred) EventType() string    { return TypeComplaintTransferred }
func (ResolutionProposed) EventType() string      { return TypeResolutionProposed }
func (ResolutionAccepted) EventType() string      { return TypeResolutionAccepted }
func (RecoveryStepTaken) EventType() string       { return TypeRecoveryStepTaken }
func (ComplaintResolved) EventType() string       { return TypeComplaintResolved }
func (ComplaintReopened) EventType() string       { return TypeComplaintReopened }
func (IncidentReportFiled) EventType() string     { return TypeIncidentReportFiled }
func (FollowUpScheduled) EventType() string       { return TypeFollowUpScheduled }
func (FollowUpCompleted) EventType() string       { return TypeFollowUpCompleted }
func (FollowUpCancelled) EventType() string       { return TypeFollowUpCancelled }
func (SatisfactionRecorded) EventType() string    { return TypeSatisfactionRecorded }
func (GreetingSent) EventType() string            { return TypeGreetingSent }
func (GreetingFailed) EventType() string          { return TypeGreetingFailed }
func (GreetingSkipped) EventType() string         { return TypeGreetingSkipped }
func (CustomerMarkedLost) EventType() string      { return TypeCustomerMarkedLost }
func (CustomerWonBack) EventType() string         { return TypeCustomerWonBack }
func (ConductFlagged) EventType() string          { return TypeConductFlagged }
func (CustomerErased) EventType() string          { return TypeCustomerErased }

// PersonalData of the events that carry personal data.
func (e *CustomerRegistered) PersonalData() []*string {
	return []*string{&e.Name, &e.Phone, &e.Email, &e.WeChat, &e.Birthday}
}
func (e *ProfileUpdated) PersonalData() []*string {
	return nonNil(e.Name, e.Phone, e.Email, e.WeChat, e.Birthday)
}
func (e *ContactLogged) PersonalData() []*string        { return []*string{&e.Summary} }
func (e *GrumbleVoiced) PersonalData() []*string        { return []*string{&e.Summary} }
func (e *ComplaintFiled) PersonalData() []*string       { return []*string{&e.Description} }
func (e *SatisfactionRecorded) PersonalData() []*string { return []*string{&e.Comment} }
func (e *ConductFlagged) PersonalData() []*string       { return []*string{&e.Note} }

// The notes below were stored in clear before they were marked personal:
// events written then keep their clear note (the log is never rewritten),
// which reads as it is while the customer's key lives and as the erasure
// marker once it is destroyed (see package pii). Their shape is unchanged,
// so their schema version stays 1.
func (e *ComplaintAcknowledged) PersonalData() []*string { return []*string{&e.Note} }
func (e *RecoveryStepTaken) PersonalData() []*string     { return []*string{&e.Note} }
func (e *ComplaintResolved) PersonalData() []*string     { return []*string{&e.Note} }
func (e *ComplaintReopened) PersonalData() []*string     { return []*string{&e.Note} }
func (e *FollowUpScheduled) PersonalData() []*string     { return []*string{&e.Note} }
func (e *FollowUpCompleted) PersonalData() []*string     { return []*string{&e.Note} }

func nonNil(ps ...*string) []*string {
	out := ps[:0:0]
	for _, p := range ps {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// EventSpec describes one stored event type for a codec: its name, the
// current schema version, a constructor for decoding, and upcasters that
// turn older stored versions into the current shape on read (stored events
// are never rewritten).
type EventSpec = aggregate.EventSpec[Event]

// IsEventType reports whether t names a customer-stream event type.
func IsEventType(t string) bool { _, ok := eventTypes[t]; return ok }

var eventTypes = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, s := range Events() {
		m[s.Type] = struct{}{}
	}
	return m
}()

// Events lists every customer-stream event type. The codec built in main
// registers them; nothing here is global state.
func Events() []EventSpec {
	spec := func(t string, f func() Event) EventSpec { return EventSpec{Type: t, Version: 1, New: f} }
	return []EventSpec{
		spec(TypeCustomerRegistered, func() Event { return &CustomerRegistered{} }),
		spec(TypeProfileUpdated, func() Event { return &ProfileUpdated{} }),
		spec(TypeMarketingConsentChanged, func() Event { return &MarketingConsentChanged{} }),
		spec(TypeContactLogged, func() Event { return &ContactLogged{} }),
		spec(TypePurchaseMade, func() Event { return &PurchaseMade{} }),
		spec(TypeReferralMade, func() Event { return &ReferralMade{} }),
		spec(TypeGrumbleVoiced, func() Event { return &GrumbleVoiced{} }),
		spec(TypeComplaintFiled, func() Event { return &ComplaintFiled{} }),
		spec(TypeComplaintAcknowledged, func() Event { return &ComplaintAcknowledged{} }),
		spec(TypeComplaintEscalated, func() Event { return &ComplaintEscalated{} }),
		spec(TypeComplaintDeclined, func() Event { return &ComplaintDeclined{} }),
		spec(TypeComplaintTransferred, func() Event { return &ComplaintTransferred{} }),
		spec(TypeResolutionProposed, func() Event { return &ResolutionProposed{} }),
		spec(TypeResolutionAccepted, func() Event { return &ResolutionAccepted{} }),
		spec(TypeRecoveryStepTaken, func() Event { return &RecoveryStepTaken{} }),
		spec(TypeComplaintResolved, func() Event { return &ComplaintResolved{} }),
		spec(TypeComplaintReopened, func() Event { return &ComplaintReopened{} }),
		spec(TypeIncidentReportFiled, func() Event { return &IncidentReportFiled{} }),
		spec(TypeFollowUpScheduled, func() Event { return &FollowUpScheduled{} }),
		spec(TypeFollowUpCompleted, func() Event { return &FollowUpCompleted{} }),
		spec(TypeFollowUpCancelled, func() Event { return &FollowUpCancelled{} }),
		spec(TypeSatisfactionRecorded, func() Event { return &SatisfactionRecorded{} }),
		spec(TypeGreetingSent, func() Event { return &GreetingSent{} }),
		spec(TypeGreetingFailed, func() Event { return &GreetingFailed{} }),
		spec(TypeGreetingSkipped, func() Event { return &GreetingSkipped{} }),
		spec(TypeCustomerMarkedLost, func() Event { return &CustomerMarkedLost{} }),
		spec(TypeCustomerWonBack, func() Event { return &CustomerWonBack{} }),
		spec(TypeConductFlagged, func() Event { return &ConductFlagged{} }),
		spec(TypeCustomerErased, func() Event { return &CustomerErased{} }),
		spec(TypeCustomerMerged, func() Event { return &CustomerMerged{} }),
		spec(TypeCustomersMergedIn, func() Event { return &CustomersMergedIn{} }),
		spec(TypeCustomerUnmerged, func() Event { return &CustomerUnmerged{} }),
		spec(TypeCustomersUnmerged, func() Event { return &CustomersUnmerged{} }),
	}
}
