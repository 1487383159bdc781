package calendar_test

import (
	"errors"
	"testing"
	"time"

	"github.com/6tail/tyme4go/tyme"
	"github.com/kefu-crm/kefu/domain/calendar"
)

var cst = time.FixedZone("+08:00", 8*60*60)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, cst)
}

func newCal(t testing.TB, cfg calendar.WorkingCalendarConfig) *calendar.WorkingCalendar {
	t.Helper()
	c, err := calendar.NewWorkingCalendar(cfg)
	if err != nil {
		t.Fatalf("NewWorkingCalendar: %v", err)
	}
	return c
}

func TestReplyDue(t *testing.T) {
	c := newCal(t, calendar.WorkingCalendarConfig{})
	tests := []struct {
		name  string
		filed string
		want  string
	}{
		{"working Tuesday morning", "2025-03-04 10:00", "2025-03-04 14:30"},
		{"Friday afternoon spills to Monday", "2025-03-07 17:00", "2025-03-10 12:30"},
		{"eve of National Day week", "2025-09-30 16:00", "2025-10-09 11:30"},
		{"Saturday before the adjusted working Sunday", "2025-09-27 10:00", "2025-09-28 13:30"},
		{"before opening counts from 09:00", "2025-03-04 07:00", "2025-03-04 13:30"},
		{"after closing counts from next morning", "2025-03-04 19:00", "2025-03-05 13:30"},
		{"exactly at closing", "2025-03-04 18:00", "2025-03-05 13:30"},
		{"Spring Festival 2025: 01-28..02-04 off", "2025-01-27 17:00", "2025-02-05 12:30"},
		{"adjusted working Sunday 2025-01-26", "2025-01-26 09:00", "2025-01-26 13:30"},
		{"adjusted working Saturday 2025-10-11", "2025-10-11 15:00", "2025-10-13 10:30"},
		{"Qingming 2025-04-04 Friday off", "2025-04-03 16:00", "2025-04-07 11:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given a complaint filed at tt.filed (+08:00)
			// when the reply deadline is computed
			got, provisional := c.ReplyDue(at(tt.filed))
			// then it is tt.want, from official data
			if want := at(tt.want); !got.Equal(want) {
				t.Errorf("ReplyDue(%s) = %s, want %s", tt.filed, got.Format(time.DateTime), want.Format(time.DateTime))
			}
			if provisional {
				t.Errorf("ReplyDue(%s) provisional in a year with official data", tt.filed)
			}
		})
	}
}

