package campaign

import (
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/calendar"
)

// Event type names: stable string constants stored with every event, never
// derived from Go type names.
const (
	TypeGreetingCampaignScheduled = "GreetingCampaignScheduled"
	TypeGreetingCampaignCancelled = "GreetingCampaignCancelled"
	TypeGreetingCampaignStarted   = "GreetingCampaignStarted"
	TypeGreetingCampaignCompleted = "GreetingCampaignCompleted"
)

// StreamCategory is the category of campaign streams: "campaign-<id>".
const StreamCategory = "campaign"

// Event is a fact recorded in a campaign's stream. Events travel as
// pointers, so type switches use pointer cases.
type Event interface {
	// EventType is the stable stored type name.
	EventType() string
}

// Audience is who a campaign is for. It is evaluated per customer at send
// time. Customers outside Stages or Tiers (or in a stage no template is
// meant for) are excluded: not part of the audience, so nothing is recorded
// on their streams; the campaign only counts them, by reason
// (Counts.ExcludedByReason). Within the audience, marketing consent is
// always required: a customer without it is skipped (GreetingSkipped).
type Audience struct {
	// Stages included; empty means every stage.
	Stages []string `json:"stages,omitempty"`
	// Tiers included; empty means every tier.
	Tiers []string `json:"tiers,omitempty"`
	// AccountManager, when set, scopes the campaign to that manager's
	// customers: the others are not part of it at all (not skipped).
	AccountManager string `json:"accountManager,omitempty"`
	// ExcludeConductFlagged skips customers flagged for abusive conduct.
	ExcludeConductFlagged bool `json:"excludeConductFlagged"`
}

// Template is one message of a campaign. The first template whose Stages
// contain the customer's stage (or that has no stages) is used.
type Template struct {
	Stages  []string `json:"stages,omitempty"`
	Channel string   `json:"channel"`
	// Body may use the placeholders {{name}} and {{occasion}}.
	Body string `json:"body"`
}

// GreetingCampaignScheduled opens a campaign's stream.
type GreetingCampaignScheduled struct {
	CampaignID string `json:"campaignId"`
	Name       string `json:"name"`
	// Occasion is a holiday key ("CN:spring_festival"), BIRTHDAY,
	// ANNIVERSARY, or a custom label.
	Occasion string `json:"occasion"`
	// Kind is HOLIDAY, BIRTHDAY, ANNIVERSARY or CUSTOM.
	Kind string `json:"kind"`
	// Date is the occasion's day (HOLIDAY, CUSTOM) or the first day of the
	// window (BIRTHDAY, ANNIVERSARY).
	Date calendar.Date `json:"date"`
	// WindowDays is the length of the window of a BIRTHDAY or ANNIVERSARY
	// campaign (0 for the others).
	WindowDays int `json:"windowDays,omitempty"`
	// SendAtLocal is HH:MM in each customer's own timezone.
	SendAtLocal string     `json:"sendAtLocal"`
	Audience    Audience   `json:"audience"`
	Templates   []Template `json:"templates"`
	CreatedBy   string     `json:"createdBy"`
	// AudienceSize is the number of customers in the audience when the
	// campaign was scheduled, as the read models had them (the audience
	// itself is evaluated per customer at send time). 0 in campaigns
	// scheduled before it was recorded.
	AudienceSize int `json:"audienceSize,omitempty"`
}

// GreetingCampaignCancelled stops the sends that have not happened yet.
type GreetingCampaignCancelled struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// GreetingCampaignStarted: the dispatcher began sending (the first send
// instant came).
type GreetingCampaignStarted struct {
	By string `json:"by,omitempty"`
	// AudienceSize is the audience evaluated again when sending started,
	// every customer of it counted whether due yet or not; nil in
	// campaigns started before it was recorded.
	AudienceSize *int `json:"audienceSize,omitempty"`
}

// Counts are a campaign's delivery totals.
type Counts struct {
	// AudienceSize is the number of customers in the audience that were
	// handled: Sent + Failed + Skipped. (Campaigns completed before
	// exclusions were counted apart included them here.)
	AudienceSize    int            `json:"audienceSize"`
	Sent            int            `json:"sent"`
	Failed          int            `json:"failed"`
	Skipped         int            `json:"skipped"`
	SkippedByReason map[string]int `json:"skippedByReason,omitempty"`
	// Excluded counts the customers the campaign covered (account manager,
	// occasion window) but its audience left out, by reason in
	// ExcludedByReason (STAGE_EXCLUDED, TIER_EXCLUDED). Nothing is recorded
	// on their streams: these counts are the only record of them.
	Excluded         int            `json:"excluded,omitempty"`
	ExcludedByReason map[string]int `json:"excludedByReason,omitempty"`
}

// GreetingCampaignCompleted: every customer of the campaign was handled.
type GreetingCampaignCompleted struct {
	Counts
	By string `json:"by,omitempty"`
}

func (GreetingCampaignScheduled) EventType() string { return TypeGreetingCampaignScheduled }
func (GreetingCampaignCancelled) EventType() string { return TypeGreetingCampaignCancelled }
func (GreetingCampaignStarted) EventType() string   { return TypeGreetingCampaignStarted }
func (GreetingCampaignCompleted) EventType() string { return TypeGreetingCampaignCompleted }

// EventSpec describes one stored event type for a codec (the same shape as
// customer.EventSpec).
type EventSpec = aggregate.EventSpec[Event]

// Events lists every campaign-stream event type.
func Events() []EventSpec {
	spec := func(t string, f func() Event) EventSpec { return EventSpec{Type: t, Version: 1, New: f} }
	return []EventSpec{
		spec(TypeGreetingCampaignScheduled, func() Event { return &GreetingCampaignScheduled{} }),
		spec(TypeGreetingCampaignCancelled, func() Event { return &GreetingCampaignCancelled{} }),
		spec(TypeGreetingCampaignStarted, func() Event { return &GreetingCampaignStarted{} }),
		spec(TypeGreetingCampaignCompleted, func() Event { return &GreetingCampaignCompleted{} }),
	}
}
