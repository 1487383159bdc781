// Package campaign is the GreetingCampaign aggregate: a greeting for an
// occasion, sent at a local time to an audience evaluated per customer at
// send time, with templates per stage. Its stream is "campaign-<id>".
//
// Occasions:
//
//   - a holiday key of a built-in calendar ("CN:spring_festival",
//     "US:independence_day"): sent on the holiday's date; when no date is
//     given, the next occurrence on or after the scheduling day is looked up;
//   - BIRTHDAY and ANNIVERSARY (of registration): these recur per customer.
//     A campaign covers a window of WindowDays days (default 30) starting on
//     Date (default: the scheduling day); each customer whose occasion falls
//     in the window is greeted on that day (a 29 February birthday on 28
//     February in common years). Customers whose occasion is outside the
//     window, or unknown, are not part of the campaign. A yearly programme
//     is a campaign per window;
//   - a custom label with a date.
//
// The package is pure: no I/O. Verbs validate, check the state, and record
// one event or return a typed error (*aggregate.InvalidInputError, *aggregate.NotFoundError,
// *aggregate.PreconditionError) and record nothing.
package campaign

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/domain/stage"

	"github.com/kefu-crm/kefu/domain/aggregate"

	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
)

// Occasion kinds.
const (
	KindHoliday     = "HOLIDAY"
	KindBirthday    = "BIRTHDAY"
	KindAnniversary = "ANNIVERSARY"
	KindCustom      = "CUSTOM"
)

// The yearly per-customer occasions.
const (
	OccasionBirthday    = "BIRTHDAY"
	OccasionAnniversary = "ANNIVERSARY"
)

// Defaults and bounds of a Schedule command.
const (
	DefaultSendAtLocal = "09:00"
	DefaultWindowDays  = 30
	MaxWindowDays      = 366
	MaxTemplates       = 20
	MaxBodyBytes       = 4096
)

// Stages a template or audience may name (the lifecycle stages).
func Stages() []string { return stage.Names() }

// Channels a greeting template may use.
func Channels() []string { return []string{"SMS", "WECHAT", "EMAIL"} }

// Status is a campaign's state.
type Status string

// The statuses, as in the API's CampaignStatus.
const (
	StatusScheduled Status = "SCHEDULED"
	StatusRunning   Status = "RUNNING"
	StatusCompleted Status = "COMPLETED"
	StatusCancelled Status = "CANCELLED"
)

// Statuses lists the statuses in the order a campaign goes through them.
func Statuses() []Status {
	return []Status{StatusScheduled, StatusRunning, StatusCompleted, StatusCancelled}
}

// String returns the status's name.
func (s Status) String() string { return string(s) }

// Schedule is the command that opens a campaign.
type Schedule struct {
	CampaignID string
	Name       string
	// Occasion is a holiday key, BIRTHDAY, ANNIVERSARY or a custom label.
	Occasion string
	// Date is the occasion's day (required for a custom label; looked up
	// when zero for a holiday key) or the window's first day (BIRTHDAY,
	// ANNIVERSARY; zero means the scheduling day).
	Date calendar.Date
	// WindowDays is the window of a BIRTHDAY or ANNIVERSARY campaign; 0
	// means DefaultWindowDays. Must be 0 for other occasions.
	WindowDays int
	// SendAtLocal is HH:MM; "" means DefaultSendAtLocal.
	SendAtLocal string
	Audience    Audience
	Templates   []Template
	By          string
	// AudienceSize is the audience counted from the read models when
	// scheduling (the scheduling service counts it, not the caller); it
	// is recorded in GreetingCampaignScheduled. Must not be negative.
	AudienceSize int
}

// Cancel stops the remaining sends.
type Cancel struct {
	By     string
	Reason string
}

// Campaign is the aggregate.
type Campaign struct {
	id           string
	loadedRev    uint64
	loadedExists bool
	changes      []Change

	def         *GreetingCampaignScheduled
	status      Status
	scheduledAt time.Time
	cancelled   *GreetingCampaignCancelled
	completed   *Counts
}

// Change is an event recorded by a verb and not yet stored.
type Change = aggregate.Change[Event]

// Historic is a stored event as Rehydrate needs it.
type Historic = aggregate.Historic[Event]

// New returns the aggregate of a campaign that does not exist yet. The id
// must match aggregate.IDSyntax.
func New(id string) (*Campaign, error) {
	if err := aggregate.CheckID("campaignId", id); err != nil {
		return nil, err
	}
	return &Campaign{id: id}, nil
}

