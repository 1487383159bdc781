package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
)

// Deps are the ports the API is built on. Resolvers read views through the
// readers only; mutations go through Commands only. Every port returns plain
// view structs defined in this package, so an adapter over a read model is a
// field-by-field copy.
//
// Errors returned by a port are mapped to extensions.code with errors.Is
// against ErrBadInput, ErrNotFound, ErrConflict, ErrPrecondition and
// ErrForbidden; anything else is INTERNAL (logged, not shown).
type Deps struct {
	Customers  CustomerReader
	Complaints ComplaintReader
	FollowUps  FollowUpReader
	Campaigns  CampaignReader
	Calendar   CalendarReader
	Analytics  AnalyticsReader
	Events     EventReader
	Commands   Commands

	// Logger receives the detail of INTERNAL errors. Nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock used to refuse occurredAt in the future. Nil means time.Now.
	Now func() time.Time
	// MaxFirst caps every `first` argument; a larger value is BAD_USER_INPUT.
	// Zero means DefaultMaxFirst.
	MaxFirst int
}

// DefaultMaxFirst is the largest page a client may ask for with `first`.
const DefaultMaxFirst = 500

// Validate reports every missing port.
func (d Deps) Validate() error {
	var errs []error
	if d.Customers == nil {
		errs = append(errs, errors.New("graphql: Deps.Customers is nil"))
	}
	if d.Complaints == nil {
		errs = append(errs, errors.New("graphql: Deps.Complaints is nil"))
	}
	if d.FollowUps == nil {
		errs = append(errs, errors.New("graphql: Deps.FollowUps is nil"))
	}
	if d.Campaigns == nil {
		errs = append(errs, errors.New("graphql: Deps.Campaigns is nil"))
	}
	if d.Calendar == nil {
		errs = append(errs, errors.New("graphql: Deps.Calendar is nil"))
	}
	if d.Analytics == nil {
		errs = append(errs, errors.New("graphql: Deps.Analytics is nil"))
	}
	if d.Events == nil {
		errs = append(errs, errors.New("graphql: Deps.Events is nil"))
	}
	if d.Commands == nil {
		errs = append(errs, errors.New("graphql: Deps.Commands is nil"))
	}
	if d.MaxFirst < 0 {
		errs = append(errs, errors.New("graphql: Deps.MaxFirst is negative"))
	}
	return errors.Join(errs...)
}

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

// ---- Readers ----

// CustomerReader serves customers and what hangs off a customer.
type CustomerReader interface {
	// Customer returns the customer now (asOf nil) or recomputed from its
	// stream as of asOf. Unknown → an error matching ErrNotFound.
	Customer(ctx context.Context, id string, asOf *time.Time) (CustomerView, error)
	// Customers lists customers matching q, in a stable order.
	Customers(ctx context.Context, q CustomerQuery, p Page) (Connection[CustomerView], error)
	// Timeline pages through the events of one customer's stream.
	Timeline(ctx context.Context, customerID string, q TimelineQuery, p Page) (Connection[TimelineEntryView], error)
	// Greetings lists the greetings sent, failed or skipped for a customer.
	Greetings(ctx context.Context, customerID string, asOf *time.Time) ([]GreetingView, error)
	// ExpectedPurchases is the BG/NBD expected number of purchases in the
	// next horizonDays; nil when the customer has no purchases or no model.
	ExpectedPurchases(ctx context.Context, customerID string, asOf *time.Time, horizonDays int) (*float64, error)
}

// ComplaintReader serves complaints.
type ComplaintReader interface {
	// Complaint returns one complaint; unknown → ErrNotFound.
	Complaint(ctx context.Context, id string) (ComplaintView, error)
	// Complaints lists complaints matching q, oldest filed first.
	Complaints(ctx context.Context, q ComplaintQuery, p Page) (Connection[ComplaintView], error)
}

// FollowUpReader serves the follow-up queue.
type FollowUpReader interface {
	// FollowUps lists follow-ups matching q, oldest due first.
	FollowUps(ctx context.Context, q FollowUpQuery, p Page) (Connection[FollowUpView], error)
}

// CampaignReader serves greeting campaigns.
type CampaignReader interface {
	// Campaign returns one campaign; unknown → ErrNotFound.
	Campaign(ctx context.Context, id string) (CampaignView, error)
	// Campaigns lists campaigns, newest first.
	Campaigns(ctx context.Context, p Page) (Connection[CampaignView], error)
	// PreviewCampaign evaluates the audience of a campaign that is not
	// scheduled: how many customers would be greeted, how many skipped and why.
	PreviewCampaign(ctx context.Context, in ScheduleGreetingCampaignInput) (CampaignPreviewView, error)
}

// CalendarReader serves the built-in holiday calendars.
type CalendarReader interface {
	// Holidays lists the occasions of a calendar (e.g. "CN") between two
	// dates, inclusive. Unknown calendar → ErrBadInput.
	Holidays(ctx context.Context, calendarName string, from, to calendar.Date) ([]HolidayView, error)
}

