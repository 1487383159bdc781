package calendar

import (
	_ "embed"
	"time"
)

// cnLunarTable holds, for each year 1900..2100, one fixed-width line
// "YYYY SSSS QQQQ DDDD MMMM\n": the month-day (MMDD) of the Spring Festival
// (lunar 1/1), Qingming (the 清明 solar term), the Dragon Boat Festival
// (lunar 5/5) and the Mid-Autumn Festival (lunar 8/15). It was generated
// with tyme4go v1.4.3 and is checked against it by TestCNTableMatchesTyme
// ("go test ./domain/calendar -run TestCNTableMatchesTyme -args -update"
// regenerates it). Converting with tyme4go at run time cost ~0.9 ms per
// lookup in our benchmark; the table lookup is a few nanoseconds.
//
//go:embed cn_lunar.txt
var cnLunarTable string

const cnLineLen = 25

// cnOccasion is one CN occasion; date computes its day in a Gregorian year
// within CNMinYear..CNMaxYear.
type cnOccasion struct {
	key, name, local string
	date             func(year int) Date
}

func (o cnOccasion) holiday(year int) Holiday {
	return Holiday{Calendar: "CN", Key: "CN:" + o.key, Name: o.name, LocalName: o.local, Date: o.date(year)}
}

// cnOccasions lists the CN occasions in calendar order.
func cnOccasions() []cnOccasion {
	return []cnOccasion{
		{"new_year", "New Year's Day", "元旦", fixedDay(time.January, 1)},
		{"spring_festival", "Spring Festival", "春节", tableDay(0)},
		{"qingming", "Qingming Festival", "清明节", tableDay(1)},
		{"labour_day", "Labour Day", "劳动节", fixedDay(time.May, 1)},
		{"dragon_boat", "Dragon Boat Festival", "端午节", tableDay(2)},
		{"mid_autumn", "Mid-Autumn Festival", "中秋节", tableDay(3)},
		{"national_day", "National Day", "国庆节", fixedDay(time.October, 1)},
	}
}

func fixedDay(m time.Month, d int) func(int) Date {
	return func(y int) Date { return Date{Year: y, Month: m, Day: d} }
}

// tableDay reads column col of the year's line in cnLunarTable.
func tableDay(col int) func(int) Date {
	return func(y int) Date {
		off := (y-CNMinYear)*cnLineLen + 5 + col*5
		mm, _ := digits(cnLunarTable[off : off+2])
		dd, _ := digits(cnLunarTable[off+2 : off+4])
		return Date{Year: y, Month: time.Month(mm), Day: dd}
	}
}
