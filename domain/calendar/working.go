package calendar

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of WorkingCalendarConfig.
const (
	DefaultTimezone = "Asia/Shanghai"
	DefaultDayStart = 9 * time.Hour
	DefaultDayEnd   = 18 * time.Hour
)

// WorkingCalendarConfig configures a WorkingCalendar. The zero value means
// the defaults: Asia/Shanghai, 09:00–18:00, Monday to Friday, the built-in
// CN arrangements 2002–2026.
type WorkingCalendarConfig struct {
	// Location is the organisation's timezone. Nil means Asia/Shanghai (a
	// fixed UTC+08:00 zone when the tz database is not available, which is
	// exact for every year since 1992).
	Location *time.Location
	// DayStart and DayEnd are the working hours as wall-clock offsets from
	// midnight, 0 <= DayStart < DayEnd <= 24h. Both zero means 09:00–18:00.
	DayStart, DayEnd time.Duration
	// Workweek lists the working weekdays in years without an official
	// arrangement, and the days an arrangement does not mention. Empty means
	// Monday to Friday.
	Workweek []time.Weekday
	// Arrangements adds official arrangements for years the release does not
	// carry (e.g. 2027 once announced), loaded from a config file or from
	// ADMIN events. An arrangement for a built-in year replaces that year.
	Arrangements []Arrangement
	// OmitBuiltin drops the built-in CN arrangements (for a non-CN
	// organisation, or to supply every year yourself).
	OmitBuiltin bool
}

// Validate reports every invalid field, joined (each a *ConfigError or an
// *ArrangementError).
func (c WorkingCalendarConfig) Validate() error {
	var errs []error
	start, end := c.hours()
	if start < 0 || end > 24*time.Hour || start >= end {
		errs = append(errs, &ConfigError{Field: "DayStart/DayEnd", Reason: fmt.Sprintf("want 0 <= start < end <= 24h, got %v..%v", start, end)})
	}
	for _, w := range c.Workweek {
		if w < time.Sunday || w > time.Saturday {
			errs = append(errs, &ConfigError{Field: "Workweek", Reason: fmt.Sprintf("invalid weekday %d", int(w))})
		}
	}
	if err := validateArrangements(c.Arrangements); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c WorkingCalendarConfig) hours() (time.Duration, time.Duration) {
	if c.DayStart == 0 && c.DayEnd == 0 {
		return DefaultDayStart, DefaultDayEnd
	}
	return c.DayStart, c.DayEnd
}

// WorkingCalendar answers workday questions and does working-time arithmetic.
// It is immutable and safe for concurrent use; every year with an official
// arrangement is precomputed into a bitmap at construction.
type WorkingCalendar struct {
	cfg        WorkingCalendarConfig
	loc        *time.Location
	start, end time.Duration
	workweek   [7]bool
	firstYear  int         // year of years[0]
	years      []yearTable // dense, firstYear..; official=false for gaps
}

// yearTable holds one bit per day of the year (index YearDay-1).
type yearTable struct {
	official bool
	bits     [6]uint64
}

func (y *yearTable) set(i int, v bool) {
	if v {
		y.bits[i>>6] |= 1 << (i & 63)
	} else {
		y.bits[i>>6] &^= 1 << (i & 63)
	}
}

func (y *yearTable) get(i int) bool { return y.bits[i>>6]&(1<<(i&63)) != 0 }

// NewWorkingCalendar validates cfg and builds the calendar.
func NewWorkingCalendar(cfg WorkingCalendarConfig) (*WorkingCalendar, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &WorkingCalendar{cfg: cfg, loc: cfg.Location}
	if c.loc == nil {
		loc, err := time.LoadLocation(DefaultTimezone)
		if err != nil {
			loc = time.FixedZone("CST", 8*60*60)
		}
		c.loc = loc
	}
	c.start, c.end = cfg.hours()
	if len(cfg.Workweek) == 0 {
		for w := time.Monday; w <= time.Friday; w++ {
			c.workweek[w] = true
		}
	}
	for _, w := range cfg.Workweek {
		c.workweek[w] = true
	}
	byYear := map[int]Arrangement{}
	if !cfg.OmitBuiltin {
		for _, a := range BuiltinArrangements() {
			byYear[a.Year] = a
		}
	}
	for _, a := range cfg.Arrangements {
		byYear[a.Year] = a
	}
	if len(byYear) > 0 {
		lo, hi := 10000, 0
		for y := range byYear {
			lo, hi = min(lo, y), max(hi, y)
		}
		c.firstYear = lo
		c.years = make([]yearTable, hi-lo+1)
		for y, a := range byYear {
			c.years[y-lo] = c.buildYear(a)
		}
	}
	return c, nil
}

// MustNewWorkingCalendar is NewWorkingCalendar that panics; for main and tests.
func MustNewWorkingCalendar(cfg WorkingCalendarConfig) *WorkingCalendar {
	c, err := NewWorkingCalendar(cfg)
	if err != nil {
		panic(err)
	}
	return c
}