// Rehydrate rebuilds a campaign from its history, oldest first, without
// re-running the verbs' validation. It refuses only a history that cannot
// be a campaign stream (aggregate.ErrCorruptHistory).
func Rehydrate(id string, history []Historic) (*Campaign, error) {
	c, err := New(id)
	if err != nil {
		return nil, err
	}
	for i, h := range history {
		if h.Event == nil {
			return nil, fmt.Errorf("%w: campaign %s revision %d: nil event", aggregate.ErrCorruptHistory, id, h.Revision)
		}
		if h.Revision != uint64(i) {
			return nil, fmt.Errorf("%w: campaign %s: event %d has revision %d", aggregate.ErrCorruptHistory, id, i, h.Revision)
		}
		if _, ok := h.Event.(*GreetingCampaignScheduled); ok != (i == 0) {
			return nil, fmt.Errorf("%w: campaign %s: %s at revision %d", aggregate.ErrCorruptHistory, id, h.Event.EventType(), i)
		}
		c.apply(h.Event, h.OccurredAt)
		c.loadedRev, c.loadedExists = h.Revision, true
	}
	return c, nil
}

// ID is the campaign's id.
func (c *Campaign) ID() string { return c.id }

// Version is the revision of the last stored event and whether the stream
// exists; pending changes do not move it.
func (c *Campaign) Version() (rev uint64, exists bool) { return c.loadedRev, c.loadedExists }

// Changes returns the events recorded since the aggregate was loaded.
func (c *Campaign) Changes() []Change { return slices.Clone(c.changes) }

// Exists reports whether the campaign was scheduled.
func (c *Campaign) Exists() bool { return c.def != nil }

// Status is the campaign's state ("" when it does not exist).
func (c *Campaign) Status() Status { return c.status }

// Definition returns the scheduled definition (nil when it does not exist).
// The caller must not modify it.
func (c *Campaign) Definition() *GreetingCampaignScheduled { return c.def }

// ScheduledAt is the business time of the scheduling.
func (c *Campaign) ScheduledAt() time.Time { return c.scheduledAt }

// Completed returns the final counts of a completed campaign.
func (c *Campaign) Completed() (Counts, bool) {
	if c.completed == nil {
		return Counts{}, false
	}
	return *c.completed, true
}

func (c *Campaign) record(e Event, at time.Time) {
	c.apply(e, at)
	c.changes = append(c.changes, Change{Event: e, OccurredAt: at})
}

func (c *Campaign) apply(e Event, at time.Time) {
	switch e := e.(type) {
	case *GreetingCampaignScheduled:
		c.def, c.status, c.scheduledAt = e, StatusScheduled, at
	case *GreetingCampaignStarted:
		if c.status == StatusScheduled {
			c.status = StatusRunning
		}
	case *GreetingCampaignCancelled:
		c.status, c.cancelled = StatusCancelled, e
	case *GreetingCampaignCompleted:
		counts := e.Counts
		c.status, c.completed = StatusCompleted, &counts
	}
}

// Schedule validates cmd and records GreetingCampaignScheduled. now is the
// scheduling instant; its UTC date is "today" for a holiday looked up
// without a date and for the default window start.
func (c *Campaign) Schedule(cmd Schedule, now time.Time) error {
	if cmd.CampaignID != c.id {
		return invalid("campaignId", nil, "command is for %q, aggregate is %q", cmd.CampaignID, c.id)
	}
	e, err := Validate(cmd, now)
	if err != nil {
		return err
	}
	if c.def != nil {
		return &aggregate.PreconditionError{Action: "schedule campaign " + c.id, Reason: "the campaign is already scheduled"}
	}
	c.record(e, now)
	return nil
}

