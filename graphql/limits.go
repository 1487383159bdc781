package graphql

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
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

// costCap is where depth, size and complexity arithmetic saturates: no
// document can wrap an estimate around to a small or negative number.
const costCap = math.MaxInt >> 1

// satAdd and satMul are + and × on non-negative numbers, saturating at costCap.
func satAdd(a, b int) int {
	if a > costCap-b {
		return costCap
	}
	return a + b
}

func satMul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > costCap/b {
		return costCap
	}
	return a * b
}

// ---- the shape of a parsed document (before validation) ----

// shape is what one selection set amounts to once fragments are inlined:
// its selections (fields, spreads, inline fragments) and its field depth.
type shape struct{ size, depth int }

// shapes computes shape with one memo entry per fragment, so a document
// costs time linear in its length however its fragments fan out (a
// diamond `fragment Fi on Query { ...Fi+1 ...Fi+1 }` expands to 2^n
// selections, and is measured in n steps). The fragment graph must be
// acyclic (fragmentCycle).
type shapes struct {
	frags map[string]*ast.FragmentDefinition
	memo  map[string]shape
}

func (s *shapes) set(ss *ast.SelectionSet) shape {
	var out shape
	if ss == nil {
		return out
	}
	for _, sel := range ss.Selections {
		var in shape
		switch sel := sel.(type) {
		case *ast.Field:
			in = s.set(sel.SelectionSet)
			in.depth++
		case *ast.InlineFragment:
			in = s.set(sel.SelectionSet)
		case *ast.FragmentSpread:
			in = s.fragment(sel.Name)
		}
		out.size = satAdd(out.size, satAdd(1, in.size))
		out.depth = max(out.depth, in.depth)
	}
	return out
}

func (s *shapes) fragment(name *ast.Name) shape {
	if name == nil {
		return shape{}
	}
	if sh, ok := s.memo[name.Value]; ok {
		return sh
	}
	f, ok := s.frags[name.Value]
	if !ok {
		return shape{} // unknown: validation reports it
	}
	sh := s.set(f.SelectionSet)
	s.memo[name.Value] = sh
	return sh
}

// spreadNames lists the fragments ss spreads directly (not through other
// fragments).
func spreadNames(ss *ast.SelectionSet, out []string) []string {
	if ss == nil {
		return out
	}
	for _, sel := range ss.Selections {
		switch sel := sel.(type) {
		case *ast.Field:
			out = spreadNames(sel.SelectionSet, out)
		case *ast.InlineFragment:
			out = spreadNames(sel.SelectionSet, out)
		case *ast.FragmentSpread:
			if sel.Name != nil {
				out = append(out, sel.Name.Value)
			}
		}
	}
	return out
}

// fragmentCycle returns a cycle of fragment spreads (["A", "B", "A"]) or
// nil. It looks at every fragment, used or not: graphql-go's
// OverlappingFieldsCanBeMerged follows the spreads of each fragment it
// visits without remembering where it has been, and recurses until the
// stack overflows on a cycle (a fatal error that takes the process down).
func fragmentCycle(order []string, frags map[string]*ast.FragmentDefinition) []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := make(map[string]int, len(frags))
	var path []string
	var visit func(name string) []string
	visit = func(name string) []string {
		f, ok := frags[name]
		if !ok {
			return nil
		}
		switch state[name] {
		case onPath:
			for i, n := range path {
				if n == name {
					return append(append([]string{}, path[i:]...), name)
				}
			}
		case done:
			return nil
		}
		state[name] = onPath
		path = append(path, name)
		for _, next := range spreadNames(f.SelectionSet, nil) {
			if c := visit(next); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		state[name] = done
		return nil
	}
	for _, name := range order {
		if c := visit(name); c != nil {
			return c
		}
	}
	return nil
}

// wellFormed reports whether a variable's type names a type at its core.
// graphql-go's parser accepts `($n: = 3)` or `($n: ])` with a nil type,
// on which its validation then dereferences nil.
func wellFormed(t ast.Type) bool {
	for depth := 0; depth < 64; depth++ {
		switch v := t.(type) {
		case *ast.Named:
			return v != nil && v.Name != nil && v.Name.Value != ""
		case *ast.List:
			if v == nil {
				return false
			}
			t = v.Type
		case *ast.NonNull:
			if v == nil {
				return false
			}
			t = v.Type
		default:
			return false
		}
	}
	return false
}

// checkShape enforces the limits that need the parsed document: no
// fragment cycles, fragment names unique, MaxSelections over the whole
// document with fragments inlined, maxDepth, MaxRootFields and MaxRepeats.
// It runs before validation, and in time linear in the document.
func checkShape(doc *ast.Document, l Limits, maxDepth int) *Error {
	frags := map[string]*ast.FragmentDefinition{}
	var ops []*ast.OperationDefinition
	var order []string
	for _, d := range doc.Definitions {
		switch d := d.(type) {
		case *ast.OperationDefinition:
			ops = append(ops, d)
			for _, vd := range d.VariableDefinitions {
				if vd == nil || vd.Variable == nil || vd.Variable.Name == nil || !wellFormed(vd.Type) {
					name := "?"
					if vd != nil && vd.Variable != nil && vd.Variable.Name != nil {
						name = vd.Variable.Name.Value
					}
					return &Error{Code: CodeBadUserInput, Message: fmt.Sprintf("variable $%s needs a type, e.g. ($%s: ID!)", name, name)}
				}
			}
		case *ast.FragmentDefinition:
			if d.Name == nil {
				continue
			}
			if _, dup := frags[d.Name.Value]; dup {
				return &Error{Code: CodeBadUserInput, Message: fmt.Sprintf("there can be only one fragment named %q", d.Name.Value)}
			}
			frags[d.Name.Value] = d
			order = append(order, d.Name.Value)
		}
	}
	if len(order) > l.MaxFragments {
		return limitError("maxFragments", l.MaxFragments, "", -1, "the query defines %d fragments; the limit is %d", len(order), l.MaxFragments)
	}
	if c := fragmentCycle(order, frags); c != nil {
		return &Error{Code: CodeBadUserInput,
			Message: fmt.Sprintf("fragments spread each other in a cycle (%s): a fragment must not include itself", strings.Join(c, " → ")),
			Details: map[string]any{"fragments": c}}
	}

	sh := &shapes{frags: frags, memo: map[string]shape{}}
	total, depth := 0, 0
	for _, op := range ops {
		s := sh.set(op.SelectionSet)
		total = satAdd(total, s.size)
		depth = max(depth, s.depth)
	}
	for _, name := range order {
		total = satAdd(total, sh.fragment(frags[name].Name).size)
	}
	if total > l.MaxSelections {
		return limitError("maxSelections", l.MaxSelections, "", -1,
			"the query amounts to %d selections once its fragments are inlined where they are spread; the limit is %d", total, l.MaxSelections)
	}
	if depth > maxDepth {
		return &Error{Code: CodeBadUserInput,
			Message: fmt.Sprintf("query depth %d exceeds the maximum %d", depth, maxDepth),
			Details: map[string]any{"depth": depth, "maxDepth": maxDepth, "limit": "maxDepth", "max": maxDepth}}
	}

	// The expanded document is now known to be small: walk it.
	w := &repeatWalker{frags: frags, l: l}
	for _, op := range ops {
		w.reset()
		if err := w.walk(op.SelectionSet, 0); err != nil {
			return err
		}
		if w.rootFields > l.MaxRootFields {
			return limitError("maxRootFields", l.MaxRootFields, "", -1,
				"the operation selects %d root fields (aliases and fragments included); the limit is %d", w.rootFields, l.MaxRootFields)
		}
	}
	for _, name := range order {
		w.reset()
		if err := w.walk(frags[name].SelectionSet, 0); err != nil {
			return err
		}
	}
	return nil
}

// repeatWalker counts the fields selected under each response path (the
// chain of response names from the root) of one operation or fragment,
// fragments inlined. Path 0 is the root. Like graphql-go's executor and
// its OverlappingFieldsCanBeMerged, it inlines a fragment once per path:
// spreading it again there adds nothing to run or to compare.
type repeatWalker struct {
	frags      map[string]*ast.FragmentDefinition
	l          Limits
	ids        map[pathKey]int
	inlined    map[pathKey]bool // (path, fragment name) already inlined
	parent     []int            // parent path of each path
	name       []string         // last response name of each path
	count      []int            // fields selected under each path
	rootFields int
}

type pathKey struct {
	parent int
	name   string
}

func (w *repeatWalker) reset() {
	w.ids = map[pathKey]int{}
	w.inlined = map[pathKey]bool{}
	w.parent, w.name, w.count = []int{-1}, []string{""}, []int{0}
	w.rootFields = 0
}

