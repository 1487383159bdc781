package query

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/projections/servicereport"
)

// ---- Paging ----

// Page asks for at most First items after the opaque cursor After ("" = from
// the start). First is already validated: 0 <= First <= MaxFirst.
type Page struct {
	First int
	After string
}

// Edge is one item of a connection with its opaque cursor.
type Edge[T any] struct {
	Cursor string
	Node   T
}

// Connection is one page of a list. TotalCount is the exact number of items
// matching the query (all pages); readers that cannot count leave it 0 where
// the contract has no totalCount (events).
type Connection[T any] struct {
	Edges       []Edge[T]
	HasNextPage bool
	TotalCount  int
}

// ---- Queries ----

// CustomerFilter is the customers(filter) input; nil/empty = no constraint.
type CustomerFilter struct {
	Stages           []string
	Tiers            []string
	AccountManager   *string
	MinLoyaltyScore  *int
	HasOpenComplaint *bool
	// Search is only passed for callers allowed to see PII.
	Search *string
	// DueForReplenishmentBy keeps customers expected to buy some item
	// category again on or before this date (UTC), overdue ones included.
	DueForReplenishmentBy *calendar.Date
}

// NextPurchase is a customer's expected next purchase of one item
// category (projections/replenish).
type NextPurchase struct {
	Category string
	// Item is the latest item text bought in the category.
	Item string
	// ExpectedAt is LastPurchaseAt + Interval (in the past when overdue).
	ExpectedAt time.Time
	// Interval is the estimated mean interval between purchases, in days:
	// the customer's own, shrunk towards the category's population.
	Interval float64
	// Confidence is the weight of the customer's own intervals, 0–1.
	Confidence     float64
	Purchases      int
	LastPurchaseAt time.Time
}

// TimelineFilter selects and orders a customer's events.
type TimelineFilter struct {
	Types       []string
	OldestFirst bool
	AsOf        *time.Time
}

// ComplaintFilter is the complaints(filter) input plus the customer scope
// used by Customer.complaints and Customer.openComplaints.
type ComplaintFilter struct {
	CustomerID string // "" = all customers
	AsOf       *time.Time
	Statuses   []string
	Severity   *string
	Owner      *string
	Overdue    *bool
	FiledFrom  *time.Time
	FiledTo    *time.Time
}

// OpenStatuses returns the statuses of a complaint still open (what
// Customer.openComplaints asks the ComplaintReader for).
func OpenStatuses() []string {
	return []string{"OPEN", "ACKNOWLEDGED", "ESCALATED", "RESOLUTION_PROPOSED"}
}

// FollowUpFilter is the followUps(filter) input plus a customer scope.
type FollowUpFilter struct {
	CustomerID string // "" = all customers
	Owner      *string
	Status     *string
	DueBefore  *time.Time
	Reasons    []string
}

// EventFilter is the events(filter) input.
type EventFilter struct {
	StreamID *string
	Types    []string
	From     *time.Time
	To       *time.Time
}

// ---- Views ----

// Money is an amount in minor units of an ISO 4217 currency.
type Money struct {
	AmountMinor int64
	Currency    string
}

// Customer is a customer as the API shows it. PII fields are pointers:
// nil when absent or erased. Enum fields hold the GraphQL value names.
type Customer struct {
	ID               string
	Name             *string
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
	Erased           bool
	ConductFlagged   bool
	RegisteredAt     time.Time
	Stage            string
	StageSince       time.Time
	StageHistory     []StageChange
	LastInboundAt    *time.Time
	LastPurchaseAt   *time.Time
	PurchaseCount    int
	LifetimeValue    []Money
	Loyalty          Loyalty
	// MergedFrom lists the customers merged into this one; MergedInto is
	// the survivor this one was merged into (nil when not merged: a
	// merged customer is shown as its survivor, except as of an instant
	// before the merge).
	MergedFrom []string
	MergedInto *string
	// Version is the stream revision of the last event.
	Version int
	// AsOf is set when the view was recomputed as of a past instant; the
	// nested reads (complaints, timeline …) are then asked as of it too.
	AsOf *time.Time

	// Details, when non-nil, computes Stage, StageSince, StageHistory and
	// Loyalty on demand: the resolvers of those fields call it instead of
	// reading the fields above, so a query that selects none of them does
	// not pay for them. A reader may call it more than once per view (once
	// per selected field); implementations should remember the first
	// answer. Nil means the fields above are filled in.
	Details func(ctx context.Context) (CustomerDetails, error)
}

// CustomerDetails are the parts of a Customer that cost a fold of the
// customer's stream (see Customer.Details).
type CustomerDetails struct {
	Stage        string
	StageSince   time.Time
	StageHistory []StageChange
	Loyalty      Loyalty
}

// StageChange is one lifecycle transition.
type StageChange struct {
	From   *string
	To     string
	At     time.Time
	Reason string
}

// Loyalty is the loyalty read model of one customer.
type Loyalty struct {
	Score               int
	Level               string
	Referrals           int
	CSATAverage         *float64
	RecoveredComplaints int
	PAlive              *float64
	// PAliveFn, when non-nil, computes PAlive on demand (the loyalty
	// resolver calls it only when pAlive is selected). Nil means PAlive
	// is filled in.
	PAliveFn func(ctx context.Context) (*float64, error)
}

