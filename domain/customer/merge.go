package customer

import (
	"fmt"
	"slices"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
)

// Merging duplicates
//
// A merge never rewrites or copies an event. It records two kinds of fact,
// appended together (all or none) by the application:
//
//   - CustomerMerged{into} on the stream of each customer merged away;
//   - CustomersMergedIn{from} on the survivor's stream, with the profile
//     fields the merge took from the merged customers (the survivor's
//     profile wins unless the command picks a field).
//
// From then on the merged customers' streams are closed to new facts about
// the customer: every customer-level command on a merged id is refused with
// a *MergedError (FAILED_PRECONDITION) that names the survivor, so a client
// writes to the survivor instead — the API does not redirect, because the
// expected version a client passes is that of the stream it read. Complaint
// and follow-up steps are the exception: a complaint or follow-up keeps its
// history in the stream it was opened on, so its later steps still go
// there (the read models show it on the survivor).
//
// A merge can be undone within a policy window by another pair of facts
// (see Unmerge in unmerge.go); it is never removed.

// MergeCustomers asks to merge duplicates into a survivor.
type MergeCustomers struct {
	// By is who merges; Reason why (both required).
	By     string
	Reason string
	// Profile picks profile fields from merged customers (field → the
	// merged customer whose value wins); the survivor's value stays for
	// every field not picked.
	Profile []ProfileChoice
}

// ProfileChoice takes one profile field from one merged customer.
type ProfileChoice struct {
	// Field is a profile field: name, phone, email, wechat, birthday,
	// tier, segment, accountManager, timezone, locale.
	Field string `json:"field"`
	// From is the merged customer whose value wins.
	From string `json:"from"`
}

// ProfileFields are the fields a ProfileChoice may name.
var ProfileFields = []string{"name", "phone", "email", "wechat", "birthday", "tier", "segment", "accountManager", "timezone", "locale"}

