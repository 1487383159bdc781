package calendar

import (
	"sort"
	"strings"
	"time"
)

// CN occasions are computed for these years (lunar dates and the Qingming
// solar term).
const (
	CNMinYear = 1900
	CNMaxYear = 2100
)

// MaxRangeYears bounds Holidays: to.Year - from.Year may be at most this.
const MaxRangeYears = 200

// Holiday is one occurrence of an occasion of a built-in calendar.
type Holiday struct {
	// Calendar is the calendar code, e.g. "CN", "US".
	Calendar string `json:"calendar"`
	// Key identifies the occasion across years, e.g. "CN:spring_festival".
	Key string `json:"key"`
	// Name is the English name (the local name when no English one is known).
	Name string `json:"name"`
	// LocalName is the name in the calendar's language, e.g. "春节"; empty
	// when the calendar's language is English.
	LocalName string `json:"localName,omitempty"`
	// Date is the day of the occasion itself (not the whole block of days off).
	Date Date `json:"date"`
}

// NameFor returns the occasion's name for a customer locale (BCP 47 or
// POSIX style, e.g. "zh-CN", "zh_Hans", "de-AT", "en"): the local name when
// the locale's language is the calendar's language, else the English name.
func (h Holiday) NameFor(locale string) string {
	if h.LocalName == "" {
		return h.Name
	}
	lang := strings.ToLower(locale)
	if i := strings.IndexAny(lang, "-_."); i >= 0 {
		lang = lang[:i]
	}
	if lang != "" && lang == calendarLanguage(h.Calendar) {
		return h.LocalName
	}
	return h.Name
}

// Calendars returns the codes of the built-in calendars, sorted: "CN" and
// the countries provided by github.com/rickar/cal/v2.
func Calendars() []string {
	codes := []string{"CN"}
	for _, s := range rickarSources() {
		codes = append(codes, s.code)
	}
	sort.Strings(codes)
	return codes
}

// Holidays returns the occasions of calendar between from and to inclusive,
// ordered by date then key. calendar is case-insensitive. It fails with an
// *UnknownCalendarError for an unknown calendar and with a *RangeError for an
// invalid date, from after to, a range longer than MaxRangeYears, or (CN)
// years outside CNMinYear..CNMaxYear.
func Holidays(calendar string, from, to Date) ([]Holiday, error) {
	code := strings.ToUpper(strings.TrimSpace(calendar))
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	var out []Holiday
	if code == "CN" {
		if from.Year < CNMinYear || to.Year > CNMaxYear {
			return nil, &RangeError{From: from, To: to, Reason: "CN occasions are computed for years 1900-2100"}
		}
		for y := from.Year; y <= to.Year; y++ {
			for _, o := range cnOccasions() {
				h := o.holiday(y)
				if !h.Date.Before(from) && !h.Date.After(to) {
					out = append(out, h)
				}
			}
		}
	} else {
		src, ok := rickarSource(code)
		if !ok {
			return nil, &UnknownCalendarError{Calendar: calendar, Known: Calendars()}
		}
		defs := src.occasions()
		for y := from.Year; y <= to.Year; y++ {
			for _, o := range defs {
				h, ok := o.holiday(y)
				if ok && !h.Date.Before(from) && !h.Date.After(to) {
					out = append(out, h)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if c := out[i].Date.Compare(out[j].Date); c != 0 {
			return c < 0
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

func checkRange(from, to Date) error {
	switch {
	case !from.Valid() || !to.Valid():
		return &RangeError{From: from, To: to, Reason: "from and to must be valid dates"}
	case to.Before(from):
		return &RangeError{From: from, To: to, Reason: "from is after to"}
	case to.Year-from.Year > MaxRangeYears:
		return &RangeError{From: from, To: to, Reason: "range spans more than 200 years"}
	}
	return nil
}

// Lookup returns the occurrence in year of the occasion key ("CN:mid_autumn",
// "US:independence_day"; the calendar part is case-insensitive). It fails
// with an *UnknownHolidayError when the key is not defined or the occasion is
// not observed that year, with an *UnknownCalendarError for an unknown
// calendar part, and with a *RangeError for a CN year outside 1900..2100.
func Lookup(key string, year int) (Holiday, error) {
	cal, name, ok := strings.Cut(key, ":")
	if !ok || name == "" {
		return Holiday{}, &UnknownHolidayError{Key: key, Reason: "want CALENDAR:occasion"}
	}
	code := strings.ToUpper(cal)
	if code == "CN" {
		for _, o := range cnOccasions() {
			if o.key == name {
				if year < CNMinYear || year > CNMaxYear {
					jan1 := Date{Year: year, Month: time.January, Day: 1}
					return Holiday{}, &RangeError{From: jan1, To: jan1, Reason: "CN occasions are computed for years 1900-2100"}
				}
				return o.holiday(year), nil
			}
		}
		return Holiday{}, &UnknownHolidayError{Key: key, Reason: "no such occasion"}
	}
	src, ok := rickarSource(code)
	if !ok {
		return Holiday{}, &UnknownCalendarError{Calendar: cal, Known: Calendars()}
	}
	if year < 1 || year > 9999 {
		return Holiday{}, &UnknownHolidayError{Key: key, Year: year, Reason: "year out of range"}
	}
	found := false
	for _, o := range src.occasions() {
		if o.key != name {
			continue
		}
		found = true
		if h, ok := o.holiday(year); ok {
			return h, nil
		}
	}
	if found {
		return Holiday{}, &UnknownHolidayError{Key: key, Year: year, Reason: "not observed that year"}
	}
	return Holiday{}, &UnknownHolidayError{Key: key, Reason: "no such occasion"}
}

// Keys returns the occasion keys of calendar, sorted, without computing dates.
func Keys(calendar string) ([]string, error) {
	code := strings.ToUpper(strings.TrimSpace(calendar))
	var keys []string
	if code == "CN" {
		for _, o := range cnOccasions() {
			keys = append(keys, "CN:"+o.key)
		}
	} else {
		src, ok := rickarSource(code)
		if !ok {
			return nil, &UnknownCalendarError{Calendar: calendar, Known: Calendars()}
		}
		seen := map[string]bool{}
		for _, o := range src.occasions() {
			k := code + ":" + o.key
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys, nil
}