// TimelineEntry is one event of a customer's stream.
type TimelineEntry struct {
	// CustomerID is the customer whose stream holds the event: the
	// customer's own, or one merged into it.
	CustomerID string
	EventID    string
	Type       string
	Revision   int
	Position   string
	OccurredAt time.Time
	RecordedAt time.Time
	// Summary is a one-line human-readable summary; it may quote PII.
	Summary string
	// SafeSummary is the same without personal data, shown to callers who
	// may not see PII; "" means "use the event type".
	SafeSummary string
	// Data is the event's JSON data (PII already decrypted or marked erased).
	Data json.RawMessage
	// Personal are the keys of Data that hold personal data (the fields the
	// event's PersonalData names): not for callers who may not see PII.
	Personal []string
}

// Complaint is a complaint as the API shows it.
type Complaint struct {
	ID                  string
	CustomerID          string
	Status              string
	Severity            string
	Category            string
	Channel             string
	Description         *string
	Owner               string
	FiledAt             time.Time
	ReplyDueAt          time.Time
	ReplyDueProvisional bool // ReplyDueAt counted Mon–Fri in a year without official holiday data
	AcknowledgedAt      *time.Time
	Overdue             bool
	EscalatedTo         *string
	PromisedReplyBy     *time.Time
	ResolutionOptions   []string
	AcceptedOption      *string
	RecoverySteps       []RecoveryStep
	Compensation        []Money
	Outcome             *string
	ResolvedAt          *time.Time
	DeclineReason       *string
	RepeatContacts      int
	IncidentReportFiled bool
	// Version is the revision of the customer stream that holds the complaint.
	Version int
}

// RecoveryStep is one recorded service-recovery step.
type RecoveryStep struct {
	Step string
	At   time.Time
	By   string
	Note *string
}

// FollowUp is one follow-up.
type FollowUp struct {
	ID          string
	CustomerID  string
	ComplaintID *string
	Reason      string
	Owner       string
	DueAt       time.Time
	Status      string
	Outcome     *string
	Note        *string
}

// Holiday is one occasion of a calendar.
type Holiday struct {
	Calendar  string
	Key       string
	Name      string
	LocalName *string
	Date      calendar.Date
}

// Greeting is one greeting outcome on a customer.
type Greeting struct {
	CampaignID *string
	Occasion   string
	Channel    string
	Status     string
	Reason     *string
	At         time.Time
}

// Campaign is a greeting campaign and its delivery counts.
type Campaign struct {
	ID              string
	Name            string
	Occasion        string
	Date            *calendar.Date
	SendAtLocal     string
	Status          string
	Audience        Audience
	AudienceSize    int
	Sent            int
	Failed          int
	Skipped         int
	SkippedByReason []ReasonCount
	// Excluded counts the customers the campaign covers but its audience
	// leaves out (stage, tier), by reason in ExcludedByReason.
	Excluded         int
	ExcludedByReason []ReasonCount
	CreatedBy        string
}

// Audience is who a campaign is for.
type Audience struct {
	Stages                []string
	Tiers                 []string
	AccountManager        *string
	ExcludeConductFlagged bool
}

// ReasonCount counts items with the same reason.
type ReasonCount struct {
	Reason string
	Count  int
}

// CampaignPreview is what a campaign would do if it ran now.
type CampaignPreview struct {
	// Evaluated is the number of customers the campaign covers (account
	// manager, occasion window): AudienceSize + Excluded.
	Evaluated int
	// AudienceSize is the number of them in the audience: Greeted + Skipped.
	AudienceSize int
	// Greeted would receive a greeting.
	Greeted int
	// Skipped would be skipped, grouped by reason in SkippedByReason.
	Skipped         int
	SkippedByReason []ReasonCount
	// ByChannel counts the greetings that would go out per channel.
	ByChannel []ReasonCount
	// Excluded are outside the audience (stage, tier), grouped by reason
	// in ExcludedByReason.
	Excluded         int
	ExcludedByReason []ReasonCount
}

// LifecycleReport is the funnel report.
type LifecycleReport struct {
	Buckets []LifecycleBucket
}

// LifecycleBucket is one bucket of the lifecycle report.
type LifecycleBucket struct {
	Start       time.Time
	Population  []StageCount
	Transitions []TransitionCount
}

// StageCount counts customers in a stage.
type StageCount struct {
	Stage string
	Count int
}

// TransitionCount counts stage transitions.
type TransitionCount struct {
	From  *string
	To    string
	Count int
}

// ChurnModel is a fitted BG/NBD model.
type ChurnModel struct {
	Unit          string
	AsOf          time.Time
	Customers     int
	R             float64
	Alpha         float64
	A             float64
	B             float64
	LogLikelihood float64
}

// ServiceReport is the manager's complaint-handling summary, as the
// service-report read model builds it (percentages 0–100, nil when there is
// nothing to measure).
type ServiceReport = servicereport.Report

// KeyCount counts items with the same key (a category, a severity …).
type KeyCount = servicereport.KeyCount

// Event is one stored event.
type Event struct {
	EventID    string
	StreamID   string
	Type       string
	Revision   int
	Position   string
	OccurredAt time.Time
	RecordedAt time.Time
	Data       json.RawMessage
	// Personal are the keys of Data that hold personal data (see
	// TimelineEntry.Personal).
	Personal []string
	Metadata json.RawMessage
}

// NextAction is one next best action (app/query/nextaction).
type NextAction struct {
	// Kind is COMPLAINT_REPLY, FOLLOW_UP, REPLENISHMENT, WIN_BACK or
	// LOYALTY_DROP.
	Kind       string
	CustomerID string
	// Ref is the complaint or follow-up it is about, if any.
	Ref    string
	Reason string
	DueAt  *time.Time
}
