package greeting

import (
	"context"
	"errors"
	"fmt"

	"github.com/kefu-crm/kefu/domain/campaign"
)

// The audience's vocabulary is the campaign domain's (domain/campaign).
type (
	Recipient   = campaign.Recipient
	Directory   = campaign.Directory
	StageSource = campaign.StageSource
	StageFunc   = campaign.StageFunc
	Policy      = campaign.Policy
)

// DefaultPolicy is campaign.DefaultPolicy.
func DefaultPolicy() Policy { return campaign.DefaultPolicy() }

// Skip reasons (campaign.ReasonNoConsent …).
const (
	ReasonNoConsent      = campaign.ReasonNoConsent
	ReasonConductFlagged = campaign.ReasonConductFlagged
	ReasonErased         = campaign.ReasonErased
	ReasonNoChannel      = campaign.ReasonNoChannel
	ReasonMissed         = campaign.ReasonMissed
	ReasonStageExcluded  = campaign.ReasonStageExcluded
	ReasonTierExcluded   = campaign.ReasonTierExcluded
)

// Message is one greeting to deliver.
type Message struct {
	// IdempotencyKey is the same for every attempt, retry, restart or
	// second dispatcher delivering this campaign's greeting to this
	// customer (it is the ID of the event that records the outcome).
	// Gateways dedupe by it.
	IdempotencyKey string `json:"idempotencyKey"`
	CampaignID     string `json:"campaignId"`
	CustomerID     string `json:"customerId"`
	// Occasion is the holiday key, BIRTHDAY, ANNIVERSARY or custom label;
	// OccasionName its name in the customer's locale.
	Occasion     string `json:"occasion"`
	OccasionName string `json:"occasionName"`
	// Channel is SMS, WECHAT or EMAIL; To is the address on that channel.
	Channel  string `json:"channel"`
	To       string `json:"to"`
	Locale   string `json:"locale,omitempty"`
	Template int    `json:"template"`
	Body     string `json:"body"`
}

// Receipt says how a delivery went.
type Receipt struct {
	// Attempts made (≥ 1).
	Attempts int
	// Duplicate is true when the sender had already delivered this
	// idempotency key and did nothing.
	Duplicate bool
}

// Sender delivers greetings. Send returns a *DeliveryError when the greeting
// cannot be delivered (permanently, or after its retries): the dispatcher
// records GreetingFailed. Any other error (ctx ended, the outbox file
// cannot be written) records nothing; the send is tried again later with
// the same idempotency key.
type Sender interface {
	Send(ctx context.Context, m Message) (Receipt, error)
}

// Sentinel errors. Test with errors.Is.
var (
	// ErrDeliveryFailed: a greeting could not be delivered. See DeliveryError.
	ErrDeliveryFailed = errors.New("greeting: delivery failed")
	// ErrInvalidConfig: a constructor was given an unusable config.
	ErrInvalidConfig = errors.New("greeting: invalid config")
	// ErrClosed: the sender was closed.
	ErrClosed = errors.New("greeting: sender closed")
	// ErrCorruptOutbox: the outbox file holds a line that is not a message.
	ErrCorruptOutbox = errors.New("greeting: corrupt outbox")
)

// DeliveryError is a delivery that failed for good. It matches
// ErrDeliveryFailed and unwraps to the last cause.
type DeliveryError struct {
	Channel  string
	Attempts int
	// Permanent is true when retrying cannot help (an HTTP 4xx, an SMTP 5xx).
	Permanent bool
	// Reason is a short text recorded in GreetingFailed.
	Reason string
	Err    error
}

func (e *DeliveryError) Error() string {
	return fmt.Sprintf("greeting: %s delivery failed after %d attempt(s): %s", e.Channel, e.Attempts, e.Reason)
}

// Unwrap returns ErrDeliveryFailed and the cause.
func (e *DeliveryError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrDeliveryFailed}
	}
	return []error{ErrDeliveryFailed, e.Err}
}

// Route sends each message with the sender of its channel, or Default.
type Route struct {
	Default   Sender
	ByChannel map[string]Sender
}

// Send implements Sender.
func (r Route) Send(ctx context.Context, m Message) (Receipt, error) {
	if s := r.ByChannel[m.Channel]; s != nil {
		return s.Send(ctx, m)
	}
	if r.Default == nil {
		return Receipt{}, &DeliveryError{Channel: m.Channel, Permanent: true, Reason: "no sender for channel " + m.Channel}
	}
	return r.Default.Send(ctx, m)
}
