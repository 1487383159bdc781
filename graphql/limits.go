package graphql

import (
	"encoding/json"
	"strconv"
	"strings"

	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
)

// Default protection limits (see HandlerConfig).
const (
	DefaultMaxDepth      = 15
	DefaultMaxComplexity = 25000
	// listCost is the assumed length of a list field without `first`
	// (openComplaints, greetings, stageHistory …).
	listCost = 10
)

// fragments indexes a document's fragment definitions.
func fragments(doc *ast.Document) map[string]*ast.FragmentDefinition {
	m := map[string]*ast.FragmentDefinition{}
	for _, d := range doc.Definitions {
		if f, ok := d.(*ast.FragmentDefinition); ok && f.Name != nil {
			m[f.Name.Value] = f
		}
	}
	return m
}

// queryDepth is the deepest field nesting of any operation in doc,
// following fragment spreads (a spread cycle counts as unbounded depth).
func queryDepth(doc *ast.Document, limit int) int {
	frags := fragments(doc)
	max := 0
	for _, d := range doc.Definitions {
		if op, ok := d.(*ast.OperationDefinition); ok {
			if n := selDepth(op.SelectionSet, frags, map[string]bool{}, limit); n > max {
				max = n
			}
		}
	}
	return max
}

func selDepth(ss *ast.SelectionSet, frags map[string]*ast.FragmentDefinition, inStack map[string]bool, limit int) int {
	if ss == nil {
		return 0
	}
	max := 0
	for _, s := range ss.Selections {
		var n int
		switch s := s.(type) {
		case *ast.Field:
			if s.SelectionSet == nil {
				n = 1
			} else {
				n = 1 + selDepth(s.SelectionSet, frags, inStack, limit)
			}
		case *ast.InlineFragment:
			n = selDepth(s.SelectionSet, frags, inStack, limit)
		case *ast.FragmentSpread:
			name := s.Name.Value
			f, ok := frags[name]
			if !ok {
				continue
			}
			if inStack[name] {
				return limit + 1
			}
			inStack[name] = true
			n = selDepth(f.SelectionSet, frags, inStack, limit)
			delete(inStack, name)
		}
		if n > max {
			max = n
		}
		if max > limit {
			return max
		}
	}
	return max
}

// complexity estimates the work of executing op: every field costs 1, and
// the cost of a field's selection is multiplied by its page size (`first`,
// or its default) or, for other list fields, by listCost. Introspection
// (__schema, __type) costs 1. The document must have passed validation.
type complexity struct {
	schema *gql.Schema
	frags  map[string]*ast.FragmentDefinition
	vars   map[string]any
	varDef map[string]ast.Value
	limit  int
}

func operationComplexity(schema *gql.Schema, doc *ast.Document, op *ast.OperationDefinition, vars map[string]any, limit int) int {
	c := &complexity{schema: schema, frags: fragments(doc), vars: vars, varDef: map[string]ast.Value{}, limit: limit}
	for _, vd := range op.VariableDefinitions {
		if vd.Variable != nil && vd.Variable.Name != nil && vd.DefaultValue != nil {
			c.varDef[vd.Variable.Name.Value] = vd.DefaultValue
		}
	}
	var root *gql.Object
	switch op.Operation {
	case ast.OperationTypeMutation:
		root = schema.MutationType()
	default:
		root = schema.QueryType()
	}
	return c.selection(op.SelectionSet, root, 0)
}

func (c *complexity) selection(ss *ast.SelectionSet, parent *gql.Object, depth int) int {
	if ss == nil || parent == nil || depth > 64 {
		return 0
	}
	total := 0
	for _, s := range ss.Selections {
		switch s := s.(type) {
		case *ast.Field:
			total += c.field(s, parent, depth)
		case *ast.InlineFragment:
			t := parent
			if s.TypeCondition != nil && s.TypeCondition.Name != nil {
				if o, ok := c.schema.Type(s.TypeCondition.Name.Value).(*gql.Object); ok {
					t = o
				}
			}
			total += c.selection(s.SelectionSet, t, depth+1)
		case *ast.FragmentSpread:
			f, ok := c.frags[s.Name.Value]
			if !ok {
				continue
			}
			t := parent
			if f.TypeCondition != nil && f.TypeCondition.Name != nil {
				if o, ok := c.schema.Type(f.TypeCondition.Name.Value).(*gql.Object); ok {
					t = o
				}
			}
			total += c.selection(f.SelectionSet, t, depth+1)
		}
		if total > c.limit {
			return total
		}
	}
	return total
}

func (c *complexity) field(f *ast.Field, parent *gql.Object, depth int) int {
	name := f.Name.Value
	if strings.HasPrefix(name, "__") {
		return 1
	}
	def, ok := parent.Fields()[name]
	if !ok {
		return 1
	}
	if f.SelectionSet == nil {
		return 1
	}
	typ := def.Type
	isList := false
	for {
		switch t := typ.(type) {
		case *gql.NonNull:
			typ = t.OfType
			continue
		case *gql.List:
			isList = true
			typ = t.OfType
			continue
		}
		break
	}
	child, _ := typ.(*gql.Object)
	mult := 1
	if n, ok := c.first(f, def); ok {
		mult = n
	} else if isList && !strings.HasSuffix(parent.Name(), "Connection") {
		mult = listCost
	}
	if mult < 1 {
		mult = 1
	}
	return 1 + mult*c.selection(f.SelectionSet, child, depth+1)
}

// first returns the page size a field will be asked for, if it has `first`.
func (c *complexity) first(f *ast.Field, def *gql.FieldDefinition) (int, bool) {
	var argDef *gql.Argument
	for _, a := range def.Args {
		if a.Name() == "first" {
			argDef = a
		}
	}
	if argDef == nil {
		return 0, false
	}
	for _, a := range f.Arguments {
		if a.Name == nil || a.Name.Value != "first" {
			continue
		}
		switch v := a.Value.(type) {
		case *ast.IntValue:
			n, err := strconv.Atoi(v.Value)
			return n, err == nil
		case *ast.Variable:
			name := v.Name.Value
			if raw, ok := c.vars[name]; ok && raw != nil {
				return number(raw)
			}
			if d, ok := c.varDef[name].(*ast.IntValue); ok {
				n, err := strconv.Atoi(d.Value)
				return n, err == nil
			}
		}
	}
	if n, ok := argDef.DefaultValue.(int); ok {
		return n, true
	}
	return 0, false
}

func number(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		return int(n), true
	case int:
		return n, true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}
