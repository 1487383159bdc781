package graphql

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/location"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"
	"github.com/graphql-go/graphql/language/visitor"
)

// Limits bound the work one GraphQL document can make the server do. They
// are enforced before graphql-go's parser and validator see the document,
// whose running time is otherwise unbounded in small inputs (deeply nested
// literals, fragment diamonds, hundreds of fields under one response name):
//
//   - while the text is scanned (scanDocument): MaxBytes, MaxTokens,
//     MaxValueDepth, MaxSelectionDepth, MaxAliases, MaxArguments and
//     MaxFragments;
//   - right after it is parsed (checkShape in limits.go): fragment cycles,
//     MaxSelections, MaxRootFields, MaxRepeats and HandlerConfig.MaxDepth;
//   - after validation: HandlerConfig.MaxComplexity;
//   - while it executes: MaxResponseBytes and HandlerConfig.Timeout.
//
// A document over a limit is refused with HTTP 400 and BAD_USER_INPUT whose
// extensions name the limit ("limit") and its value ("max"). Zero fields take
// the defaults below; negative ones are refused by HandlerConfig.Validate.
type Limits struct {
	// MaxBytes bounds the length of the query text (default 32 KiB).
	MaxBytes int
	// MaxTokens bounds the lexical tokens of the query (default 5,000).
	MaxTokens int
	// MaxValueDepth bounds the nesting of list and object literals in
	// arguments, default values and directives (default 8).
	MaxValueDepth int
	// MaxSelectionDepth bounds the lexical nesting of selection sets,
	// inline fragments included (default 32). Field depth through
	// fragments is HandlerConfig.MaxDepth.
	MaxSelectionDepth int
	// MaxAliases bounds the aliases in the document (default 256).
	MaxAliases int
	// MaxArguments bounds the arguments of one field or directive, the
	// fields of one object literal and the variables of one operation
	// (default 32).
	MaxArguments int
	// MaxFragments bounds the fragment definitions (default 64).
	MaxFragments int
	// MaxSelections bounds the selections (fields, fragment spreads, inline
	// fragments) of the document once every fragment is inlined at each
	// spread, counting each definition once more where it is defined
	// (default 2,000). This is what graphql-go's validation walks.
	MaxSelections int
	// MaxRootFields bounds the fields at the root of an operation once its
	// fragments are inlined, every alias counted (default 128: a client
	// may ask for a hundred customers at once).
	MaxRootFields int
	// MaxRepeats bounds the fields selected under one response path (the
	// same alias or name at the same place), whose pairs graphql-go's
	// OverlappingFieldsCanBeMerged compares (default 8).
	MaxRepeats int
	// MaxResponseBytes bounds the estimated size of an answer; execution
	// stops once it is reached (default 8 MiB).
	MaxResponseBytes int
}

// Default document limits (see Limits).
const (
	DefaultMaxQueryBytes     = 32 << 10
	DefaultMaxTokens         = 5000
	DefaultMaxValueDepth     = 8
	DefaultMaxSelectionDepth = 32
	DefaultMaxAliases        = 256
	DefaultMaxArguments      = 32
	DefaultMaxFragments      = 64
	DefaultMaxSelections     = 2000
	DefaultMaxRootFields     = 128
	DefaultMaxRepeats        = 8
	DefaultMaxResponseBytes  = 8 << 20
)

// withDefaults fills the zero fields of l.
func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.MaxBytes, DefaultMaxQueryBytes)
	def(&l.MaxTokens, DefaultMaxTokens)
	def(&l.MaxValueDepth, DefaultMaxValueDepth)
	def(&l.MaxSelectionDepth, DefaultMaxSelectionDepth)
	def(&l.MaxAliases, DefaultMaxAliases)
	def(&l.MaxArguments, DefaultMaxArguments)
	def(&l.MaxFragments, DefaultMaxFragments)
	def(&l.MaxSelections, DefaultMaxSelections)
	def(&l.MaxRootFields, DefaultMaxRootFields)
	def(&l.MaxRepeats, DefaultMaxRepeats)
	def(&l.MaxResponseBytes, DefaultMaxResponseBytes)
	return l
}

