package graphql_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/printer"
	"github.com/graphql-go/graphql/language/source"

	"github.com/kefu-crm/kefu/graphql"
)

// modernIntrospection is the introspection query today's tools send
// (graphql-js 16's getIntrospectionQuery with descriptions, specifiedByURL,
// isRepeatable, schema description, input value deprecation and oneOf on:
// what GraphiQL 3+ and graphql-codegen ask).
const modernIntrospection = `query IntrospectionQuery {
  __schema {
    description
    queryType { name kind }
    mutationType { name kind }
    subscriptionType { name kind }
    types { ...FullType }
    directives {
      name description isRepeatable locations
      args(includeDeprecated: true) { ...InputValue }
    }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL isOneOf
  fields(includeDeprecated: true) {
    name description
    args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name description
  type { ...TypeRef }
  defaultValue
  isDeprecated deprecationReason
}
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

type introInput struct {
	Name              string  `json:"name"`
	DefaultValue      *string `json:"defaultValue"`
	IsDeprecated      *bool   `json:"isDeprecated"`
	DeprecationReason *string `json:"deprecationReason"`
}

type introType struct {
	Kind           string  `json:"kind"`
	Name           string  `json:"name"`
	SpecifiedByURL *string `json:"specifiedByURL"`
	IsOneOf        *bool   `json:"isOneOf"`
	Fields         []struct {
		Name string       `json:"name"`
		Args []introInput `json:"args"`
	} `json:"fields"`
	InputFields []introInput `json:"inputFields"`
}

type introSchema struct {
	Description *string     `json:"description"`
	Types       []introType `json:"types"`
	Directives  []struct {
		Name         string       `json:"name"`
		IsRepeatable *bool        `json:"isRepeatable"`
		Args         []introInput `json:"args"`
	} `json:"directives"`
}

// classicIntrospection asks only what graphql-go has always known.
const classicIntrospection = `query IntrospectionQuery {
  __schema {
    types { kind name fields(includeDeprecated: true) { name args { name defaultValue } } inputFields { name defaultValue } }
    directives { name args { name defaultValue } }
  }
}`

// introspect runs an introspection query over HTTP with accept.
func introspect(t *testing.T, s *server, accept, query string) introSchema {
	t.Helper()
	r := s.postAccept(t, "", "application/json", accept, jsonBody(map[string]any{"query": query, "operationName": "IntrospectionQuery"}))
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("the modern introspection query (Accept %s): HTTP %d %.600s", accept, r.Status, r.Raw)
	}
	var out struct {
		Data struct {
			Schema introSchema `json:"__schema"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.Raw), &out); err != nil {
		t.Fatal(err)
	}
	return out.Data.Schema
}

// defaultsOf lists the defaults served, by input.
func defaultsOf(s introSchema) map[string]string {
	out := map[string]string{}
	for _, typ := range s.Types {
		for _, f := range typ.Fields {
			for _, a := range f.Args {
				if a.DefaultValue != nil {
					out[typ.Name+"."+f.Name+"("+a.Name+")"] = *a.DefaultValue
				}
			}
		}
		for _, f := range typ.InputFields {
			if f.DefaultValue != nil {
				out[typ.Name+"."+f.Name] = *f.DefaultValue
			}
		}
	}
	return out
}

// printedLiteral normalises a GraphQL literal: parse, then print.
func printedLiteral(t *testing.T, lit string) string {
	t.Helper()
	v, err := parser.ParseValue(parser.ParseParams{Source: source.NewSource(&source.Source{Body: []byte(lit), Name: "defaultValue"})})
	if err != nil {
		t.Errorf("defaultValue %s is not a GraphQL literal: %v", lit, err)
		return lit
	}
	return printer.Print(v).(string)
}

// Every default the contract declares is served by introspection as the
// same GraphQL literal — enums unquoted, lists as lists —, and what the
// contract leaves without a default has none; whatever kefu added has a
// default that parses.
func TestIntrospectionDefaultsMatchTheContract(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	served := introspect(t, s, "application/json", classicIntrospection)
	byName := map[string]introType{}
	for _, typ := range served.Types {
		byName[typ.Name] = typ
	}
	doc := parseContract(t)
	checked, withDefault := 0, 0
	compare := func(where string, contract ast.Value, got *string) {
		t.Helper()
		checked++
		switch {
		case contract == nil && got != nil:
			t.Errorf("%s: served default %s, the contract has none", where, *got)
		case contract != nil && got == nil:
			t.Errorf("%s: no default served, the contract says %s", where, printer.Print(contract))
		case contract != nil:
			withDefault++
			if want, have := printer.Print(contract).(string), printedLiteral(t, *got); have != want {
				t.Errorf("%s: served default %s, the contract says %s", where, *got, want)
			}
		}
	}
	for _, def := range doc.Definitions {
		switch d := def.(type) {
		case *ast.ObjectDefinition:
			typ := byName[d.Name.Value]
			for _, f := range d.Fields {
				var args []introInput
				for _, sf := range typ.Fields {
					if sf.Name == f.Name.Value {
						args = sf.Args
					}
				}
				for _, a := range f.Arguments {
					found := false
					for _, sa := range args {
						if sa.Name == a.Name.Value {
							found = true
							compare(d.Name.Value+"."+f.Name.Value+"("+a.Name.Value+")", a.DefaultValue, sa.DefaultValue)
						}
					}
					if !found {
						t.Errorf("%s.%s(%s): not in the served introspection", d.Name.Value, f.Name.Value, a.Name.Value)
					}
				}
			}
		case *ast.InputObjectDefinition:
			typ := byName[d.Name.Value]
			for _, f := range d.Fields {
				found := false
				for _, sf := range typ.InputFields {
					if sf.Name == f.Name.Value {
						found = true
						compare(d.Name.Value+"."+f.Name.Value, f.DefaultValue, sf.DefaultValue)
					}
				}
				if !found {
					t.Errorf("input %s.%s: not in the served introspection", d.Name.Value, f.Name.Value)
				}
			}
		}
	}
	if withDefault < 20 || checked < 200 {
		t.Errorf("only %d inputs (%d with a default) compared; is the contract parsed fully?", checked, withDefault)
	}
	// Whatever the contract does not know still serves parseable literals.
	for _, typ := range served.Types {
		for _, f := range typ.Fields {
			for _, a := range f.Args {
				if a.DefaultValue != nil {
					printedLiteral(t, *a.DefaultValue)
				}
			}
		}
		for _, f := range typ.InputFields {
			if f.DefaultValue != nil {
				printedLiteral(t, *f.DefaultValue)
			}
		}
	}
	t.Logf("%d inputs compared, %d with a default", checked, withDefault)
	// The modern query serves the same defaults.
	if a, b := defaultsOf(served), defaultsOf(introspect(t, s, "application/json", modernIntrospection)); len(a) < 20 || !reflect.DeepEqual(a, b) {
		t.Errorf("the classic and the modern introspection query serve different defaults:\n%v\n%v", a, b)
	}
}

