package calendar_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/domain/calendar"
)

func TestCNHolidayDates(t *testing.T) {
	// Known dates (State Council notices / published lunar calendars).
	tests := []struct {
		key  string
		year int
		want string
	}{
		{"CN:spring_festival", 2025, "2025-01-29"},
		{"CN:spring_festival", 2026, "2026-02-17"},
		{"CN:spring_festival", 2027, "2027-02-06"},
		{"CN:spring_festival", 2024, "2024-02-10"},
		{"CN:spring_festival", 2020, "2020-01-25"},
		{"CN:spring_festival", 1900, "1900-01-31"},
		{"CN:spring_festival", 2000, "2000-02-05"},
		{"CN:mid_autumn", 2025, "2025-10-06"},
		{"CN:mid_autumn", 2024, "2024-09-17"},
		{"CN:mid_autumn", 2026, "2026-09-25"},
		{"CN:mid_autumn", 2023, "2023-09-29"},
		{"CN:qingming", 2025, "2025-04-04"},
		{"CN:qingming", 2024, "2024-04-04"},
		{"CN:qingming", 2026, "2026-04-05"},
		{"CN:qingming", 2023, "2023-04-05"},
		{"CN:dragon_boat", 2025, "2025-05-31"},
		{"CN:dragon_boat", 2024, "2024-06-10"},
		{"CN:dragon_boat", 2026, "2026-06-19"},
		{"CN:dragon_boat", 2023, "2023-06-22"},
		{"CN:new_year", 2100, "2100-01-01"},
		{"CN:labour_day", 1900, "1900-05-01"},
		{"CN:national_day", 2025, "2025-10-01"},
		{"cn:national_day", 2025, "2025-10-01"}, // calendar part is case-insensitive
	}
	for _, tt := range tests {
		h, err := calendar.Lookup(tt.key, tt.year)
		if err != nil {
			t.Errorf("Lookup(%s, %d): %v", tt.key, tt.year, err)
			continue
		}
		if h.Date.String() != tt.want {
			t.Errorf("Lookup(%s, %d) = %s, want %s", tt.key, tt.year, h.Date, tt.want)
		}
	}
}

// TestCNEveryYear checks every year 1900–2100: seven occasions, each in its
// plausible Gregorian window, in calendar order.
func TestCNEveryYear(t *testing.T) {
	hs, err := calendar.Holidays("CN", calendar.MustParse("1900-01-01"), calendar.MustParse("2100-12-31"))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 7*201 {
		t.Fatalf("got %d holidays, want %d", len(hs), 7*201)
	}
	windows := map[string][2]string{ // MM-DD bounds
		"CN:spring_festival": {"01-21", "02-20"},
		"CN:qingming":        {"04-04", "04-06"},
		"CN:dragon_boat":     {"05-27", "06-26"},
		"CN:mid_autumn":      {"09-07", "10-08"},
	}
	for _, h := range hs {
		if w, ok := windows[h.Key]; ok {
			md := h.Date.String()[5:]
			if md < w[0] || md > w[1] {
				t.Errorf("%s %d on %s, outside %s..%s", h.Key, h.Date.Year, h.Date, w[0], w[1])
			}
		}
		if h.Calendar != "CN" || h.Name == "" || h.LocalName == "" {
			t.Errorf("incomplete holiday %+v", h)
		}
	}
}

func TestHolidaysCountries(t *testing.T) {
	tests := []struct {
		cal, key, want, name, local string
	}{
		{"US", "US:independence_day", "2025-07-04", "Independence Day", ""},
		{"US", "US:thanksgiving_day", "2025-11-27", "Thanksgiving Day", ""},
		{"GB", "GB:christmas_day", "2025-12-25", "Christmas Day", ""},
		{"DE", "DE:good_friday", "2025-04-18", "Good Friday", "Karfreitag"},
		{"DE", "DE:tag_der_deutschen_einheit", "2025-10-03", "Tag der Deutschen Einheit", "Tag der Deutschen Einheit"},
		{"FR", "FR:international_workers_day", "2025-05-01", "International Workers' Day", "Fête du Travail"},
		{"JP", "JP:culture_day", "2025-11-03", "Culture Day", ""},
		{"RU", "RU:den_rossii", "2025-06-12", "День России", "День России"},
	}
	for _, tt := range tests {
		hs, err := calendar.Holidays(tt.cal, calendar.MustParse("2025-01-01"), calendar.MustParse("2025-12-31"))
		if err != nil {
			t.Fatalf("Holidays(%s): %v", tt.cal, err)
		}
		var found bool
		for _, h := range hs {
			if h.Key == tt.key {
				found = true
				if h.Date.String() != tt.want || h.Name != tt.name || h.LocalName != tt.local {
					t.Errorf("%s = %+v, want %s %q %q", tt.key, h, tt.want, tt.name, tt.local)
				}
			}
		}
		if !found {
			t.Errorf("%s not among %s holidays", tt.key, tt.cal)
		}
		h, err := calendar.Lookup(tt.key, 2025)
		if err != nil || h.Date.String() != tt.want {
			t.Errorf("Lookup(%s, 2025) = %v, %v", tt.key, h, err)
		}
	}
}