// validate reports negative limits.
func (l Limits) validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{
		{"MaxBytes", l.MaxBytes}, {"MaxTokens", l.MaxTokens}, {"MaxValueDepth", l.MaxValueDepth},
		{"MaxSelectionDepth", l.MaxSelectionDepth}, {"MaxAliases", l.MaxAliases}, {"MaxArguments", l.MaxArguments},
		{"MaxFragments", l.MaxFragments}, {"MaxSelections", l.MaxSelections}, {"MaxRootFields", l.MaxRootFields},
		{"MaxRepeats", l.MaxRepeats}, {"MaxResponseBytes", l.MaxResponseBytes},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("graphql: Limits.%s is negative", f.name))
		}
	}
	return errors.Join(errs...)
}

// limitError is the refusal of a document over limit (named as in
// extensions.limit: "maxTokens" …) whose value is max. at, if not
// negative, is the byte offset in src where the limit was crossed.
func limitError(limit string, max int, src string, at int, format string, args ...any) *Error {
	e := &Error{Code: CodeBadUserInput, Message: fmt.Sprintf(format, args...),
		Details: map[string]any{"limit": limit, "max": max}}
	if at >= 0 {
		e.locations = []location.SourceLocation{sourceLocation(src, at)}
	}
	return e
}

// sourceLocation turns a byte offset into a 1-based line and column (in
// runes), as graphql-go reports them.
func sourceLocation(src string, at int) location.SourceLocation {
	line, start := 1, 0
	for i := 0; i < at && i < len(src); i++ {
		switch src[i] {
		case '\n':
			line, start = line+1, i+1
		case '\r':
			if i+1 < len(src) && src[i+1] == '\n' {
				continue
			}
			line, start = line+1, i+1
		}
	}
	return location.SourceLocation{Line: line, Column: utf8.RuneCountInString(src[start:min(at, len(src))]) + 1}
}

// scanFrame is one open bracket of the document being scanned.
type scanFrame struct {
	open byte // '(', '[' or '{'
	// value: the bracket opens a list or object literal (any bracket
	// inside parentheses does).
	value bool
	// depth is the value nesting of a value bracket, the selection nesting
	// of a selection set.
	depth int
	// names counts `name:` pairs directly inside the bracket: arguments,
	// variables or object fields.
	names int
}

// scanned is a query as scanDocument leaves it for the parser.
type scanned struct {
	// plain spells the query's tokens again for graphql-go's parser to
	// judge the syntax of cheaply: strings as "", names over 64 bytes as x,
	// numbers over 32 bytes as 0 or 0.0, no comments, lines of about 100
	// bytes. graphql-go's syntax error draws the offending line with a
	// loop that costs the error's column times the line's length (600 MB
	// for an error at the end of a 32 KB one-line query); on plain that
	// line is short. The token sequence, and so the verdict, is the same.
	plain []byte
	// plainAt and srcAt are where each token starts in plain and in the
	// query.
	plainAt, srcAt []int
}

// plainLine is the length after which scanDocument starts a new line of
// plain.
const plainLine = 100