// The fields graphql-go does not know are answered, in both media types,
// with the truth about kefu's schema, under the client's aliases; a client
// cannot make a stand-in answer for another field.
func TestNewerIntrospectionFields(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	for _, accept := range []string{"application/json", "application/graphql-response+json"} {
		sch := introspect(t, s, accept, modernIntrospection)
		if sch.Description != nil {
			t.Errorf("__schema.description = %q, want null", *sch.Description)
		}
		for _, d := range sch.Directives {
			if d.IsRepeatable == nil || *d.IsRepeatable {
				t.Errorf("@%s isRepeatable = %v, want false", d.Name, d.IsRepeatable)
			}
		}
		inputs := 0
		for _, typ := range sch.Types {
			if typ.SpecifiedByURL != nil {
				t.Errorf("%s specifiedByURL = %q, want null", typ.Name, *typ.SpecifiedByURL)
			}
			if typ.Kind == "INPUT_OBJECT" {
				if typ.IsOneOf == nil || *typ.IsOneOf {
					t.Errorf("input %s isOneOf = %v, want false", typ.Name, typ.IsOneOf)
				}
				for _, f := range typ.InputFields {
					inputs++
					if f.IsDeprecated == nil || *f.IsDeprecated || f.DeprecationReason != nil {
						t.Errorf("input %s.%s: isDeprecated %v deprecationReason %v", typ.Name, f.Name, f.IsDeprecated, f.DeprecationReason)
					}
				}
			} else if typ.IsOneOf != nil {
				t.Errorf("%s (%s) isOneOf = %v, want null", typ.Name, typ.Kind, *typ.IsOneOf)
			}
		}
		if inputs < 50 {
			t.Errorf("only %d input fields seen", inputs)
		}
	}
	// Aliases are kept; a client's own alias of an existing field is not
	// taken for a stand-in.
	r := s.post(t, "", `{ __type(name: "Bucket") { url: specifiedByURL specifiedByURL: name n: name } __schema { directives { name rep: isRepeatable } } }`, nil)
	mustOK(t, r)
	if got := at(r.Data, "__type"); got == nil || at(got, "url") != nil || at(got, "specifiedByURL") != "Bucket" || at(got, "n") != "Bucket" {
		t.Errorf("aliases: %s", r.Raw)
	}
	if at(r.Data, "__schema", "directives", 0, "rep") != false {
		t.Errorf("isRepeatable under an alias: %s", r.Raw)
	}
	// A default is corrected wherever __InputValue is reached, under an
	// alias too.
	r = s.post(t, "", `{ __type(name: "Query") { fields { name args { name d: defaultValue } } } }`, nil)
	mustOK(t, r)
	if !strings.Contains(r.Raw, `{"d":"MONTH","name":"bucket"}`) && !strings.Contains(r.Raw, `{"name":"bucket","d":"MONTH"}`) {
		t.Errorf("lifecycleReport(bucket) default under an alias not corrected: %.2000s", r.Raw)
	}
}

// A schema where two inputs print their defaults the same way with two
// meanings (a String "MONTH" and an enum MONTH, which graphql-go both
// prints as "MONTH") cannot be corrected by value: NewHandler says so
// instead of serving a wrong default.
func TestIntrospectionDefaultsAmbiguous(t *testing.T) {
	unit := gql.NewEnum(gql.EnumConfig{Name: "Unit", Values: gql.EnumValueConfigMap{"MONTH": {Value: "MONTH"}}})
	query := gql.NewObject(gql.ObjectConfig{Name: "Query", Fields: gql.Fields{
		"a": {Type: gql.String, Args: gql.FieldConfigArgument{"u": {Type: unit, DefaultValue: "MONTH"}}},
		"b": {Type: gql.String, Args: gql.FieldConfigArgument{"s": {Type: gql.String, DefaultValue: "MONTH"}}},
	}})
	schema, err := gql.NewSchema(gql.SchemaConfig{Query: query})
	if err != nil {
		t.Fatal(err)
	}
	_, err = graphql.NewHandler(schema, graphql.HandlerConfig{DisableExplorer: true})
	if err == nil || !strings.Contains(err.Error(), "Query.a(u)") || !strings.Contains(err.Error(), "Query.b(s)") {
		t.Fatalf("NewHandler: %v, want an error naming both inputs", err)
	}
}
