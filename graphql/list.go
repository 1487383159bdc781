package graphql

import (
	"context"

	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/app/query"
)

// listing is a paged list field (a Relay connection): a filter F, declared
// and read by one field list — as a filter input object, or as the field's
// own arguments —, first/after, and the query that answers with Ts.
type listing[F, T any] struct {
	desc string
	conn *gql.Object
	// what the page holds, for first's description ("customers").
	what         string
	defaultFirst int

	// filter are the filter's fields. With filterInput set they form the
	// input object of that name, the argument "filter"; without, they
	// are the field's own arguments.
	filter                 []field[F]
	filterInput            string
	filterDesc, filterHelp string

	// from completes the filter from the field's source (the customer of
	// a nested list); false resolves the field to null. Nil for root
	// fields.
	from func(source any, f *F) bool
	// allow refuses a filter the caller may not use (a permission).
	allow func(ctx context.Context, f F) error
	// list answers.
	list func(ctx context.Context, f F, p query.Page) (query.Connection[T], error)
}

// listField is the field of l.
func listField[F, T any](b *builder, l listing[F, T]) *gql.Field {
	args := pageArgs(l.defaultFirst, l.what)
	if l.filterInput != "" {
		args["filter"] = &gql.ArgumentConfig{Type: inputObject(l.filterInput, l.filterDesc, l.filter), Description: l.filterHelp}
	} else {
		for _, f := range l.filter {
			args[f.name] = &gql.ArgumentConfig{Type: f.typ, DefaultValue: f.def, Description: f.desc}
		}
	}
	return &gql.Field{Type: gql.NewNonNull(l.conn), Description: l.desc, Args: args,
		Resolve: b.wrap(func(p gql.ResolveParams) (any, error) {
			pg, err := b.page(p.Args, l.defaultFirst)
			if err != nil {
				return nil, err
			}
			a := newArgs(p.Args, "")
			var f F
			if l.filterInput == "" {
				f = read(a, l.filter).Cmd
			} else if in := a.obj("filter"); in != nil {
				f = read(in, l.filter).Cmd
				a.join(in)
			}
			if a.err != nil {
				return nil, a.err
			}
			if l.from != nil && !l.from(p.Source, &f) {
				return nil, nil
			}
			if l.allow != nil {
				if err := l.allow(p.Context, f); err != nil {
					return nil, err
				}
			}
			conn, err := l.list(p.Context, f, pg)
			if err != nil {
				return nil, err
			}
			return toConn(conn), nil
		})}
}

// inValue is an optional field read by get (one of args' readers: strs,
// optStr, optInt, optBool, optTime …) and handed to set as it is.
func inValue[C, V any](name string, typ gql.Input, desc string, get func(*args, string) V, set func(*C, V)) field[C] {
	return field[C]{name: name, typ: typ, desc: desc, read: func(a *args, n string, r *request[C]) { set(&r.Cmd, get(a, n)) }}
}
