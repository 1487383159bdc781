package graphql

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/app"
	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/internal/datadir"
)

// Every class of the application's errors gets its code, keeps its message
// and what it says about the input and the steps allowed; anything else is
// INTERNAL, logged in full and hidden from the caller.
func TestErrorClasses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		code    Code
		fields  []string
		allowed []string
		hidden  bool
	}{
		{name: "invalid input", err: fmt.Errorf("register: %w", &aggregate.InvalidInputError{Field: "timezone", Reason: "unknown zone"}),
			code: CodeBadUserInput, fields: []string{"timezone"}},
		{name: "calendar", err: fmt.Errorf("holidays: %w", calendar.ErrUnknownCalendar), code: CodeBadUserInput},
		{name: "not found", err: &aggregate.NotFoundError{Kind: "customer", ID: "c9"}, code: CodeNotFound},
		{name: "conflict", err: &command.ConflictError{Kind: "customer", ID: "c1", Actual: 4}, code: CodeConflict},
		{name: "key reuse", err: &command.KeyReuseError{Kind: "campaign", ID: "g1", Key: "k"}, code: CodeConflict},
		{name: "precondition", err: &aggregate.PreconditionError{Action: "resolve complaint k1", Reason: "not acknowledged", Allowed: []string{"acknowledge"}},
			code: CodeFailedPrecondition, allowed: []string{"acknowledge"}},
		{name: "late read model", err: &app.LateError{ID: "c1", Revision: 7, Err: context.DeadlineExceeded}, code: CodeInternal},
		{name: "damaged directory", err: fmt.Errorf("read: %w", datadir.ErrDamaged), code: CodeUnavailable},
		{name: "deadline", err: fmt.Errorf("read: %w", context.DeadlineExceeded), code: CodeTimeout},
		{name: "cancelled", err: context.Canceled, code: CodeCancelled},
		{name: "unknown", err: fmt.Errorf("disk on fire at /secret/path"), code: CodeInternal, hidden: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged bytes.Buffer
			e := toError(context.Background(), slog.New(slog.NewTextHandler(&logged, nil)), tc.err)
			if e.Code != tc.code {
				t.Errorf("code %s, want %s", e.Code, tc.code)
			}
			if !slices.Equal(e.Fields, tc.fields) {
				t.Errorf("fields %v, want %v", e.Fields, tc.fields)
			}
			allowed, _ := e.Details["allowed"].([]string)
			if !slices.Equal(allowed, tc.allowed) {
				t.Errorf("allowed %v, want %v", allowed, tc.allowed)
			}
			if tc.hidden {
				if e.Message != internalMessage || !strings.Contains(logged.String(), "/secret/path") {
					t.Errorf("message %q, log %q: the detail must be logged and hidden", e.Message, logged.String())
				}
			} else if e.Code != CodeTimeout && e.Code != CodeCancelled && e.Message != tc.err.Error() {
				t.Errorf("message %q, want the error's own %q", e.Message, tc.err.Error())
			}
		})
	}
}

// A mutation's fields are its input's, and its allowed steps the mutations
// that take them.
func TestMutationErrorsNameTheInput(t *testing.T) {
	e := &Error{Code: CodeFailedPrecondition, Fields: []string{"occurredAt", "input.by"}, Details: map[string]any{"allowed": []string{"acknowledge", "win back"}}}
	got := allowedMutations(underInput(e), map[string]string{"acknowledge": "acknowledgeComplaint"})
	if !slices.Equal(got.Fields, []string{"input.occurredAt", "input.by"}) {
		t.Errorf("fields %v", got.Fields)
	}
	if a := got.Details["allowed"].([]string); !slices.Equal(a, []string{"acknowledgeComplaint", "win back"}) {
		t.Errorf("allowed %v", a)
	}
	if e.Fields[0] != "occurredAt" || e.Details["allowed"].([]string)[0] != "acknowledge" {
		t.Error("the original error was changed")
	}
}
