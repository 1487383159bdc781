package server

import (
	"errors"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/graphql"
	"github.com/kefu-crm/kefu/internal/datadir"
)

// apiError carries a domain or store error to the API: it matches the
// graphql sentinel for its class (so the handler picks extensions.code)
// and keeps the domain message, the field at fault and the allowed next
// steps.
type apiError struct {
	class error
	err   error
}

func (e *apiError) Error() string   { return e.err.Error() }
func (e *apiError) Unwrap() []error { return []error{e.class, e.err} }

// FieldName names the input field at fault, when the domain said.
func (e *apiError) FieldName() string {
	var ie *customer.InvalidInputError
	if errors.As(e.err, &ie) {
		return "input." + ie.Field
	}
	return ""
}

// AllowedActions lists the steps allowed instead, when the domain said.
func (e *apiError) AllowedActions() []string {
	var pe *customer.PreconditionError
	if errors.As(e.err, &pe) {
		return pe.Allowed
	}
	return nil
}

// apiErr classifies err for the API; unknown errors pass through (the
// handler reports them as INTERNAL and logs them).
func apiErr(err error) error {
	if err == nil {
		return nil
	}
	var class error
	switch {
	case errors.Is(err, graphql.ErrBadInput), errors.Is(err, graphql.ErrNotFound), errors.Is(err, graphql.ErrConflict),
		errors.Is(err, graphql.ErrPrecondition), errors.Is(err, graphql.ErrForbidden):
		return err
	case errors.Is(err, customer.ErrInvalidInput), errors.Is(err, calendar.ErrInvalidDate),
		errors.Is(err, calendar.ErrUnknownCalendar), errors.Is(err, calendar.ErrUnknownHoliday), errors.Is(err, calendar.ErrInvalidRange):
		class = graphql.ErrBadInput
	case errors.Is(err, customer.ErrNotFound):
		class = graphql.ErrNotFound
	case errors.Is(err, command.ErrConflict):
		class = graphql.ErrConflict
	case errors.Is(err, customer.ErrFailedPrecondition):
		class = graphql.ErrPrecondition
	case datadir.IsDamage(err):
		// The data directory's files are damaged: not the caller's fault,
		// nothing to retry (see CodeUnavailable).
		return &graphql.Error{Code: CodeUnavailable, Message: err.Error(), Details: map[string]any{"reason": "damaged"}}
	default:
		return err
	}
	return &apiError{class: class, err: err}
}

// notFound is the API's NOT_FOUND for an entity.
func notFound(kind, id string) error {
	return apiErr(&customer.NotFoundError{Kind: kind, ID: id})
}
