// Package aggregate is what every aggregate of kefu's domain shares: the
// refusals a command may meet (typed errors matching one sentinel each, so
// one errors.Is maps a refusal of any aggregate to an API code), the
// syntax of entity IDs, the limits on the text a command carries, and the
// shapes of a pending change and of a stored event as an aggregate is
// rebuilt from it. It is pure: no I/O, no infrastructure.
package aggregate

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Change is an event an aggregate's verb recorded and not yet stored, with
// its business time.
type Change[E any] struct {
	Event      E
	OccurredAt time.Time
}

// Historic is a stored event of an aggregate's stream, as the aggregate is
// rebuilt from it (Rehydrate): the event, its revision in the stream and
// its business time.
type Historic[E any] struct {
	Event      E
	Revision   uint64
	OccurredAt time.Time
}

// Sentinel errors: every refusal of a command matches exactly one of them
// with errors.Is. A refused command records no event.
var (
	// ErrInvalidInput: the command's arguments are malformed (a bad ID, an
	// empty required field, a negative amount, a time in the future …).
	ErrInvalidInput = errors.New("invalid input")
	// ErrNotFound: the command names something the aggregate does not
	// have, or an aggregate that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrFailedPrecondition: a domain rule refuses the command in the
	// aggregate's current state (a step out of order, a closed complaint,
	// no consent, an erased customer …).
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrCorruptHistory: Rehydrate was given a history that cannot be the
	// aggregate's stream (a gap in revisions, a nil event, a wrong first
	// event). It is not a command refusal.
	ErrCorruptHistory = errors.New("corrupt history")
)

// InvalidInputError names the offending field. It matches ErrInvalidInput
// and, when there is one, the underlying cause (e.g.
// calendar.ErrUnknownHoliday).
type InvalidInputError struct {
	Field  string
	Reason string
	Err    error
}

func (e *InvalidInputError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidInput and the cause.
func (e *InvalidInputError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidInput}
	}
	return []error{ErrInvalidInput, e.Err}
}

// Invalid is an *InvalidInputError for field with a formatted reason.
func Invalid(field, format string, args ...any) error {
	return &InvalidInputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// NotFoundError names what was not found. It matches ErrNotFound.
type NotFoundError struct {
	Kind string // "customer", "complaint", "follow-up", "campaign"
	ID   string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Kind, e.ID) }

func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// PreconditionError says why a command is refused now and, where it helps,
// which actions are allowed instead. It matches ErrFailedPrecondition.
type PreconditionError struct {
	// Action is the refused command, e.g. "resolve complaint c-17".
	Action string
	// Reason says which rule refused it.
	Reason string
	// Allowed lists the actions the current state accepts (may be empty).
	Allowed []string
}

func (e *PreconditionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot %s: %s", e.Action, e.Reason)
	if len(e.Allowed) > 0 {
		fmt.Fprintf(&b, " (allowed now: %s)", strings.Join(e.Allowed, ", "))
	}
	return b.String()
}

func (e *PreconditionError) Unwrap() error { return ErrFailedPrecondition }

// IDSyntax is the syntax of every entity ID (customers, complaints,
// follow-ups, campaigns), as messages and the API describe it.
const IDSyntax = "[A-Za-z0-9_.-]{1,64}"

// ValidID reports whether id matches IDSyntax. It runs on every command,
// append and decode, so it is a byte loop rather than a regular expression
// (a fuzz test holds the two to the same answers).
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_' || b == '.' || b == '-') {
			return false
		}
	}
	return true
}

// CheckID is nil for a valid ID, else the *InvalidInputError for field.
func CheckID(field, id string) error {
	if ValidID(id) {
		return nil
	}
	return Invalid(field, "%q does not match %s", id, IDSyntax)
}

// EventSpec describes one event type of an aggregate's stream for the
// codec: its stable name, its schema version, a constructor to decode into
// and the upcasters of older versions.
type EventSpec[E any] struct {
	Type    string
	Version int
	// New returns a pointer to a zero event of the type, to decode into.
	New func() E
	// Upcast maps a stored version (key) to a function turning its JSON
	// into the next version's JSON. Empty while every stored event is
	// version 1.
	Upcast map[int]func(data []byte) ([]byte, error)
}
