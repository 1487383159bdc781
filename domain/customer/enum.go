package customer

import (
	"fmt"

	"github.com/kefu-crm/kefu/domain/aggregate"
)

// enum is a closed set of string values. K is a tag type that names the set
// and lists its values; each exported enum type below is enum[K] for its own
// K, so a Tier can never be passed where a Channel is wanted, and no package
// outside this one can invent a value: the field is unexported and the only
// ways in are the declared values and the Parse functions.
type enum[K enumKind] struct{ v string }

type enumKind interface {
	kindName() string
	kindValues() []string
}

// String returns the value as written in events and the API (e.g. "GOLD").
func (e enum[K]) String() string { return e.v }

// IsZero reports whether e is unset.
func (e enum[K]) IsZero() bool { return e.v == "" }

// MarshalText writes the value's name.
func (e enum[K]) MarshalText() ([]byte, error) { return []byte(e.v), nil }

// UnmarshalText reads a value's name; the empty string is the unset value.
func (e *enum[K]) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*e = enum[K]{}
		return nil
	}
	v, err := parseEnum[K](string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}

func parseEnum[K enumKind](s string) (enum[K], error) {
	var k K
	for _, v := range k.kindValues() {
		if v == s {
			return enum[K]{v}, nil
		}
	}
	return enum[K]{}, &aggregate.InvalidInputError{Field: k.kindName(), Reason: fmt.Sprintf("%q is not one of %v", s, k.kindValues())}
}

func enumValues[K enumKind]() []enum[K] {
	var k K
	vals := k.kindValues()
	out := make([]enum[K], len(vals))
	for i, v := range vals {
		out[i] = enum[K]{v}
	}
	return out
}

type (
	tierKind            struct{}
	channelKind         struct{}
	directionKind       struct{}
	severityKind        struct{}
	outcomeKind         struct{}
	recoveryStepKind    struct{}
	followUpReasonKind  struct{}
	followUpOutcomeKind struct{}
)

// The value lists, built once. They are unexported and only kindValues
// hands them out, inside this package; enumValues copies them, so no caller
// outside can change a list. Returning a package-level slice (rather than a
// slice literal) keeps parsing free of allocations: decoding events parses
// enums on every read.
var (
	tierValues            = []string{"STANDARD", "GOLD", "VIP"}
	channelValues         = []string{"PHONE", "VISIT", "LETTER", "EMAIL", "CHAT", "WECHAT", "SMS"}
	directionValues       = []string{"INBOUND", "OUTBOUND"}
	severityValues        = []string{"GENERAL", "MAJOR"}
	outcomeValues         = []string{"SATISFIED", "UNSATISFIED"}
	recoveryStepValues    = []string{"APOLOGY", "URGENT_RESTORATION", "EMPATHY", "SYMBOLIC_ATONEMENT", "FOLLOW_UP"}
	followUpReasonValues  = []string{"RECOVERY", "HOLIDAY", "WIN_BACK", "ROUTINE", "REPLENISHMENT"}
	followUpOutcomeValues = []string{"SATISFIED", "UNSATISFIED", "NO_ANSWER"}
)

func (tierKind) kindName() string                { return "tier" }
func (tierKind) kindValues() []string            { return tierValues }
func (channelKind) kindName() string             { return "channel" }
func (channelKind) kindValues() []string         { return channelValues }
func (directionKind) kindName() string           { return "direction" }
func (directionKind) kindValues() []string       { return directionValues }
func (severityKind) kindName() string            { return "severity" }
func (severityKind) kindValues() []string        { return severityValues }
func (outcomeKind) kindName() string             { return "outcome" }
func (outcomeKind) kindValues() []string         { return outcomeValues }
func (recoveryStepKind) kindName() string        { return "step" }
func (recoveryStepKind) kindValues() []string    { return recoveryStepValues }
func (followUpReasonKind) kindName() string      { return "reason" }
func (followUpReasonKind) kindValues() []string  { return followUpReasonValues }
func (followUpOutcomeKind) kindName() string     { return "outcome" }
func (followUpOutcomeKind) kindValues() []string { return followUpOutcomeValues }

// Tier is a service tier: customers are served differently by tier [003 §2.2].
type Tier = enum[tierKind]

// Channel is how a contact, complaint or greeting travelled.
type Channel = enum[channelKind]

// Direction says who initiated a contact.
type Direction = enum[directionKind]

