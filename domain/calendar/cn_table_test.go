package calendar_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/6tail/tyme4go/tyme"
	"github.com/kefu-crm/kefu/domain/calendar"
)

var update = flag.Bool("update", false, "regenerate cn_lunar.txt from tyme4go")

// TestCNTableMatchesTyme recomputes every CN lunar/solar-term occasion for
// 1900..2100 with tyme4go and compares it with the embedded table that
// Lookup uses.
func TestCNTableMatchesTyme(t *testing.T) {
	var b strings.Builder
	for y := calendar.CNMinYear; y <= calendar.CNMaxYear; y++ {
		want := []tyme.SolarDay{lunar(t, y, 1, 1), qingming(t, y), lunar(t, y, 5, 5), lunar(t, y, 8, 15)}
		fmt.Fprintf(&b, "%04d", y)
		for i, key := range []string{"CN:spring_festival", "CN:qingming", "CN:dragon_boat", "CN:mid_autumn"} {
			w := want[i]
			fmt.Fprintf(&b, " %02d%02d", w.GetMonth(), w.GetDay())
			if *update {
				continue
			}
			h, err := calendar.Lookup(key, y)
			if err != nil {
				t.Fatal(err)
			}
			if h.Date != (calendar.Date{Year: w.GetYear(), Month: timeMonth(w.GetMonth()), Day: w.GetDay()}) {
				t.Errorf("%s %d: table %s, tyme %d-%02d-%02d", key, y, h.Date, w.GetYear(), w.GetMonth(), w.GetDay())
			}
		}
		b.WriteByte('\n')
	}
	if *update {
		if err := os.WriteFile("cn_lunar.txt", []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func lunar(t *testing.T, y, m, d int) tyme.SolarDay {
	ld, err := tyme.LunarDay{}.FromYmd(y, m, d)
	if err != nil {
		t.Fatal(err)
	}
	return ld.GetSolarDay()
}

func qingming(t *testing.T, y int) tyme.SolarDay {
	st, err := tyme.SolarTerm{}.FromName(y, "清明")
	if err != nil {
		t.Fatal(err)
	}
	return st.GetJulianDay().GetSolarDay()
}

func timeMonth(m int) time.Month { return time.Month(m) }