// scanDocument checks the lexical limits of a query in one pass over its
// bytes, before anything builds a tree of it. It reads GraphQL's lexical
// grammar as graphql-go's lexer does (names, numbers, strings, block
// strings, comments, punctuators) and refuses what that lexer refuses, and
// it follows just enough of the structure to tell values from selections:
// a bracket inside parentheses belongs to a value, a brace outside them
// opens a selection set.
func scanDocument(src string, l Limits) (*scanned, *Error) {
	if len(src) > l.MaxBytes {
		return nil, limitError("maxBytes", l.MaxBytes, src, -1,
			"the query is %d bytes long; the limit is %d (send large values as variables)", len(src), l.MaxBytes)
	}
	sc := &scanned{plain: make([]byte, 0, min(len(src), 1<<16)+8)}
	lineStart := 0
	emit := func(at int, tok string) {
		if len(sc.plain) > 0 {
			if len(sc.plain)-lineStart >= plainLine {
				sc.plain = append(sc.plain, '\n')
				lineStart = len(sc.plain)
			} else {
				sc.plain = append(sc.plain, ' ')
			}
		}
		sc.plainAt = append(sc.plainAt, len(sc.plain))
		sc.srcAt = append(sc.srcAt, at)
		sc.plain = append(sc.plain, tok...)
	}
	var (
		stack     []scanFrame
		parens    int  // open '(' frames
		selDepth  int  // open selection sets
		tokens    int  // tokens so far
		aliases   int  // `name:` pairs outside parentheses
		fragments int  // `fragment` keywords at the top level
		prevName  bool // the previous token was a name
	)
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			i++
			continue
		case c == 0xEF && strings.HasPrefix(src[i:], "\uFEFF"): // BOM, whitespace anywhere
			i += 3
			continue
		case c == '#':
			for i < len(src) && src[i] != '\n' && src[i] != '\r' && (src[i] >= 0x20 || src[i] == '\t') {
				i++
			}
			continue
		}
		start := i
		tokens++
		if tokens > l.MaxTokens {
			return nil, limitError("maxTokens", l.MaxTokens, src, start,
				"the query has more than %d tokens (send large values as variables, or split the request)", l.MaxTokens)
		}
		isName := false
		switch {
		case c < 0x20:
			return nil, syntaxError(src, i, "Invalid character "+printChar(src, i)+".")
		case c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
			i++
			for i < len(src) && (src[i] == '_' || isDigit(src[i]) || src[i] >= 'A' && src[i] <= 'Z' || src[i] >= 'a' && src[i] <= 'z') {
				i++
			}
			isName = true
			name := src[start:i]
			if len(stack) == 0 && name == "fragment" {
				fragments++
				if fragments > l.MaxFragments {
					return nil, limitError("maxFragments", l.MaxFragments, src, start,
						"the query defines more than %d fragments", l.MaxFragments)
				}
			}
			if len(name) > 64 {
				name = "x" // no keyword is that long
			}
			emit(start, name)
		case c == '-' || isDigit(c):
			end, float, e := lexNumber(src, i)
			if e != nil {
				return nil, e
			}
			i = end
			switch num := src[start:end]; {
			case len(num) <= 32:
				emit(start, num)
			case float:
				emit(start, "0.0")
			default:
				emit(start, "0")
			}
		case c == '"':
			end, e := lexString(src, i)
			if e != nil {
				return nil, e
			}
			i = end
			emit(start, `""`)
		case c == '.':
			if !strings.HasPrefix(src[i:], "...") {
				return nil, syntaxError(src, i, "Unexpected character "+printChar(src, i)+".")
			}
			i += 3
			emit(start, "...")
		case c == '!' || c == '$' || c == '&' || c == '=' || c == '@' || c == '|':
			i++
			emit(start, src[start:i])
		case c == '(':
			i++
			emit(start, "(")
			stack = append(stack, scanFrame{open: '('})
			parens++
		case c == '[' || c == '{':
			i++
			emit(start, src[start:i])
			f := scanFrame{open: c}
			var top *scanFrame
			if len(stack) > 0 {
				top = &stack[len(stack)-1]
			}
			if parens > 0 || c == '[' {
				f.value = true
				f.depth = 1
				if top != nil && top.value {
					f.depth = top.depth + 1
				}
				if f.depth > l.MaxValueDepth {
					return nil, limitError("maxValueDepth", l.MaxValueDepth, src, start,
						"list and object values nest more than %d deep", l.MaxValueDepth)
				}
			} else {
				selDepth++
				f.depth = selDepth
				if selDepth > l.MaxSelectionDepth {
					return nil, limitError("maxSelectionDepth", l.MaxSelectionDepth, src, start,
						"selection sets nest more than %d deep", l.MaxSelectionDepth)
				}
			}
			stack = append(stack, f)
		case c == ')' || c == ']' || c == '}':
			i++
			emit(start, src[start:i])
			if len(stack) > 0 {
				f := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				switch {
				case f.open == '(':
					parens--
				case !f.value:
					selDepth--
				}
			}
		case c == ':':
			i++
			emit(start, ":")
			if !prevName {
				break
			}
			if len(stack) > 0 && (stack[len(stack)-1].open == '(' || stack[len(stack)-1].value) {
				top := &stack[len(stack)-1]
				top.names++
				if top.names > l.MaxArguments {
					return nil, limitError("maxArguments", l.MaxArguments, src, start,
						"more than %d arguments, variables or object fields in one list", l.MaxArguments)
				}
			} else if parens == 0 {
				aliases++
				if aliases > l.MaxAliases {
					return nil, limitError("maxAliases", l.MaxAliases, src, start,
						"the query has more than %d aliases", l.MaxAliases)
				}
			}
		default:
			return nil, syntaxError(src, i, "Unexpected character "+printChar(src, i)+".")
		}
		prevName = isName
	}
	return sc, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// lexNumber reads the number at src[i] as graphql-go's lexer does:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, with whatever follows
