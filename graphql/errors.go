package graphql

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/app"
	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/internal/datadir"
)

// Code is the value of extensions.code on every error the API returns.
type Code string

// The error codes of the contract.
const (
	CodeBadUserInput       Code = "BAD_USER_INPUT"
	CodeNotFound           Code = "NOT_FOUND"
	CodeConflict           Code = "CONFLICT"
	CodeFailedPrecondition Code = "FAILED_PRECONDITION"
	CodeUnauthenticated    Code = "UNAUTHENTICATED"
	CodeForbidden          Code = "FORBIDDEN"
	CodeInternal           Code = "INTERNAL"
	// CodeTimeout: the request ran past HandlerConfig.Timeout and was
	// stopped (HTTP 503); retry later or ask for less.
	CodeTimeout Code = "TIMEOUT"
	// CodeCancelled: the client went away before the answer was ready; the
	// work was stopped (HTTP 503, which nobody reads).
	CodeCancelled Code = "CANCELLED"
	// CodeUnavailable: the server cannot answer from the whole log right
	// now (HTTP 503) — it is starting and its read models are catching
	// up, a read model stopped on an event it could not read, or the event
	// store found its file damaged; extensions.reason says which.
	CodeUnavailable Code = "UNAVAILABLE"
)

// Error is a GraphQL error with a code. Resolvers return it unwrapped:
// graphql-go reads Extensions with a plain type assertion.
type Error struct {
	Code    Code
	Message string
	// Fields names the input fields at fault (e.g. "input.occurredAt"), if known.
	Fields []string
	// Details are extra extensions (e.g. "allowed" next steps).
	Details map[string]any

	locations any // source locations of a request-level error, if known
}

func (e *Error) Error() string { return e.Message }

// Extensions implements graphql-go's gqlerrors.ExtendedError.
func (e *Error) Extensions() map[string]any {
	m := make(map[string]any, 2+len(e.Details))
	for k, v := range e.Details {
		m[k] = v
	}
	m["code"] = string(e.Code)
	if len(e.Fields) > 0 {
		m["fields"] = e.Fields
	}
	return m
}

func badInput(field, format string) *Error {
	e := &Error{Code: CodeBadUserInput, Message: format}
	if field != "" {
		e.Fields = []string{field}
	}
	return e
}

// internalMessage is all a client learns of an unexpected error.
const internalMessage = "internal error"

// toError maps any error to an *Error: the application's errors by their
// class — the domain's typed errors (aggregate), conflicts (command), the
// calendar's refusals, a damaged data directory, a late read model (app)
// — keeping their message (it is meant for the caller), the input field
// at fault and the steps allowed instead. Unknown errors are logged and
// hidden.
func toError(ctx context.Context, log *slog.Logger, err error) *Error {
	if err == nil {
		return nil
	}
	var ge *Error
	if errors.As(err, &ge) {
		return ge
	}
	var late *app.LateError
	var code Code
	switch {
	case errors.Is(err, aggregate.ErrInvalidInput), errors.Is(err, calendar.ErrInvalidDate),
		errors.Is(err, calendar.ErrUnknownCalendar), errors.Is(err, calendar.ErrUnknownHoliday), errors.Is(err, calendar.ErrInvalidRange):
		code = CodeBadUserInput
	case errors.Is(err, aggregate.ErrNotFound):
		code = CodeNotFound
	case errors.Is(err, command.ErrConflict):
		code = CodeConflict
	case errors.Is(err, aggregate.ErrFailedPrecondition):
		code = CodeFailedPrecondition
	case errors.As(err, &late):
		// The write is durable; only the read models were late. Say so,
		// or a client retrying without an idempotency key would record
		// it twice.
		log.WarnContext(ctx, "command recorded but the request ended before the read models caught up",
			"id", late.ID, "version", late.Revision, "err", late.Err)
		return &Error{Code: CodeInternal, Message: late.Error()}
	case datadir.IsDamage(err):
		// The data directory's files are damaged: not the caller's fault,
		// nothing to retry.
		return &Error{Code: CodeUnavailable, Message: err.Error(), Details: map[string]any{"reason": "damaged"}}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: CodeTimeout, Message: "request timed out"}
	case errors.Is(err, context.Canceled):
		return &Error{Code: CodeCancelled, Message: "request cancelled"}
	default:
		log.ErrorContext(ctx, "graphql: internal error", "err", err)
		return &Error{Code: CodeInternal, Message: internalMessage}
	}
	out := &Error{Code: code, Message: err.Error()}
	var ie *aggregate.InvalidInputError
	if errors.As(err, &ie) && ie.Field != "" {
		out.Fields = []string{ie.Field}
	}
	var pe *aggregate.PreconditionError
	if errors.As(err, &pe) && len(pe.Allowed) > 0 {
		out.Details = map[string]any{"allowed": pe.Allowed}
	}
	var me *customer.MergedError
	if errors.As(err, &me) {
		// A command on a merged customer: the survivor to write to.
		out.Details = map[string]any{"into": me.Into}
	}
	var we *customer.UnmergeWindowError
	if errors.As(err, &we) {
		// An unmerge too late: when the merge was made and when its
		// window closed.
		out.Details = map[string]any{"mergedAt": we.MergedAt.UTC().Format(time.RFC3339Nano), "windowClosedAt": we.ClosedAt.UTC().Format(time.RFC3339Nano)}
	}
	return out
}

// underInput names the fields of err (a mutation's) as fields of its input
// argument: the domain says "occurredAt", the caller sent
// "input.occurredAt".
func underInput(err *Error) *Error {
	if err == nil || len(err.Fields) == 0 {
		return err
	}
	out := *err
	out.Fields = make([]string, len(err.Fields))
	for i, f := range err.Fields {
		if !strings.HasPrefix(f, "input.") && f != "input" {
			f = "input." + f
		}
		out.Fields[i] = f
	}
	return &out
}