func (w *repeatWalker) walk(ss *ast.SelectionSet, at int) *Error {
	if ss == nil {
		return nil
	}
	for _, sel := range ss.Selections {
		switch sel := sel.(type) {
		case *ast.Field:
			if at == 0 {
				w.rootFields++
			}
			name := ""
			if sel.Name != nil {
				name = sel.Name.Value
			}
			if sel.Alias != nil {
				name = sel.Alias.Value
			}
			k := pathKey{at, name}
			id, ok := w.ids[k]
			if !ok {
				id = len(w.count)
				w.ids[k] = id
				w.parent, w.name, w.count = append(w.parent, at), append(w.name, name), append(w.count, 0)
			}
			w.count[id]++
			if w.count[id] > w.l.MaxRepeats {
				return limitError("maxRepeats", w.l.MaxRepeats, "", -1,
					"%q is selected more than %d times at the same place (%s): select it once, or give each its own alias",
					name, w.l.MaxRepeats, w.path(id))
			}
			if err := w.walk(sel.SelectionSet, id); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := w.walk(sel.SelectionSet, at); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if sel.Name == nil || w.inlined[pathKey{at, sel.Name.Value}] {
				continue
			}
			w.inlined[pathKey{at, sel.Name.Value}] = true
			if f, ok := w.frags[sel.Name.Value]; ok {
				if err := w.walk(f.SelectionSet, at); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// path spells path id as response names joined by dots.
func (w *repeatWalker) path(id int) string {
	var parts []string
	for ; id > 0; id = w.parent[id] {
		parts = append(parts, w.name[id])
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, ".")
}

// ---- complexity (after validation) ----

// complexity estimates the work of executing op: every field costs 1, and
// the cost of a field's selection is multiplied by its page size (`first`,
// or its default) or, for other list fields, by listCost. Introspection
// (__schema, __type) is priced by what it returns from this schema.
// Results are memoised per (selection set, type), so fragments cost their
// size once however often they are spread, and all arithmetic saturates.
// The document must have passed checkShape and validation.
type complexity struct {
	schema *gql.Schema
	frags  map[string]*ast.FragmentDefinition
	vars   map[string]any
	varDef map[string]ast.Value
	limit  int
	memo   map[costKey]int
	intro  *introspectionCost
}

type costKey struct {
	ss  *ast.SelectionSet
	typ string
}

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

func operationComplexity(schema *gql.Schema, doc *ast.Document, op *ast.OperationDefinition, vars map[string]any, limit int) int {
	c := &complexity{schema: schema, frags: fragments(doc), vars: vars, varDef: map[string]ast.Value{}, limit: limit, memo: map[costKey]int{}}
	c.intro = &introspectionCost{c: c, memo: map[costKey]int{}}
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
	return c.selection(op.SelectionSet, root)
}

// selection is the cost of ss on parent. Every multiplier is at least 1,
// so a partial sum over the limit proves the whole is: it stops there.
func (c *complexity) selection(ss *ast.SelectionSet, parent *gql.Object) int {
	if ss == nil || parent == nil {
		return 0
	}
	key := costKey{ss, parent.Name()}
	if v, ok := c.memo[key]; ok {
		return v
	}
	total := 0
	for _, s := range ss.Selections {
		switch s := s.(type) {
		case *ast.Field:
			total = satAdd(total, c.field(s, parent))
		case *ast.InlineFragment:
			total = satAdd(total, c.selection(s.SelectionSet, c.condition(s.TypeCondition, parent)))
		case *ast.FragmentSpread:
			if f, ok := c.frags[s.Name.Value]; ok {
				total = satAdd(total, c.selection(f.SelectionSet, c.condition(f.TypeCondition, parent)))
			}
		}
		if total > c.limit {
			break
		}
	}
	c.memo[key] = total
	return total
}

func (c *complexity) condition(tc *ast.Named, parent *gql.Object) *gql.Object {
	if tc != nil && tc.Name != nil {
		if o, ok := c.schema.Type(tc.Name.Value).(*gql.Object); ok {
			return o
		}
	}
	return parent
}

func (c *complexity) field(f *ast.Field, parent *gql.Object) int {
	name := f.Name.Value
	switch name {
	case "__typename":
		return 1
	case "__schema":
		return satAdd(1, c.intro.schemaSel(f.SelectionSet))
	case "__type":
		return satAdd(1, c.intro.typeField(f))
	}
	def, ok := parent.Fields()[name]
	if !ok || f.SelectionSet == nil {
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
	return satAdd(1, satMul(mult, c.selection(f.SelectionSet, child)))
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
			return intLiteral(v.Value)
		case *ast.Variable:
			name := v.Name.Value
			if raw, ok := c.vars[name]; ok && raw != nil {
				return number(raw)
			}
			if d, ok := c.varDef[name].(*ast.IntValue); ok {
				return intLiteral(d.Value)
			}
		}
	}
	if n, ok := argDef.DefaultValue.(int); ok {
		return n, true
	}
	return 0, false
}

// intLiteral reads an Int literal; one too large for an int counts as costCap.
func intLiteral(s string) (int, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	var ne *strconv.NumError
	if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
		if strings.HasPrefix(s, "-") {
			return 0, true
		}
		return costCap, true
	}
	if err != nil {
		return 0, false
	}
	return clampInt(float64(n)), true
}

func number(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		return clampInt(n), true
	case int:
		return n, true
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return clampInt(float64(i)), true
		}
		f, err := n.Float64()
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, false
		}
		return clampInt(f), true
	}
	return 0, false
}

