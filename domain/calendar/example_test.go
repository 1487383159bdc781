package calendar_test

import (
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
)

func ExampleWorkingCalendar_ReplyDue() {
	c, err := calendar.NewWorkingCalendar(calendar.WorkingCalendarConfig{}) // Asia/Shanghai, 09:00–18:00
	if err != nil {
		panic(err)
	}
	shanghai := time.FixedZone("+08:00", 8*3600)
	filed := time.Date(2025, 9, 30, 16, 0, 0, 0, shanghai) // eve of the National Day week
	due, provisional := c.ReplyDue(filed)
	fmt.Println(due.Format("Mon 2006-01-02 15:04"), provisional)
	// Output: Thu 2025-10-09 11:30 false
}

func ExampleNewWorkingCalendar() {
	// An arrangement for a year the release does not carry, e.g. loaded
	// from a config file with ParseArrangements.
	extra, err := calendar.ParseArrangements([]byte(`{"year":2027,"daysOff":["2027-01-01"],"workingDays":[]}`))
	if err != nil {
		panic(err)
	}
	c, err := calendar.NewWorkingCalendar(calendar.WorkingCalendarConfig{
		DayStart:     8 * time.Hour,
		DayEnd:       17*time.Hour + 30*time.Minute,
		Arrangements: extra,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(c.HalfDay(), c.IsOfficial(2027), c.IsWorkday(calendar.MustParse("2027-01-01")))
	// Output: 4h45m0s true false
}

func ExampleHolidays() {
	hs, err := calendar.Holidays("CN", calendar.MustParse("2025-01-01"), calendar.MustParse("2025-12-31"))
	if err != nil {
		panic(err)
	}
	for _, h := range hs {
		fmt.Println(h.Date, h.Key, h.NameFor("zh-CN"), h.NameFor("en"))
	}
	// Output:
	// 2025-01-01 CN:new_year 元旦 New Year's Day
	// 2025-01-29 CN:spring_festival 春节 Spring Festival
	// 2025-04-04 CN:qingming 清明节 Qingming Festival
	// 2025-05-01 CN:labour_day 劳动节 Labour Day
	// 2025-05-31 CN:dragon_boat 端午节 Dragon Boat Festival
	// 2025-10-01 CN:national_day 国庆节 National Day
	// 2025-10-06 CN:mid_autumn 中秋节 Mid-Autumn Festival
}

func ExampleLookup() {
	h, err := calendar.Lookup("CN:spring_festival", 2027)
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Date, h.LocalName)
	_, err = calendar.Lookup("CN:christmas", 2027)
	fmt.Println(err)
	// Output:
	// 2027-02-06 春节
	// calendar: holiday "CN:christmas": no such occasion
}

func ExampleNextBirthday() {
	fmt.Println(calendar.NextBirthday(calendar.MustParse("2000-02-29"), calendar.MustParse("2025-01-01")))
	// Output: 2025-02-28
}

func ExampleParse() {
	d, err := calendar.Parse("2025-10-01")
	fmt.Println(d, d.Weekday(), err)
	_, err = calendar.Parse("2025-02-29")
	fmt.Println(err)
	// Output:
	// 2025-10-01 Wednesday <nil>
	// calendar: invalid date "2025-02-29": no such day
}
