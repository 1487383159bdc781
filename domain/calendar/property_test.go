package calendar_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
)

// TestAddWorkingTimeProperties checks, over random instants 2024–2028 (both
// official and provisional years) and random durations:
// due >= filed; monotone in t and in d; Add(t, a+b) == Add(Add(t, a), b);
// the due instant lies within working hours of a working day.
func TestAddWorkingTimeProperties(t *testing.T) {
	c := newCal(t, calendar.WorkingCalendarConfig{})
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, cst)
	span := int64(5 * 366 * 24 * time.Hour)
	start, end := c.WorkingHours()
	randDur := func() time.Duration {
		switch rng.IntN(3) {
		case 0:
			return time.Duration(rng.Int64N(int64(9 * time.Hour)))
		case 1:
			return time.Duration(rng.Int64N(int64(60*time.Hour))) / time.Minute * time.Minute
		default:
			return c.HalfDay()
		}
	}
	for i := 0; i < 20000; i++ {
		t1 := base.Add(time.Duration(rng.Int64N(span)))
		t2 := t1.Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
		a, b := randDur(), randDur()

		due1, _ := c.AddWorkingTime(t1, a)
		if due1.Before(t1) {
			t.Fatalf("due %v before filed %v (d=%v)", due1, t1, a)
		}
		if due2, _ := c.AddWorkingTime(t2, a); due2.Before(due1) {
			t.Fatalf("not monotone in t: Add(%v)=%v > Add(%v)=%v", t1, due1, t2, due2)
		}
		if dueMore, _ := c.AddWorkingTime(t1, a+b); dueMore.Before(due1) {
			t.Fatalf("not monotone in d at %v", t1)
		}
		whole, _ := c.AddWorkingTime(t1, a+b)
		stepped, _ := c.AddWorkingTime(due1, b)
		if !whole.Equal(stepped) {
			t.Fatalf("Add(%v, %v+%v) = %v, but stepwise = %v", t1, a, b, whole, stepped)
		}
		if a > 0 {
			day := calendar.DateOf(due1)
			tod := time.Duration(due1.Hour())*time.Hour + time.Duration(due1.Minute())*time.Minute +
				time.Duration(due1.Second())*time.Second + time.Duration(due1.Nanosecond())
			if !c.IsWorkday(day) || tod <= start || tod > end {
				t.Fatalf("due %v (from %v + %v) outside working hours", due1, t1, a)
			}
		}
	}
}

// TestWorkingTimeConserved checks that the working time between filed and
// due, measured hour by hour against IsWorkday, equals the duration added.
func TestWorkingTimeConserved(t *testing.T) {
	c := newCal(t, calendar.WorkingCalendarConfig{})
	rng := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, cst)
	for i := 0; i < 300; i++ {
		filed := base.Add(time.Duration(rng.IntN(365*24)) * time.Hour)
		d := time.Duration(1+rng.IntN(40)) * time.Hour
		due, _ := c.AddWorkingTime(filed, d)
		var worked time.Duration
		for h := filed; h.Before(due); h = h.Add(time.Hour) {
			if c.IsWorkday(calendar.DateOf(h)) && h.Hour() >= 9 && h.Hour() < 18 {
				worked += time.Hour
			}
		}
		if worked != d {
			t.Fatalf("filed %v + %v = %v, but %v of working time lies between", filed, d, due, worked)
		}
	}
}
