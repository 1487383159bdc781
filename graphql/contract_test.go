package graphql_test

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/app"

	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"

	"github.com/kefu-crm/kefu/graphql"
	"github.com/kefu-crm/kefu/internal/shared"
)

// contractPath finds ../shared/schema.graphql from the repository root.
func contractPath(t testing.TB) string {
	t.Helper()
	return shared.Path(t, "schema.graphql")
}

// parseContract parses the SDL. graphql-go's lexer miscounts columns after
// multi-byte characters in comments, so comment lines are dropped first.
func parseContract(t *testing.T) *ast.Document {
	b, err := os.ReadFile(contractPath(t))
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.Index(line, "#"); i >= 0 && !strings.Contains(line[:i], `"`) {
			line = line[:i]
		}
		keep = append(keep, line)
	}
	doc, err := parser.Parse(parser.ParseParams{Source: source.NewSource(&source.Source{Body: []byte(strings.Join(keep, "\n")), Name: "schema.graphql"})})
	if err != nil {
		t.Fatalf("parse contract: %v", err)
	}
	return doc
}

func typeString(t ast.Type) string {
	switch t := t.(type) {
	case *ast.Named:
		return t.Name.Value
	case *ast.List:
		return "[" + typeString(t.Type) + "]"
	case *ast.NonNull:
		return typeString(t.Type) + "!"
	}
	return "?"
}

// literal turns a default value of the SDL into the Go value our schema
// should hold as DefaultValue (enum values are their names).
func literal(v ast.Value) any {
	switch v := v.(type) {
	case nil:
		return nil
	case *ast.IntValue:
		n, _ := strconv.Atoi(v.Value)
		return n
	case *ast.FloatValue:
		f, _ := strconv.ParseFloat(v.Value, 64)
		return f
	case *ast.StringValue:
		return v.Value
	case *ast.BooleanValue:
		return v.Value
	case *ast.EnumValue:
		return v.Value
	case *ast.ListValue:
		out := []any{}
		for _, x := range v.Values {
			out = append(out, literal(x))
		}
		return out
	}
	return v
}

func normalize(v any) any {
	if s, ok := v.([]string); ok {
		out := []any{}
		for _, x := range s {
			out = append(out, x)
		}
		return out
	}
	return v
}

// newTestSchema is the schema kefu serves, over an application with
// nothing behind it: for checks of its shape, never resolved.
func newTestSchema(t testing.TB) gql.Schema {
	t.Helper()
	s, err := graphql.NewSchema(graphql.Deps{App: &app.Application{}})
	if err != nil {
		t.Fatalf("NewSchema: %v", err)
	}
	return s
}

