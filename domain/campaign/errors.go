package campaign

import (
	"fmt"

	"github.com/kefu-crm/kefu/domain/aggregate"
)

// The refusals every aggregate shares (domain/aggregate), so one errors.Is
// maps a refusal of either aggregate to an API error code.
var (
	ErrInvalidInput       = aggregate.ErrInvalidInput
	ErrNotFound           = aggregate.ErrNotFound
	ErrFailedPrecondition = aggregate.ErrFailedPrecondition
	ErrCorruptHistory     = aggregate.ErrCorruptHistory
)

// The typed refusals (domain/aggregate).
type (
	InvalidInputError = aggregate.InvalidInputError
	NotFoundError     = aggregate.NotFoundError
	PreconditionError = aggregate.PreconditionError
)

func invalid(field string, cause error, format string, args ...any) error {
	return &InvalidInputError{Field: field, Reason: fmt.Sprintf(format, args...), Err: cause}
}
