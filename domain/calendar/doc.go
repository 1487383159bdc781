// Package calendar provides the occasions and the working calendar kefu needs:
// holidays of built-in calendars (CN computed with lunar dates and solar terms,
// about fifty other countries from github.com/rickar/cal/v2), yearly
// per-customer occasions (birthdays, anniversaries), and working-time
// arithmetic on the CN official working calendar (statutory days off and the
// adjusted working days, 调休) for complaint SLAs.
//
// The package is pure: no I/O, no clock, no global mutable state. Everything
// that varies (timezone, working hours, extra official arrangements) is passed
// in through WorkingCalendarConfig.
package calendar
