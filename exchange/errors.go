package exchange

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Test with errors.Is.
var (
	// ErrInvalidInput: an import file with at least one bad record; the
	// error is a *ValidationError listing them. Nothing was written.
	ErrInvalidInput = errors.New("exchange: invalid input")
	// ErrConflict: the target store already holds other events in a stream
	// the file writes (found while validating; nothing was written).
	ErrConflict = errors.New("exchange: conflicts with the store")
	// ErrInvalidOptions: export or import options that cannot be used.
	ErrInvalidOptions = errors.New("exchange: invalid options")
	// ErrUnknownCustomer: a purchases CSV imported with NoCreate names a
	// customer the store does not have; the error is an
	// *UnknownCustomerError. Nothing was written.
	ErrUnknownCustomer = errors.New("exchange: unknown customer")
)

// UnknownCustomerError names the first row (in file order) of a customer
// the store does not have, and how many such customers the file names.
// It matches ErrUnknownCustomer with errors.Is.
type UnknownCustomerError struct {
	// File names the input in messages.
	File string
	// Line is the line of the first row naming an unknown customer.
	Line int
	// CustomerID is that customer.
	CustomerID string
	// Count is the number of distinct unknown customers in the file.
	Count int
}

func (e *UnknownCustomerError) Error() string {
	name := e.File
	if name == "" {
		name = "input"
	}
	more := ""
	if e.Count > 1 {
		more = fmt.Sprintf(" (and %d more unknown customer(s))", e.Count-1)
	}
	return fmt.Sprintf("%s:%d: customer %q is not in the store%s; nothing written", name, e.Line, e.CustomerID, more)
}

// Unwrap makes an UnknownCustomerError match ErrUnknownCustomer.
func (e *UnknownCustomerError) Unwrap() error { return ErrUnknownCustomer }

// LineError is one bad line of an import file.
type LineError struct {
	// Line is the 1-based line number in the file.
	Line int
	// Reason says what is wrong, for people.
	Reason string
}

func (e LineError) String() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// MaxReported is how many bad lines a ValidationError lists; Count has the
// total.
const MaxReported = 100

// ValidationError lists the bad lines of a file (the first MaxReported,
// in line order). It matches ErrInvalidInput with errors.Is.
type ValidationError struct {
	// File names the input in messages ("purchases.csv").
	File string
	// Lines are the first bad lines.
	Lines []LineError
	// Count is the number of bad lines, reported or not.
	Count int
}

func (e *ValidationError) add(line int, format string, args ...any) {
	e.Count++
	if len(e.Lines) < MaxReported {
		e.Lines = append(e.Lines, LineError{Line: line, Reason: fmt.Sprintf(format, args...)})
	}
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	name := e.File
	if name == "" {
		name = "input"
	}
	fmt.Fprintf(&b, "%s: %d bad record(s), nothing written", name, e.Count)
	for _, l := range e.Lines {
		fmt.Fprintf(&b, "\n  %s:%d: %s", name, l.Line, l.Reason)
	}
	if e.Count > len(e.Lines) {
		fmt.Fprintf(&b, "\n  … and %d more", e.Count-len(e.Lines))
	}
	return b.String()
}

// Unwrap makes a ValidationError match ErrInvalidInput.
func (e *ValidationError) Unwrap() error { return ErrInvalidInput }
