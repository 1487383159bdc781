package graphql

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/source"
)

// Introspection, made to tell the truth to today's clients.
//
// graphql-go v0.8.1 has two gaps that code generators and GraphiQL trip
// over, and both are closed here, in our layer, without touching the
// library's global introspection types:
//
//  1. __InputValue.defaultValue prints an argument's or input field's
//     default without its type (the library passes the *Argument where the
//     type belongs to astFromValue), so an enum default comes out as a
//     string ("MONTH" instead of MONTH) and a list as one string
//     ("[NEW ACTIVE LOYAL]" instead of [NEW, ACTIVE, LOYAL]);
//     buildClientSchema then rejects or drops it. At NewHandler the schema's
//     own introspection is read once and each default the library prints
//     wrongly is paired with the correct literal, printed from the type;
//     answers are corrected on the way out (correctDefaults). A wrong
//     string that two inputs would print differently cannot be corrected
//     by value, so NewHandler refuses such a schema.
//  2. Introspection fields added to the spec after graphql-go was written —
//     __Type.specifiedByURL, __Type.isOneOf, __Directive.isRepeatable,
//     __InputValue.isDeprecated and deprecationReason, __Schema.description,
//     and the includeDeprecated argument of args and inputFields — fail
//     validation (HTTP 400), and with them the standard introspection
//     queries of GraphiQL 3+ and graphql-codegen. Before validation each
//     such field is replaced by an existing one under the same response
//     key, and marked (rewriteIntrospection); once executed, the marked
//     keys get their values (none of kefu's types, fields or arguments is
//     deprecated, repeatable or oneOf, and no scalar names a
//     specification). includeDeprecated on args and inputFields is dropped:
//     there is nothing deprecated to include.
//
// Reported upstream-worthy: introspection.go's defaultValue resolver should
// call astFromValue(inputVal.DefaultValue, inputVal.Type).

// synthetic is a newer introspection field answered by kefu.
type synthetic int

const (
	synthNone synthetic = iota
	synthSpecifiedByURL
	synthIsOneOf
	synthIsRepeatable
	synthIsDeprecated
	synthDeprecationReason
	synthDescription
)

// syntheticFields: for each introspection type, the fields kefu answers
// itself and the existing field that stands in for them during execution.
var syntheticFields = map[string]map[string]struct {
	kind  synthetic
	stand string
}{
	"__Type":       {"specifiedByURL": {synthSpecifiedByURL, "name"}, "isOneOf": {synthIsOneOf, "kind"}},
	"__Directive":  {"isRepeatable": {synthIsRepeatable, "name"}},
	"__InputValue": {"isDeprecated": {synthIsDeprecated, "name"}, "deprecationReason": {synthDeprecationReason, "name"}},
	"__Schema":     {"description": {synthDescription, "__typename"}},
}

// markers are the sources that mark a stand-in field (its Loc.Source): a
// parsed document never points at them, so a stand-in cannot be forged
// by a client, and the mark travels with the cached document.
var markers = func() map[*source.Source]synthetic {
	m := map[*source.Source]synthetic{}
	for k := synthSpecifiedByURL; k <= synthDescription; k++ {
		m[source.NewSource(&source.Source{Name: fmt.Sprintf("kefu introspection stand-in %d", k)})] = k
	}
	return m
}()

func markerOf(k synthetic) *source.Source {
	for s, kind := range markers {
		if kind == k {
			return s
		}
	}
	return nil
}

func syntheticOf(f *ast.Field) synthetic {
	if f.Loc == nil || f.Loc.Source == nil {
		return synthNone
	}
	return markers[f.Loc.Source]
}

// introspection holds what the handler needs to correct answers.
type introspection struct {
	schema *gql.Schema
	// defaults maps a default the library prints wrongly to the literal.
	defaults map[string]string
}

