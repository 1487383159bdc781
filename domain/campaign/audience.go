package campaign

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
)

// Skip reasons: why a customer of the audience is not greeted. They are
// recorded in GreetingSkipped on the customer's stream, except ERASED
// (nothing may follow an erasure), which only the campaign counts.
const (
	ReasonNoConsent      = "NO_CONSENT"
	ReasonConductFlagged = "CONDUCT_FLAGGED"
	ReasonErased         = "ERASED"
	ReasonNoChannel      = "NO_CHANNEL"
	ReasonMissed         = "MISSED"
)

// Exclusion reasons: why a customer the campaign covers is outside its
// audience. The campaign counts them (Counts.ExcludedByReason);
// nothing is recorded on the customer's stream — a campaign for a few
// hundred customers must not write to every stream of the book.
const (
	// ReasonStageExcluded: a stage the audience does not include, or one no
	// template is meant for.
	ReasonStageExcluded = "STAGE_EXCLUDED"
	// ReasonTierExcluded: a tier the audience does not include.
	ReasonTierExcluded = "TIER_EXCLUDED"
)

// Recipient is what the dispatcher needs to know about a customer. At send
// time it is rebuilt from the customer's own stream (see RecipientOf); the
// Directory's copy is used to enumerate customers, to plan send instants and
// for previews.
type Recipient struct {
	CustomerID string
	// Name is the decrypted name ("" when erased).
	Name           string
	Phone          string
	Email          string
	WeChat         string
	Tier           string
	AccountManager string
	// Timezone is an IANA name; an unknown one is treated as UTC.
	Timezone         string
	Locale           string
	Birthday         calendar.Date // zero when unknown
	RegisteredOn     calendar.Date // registration day in the customer's timezone
	MarketingConsent bool
	ConductFlagged   bool
	Erased           bool
}

// Directory enumerates customers (backed by the customers read model).
type Directory interface {
	// Each calls fn for every customer, in any order, until fn returns an
	// error (returned as is) or ctx ends.
	Each(ctx context.Context, fn func(Recipient) error) error
}

// StageSource gives a customer's current lifecycle stage (backed by
// projections/lifecycle); "" when unknown.
type StageSource interface {
	StageOf(customerID string) string
}

// StageFunc adapts a function to StageSource.
type StageFunc func(customerID string) string

// StageOf calls f.
func (f StageFunc) StageOf(customerID string) string { return f(customerID) }

// Policy is the send-time policy: quiet hours and the MISSED threshold.
type Policy struct {
	// QuietStart and QuietEnd bound the quiet hours in local time,
	// "HH:MM"; a send inside them is moved to QuietEnd of the same day.
	// Equal values disable quiet hours. Defaults 21:00 and 08:00.
	QuietStart string
	QuietEnd   string
	// MissedAfter: a send this much later than its instant is skipped as
	// MISSED. Default 24 h.
	MissedAfter time.Duration
}

// DefaultPolicy returns quiet hours 21:00–08:00 and MISSED after 24 h.
func DefaultPolicy() Policy {
	return Policy{QuietStart: "21:00", QuietEnd: "08:00", MissedAfter: 24 * time.Hour}
}

// SendRules is a compiled Policy.
type SendRules struct {
	quietStart, quietEnd int // minutes after midnight
	// MissedAfter: a send this much later than its instant is MISSED.
	MissedAfter time.Duration
}

// Compile checks p (zero fields take the defaults) and returns its rules.
func (p Policy) Compile() (SendRules, error) {
	d := DefaultPolicy()
	if p.QuietStart == "" {
		p.QuietStart = d.QuietStart
	}
	if p.QuietEnd == "" {
		p.QuietEnd = d.QuietEnd
	}
	if p.MissedAfter == 0 {
		p.MissedAfter = d.MissedAfter
	}
	qs, err := ParseClock(p.QuietStart)
	if err != nil {
		return SendRules{}, err
	}
	qe, err := ParseClock(p.QuietEnd)
	if err != nil {
		return SendRules{}, err
	}
	if p.MissedAfter < 0 {
		return SendRules{}, errNegative
	}
	return SendRules{quietStart: qs, quietEnd: qe, MissedAfter: p.MissedAfter}, nil
}

func (p SendRules) quiet(m int) bool {
	switch {
	case p.quietStart == p.quietEnd:
		return false
	case p.quietStart < p.quietEnd:
		return m >= p.quietStart && m < p.quietEnd
	default: // wraps midnight
		return m >= p.quietStart || m < p.quietEnd
	}
}

