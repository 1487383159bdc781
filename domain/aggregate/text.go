package aggregate

import (
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on the text a command may carry. Free text (summaries,
// descriptions, notes, comments, reasons, resolution options, incident
// reports) may hold line breaks and tabs; every other string (names,
// contact details, labels, IDs) is one line. No string may hold other
// control characters (NUL among them) or invalid UTF-8.
const (
	MaxLineRunes = 200
	MaxTextRunes = 10000
	MaxListItems = 100
)

// modulePath prefixes the packages whose command structs CheckText walks
// into (the domain's).
var modulePath = strings.TrimSuffix(reflect.TypeFor[InvalidInputError]().PkgPath(), "domain/aggregate")

// freeText names the command fields that are free text.
var freeText = map[string]bool{
	"Summary": true, "Description": true, "Note": true, "Comment": true, "Reason": true, "Body": true,
	"Options": true, "Cause": true, "CorrectiveActions": true, "Handling": true, "Impact": true,
}

// CheckText checks every string a command carries (its string, *string and
// []string fields, and those of nested structs) against the limits above.
// The error is an *InvalidInputError naming the field (lowerCamel, as the
// API spells it). Commands are checked at the application's boundary, so
// no input can store a megabyte-long name or a NUL.
func CheckText(cmd any) error {
	return checkValue(reflect.ValueOf(cmd), "", false)
}

func checkValue(v reflect.Value, field string, free bool) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkValue(v.Elem(), field, free)
	case reflect.String:
		return checkString(field, v.String(), free)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return nil
		}
		if v.Len() > MaxListItems {
			return Invalid(field, "has %d entries; at most %d", v.Len(), MaxListItems)
		}
		for i := range v.Len() {
			if err := checkString(field, v.Index(i).String(), free); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		if !strings.HasPrefix(t.PkgPath(), modulePath) {
			return nil // time.Time and other types from elsewhere
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := lowerCamel(f.Name)
			if field != "" {
				name = field + "." + name
			}
			if err := checkValue(v.Field(i), name, freeText[f.Name]); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkString(field, s string, free bool) error {
	if !utf8.ValidString(s) {
		return Invalid(field, "is not valid UTF-8")
	}
	limit := MaxLineRunes
	if free {
		limit = MaxTextRunes
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return Invalid(field, "is %d characters long; at most %d", n, limit)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(free && (r == '\n' || r == '\r' || r == '\t')) {
			return Invalid(field, "contains the control character %U", r)
		}
	}
	return nil
}

// lowerCamel turns a Go field name into the API's spelling: ComplaintID →
// complaintId, OrderID → orderId, Name → name.
func lowerCamel(s string) string {
	if s == "WeChat" {
		return "wechat"
	}
	if s == "" {
		return s
	}
	b := []byte(s)
	if len(b) >= 2 && b[len(b)-2] == 'I' && b[len(b)-1] == 'D' {
		b[len(b)-1] = 'd'
	}
	b[0] = byte(unicode.ToLower(rune(b[0])))
	return string(b)
}
