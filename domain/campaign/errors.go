package campaign

import (
	"fmt"
	"strings"

	"github.com/kefu-crm/kefu/domain/customer"
)

// Sentinel errors. They are the customer aggregate's sentinels, so one
// errors.Is maps a refusal of either aggregate to an API error code.
var (
	// ErrInvalidInput: the command's arguments are malformed.
	ErrInvalidInput = customer.ErrInvalidInput
	// ErrNotFound: the campaign does not exist.
	ErrNotFound = customer.ErrNotFound
	// ErrFailedPrecondition: the campaign's state refuses the command.
	ErrFailedPrecondition = customer.ErrFailedPrecondition
	// ErrCorruptHistory: Rehydrate was given a history that cannot be a
	// campaign stream.
	ErrCorruptHistory = customer.ErrCorruptHistory
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

// NotFoundError names the campaign that was not found. It matches ErrNotFound.
type NotFoundError struct {
	ID string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("campaign %q not found", e.ID) }

// Unwrap returns ErrNotFound.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// PreconditionError says why a command is refused in the campaign's current
// state. It matches ErrFailedPrecondition.
type PreconditionError struct {
	Action  string
	Reason  string
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

// Unwrap returns ErrFailedPrecondition.
func (e *PreconditionError) Unwrap() error { return ErrFailedPrecondition }

func invalid(field string, cause error, format string, args ...any) error {
	return &InvalidInputError{Field: field, Reason: fmt.Sprintf(format, args...), Err: cause}
}
