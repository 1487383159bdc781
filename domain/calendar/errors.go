package calendar

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; the typed errors below unwrap to one of them.
var (
	// ErrInvalidDate reports text that is not a valid YYYY-MM-DD civil date.
	ErrInvalidDate = errors.New("calendar: invalid date")
	// ErrUnknownCalendar reports a calendar code that is not built in.
	ErrUnknownCalendar = errors.New("calendar: unknown calendar")
	// ErrUnknownHoliday reports a holiday key that no calendar defines
	// (or that does not occur in the requested year).
	ErrUnknownHoliday = errors.New("calendar: unknown holiday")
	// ErrInvalidRange reports a date range that is reversed, too long or
	// outside the years a calendar supports.
	ErrInvalidRange = errors.New("calendar: invalid range")
	// ErrInvalidArrangement reports an official arrangement that is not
	// self-consistent.
	ErrInvalidArrangement = errors.New("calendar: invalid arrangement")
	// ErrInvalidConfig reports a WorkingCalendarConfig that fails Validate.
	ErrInvalidConfig = errors.New("calendar: invalid working calendar config")
)

// DateError reports text that could not be parsed as a Date.
type DateError struct {
	Input  string // the text as given
	Reason string // what is wrong with it
}

func (e *DateError) Error() string {
	return fmt.Sprintf("calendar: invalid date %q: %s", e.Input, e.Reason)
}

// Unwrap returns ErrInvalidDate.
func (e *DateError) Unwrap() error { return ErrInvalidDate }

// UnknownCalendarError reports an unknown calendar code and lists the known ones.
type UnknownCalendarError struct {
	Calendar string   // the code as given
	Known    []string // the codes Calendars returns
}

func (e *UnknownCalendarError) Error() string {
	return fmt.Sprintf("calendar: unknown calendar %q (known: %s)", e.Calendar, strings.Join(e.Known, ", "))
}

// Unwrap returns ErrUnknownCalendar.
func (e *UnknownCalendarError) Unwrap() error { return ErrUnknownCalendar }

// UnknownHolidayError reports a holiday key that is not defined, or not
// observed in Year.
type UnknownHolidayError struct {
	Key    string // the key as given, e.g. "CN:spring_festival"
	Year   int    // the year asked for; 0 when the key itself is unknown
	Reason string // why the lookup failed
}

func (e *UnknownHolidayError) Error() string {
	if e.Year != 0 {
		return fmt.Sprintf("calendar: holiday %q in %d: %s", e.Key, e.Year, e.Reason)
	}
	return fmt.Sprintf("calendar: holiday %q: %s", e.Key, e.Reason)
}

// Unwrap returns ErrUnknownHoliday.
func (e *UnknownHolidayError) Unwrap() error { return ErrUnknownHoliday }

// RangeError reports a rejected date range.
type RangeError struct {
	From, To Date   // the range as given
	Reason   string // why it is rejected
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("calendar: invalid range %s..%s: %s", e.From, e.To, e.Reason)
}

// Unwrap returns ErrInvalidRange.
func (e *RangeError) Unwrap() error { return ErrInvalidRange }

// ArrangementError reports one problem in an official arrangement.
type ArrangementError struct {
	Year   int    // the arrangement's year
	Date   Date   // the offending day; zero when the problem is not about a day
	Reason string // what is wrong
}

func (e *ArrangementError) Error() string {
	if e.Date.IsZero() {
		return fmt.Sprintf("calendar: arrangement %d: %s", e.Year, e.Reason)
	}
	return fmt.Sprintf("calendar: arrangement %d: %s: %s", e.Year, e.Date, e.Reason)
}

// Unwrap returns ErrInvalidArrangement.
func (e *ArrangementError) Unwrap() error { return ErrInvalidArrangement }

// ConfigError reports one invalid WorkingCalendarConfig field.
type ConfigError struct {
	Field  string // the field name
	Reason string // what is wrong
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("calendar: config %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }
