package campaign

import (
	"fmt"

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

// The typed errors are the customer aggregate's too: a refusal reads the
// same, and carries the same details, whichever aggregate refused.
type (
	// InvalidInputError names the offending field and, when there is one,
	// the cause.
	InvalidInputError = customer.InvalidInputError
	// NotFoundError names the campaign that was not found (Kind "campaign").
	NotFoundError = customer.NotFoundError
	// PreconditionError says why a command is refused in the campaign's
	// current state, and what is allowed instead.
	PreconditionError = customer.PreconditionError
)

func invalid(field string, cause error, format string, args ...any) error {
	return &InvalidInputError{Field: field, Reason: fmt.Sprintf(format, args...), Err: cause}
}
