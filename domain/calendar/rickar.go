package calendar

import (
	"reflect"
	"strconv"
	"strings"
	"unicode"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/aa"
)

// rickarSrc is one country calendar from github.com/rickar/cal/v2.
type rickarSrc struct {
	code string
	lang string // language of the library's names
	list []*cal.Holiday
}

func rickarSources() []rickarSrc {
	codes := rickarCodes()
	out := make([]rickarSrc, 0, len(codes))
	for _, c := range codes {
		s, _ := rickarSource(c)
		out = append(out, s)
	}
	return out
}

// rickarOccasion is a library holiday with its derived key and names.
type rickarOccasion struct {
	code, key, name, local string
	def                    *cal.Holiday
}

func (o rickarOccasion) holiday(year int) (Holiday, bool) {
	actual, _ := o.def.Calc(year)
	if actual.IsZero() {
		return Holiday{}, false
	}
	return Holiday{Calendar: o.code, Key: o.code + ":" + o.key, Name: o.name, LocalName: o.local, Date: DateOf(actual)}, true
}

// occasions derives keys and names. The library's Name is in the country's
// language; the English name is the Name itself for English calendars, else
// the name of the pan-European (aa) holiday with the same rule, else the
// local name. The key is the snake_case ASCII form of the English name.
func (s rickarSrc) occasions() []rickarOccasion {
	out := make([]rickarOccasion, 0, len(s.list))
	for _, h := range s.list {
		o := rickarOccasion{code: s.code, def: h, name: h.Name}
		if s.lang != "en" {
			o.local = h.Name
			if en, ok := englishName(h); ok {
				o.name = en
			}
		}
		o.key = slug(o.name)
		// Two definitions with the same name that can occur in the same year
		// are different occasions (HU has two "Nemzeti ünnep"): number the
		// later ones. Same-name definitions for disjoint year ranges (GB's
		// Spring Bank Holiday rules) share the key.
		n := 1
		for _, prev := range out {
			if prev.key == o.key && yearsOverlap(prev.def, h) {
				n++
				o.key = slug(o.name) + "_" + strconv.Itoa(n)
			}
		}
		out = append(out, o)
	}
	return out
}

func yearsOverlap(a, b *cal.Holiday) bool {
	lo := func(h *cal.Holiday) int { return h.StartYear }
	hi := func(h *cal.Holiday) int {
		if h.EndYear == 0 {
			return 1 << 30
		}
		return h.EndYear
	}
	return lo(a) <= hi(b) && lo(b) <= hi(a)
}

// englishName finds the aa holiday computed by the same rule as h.
func englishName(h *cal.Holiday) (string, bool) {
	for _, a := range []*cal.Holiday{
		aa.NewYear, aa.Epiphany, aa.MaundyThursday, aa.GoodFriday, aa.Easter,
		aa.EasterMonday, aa.WorkersDay, aa.AscensionDay, aa.Pentecost,
		aa.PentecostMonday, aa.CorpusChristi, aa.AssumptionOfMary,
		aa.AllSaintsDay, aa.ArmisticeDay, aa.ImmaculateConception,
		aa.ChristmasDay, aa.ChristmasDay2,
	} {
		if sameRule(h, a) {
			return a.Name, true
		}
	}
	return "", false
}

func sameRule(h, a *cal.Holiday) bool {
	if h.Func == nil || a.Func == nil {
		return false
	}
	return h.Month == a.Month && h.Day == a.Day && h.Weekday == a.Weekday &&
		h.Offset == a.Offset && h.CalcOffset == a.CalcOffset && h.Julian == a.Julian &&
		reflect.ValueOf(h.Func).Pointer() == reflect.ValueOf(a.Func).Pointer()
}

// slug returns the lower snake_case ASCII form of a name: Latin diacritics
// folded, Cyrillic and Greek transliterated, everything else a separator.
func slug(name string) string {
	var b strings.Builder
	sep := false
	for _, r := range name {
		t, known := fold(unicode.ToLower(r))
		if t == "" {
			if known || r == '\'' || r == '’' || r == '.' {
				continue // "New Year's Day" -> new_years_day; ъ, ь dropped
			}
			sep = b.Len() > 0
			continue
		}
		if sep {
			b.WriteByte('_')
			sep = false
		}
		b.WriteString(t)
	}
	return b.String()
}

// fold returns the ASCII letters for r; known with "" means r is dropped.
func fold(r rune) (string, bool) {
	if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
		return string(r), true
	}
	if s, ok := latinFold(r); ok {
		return s, true
	}
	if s, ok := cyrillicFold(r); ok {
		return s, true
	}
	if s, ok := greekFold(r); ok {
		return s, true
	}
	return "", false
}

func latinFold(r rune) (string, bool) {
	switch r {
	case 'à', 'á', 'â', 'ã', 'ä', 'å', 'ā', 'ă', 'ą':
		return "a", true
	case 'æ':
		return "ae", true
	case 'ç', 'ć', 'č', 'ċ':
		return "c", true
	case 'ď', 'đ', 'ð':
		return "d", true
	case 'è', 'é', 'ê', 'ë', 'ē', 'ė', 'ę', 'ě':
		return "e", true
	case 'ġ', 'ģ', 'ğ':
		return "g", true
	case 'ħ':
		return "h", true
	case 'ì', 'í', 'î', 'ï', 'ī', 'į', 'ı':
		return "i", true
	case 'ķ':
		return "k", true
	case 'ĺ', 'ļ', 'ľ', 'ł':
		return "l", true
	case 'ñ', 'ń', 'ņ', 'ň':
		return "n", true
	case 'ò', 'ó', 'ô', 'õ', 'ö', 'ø', 'ō', 'ő':
		return "o", true
	case 'œ':
		return "oe", true
	case 'ŕ', 'ř':
		return "r", true
	case 'ś', 'š', 'ş', 'ș':
		return "s", true
	case 'ß':
		return "ss", true
	case 'ť', 'ţ', 'ț':
		return "t", true
	case 'þ':
		return "th", true
	case 'ù', 'ú', 'û', 'ü', 'ū', 'ů', 'ű', 'ų':
		return "u", true
	case 'ý', 'ÿ':
		return "y", true
	case 'ź', 'ż', 'ž':
		return "z", true
	}
	return "", false
}

func cyrillicFold(r rune) (string, bool) {
	const from = "абвгґдеєёжзиіїйклмнопрстуфхцчшщъыьэюя"
	to := []string{"a", "b", "v", "g", "g", "d", "e", "ie", "e", "zh", "z", "i", "i", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "iu", "ia"}
	i := 0
	for _, c := range from {
		if c == r {
			return to[i], true
		}
		i++
	}
	return "", false
}

func greekFold(r rune) (string, bool) {
	const from = "αάβγδεέζηήθιίϊΐκλμνξοόπρσςτυύϋΰφχψωώ"
	to := []string{"a", "a", "v", "g", "d", "e", "e", "z", "i", "i", "th", "i", "i", "i", "i", "k", "l", "m", "n", "x", "o", "o", "p", "r", "s", "s", "t", "y", "y", "y", "y", "f", "ch", "ps", "o", "o"}
	i := 0
	for _, c := range from {
		if c == r {
			return to[i], true
		}
		i++
	}
	return "", false
}
