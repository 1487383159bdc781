package analytics

import "errors"

// Sentinel errors. Test with errors.Is.
var (
	// ErrInvalidArgument: a report or query argument out of range.
	ErrInvalidArgument = errors.New("analytics: invalid argument")
	// ErrNoModel: too few customers with purchases to fit a churn model.
	ErrNoModel = errors.New("analytics: no churn model")
)
