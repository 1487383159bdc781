package calendar_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/kefu-crm/kefu/domain/calendar"
)

func TestArrangementValidate(t *testing.T) {
	d := calendar.MustParse
	tests := []struct {
		name string
		a    calendar.Arrangement
		want int // number of problems; 0 = valid
	}{
		{"empty year", calendar.Arrangement{Year: 2027}, 0},
		{"valid", calendar.Arrangement{Year: 2027, DaysOff: []calendar.Date{d("2027-01-01")}, WorkingDays: []calendar.Date{d("2027-02-14")}}, 0},
		{"year zero", calendar.Arrangement{}, 1},
		{"day off in another year", calendar.Arrangement{Year: 2027, DaysOff: []calendar.Date{d("2026-12-31")}}, 1},
		{"working day invalid", calendar.Arrangement{Year: 2027, WorkingDays: []calendar.Date{{Year: 2027, Month: 2, Day: 30}}}, 1},
		{"both off and working", calendar.Arrangement{Year: 2027, DaysOff: []calendar.Date{d("2027-10-01")}, WorkingDays: []calendar.Date{d("2027-10-01")}}, 1},
		{"listed twice", calendar.Arrangement{Year: 2027, DaysOff: []calendar.Date{d("2027-10-01"), d("2027-10-01")}}, 1},
		{"several problems", calendar.Arrangement{Year: 2027, DaysOff: []calendar.Date{d("2026-01-01"), d("2027-05-01")}, WorkingDays: []calendar.Date{d("2027-05-01"), d("2028-01-01")}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.a.Validate()
			if tt.want == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if !errors.Is(err, calendar.ErrInvalidArrangement) {
				t.Fatalf("Validate() = %v, want ErrInvalidArrangement", err)
			}
			n := 1
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				n = len(j.Unwrap())
			}
			if n != tt.want {
				t.Errorf("got %d problems (%v), want %d", n, err, tt.want)
			}
			var ae *calendar.ArrangementError
			if !errors.As(err, &ae) || ae.Year != tt.a.Year {
				t.Errorf("no *ArrangementError for year %d in %v", tt.a.Year, err)
			}
		})
	}
}

func TestParseArrangements(t *testing.T) {
	one := `{"year":2027,"daysOff":["2027-01-01"],"workingDays":["2027-02-14"]}`
	got, err := calendar.ParseArrangements([]byte(one))
	if err != nil {
		t.Fatal(err)
	}
	want := []calendar.Arrangement{{Year: 2027, DaysOff: []calendar.Date{calendar.MustParse("2027-01-01")}, WorkingDays: []calendar.Date{calendar.MustParse("2027-02-14")}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseArrangements(object) = %+v", got)
	}
	if got, err := calendar.ParseArrangements([]byte(" [" + one + "] ")); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseArrangements(array) = %+v, %v", got, err)
	}
	for name, bad := range map[string]string{
		"unknown field":  `{"year":2027,"holidays":[]}`,
		"bad date":       `{"year":2027,"daysOff":["2027-02-30"]}`,
		"outside year":   `{"year":2027,"daysOff":["2026-02-03"]}`,
		"duplicate year": `[{"year":2027},{"year":2027}]`,
		"trailing data":  one + one,
		"not json":       `year: 2027`,
		"empty":          ``,
	} {
		if _, err := calendar.ParseArrangements([]byte(bad)); !errors.Is(err, calendar.ErrInvalidArrangement) {
			t.Errorf("%s: got %v, want ErrInvalidArrangement", name, err)
		}
	}
}

func TestBuiltinArrangements(t *testing.T) {
	all := calendar.BuiltinArrangements()
	if len(all) != calendar.BuiltinLastYear-calendar.BuiltinFirstYear+1 {
		t.Fatalf("got %d years", len(all))
	}
	for i, a := range all {
		if a.Year != calendar.BuiltinFirstYear+i {
			t.Errorf("year %d at index %d", a.Year, i)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("built-in %d invalid: %v", a.Year, err)
		}
	}
	// 2025 per the State Council notice: 元旦 1, 春节 8 (01-28..02-04), 清明 3,
	// 劳动节 5, 端午 3, 国庆中秋 8 days off; working days 01-26, 02-08, 04-27,
	// 09-28, 10-11.
	a := all[2025-calendar.BuiltinFirstYear]
	if len(a.DaysOff) != 28 {
		t.Errorf("2025 days off = %d, want 28: %v", len(a.DaysOff), a.DaysOff)
	}
	var work []string
	for _, d := range a.WorkingDays {
		work = append(work, d.String())
	}
	if want := []string{"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"}; !reflect.DeepEqual(work, want) {
		t.Errorf("2025 working days = %v, want %v", work, want)
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	back, err := calendar.ParseArrangements(b)
	if err != nil || !reflect.DeepEqual(back[0], a) {
		t.Errorf("JSON round trip: %v", err)
	}
}

func FuzzParseArrangements(f *testing.F) {
	f.Add([]byte(`{"year":2027,"daysOff":["2027-01-01"],"workingDays":["2027-02-14"]}`))
	f.Add([]byte(`[{"year":2027},{"year":2028,"daysOff":["2028-02-29"]}]`))
	f.Add([]byte(`{"year":2027,"daysOff":["2027-01-01"],"workingDays":["2027-01-01"]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := calendar.ParseArrangements(data)
		if err != nil {
			if !errors.Is(err, calendar.ErrInvalidArrangement) {
				t.Fatalf("error %v does not wrap ErrInvalidArrangement", err)
			}
			return
		}
		// Whatever parses is valid, usable by a working calendar, and
		// survives a JSON round trip.
		if _, err := calendar.NewWorkingCalendar(calendar.WorkingCalendarConfig{Arrangements: list}); err != nil {
			t.Fatalf("parsed arrangements rejected by NewWorkingCalendar: %v", err)
		}
		b, err := json.Marshal(list)
		if err != nil {
			t.Fatal(err)
		}
		again, err := calendar.ParseArrangements(b)
		if err != nil || len(again) != len(list) {
			t.Fatalf("round trip: %v", err)
		}
		for i := range list {
			if list[i].Year != again[i].Year || len(list[i].DaysOff) != len(again[i].DaysOff) || len(list[i].WorkingDays) != len(again[i].WorkingDays) {
				t.Fatalf("round trip changed %+v to %+v", list[i], again[i])
			}
		}
	})
}