func (c *WorkingCalendar) buildYear(a Arrangement) yearTable {
	t := yearTable{official: true}
	d := Date{Year: a.Year, Month: time.January, Day: 1}
	w := d.Weekday()
	n := 365
	if IsLeap(a.Year) {
		n = 366
	}
	for i := 0; i < n; i++ {
		t.set(i, c.workweek[(int(w)+i)%7])
	}
	for _, d := range a.DaysOff {
		t.set(d.YearDay()-1, false)
	}
	for _, d := range a.WorkingDays {
		t.set(d.YearDay()-1, true)
	}
	return t
}

// With returns a calendar with the same configuration plus more
// arrangements (replacing earlier ones for the same years). Use it when an
// ADMIN records a new year's arrangement; the receiver is unchanged.
func (c *WorkingCalendar) With(arrangements ...Arrangement) (*WorkingCalendar, error) {
	cfg := c.cfg
	merged := make([]Arrangement, 0, len(cfg.Arrangements)+len(arrangements))
	replaced := map[int]bool{}
	for _, a := range arrangements {
		replaced[a.Year] = true
	}
	for _, a := range cfg.Arrangements {
		if !replaced[a.Year] {
			merged = append(merged, a)
		}
	}
	cfg.Arrangements = append(merged, arrangements...)
	return NewWorkingCalendar(cfg)
}

// Location returns the organisation's timezone.
func (c *WorkingCalendar) Location() *time.Location { return c.loc }

// WorkingHours returns the start and end of the working day as offsets
// from midnight.
func (c *WorkingCalendar) WorkingHours() (start, end time.Duration) { return c.start, c.end }

// HalfDay returns half the working hours (4h30m for 09:00–18:00).
func (c *WorkingCalendar) HalfDay() time.Duration { return (c.end - c.start) / 2 }

// IsOfficial reports whether year has an official arrangement; deadlines
// that touch other years are provisional.
func (c *WorkingCalendar) IsOfficial(year int) bool {
	i := year - c.firstYear
	return i >= 0 && i < len(c.years) && c.years[i].official
}

// IsWorkday reports whether d is a working day.
func (c *WorkingCalendar) IsWorkday(d Date) bool {
	w, _ := c.Workday(d)
	return w
}

// Workday reports whether d is a working day and whether that comes from an
// official arrangement (false: the plain workweek was assumed).
func (c *WorkingCalendar) Workday(d Date) (work, official bool) {
	i := d.Year - c.firstYear
	if i >= 0 && i < len(c.years) && c.years[i].official {
		return c.years[i].get(yearDay(d) - 1), true
	}
	return c.workweek[d.Weekday()], false
}

// yearDay is Date.YearDay without the day-count round trip.
func yearDay(d Date) int {
	m := int(d.Month)
	if m <= 2 {
		return (m-1)*31 + d.Day
	}
	n := (153*(m-3)+2)/5 + 59 + d.Day
	if IsLeap(d.Year) {
		n++
	}
	return n
}

// at returns the instant of wall-clock offset off on day d.
func (c *WorkingCalendar) at(d Date, off time.Duration) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, int(off), c.loc)
}

// AddWorkingTime returns the instant at which d of working time has elapsed
// after t, counting only working hours on working days; a t outside working
// hours starts counting at the next working period. The result is in the
// organisation's timezone; it ends exactly at a period's end when d runs out
// there. provisional is true when any day consulted lies in a year without
// an official arrangement (the plain workweek was assumed). d <= 0 returns t.
func (c *WorkingCalendar) AddWorkingTime(t time.Time, d time.Duration) (due time.Time, provisional bool) {
	cur := t.In(c.loc)
	if d <= 0 {
		return cur, false
	}
	day := DateOf(cur)
	for {
		work, official := c.Workday(day)
		if !official {
			provisional = true
		}
		if work {
			s, e := c.at(day, c.start), c.at(day, c.end)
			if cur.Before(s) {
				cur = s
			}
			if cur.Before(e) {
				avail := e.Sub(cur)
				if d <= avail {
					return cur.Add(d), provisional
				}
				d -= avail
			}
		}
		day = day.AddDays(1)
		cur = c.at(day, 0)
	}
}

// ReplyDue is the complaint reply deadline: filed plus half a working day.
func (c *WorkingCalendar) ReplyDue(filed time.Time) (due time.Time, provisional bool) {
	return c.AddWorkingTime(filed, c.HalfDay())
}

// EndOfWorkingDay is the "same day" deadline: the end of t's working day
// when t is before it on a working day, else the end of the next working day.
func (c *WorkingCalendar) EndOfWorkingDay(t time.Time) (due time.Time, provisional bool) {
	cur := t.In(c.loc)
	day := DateOf(cur)
	for {
		work, official := c.Workday(day)
		if !official {
			provisional = true
		}
		if work {
			if e := c.at(day, c.end); cur.Before(e) {
				return e, provisional
			}
		}
		day = day.AddDays(1)
	}
}

// NextWorkday returns the first working day after d.
func (c *WorkingCalendar) NextWorkday(d Date) Date {
	for {
		d = d.AddDays(1)
		if c.IsWorkday(d) {
			return d
		}
	}
}
