package graphql

import (
	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
)

// RootField is one root field of a request's operation and how it went,
// for metrics: Name is the schema's field name (aliases resolved), or
// OtherField for a name the schema does not have, so that a label built
// from it takes a bounded set of values.
type RootField struct {
	Name string
	// Code is the extensions.code of the first error at or under this field
	// ("" when it succeeded); for a request refused after its operation was
	// known (complexity, variables, GET mutation), the request's code.
	Code Code
	// Failed is true when the field itself resolved to an error (an error
	// whose path is just this field): for a mutation, the command was
	// refused or failed.
	Failed bool

	key string // response key (alias or name)
}

// OtherField is RootField.Name for a field the schema does not have.
const OtherField = "other"

// rootFields lists op's root fields in selection order, one per response
// key, following fragments (a spread cycle is not followed twice).
func rootFields(schema *gql.Schema, doc *ast.Document, op *ast.OperationDefinition) []RootField {
	root := schema.QueryType()
	if op.Operation == ast.OperationTypeMutation {
		root = schema.MutationType()
	}
	var known gql.FieldDefinitionMap
	if root != nil {
		known = root.Fields()
	}
	frags := fragments(doc)
	seen := map[string]bool{}
	visited := map[string]bool{}
	var out []RootField
	var walk func(ss *ast.SelectionSet)
	walk = func(ss *ast.SelectionSet) {
		if ss == nil {
			return
		}
		for _, s := range ss.Selections {
			switch s := s.(type) {
			case *ast.Field:
				if s.Name == nil {
					continue
				}
				name, key := s.Name.Value, s.Name.Value
				if s.Alias != nil && s.Alias.Value != "" {
					key = s.Alias.Value
				}
				if seen[key] {
					continue
				}
				seen[key] = true
				if _, ok := known[name]; !ok && !isMetaField(name) {
					name = OtherField
				}
				out = append(out, RootField{Name: name, key: key})
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if s.Name == nil || visited[s.Name.Value] {
					continue
				}
				visited[s.Name.Value] = true
				if f, ok := frags[s.Name.Value]; ok {
					walk(f.SelectionSet)
				}
			}
		}
	}
	walk(op.SelectionSet)
	return out
}

func isMetaField(name string) bool {
	return name == "__schema" || name == "__type" || name == "__typename"
}

// fieldErrors attributes executed errors to the root fields by the first
// element of their path.
func (info *RequestInfo) fieldErrors(fes []gqlerrors.FormattedError, coded []*Error) {
	for i, fe := range fes {
		if len(fe.Path) == 0 {
			continue
		}
		key, _ := fe.Path[0].(string)
		for j := range info.RootFields {
			f := &info.RootFields[j]
			if f.key != key {
				continue
			}
			if f.Code == "" {
				f.Code = coded[i].Code
			}
			if len(fe.Path) == 1 {
				f.Failed = true
				f.Code = coded[i].Code
			}
		}
	}
}

// requestFailed gives every root field the code of a request refused after
// its operation was known.
func (info *RequestInfo) requestFailed(code Code) {
	for j := range info.RootFields {
		info.RootFields[j].Code = code
	}
}
