package calendar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/6tail/tyme4go/tyme"
)

// Official CN arrangements built in (from tyme4go's LegalHoliday data).
const (
	BuiltinFirstYear = 2002
	BuiltinLastYear  = 2026
)

// Arrangement is a year's official working arrangement (CN: the State
// Council's notice on holidays, 国务院办公厅关于…部分节假日安排的通知): the
// statutory days off and the adjusted working days (调休). Within an
// arranged year a day is a workday when it is in WorkingDays, or it is a
// workweek day not in DaysOff. A day belongs to the arrangement of its own
// calendar year (a working Sunday on 2026-12-27 for 2027's New Year goes in
// the 2026 arrangement).
//
// The JSON form is {"year":2027,"daysOff":["2027-01-01",…],"workingDays":[…]}.
type Arrangement struct {
	Year        int    `json:"year"`
	DaysOff     []Date `json:"daysOff"`
	WorkingDays []Date `json:"workingDays"`
}

// Validate reports every problem found, joined: a year outside 1..9999, a
// day outside the year, a day listed twice, a day both off and working.
func (a Arrangement) Validate() error {
	if a.Year < 1 || a.Year > 9999 {
		return &ArrangementError{Year: a.Year, Reason: "year must be 1..9999"}
	}
	var errs []error
	off := make(map[Date]bool, len(a.DaysOff))
	check := func(d Date, what string, seen map[Date]bool) {
		switch {
		case !d.Valid():
			errs = append(errs, &ArrangementError{Year: a.Year, Date: d, Reason: what + " is not a valid date"})
		case d.Year != a.Year:
			errs = append(errs, &ArrangementError{Year: a.Year, Date: d, Reason: what + " is outside the year"})
		case seen[d]:
			errs = append(errs, &ArrangementError{Year: a.Year, Date: d, Reason: what + " is listed twice"})
		}
		seen[d] = true
	}
	for _, d := range a.DaysOff {
		check(d, "day off", off)
	}
	work := make(map[Date]bool, len(a.WorkingDays))
	for _, d := range a.WorkingDays {
		check(d, "working day", work)
		if off[d] {
			errs = append(errs, &ArrangementError{Year: a.Year, Date: d, Reason: "day is both off and working"})
		}
	}
	return errors.Join(errs...)
}

// ParseArrangements decodes arrangements from JSON — one object or an array
// of them — rejecting unknown fields, and validates each. A year given twice
// is an error.
func ParseArrangements(data []byte) ([]Arrangement, error) {
	trimmed := bytes.TrimSpace(data)
	var list []Arrangement
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var a Arrangement
		if err := dec.Decode(&a); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidArrangement, err)
		}
		list = []Arrangement{a}
	} else if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArrangement, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after JSON value", ErrInvalidArrangement)
	}
	if err := validateArrangements(list); err != nil {
		return nil, err
	}
	return list, nil
}

func validateArrangements(list []Arrangement) error {
	var errs []error
	years := make(map[int]bool, len(list))
	for _, a := range list {
		if err := a.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if years[a.Year] {
			errs = append(errs, &ArrangementError{Year: a.Year, Reason: "year given twice"})
		}
		years[a.Year] = true
	}
	return errors.Join(errs...)
}

// BuiltinArrangements returns the CN official arrangements for
// BuiltinFirstYear..BuiltinLastYear, decoded from tyme4go v1.4.3's
// LegalHoliday data with the corrections of builtinCorrections applied.
// TestBuiltinMatchesNotices checks the result day by day, 2004–2026,
// against a table transcribed from the State Council's notices. Each call
// returns fresh slices.
func BuiltinArrangements() []Arrangement {
	byYear := map[int]*Arrangement{}
	data := tyme.LegalHolidayData
	// Records are 13 bytes: YYYYMMDD, 0 = working day / 1 = day off, the
	// holiday's index, and a signed offset to the holiday.
	for i := 0; i+13 <= len(data); i += 13 {
		rec := data[i : i+13]
		d, err := time.Parse("20060102", rec[:8])
		if err != nil {
			continue
		}
		day := DateOf(d)
		if day.Year < BuiltinFirstYear || day.Year > BuiltinLastYear {
			continue
		}
		a := byYear[day.Year]
		if a == nil {
			a = &Arrangement{Year: day.Year}
			byYear[day.Year] = a
		}
		switch rec[8] {
		case '0':
			a.WorkingDays = append(a.WorkingDays, day)
		case '1':
			a.DaysOff = append(a.DaysOff, day)
		}
	}
	for _, c := range builtinCorrections() {
		a := byYear[c.day.Year]
		if a == nil {
			continue
		}
		a.DaysOff = slices.DeleteFunc(a.DaysOff, func(d Date) bool { return d == c.day })
		a.WorkingDays = slices.DeleteFunc(a.WorkingDays, func(d Date) bool { return d == c.day })
		if c.work {
			a.WorkingDays = append(a.WorkingDays, c.day)
		} else {
			a.DaysOff = append(a.DaysOff, c.day)
		}
	}
	out := make([]Arrangement, 0, len(byYear))
	for _, a := range byYear {
		slices.SortFunc(a.DaysOff, Date.Compare)
		slices.SortFunc(a.WorkingDays, Date.Compare)
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Year < out[j].Year })
	return out
}

// correction is a day whose status the upstream table gets wrong.
type correction struct {
	day  Date
	work bool // true: a working day; false: a day off
	why  string
}

// builtinCorrections lists the days on which tyme4go's LegalHoliday table
// departs from the State Council's notices, with the notice's words.
func builtinCorrections() []correction {
	return []correction{
		{Date{Year: 2013, Month: time.April, Day: 7}, true,
			"2013 notice, 清明节: 4月4日至6日放假调休，共3天。4月7日（星期日）上班。"},
		{Date{Year: 2013, Month: time.October, Day: 12}, true,
			"2013 notice, 国庆节: 10月1日至7日放假调休，共7天。9月29日（星期日）、10月12日（星期六）上班。"},
	}
}

// String summarises the arrangement, e.g. "2025: 28 days off, 5 working days".
func (a Arrangement) String() string {
	return strconv.Itoa(a.Year) + ": " + strconv.Itoa(len(a.DaysOff)) + " days off, " +
		strconv.Itoa(len(a.WorkingDays)) + " working days"
}