// AnalyticsReader serves the analysts' and managers' reports.
type AnalyticsReader interface {
	// LifecycleReport: populations and transitions per bucket ("DAY", "WEEK", "MONTH").
	LifecycleReport(ctx context.Context, from, to time.Time, bucket string) (LifecycleReportView, error)
	// ChurnModel: the BG/NBD fit as of asOf (nil = now) in unit "DAY" or "WEEK".
	ChurnModel(ctx context.Context, asOf *time.Time, unit string) (ChurnModelView, error)
	// ServiceReport: the manager's complaint-handling summary over [from, to).
	ServiceReport(ctx context.Context, from, to time.Time) (ServiceReportView, error)
}

// EventReader serves raw history in global order.
type EventReader interface {
	Events(ctx context.Context, q EventQuery, p Page) (Connection[EventView], error)
}

// ---- Queries ----

// CustomerQuery is the customers(filter) input; nil/empty = no constraint.
type CustomerQuery struct {
	Stages           []string
	Tiers            []string
	AccountManager   *string
	MinLoyaltyScore  *int
	HasOpenComplaint *bool
	// Search is only passed for callers allowed to see PII.
	Search *string
}

// TimelineQuery selects and orders a customer's events.
type TimelineQuery struct {
	Types       []string
	OldestFirst bool
	AsOf        *time.Time
}

// ComplaintQuery is the complaints(filter) input plus the customer scope
// used by Customer.complaints and Customer.openComplaints.
type ComplaintQuery struct {
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

// FollowUpQuery is the followUps(filter) input plus a customer scope.
type FollowUpQuery struct {
	CustomerID string // "" = all customers
	Owner      *string
	Status     *string
	DueBefore  *time.Time
	Reasons    []string
}

// EventQuery is the events(filter) input.
type EventQuery struct {
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

// CustomerView is a customer as the API shows it. PII fields are pointers:
// nil when absent or erased. Enum fields hold the GraphQL value names.
type CustomerView struct {
	ID               string
	Name             *string
	Phone            *string
	Email            *string
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
	StageHistory     []StageChangeView
	LastInboundAt    *time.Time
	LastPurchaseAt   *time.Time
	PurchaseCount    int
	LifetimeValue    []Money
	Loyalty          LoyaltyView
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

// CustomerDetails are the parts of a CustomerView that cost a fold of the
// customer's stream (see CustomerView.Details).
type CustomerDetails struct {
	Stage        string
	StageSince   time.Time
	StageHistory []StageChangeView
	Loyalty      LoyaltyView
}

// StageChangeView is one lifecycle transition.
type StageChangeView struct {
	From   *string
	To     string
	At     time.Time
	Reason string
}

// LoyaltyView is the loyalty read model of one customer.
type LoyaltyView struct {
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

// TimelineEntryView is one event of a customer's stream.
type TimelineEntryView struct {
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
}

// ComplaintView is a complaint as the API shows it.
type ComplaintView struct {
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
	RecoverySteps       []RecoveryStepView
	Compensation        []Money
	Outcome             *string
	ResolvedAt          *time.Time
	DeclineReason       *string
	RepeatContacts      int
	IncidentReportFiled bool
	// Version is the revision of the customer stream that holds the complaint.
	Version int
}

// RecoveryStepView is one recorded service-recovery step.
type RecoveryStepView struct {
	Step string
	At   time.Time
	By   string
	Note *string
}

// FollowUpView is one follow-up.
type FollowUpView struct {
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

// HolidayView is one occasion of a calendar.
type HolidayView struct {
	Calendar  string
	Key       string
	Name      string
	LocalName *string
	Date      calendar.Date
}

// GreetingView is one greeting outcome on a customer.
type GreetingView struct {
	CampaignID *string
	Occasion   string
	Channel    string
	Status     string
	Reason     *string
	At         time.Time
}

// CampaignView is a greeting campaign and its delivery counts.
type CampaignView struct {
	ID              string
	Name            string
	Occasion        string
	Date            *calendar.Date
	SendAtLocal     string
	Status          string
	Audience        AudienceView
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

// AudienceView is who a campaign is for.
type AudienceView struct {
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

// CampaignPreviewView is what a campaign would do if it ran now.
type CampaignPreviewView struct {
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

// LifecycleReportView is the funnel report.
type LifecycleReportView struct {
	Buckets []LifecycleBucketView
}

// LifecycleBucketView is one bucket of the lifecycle report.
type LifecycleBucketView struct {
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

// ChurnModelView is a fitted BG/NBD model.
type ChurnModelView struct {
	Unit          string
	AsOf          time.Time
	Customers     int
	R             float64
	Alpha         float64
	A             float64
	B             float64
	LogLikelihood float64
}

// ServiceReportView is the manager's complaint-handling summary.
type ServiceReportView struct {
	From, To   time.Time
	Complaints int
	ByCategory []KeyCount
	BySeverity []KeyCount
	// Percentages are 0–100; nil when there is nothing to measure.
	SLAMetPercent                 *float64
	FirstContactResolutionPercent *float64
	MedianTimeToResolution        *time.Duration
	FollowUpsDue                  int
	FollowUpsCompleted            int
	FollowUpCompletionPercent     *float64
	SatisfactionPercent           *float64
	Declined                      int
	OverdueNow                    int
}

// KeyCount counts items with the same key (a category, a severity …).
type KeyCount struct {
	Key   string
	Count int
}

// EventView is one stored event.
type EventView struct {
	EventID    string
	StreamID   string
	Type       string
	Revision   int
	Position   string
	OccurredAt time.Time
	RecordedAt time.Time
	Data       json.RawMessage
	Metadata   json.RawMessage
}
