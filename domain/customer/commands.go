package customer

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-crm/kefu/domain/aggregate"
)

// Commands are plain values: what a caller asks the aggregate to do. Every
// command has an OccurredAt, the business time of the fact it would record:
// zero means "now" (the now passed to the verb), a time after now is refused
// as invalid input, an earlier time is a backfill and is accepted.

// Register opens a new customer's stream (CustomerRegistered).
type Register struct {
	Name             string
	Phone            string
	Email            string
	WeChat           string
	Tier             Tier
	Segment          string
	AccountManager   string
	Timezone         string // IANA name, e.g. "Asia/Shanghai"
	Locale           string // e.g. "zh-CN"
	Birthday         string // YYYY-MM-DD or empty
	MarketingConsent bool
	OccurredAt       time.Time
}

// UpdateProfile changes profile fields; nil fields are left alone. A pointer
// to "" clears an optional field (phone, email, wechat, segment, account
// manager, birthday); name, timezone and locale cannot be cleared. Only the
// fields whose value actually changes are recorded.
type UpdateProfile struct {
	Name           *string
	Phone          *string
	Email          *string
	WeChat         *string
	Tier           *Tier
	Segment        *string
	AccountManager *string
	Timezone       *string
	Locale         *string
	Birthday       *string
	OccurredAt     time.Time
}

// SetMarketingConsent records a consent decision (MarketingConsentChanged).
type SetMarketingConsent struct {
	Consent    bool
	Channel    string // optional: the channel the consent covers or came through
	Source     string // optional: where the decision came from (form, call …)
	OccurredAt time.Time
}

// LogContact records a contact either way (ContactLogged). ComplaintID, when
// given, must name one of the customer's complaints.
type LogContact struct {
	Channel     Channel
	Direction   Direction
	Agent       string
	Summary     string
	ComplaintID string
	OccurredAt  time.Time
}

// RecordPurchase records an order (PurchaseMade). An order ID is recorded
// once per customer.
type RecordPurchase struct {
	OrderID    string
	Amount     Money
	Items      []string
	OccurredAt time.Time
}

// RecordReferral records that the customer referred another (ReferralMade).
type RecordReferral struct {
	ReferredCustomerID string
	OccurredAt         time.Time
}

// VoiceGrumble records informal dissatisfaction (GrumbleVoiced).
type VoiceGrumble struct {
	Channel    Channel
	Summary    string
	Agent      string // optional
	OccurredAt time.Time
}

// FileComplaint opens a formal complaint (ComplaintFiled). ComplaintID is
// chosen by the caller (the application generates one when the user gave
// none); it must be unique within the customer. Owner is the first-contact
// owner. The reply-due time comes from the ReplyClock passed to the verb.
type FileComplaint struct {
	ComplaintID string
	Channel     Channel
	Category    string
	Severity    Severity
	Description string
	Owner       string
	OccurredAt  time.Time
}

// AcknowledgeComplaint: the customer was told the complaint is handled.
type AcknowledgeComplaint struct {
	ComplaintID string
	By          string
	Note        string
	OccurredAt  time.Time
}

// EscalateComplaint hands the complaint to management with a promised
// reply time, which must be after OccurredAt and at most 30 days later.
type EscalateComplaint struct {
	ComplaintID     string
	By              string
	To              string
	Reason          string
	PromisedReplyBy time.Time
	OccurredAt      time.Time
}

// DeclineComplaint closes an invalid complaint with the reason.
type DeclineComplaint struct {
	ComplaintID string
	By          string
	Reason      string
	OccurredAt  time.Time
}

// TransferComplaint changes a complaint's owner explicitly.
type TransferComplaint struct {
	ComplaintID string
	By          string
	To          string
	Reason      string
	OccurredAt  time.Time
}

// ProposeResolution offers the customer one or more options.
type ProposeResolution struct {
	ComplaintID string
	By          string
	Options     []string
	OccurredAt  time.Time
}

// AcceptResolution records the customer's choice among the proposed
// options (0-based index).
type AcceptResolution struct {
	ComplaintID string
	OptionIndex int
	OccurredAt  time.Time
}

// TakeRecoveryStep records one of the five service-recovery steps.
// Compensation is only allowed with StepSymbolicAtonement.
type TakeRecoveryStep struct {
	ComplaintID  string
	Step         RecoveryStep
	By           string
	Note         string
	Compensation *Money
	OccurredAt   time.Time
}

