package kurrent

import (
	"errors"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// Sentinel errors of this backend, beyond the port's. Test with errors.Is.
var (
	// ErrUnavailable: the server could not be reached or could not serve
	// the request now (network error, no leader, timeout). The operation
	// may be retried.
	ErrUnavailable = errors.New("kurrent: server unavailable")
	// ErrAccessDenied: the connection's credentials are missing or lack the
	// rights (kefu needs to read $all, and to write and tombstone its
	// streams).
	ErrAccessDenied = errors.New("kurrent: access denied")
	// ErrStreamDeleted: the stream was hard-deleted (tombstoned).
	ErrStreamDeleted = errors.New("kurrent: stream deleted")
	// ErrForeignEvent: an event in $all that kefu did not write (its
	// metadata is not kefu's envelope).
	ErrForeignEvent = errors.New("kurrent: event not written by kefu")
	// ErrInvalidConfig: a connection string or options that cannot work.
	ErrInvalidConfig = errors.New("kurrent: invalid configuration")
	// ErrKeyConflict: a data key imported for a customer who already has a
	// different one.
	ErrKeyConflict = errors.New("kurrent: a different data key is already stored")
)

// Error is a client error mapped for the port. It matches its Kind (a
// port sentinel such as eventstore.ErrStreamNotFound, or one of this
// package's) and the client's *esdb.Error with errors.Is/As.
type Error struct {
	// Op is the operation: "append", "read stream", "read $all" …
	Op string
	// Code is the client's error code (ErrorCodeUnknown for errors that
	// are not *esdb.Error).
	Code esdb.ErrorCode
	// Kind is the sentinel the error matches; nil when none fits.
	Kind error
	// Err is the client's error.
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("kurrent: %s: %v", e.Op, e.Err)
}

// Unwrap returns the sentinel and the client's error.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// DecodeError is an event in the log that this backend cannot read back.
type DecodeError struct {
	Stream   string
	Revision uint64
	Err      error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("kurrent: event %s@%d: %v", e.Stream, e.Revision, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }
