package calendar_test

import (
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
)

var (
	sinkTime time.Time
	sinkBool bool
)

func BenchmarkReplyDue(b *testing.B) {
	c := newCal(b, calendar.WorkingCalendarConfig{})
	filed := []time.Time{at("2025-03-04 10:00"), at("2025-03-07 17:00"), at("2025-09-30 16:00"), at("2025-09-27 10:00")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sinkTime, sinkBool = c.ReplyDue(filed[i&3])
	}
}

func BenchmarkReplyDueSameDay(b *testing.B) {
	c := newCal(b, calendar.WorkingCalendarConfig{})
	filed := at("2025-03-04 10:00")
	b.ReportAllocs()
	for b.Loop() {
		sinkTime, sinkBool = c.ReplyDue(filed)
	}
}

func BenchmarkIsWorkday(b *testing.B) {
	c := newCal(b, calendar.WorkingCalendarConfig{})
	days := make([]calendar.Date, 1024)
	for i := range days {
		days[i] = calendar.MustParse("2024-06-01").AddDays(i) // 2024–2027: official and not
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sinkBool = c.IsWorkday(days[i&1023])
	}
}

func BenchmarkLookupCN(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := calendar.Lookup("CN:spring_festival", 2026); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHolidaysCNYear(b *testing.B) {
	from, to := calendar.MustParse("2026-01-01"), calendar.MustParse("2026-12-31")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := calendar.Holidays("CN", from, to); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewWorkingCalendar(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := calendar.NewWorkingCalendar(calendar.WorkingCalendarConfig{}); err != nil {
			b.Fatal(err)
		}
	}
}