// TestKeysWellFormed checks every calendar: ASCII snake_case keys, unique
// within each year, sorted output, for a spread of years.
func TestKeysWellFormed(t *testing.T) {
	cals := calendar.Calendars()
	if len(cals) < 45 {
		t.Fatalf("only %d calendars", len(cals))
	}
	for _, c := range cals {
		for _, y := range []int{1960, 2000, 2019, 2025, 2050} {
			from := calendar.Date{Year: y, Month: 1, Day: 1}
			hs, err := calendar.Holidays(c, from, calendar.Date{Year: y, Month: 12, Day: 31})
			if err != nil {
				t.Fatalf("Holidays(%s, %d): %v", c, y, err)
			}
			seen := map[string]bool{}
			for i, h := range hs {
				name, ok := strings.CutPrefix(h.Key, c+":")
				if !ok || name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" ||
					strings.HasPrefix(name, "_") || strings.HasSuffix(name, "_") {
					t.Errorf("bad key %q", h.Key)
				}
				if seen[h.Key] {
					t.Errorf("%s: key %s twice in %d", c, h.Key, y)
				}
				seen[h.Key] = true
				if i > 0 && hs[i-1].Date.After(h.Date) {
					t.Errorf("%s: not sorted by date", c)
				}
				if h.Date.Year != y {
					t.Errorf("%s: %s dated %s outside %d", c, h.Key, h.Date, y)
				}
			}
		}
	}
}

func TestHolidaysErrors(t *testing.T) {
	d := calendar.MustParse
	var unknown *calendar.UnknownCalendarError
	_, err := calendar.Holidays("XX", d("2025-01-01"), d("2025-12-31"))
	if !errors.As(err, &unknown) || !errors.Is(err, calendar.ErrUnknownCalendar) {
		t.Fatalf("unknown calendar: %v", err)
	}
	if len(unknown.Known) == 0 || !strings.Contains(err.Error(), "CN") {
		t.Errorf("error should list known calendars: %v", err)
	}
	var rng *calendar.RangeError
	for name, r := range map[string][2]calendar.Date{
		"reversed":         {d("2025-12-31"), d("2025-01-01")},
		"too long":         {d("1800-01-01"), d("2001-01-01")},
		"CN before 1900":   {d("1899-01-01"), d("1900-12-31")},
		"CN after 2100":    {d("2100-01-01"), d("2101-01-01")},
		"zero date":        {{}, d("2025-01-01")},
		"invalid day 2-30": {{Year: 2025, Month: 2, Day: 30}, d("2025-03-01")},
	} {
		if _, err := calendar.Holidays("CN", r[0], r[1]); !errors.As(err, &rng) || !errors.Is(err, calendar.ErrInvalidRange) {
			t.Errorf("%s: got %v, want *RangeError", name, err)
		}
	}
	var uh *calendar.UnknownHolidayError
	for _, k := range []string{"CN:christmas", "spring_festival", "CN:", "US:no_such_day"} {
		if _, err := calendar.Lookup(k, 2025); !errors.As(err, &uh) || !errors.Is(err, calendar.ErrUnknownHoliday) {
			t.Errorf("Lookup(%q): got %v, want *UnknownHolidayError", k, err)
		}
	}
	if _, err := calendar.Lookup("US:juneteenth", 2000); !errors.As(err, &uh) || uh.Year != 2000 {
		t.Errorf("Juneteenth before 2021: got %v", err)
	}
	if _, err := calendar.Lookup("ZZ:x", 2025); !errors.Is(err, calendar.ErrUnknownCalendar) {
		t.Errorf("unknown calendar in key: %v", err)
	}
	if _, err := calendar.Lookup("CN:spring_festival", 2200); !errors.Is(err, calendar.ErrInvalidRange) {
		t.Errorf("CN 2200: %v", err)
	}
}

func TestNameFor(t *testing.T) {
	sf, err := calendar.Lookup("CN:spring_festival", 2026)
	if err != nil {
		t.Fatal(err)
	}
	de, err := calendar.Lookup("DE:christmas_day", 2026)
	if err != nil {
		t.Fatal(err)
	}
	us, err := calendar.Lookup("US:independence_day", 2026)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		h      calendar.Holiday
		locale string
		want   string
	}{
		{sf, "zh-CN", "春节"},
		{sf, "zh_Hant_TW", "春节"},
		{sf, "ZH", "春节"},
		{sf, "en-US", "Spring Festival"},
		{sf, "", "Spring Festival"},
		{sf, "de", "Spring Festival"},
		{de, "de-AT", "Weihnachtstag"},
		{de, "zh-CN", "Christmas Day"},
		{us, "zh-CN", "Independence Day"},
	}
	for _, tt := range tests {
		if got := tt.h.NameFor(tt.locale); got != tt.want {
			t.Errorf("%s.NameFor(%q) = %q, want %q", tt.h.Key, tt.locale, got, tt.want)
		}
	}
}

func TestKeys(t *testing.T) {
	keys, err := calendar.Keys("CN")
	if err != nil {
		t.Fatal(err)
	}
	want := "CN:dragon_boat CN:labour_day CN:mid_autumn CN:national_day CN:new_year CN:qingming CN:spring_festival"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("Keys(CN) = %s", got)
	}
	if _, err := calendar.Keys("??"); !errors.Is(err, calendar.ErrUnknownCalendar) {
		t.Errorf("Keys(??) = %v", err)
	}
}