// it left for the next token. It returns the end and whether it is a Float.
func lexNumber(src string, i int) (int, bool, *Error) {
	digits := func(j int) (int, *Error) {
		if j >= len(src) || !isDigit(src[j]) {
			return j, syntaxError(src, j, "Invalid number, expected digit but got: "+printChar(src, j)+".")
		}
		for j < len(src) && isDigit(src[j]) {
			j++
		}
		return j, nil
	}
	j := i
	if src[j] == '-' {
		j++
	}
	var e *Error
	if j < len(src) && src[j] == '0' {
		j++
		if j < len(src) && isDigit(src[j]) {
			return 0, false, syntaxError(src, j, "Invalid number, unexpected digit after 0: "+printChar(src, j)+".")
		}
	} else if j, e = digits(j); e != nil {
		return 0, false, e
	}
	float := false
	if j < len(src) && src[j] == '.' {
		float = true
		if j, e = digits(j + 1); e != nil {
			return 0, false, e
		}
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		float = true
		j++
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j, e = digits(j); e != nil {
			return 0, false, e
		}
	}
	return j, float, nil
}

// lexString reads the string or block string that starts at src[i] == '"'
// as graphql-go's lexer does, and returns the offset after it.
func lexString(src string, i int) (int, *Error) {
	if strings.HasPrefix(src[i:], `"""`) {
		for j := i + 3; j < len(src); {
			switch c := src[j]; {
			case strings.HasPrefix(src[j:], `"""`):
				return j + 3, nil
			case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
				return 0, syntaxError(src, j, "Invalid character within String: "+printChar(src, j)+".")
			case strings.HasPrefix(src[j:], `\"""`):
				j += 4
			default:
				j++
			}
		}
		return 0, syntaxError(src, len(src), "Unterminated string.")
	}
	for j := i + 1; j < len(src); {
		switch c := src[j]; {
		case c == '"':
			return j + 1, nil
		case c == '\n' || c == '\r':
			return 0, syntaxError(src, j, "Unterminated string.")
		case c < 0x20 && c != '\t':
			return 0, syntaxError(src, j, "Invalid character within String: "+printChar(src, j)+".")
		case c == '\\':
			j++
			if j >= len(src) {
				return 0, syntaxError(src, j, "Invalid character escape sequence.")
			}
			switch src[j] {
			case '"', '/', '\\', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if j+4 >= len(src) || !isHex(src[j+1]) || !isHex(src[j+2]) || !isHex(src[j+3]) || !isHex(src[j+4]) {
					return 0, syntaxError(src, j, `Invalid character escape sequence: \u`+src[j+1:min(j+5, len(src))]+".")
				}
				j += 5
			default:
				return 0, syntaxError(src, j, `Invalid character escape sequence: \`+printChar(src, j)+".")
			}
		default:
			j++
		}
	}
	return 0, syntaxError(src, len(src), "Unterminated string.")
}

// printChar shows the character at src[i] in an error message.
func printChar(src string, i int) string {
	if i >= len(src) {
		return "<EOF>"
	}
	r, _ := utf8.DecodeRuneInString(src[i:])
	if r >= 0x20 && r < 0x7F {
		return fmt.Sprintf("%q", string(r))
	}
	return fmt.Sprintf(`"\u%04X"`, r)
}

// syntaxError is a syntax error at byte offset at of src.
func syntaxError(src string, at int, desc string) *Error {
	loc := sourceLocation(src, at)
	return &Error{Code: CodeBadUserInput, Message: fmt.Sprintf("Syntax Error GraphQL request (%d:%d) %s", loc.Line, loc.Column, desc),
		locations: []location.SourceLocation{loc}}
}

// plainSyntax has graphql-go's parser judge the syntax of sc.plain, and
// reports its error at the same token of the query src.
func plainSyntax(sc *scanned, src string) *Error {
	_, err := parser.Parse(parser.ParseParams{
		Source:  source.NewSource(&source.Source{Body: sc.plain, Name: "GraphQL request"}),
		Options: parser.ParseOptions{NoLocation: true, NoSource: true},
	})
	if err == nil {
		return nil
	}
	var ge *gqlerrors.Error
	if !errors.As(err, &ge) || len(ge.Positions) == 0 {
		return &Error{Code: CodeBadUserInput, Message: err.Error()}
	}
	// "Syntax Error GraphQL request (1:5) Expected Name, found }\n\n…"
	desc := ge.Message
	if _, after, ok := strings.Cut(desc, ") "); ok {
		desc = after
	}
	desc, _, _ = strings.Cut(desc, "\n")
	at := len(src)
	if k := sort.SearchInts(sc.plainAt, ge.Positions[0]); k < len(sc.srcAt) {
		at = sc.srcAt[k]
	}
	return syntaxError(src, at, desc)
}

// maxValidationErrors is where validation stops: graphql-go locates each
// error by scanning the document from its start, so errors cost time in
// proportion to their number times the document's length.
const maxValidationErrors = 50

// validate runs graphql-go's validation rules on doc (parsed from src) and
// returns their errors, at most maxValidationErrors of them (the last
// saying that validation stopped there). Before it runs, detachValueSources
// keeps the rules' printing of argument values linear.
func validate(schema *gql.Schema, doc *ast.Document, src *source.Source) (errs []gqlerrors.FormattedError) {
	defer func() {
		// graphql-go's rules dereference nil on some documents its parser
		// lets through; checkShape refuses those known, this the others.
		if r := recover(); r != nil {
			errs = []gqlerrors.FormattedError{gqlerrors.NewFormattedError(
				"the query could not be validated; check its syntax (variable types, brackets, fragment conditions)")}
		}
	}()
	detachValueSources(doc)
	rules := make([]gql.ValidationRuleFn, len(gql.SpecifiedRules))
	for i, rule := range gql.SpecifiedRules {
		rules[i] = func(ctx *gql.ValidationContext) *gql.ValidationRuleInstance {
			inst := rule(ctx)
			if inst != nil && inst.VisitorOpts != nil {
				stopWhen(inst.VisitorOpts, func() bool { return len(ctx.Errors()) >= maxValidationErrors })
			}
			return inst
		}
	}
	errs = gql.ValidateDocument(schema, doc, rules).Errors
	for i, e := range errs {
		// Errors on a value node were located without a source: locate
		// them again in the document.
		if orig, ok := e.OriginalError().(*gqlerrors.Error); ok && orig.Source == nil && len(orig.Positions) > 0 {
			errs[i].Locations = make([]location.SourceLocation, len(orig.Positions))
			for j, p := range orig.Positions {
				errs[i].Locations[j] = location.GetLocation(src, p)
			}
		}
	}
	if len(errs) >= maxValidationErrors {
		errs = append(errs[:maxValidationErrors], gqlerrors.NewFormattedError(
			fmt.Sprintf("validation stopped after %d errors; fix these and send the query again", maxValidationErrors)))
	}
	return errs
}

// stopWhen makes every function of a rule's visitor break off once stop
// says so.
func stopWhen(opts *visitor.VisitorOptions, stop func() bool) {
	wrap := func(f visitor.VisitFunc) visitor.VisitFunc {
		if f == nil {
			return nil
		}
		return func(p visitor.VisitFuncParams) (string, any) {
			if stop() {
				return visitor.ActionBreak, nil
			}
			return f(p)
		}
	}
	for k, nf := range opts.KindFuncMap {
		opts.KindFuncMap[k] = visitor.NamedVisitFuncs{Kind: wrap(nf.Kind), Enter: wrap(nf.Enter), Leave: wrap(nf.Leave)}
	}
	opts.Enter, opts.Leave = wrap(opts.Enter), wrap(opts.Leave)
	for k, f := range opts.EnterKindMap {
		opts.EnterKindMap[k] = wrap(f)
	}
	for k, f := range opts.LeaveKindMap {
		opts.LeaveKindMap[k] = wrap(f)
	}
}

// detachValueSources clears the source of every node inside an argument
// or default value. graphql-go prints values (in error messages and to
// compare the arguments of overlapping fields) through a visitor that
// copies each node it rebuilds via encoding/json, source text included:
// printing a list nested d deep then costs d times the value's size times
// the document's length — seconds for a few kilobytes. Without the source,
// printing is linear in the value; validate re-locates errors on these
// nodes.
func detachValueSources(doc *ast.Document) {
	var value func(v ast.Value)
	value = func(v ast.Value) {
		if v == nil {
			return
		}
		if loc := v.GetLoc(); loc != nil {
			loc.Source = nil
		}
		switch v := v.(type) {
		case *ast.ListValue:
			for _, e := range v.Values {
				value(e)
			}
		case *ast.ObjectValue:
			for _, f := range v.Fields {
				if f == nil {
					continue
				}
				if f.Loc != nil {
					f.Loc.Source = nil
				}
				if f.Name != nil && f.Name.Loc != nil {
					f.Name.Loc.Source = nil
				}
				value(f.Value)
			}
		case *ast.Variable:
			if v.Name != nil && v.Name.Loc != nil {
				v.Name.Loc.Source = nil
			}
		}
	}
	args := func(as []*ast.Argument) {
		for _, a := range as {
			if a != nil {
				value(a.Value)
			}
		}
	}
	directives := func(ds []*ast.Directive) {
		for _, d := range ds {
			if d != nil {
				args(d.Arguments)
			}
		}
	}
	var set func(ss *ast.SelectionSet)
	set = func(ss *ast.SelectionSet) {
		if ss == nil {
			return
		}
		for _, sel := range ss.Selections {
			switch sel := sel.(type) {
			case *ast.Field:
				args(sel.Arguments)
				directives(sel.Directives)
				set(sel.SelectionSet)
			case *ast.InlineFragment:
				directives(sel.Directives)
				set(sel.SelectionSet)
			case *ast.FragmentSpread:
				directives(sel.Directives)
			}
		}
	}
	for _, d := range doc.Definitions {
		switch d := d.(type) {
		case *ast.OperationDefinition:
			for _, vd := range d.VariableDefinitions {
				if vd != nil {
					value(vd.DefaultValue)
				}
			}
			directives(d.Directives)
			set(d.SelectionSet)
		case *ast.FragmentDefinition:
			directives(d.Directives)
			set(d.SelectionSet)
		}
	}
}