// ResolveComplaint closes a complaint with the customer's verdict.
type ResolveComplaint struct {
	ComplaintID string
	By          string
	Outcome     Outcome
	Note        string
	OccurredAt  time.Time
}

// ReopenComplaint opens a resolved or declined complaint again.
type ReopenComplaint struct {
	ComplaintID string
	By          string
	Note        string
	OccurredAt  time.Time
}

// FileIncidentReport records the problem analysis report of an escalated
// complaint (required before a MAJOR complaint can be resolved).
type FileIncidentReport struct {
	ComplaintID       string
	By                string
	Impact            string
	Handling          string
	Cause             string
	CorrectiveActions string
	OccurredAt        time.Time
}

// ScheduleFollowUp puts a follow-up on someone's queue. FollowUpID is chosen
// by the caller (the follow-up scheduler derives it deterministically) and
// must be unique within the customer. Owner defaults to the complaint's
// owner when ComplaintID is given, else to the account manager.
type ScheduleFollowUp struct {
	FollowUpID  string
	ComplaintID string
	Reason      FollowUpReason
	Owner       string
	DueAt       time.Time
	Note        string
	OccurredAt  time.Time
}

// CompleteFollowUp records a due follow-up's outcome.
type CompleteFollowUp struct {
	FollowUpID string
	By         string
	Outcome    FollowUpOutcome
	Note       string
	OccurredAt time.Time
}

// CancelFollowUp takes a due follow-up off the queue.
type CancelFollowUp struct {
	FollowUpID string
	By         string
	Reason     string
	OccurredAt time.Time
}

// RecordSatisfaction records a survey answer (score 1–5).
type RecordSatisfaction struct {
	Score       int
	Comment     string
	ComplaintID string // optional; must exist when given
	OccurredAt  time.Time
}

// RecordGreetingSent records a delivered campaign greeting.
type RecordGreetingSent struct {
	CampaignID string
	Occasion   string
	Channel    Channel
	Template   int
	Attempts   int
	OccurredAt time.Time
}

// RecordGreetingFailed records a greeting whose delivery failed for good.
type RecordGreetingFailed struct {
	CampaignID string
	Occasion   string
	Channel    Channel
	Reason     string
	Attempts   int
	OccurredAt time.Time
}

// RecordGreetingSkipped records that a campaign did not greet the customer.
type RecordGreetingSkipped struct {
	CampaignID string
	Occasion   string
	Reason     string
	// Channel is the channel the template would have used, if known.
	Channel    Channel
	OccurredAt time.Time
}

// MarkLost records that someone decided the customer is gone.
type MarkLost struct {
	Reason     string
	By         string
	OccurredAt time.Time
}

// WinBack records that a customer marked lost came back.
type WinBack struct {
	Reason     string
	OccurredAt time.Time
}

// FlagConduct records abusive behaviour.
type FlagConduct struct {
	Severity   Severity
	Note       string
	By         string
	OccurredAt time.Time
}

// Erase records the customer's erasure (the application destroys the
// personal-data key).
type Erase struct {
	By         string
	Reason     string
	OccurredAt time.Time
}

// --- input validation shared by the verbs ---

// MaxComplaintWindow is how far after an escalation its promised reply time
// may lie.
const MaxComplaintWindow = 30 * 24 * time.Hour

// ReservedIDPrefix starts the keystore subjects kefu keeps for itself
// (the duplicates index key): no customer may be registered under it, so
// erasing a customer can never destroy such a key.
const ReservedIDPrefix = "kefu."

// ValidID reports whether s is a valid customer, complaint, follow-up or
// campaign id (aggregate.IDSyntax).
func ValidID(s string) bool { return aggregate.ValidID(s) }

