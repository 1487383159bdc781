// Package customer is the Customer aggregate: a customer's profile,
// contacts, purchases, complaints, follow-ups and greetings, decided from
// the facts in the customer's event stream ("customer-<id>").
//
// The package is pure: it does no I/O and imports only the standard
// library. Verb methods (Register, LogContact, FileComplaint, …) validate
// their command, check the aggregate's rules, and either record one event or
// return a typed error (*aggregate.InvalidInputError, *aggregate.NotFoundError,
// *aggregate.PreconditionError) and record nothing. State changes only in apply, which
// both the verbs and Rehydrate use; Rehydrate does not re-run validation.
package customer

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
)

// Customer is the aggregate. Its fields are unexported: it changes only
// through its verbs (live) or Rehydrate (from history).
type Customer struct {
	id string

	// The stream as loaded: revision of its last event, and whether it
	// exists at all.
	loadedRev    uint64
	loadedExists bool

	changes []Change

	registered     bool
	registeredAt   time.Time
	name           string
	phone          string
	email          string
	wechat         string
	tier           Tier
	segment        string
	accountManager string
	timezone       string
	locale         string
	birthday       string
	consent        bool
	conductFlagged bool
	markedLost     bool
	erased         bool
	mergedInto     string
	mergedFrom     []string
	// mergedAt is when each customer of mergedFrom was merged in (the
	// unmerge window runs from it).
	mergedAt map[string]time.Time

	orders    map[string]struct{}
	referrals []string

	complaints     map[string]*complaint
	complaintOrder []string
	followUps      map[string]*followUp
	followUpOrder  []string
	greetings      map[string]Greeting
}

// Change is an event recorded by a verb and not yet stored, with its
// business time.
type Change = aggregate.Change[Event]

// Historic is a stored event as Rehydrate needs it.
type Historic = aggregate.Historic[Event]

// New returns the empty aggregate of a customer who does not exist yet; the
// only verb it accepts is Register. The id must match aggregate.IDSyntax.
func New(id string) (*Customer, error) {
	if !ValidID(id) {
		return nil, aggregate.CheckID("customerId", id)
	}
	return &Customer{
		id:         id,
		orders:     map[string]struct{}{},
		complaints: map[string]*complaint{},
		followUps:  map[string]*followUp{},
		greetings:  map[string]Greeting{},
	}, nil
}

// Rehydrate rebuilds a customer from its stored history, oldest first. It
// is the rebuild path: events are applied as the facts they are, without
// re-checking the rules the verbs enforce (rules change; history does not),
// so an event that refers to something unknown (a complaint step for a
// complaint never filed) is applied as far as it can be and never panics.
//
// It refuses only a history that cannot be a stream: an invalid id, a nil
// event, revisions that are not 0, 1, 2, … in order, or a first event that is
// not CustomerRegistered (errors match aggregate.ErrCorruptHistory). An empty history
// yields the aggregate of a customer that does not exist, like New.
func Rehydrate(id string, history []Historic) (*Customer, error) {
	c, err := New(id)
	if err != nil {
		return nil, err
	}
	for i, h := range history {
		if h.Event == nil {
			return nil, fmt.Errorf("%w: customer %s revision %d: nil event", aggregate.ErrCorruptHistory, id, h.Revision)
		}
		if h.Revision != uint64(i) {
			return nil, fmt.Errorf("%w: customer %s: event %d has revision %d, want %d", aggregate.ErrCorruptHistory, id, i, h.Revision, i)
		}
		if i == 0 {
			if _, ok := h.Event.(*CustomerRegistered); !ok {
				return nil, fmt.Errorf("%w: customer %s: first event is %s, want %s", aggregate.ErrCorruptHistory, id, h.Event.EventType(), TypeCustomerRegistered)
			}
		}
		c.apply(h.Event, h.OccurredAt)
		c.loadedRev, c.loadedExists = h.Revision, true
	}
	return c, nil
}

// ID is the customer's id.
func (c *Customer) ID() string { return c.id }

