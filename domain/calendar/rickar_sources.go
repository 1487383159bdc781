package calendar

// The country calendars taken from github.com/rickar/cal/v2
// v2.1.26; one case per country package with a national Holidays list.

import (
	"github.com/rickar/cal/v2/ar"
	"github.com/rickar/cal/v2/at"
	"github.com/rickar/cal/v2/be"
	"github.com/rickar/cal/v2/bg"
	"github.com/rickar/cal/v2/br"
	"github.com/rickar/cal/v2/ca"
	"github.com/rickar/cal/v2/ch"
	"github.com/rickar/cal/v2/cy"
	"github.com/rickar/cal/v2/cz"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/dk"
	"github.com/rickar/cal/v2/ecb"
	"github.com/rickar/cal/v2/ee"
	"github.com/rickar/cal/v2/es"
	"github.com/rickar/cal/v2/fi"
	"github.com/rickar/cal/v2/fr"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/gr"
	"github.com/rickar/cal/v2/hr"
	"github.com/rickar/cal/v2/hu"
	"github.com/rickar/cal/v2/ie"
	is_ "github.com/rickar/cal/v2/is"
	"github.com/rickar/cal/v2/it"
	"github.com/rickar/cal/v2/jp"
	"github.com/rickar/cal/v2/ke"
	"github.com/rickar/cal/v2/lt"
	"github.com/rickar/cal/v2/lu"
	"github.com/rickar/cal/v2/lv"
	"github.com/rickar/cal/v2/mt"
	"github.com/rickar/cal/v2/mw"
	"github.com/rickar/cal/v2/mx"
	"github.com/rickar/cal/v2/nc"
	"github.com/rickar/cal/v2/nl"
	"github.com/rickar/cal/v2/no"
	"github.com/rickar/cal/v2/nz"
	"github.com/rickar/cal/v2/pl"
	"github.com/rickar/cal/v2/pt"
	"github.com/rickar/cal/v2/ro"
	"github.com/rickar/cal/v2/rs"
	"github.com/rickar/cal/v2/ru"
	"github.com/rickar/cal/v2/se"
	"github.com/rickar/cal/v2/si"
	"github.com/rickar/cal/v2/sk"
	"github.com/rickar/cal/v2/ua"
	"github.com/rickar/cal/v2/us"
	"github.com/rickar/cal/v2/za"
)

// rickarCodes lists the calendar codes backed by github.com/rickar/cal/v2.
// AU (state lists only) and TH (names in Thai script, no stable keys) are
// left out.
func rickarCodes() []string {
	return []string{"AR", "AT", "BE", "BG", "BR", "CA", "CH", "CY", "CZ", "DE", "DK", "ECB", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU", "IE", "IS", "IT", "JP", "KE", "LT", "LU", "LV", "MT", "MW", "MX", "NC", "NL", "NO", "NZ", "PL", "PT", "RO", "RS", "RU", "SE", "SI", "SK", "UA", "US", "ZA"}
}

// rickarSource returns the holiday list of a country calendar.
func rickarSource(code string) (rickarSrc, bool) {
	switch code {
	case "AR":
		return rickarSrc{code: "AR", lang: "es", list: ar.Holidays}, true
	case "AT":
		return rickarSrc{code: "AT", lang: "de", list: at.Holidays}, true
	case "BE":
		return rickarSrc{code: "BE", lang: "nl", list: be.Holidays}, true
	case "BG":
		return rickarSrc{code: "BG", lang: "bg", list: bg.Holidays}, true
	case "BR":
		return rickarSrc{code: "BR", lang: "pt", list: br.Holidays}, true
	case "CA":
		return rickarSrc{code: "CA", lang: "en", list: ca.Holidays}, true
	case "CH":
		return rickarSrc{code: "CH", lang: "de", list: ch.Holidays}, true
	case "CY":
		return rickarSrc{code: "CY", lang: "el", list: cy.Holidays}, true
	case "CZ":
		return rickarSrc{code: "CZ", lang: "cs", list: cz.Holidays}, true
	case "DE":
		return rickarSrc{code: "DE", lang: "de", list: de.Holidays}, true
	case "DK":
		return rickarSrc{code: "DK", lang: "da", list: dk.Holidays}, true
	case "ECB":
		return rickarSrc{code: "ECB", lang: "en", list: ecb.Holidays}, true
	case "EE":
		return rickarSrc{code: "EE", lang: "et", list: ee.Holidays}, true
	case "ES":
		return rickarSrc{code: "ES", lang: "es", list: es.Holidays}, true
	case "FI":
		return rickarSrc{code: "FI", lang: "fi", list: fi.Holidays}, true
	case "FR":
		return rickarSrc{code: "FR", lang: "fr", list: fr.Holidays}, true
	case "GB":
		return rickarSrc{code: "GB", lang: "en", list: gb.Holidays}, true
	case "GR":
		return rickarSrc{code: "GR", lang: "el", list: gr.Holidays}, true
	case "HR":
		return rickarSrc{code: "HR", lang: "hr", list: hr.Holidays}, true
	case "HU":
		return rickarSrc{code: "HU", lang: "hu", list: hu.Holidays}, true
	case "IE":
		return rickarSrc{code: "IE", lang: "en", list: ie.Holidays}, true
	case "IS":
		return rickarSrc{code: "IS", lang: "is", list: is_.Holidays}, true
	case "IT":
		return rickarSrc{code: "IT", lang: "it", list: it.Holidays}, true
	case "JP":
		return rickarSrc{code: "JP", lang: "en", list: jp.Holidays}, true
	case "KE":
		return rickarSrc{code: "KE", lang: "en", list: ke.Holidays}, true
	case "LT":
		return rickarSrc{code: "LT", lang: "lt", list: lt.Holidays}, true
	case "LU":
		return rickarSrc{code: "LU", lang: "lb", list: lu.Holidays}, true
	case "LV":
		return rickarSrc{code: "LV", lang: "lv", list: lv.Holidays}, true
	case "MT":
		return rickarSrc{code: "MT", lang: "mt", list: mt.Holidays}, true
	case "MW":
		return rickarSrc{code: "MW", lang: "en", list: mw.Holidays}, true
	case "MX":
		return rickarSrc{code: "MX", lang: "en", list: mx.Holidays}, true
	case "NC":
		return rickarSrc{code: "NC", lang: "fr", list: nc.Holidays}, true
	case "NL":
		return rickarSrc{code: "NL", lang: "nl", list: nl.Holidays}, true
	case "NO":
		return rickarSrc{code: "NO", lang: "nb", list: no.Holidays}, true
	case "NZ":
		return rickarSrc{code: "NZ", lang: "en", list: nz.Holidays}, true
	case "PL":
		return rickarSrc{code: "PL", lang: "pl", list: pl.Holidays}, true
	case "PT":
		return rickarSrc{code: "PT", lang: "pt", list: pt.Holidays}, true
	case "RO":
		return rickarSrc{code: "RO", lang: "ro", list: ro.Holidays}, true
	case "RS":
		return rickarSrc{code: "RS", lang: "sr", list: rs.Holidays}, true
	case "RU":
		return rickarSrc{code: "RU", lang: "ru", list: ru.Holidays}, true
	case "SE":
		return rickarSrc{code: "SE", lang: "sv", list: se.Holidays}, true
	case "SI":
		return rickarSrc{code: "SI", lang: "sl", list: si.Holidays}, true
	case "SK":
		return rickarSrc{code: "SK", lang: "sk", list: sk.Holidays}, true
	case "UA":
		return rickarSrc{code: "UA", lang: "uk", list: ua.Holidays}, true
	case "US":
		return rickarSrc{code: "US", lang: "en", list: us.Holidays}, true
	case "ZA":
		return rickarSrc{code: "ZA", lang: "en", list: za.Holidays}, true
	}
	return rickarSrc{}, false
}

// calendarLanguage returns the ISO 639-1 language of a calendar's local names.
func calendarLanguage(code string) string {
	switch code {
	case "CN":
		return "zh"
	case "AR":
		return "es"
	case "AT":
		return "de"
	case "BE":
		return "nl"
	case "BG":
		return "bg"
	case "BR":
		return "pt"
	case "CA":
		return "en"
	case "CH":
		return "de"
	case "CY":
		return "el"
	case "CZ":
		return "cs"
	case "DE":
		return "de"
	case "DK":
		return "da"
	case "ECB":
		return "en"
	case "EE":
		return "et"
	case "ES":
		return "es"
	case "FI":
		return "fi"
	case "FR":
		return "fr"
	case "GB":
		return "en"
	case "GR":
		return "el"
	case "HR":
		return "hr"
	case "HU":
		return "hu"
	case "IE":
		return "en"
	case "IS":
		return "is"
	case "IT":
		return "it"
	case "JP":
		return "en"
	case "KE":
		return "en"
	case "LT":
		return "lt"
	case "LU":
		return "lb"
	case "LV":
		return "lv"
	case "MT":
		return "mt"
	case "MW":
		return "en"
	case "MX":
		return "en"
	case "NC":
		return "fr"
	case "NL":
		return "nl"
	case "NO":
		return "nb"
	case "NZ":
		return "en"
	case "PL":
		return "pl"
	case "PT":
		return "pt"
	case "RO":
		return "ro"
	case "RS":
		return "sr"
	case "RU":
		return "ru"
	case "SE":
		return "sv"
	case "SI":
		return "sl"
	case "SK":
		return "sk"
	case "UA":
		return "uk"
	case "US":
		return "en"
	case "ZA":
		return "en"
	}
	return ""
}