// occurredAt resolves a command's business time: zero means now; the
// future is refused; the past is a backfill.
func occurredAt(t, now time.Time) (time.Time, error) {
	if t.IsZero() {
		return now, nil
	}
	if t.After(now) {
		return time.Time{}, invalid("occurredAt", "%s is in the future (now is %s)", t.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	return t, nil
}

// occurredAt resolves the business time of a command on this customer as
// the free function does, and also refuses a time before the customer's
// registration: nothing can happen to a customer before the first fact of
// their stream (a backfill must register the customer at or before its
// earliest event). Every verb but Register resolves its time here.
func (c *Customer) occurredAt(t, now time.Time) (time.Time, error) {
	at, err := occurredAt(t, now)
	if err != nil {
		return time.Time{}, err
	}
	if c.registered && at.Before(c.registeredAt) {
		return time.Time{}, invalid("occurredAt", "%s is before the customer was registered (%s)", at.Format(time.RFC3339), c.registeredAt.In(at.Location()).Format(time.RFC3339))
	}
	return at, nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return invalid(field, "required")
	}
	if !utf8.ValidString(v) {
		return invalid(field, "not valid UTF-8")
	}
	return nil
}

func requiredEnum(field string, v interface{ IsZero() bool }) error {
	if v.IsZero() {
		return invalid(field, "required")
	}
	return nil
}

func requiredID(field, id string) error { return aggregate.CheckID(field, id) }

func optionalID(field, id string) error {
	if id == "" {
		return nil
	}
	return requiredID(field, id)
}

func nonNegative(field string, n int) error {
	if n < 0 {
		return invalid(field, "%d is negative", n)
	}
	return nil
}

func validMoney(field string, m Money) error {
	if m.AmountMinor < 0 {
		return invalid(field, "amount %d is negative", m.AmountMinor)
	}
	if len(m.Currency) != 3 || !isUpper(m.Currency) {
		return invalid(field, "currency %q is not 3 upper-case letters (ISO 4217)", m.Currency)
	}
	return nil
}

func isUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// validTimezone requires an IANA zone name that time.LoadLocation knows.
// LoadLocation reads the zone database (the system's, or the copy embedded
// by importing time/tzdata in main); its answer does not depend on state
// the aggregate could observe, so deciding with it stays deterministic.
func validTimezone(tz string) error {
	if tz == "" {
		return invalid("timezone", "required")
	}
	if tz == "Local" {
		return invalid("timezone", `"Local" is not a zone name`)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return invalid("timezone", "%q is not a known IANA zone", tz)
	}
	return nil
}

// validLocale accepts BCP 47-like tags: a 2–3 letter language and
// optional subtags of 1–8 letters or digits, joined by '-' or '_'.
func validLocale(loc string) error {
	if loc == "" {
		return invalid("locale", "required")
	}
	parts := strings.FieldsFunc(loc, func(r rune) bool { return r == '-' || r == '_' })
	ok := len(parts) > 0 && len(parts) <= 8 && len(loc) <= 64 &&
		!strings.HasPrefix(loc, "-") && !strings.HasPrefix(loc, "_") &&
		!strings.HasSuffix(loc, "-") && !strings.HasSuffix(loc, "_") &&
		!strings.Contains(loc, "--") && !strings.Contains(loc, "__")
	for i, p := range parts {
		if !ok {
			break
		}
		if i == 0 {
			ok = len(p) >= 2 && len(p) <= 3 && isLetters(p)
			continue
		}
		ok = len(p) >= 1 && len(p) <= 8 && isAlnum(p)
	}
	if !ok {
		return invalid("locale", "%q is not a language tag like zh-CN", loc)
	}
	return nil
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i] | 0x20; b < 'a' || b > 'z' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; !('0' <= b && b <= '9') && !isLetters(s[i:i+1]) {
			return false
		}
	}
	return true
}

// validBirthday accepts "" or a real YYYY-MM-DD date not after the day of
// the event.
func validBirthday(s string, at time.Time) error {
	if s == "" {
		return nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) {
		return invalid("birthday", "%q is not a date YYYY-MM-DD", s)
	}
	if d.Year() < 1850 || s > at.Format(time.DateOnly) {
		return invalid("birthday", "%s is not a plausible birthday", s)
	}
	return nil
}

// validPhone accepts "" or an optional '+' then digits, spaces, '-', '(' and
// ')' with 3 to 20 digits.
func validPhone(s string) error {
	if s == "" {
		return nil
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case '0' <= b && b <= '9':
			digits++
		case b == '+' && i == 0, b == ' ', b == '-', b == '(', b == ')':
		default:
			return invalid("phone", "%q contains %q", s, b)
		}
	}
	if digits < 3 || digits > 20 {
		return invalid("phone", "%q needs 3 to 20 digits", s)
	}
	return nil
}

// validEmail accepts "" or local@domain with no spaces and a dot-free or
// dotted domain; the mail server is the real judge.
func validEmail(s string) error {
	if s == "" {
		return nil
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(s, " \t\r\n") || strings.Contains(domain, "@") || len(s) > 254 {
		return invalid("email", "%q is not an address like name@example.com", s)
	}
	return nil
}