// Validate checks a Schedule command and returns the event it would record
// (used by Schedule and by previews). Errors are *aggregate.InvalidInputError.
func Validate(cmd Schedule, now time.Time) (*GreetingCampaignScheduled, error) {
	today := calendar.DateOf(now.UTC())
	e := &GreetingCampaignScheduled{
		CampaignID: cmd.CampaignID, Name: strings.TrimSpace(cmd.Name), Occasion: strings.TrimSpace(cmd.Occasion),
		SendAtLocal: cmd.SendAtLocal, CreatedBy: cmd.By,
	}
	if e.Name == "" {
		return nil, invalid("name", nil, "is required")
	}
	if e.CreatedBy == "" {
		return nil, invalid("by", nil, "is required")
	}
	if cmd.AudienceSize < 0 {
		return nil, invalid("audienceSize", nil, "%d is negative", cmd.AudienceSize)
	}
	e.AudienceSize = cmd.AudienceSize
	if e.SendAtLocal == "" {
		e.SendAtLocal = DefaultSendAtLocal
	}
	if _, err := parseHHMM(e.SendAtLocal); err != nil {
		return nil, invalid("sendAtLocal", nil, "%q is not HH:MM (00:00–23:59)", cmd.SendAtLocal)
	}
	if !cmd.Date.IsZero() && !cmd.Date.Valid() {
		return nil, invalid("date", nil, "%v is not a valid date", cmd.Date)
	}
	if cmd.WindowDays != 0 && e.Occasion != OccasionBirthday && e.Occasion != OccasionAnniversary {
		return nil, invalid("windowDays", nil, "only BIRTHDAY and ANNIVERSARY campaigns have a window")
	}
	switch {
	case e.Occasion == "":
		return nil, invalid("occasion", nil, "is required")
	case e.Occasion == OccasionBirthday || e.Occasion == OccasionAnniversary:
		e.Kind = e.Occasion
		e.WindowDays = cmd.WindowDays
		if e.WindowDays == 0 {
			e.WindowDays = DefaultWindowDays
		}
		if e.WindowDays < 1 || e.WindowDays > MaxWindowDays {
			return nil, invalid("windowDays", nil, "%d is outside 1–%d", cmd.WindowDays, MaxWindowDays)
		}
		e.Date = cmd.Date
		if e.Date.IsZero() {
			e.Date = today
		}
	case strings.Contains(e.Occasion, ":"):
		e.Kind = KindHoliday
		if cmd.Date.IsZero() {
			h, err := calendar.Lookup(e.Occasion, today.Year)
			if err == nil && h.Date.Before(today) {
				h, err = calendar.Lookup(e.Occasion, today.Year+1)
			}
			if err != nil {
				return nil, invalid("occasion", err, "%v", err)
			}
			e.Occasion, e.Date = h.Key, h.Date
		} else {
			h, err := calendar.Lookup(e.Occasion, cmd.Date.Year)
			if err != nil {
				return nil, invalid("occasion", err, "%v", err)
			}
			e.Occasion, e.Date = h.Key, cmd.Date
		}
	default:
		e.Kind = KindCustom
		if len(e.Occasion) > 100 {
			return nil, invalid("occasion", nil, "a custom label has at most 100 bytes")
		}
		if cmd.Date.IsZero() {
			return nil, invalid("date", nil, "is required for the custom occasion %q", e.Occasion)
		}
		e.Date = cmd.Date
	}
	if e.Date.Before(today.AddDays(-1)) {
		return nil, invalid("date", nil, "%v is in the past", e.Date)
	}
	aud, err := validAudience(cmd.Audience)
	if err != nil {
		return nil, err
	}
	e.Audience = aud
	if len(cmd.Templates) == 0 {
		return nil, invalid("templates", nil, "at least one template is required")
	}
	if len(cmd.Templates) > MaxTemplates {
		return nil, invalid("templates", nil, "at most %d templates", MaxTemplates)
	}
	for i, t := range cmd.Templates {
		field := fmt.Sprintf("templates[%d]", i)
		if !slices.Contains(Channels(), t.Channel) {
			return nil, invalid(field+".channel", nil, "%q is not one of %v", t.Channel, Channels())
		}
		if strings.TrimSpace(t.Body) == "" {
			return nil, invalid(field+".body", nil, "is required")
		}
		if len(t.Body) > MaxBodyBytes {
			return nil, invalid(field+".body", nil, "has more than %d bytes", MaxBodyBytes)
		}
		if err := ParseTemplate(field+".body", t.Body); err != nil {
			return nil, err
		}
		stages, err := validStages(field+".stages", t.Stages)
		if err != nil {
			return nil, err
		}
		e.Templates = append(e.Templates, Template{Stages: stages, Channel: t.Channel, Body: t.Body})
	}
	return e, nil
}

func validAudience(a Audience) (Audience, error) {
	stages, err := validStages("audience.stages", a.Stages)
	if err != nil {
		return Audience{}, err
	}
	var tiers []string
	for _, t := range a.Tiers {
		if _, err := customer.ParseTier(t); err != nil {
			return Audience{}, invalid("audience.tiers", err, "%q is not a tier", t)
		}
		if !slices.Contains(tiers, t) {
			tiers = append(tiers, t)
		}
	}
	return Audience{Stages: stages, Tiers: tiers, AccountManager: strings.TrimSpace(a.AccountManager), ExcludeConductFlagged: a.ExcludeConductFlagged}, nil
}

