package customer

import (
	"fmt"

	"github.com/kefu-crm/kefu/domain/aggregate"
)

// The refusals every aggregate shares (domain/aggregate): every refusal of
// a command matches exactly one of the sentinels with errors.Is, and
// records no event.
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

func invalid(field, format string, args ...any) error {
	return &InvalidInputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
