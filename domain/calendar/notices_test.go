package calendar_test

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
)

// noticeHoliday is one holiday of testdata/cn_notices_2004_2026.txt.
type noticeHoliday struct {
	line     int
	year     int
	key      string
	from, to calendar.Date
	work     []calendar.Date
}

func (h noticeHoliday) contains(d calendar.Date) bool { return !d.Before(h.from) && !d.After(h.to) }

func (h noticeHoliday) String() string {
	return fmt.Sprintf("testdata line %d (%d %s %s..%s)", h.line, h.year, h.key, h.from, h.to)
}

const (
	noticesFirstYear = 2004
	noticesLastYear  = 2026
)

// readNotices parses the hand-transcribed notices table.
func readNotices(t *testing.T) []noticeHoliday {
	t.Helper()
	f, err := os.Open("testdata/cn_notices_2004_2026.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []noticeHoliday
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 || len(fields) > 4 {
			t.Fatalf("line %d: want YEAR KEY off=… [work=…]: %q", n, line)
		}
		y, err := strconv.Atoi(fields[0])
		if err != nil {
			t.Fatalf("line %d: year %q", n, fields[0])
		}
		h := noticeHoliday{line: n, year: y, key: fields[1]}
		off, ok := strings.CutPrefix(fields[2], "off=")
		if !ok {
			t.Fatalf("line %d: want off=…, got %q", n, fields[2])
		}
		from, to, ranged := strings.Cut(off, "..")
		if !ranged {
			to = from
		}
		if h.from, err = calendar.Parse(from); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if h.to, err = calendar.Parse(to); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if len(fields) == 4 {
			work, ok := strings.CutPrefix(fields[3], "work=")
			if !ok {
				t.Fatalf("line %d: want work=…, got %q", n, fields[3])
			}
			for _, s := range strings.Split(work, ",") {
				d, err := calendar.Parse(s)
				if err != nil {
					t.Fatalf("line %d: %v", n, err)
				}
				h.work = append(h.work, d)
			}
		}
		out = append(out, h)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNoticesTableIsConsistent checks the hand-made table on its own, so
// that a slip in transcribing it is caught here and not mistaken for an
// error of the built-in data: each holiday's period holds its day (the
// lunar ones from the calendar's lunar table), is not inverted nor longer
// than ten days; adjusted working days are weekend days outside
// every period; each year has every statutory holiday of its rules (a
// Mid-Autumn Festival not listed must fall in the National Day week).
func TestNoticesTableIsConsistent(t *testing.T) {
	notices := readNotices(t)
	byYear := map[int]map[string]noticeHoliday{}
	for _, h := range notices {
		if byYear[h.year] == nil {
			byYear[h.year] = map[string]noticeHoliday{}
		}
		if _, dup := byYear[h.year][h.key]; dup {
			t.Errorf("%s: %s listed twice for %d", h, h.key, h.year)
		}
		byYear[h.year][h.key] = h
		if h.to.Before(h.from) {
			t.Errorf("%s: period ends before it starts", h)
		}
		if h.from.AddDays(9).Before(h.to) {
			t.Errorf("%s: a period of more than 10 days (the longest, 2020's extended Spring Festival, had 10)", h)
		}
		for _, w := range h.work {
			if wd := w.Weekday(); wd != time.Saturday && wd != time.Sunday {
				t.Errorf("%s: working day %s is a %s, not a weekend day", h, w, wd)
			}
			if w.Year < h.year-1 || w.Year > h.year {
				t.Errorf("%s: working day %s is outside the notice's year", h, w)
			}
			for _, o := range notices {
				if o.contains(w) {
					t.Errorf("%s: working day %s lies in the holiday period of %s", h, w, o)
				}
			}
		}
	}
	for y := noticesFirstYear; y <= noticesLastYear; y++ {
		want := []string{"new_year", "spring_festival", "labour_day", "national_day"}
		if y >= 2008 {
			want = []string{"new_year", "spring_festival", "qingming", "labour_day", "dragon_boat", "mid_autumn", "national_day"}
		}
		for _, key := range want {
			h, ok := byYear[y][key]
			day := holidayDay(t, key, y)
			if !ok && key == "mid_autumn" {
				h, ok = byYear[y]["national_day"]
			}
			if !ok {
				t.Errorf("%d: no %s", y, key)
				continue
			}
			if !h.contains(day) {
				t.Errorf("%s: does not contain %s's day %s", h, key, day)
			}
		}
		for key, h := range byYear[y] {
			if !slices.Contains(want, key) && key != "victory_day" {
				t.Errorf("%s: %s is not a holiday of %d", h, key, y)
			}
		}
	}
}

// holidayDay is the day of a CN holiday in year.
func holidayDay(t *testing.T, key string, year int) calendar.Date {
	t.Helper()
	h, err := calendar.Lookup("CN:"+key, year)
	if err != nil {
		t.Fatal(err)
	}
	return h.Date
}

// TestBuiltinMatchesNotices checks the built-in CN arrangements day by day,
// 2004-01-01 to 2026-12-31, against the table transcribed by hand from the
// State Council's notices: a day in a holiday period is off, a declared
// working day works, any other day works Monday to Friday.
func TestBuiltinMatchesNotices(t *testing.T) {
	notices := readNotices(t)
	off := map[calendar.Date]noticeHoliday{}
	work := map[calendar.Date]noticeHoliday{}
	for _, h := range notices {
		for d := h.from; !d.After(h.to); d = d.AddDays(1) {
			off[d] = h
		}
		for _, w := range h.work {
			work[w] = h
		}
	}
	cal := calendar.MustNewWorkingCalendar(calendar.WorkingCalendarConfig{})
	var bad []string
	days := 0
	for d := calendar.MustParse(fmt.Sprintf("%d-01-01", noticesFirstYear)); d.Year <= noticesLastYear; d = d.AddDays(1) {
		days++
		want, why := d.Weekday() != time.Saturday && d.Weekday() != time.Sunday, "a plain "+d.Weekday().String()
		if h, ok := off[d]; ok {
			want, why = false, "a day off by "+h.String()
		}
		if h, ok := work[d]; ok {
			want, why = true, "a working day by "+h.String()
		}
		got, official := cal.Workday(d)
		if !official {
			bad = append(bad, fmt.Sprintf("%s: no official data built in", d))
			continue
		}
		if got != want {
			bad = append(bad, fmt.Sprintf("%s (%s): built in as workday=%v, the notices say %s", d, d.Weekday(), got, why))
		}
	}
	if days != 8401 {
		t.Fatalf("walked %d days, want 8401 (2004–2026)", days)
	}
	for _, b := range bad {
		t.Error(b)
	}
}
