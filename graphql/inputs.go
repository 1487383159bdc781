package graphql

import (
	"context"
	"reflect"
	"time"

	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
)

// request is what a mutation's input carries: the command for the domain
// (C), the stream it is for when the input names one (customerId), and the
// shared fields (expectedVersion, idempotencyKey; occurredAt is set on the
// command itself).
type request[C any] struct {
	Cmd      C
	Customer string
	Expected *uint64
	Key      string
}

// field declares one input field once — its name, GraphQL type, default,
// description — and how it is read into the request. Every input object is
// a list of fields: the list both declares the GraphQL input type and
// reads it, so no field is named twice.
type field[C any] struct {
	name string
	typ  gql.Input
	def  any
	desc string
	read func(a *args, name string, r *request[C])
}

// inputObject declares a GraphQL input object from fields.
func inputObject[C any](name, desc string, fields []field[C]) *gql.InputObject {
	m := gql.InputObjectConfigFieldMap{}
	for _, f := range fields {
		m[f.name] = &gql.InputObjectFieldConfig{Type: f.typ, DefaultValue: f.def, Description: f.desc}
	}
	return gql.NewInputObject(gql.InputObjectConfig{Name: name, Description: desc, Fields: m})
}

// read reads an input object into a request, field by field.
func read[C any](a *args, fields []field[C]) request[C] {
	var r request[C]
	for _, f := range fields {
		f.read(a, f.name, &r)
	}
	return r
}

// The field kinds. set receives the value read (the zero value when an
// optional field is absent).

func inStr[C any](name, desc string, set func(*C, string)) field[C] {
	return field[C]{name: name, typ: nn(gql.String), desc: desc, read: func(a *args, n string, r *request[C]) { set(&r.Cmd, a.str(n)) }}
}

func inOptStr[C any](name, desc string, set func(*C, string)) field[C] {
	return field[C]{name: name, typ: gql.String, desc: desc, read: func(a *args, n string, r *request[C]) { set(&r.Cmd, a.str(n)) }}
}

// optStrPtr is an optional string whose absence means "unchanged".
func inOptStrPtr[C any](name, desc string, set func(*C, *string)) field[C] {
	return field[C]{name: name, typ: gql.String, desc: desc, read: func(a *args, n string, r *request[C]) { set(&r.Cmd, a.optStr(n)) }}
}

func inID[C any](name, desc string, set func(*C, string)) field[C] {
	return field[C]{name: name, typ: nn(gql.ID), desc: desc, read: func(a *args, n string, r *request[C]) { set(&r.Cmd, a.str(n)) }}
}

func inOptID[C any](name, desc string, set func(*C, string)) field[C] {
	return field[C]{name: name, typ: gql.ID, desc: desc, read: func(a *args, n string, r *request[C]) { set(&r.Cmd, a.str(n)) }}
}

func inInt[C any](name, desc string, set func(*C, int)) field[C] {
	return field[C]{name: name, typ: nn(gql.Int), desc: desc, read: func(a *args, n string, r *request[C]) { set(&r.Cmd, a.integer(n)) }}
}

func inBool[C any](name string, def bool, desc string, set func(*C, bool)) field[C] {
	return field[C]{name: name, typ: gql.Boolean, def: def, desc: desc, read: func(a *args, n string, r *request[C]) {
		v := def
		if a.has(n) {
			v = a.boolean(n)
		}
		set(&r.Cmd, v)
	}}
}

func inRequired[C any](name string, t gql.Input, desc string, read func(a *args, n string, c *C)) field[C] {
	return field[C]{name: name, typ: nn(t), desc: desc, read: func(a *args, n string, r *request[C]) { read(a, n, &r.Cmd) }}
}

func inStrs[C any](name, desc string, set func(*C, []string)) field[C] {
	return field[C]{name: name, typ: gql.NewList(nn(gql.String)), desc: desc, read: func(a *args, n string, r *request[C]) { set(&r.Cmd, a.strs(n)) }}
}

func inDateTime[C any](b *builder, name, desc string, set func(*C, time.Time)) field[C] {
	return field[C]{name: name, typ: nn(b.dateTime), desc: desc, read: func(a *args, n string, r *request[C]) { set(&r.Cmd, a.timeVal(n)) }}
}

func inOptDate[C any](b *builder, name, desc string, set func(*C, *calendar.Date)) field[C] {
	return field[C]{name: name, typ: b.date, desc: desc, read: func(a *args, n string, r *request[C]) { set(&r.Cmd, a.optDate(n)) }}
}

