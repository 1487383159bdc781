package calendar

import (
	"time"

	"github.com/6tail/tyme4go/tyme"
)

// cnOccasion is one CN occasion; date computes its day in a Gregorian year.
type cnOccasion struct {
	key, name, local string
	date             func(year int) Date
}

func (o cnOccasion) holiday(year int) Holiday {
	return Holiday{Calendar: "CN", Key: "CN:" + o.key, Name: o.name, LocalName: o.local, Date: o.date(year)}
}

// cnOccasions lists the CN occasions in calendar order. Lunar festivals are
// converted with tyme4go; Qingming is the day of the 清明 solar term.
func cnOccasions() []cnOccasion {
	return []cnOccasion{
		{"new_year", "New Year's Day", "元旦", fixedDay(time.January, 1)},
		{"spring_festival", "Spring Festival", "春节", lunarDay(1, 1)},
		{"qingming", "Qingming Festival", "清明节", solarTermDay("清明")},
		{"labour_day", "Labour Day", "劳动节", fixedDay(time.May, 1)},
		{"dragon_boat", "Dragon Boat Festival", "端午节", lunarDay(5, 5)},
		{"mid_autumn", "Mid-Autumn Festival", "中秋节", lunarDay(8, 15)},
		{"national_day", "National Day", "国庆节", fixedDay(time.October, 1)},
	}
}

func fixedDay(m time.Month, d int) func(int) Date {
	return func(y int) Date { return Date{Year: y, Month: m, Day: d} }
}

// lunarDay returns the Gregorian day of lunar month m (not leap), day d, of
// the lunar year that starts in Gregorian year y. For the festivals used here
// (months 1, 5 and 8) that day always falls within Gregorian year y.
func lunarDay(m, d int) func(int) Date {
	return func(y int) Date {
		ld, err := tyme.LunarDay{}.FromYmd(y, m, d)
		if err != nil {
			// Cannot happen for months 1..12, days 1..29 within tyme's range;
			// callers bound y to CNMinYear..CNMaxYear.
			panic("calendar: tyme lunar conversion: " + err.Error())
		}
		return fromSolarDay(ld.GetSolarDay())
	}
}

func solarTermDay(name string) func(int) Date {
	return func(y int) Date {
		st, err := tyme.SolarTerm{}.FromName(y, name)
		if err != nil {
			panic("calendar: tyme solar term: " + err.Error())
		}
		return fromSolarDay(st.GetJulianDay().GetSolarDay())
	}
}

func fromSolarDay(s tyme.SolarDay) Date {
	return Date{Year: s.GetYear(), Month: time.Month(s.GetMonth()), Day: s.GetDay()}
}
