package graphql

import (
	"context"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
)

// Commands is the write side: one method per mutation. Each receives the
// acting user (to be recorded in the events' metadata) and a typed input
// already validated for shape (types, enums, the occurredAt-not-in-future
// rule); domain rules are the implementation's. A refused command appends
// nothing and returns an error matching one of the sentinels.
type Commands interface {
	RegisterCustomer(ctx context.Context, by Actor, in RegisterCustomerInput) (CustomerResult, error)
	UpdateProfile(ctx context.Context, by Actor, in UpdateProfileInput) (CustomerResult, error)
	SetMarketingConsent(ctx context.Context, by Actor, in SetMarketingConsentInput) (CustomerResult, error)
	LogContact(ctx context.Context, by Actor, in LogContactInput) (CustomerResult, error)
	RecordPurchase(ctx context.Context, by Actor, in RecordPurchaseInput) (CustomerResult, error)
	RecordReferral(ctx context.Context, by Actor, in RecordReferralInput) (CustomerResult, error)
	VoiceGrumble(ctx context.Context, by Actor, in VoiceGrumbleInput) (CustomerResult, error)
	FileComplaint(ctx context.Context, by Actor, in FileComplaintInput) (ComplaintResult, error)
	AcknowledgeComplaint(ctx context.Context, by Actor, in ComplaintActionInput) (ComplaintResult, error)
	EscalateComplaint(ctx context.Context, by Actor, in EscalateComplaintInput) (ComplaintResult, error)
	DeclineComplaint(ctx context.Context, by Actor, in DeclineComplaintInput) (ComplaintResult, error)
	TransferComplaint(ctx context.Context, by Actor, in TransferComplaintInput) (ComplaintResult, error)
	ProposeResolution(ctx context.Context, by Actor, in ProposeResolutionInput) (ComplaintResult, error)
	AcceptResolution(ctx context.Context, by Actor, in AcceptResolutionInput) (ComplaintResult, error)
	TakeRecoveryStep(ctx context.Context, by Actor, in TakeRecoveryStepInput) (ComplaintResult, error)
	ResolveComplaint(ctx context.Context, by Actor, in ResolveComplaintInput) (ComplaintResult, error)
	ReopenComplaint(ctx context.Context, by Actor, in ComplaintActionInput) (ComplaintResult, error)
	FileIncidentReport(ctx context.Context, by Actor, in IncidentReportInput) (ComplaintResult, error)
	ScheduleFollowUp(ctx context.Context, by Actor, in ScheduleFollowUpInput) (FollowUpResult, error)
	CompleteFollowUp(ctx context.Context, by Actor, in CompleteFollowUpInput) (FollowUpResult, error)
	RecordSatisfaction(ctx context.Context, by Actor, in RecordSatisfactionInput) (CustomerResult, error)
	MarkLost(ctx context.Context, by Actor, in MarkLostInput) (CustomerResult, error)
	FlagConduct(ctx context.Context, by Actor, in FlagConductInput) (CustomerResult, error)
	ScheduleGreetingCampaign(ctx context.Context, by Actor, in ScheduleGreetingCampaignInput) (CampaignResult, error)
	CancelGreetingCampaign(ctx context.Context, by Actor, in CancelCampaignInput) (CampaignResult, error)
	EraseCustomer(ctx context.Context, by Actor, in EraseCustomerInput) (CustomerResult, error)
}

// CustomerResult is the outcome of a customer-stream command: the customer
// after the command (read your writes) and the stream revision reached.
type CustomerResult struct {
	Customer CustomerView
	Version  int
}

// ComplaintResult is the outcome of a complaint command.
type ComplaintResult struct {
	Complaint ComplaintView
	Version   int
}

// FollowUpResult is the outcome of a follow-up command.
type FollowUpResult struct {
	FollowUp FollowUpView
	Version  int
}

// CampaignResult is the outcome of a campaign command.
type CampaignResult struct {
	Campaign CampaignView
}

// Meta are the fields every customer-stream input shares.
type Meta struct {
	// OccurredAt is the business time; nil = now. Never in the future.
	OccurredAt *time.Time
	// ExpectedVersion, when set, must equal the stream's revision (CONFLICT otherwise).
	ExpectedVersion *int
	// IdempotencyKey, when set, makes a retry append nothing and return the same result.
	IdempotencyKey string
}

// RegisterCustomerInput opens a customer stream.
type RegisterCustomerInput struct {
	ID               string // "" = generate
	Name             string
	Phone            *string
	Email            *string
	WeChat           *string
	Tier             string
	Segment          *string
	AccountManager   *string
	Timezone         string
	Locale           string
	Birthday         *calendar.Date
	MarketingConsent bool
	OccurredAt       *time.Time
	IdempotencyKey   string
}