func inMoney[C any](b *builder, name string, required bool, desc string, set func(*C, *customer.Money)) field[C] {
	t := gql.Input(b.moneyInput)
	if required {
		t = nn(t)
	}
	return field[C]{name: name, typ: t, desc: desc, read: func(a *args, n string, r *request[C]) {
		m := a.money(n)
		if m != nil && m.AmountMinor < 0 {
			a.failWith(n+".amountMinor", "must not be negative")
		}
		set(&r.Cmd, m)
	}}
}

// enum is a field of a domain enum E (a GraphQL enum built from it),
// required or with a default.
func inEnum[C, E any](name string, t *gql.Enum, def string, desc string, parse func(string) (E, error), set func(*C, E)) field[C] {
	f := field[C]{name: name, typ: nn(t), desc: desc}
	if def != "" {
		f.typ, f.def = t, def
	}
	f.read = func(a *args, n string, r *request[C]) {
		s := a.str(n)
		if s == "" {
			s = def
		}
		v, err := parse(s)
		if err != nil {
			a.failErr(err)
		}
		set(&r.Cmd, v)
	}
	return f
}

// optEnum is an optional enum whose absence means "unchanged".
func inOptEnum[C, E any](name string, t *gql.Enum, desc string, parse func(string) (E, error), set func(*C, *E)) field[C] {
	return field[C]{name: name, typ: t, desc: desc, read: func(a *args, n string, r *request[C]) {
		s := a.optStr(n)
		if s == nil {
			return
		}
		v, err := parse(*s)
		if err != nil {
			a.failErr(err)
		}
		set(&r.Cmd, &v)
	}}
}

// customerID is the input's customerId: the stream the command is for.
func customerID[C any](desc string) field[C] {
	return field[C]{name: "customerId", typ: nn(gql.ID), desc: desc, read: func(a *args, n string, r *request[C]) { r.Customer = a.str(n) }}
}

// shared says which of the shared fields an input takes.
type shared struct{ occurredAt, expectedVersion, idempotencyKey bool }

var (
	allShared    = shared{true, true, true}
	noOccurredAt = shared{false, true, true}
	noShared     = shared{}
)

// meta returns the shared fields m names: occurredAt (set on the command's
// OccurredAt), expectedVersion and idempotencyKey.
func meta[C any](b *builder, m shared) []field[C] {
	var out []field[C]
	if m.occurredAt {
		out = append(out, field[C]{name: "occurredAt", typ: b.dateTime, desc: descOccurredAt, read: func(a *args, n string, r *request[C]) {
			if t := a.optTime(n); t != nil {
				b.checkOccurred(a, t)
				setOccurredAt(&r.Cmd, *t)
			}
		}})
	}
	if m.expectedVersion {
		out = append(out, field[C]{name: "expectedVersion", typ: gql.Int, desc: descExpected, read: func(a *args, n string, r *request[C]) {
			if v := a.optInt(n); v != nil {
				if *v < 0 {
					a.failWith(n, "expectedVersion must not be negative")
					return
				}
				u := uint64(*v)
				r.Expected = &u
			}
		}})
	}
	if m.idempotencyKey {
		out = append(out, field[C]{name: "idempotencyKey", typ: gql.String, desc: descIdem, read: func(a *args, n string, r *request[C]) { r.Key = a.idemKey(n) }})
	}
	return out
}

// setOccurredAt sets the OccurredAt field every domain command has.
func setOccurredAt(cmd any, t time.Time) {
	v := reflect.ValueOf(cmd).Elem()
	if f := v.FieldByName("OccurredAt"); f.IsValid() && f.CanSet() && f.Type() == reflect.TypeFor[time.Time]() {
		f.Set(reflect.ValueOf(t))
	}
}

// commandContext is the context a command runs in: the caller as the
// events' actor, the idempotency key if any.
func commandContext(ctx context.Context, by Actor, key string) context.Context {
	ctx = command.WithActor(ctx, command.Actor{User: by.User, Role: string(by.Role)})
	if key != "" {
		ctx = command.WithIdempotencyKey(ctx, key)
	}
	return ctx
}

// withDefault gives an optional field a default value (declared in the
// schema and used when the field is absent).
func withDefault[C any](f field[C], def string) field[C] {
	f.def = def
	read := f.read
	f.read = func(a *args, n string, r *request[C]) {
		if !a.has(n) {
			a.m[n] = def
		}
		read(a, n, r)
	}
	return f
}
