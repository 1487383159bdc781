package graphql

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
)

// args reads coerced GraphQL arguments (or input-object fields) with
// checked type assertions. The first mismatch is kept in err; graphql-go's
// validation makes mismatches unlikely, so they are reported as
// BAD_USER_INPUT naming the field rather than trusted.
type args struct {
	m      map[string]any
	prefix string
	err    error
}

func newArgs(m map[string]any, prefix string) *args { return &args{m: m, prefix: prefix} }

func (a *args) fail(name, want string) {
	if a.err == nil {
		a.err = badInput(a.prefix+name, fmt.Sprintf("%s%s must be %s", a.prefix, name, want))
	}
}

func (a *args) has(name string) bool {
	v, ok := a.m[name]
	return ok && v != nil
}

func (a *args) str(name string) string {
	if p := a.optStr(name); p != nil {
		return *p
	}
	return ""
}

func (a *args) optStr(name string) *string {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		a.fail(name, "a string")
		return nil
	}
	return &s
}

func (a *args) integer(name string) int {
	if p := a.optInt(name); p != nil {
		return *p
	}
	return 0
}

func (a *args) optInt(name string) *int {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil
	}
	n, ok := v.(int)
	if !ok {
		a.fail(name, "an integer")
		return nil
	}
	return &n
}

func (a *args) boolean(name string) bool {
	if p := a.optBool(name); p != nil {
		return *p
	}
	return false
}

func (a *args) optBool(name string) *bool {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil
	}
	b, ok := v.(bool)
	if !ok {
		a.fail(name, "a boolean")
		return nil
	}
	return &b
}

func (a *args) optTime(name string) *time.Time {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil
	}
	t, ok := v.(time.Time)
	if !ok {
		a.fail(name, "an RFC 3339 date-time with offset")
		return nil
	}
	return &t
}

func (a *args) timeVal(name string) time.Time {
	if p := a.optTime(name); p != nil {
		return *p
	}
	if a.err == nil {
		a.fail(name, "an RFC 3339 date-time with offset")
	}
	return time.Time{}
}

func (a *args) optDate(name string) *calendar.Date {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil
	}
	d, ok := v.(calendar.Date)
	if !ok {
		a.fail(name, "a date YYYY-MM-DD")
		return nil
	}
	return &d
}

func (a *args) date(name string) calendar.Date {
	if p := a.optDate(name); p != nil {
		return *p
	}
	if a.err == nil {
		a.fail(name, "a date YYYY-MM-DD")
	}
	return calendar.Date{}
}

func (a *args) strs(name string) []string {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		a.fail(name, "a list of strings")
		return nil
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			a.fail(name, "a list of strings")
			return nil
		}
		out = append(out, s)
	}
	return out
}

func (a *args) obj(name string) *args {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		a.fail(name, "an object")
		return nil
	}
	return &args{m: m, prefix: a.prefix + name + "."}
}

func (a *args) objs(name string) []*args {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		a.fail(name, "a list of objects")
		return nil
	}
	out := make([]*args, 0, len(list))
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			a.fail(name, "a list of objects")
			return nil
		}
		out = append(out, &args{m: m, prefix: fmt.Sprintf("%s%s[%d].", a.prefix, name, i)})
	}
	return out
}

// failWith records a refusal of field name (the first one wins).
func (a *args) failWith(name, msg string) {
	if a.err == nil {
		a.err = badInput(a.prefix+name, msg)
	}
}

// failErr records a domain refusal (the first one wins).
func (a *args) failErr(err error) {
	if a.err == nil {
		a.err = err
	}
}

// money reads a MoneyInput.
func (a *args) money(name string) *customer.Money {
	o := a.obj(name)
	if o == nil {
		return nil
	}
	m := &customer.Money{AmountMinor: int64(o.integer("amountMinor")), Currency: o.str("currency")}
	if o.err != nil && a.err == nil {
		a.err = o.err
	}
	return m
}

// join copies a nested reader's error into a.
func (a *args) join(o *args) {
	if o != nil && o.err != nil && a.err == nil {
		a.err = o.err
	}
}

func (a *args) optFloat(name string) *float64 {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil
	}
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int:
		f = float64(x)
	default:
		a.fail(name, "a number")
		return nil
	}
	return &f
}

// idemKey reads an idempotencyKey: one line of at most
// aggregate.MaxLineRunes characters.
func (a *args) idemKey(name string) string {
	k := a.str(name)
	if n := utf8.RuneCountInString(k); n > aggregate.MaxLineRunes {
		a.failWith(name, fmt.Sprintf("is %d characters long; at most %d", n, aggregate.MaxLineRunes))
		return ""
	}
	if !utf8.ValidString(k) || strings.ContainsFunc(k, unicode.IsControl) {
		a.failWith(name, "must be one line of printable text (no control characters)")
		return ""
	}
	return k
}
