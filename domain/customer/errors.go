package customer

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors: every refusal of a command matches exactly one of them
// with errors.Is. A refused command records no event.
var (
	// ErrInvalidInput: the command's arguments are malformed (a bad ID, an
	// empty required field, a negative amount, a time in the future …).
	ErrInvalidInput = errors.New("invalid input")
	// ErrNotFound: the command names a complaint or follow-up the customer
	// does not have, or a customer that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrFailedPrecondition: a domain rule refuses the command in the
	// aggregate's current state (a step out of order, a closed complaint,
	// no consent, an erased customer …).
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrCorruptHistory: Rehydrate was given a history that cannot be a
	// customer stream (a gap in revisions, a nil event, a first event that
	// is not CustomerRegistered). It is not a command refusal.
	ErrCorruptHistory = errors.New("corrupt customer history")
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
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidInput and the cause.
func (e *InvalidInputError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidInput}
	}
	return []error{ErrInvalidInput, e.Err}
}

// NotFoundError names what was not found. It matches ErrNotFound.
type NotFoundError struct {
	Kind string // "customer", "complaint", "follow-up"
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

func invalid(field, format string, args ...any) error {
	return &InvalidInputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
