package graphql

import (
	"context"
	"errors"
	"log/slog"
	"strings"
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

// Sentinel errors the ports wrap (with %w or an Unwrap method) so that the
// API can tell the classes apart. Adapters translate domain and store errors
// into these.
var (
	// ErrBadInput: the request's arguments are malformed → BAD_USER_INPUT.
	ErrBadInput = errors.New("bad input")
	// ErrNotFound: the named entity does not exist → NOT_FOUND.
	ErrNotFound = errors.New("not found")
	// ErrConflict: expectedVersion did not match the stream → CONFLICT.
	ErrConflict = errors.New("conflict")
	// ErrPrecondition: a domain rule refused the command → FAILED_PRECONDITION.
	ErrPrecondition = errors.New("failed precondition")
	// ErrForbidden: the actor's role may not do this → FORBIDDEN.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated: no valid credentials → UNAUTHENTICATED.
	ErrUnauthenticated = errors.New("unauthenticated")
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

// Is lets errors.Is(err, ErrNotFound) etc. match an *Error by its code.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrBadInput:
		return e.Code == CodeBadUserInput
	case ErrNotFound:
		return e.Code == CodeNotFound
	case ErrConflict:
		return e.Code == CodeConflict
	case ErrPrecondition:
		return e.Code == CodeFailedPrecondition
	case ErrForbidden:
		return e.Code == CodeForbidden
	case ErrUnauthenticated:
		return e.Code == CodeUnauthenticated
	}
	return false
}

func badInput(field, format string) *Error {
	e := &Error{Code: CodeBadUserInput, Message: format}
	if field != "" {
		e.Fields = []string{field}
	}
	return e
}

// FieldError can be implemented by a port's error to name the offending
// input field; it is copied into extensions.fields.
type FieldError interface {
	error
	FieldName() string
}

// AllowedError can be implemented by a precondition error to list the
// actions allowed instead; it is copied into extensions.allowed.
type AllowedError interface {
	error
	AllowedActions() []string
}

// internalMessage is all a client learns of an unexpected error.
const internalMessage = "internal error"

// toError maps any error to an *Error. Known classes keep their message
// (it is meant for the caller); unknown errors are logged and hidden.
func toError(ctx context.Context, log *slog.Logger, err error) *Error {
	if err == nil {
		return nil
	}
	var ge *Error
	if errors.As(err, &ge) {
		return ge
	}
	var code Code
	switch {
	case errors.Is(err, ErrBadInput):
		code = CodeBadUserInput
	case errors.Is(err, ErrNotFound):
		code = CodeNotFound
	case errors.Is(err, ErrConflict):
		code = CodeConflict
	case errors.Is(err, ErrPrecondition):
		code = CodeFailedPrecondition
	case errors.Is(err, ErrForbidden):
		code = CodeForbidden
	case errors.Is(err, ErrUnauthenticated):
		code = CodeUnauthenticated
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: CodeTimeout, Message: "request timed out"}
	case errors.Is(err, context.Canceled):
		return &Error{Code: CodeCancelled, Message: "request cancelled"}
	default:
		log.ErrorContext(ctx, "graphql: internal error", "err", err)
		return &Error{Code: CodeInternal, Message: internalMessage}
	}
	out := &Error{Code: code, Message: publicMessage(err)}
	var fe FieldError
	if errors.As(err, &fe) && fe.FieldName() != "" {
		out.Fields = []string{fe.FieldName()}
	}
	var ae AllowedError
	if errors.As(err, &ae) && len(ae.AllowedActions()) > 0 {
		out.Details = map[string]any{"allowed": ae.AllowedActions()}
	}
	return out
}

// publicMessage strips the bare sentinel suffix that %w chains tend to add
// (": not found") so messages read naturally.
func publicMessage(err error) string {
	msg := err.Error()
	for _, s := range []error{ErrBadInput, ErrNotFound, ErrConflict, ErrPrecondition, ErrForbidden, ErrUnauthenticated} {
		if msg == s.Error() {
			return msg
		}
		msg = strings.TrimSuffix(msg, ": "+s.Error())
	}
	return msg
}