// Version is the revision of the last event of the stream as loaded and
// whether the stream existed; pending changes do not move it. Append the
// changes expecting exactly this revision, or "no stream" when !exists.
func (c *Customer) Version() (rev uint64, exists bool) { return c.loadedRev, c.loadedExists }

// Changes returns the events recorded since the aggregate was loaded, in
// order, with their business times.
func (c *Customer) Changes() []Change { return slices.Clone(c.changes) }

// Registered reports whether the customer exists (loaded or just registered).
func (c *Customer) Registered() bool { return c.registered }

// RegisteredAt is the business time of the registration.
func (c *Customer) RegisteredAt() time.Time { return c.registeredAt }

// Erased reports whether the customer was erased.
func (c *Customer) Erased() bool { return c.erased }

// Name is the customer's name ("" after erasure).
func (c *Customer) Name() string { return c.name }

// Phone is the customer's phone ("" when unknown or erased).
func (c *Customer) Phone() string { return c.phone }

// Email is the customer's email ("" when unknown or erased).
func (c *Customer) Email() string { return c.email }

// WeChat is the customer's WeChat id ("" when unknown or erased).
func (c *Customer) WeChat() string { return c.wechat }

// Birthday is YYYY-MM-DD ("" when unknown or erased).
func (c *Customer) Birthday() string { return c.birthday }

// Tier is the customer's service tier.
func (c *Customer) Tier() Tier { return c.tier }

// Segment is the customer's segment label.
func (c *Customer) Segment() string { return c.segment }

// AccountManager is the customer's account manager ("" when none).
func (c *Customer) AccountManager() string { return c.accountManager }

// Timezone is the IANA name of the customer's timezone.
func (c *Customer) Timezone() string { return c.timezone }

// Locale is the customer's locale, e.g. "zh-CN".
func (c *Customer) Locale() string { return c.locale }

// MarketingConsent reports the latest consent decision.
func (c *Customer) MarketingConsent() bool { return c.consent }

// ConductFlagged reports whether abusive behaviour was ever flagged.
func (c *Customer) ConductFlagged() bool { return c.conductFlagged }

// MarkedLost reports whether the customer is explicitly marked lost (and
// not won back since).
func (c *Customer) MarkedLost() bool { return c.markedLost }

// Referrals lists the ids of the customers this one referred, in order.
func (c *Customer) Referrals() []string { return slices.Clone(c.referrals) }

// PurchaseCount is the number of distinct orders recorded.
func (c *Customer) PurchaseCount() int { return len(c.orders) }

// DeliveryStatus is what happened to a campaign's greeting for a customer.
type DeliveryStatus = enum[deliveryStatusKind]

type deliveryStatusKind struct{}

func (deliveryStatusKind) kindName() string { return "deliveryStatus" }

var deliveryStatusValues = []string{"SENT", "FAILED", "SKIPPED"}

func (deliveryStatusKind) kindValues() []string { return deliveryStatusValues }

// The delivery statuses.
var (
	DeliverySent    = DeliveryStatus{"SENT"}
	DeliveryFailed  = DeliveryStatus{"FAILED"}
	DeliverySkipped = DeliveryStatus{"SKIPPED"}
)

// Greeting is the recorded outcome of one campaign for this customer.
type Greeting struct {
	CampaignID string
	Occasion   string
	Channel    Channel // zero for SKIPPED
	Status     DeliveryStatus
	Reason     string // FAILED and SKIPPED
	At         time.Time
}

// Greeting returns the outcome recorded for a campaign, if any.
func (c *Customer) Greeting(campaignID string) (Greeting, bool) {
	g, ok := c.greetings[campaignID]
	return g, ok
}

// record applies a new event and keeps it as a pending change.
func (c *Customer) record(e Event, at time.Time) {
	c.apply(e, at)
	c.changes = append(c.changes, Change{Event: e, OccurredAt: at})
}

