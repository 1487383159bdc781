package churn

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Test for them with errors.Is.
var (
	// ErrNotEnoughData reports a customer set the model cannot be fitted
	// on: no customers, or no customer with a repeat purchase (then the
	// dropout parameters a and b are not identified).
	ErrNotEnoughData = errors.New("churn: not enough data to fit the model")
	// ErrInvalidSummary reports a Summary outside the model's domain.
	ErrInvalidSummary = errors.New("churn: invalid summary")
	// ErrInvalidParams reports parameters that are not all finite and positive.
	ErrInvalidParams = errors.New("churn: invalid parameters")
	// ErrInvalidOptions reports FitOptions that fail validation.
	ErrInvalidOptions = errors.New("churn: invalid fit options")
	// ErrInvalidUnit reports a Unit other than Day or Week.
	ErrInvalidUnit = errors.New("churn: invalid time unit")
	// ErrNoPurchases reports a purchase history with no purchase on or
	// before the as-of date: such a customer has no Summary.
	ErrNoPurchases = errors.New("churn: no purchase on or before the as-of date")
	// ErrNotConverged reports an iterative computation (the fit, or the
	// hypergeometric series of the conditional expectation) that did not
	// reach its tolerance.
	ErrNotConverged = errors.New("churn: computation did not converge")
	// ErrInvalidHorizon reports a negative or non-finite forecast horizon.
	ErrInvalidHorizon = errors.New("churn: invalid horizon")
	// ErrNoModel: too few customers with purchases to fit the book's model.
	ErrNoModel = errors.New("churn: no churn model")
)

// SummaryError reports which Summary of a fit input is invalid and why.
type SummaryError struct {
	// Index is the position of the summary in the input slice, or -1
	// when the summary was passed on its own.
	Index int
	// Summary is the offending value.
	Summary Summary
	// Reason says which constraint failed.
	Reason string
}

// Error implements error.
func (e *SummaryError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("churn: invalid summary {X:%g Tx:%g T:%g}: %s", e.Summary.X, e.Summary.Tx, e.Summary.T, e.Reason)
	}
	return fmt.Sprintf("churn: invalid summary #%d {X:%g Tx:%g T:%g}: %s", e.Index, e.Summary.X, e.Summary.Tx, e.Summary.T, e.Reason)
}

// Unwrap returns ErrInvalidSummary.
func (e *SummaryError) Unwrap() error { return ErrInvalidSummary }

// FitError reports a maximum-likelihood fit that stopped without
// converging. Params holds the last iterate, for diagnostics only.
type FitError struct {
	// Iterations is the number of optimiser iterations performed.
	Iterations int
	// Params is the last iterate.
	Params Params
	// Reason says why the optimiser stopped.
	Reason string
}

// Error implements error.
func (e *FitError) Error() string {
	return fmt.Sprintf("churn: fit did not converge after %d iterations (r=%g alpha=%g a=%g b=%g): %s",
		e.Iterations, e.Params.R, e.Params.Alpha, e.Params.A, e.Params.B, e.Reason)
}

// Unwrap returns ErrNotConverged.
func (e *FitError) Unwrap() error { return ErrNotConverged }