// newIntrospection reads the schema's introspection once and pairs every
// wrongly printed default with its literal.
func newIntrospection(schema *gql.Schema) (*introspection, error) {
	in := &introspection{schema: schema, defaults: map[string]string{}}
	res := gql.Do(gql.Params{Schema: *schema, RequestString: `{ __schema {
		types { name fields(includeDeprecated: true) { name args { name defaultValue } } inputFields { name defaultValue } }
		directives { name args { name defaultValue } } } }`})
	if len(res.Errors) > 0 {
		return nil, fmt.Errorf("graphql: introspecting the schema: %v", res.Errors[0].Message)
	}
	var got struct {
		Schema struct {
			Types []struct {
				Name   string
				Fields []struct {
					Name string
					Args []served
				}
				InputFields []served
			}
			Directives []struct {
				Name string
				Args []served
			}
		} `json:"__schema"`
	}
	b, err := json.Marshal(res.Data)
	if err == nil {
		err = json.Unmarshal(b, &got)
	}
	if err != nil {
		return nil, fmt.Errorf("graphql: reading the schema's introspection: %w", err)
	}
	from := map[string]string{} // printed text → the input it came from
	var errs []string
	pair := func(where string, printed *string, value any, typ gql.Input) {
		if printed == nil || value == nil {
			return
		}
		want, err := literal(value, typ)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", where, err))
			return
		}
		if prev, ok := in.defaults[*printed]; ok && prev != want {
			errs = append(errs, fmt.Sprintf("%s and %s both print their default as %s but mean %s and %s", from[*printed], where, *printed, prev, want))
			return
		}
		in.defaults[*printed], from[*printed] = want, where
	}
	types := schema.TypeMap()
	for _, t := range got.Schema.Types {
		switch typ := types[t.Name].(type) {
		case *gql.Object:
			defs := typ.Fields()
			for _, f := range t.Fields {
				fd := defs[f.Name]
				if fd == nil {
					continue
				}
				for _, a := range f.Args {
					for _, arg := range fd.Args {
						if arg.Name() == a.Name {
							pair(t.Name+"."+f.Name+"("+a.Name+")", a.DefaultValue, arg.DefaultValue, arg.Type)
						}
					}
				}
			}
		case *gql.InputObject:
			defs := typ.Fields()
			for _, f := range t.InputFields {
				if fd := defs[f.Name]; fd != nil {
					pair(t.Name+"."+f.Name, f.DefaultValue, fd.DefaultValue, fd.Type)
				}
			}
		}
	}
	for _, d := range got.Schema.Directives {
		for _, dir := range schema.Directives() {
			if dir.Name != d.Name {
				continue
			}
			for _, a := range d.Args {
				for _, arg := range dir.Args {
					if arg.Name() == a.Name {
						pair("@"+d.Name+"("+a.Name+")", a.DefaultValue, arg.DefaultValue, arg.Type)
					}
				}
			}
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("graphql: introspection defaults cannot be corrected: %s", strings.Join(errs, "; "))
	}
	for wrong, want := range in.defaults {
		if wrong == want {
			delete(in.defaults, wrong)
		}
	}
	return in, nil
}

// served is one input value as the library's introspection prints it.
type served struct {
	Name         string
	DefaultValue *string
}

// literal prints value, a default of type typ, as a GraphQL literal.
func literal(value any, typ gql.Input) (string, error) {
	switch t := typ.(type) {
	case *gql.NonNull:
		return literal(value, t.OfType)
	case *gql.List:
		rv := reflect.ValueOf(value)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return literal(value, t.OfType) // a single value stands for a list of one
		}
		items := make([]string, rv.Len())
		for i := range items {
			s, err := literal(rv.Index(i).Interface(), t.OfType)
			if err != nil {
				return "", err
			}
			items[i] = s
		}
		return "[" + strings.Join(items, ", ") + "]", nil
	case *gql.Enum:
		for _, v := range t.Values() {
			if reflect.DeepEqual(v.Value, value) {
				return v.Name, nil
			}
		}
		return "", fmt.Errorf("default %v is not a value of enum %s", value, t.Name())
	case *gql.InputObject:
		m, ok := value.(map[string]any)
		if !ok {
			return "", fmt.Errorf("default %v of input %s is not a map", value, t.Name())
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fields := t.Fields()
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			f := fields[k]
			if f == nil {
				return "", fmt.Errorf("default of input %s has no field %s", t.Name(), k)
			}
			s, err := literal(m[k], f.Type)
			if err != nil {
				return "", err
			}
			parts = append(parts, k+": "+s)
		}
		return "{" + strings.Join(parts, ", ") + "}", nil
	case *gql.Scalar:
		return scalarLiteral(t.Serialize(value))
	}
	return "", fmt.Errorf("default %v of type %v cannot be printed", value, typ)
}

// scalarLiteral prints a serialized scalar as a GraphQL literal.
func scalarLiteral(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int32:
		return strconv.FormatInt(int64(v), 10), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float32:
		return scalarLiteral(float64(v))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("default %v is not a GraphQL number", v)
		}
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	case string:
		// A JSON string is a GraphQL string: the same escapes.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "", err
		}
		return strings.TrimSuffix(buf.String(), "\n"), nil
	}
	return "", fmt.Errorf("default %v (%T) cannot be printed as a literal", v, v)
}

// rewriteIntrospection replaces, in a freshly parsed document, every newer
// introspection field by its marked stand-in and drops includeDeprecated
// where graphql-go does not take it. It changes doc in place.
func (in *introspection) rewriteIntrospection(doc *ast.Document) {
	in.walkDoc(doc, func(parent string, f *ast.Field) {
		if parent == "__Field" || parent == "__Directive" || parent == "__Type" {
			if f.Name.Value == "args" || f.Name.Value == "inputFields" {
				kept := f.Arguments[:0]
				for _, a := range f.Arguments {
					if a.Name == nil || a.Name.Value != "includeDeprecated" {
						kept = append(kept, a)
					}
				}
				f.Arguments = kept
			}
		}
		s, ok := syntheticFields[parent][f.Name.Value]
		if !ok {
			return
		}
		if obj, isObj := in.schema.Type(parent).(*gql.Object); isObj {
			if _, has := obj.Fields()[f.Name.Value]; has {
				return // the library has it after all
			}
		}
		if f.Alias == nil {
			f.Alias = &ast.Name{Kind: "Name", Value: f.Name.Value}
		}
		f.Name = &ast.Name{Kind: "Name", Value: s.stand}
		f.Arguments, f.SelectionSet = nil, nil
		f.Loc = &ast.Location{Source: markerOf(s.kind)}
	})
}