// SendInstant is day at the campaign's local time in loc, moved to the end
// of the quiet hours when it falls inside them.
func (p SendRules) SendInstant(day calendar.Date, sendAt int, loc *time.Location) time.Time {
	if p.quiet(sendAt) {
		sendAt = p.quietEnd
	}
	return time.Date(day.Year, day.Month, day.Day, sendAt/60, sendAt%60, 0, 0, loc)
}

// Covers is the day a customer is greeted, and whether the customer is
// part of the campaign at all (account manager scope; for BIRTHDAY and
// ANNIVERSARY, an occasion inside the window).
func Covers(def *GreetingCampaignScheduled, r *Recipient) (calendar.Date, bool) {
	if def.Audience.AccountManager != "" && r.AccountManager != def.Audience.AccountManager {
		return calendar.Date{}, false
	}
	var origin calendar.Date
	switch def.Kind {
	case KindBirthday:
		origin = r.Birthday
	case KindAnniversary:
		origin = r.RegisteredOn
	default:
		return def.Date, true
	}
	if origin.IsZero() {
		return calendar.Date{}, false
	}
	d := calendar.NextYearly(origin, def.Date.AddDays(-1))
	if d.IsZero() || d.Sub(def.Date) >= def.WindowDays {
		return calendar.Date{}, false
	}
	return d, true
}

// Decision is what to do for one customer.
type Decision struct {
	Exclude  string // an exclusion reason: outside the audience, nothing recorded
	Skip     string // a skip reason, or "" to send
	Template int    // the template used (or that would have been)
	Channel  string // its channel
	To       string // the address on that channel
}

// exclusion says why a customer the campaign covers is outside its
// audience (ReasonStageExcluded, ReasonTierExcluded), or "" when they are
// in it.
func Exclusion(def *GreetingCampaignScheduled, r *Recipient, stage string) string {
	a := &def.Audience
	switch {
	case len(a.Stages) > 0 && !slices.Contains(a.Stages, stage):
		return ReasonStageExcluded
	case len(a.Tiers) > 0 && !slices.Contains(a.Tiers, r.Tier):
		return ReasonTierExcluded
	case TemplateFor(def, stage) < 0:
		return ReasonStageExcluded // no template is meant for this stage
	}
	return ""
}

// templateFor is the index of the first template meant for stage, -1 when
// there is none.
func TemplateFor(def *GreetingCampaignScheduled, stage string) int {
	for i, t := range def.Templates {
		if len(t.Stages) == 0 || slices.Contains(t.Stages, stage) {
			return i
		}
	}
	return -1
}

// decide evaluates one customer the campaign covers at send time: outside
// the audience (stage, tier), or in it and skipped (erased, late, no
// consent, conduct, no address on the template's channel), or greeted.
// late is how late the send is.
func Decide(def *GreetingCampaignScheduled, r *Recipient, stage string, late time.Duration, p SendRules) Decision {
	if x := Exclusion(def, r, stage); x != "" {
		return Decision{Exclude: x}
	}
	i := TemplateFor(def, stage)
	t := def.Templates[i]
	skip := func(reason string) Decision { return Decision{Skip: reason, Template: i, Channel: t.Channel} }
	switch {
	case r.Erased:
		return skip(ReasonErased)
	case late > p.MissedAfter:
		return skip(ReasonMissed)
	case !r.MarketingConsent:
		return skip(ReasonNoConsent)
	case def.Audience.ExcludeConductFlagged && r.ConductFlagged:
		return skip(ReasonConductFlagged)
	}
	to := address(r, t.Channel)
	if to == "" {
		return skip(ReasonNoChannel)
	}
	return Decision{Template: i, Channel: t.Channel, To: to}
}

func address(r *Recipient, channel string) string {
	switch channel {
	case "SMS":
		return r.Phone
	case "EMAIL":
		return r.Email
	case "WECHAT":
		return r.WeChat
	}
	return ""
}

// OccasionName is the occasion's name for a locale: a holiday's local or
// English name (calendar.Holiday.NameFor), 生日/周年纪念 or
// birthday/anniversary, or the custom label as given.
func OccasionName(def *GreetingCampaignScheduled, locale string) string {
	zh := strings.HasPrefix(strings.ToLower(locale), "zh")
	switch def.Kind {
	case KindHoliday:
		h, err := calendar.Lookup(def.Occasion, def.Date.Year)
		if err != nil {
			return def.Occasion
		}
		return h.NameFor(locale)
	case KindBirthday:
		if zh {
			return "生日"
		}
		return "birthday"
	case KindAnniversary:
		if zh {
			return "周年纪念"
		}
		return "anniversary"
	}
	return def.Occasion
}