// UpdateProfileInput changes profile fields; nil = unchanged.
type UpdateProfileInput struct {
	CustomerID     string
	Name           *string
	Phone          *string
	Email          *string
	WeChat         *string
	Tier           *string
	Segment        *string
	AccountManager *string
	Timezone       *string
	Locale         *string
	Birthday       *calendar.Date
	Meta
}

// SetMarketingConsentInput records a consent decision.
type SetMarketingConsentInput struct {
	CustomerID string
	Consent    bool
	Source     *string
	Meta
}

// LogContactInput records a contact.
type LogContactInput struct {
	CustomerID  string
	Channel     string
	Direction   string
	Agent       string
	Summary     *string
	ComplaintID *string
	Meta
}

// RecordPurchaseInput records an order.
type RecordPurchaseInput struct {
	CustomerID string
	OrderID    string
	Amount     Money
	Items      []string
	Meta
}

// RecordReferralInput records a referral.
type RecordReferralInput struct {
	CustomerID         string
	ReferredCustomerID string
	Meta
}

// VoiceGrumbleInput records informal dissatisfaction.
type VoiceGrumbleInput struct {
	CustomerID string
	Channel    string
	Summary    string
	Agent      *string
	Meta
}

// FileComplaintInput opens a formal complaint.
type FileComplaintInput struct {
	CustomerID  string
	ComplaintID string // "" = generate
	Channel     string
	Category    string
	Severity    string
	Description string
	Owner       string
	Meta
}

// ComplaintActionInput acknowledges or reopens a complaint.
type ComplaintActionInput struct {
	ComplaintID string
	By          string
	Note        *string
	Meta
}

// EscalateComplaintInput escalates a complaint and promises a reply time.
type EscalateComplaintInput struct {
	ComplaintID     string
	By              string
	To              string
	Reason          string
	PromisedReplyBy time.Time
	Meta
}

// DeclineComplaintInput declines an invalid complaint.
type DeclineComplaintInput struct {
	ComplaintID string
	By          string
	Reason      string
	Meta
}

// TransferComplaintInput hands a complaint to another owner explicitly.
type TransferComplaintInput struct {
	ComplaintID string
	By          string
	To          string
	Reason      string
	Meta
}

// ProposeResolutionInput offers resolution options.
type ProposeResolutionInput struct {
	ComplaintID string
	By          string
	Options     []string
	Meta
}

// AcceptResolutionInput records the option the customer chose.
type AcceptResolutionInput struct {
	ComplaintID string
	OptionIndex int
	Meta
}

// TakeRecoveryStepInput records a service-recovery step.
type TakeRecoveryStepInput struct {
	ComplaintID  string
	Step         string
	By           string
	Note         *string
	Compensation *Money
	Meta
}

// ResolveComplaintInput closes a complaint with the customer's verdict.
type ResolveComplaintInput struct {
	ComplaintID string
	By          string
	Outcome     string
	Note        *string
	Meta
}

// IncidentReportInput files the problem-analysis report of a MAJOR complaint.
type IncidentReportInput struct {
	ComplaintID       string
	By                string
	Impact            string
	Handling          string
	Cause             string
	CorrectiveActions string
	Meta
}

// ScheduleFollowUpInput schedules a follow-up by hand.
type ScheduleFollowUpInput struct {
	CustomerID  string
	ComplaintID *string
	Reason      string
	Owner       *string
	DueAt       time.Time
	Note        *string
	Meta
}

// CompleteFollowUpInput records a follow-up's outcome.
type CompleteFollowUpInput struct {
	FollowUpID string
	By         string
	Outcome    string
	Note       *string
	Meta
}

// RecordSatisfactionInput records a survey answer (score 1–5).
type RecordSatisfactionInput struct {
	CustomerID  string
	Score       int
	Comment     *string
	ComplaintID *string
	Meta
}

// MarkLostInput marks a customer as lost explicitly.
type MarkLostInput struct {
	CustomerID string
	Reason     string
	By         string
	Meta
}

// FlagConductInput flags abusive behaviour.
type FlagConductInput struct {
	CustomerID string
	By         string
	Note       string
	Severity   string
	Meta
}

// AudienceInput selects the customers of a campaign.
type AudienceInput struct {
	Stages                []string
	Tiers                 []string
	AccountManager        *string
	ExcludeConductFlagged bool
}

// TemplateInput is one message template of a campaign.
type TemplateInput struct {
	Stages  []string
	Channel string
	Body    string
}

// ScheduleGreetingCampaignInput schedules (or previews) a greeting campaign.
type ScheduleGreetingCampaignInput struct {
	Name           string
	Occasion       string
	Date           *calendar.Date
	SendAtLocal    string
	Audience       AudienceInput
	Templates      []TemplateInput
	IdempotencyKey string
}

// CancelCampaignInput cancels the remaining sends of a campaign.
type CancelCampaignInput struct {
	CampaignID string
	Reason     string
}

// EraseCustomerInput crypto-shreds a customer's personal data.
type EraseCustomerInput struct {
	CustomerID string
	By         string
	Reason     string
}