// CustomerMerged: this customer is a duplicate of Into, which carries the
// customer's history on from now on. Nothing about the customer is
// recorded on this stream after it (complaint and follow-up steps aside).
type CustomerMerged struct {
	Into   string `json:"into"`
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// CustomersMergedIn: the customers From are duplicates of this one, whose
// view now holds their histories too. The profile fields the merge took
// from them (Choices) are carried with their values, as ProfileUpdated
// would carry them (nil = the survivor's value stays).
type CustomersMergedIn struct {
	From    []string        `json:"from"`
	By      string          `json:"by"`
	Reason  string          `json:"reason"`
	Choices []ProfileChoice `json:"choices,omitempty"`

	Name           *string `json:"name,omitempty"`
	Phone          *string `json:"phone,omitempty"`
	Email          *string `json:"email,omitempty"`
	WeChat         *string `json:"wechat,omitempty"`
	Birthday       *string `json:"birthday,omitempty"`
	Tier           *Tier   `json:"tier,omitempty"`
	Segment        *string `json:"segment,omitempty"`
	AccountManager *string `json:"accountManager,omitempty"`
	Timezone       *string `json:"timezone,omitempty"`
	Locale         *string `json:"locale,omitempty"`
}

func (CustomerMerged) EventType() string    { return TypeCustomerMerged }
func (CustomersMergedIn) EventType() string { return TypeCustomersMergedIn }

// PersonalData of a merge: the personal profile values it took.
func (e *CustomersMergedIn) PersonalData() []*string {
	return nonNil(e.Name, e.Phone, e.Email, e.WeChat, e.Birthday)
}

// Profile returns the merge's profile values as a ProfileUpdated (what
// changes on the survivor).
func (e *CustomersMergedIn) Profile() ProfileUpdated {
	return ProfileUpdated{Name: e.Name, Phone: e.Phone, Email: e.Email, WeChat: e.WeChat, Birthday: e.Birthday,
		Tier: e.Tier, Segment: e.Segment, AccountManager: e.AccountManager, Timezone: e.Timezone, Locale: e.Locale}
}

// MergedError refuses a command on a customer merged into another: it
// names the survivor to write to instead. It matches
// aggregate.ErrFailedPrecondition.
type MergedError struct {
	// Action is the refused command.
	Action string
	// ID is the merged customer; Into the survivor.
	ID, Into string
}

func (e *MergedError) Error() string {
	return fmt.Sprintf("cannot %s: customer %s was merged into %s; use customer %s instead", e.Action, e.ID, e.Into, e.Into)
}

// Unwrap returns aggregate.ErrFailedPrecondition.
func (e *MergedError) Unwrap() error { return aggregate.ErrFailedPrecondition }

// MergedInto is the survivor this customer was merged into, if it was.
func (c *Customer) MergedInto() (string, bool) { return c.mergedInto, c.mergedInto != "" }

// MergedFrom lists the customers merged into this one, in merge order.
func (c *Customer) MergedFrom() []string { return slices.Clone(c.mergedFrom) }

// Merge decides the merge of merged into survivor: it records
// CustomersMergedIn on survivor and CustomerMerged on each merged
// customer, or refuses and records nothing anywhere. Refused: no merged
// customers, a customer twice, the survivor among the merged (merging a
// customer into itself), a customer that does not exist, an erased one,
// one already merged (a survivor already merged into one of the merged is
// a cycle), a bad profile choice.
func Merge(survivor *Customer, merged []*Customer, cmd MergeCustomers, now time.Time) error {
	if survivor == nil {
		return invalid("survivorId", "required")
	}
	if err := firstErr(required("by", cmd.By), required("reason", cmd.Reason)); err != nil {
		return err
	}
	if len(merged) == 0 {
		return invalid("mergedIds", "name at least one customer to merge")
	}
	action := "merge customers into " + survivor.id
	seen := map[string]bool{}
	for _, m := range merged {
		if m == nil {
			return invalid("mergedIds", "nil customer")
		}
		if m.id == survivor.id {
			return invalid("mergedIds", "customer %s cannot be merged into itself", m.id)
		}
		if seen[m.id] {
			return invalid("mergedIds", "customer %s is named twice", m.id)
		}
		seen[m.id] = true
	}
	for i, ch := range cmd.Profile {
		if !slices.Contains(ProfileFields, ch.Field) {
			return invalid(fmt.Sprintf("profile[%d].field", i), "%q is not one of %v", ch.Field, ProfileFields)
		}
		if !seen[ch.From] {
			return invalid(fmt.Sprintf("profile[%d].from", i), "%q is not one of the merged customers", ch.From)
		}
		for _, earlier := range cmd.Profile[:i] {
			if earlier.Field == ch.Field {
				return invalid(fmt.Sprintf("profile[%d].field", i), "%s is picked twice", ch.Field)
			}
		}
	}
	if !survivor.registered {
		return &aggregate.NotFoundError{Kind: "customer", ID: survivor.id}
	}
	if survivor.erased {
		return &aggregate.PreconditionError{Action: action, Reason: "the survivor " + survivor.id + " was erased"}
	}
	if into, ok := survivor.MergedInto(); ok {
		if seen[into] {
			return &aggregate.PreconditionError{Action: action, Reason: fmt.Sprintf("the survivor %s was merged into %s: merging %s into it would make a cycle", survivor.id, into, into)}
		}
		return &MergedError{Action: "merge customers into " + survivor.id, ID: survivor.id, Into: into}
	}
	at, err := survivor.occurredAt(time.Time{}, now)
	if err != nil {
		return err
	}
	for _, m := range merged {
		if !m.registered {
			return &aggregate.NotFoundError{Kind: "customer", ID: m.id}
		}
		if m.erased {
			return &aggregate.PreconditionError{Action: action, Reason: "customer " + m.id + " was erased; an erased customer cannot be merged"}
		}
		if into, ok := m.MergedInto(); ok {
			return &aggregate.PreconditionError{Action: action, Reason: fmt.Sprintf("customer %s was already merged into %s", m.id, into)}
		}
	}
	in := &CustomersMergedIn{By: cmd.By, Reason: cmd.Reason}
	for _, m := range merged {
		in.From = append(in.From, m.id)
	}
	byID := map[string]*Customer{}
	for _, m := range merged {
		byID[m.id] = m
	}
	// Every pick is recorded; a field's value travels only when it
	// differs from the survivor's.
	for _, ch := range cmd.Profile {
		survivor.takeField(in, ch.Field, byID[ch.From])
		in.Choices = append(in.Choices, ch)
	}
	for _, m := range merged {
		m.record(&CustomerMerged{Into: survivor.id, By: cmd.By, Reason: cmd.Reason}, at)
	}
	survivor.record(in, at)
	return nil
}

// takeField sets field of in to from's value when it differs from c's,
// and reports whether it did.
func (c *Customer) takeField(in *CustomersMergedIn, field string, from *Customer) bool {
	str := func(dst **string, mine, theirs string) bool {
		if mine == theirs {
			return false
		}
		v := theirs
		*dst = &v
		return true
	}
	switch field {
	case "name":
		return str(&in.Name, c.name, from.name)
	case "phone":
		return str(&in.Phone, c.phone, from.phone)
	case "email":
		return str(&in.Email, c.email, from.email)
	case "wechat":
		return str(&in.WeChat, c.wechat, from.wechat)
	case "birthday":
		return str(&in.Birthday, c.birthday, from.birthday)
	case "segment":
		return str(&in.Segment, c.segment, from.segment)
	case "accountManager":
		return str(&in.AccountManager, c.accountManager, from.accountManager)
	case "timezone":
		return str(&in.Timezone, c.timezone, from.timezone)
	case "locale":
		return str(&in.Locale, c.locale, from.locale)
	case "tier":
		if c.tier == from.tier {
			return false
		}
		t := from.tier
		in.Tier = &t
		return true
	}
	return false
}