// clampInt converts f to an int in [0, costCap]; NaN is 0.
func clampInt(f float64) int {
	switch {
	case f != f || f <= 0:
		return 0
	case f >= float64(costCap):
		return costCap
	}
	return int(f)
}

// ---- introspection ----

// introspectionCost prices __schema and __type selections by what they
// return from this schema: a list field costs 1 plus its selection for each
// element it lists (every type, every field of a type, every argument …),
// as the introspection resolvers would produce them. Type-level results are
// memoised per (selection set, type).
type introspectionCost struct {
	c     *complexity
	memo  map[costKey]int
	types []gql.Type // the schema's types, sorted by name
}

func (ic *introspectionCost) sortedTypes() []gql.Type {
	if ic.types == nil {
		tm := ic.c.schema.TypeMap()
		names := make([]string, 0, len(tm))
		for n := range tm {
			names = append(names, n)
		}
		sort.Strings(names)
		ic.types = make([]gql.Type, len(names))
		for i, n := range names {
			ic.types[i] = tm[n]
		}
	}
	return ic.types
}

// each calls fn for every field selected by ss, through inline fragments
// and spreads, and stops when the running total passes the limit.
func (ic *introspectionCost) each(ss *ast.SelectionSet, fn func(f *ast.Field) int) int {
	if ss == nil {
		return 0
	}
	total := 0
	for _, s := range ss.Selections {
		switch s := s.(type) {
		case *ast.Field:
			total = satAdd(total, fn(s))
		case *ast.InlineFragment:
			total = satAdd(total, ic.each(s.SelectionSet, fn))
		case *ast.FragmentSpread:
			if f, ok := ic.c.frags[s.Name.Value]; ok {
				total = satAdd(total, ic.each(f.SelectionSet, fn))
			}
		}
		if total > ic.c.limit {
			break
		}
	}
	return total
}

// list is the cost of a list field: 1, plus sub on each of n elements.
func (ic *introspectionCost) list(n int, sub func(i int) int) int {
	total := 1
	for i := 0; i < n && total <= ic.c.limit; i++ {
		total = satAdd(total, sub(i))
	}
	return total
}

func (ic *introspectionCost) schemaSel(ss *ast.SelectionSet) int {
	s := ic.c.schema
	return ic.each(ss, func(f *ast.Field) int {
		switch f.Name.Value {
		case "types":
			ts := ic.sortedTypes()
			return ic.list(len(ts), func(i int) int { return ic.typeSel(f.SelectionSet, ts[i]) })
		case "queryType":
			return ic.one(f.SelectionSet, s.QueryType())
		case "mutationType":
			return ic.one(f.SelectionSet, s.MutationType())
		case "subscriptionType":
			return ic.one(f.SelectionSet, s.SubscriptionType())
		case "directives":
			ds := s.Directives()
			return ic.list(len(ds), func(i int) int { return ic.directiveSel(f.SelectionSet, ds[i]) })
		}
		return 1
	})
}

// one is the cost of a field that returns one type (or null).
func (ic *introspectionCost) one(ss *ast.SelectionSet, t gql.Type) int {
	if isNil(t) {
		return 1
	}
	return satAdd(1, ic.typeSel(ss, t))
}

