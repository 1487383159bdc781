package calendar_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want calendar.Date
		ok   bool
	}{
		{"2025-01-29", calendar.Date{Year: 2025, Month: time.January, Day: 29}, true},
		{"2024-02-29", calendar.Date{Year: 2024, Month: time.February, Day: 29}, true},
		{"0001-01-01", calendar.Date{Year: 1, Month: time.January, Day: 1}, true},
		{"9999-12-31", calendar.Date{Year: 9999, Month: time.December, Day: 31}, true},
		{"2025-02-29", calendar.Date{}, false},
		{"1900-02-29", calendar.Date{}, false},
		{"2025-13-01", calendar.Date{}, false},
		{"2025-00-10", calendar.Date{}, false},
		{"0000-01-01", calendar.Date{}, false},
		{"2025-1-01", calendar.Date{}, false},
		{"2025/01/01", calendar.Date{}, false},
		{"+025-01-01", calendar.Date{}, false},
		{"2025-01-01T00:00:00Z", calendar.Date{}, false},
		{"", calendar.Date{}, false},
	}
	for _, tt := range tests {
		got, err := calendar.Parse(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		var de *calendar.DateError
		if err != nil && (!errors.As(err, &de) || !errors.Is(err, calendar.ErrInvalidDate) || de.Input != tt.in) {
			t.Errorf("Parse(%q) error %v is not a *DateError", tt.in, err)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	// Compare with the time package over a long span, day by day.
	d := calendar.MustParse("1899-12-25")
	tm := time.Date(1899, 12, 25, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 80000; i++ {
		if got := calendar.DateOf(tm); got != d {
			t.Fatalf("day %d: AddDays gives %s, time gives %s", i, d, got)
		}
		if d.Weekday() != tm.Weekday() || d.YearDay() != tm.YearDay() {
			t.Fatalf("%s: weekday/yearday mismatch", d)
		}
		d, tm = d.AddDays(1), tm.AddDate(0, 0, 1)
	}
	a, b := calendar.MustParse("2025-09-30"), calendar.MustParse("2025-10-09")
	if b.Sub(a) != 9 || a.Sub(b) != -9 || !a.Before(b) || !b.After(a) || a.Compare(a) != 0 {
		t.Error("Sub/Before/After/Compare")
	}
	if got := a.AddDays(-365 * 400); /* checked with time.AddDate */ got.String() != "1626-01-05" {
		t.Errorf("AddDays far back = %s", got)
	}
	if got := calendar.MustParse("2025-03-04").In(time.UTC); !got.Equal(time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("In = %v", got)
	}
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		D calendar.Date  `json:"d"`
		Z calendar.Date  `json:"z"`
		P *calendar.Date `json:"p,omitempty"`
	}
	in := doc{D: calendar.MustParse("2025-10-01")}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"d":"2025-10-01","z":""}` {
		t.Errorf("Marshal = %s", b)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("round trip = %+v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"d":"2025-02-30"}`), &out); !errors.Is(err, calendar.ErrInvalidDate) {
		t.Errorf("invalid date accepted: %v", err)
	}
	if _, err := json.Marshal(doc{D: calendar.Date{Year: 2025, Month: 2, Day: 30}}); err == nil {
		t.Error("marshalled an invalid date")
	}
	if _, err := calendar.NewDate(2025, 2, 29); !errors.Is(err, calendar.ErrInvalidDate) {
		t.Errorf("NewDate(2025-02-29) = %v", err)
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2025-01-29", "2024-02-29", "0000-00-00", "9999-12-31", "2025-1-1", "", "２０２５-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := calendar.Parse(s)
		if err != nil {
			if !errors.Is(err, calendar.ErrInvalidDate) {
				t.Fatalf("error %v does not wrap ErrInvalidDate", err)
			}
			return
		}
		// A parsed date is valid, prints back to its input, and agrees with
		// the time package.
		if !d.Valid() || d.String() != s {
			t.Fatalf("Parse(%q) = %v, String %q", s, d, d.String())
		}
		tm, terr := time.Parse(time.DateOnly, s)
		if terr != nil || calendar.DateOf(tm) != d {
			t.Fatalf("time.Parse(%q) = %v, %v; we got %v", s, tm, terr, d)
		}
		var back calendar.Date
		text, _ := d.MarshalText()
		if err := back.UnmarshalText(text); err != nil || back != d {
			t.Fatalf("text round trip %q -> %v, %v", text, back, err)
		}
	})
}
