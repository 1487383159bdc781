package campaign

import (
	"fmt"

	"github.com/kefu-crm/kefu/domain/aggregate"
)

func invalid(field string, cause error, format string, args ...any) error {
	return &aggregate.InvalidInputError{Field: field, Reason: fmt.Sprintf(format, args...), Err: cause}
}