// walkDoc calls fn with every field of doc under an introspection type,
// with the name of the type it is selected on.
func (in *introspection) walkDoc(doc *ast.Document, fn func(parent string, f *ast.Field)) {
	var walk func(ss *ast.SelectionSet, parent string)
	walk = func(ss *ast.SelectionSet, parent string) {
		if ss == nil {
			return
		}
		for _, sel := range ss.Selections {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Name == nil {
					continue
				}
				if strings.HasPrefix(parent, "__") {
					fn(parent, s)
				}
				walk(s.SelectionSet, in.fieldType(parent, s.Name.Value))
			case *ast.InlineFragment:
				t := parent
				if s.TypeCondition != nil && s.TypeCondition.Name != nil {
					t = s.TypeCondition.Name.Value
				}
				walk(s.SelectionSet, t)
			}
		}
	}
	for _, d := range doc.Definitions {
		switch d := d.(type) {
		case *ast.OperationDefinition:
			root := in.schema.QueryType().Name()
			if d.Operation == ast.OperationTypeMutation && in.schema.MutationType() != nil {
				root = in.schema.MutationType().Name()
			}
			walk(d.SelectionSet, root)
		case *ast.FragmentDefinition:
			if d.TypeCondition != nil && d.TypeCondition.Name != nil {
				walk(d.SelectionSet, d.TypeCondition.Name.Value)
			}
		}
	}
}

// fieldType is the named type of parent.field ("" when unknown).
func (in *introspection) fieldType(parent, field string) string {
	switch field {
	case "__schema":
		return "__Schema"
	case "__type":
		return "__Type"
	}
	obj, ok := in.schema.Type(parent).(*gql.Object)
	if !ok {
		return ""
	}
	def := obj.Fields()[field]
	if def == nil {
		return ""
	}
	t := def.Type
	for {
		switch w := t.(type) {
		case *gql.NonNull:
			t = w.OfType
			continue
		case *gql.List:
			t = w.OfType
			continue
		}
		break
	}
	if t == nil {
		return ""
	}
	return t.Name()
}

// correct fixes an executed answer: the stand-ins get their values and
// wrongly printed defaults their literals. It walks only the parts of
// data under __schema and __type.
func (in *introspection) correct(doc *ast.Document, op *ast.OperationDefinition, data any) {
	root, ok := data.(map[string]any)
	if !ok || op == nil {
		return
	}
	frags := fragments(doc)
	rootType := in.schema.QueryType().Name()
	if op.Operation == ast.OperationTypeMutation && in.schema.MutationType() != nil {
		rootType = in.schema.MutationType().Name()
	}
	var object func(ss *ast.SelectionSet, typ string, obj map[string]any, depth int)
	var value func(ss *ast.SelectionSet, typ string, v any, depth int)
	value = func(ss *ast.SelectionSet, typ string, v any, depth int) {
		switch v := v.(type) {
		case map[string]any:
			object(ss, typ, v, depth)
		case []any:
			for _, x := range v {
				value(ss, typ, x, depth)
			}
		}
	}
	object = func(ss *ast.SelectionSet, typ string, obj map[string]any, depth int) {
		if ss == nil || depth > 64 {
			return
		}
		for _, sel := range ss.Selections {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Name == nil {
					continue
				}
				key := s.Name.Value
				if s.Alias != nil && s.Alias.Value != "" {
					key = s.Alias.Value
				}
				v, present := obj[key]
				if !present {
					continue
				}
				if k := syntheticOf(s); k != synthNone {
					obj[key] = syntheticValue(k, v)
					continue
				}
				if typ == "__InputValue" && s.Name.Value == "defaultValue" {
					if str, ok := v.(string); ok {
						if want, ok := in.defaults[str]; ok {
							obj[key] = want
						}
					}
					continue
				}
				child := in.fieldType(typ, s.Name.Value)
				if typ == rootType && !strings.HasPrefix(s.Name.Value, "__") {
					continue // not introspection
				}
				if strings.HasPrefix(child, "__") {
					value(s.SelectionSet, child, v, depth+1)
				}
			case *ast.InlineFragment:
				object(s.SelectionSet, typ, obj, depth+1)
			case *ast.FragmentSpread:
				if s.Name != nil {
					if f := frags[s.Name.Value]; f != nil {
						object(f.SelectionSet, typ, obj, depth+1)
					}
				}
			}
		}
	}
	object(op.SelectionSet, rootType, root, 0)
}

// syntheticValue is the answer to a newer introspection field, given the
// value of its stand-in.
func syntheticValue(k synthetic, stand any) any {
	switch k {
	case synthIsOneOf:
		if stand == "INPUT_OBJECT" {
			return false
		}
		return nil
	case synthIsRepeatable, synthIsDeprecated:
		return false
	}
	// specifiedByURL (no scalar of kefu's names a specification),
	// deprecationReason, __Schema.description.
	return nil
}