func TestReplyDueOtherTimezoneInput(t *testing.T) {
	c := newCal(t, calendar.WorkingCalendarConfig{})
	// given 2025-03-04 10:00 +08:00 expressed in UTC
	filed := at("2025-03-04 10:00").UTC()
	// then the deadline is still 14:30 Shanghai time
	got, _ := c.ReplyDue(filed)
	if want := at("2025-03-04 14:30"); !got.Equal(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got.Location() != c.Location() {
		t.Errorf("due in %v, want organisation zone %v", got.Location(), c.Location())
	}
}

func TestIsWorkday2025(t *testing.T) {
	c := newCal(t, calendar.WorkingCalendarConfig{})
	tests := []struct {
		day  string
		want bool
	}{
		{"2025-01-01", false}, // 元旦
		{"2025-01-26", true},  // Sunday, adjusted working day for 春节
		{"2025-01-28", false}, // 除夕, statutory from 2025
		{"2025-02-04", false},
		{"2025-02-08", true}, // Saturday, adjusted working day
		{"2025-04-04", false},
		{"2025-04-27", true}, // Sunday, adjusted working day for 劳动节
		{"2025-05-05", false},
		{"2025-05-30", true}, // ordinary Friday
		{"2025-06-02", false},
		{"2025-09-28", true}, // Sunday, adjusted working day for 国庆
		{"2025-10-08", false},
		{"2025-10-09", true},
		{"2025-10-11", true}, // Saturday, adjusted working day
		{"2025-10-12", false},
		{"2025-03-08", false}, // plain Saturday
	}
	for _, tt := range tests {
		if got := c.IsWorkday(calendar.MustParse(tt.day)); got != tt.want {
			t.Errorf("IsWorkday(%s) = %v, want %v", tt.day, got, tt.want)
		}
	}
}

// TestBuiltinMatchesTyme checks the decoded built-in arrangements day by day
// against tyme4go's own LegalHoliday lookup for every built-in year, except
// on the days the upstream table is known to get wrong (corrected in the
// built-in data; TestBuiltinMatchesNotices checks them against the
// notices).
func TestBuiltinMatchesTyme(t *testing.T) {
	upstreamWrong := map[calendar.Date]bool{ // working days tyme4go v1.4.3 lacks
		calendar.MustParse("2013-04-07"): true,
		calendar.MustParse("2013-10-12"): true,
	}
	c := newCal(t, calendar.WorkingCalendarConfig{})
	for y := calendar.BuiltinFirstYear; y <= calendar.BuiltinLastYear; y++ {
		if !c.IsOfficial(y) {
			t.Errorf("year %d not official", y)
		}
		for d := (calendar.Date{Year: y, Month: 1, Day: 1}); d.Year == y; d = d.AddDays(1) {
			want := d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
			lh, err := tyme.LegalHoliday{}.FromYmd(d.Year, int(d.Month), d.Day)
			if err != nil {
				t.Fatal(err)
			}
			if lh != nil {
				want = lh.IsWork()
			}
			if upstreamWrong[d] {
				if want {
					t.Errorf("tyme now says %s is a working day: drop its correction", d)
				}
				want = true
			}
			if got := c.IsWorkday(d); got != want {
				t.Errorf("IsWorkday(%s) = %v, tyme says %v", d, got, want)
			}
		}
	}
	if c.IsOfficial(2001) || c.IsOfficial(2027) {
		t.Error("2001 and 2027 must not be official without data")
	}
}

func TestProvisionalWithoutData(t *testing.T) {
	c := newCal(t, calendar.WorkingCalendarConfig{})
	// given a filing in 2027, a year the release does not carry
	// when the reply deadline is computed
	got, provisional := c.ReplyDue(at("2027-02-05 17:00")) // Friday before 春节 2027-02-06
	// then Mon–Fri is assumed and the deadline is provisional
	if want := at("2027-02-08 12:30"); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if !provisional {
		t.Error("want provisional")
	}
	// and a 2026 deadline that reaches into 2027 is provisional too
	if _, p := c.ReplyDue(at("2026-12-31 17:00")); !p {
		t.Error("deadline crossing into 2027 should be provisional")
	}
	if _, p := c.ReplyDue(at("2026-12-30 10:00")); p {
		t.Error("deadline within 2026 should be official")
	}
}

func TestAddedArrangementChangesDeadline(t *testing.T) {
	// given an illustrative 2027 arrangement (not the official notice): days off
	// around 春节 2027-02-06 and one adjusted working Sunday
	a2027 := calendar.Arrangement{
		Year: 2027,
		DaysOff: []calendar.Date{
			calendar.MustParse("2027-02-05"), calendar.MustParse("2027-02-06"), calendar.MustParse("2027-02-07"),
			calendar.MustParse("2027-02-08"), calendar.MustParse("2027-02-09"), calendar.MustParse("2027-02-10"),
			calendar.MustParse("2027-02-11"), calendar.MustParse("2027-02-12"),
		},
		WorkingDays: []calendar.Date{calendar.MustParse("2027-02-14")},
	}
	base := newCal(t, calendar.WorkingCalendarConfig{})
	filed := at("2027-02-04 17:00")
	before, p0 := base.ReplyDue(filed)
	if !p0 || !before.Equal(at("2027-02-05 12:30")) {
		t.Fatalf("without 2027 data: got %v provisional=%v", before, p0)
	}
	for name, c := range map[string]*calendar.WorkingCalendar{
		"config": newCal(t, calendar.WorkingCalendarConfig{Arrangements: []calendar.Arrangement{a2027}}),
		"With":   mustWith(t, base, a2027),
	} {
		t.Run(name, func(t *testing.T) {
			// when the deadline is computed with the arrangement added
			got, p := c.ReplyDue(filed)
			// then it moves past the holiday to the working Sunday and is official
			if want := at("2027-02-14 12:30"); !got.Equal(want) {
				t.Errorf("got %v, want %v", got, want)
			}
			if p {
				t.Error("want official (provisional=false)")
			}
		})
	}
	// and the base calendar is unchanged
	if again, _ := base.ReplyDue(filed); !again.Equal(before) {
		t.Error("With mutated the receiver")
	}
}

func mustWith(t *testing.T, c *calendar.WorkingCalendar, a ...calendar.Arrangement) *calendar.WorkingCalendar {
	t.Helper()
	n, err := c.With(a...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEndOfWorkingDay(t *testing.T) {
	c := newCal(t, calendar.WorkingCalendarConfig{})
	tests := []struct{ at, want string }{
		{"2025-03-04 10:00", "2025-03-04 18:00"},
		{"2025-03-04 18:00", "2025-03-05 18:00"},
		{"2025-03-08 10:00", "2025-03-10 18:00"}, // Saturday
		{"2025-09-30 19:00", "2025-10-09 18:00"},
		{"2025-09-27 10:00", "2025-09-28 18:00"},
	}
	for _, tt := range tests {
		got, p := c.EndOfWorkingDay(at(tt.at))
		if !got.Equal(at(tt.want)) || p {
			t.Errorf("EndOfWorkingDay(%s) = %v (provisional %v), want %s", tt.at, got, p, tt.want)
		}
	}
}

func TestConfiguredHoursAndZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no tz database: %v", err)
	}
	c := newCal(t, calendar.WorkingCalendarConfig{
		Location: berlin, DayStart: 8 * time.Hour, DayEnd: 16 * time.Hour, OmitBuiltin: true,
	})
	if c.HalfDay() != 4*time.Hour {
		t.Fatalf("HalfDay = %v", c.HalfDay())
	}
	// 2025-03-28 Friday 14:00 Berlin + 4h → Monday 2025-03-31 10:00 (DST began on the Sunday)
	got, p := c.ReplyDue(time.Date(2025, 3, 28, 14, 0, 0, 0, berlin))
	if want := time.Date(2025, 3, 31, 10, 0, 0, 0, berlin); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if !p {
		t.Error("without arrangements every deadline is provisional")
	}
	// 2025-10-01 is a working Wednesday when the CN data is omitted
	if !c.IsWorkday(calendar.MustParse("2025-10-01")) {
		t.Error("OmitBuiltin should leave 2025-10-01 a workday")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  calendar.WorkingCalendarConfig
		ok   bool
	}{
		{"zero value", calendar.WorkingCalendarConfig{}, true},
		{"start after end", calendar.WorkingCalendarConfig{DayStart: 18 * time.Hour, DayEnd: 9 * time.Hour}, false},
		{"end past midnight", calendar.WorkingCalendarConfig{DayStart: 9 * time.Hour, DayEnd: 25 * time.Hour}, false},
		{"bad weekday", calendar.WorkingCalendarConfig{Workweek: []time.Weekday{7}}, false},
		{"bad arrangement", calendar.WorkingCalendarConfig{Arrangements: []calendar.Arrangement{{Year: 2027, DaysOff: []calendar.Date{calendar.MustParse("2026-12-31")}}}}, false},
		{"duplicate year", calendar.WorkingCalendarConfig{Arrangements: []calendar.Arrangement{{Year: 2027}, {Year: 2027}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, calendar.ErrInvalidConfig) && !errors.Is(err, calendar.ErrInvalidArrangement) {
					t.Errorf("error %v is neither ErrInvalidConfig nor ErrInvalidArrangement", err)
				}
				if _, nerr := calendar.NewWorkingCalendar(tt.cfg); nerr == nil {
					t.Error("NewWorkingCalendar accepted an invalid config")
				}
			}
		})
	}
}
