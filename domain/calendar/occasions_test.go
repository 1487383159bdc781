package calendar_test

import (
	"testing"

	"github.com/kefu-crm/kefu/domain/calendar"
)

func TestNextBirthday(t *testing.T) {
	d := calendar.MustParse
	tests := []struct {
		name            string
		birthday, after string
		want            string
	}{
		{"later this year", "1990-06-15", "2025-03-01", "2025-06-15"},
		{"already passed this year", "1990-06-15", "2025-07-01", "2026-06-15"},
		{"strictly after: on the day gives next year", "1990-06-15", "2025-06-15", "2026-06-15"},
		{"yesterday includes today", "1990-06-15", "2025-06-14", "2025-06-15"},
		{"29 Feb in a common year is greeted on 28 Feb", "2000-02-29", "2025-01-01", "2025-02-28"},
		{"29 Feb in a leap year stays 29 Feb", "2000-02-29", "2028-01-01", "2028-02-29"},
		{"29 Feb after 28 Feb of a common year", "2000-02-29", "2025-02-28", "2026-02-28"},
		{"asked before birth: first birthday", "2024-05-01", "2020-01-01", "2025-05-01"},
		{"the day of birth itself is not a birthday", "2024-05-01", "2024-04-30", "2025-05-01"},
		{"new year's eve", "1980-12-31", "2025-12-31", "2026-12-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := calendar.NextBirthday(d(tt.birthday), d(tt.after)); got.String() != tt.want {
				t.Errorf("NextBirthday(%s, %s) = %s, want %s", tt.birthday, tt.after, got, tt.want)
			}
			if got := calendar.NextAnniversary(d(tt.birthday), d(tt.after)); got.String() != tt.want {
				t.Errorf("NextAnniversary differs: %s", got)
			}
		})
	}
}

func TestYearlyOccurrence(t *testing.T) {
	d := calendar.MustParse
	if _, ok := calendar.YearlyOccurrence(d("2020-03-01"), 2020); ok {
		t.Error("registration year itself is no anniversary")
	}
	if got, ok := calendar.YearlyOccurrence(d("2020-03-01"), 2021); !ok || got != d("2021-03-01") {
		t.Errorf("first anniversary = %v %v", got, ok)
	}
	if _, ok := calendar.YearlyOccurrence(calendar.Date{}, 2025); ok {
		t.Error("zero origin has no occurrence")
	}
	if !calendar.IsYearlyOccurrence(d("1996-02-29"), d("2025-02-28")) ||
		calendar.IsYearlyOccurrence(d("1996-02-29"), d("2024-02-28")) ||
		!calendar.IsYearlyOccurrence(d("1996-02-29"), d("2024-02-29")) {
		t.Error("IsYearlyOccurrence for 29 Feb")
	}
	if !calendar.NextBirthday(calendar.Date{}, d("2025-01-01")).IsZero() {
		t.Error("invalid origin should give the zero Date")
	}
}
