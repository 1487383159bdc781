package graphql

import (
	"strconv"
	"strings"
	"testing"

	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"
)

// unlimited lets scanDocument read any document to its end.
var unlimited = Limits{MaxBytes: 1 << 30, MaxTokens: 1 << 30, MaxValueDepth: 1 << 30, MaxSelectionDepth: 1 << 30,
	MaxAliases: 1 << 30, MaxArguments: 1 << 30, MaxFragments: 1 << 30}

// FuzzPlainSyntax checks the promise of scanned.plain: scanDocument
// refuses only what graphql-go's parser refuses, and plain parses exactly
// when the query does — so judging plain's syntax instead of the query's
// (to keep graphql-go's error reporting cheap) changes no verdict.
func FuzzPlainSyntax(f *testing.F) {
	for _, s := range []string{
		`{ viewer { user } }`, `query Q($a: [Int!]! = [1, 2], $b: String = "x") @d(a: 1) { a: f(x: $a, y: {z: [1.5e-3, -0, true, null, ENUM]}) { ...F ... on T { b } } }`,
		`fragment F on T { a }`, `"""desc""" query { a }`, `{ a(s: "\u00e9\n\"\\") }`, `{ a(s: """x \""" y""") }`, "\uFEFF{ a }",
		`{ a(n: 0x1) }`, `{ a(n: 01) }`, `{ a(n: 1.) }`, `{ a(n: 1e) }`, `{ a(n: -) }`, `{ .. }`, `{ a(s: "x) }`, "{ a # c\x00 }",
		`{ a(s: "\q") }`, `{ a(s: "\u12") }`, `{ a(s: "` + "\x01" + `") }`, `fragment on on T { a }`, `{ a }}`, `{`, `type T { f: Int }`,
		`query($n: = 3) { a }`, `{ a(b: [[[1]]]) }`, `{ a(b: {c: {d: 1}}) }`, `subscription { a }`, `mutation M { a }`, `{ a @include(if: true) }`,
		`{ ` + strings.Repeat("a", 100) + ` }`, `{ a(n: ` + strings.Repeat("9", 40) + `) }`, `{ a(n: ` + strings.Repeat("9", 40) + `.5) }`,
		"{ a(s: \"é\") ü }", `{ a | b & c }`, `{ a(b: $) }`, `{ ...  on T { a } }`, `query Q { a } query Q2 { b }`, `{ a(b: """` + "\x07" + `""") }`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 4096 {
			return // graphql-go's own error reporting is quadratic in a line's length
		}
		_, err := parser.Parse(parser.ParseParams{Source: source.NewSource(&source.Source{Body: []byte(q), Name: "GraphQL request"})})
		sc, e := scanDocument(q, unlimited)
		if e != nil {
			if err == nil {
				t.Errorf("scanDocument refused %q (%s), graphql-go parses it", q, e.Message)
			}
			return
		}
		pe := plainSyntax(sc, q)
		switch {
		case err == nil && pe != nil:
			t.Errorf("plain of %q does not parse (%s), the query does\nplain: %q", q, pe.Message, sc.plain)
		case err != nil && pe == nil:
			t.Errorf("plain of %q parses, the query does not (%v)\nplain: %q", q, err, sc.plain)
		case err != nil && isASCII(q):
			// Same place: the error's line and column agree.
			var ge *gqlerrors.Error
			if ok := asGQL(err, &ge); ok && len(ge.Locations) > 0 && !strings.Contains(pe.Message, locString(ge)) {
				t.Errorf("%q: graphql-go says %q, plain says %q", q, firstLine(err.Error()), pe.Message)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func asGQL(err error, ge **gqlerrors.Error) bool {
	e, ok := err.(*gqlerrors.Error)
	*ge = e
	return ok
}

func locString(ge *gqlerrors.Error) string {
	l := ge.Locations[0]
	return "(" + strconv.Itoa(l.Line) + ":" + strconv.Itoa(l.Column) + ")"
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