// apply is the only place where state changes. It trusts the event: the
// verbs checked the rules before recording it, and history is history.
func (c *Customer) apply(e Event, at time.Time) {
	switch e := e.(type) {
	case *CustomerRegistered:
		c.registered = true
		c.registeredAt = at
		c.name, c.phone, c.email, c.wechat = e.Name, e.Phone, e.Email, e.WeChat
		c.tier, c.segment, c.accountManager = e.Tier, e.Segment, e.AccountManager
		c.timezone, c.locale, c.birthday = e.Timezone, e.Locale, e.Birthday
		c.consent = e.MarketingConsent
	case *ProfileUpdated:
		set(&c.name, e.Name)
		set(&c.phone, e.Phone)
		set(&c.email, e.Email)
		set(&c.wechat, e.WeChat)
		set(&c.tier, e.Tier)
		set(&c.segment, e.Segment)
		set(&c.accountManager, e.AccountManager)
		set(&c.timezone, e.Timezone)
		set(&c.locale, e.Locale)
		set(&c.birthday, e.Birthday)
	case *MarketingConsentChanged:
		c.consent = e.Consent
	case *ContactLogged:
		if cp := c.complaints[e.ComplaintID]; cp != nil {
			cp.applyContact(e, at)
		}
	case *PurchaseMade:
		c.orders[e.OrderID] = struct{}{}
	case *ReferralMade:
		c.referrals = append(c.referrals, e.ReferredCustomerID)
	case *GrumbleVoiced:
		// A fact for projections; the aggregate keeps no state for it.
	case *ComplaintFiled:
		if _, dup := c.complaints[e.ComplaintID]; !dup {
			c.complaintOrder = append(c.complaintOrder, e.ComplaintID)
		}
		c.complaints[e.ComplaintID] = newComplaint(e, at)
	case *ComplaintAcknowledged, *ComplaintEscalated, *ComplaintDeclined,
		*ComplaintTransferred, *ResolutionProposed, *ResolutionAccepted,
		*RecoveryStepTaken, *ComplaintResolved, *ComplaintReopened,
		*IncidentReportFiled:
		if cp := c.complaints[complaintIDOf(e)]; cp != nil {
			cp.apply(e, at)
		}
	case *FollowUpScheduled:
		if _, dup := c.followUps[e.FollowUpID]; !dup {
			c.followUpOrder = append(c.followUpOrder, e.FollowUpID)
		}
		c.followUps[e.FollowUpID] = &followUp{
			id: e.FollowUpID, complaintID: e.ComplaintID, reason: e.Reason,
			owner: e.Owner, dueAt: e.DueAt, note: e.Note,
			status: FollowUpStatusDue, scheduledAt: at,
		}
	case *FollowUpCompleted:
		if f := c.followUps[e.FollowUpID]; f != nil {
			f.status, f.outcome, f.closedAt, f.closedBy = FollowUpStatusDone, e.Outcome, at, e.By
		}
	case *FollowUpCancelled:
		if f := c.followUps[e.FollowUpID]; f != nil {
			f.status, f.closedAt, f.closedBy, f.cancelReason = FollowUpStatusCancelled, at, e.By, e.Reason
		}
	case *SatisfactionRecorded:
		if cp := c.complaints[e.ComplaintID]; cp != nil {
			cp.surveyScores = append(cp.surveyScores, e.Score)
		}
	case *GreetingSent:
		c.greetings[e.CampaignID] = Greeting{CampaignID: e.CampaignID, Occasion: e.Occasion, Channel: e.Channel, Status: DeliverySent, At: at}
	case *GreetingFailed:
		c.greetings[e.CampaignID] = Greeting{CampaignID: e.CampaignID, Occasion: e.Occasion, Channel: e.Channel, Status: DeliveryFailed, Reason: e.Reason, At: at}
	case *GreetingSkipped:
		c.greetings[e.CampaignID] = Greeting{CampaignID: e.CampaignID, Occasion: e.Occasion, Status: DeliverySkipped, Reason: e.Reason, At: at}
	case *CustomerMarkedLost:
		c.markedLost = true
	case *CustomerWonBack:
		c.markedLost = false
	case *ConductFlagged:
		c.conductFlagged = true
	case *CustomerMerged:
		c.mergedInto = e.Into
	case *CustomersMergedIn:
		c.mergedFrom = append(c.mergedFrom, e.From...)
		if c.mergedAt == nil {
			c.mergedAt = map[string]time.Time{}
		}
		for _, f := range e.From {
			c.mergedAt[f] = at
		}
		p := e.Profile()
		c.apply(&p, at)
	case *CustomerUnmerged:
		c.mergedInto = ""
	case *CustomersUnmerged:
		c.mergedFrom = slices.DeleteFunc(c.mergedFrom, func(id string) bool { return slices.Contains(e.IDs, id) })
		for _, id := range e.IDs {
			delete(c.mergedAt, id)
		}
	case *CustomerErased:
		c.erased = true
		// The personal data is unreadable from now on; do not keep it.
		c.name, c.phone, c.email, c.wechat, c.birthday = "", "", "", "", ""
		for _, cp := range c.complaints {
			cp.description = ""
			for i := range cp.steps {
				cp.steps[i].Note = ""
			}
		}
		for _, f := range c.followUps {
			f.note = ""
		}
	}
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// --- verbs on the customer ---

// Register records CustomerRegistered on a customer that does not exist yet.
func (c *Customer) Register(cmd Register, now time.Time) error {
	at, err := occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if strings.HasPrefix(c.id, ReservedIDPrefix) {
		return &aggregate.InvalidInputError{Field: "customerId", Reason: "IDs starting with " + ReservedIDPrefix + " are reserved for kefu's own keys"}
	}
	if err := firstErr(
		required("name", cmd.Name),
		validPhone(cmd.Phone),
		validEmail(cmd.Email),
		requiredEnum("tier", cmd.Tier),
		validTimezone(cmd.Timezone),
		validLocale(cmd.Locale),
		validBirthday(cmd.Birthday, at),
	); err != nil {
		return err
	}
	if c.registered {
		return &aggregate.PreconditionError{Action: "register customer " + c.id, Reason: "the customer is already registered"}
	}
	c.record(&CustomerRegistered{
		CustomerID: c.id, Name: cmd.Name, Phone: cmd.Phone, Email: cmd.Email, WeChat: cmd.WeChat,
		Tier: cmd.Tier, Segment: cmd.Segment, AccountManager: cmd.AccountManager,
		Timezone: cmd.Timezone, Locale: cmd.Locale, Birthday: cmd.Birthday,
		MarketingConsent: cmd.MarketingConsent,
	}, at)
	return nil
}

// UpdateProfile records ProfileUpdated with the fields that change. A
// command that names no field is invalid; one whose fields all equal the
// current values records nothing and returns nil.
func (c *Customer) UpdateProfile(cmd UpdateProfile, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if cmd.Name == nil && cmd.Phone == nil && cmd.Email == nil && cmd.WeChat == nil &&
		cmd.Tier == nil && cmd.Segment == nil && cmd.AccountManager == nil &&
		cmd.Timezone == nil && cmd.Locale == nil && cmd.Birthday == nil {
		return invalid("profile", "no field to update")
	}
	var errs []error
	if cmd.Name != nil {
		errs = append(errs, required("name", *cmd.Name))
	}
	if cmd.Phone != nil {
		errs = append(errs, validPhone(*cmd.Phone))
	}
	if cmd.Email != nil {
		errs = append(errs, validEmail(*cmd.Email))
	}
	if cmd.Tier != nil {
		errs = append(errs, requiredEnum("tier", *cmd.Tier))
	}
	if cmd.Timezone != nil {
		errs = append(errs, validTimezone(*cmd.Timezone))
	}
	if cmd.Locale != nil {
		errs = append(errs, validLocale(*cmd.Locale))
	}
	if cmd.Birthday != nil {
		errs = append(errs, validBirthday(*cmd.Birthday, at))
	}
	if err := firstErr(errs...); err != nil {
		return err
	}
	if err := c.checkActive("update profile"); err != nil {
		return err
	}
	e := &ProfileUpdated{
		Name:           changed(c.name, cmd.Name),
		Phone:          changed(c.phone, cmd.Phone),
		Email:          changed(c.email, cmd.Email),
		WeChat:         changed(c.wechat, cmd.WeChat),
		Tier:           changed(c.tier, cmd.Tier),
		Segment:        changed(c.segment, cmd.Segment),
		AccountManager: changed(c.accountManager, cmd.AccountManager),
		Timezone:       changed(c.timezone, cmd.Timezone),
		Locale:         changed(c.locale, cmd.Locale),
		Birthday:       changed(c.birthday, cmd.Birthday),
	}
	if *e == (ProfileUpdated{}) {
		return nil
	}
	c.record(e, at)
	return nil
}

func changed[T comparable](cur T, v *T) *T {
	if v == nil || *v == cur {
		return nil
	}
	x := *v
	return &x
}

// SetMarketingConsent records MarketingConsentChanged. Every decision is
// recorded, also one that repeats the current consent (it is evidence).
func (c *Customer) SetMarketingConsent(cmd SetMarketingConsent, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := c.checkActive("set marketing consent"); err != nil {
		return err
	}
	c.record(&MarketingConsentChanged{Consent: cmd.Consent, Channel: cmd.Channel, Source: cmd.Source}, at)
	return nil
}

// LogContact records ContactLogged. A contact may name any of the
// customer's complaints, closed ones included; an inbound contact on an
// open complaint counts as a repeat contact.
func (c *Customer) LogContact(cmd LogContact, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(
		requiredEnum("channel", cmd.Channel),
		requiredEnum("direction", cmd.Direction),
		required("agent", cmd.Agent),
		optionalID("complaintId", cmd.ComplaintID),
	); err != nil {
		return err
	}
	if err := c.checkActive("log contact"); err != nil {
		return err
	}
	if cmd.ComplaintID != "" {
		if _, err := c.complaint(cmd.ComplaintID); err != nil {
			return err
		}
	}
	c.record(&ContactLogged{Channel: cmd.Channel, Direction: cmd.Direction, Agent: cmd.Agent, Summary: cmd.Summary, ComplaintID: cmd.ComplaintID}, at)
	return nil
}

// RecordPurchase records PurchaseMade; an order already recorded for this
// customer is refused.
func (c *Customer) RecordPurchase(cmd RecordPurchase, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(required("orderId", cmd.OrderID), validMoney("amount", cmd.Amount)); err != nil {
		return err
	}
	for i, it := range cmd.Items {
		if strings.TrimSpace(it) == "" {
			return invalid("items", "item %d is empty", i)
		}
	}
	if err := c.checkActive("record purchase"); err != nil {
		return err
	}
	if _, dup := c.orders[cmd.OrderID]; dup {
		return &aggregate.PreconditionError{Action: "record purchase " + cmd.OrderID, Reason: "the order is already recorded"}
	}
	c.record(&PurchaseMade{OrderID: cmd.OrderID, Amount: cmd.Amount, Items: slices.Clone(cmd.Items)}, at)
	return nil
}

// RecordReferral records ReferralMade. The referred id must be valid, not
// the customer's own, and not referred before.
func (c *Customer) RecordReferral(cmd RecordReferral, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := aggregate.CheckID("referredCustomerId", cmd.ReferredCustomerID); err != nil {
		return err
	}
	if cmd.ReferredCustomerID == c.id {
		return invalid("referredCustomerId", "a customer cannot refer themselves")
	}
	if err := c.checkActive("record referral"); err != nil {
		return err
	}
	if slices.Contains(c.referrals, cmd.ReferredCustomerID) {
		return &aggregate.PreconditionError{Action: "record referral of " + cmd.ReferredCustomerID, Reason: "the referral is already recorded"}
	}
	c.record(&ReferralMade{ReferredCustomerID: cmd.ReferredCustomerID}, at)
	return nil
}

// VoiceGrumble records GrumbleVoiced.
func (c *Customer) VoiceGrumble(cmd VoiceGrumble, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(requiredEnum("channel", cmd.Channel), required("summary", cmd.Summary)); err != nil {
		return err
	}
	if err := c.checkActive("voice grumble"); err != nil {
		return err
	}
	c.record(&GrumbleVoiced{Channel: cmd.Channel, Summary: cmd.Summary, Agent: cmd.Agent}, at)
	return nil
}

// RecordSatisfaction records SatisfactionRecorded (score 1–5).
func (c *Customer) RecordSatisfaction(cmd RecordSatisfaction, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if cmd.Score < 1 || cmd.Score > 5 {
		return invalid("score", "%d is outside 1–5", cmd.Score)
	}
	if err := optionalID("complaintId", cmd.ComplaintID); err != nil {
		return err
	}
	if err := c.checkActive("record satisfaction"); err != nil {
		return err
	}
	if cmd.ComplaintID != "" {
		cp, err := c.complaint(cmd.ComplaintID)
		if err != nil {
			return err
		}
		if err := cp.notBefore(at); err != nil {
			return err
		}
	}
	c.record(&SatisfactionRecorded{Score: cmd.Score, Comment: cmd.Comment, ComplaintID: cmd.ComplaintID}, at)
	return nil
}

// RecordGreetingSent records GreetingSent. The customer must have marketing
// consent, and a campaign's outcome (sent, failed or skipped) is recorded at
// most once per customer: a second record for the same campaign is refused
// with a aggregate.PreconditionError (check Greeting first to treat it as done).
func (c *Customer) RecordGreetingSent(cmd RecordGreetingSent, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(
		requiredID("campaignId", cmd.CampaignID),
		required("occasion", cmd.Occasion),
		requiredEnum("channel", cmd.Channel),
		nonNegative("template", cmd.Template),
		nonNegative("attempts", cmd.Attempts),
	); err != nil {
		return err
	}
	action := "record greeting of campaign " + cmd.CampaignID
	if err := c.checkGreeting(action, cmd.CampaignID); err != nil {
		return err
	}
	if !c.consent {
		return &aggregate.PreconditionError{Action: action, Reason: "the customer has no marketing consent", Allowed: []string{"record greeting skipped"}}
	}
	c.record(&GreetingSent{CampaignID: cmd.CampaignID, Occasion: cmd.Occasion, Channel: cmd.Channel, Template: cmd.Template, Attempts: cmd.Attempts}, at)
	return nil
}

// RecordGreetingFailed records GreetingFailed (once per campaign, as for
// RecordGreetingSent; consent is not required to record a failure).
func (c *Customer) RecordGreetingFailed(cmd RecordGreetingFailed, now time.Time) error {
	return c.recordGreetingOutcome(cmd.OccurredAt, now, cmd.CampaignID,
		firstErr(
			requiredID("campaignId", cmd.CampaignID),
			required("occasion", cmd.Occasion),
			requiredEnum("channel", cmd.Channel),
			required("reason", cmd.Reason),
			nonNegative("attempts", cmd.Attempts),
		),
		&GreetingFailed{CampaignID: cmd.CampaignID, Occasion: cmd.Occasion, Channel: cmd.Channel, Reason: cmd.Reason, Attempts: cmd.Attempts})
}

// RecordGreetingSkipped records GreetingSkipped (once per campaign).
func (c *Customer) RecordGreetingSkipped(cmd RecordGreetingSkipped, now time.Time) error {
	return c.recordGreetingOutcome(cmd.OccurredAt, now, cmd.CampaignID,
		firstErr(
			requiredID("campaignId", cmd.CampaignID),
			required("occasion", cmd.Occasion),
			required("reason", cmd.Reason),
		),
		&GreetingSkipped{CampaignID: cmd.CampaignID, Occasion: cmd.Occasion, Reason: cmd.Reason, Channel: cmd.Channel})
}

// recordGreetingOutcome records a greeting failure or skip: business time,
// arguments (argsErr), once per campaign.
func (c *Customer) recordGreetingOutcome(occurred, now time.Time, campaignID string, argsErr error, e Event) error {
	at, err := c.occurredAt(occurred, now)
	if err != nil {
		return err
	}
	if argsErr != nil {
		return argsErr
	}
	if err := c.checkGreeting("record greeting of campaign "+campaignID, campaignID); err != nil {
		return err
	}
	c.record(e, at)
	return nil
}

func (c *Customer) checkGreeting(action, campaignID string) error {
	if err := c.checkActive(action); err != nil {
		return err
	}
	if g, dup := c.greetings[campaignID]; dup {
		return &aggregate.PreconditionError{Action: action, Reason: "the campaign's greeting is already recorded as " + g.Status.String()}
	}
	return nil
}

// MarkLost records CustomerMarkedLost; refused when already marked lost.
func (c *Customer) MarkLost(cmd MarkLost, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(required("reason", cmd.Reason), required("by", cmd.By)); err != nil {
		return err
	}
	if err := c.checkActive("mark customer lost"); err != nil {
		return err
	}
	if c.markedLost {
		return &aggregate.PreconditionError{Action: "mark customer lost", Reason: "the customer is already marked lost", Allowed: []string{"win back"}}
	}
	c.record(&CustomerMarkedLost{Reason: cmd.Reason, By: cmd.By}, at)
	return nil
}

// WinBack records CustomerWonBack. Only a customer explicitly marked lost
// can be won back: a customer the lifecycle projection merely considers
// lost returns by any inbound contact or purchase, which needs no event.
func (c *Customer) WinBack(cmd WinBack, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := required("reason", cmd.Reason); err != nil {
		return err
	}
	if err := c.checkActive("win back customer"); err != nil {
		return err
	}
	if !c.markedLost {
		return &aggregate.PreconditionError{Action: "win back customer", Reason: "the customer is not marked lost", Allowed: []string{"mark lost"}}
	}
	c.record(&CustomerWonBack{Reason: cmd.Reason}, at)
	return nil
}

// FlagConduct records ConductFlagged.
func (c *Customer) FlagConduct(cmd FlagConduct, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(requiredEnum("severity", cmd.Severity), required("note", cmd.Note), required("by", cmd.By)); err != nil {
		return err
	}
	if err := c.checkActive("flag conduct"); err != nil {
		return err
	}
	c.record(&ConductFlagged{Severity: cmd.Severity, Note: cmd.Note, By: cmd.By}, at)
	return nil
}

// Erase records CustomerErased. Nothing may be recorded after it; erasing
// again is refused ("already erased"), and so is erasing a customer merged
// into another (a *MergedError: erase the survivor, which erases it too).
func (c *Customer) Erase(cmd Erase, now time.Time) error {
	at, err := c.occurredAt(cmd.OccurredAt, now)
	if err != nil {
		return err
	}
	if err := firstErr(required("by", cmd.By), required("reason", cmd.Reason)); err != nil {
		return err
	}
	if !c.registered {
		return &aggregate.NotFoundError{Kind: "customer", ID: c.id}
	}
	if c.erased {
		return &aggregate.PreconditionError{Action: "erase customer " + c.id, Reason: "the customer is already erased"}
	}
	if c.mergedInto != "" {
		// Its history is part of the survivor's: erasing this record alone
		// would leave the person's data there. Erasing the survivor erases
		// the customers merged into it too.
		return &MergedError{Action: "erase customer " + c.id, ID: c.id, Into: c.mergedInto}
	}
	c.record(&CustomerErased{By: cmd.By, Reason: cmd.Reason}, at)
	return nil
}

// checkActive refuses commands on a customer that does not exist, was
// erased or was merged into another (a *MergedError naming the survivor).
func (c *Customer) checkActive(action string) error {
	if err := c.checkOpen(action); err != nil {
		return err
	}
	if c.mergedInto != "" {
		return &MergedError{Action: action, ID: c.id, Into: c.mergedInto}
	}
	return nil
}

// checkOpen is checkActive for the steps of a complaint or follow-up, which
// stay on the stream they were opened on after a merge.
func (c *Customer) checkOpen(action string) error {
	if !c.registered {
		return &aggregate.NotFoundError{Kind: "customer", ID: c.id}
	}
	if c.erased {
		return &aggregate.PreconditionError{Action: action, Reason: "the customer was erased; nothing may be recorded after erasure"}
	}
	return nil
}