// RecipientOf builds a Recipient from a customer aggregate: the
// authoritative data the dispatcher evaluates at send time. z caches the
// timezones (nil: none).
func RecipientOf(c *customer.Customer, z *Zones) Recipient {
	r := Recipient{
		CustomerID: c.ID(), Name: c.Name(), Phone: c.Phone(), Email: c.Email(), WeChat: c.WeChat(),
		Tier: c.Tier().String(), AccountManager: c.AccountManager(), Timezone: c.Timezone(), Locale: c.Locale(),
		MarketingConsent: c.MarketingConsent(), ConductFlagged: c.ConductFlagged(), Erased: c.Erased(),
	}
	if b, err := calendar.Parse(c.Birthday()); err == nil {
		r.Birthday = b
	}
	if !c.RegisteredAt().IsZero() {
		r.RegisteredOn = calendar.DateOf(c.RegisteredAt().In(z.Get(r.Timezone)))
	}
	return r
}

// Zones caches loaded timezones (time.LoadLocation reads the zone data at
// every call). A nil *Zones loads without caching.
type Zones struct{ m sync.Map }

// Get returns the zone, UTC when the name is unknown.
func (z *Zones) Get(name string) *time.Location {
	if z != nil {
		if loc, ok := z.m.Load(name); ok {
			return loc.(*time.Location)
		}
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" {
		loc = time.UTC
	}
	if z != nil {
		z.m.Store(name, loc)
	}
	return loc
}

var errNegative = errors.New("campaign: MissedAfter is negative")

// CountAudience counts a campaign's audience over the directory, with the
// stages as they are now: the customers it covers (Covers) and does
// not exclude, and the excluded ones by reason. Scheduling records the
// count, and the dispatcher records it again when sending starts.
func CountAudience(ctx context.Context, dir Directory, stages StageSource, def *GreetingCampaignScheduled) (int, map[string]int, error) {
	n, excluded := 0, map[string]int{}
	err := dir.Each(ctx, func(r Recipient) error {
		if _, ok := Covers(def, &r); !ok {
			return nil
		}
		if x := Exclusion(def, &r, stages.StageOf(r.CustomerID)); x != "" {
			excluded[x]++
			return nil
		}
		n++
		return nil
	})
	return n, excluded, err
}

// Preview is what a campaign would do if its audience were evaluated now.
type Preview struct {
	// Evaluated customers: those the campaign covers (account manager
	// scope; for BIRTHDAY and ANNIVERSARY, an occasion in the window):
	// AudienceSize + Excluded.
	Evaluated int
	// AudienceSize: the evaluated customers in the audience (its stages
	// and tiers): Greeted + Skipped.
	AudienceSize int
	Greeted      int
	Skipped      int
	// SkippedByReason and ByChannel count skips per reason and greetings
	// per channel.
	SkippedByReason map[string]int
	ByChannel       map[string]int
	// Excluded: the evaluated customers outside the audience, by reason
	// (STAGE_EXCLUDED, TIER_EXCLUDED) in ExcludedByReason.
	Excluded         int
	ExcludedByReason map[string]int
}

// PreviewAudience validates cmd (as scheduling would, at now) and
// evaluates its audience over dir with the stages now, without storing or
// sending anything. MISSED cannot be predicted and is never counted.
func PreviewAudience(ctx context.Context, dir Directory, stages StageSource, rules SendRules, cmd Schedule, now time.Time) (Preview, error) {
	if cmd.CampaignID == "" {
		cmd.CampaignID = "preview"
	}
	def, err := Validate(cmd, now)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{SkippedByReason: map[string]int{}, ByChannel: map[string]int{}, ExcludedByReason: map[string]int{}}
	err = dir.Each(ctx, func(r Recipient) error {
		if _, ok := Covers(def, &r); !ok {
			return nil
		}
		p.Evaluated++
		d := Decide(def, &r, stages.StageOf(r.CustomerID), 0, rules)
		if d.Exclude != "" {
			p.Excluded++
			p.ExcludedByReason[d.Exclude]++
			return nil
		}
		p.AudienceSize++
		if d.Skip != "" {
			p.Skipped++
			p.SkippedByReason[d.Skip]++
			return nil
		}
		p.Greeted++
		p.ByChannel[d.Channel]++
		return nil
	})
	return p, err
}