// TestContract is the contract guard: every type, field, argument (type and
// default), enum value and input field of shared/schema.graphql exists in
// the served schema with the same signature; whatever we added is optional.
func TestContract(t *testing.T) {
	doc := parseContract(t)
	s := newTestSchema(t)
	checked := 0
	for _, def := range doc.Definitions {
		switch d := def.(type) {
		case *ast.ScalarDefinition:
			if _, ok := s.Type(d.Name.Value).(*gql.Scalar); !ok {
				t.Errorf("scalar %s: missing", d.Name.Value)
			}
			checked++
		case *ast.EnumDefinition:
			e, ok := s.Type(d.Name.Value).(*gql.Enum)
			if !ok {
				t.Errorf("enum %s: missing", d.Name.Value)
				continue
			}
			have := map[string]bool{}
			for _, v := range e.Values() {
				have[v.Name] = true
			}
			for _, v := range d.Values {
				if !have[v.Name.Value] {
					t.Errorf("enum %s: value %s missing", d.Name.Value, v.Name.Value)
				}
				checked++
			}
		case *ast.ObjectDefinition:
			name := d.Name.Value
			o, ok := s.Type(name).(*gql.Object)
			if !ok {
				t.Errorf("type %s: missing", name)
				continue
			}
			fields := o.Fields()
			for _, f := range d.Fields {
				fd, ok := fields[f.Name.Value]
				if !ok {
					t.Errorf("%s.%s: missing", name, f.Name.Value)
					continue
				}
				checked++
				if got, want := fd.Type.String(), typeString(f.Type); got != want {
					t.Errorf("%s.%s: type %s, contract says %s", name, f.Name.Value, got, want)
				}
				args := map[string]*gql.Argument{}
				for _, a := range fd.Args {
					args[a.Name()] = a
				}
				inContract := map[string]bool{}
				for _, a := range f.Arguments {
					inContract[a.Name.Value] = true
					ga, ok := args[a.Name.Value]
					if !ok {
						t.Errorf("%s.%s(%s): argument missing", name, f.Name.Value, a.Name.Value)
						continue
					}
					checked++
					if got, want := ga.Type.String(), typeString(a.Type); got != want {
						t.Errorf("%s.%s(%s): type %s, contract says %s", name, f.Name.Value, a.Name.Value, got, want)
					}
					if got, want := normalize(ga.DefaultValue), literal(a.DefaultValue); !reflect.DeepEqual(got, want) {
						t.Errorf("%s.%s(%s): default %#v, contract says %#v", name, f.Name.Value, a.Name.Value, got, want)
					}
				}
				for an, ga := range args {
					if _, required := ga.Type.(*gql.NonNull); !inContract[an] && required && ga.DefaultValue == nil {
						t.Errorf("%s.%s(%s): added argument is required (breaks clients)", name, f.Name.Value, an)
					}
				}
			}
		case *ast.InputObjectDefinition:
			name := d.Name.Value
			io, ok := s.Type(name).(*gql.InputObject)
			if !ok {
				t.Errorf("input %s: missing", name)
				continue
			}
			fields := io.Fields()
			inContract := map[string]bool{}
			for _, f := range d.Fields {
				inContract[f.Name.Value] = true
				gf, ok := fields[f.Name.Value]
				if !ok {
					t.Errorf("input %s.%s: missing", name, f.Name.Value)
					continue
				}
				checked++
				if got, want := gf.Type.String(), typeString(f.Type); got != want {
					t.Errorf("input %s.%s: type %s, contract says %s", name, f.Name.Value, got, want)
				}
				if got, want := normalize(gf.DefaultValue), literal(f.DefaultValue); !reflect.DeepEqual(got, want) {
					t.Errorf("input %s.%s: default %#v, contract says %#v", name, f.Name.Value, got, want)
				}
			}
			for fn, gf := range fields {
				if _, required := gf.Type.(*gql.NonNull); !inContract[fn] && required && gf.DefaultValue == nil {
					t.Errorf("input %s.%s: added field is required (breaks clients)", name, fn)
				}
			}
		default:
			t.Errorf("unexpected definition %T in the contract", def)
		}
	}
	if checked < 300 {
		t.Errorf("only %d contract items checked; is the contract parsed fully?", checked)
	}
	t.Logf("%d contract items checked", checked)
}

// TestEverythingDescribed: introspection is the documentation, so every
// type, field, argument, enum value and input field has a description.
func TestEverythingDescribed(t *testing.T) {
	s := newTestSchema(t)
	for name, typ := range s.TypeMap() {
		if strings.HasPrefix(name, "__") {
			continue
		}
		switch typ := typ.(type) {
		case *gql.Scalar:
			if name == "String" || name == "Int" || name == "Float" || name == "Boolean" || name == "ID" {
				continue
			}
			if typ.Description() == "" {
				t.Errorf("scalar %s: no description", name)
			}
		case *gql.Enum:
			if typ.Description() == "" {
				t.Errorf("enum %s: no description", name)
			}
			for _, v := range typ.Values() {
				if v.Description == "" {
					t.Errorf("enum %s.%s: no description", name, v.Name)
				}
			}
		case *gql.Object:
			if typ.Description() == "" {
				t.Errorf("type %s: no description", name)
			}
			for fn, f := range typ.Fields() {
				if f.Description == "" {
					t.Errorf("%s.%s: no description", name, fn)
				}
				for _, a := range f.Args {
					if a.Description() == "" {
						t.Errorf("%s.%s(%s): no description", name, fn, a.Name())
					}
				}
			}
		case *gql.InputObject:
			if typ.Description() == "" {
				t.Errorf("input %s: no description", name)
			}
			for fn, f := range typ.Fields() {
				if f.Description() == "" {
					t.Errorf("input %s.%s: no description", name, fn)
				}
			}
		}
	}
}