// typeField prices __type(name: …): the named type, or the costliest type
// when the name is not known before execution.
func (ic *introspectionCost) typeField(f *ast.Field) int {
	name, known := "", false
	for _, a := range f.Arguments {
		if a.Name == nil || a.Name.Value != "name" {
			continue
		}
		switch v := a.Value.(type) {
		case *ast.StringValue:
			name, known = v.Value, true
		case *ast.Variable:
			name, known = ic.c.vars[v.Name.Value].(string)
		}
	}
	if known {
		t := ic.c.schema.Type(name)
		if isNil(t) {
			return 0
		}
		return ic.typeSel(f.SelectionSet, t)
	}
	worst := 0
	for _, t := range ic.sortedTypes() {
		worst = max(worst, ic.typeSel(f.SelectionSet, t))
		if worst > ic.c.limit {
			break
		}
	}
	return worst
}

func isNil(t gql.Type) bool {
	if t == nil {
		return true
	}
	switch t := t.(type) {
	case *gql.Object:
		return t == nil
	}
	return false
}

// typeSel is the cost of a selection on __Type t.
func (ic *introspectionCost) typeSel(ss *ast.SelectionSet, t gql.Type) int {
	if ss == nil {
		return 0
	}
	key := costKey{ss, t.String()}
	if v, ok := ic.memo[key]; ok {
		return v
	}
	v := ic.each(ss, func(f *ast.Field) int {
		sub := f.SelectionSet
		switch f.Name.Value {
		case "fields":
			var defs gql.FieldDefinitionMap
			switch t := t.(type) {
			case *gql.Object:
				defs = t.Fields()
			case *gql.Interface:
				defs = t.Fields()
			}
			total := 1
			for _, d := range defs {
				total = satAdd(total, ic.fieldSel(sub, d))
				if total > ic.c.limit {
					break
				}
			}
			return total
		case "interfaces":
			if o, ok := t.(*gql.Object); ok {
				is := o.Interfaces()
				return ic.list(len(is), func(i int) int { return ic.typeSel(sub, is[i]) })
			}
		case "possibleTypes":
			if a, ok := t.(gql.Abstract); ok {
				ps := ic.c.schema.PossibleTypes(a)
				return ic.list(len(ps), func(i int) int { return ic.typeSel(sub, ps[i]) })
			}
		case "enumValues":
			if e, ok := t.(*gql.Enum); ok {
				return ic.list(len(e.Values()), func(int) int { return ic.each(sub, func(*ast.Field) int { return 1 }) })
			}
		case "inputFields":
			if in, ok := t.(*gql.InputObject); ok {
				total := 1
				for _, fd := range in.Fields() {
					total = satAdd(total, ic.inputValueSel(sub, fd.Type))
					if total > ic.c.limit {
						break
					}
				}
				return total
			}
		case "ofType":
			switch w := t.(type) {
			case *gql.List:
				return ic.one(sub, w.OfType)
			case *gql.NonNull:
				return ic.one(sub, w.OfType)
			}
		}
		return 1
	})
	ic.memo[key] = v
	return v
}

// fieldSel is the cost of a selection on __Field d.
func (ic *introspectionCost) fieldSel(ss *ast.SelectionSet, d *gql.FieldDefinition) int {
	return ic.each(ss, func(f *ast.Field) int {
		switch f.Name.Value {
		case "args":
			return ic.list(len(d.Args), func(i int) int { return ic.inputValueSel(f.SelectionSet, d.Args[i].Type) })
		case "type":
			return ic.one(f.SelectionSet, d.Type)
		}
		return 1
	})
}

// inputValueSel is the cost of a selection on an __InputValue of type t.
func (ic *introspectionCost) inputValueSel(ss *ast.SelectionSet, t gql.Type) int {
	return ic.each(ss, func(f *ast.Field) int {
		if f.Name.Value == "type" {
			return ic.one(f.SelectionSet, t)
		}
		return 1
	})
}

// directiveSel is the cost of a selection on __Directive d.
func (ic *introspectionCost) directiveSel(ss *ast.SelectionSet, d *gql.Directive) int {
	return ic.each(ss, func(f *ast.Field) int {
		switch f.Name.Value {
		case "args":
			return ic.list(len(d.Args), func(i int) int { return ic.inputValueSel(f.SelectionSet, d.Args[i].Type) })
		case "locations":
			return 1 + len(d.Locations)
		}
		return 1
	})
}