// Severity classifies a complaint: GENERAL, or MAJOR (escalate at once,
// incident report before closing).
type Severity = enum[severityKind]

// Outcome is how the customer took a complaint's resolution.
type Outcome = enum[outcomeKind]

// RecoveryStep is one of the five steps of service recovery [002].
type RecoveryStep = enum[recoveryStepKind]

// FollowUpReason says why a follow-up was scheduled.
type FollowUpReason = enum[followUpReasonKind]

// FollowUpOutcome is the result of a follow-up call.
type FollowUpOutcome = enum[followUpOutcomeKind]

// The values of each enum.
var (
	TierStandard = Tier{"STANDARD"}
	TierGold     = Tier{"GOLD"}
	TierVIP      = Tier{"VIP"}

	ChannelPhone  = Channel{"PHONE"}
	ChannelVisit  = Channel{"VISIT"}
	ChannelLetter = Channel{"LETTER"}
	ChannelEmail  = Channel{"EMAIL"}
	ChannelChat   = Channel{"CHAT"}
	ChannelWeChat = Channel{"WECHAT"}
	ChannelSMS    = Channel{"SMS"}

	Inbound  = Direction{"INBOUND"}
	Outbound = Direction{"OUTBOUND"}

	SeverityGeneral = Severity{"GENERAL"}
	SeverityMajor   = Severity{"MAJOR"}

	Satisfied   = Outcome{"SATISFIED"}
	Unsatisfied = Outcome{"UNSATISFIED"}

	StepApology           = RecoveryStep{"APOLOGY"}
	StepUrgentRestoration = RecoveryStep{"URGENT_RESTORATION"}
	StepEmpathy           = RecoveryStep{"EMPATHY"}
	StepSymbolicAtonement = RecoveryStep{"SYMBOLIC_ATONEMENT"}
	StepFollowUp          = RecoveryStep{"FOLLOW_UP"}

	ReasonRecovery = FollowUpReason{"RECOVERY"}
	ReasonHoliday  = FollowUpReason{"HOLIDAY"}
	ReasonWinBack  = FollowUpReason{"WIN_BACK"}
	ReasonRoutine  = FollowUpReason{"ROUTINE"}
	// ReasonReplenishment: the customer is expected to buy an item
	// category again soon (补货提醒, projections/replenish).
	ReasonReplenishment = FollowUpReason{"REPLENISHMENT"}

	FollowUpSatisfied   = FollowUpOutcome{"SATISFIED"}
	FollowUpUnsatisfied = FollowUpOutcome{"UNSATISFIED"}
	FollowUpNoAnswer    = FollowUpOutcome{"NO_ANSWER"}
)

// Parsing constructors: the only way to turn outside text into an enum.
// They return an *aggregate.InvalidInputError naming the field and the allowed values.
func ParseTier(s string) (Tier, error)                     { return parseEnum[tierKind](s) }
func ParseChannel(s string) (Channel, error)               { return parseEnum[channelKind](s) }
func ParseDirection(s string) (Direction, error)           { return parseEnum[directionKind](s) }
func ParseSeverity(s string) (Severity, error)             { return parseEnum[severityKind](s) }
func ParseOutcome(s string) (Outcome, error)               { return parseEnum[outcomeKind](s) }
func ParseRecoveryStep(s string) (RecoveryStep, error)     { return parseEnum[recoveryStepKind](s) }
func ParseFollowUpReason(s string) (FollowUpReason, error) { return parseEnum[followUpReasonKind](s) }
func ParseFollowUpOutcome(s string) (FollowUpOutcome, error) {
	return parseEnum[followUpOutcomeKind](s)
}

// Value lists, in declaration order (for API enums and tests).
func Tiers() []Tier                       { return enumValues[tierKind]() }
func Directions() []Direction             { return enumValues[directionKind]() }
func Severities() []Severity              { return enumValues[severityKind]() }
func Outcomes() []Outcome                 { return enumValues[outcomeKind]() }
func Channels() []Channel                 { return enumValues[channelKind]() }
func RecoverySteps() []RecoveryStep       { return enumValues[recoveryStepKind]() }
func FollowUpReasons() []FollowUpReason   { return enumValues[followUpReasonKind]() }
func FollowUpOutcomes() []FollowUpOutcome { return enumValues[followUpOutcomeKind]() }
