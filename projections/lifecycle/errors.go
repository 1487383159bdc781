package lifecycle

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package.
var (
	// ErrInvalidPolicy: a policy has a missing, non-positive or
	// inconsistent threshold, or its JSON has an unknown field.
	ErrInvalidPolicy = errors.New("invalid lifecycle policy")
	// ErrUnknownStage: a stage name that is not one of the stages.
	ErrUnknownStage = errors.New("unknown lifecycle stage")
)

// PolicyError names the policy field that is wrong. It matches
// ErrInvalidPolicy.
type PolicyError struct {
	// Field is the JSON name of the field ("silentAfterDays").
	Field string
	// Reason says what is wrong with it.
	Reason string
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("lifecycle policy: %s: %s", e.Field, e.Reason)
}

// Unwrap makes a PolicyError match ErrInvalidPolicy.
func (e *PolicyError) Unwrap() error { return ErrInvalidPolicy }