func validStages(field string, in []string) ([]string, error) {
	var out []string
	for _, s := range in {
		if !slices.Contains(Stages(), s) {
			return nil, invalid(field, nil, "%q is not one of %v", s, Stages())
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// Defines reports whether cmd, validated as of the instant the campaign was
// scheduled, defines this campaign: the same name, occasion, date, window,
// send time, audience and templates (who asks, and the audience count,
// aside). It tells a repeated scheduling request (the same idempotency
// key) from another campaign under a reused key; evaluating "today" as of
// the scheduling keeps a retry that comes after a looked-up holiday (or
// after the campaign's date) the same request.
func (c *Campaign) Defines(cmd Schedule) bool {
	if c.def == nil {
		return false
	}
	cmd.CampaignID, cmd.AudienceSize = c.id, 0
	if cmd.By == "" {
		cmd.By = c.def.CreatedBy
	}
	e, err := Validate(cmd, c.scheduledAt)
	if err != nil {
		return false
	}
	a, b := c.def, e
	return a.Name == b.Name && a.Occasion == b.Occasion && a.Kind == b.Kind && a.Date == b.Date && a.WindowDays == b.WindowDays &&
		a.SendAtLocal == b.SendAtLocal && sameAudience(a.Audience, b.Audience) &&
		slices.EqualFunc(a.Templates, b.Templates, func(x, y Template) bool {
			return x.Channel == y.Channel && x.Body == y.Body && slices.Equal(x.Stages, y.Stages)
		})
}

func sameAudience(a, b Audience) bool {
	return slices.Equal(a.Stages, b.Stages) && slices.Equal(a.Tiers, b.Tiers) && a.AccountManager == b.AccountManager &&
		a.ExcludeConductFlagged == b.ExcludeConductFlagged
}

// Start records GreetingCampaignStarted on a scheduled campaign, with the
// audience evaluated again as sending starts (not negative).
func (c *Campaign) Start(by string, audienceSize int, now time.Time) error {
	if audienceSize < 0 {
		return invalid("audienceSize", nil, "%d is negative", audienceSize)
	}
	if err := c.check("start campaign", StatusScheduled); err != nil {
		return err
	}
	c.record(&GreetingCampaignStarted{By: by, AudienceSize: &audienceSize}, now)
	return nil
}

// Cancel records GreetingCampaignCancelled on a scheduled or running
// campaign.
func (c *Campaign) Cancel(cmd Cancel, now time.Time) error {
	if strings.TrimSpace(cmd.By) == "" {
		return invalid("by", nil, "is required")
	}
	if strings.TrimSpace(cmd.Reason) == "" {
		return invalid("reason", nil, "is required")
	}
	if err := c.check("cancel campaign", StatusScheduled, StatusRunning); err != nil {
		return err
	}
	c.record(&GreetingCampaignCancelled{By: cmd.By, Reason: cmd.Reason}, now)
	return nil
}

// Complete records GreetingCampaignCompleted with the final counts on a
// running campaign.
func (c *Campaign) Complete(counts Counts, by string, now time.Time) error {
	if counts.AudienceSize < 0 || counts.Sent < 0 || counts.Failed < 0 || counts.Skipped < 0 || counts.Excluded < 0 {
		return invalid("counts", nil, "negative count")
	}
	for _, by := range []struct {
		what  string
		total int
		m     map[string]int
	}{{"skipped", counts.Skipped, counts.SkippedByReason}, {"excluded", counts.Excluded, counts.ExcludedByReason}} {
		sum := 0
		for r, n := range by.m {
			if n < 0 {
				return invalid("counts", nil, "negative count for %s", r)
			}
			sum += n
		}
		if sum != by.total {
			return invalid("counts", nil, "%s %d but %d by reason", by.what, by.total, sum)
		}
	}
	if err := c.check("complete campaign", StatusRunning); err != nil {
		return err
	}
	counts.SkippedByReason = cloneMap(counts.SkippedByReason)
	counts.ExcludedByReason = cloneMap(counts.ExcludedByReason)
	c.record(&GreetingCampaignCompleted{Counts: counts, By: by}, now)
	return nil
}

func cloneMap(m map[string]int) map[string]int {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (c *Campaign) check(action string, allowed ...Status) error {
	if c.def == nil {
		return &aggregate.NotFoundError{Kind: "campaign", ID: c.id}
	}
	if !slices.Contains(allowed, c.status) {
		return &aggregate.PreconditionError{Action: action + " " + c.id, Reason: "the campaign is " + string(c.status)}
	}
	return nil
}
