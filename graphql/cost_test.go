package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/graphql"
)

// The documents of issue 13 §1: each small, each once costing seconds to
// minutes of CPU (or the process) before anything ran.

func nested(open, close, inner string, n int) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
}

// listLiteral nests a list literal n deep in an argument (4.6 s at 400
// before, no answer in 120 s at 2,000).
func listLiteral(n int) string {
	return `{ holidays(calendar: ` + nested("[", "]", "1", n) + `, from: "2026-01-01", to: "2026-01-02") { key } }`
}

// objectLiteral nests an object literal n deep (69 s at 400 before).
func objectLiteral(n int) string {
	return `{ customers(filter: ` + nested("{a: ", "}", "1", n) + `) { totalCount } }`
}

// diamond spreads each of n fragments twice into the next: 2^n paths.
func diamond(n int) string {
	var b strings.Builder
	b.WriteString(`{ ...F0 }`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Query { viewer { user } }", n)
	return b.String()
}

// sameAlias selects n fields under one alias with different arguments.
func sameAlias(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, ` a: customer(id: "c%d") { id }`, i)
	}
	return b.String() + " }"
}

// repeated selects the same field n times.
func repeated(n int) string { return "{" + strings.Repeat(" customers { totalCount }", n) + " }" }

// unknownArguments gives one field n arguments it does not have.
func unknownArguments(n int) string {
	var b strings.Builder
	b.WriteString("{ customers(")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "a%d: 1 ", i)
	}
	return b.String() + ") { totalCount } }"
}

// fullIntrospection is what GraphiQL-like tools ask, under alias a.
const fullIntrospection = `__schema { queryType { name } mutationType { name } types { kind name description
 fields(includeDeprecated: true) { name description args { name description type { ...T } defaultValue } type { ...T } isDeprecated deprecationReason }
 inputFields { name description type { ...T } defaultValue } interfaces { ...T } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
 possibleTypes { ...T } } directives { name description locations args { name description type { ...T } defaultValue } } }`

const typeRefFragment = ` fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`

// introspections asks for the whole schema n times.
func introspections(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " i%d: %s", i, fullIntrospection)
	}
	return b.String() + " }" + typeRefFragment
}

// overflowing asks for 2^62 complaints next to a query that is refused
// on its own: the product wrapped the estimate negative.
const overflowing = `{ x: complaints(first: 4611686018427387904) { edges { node { id } } }
  y: customers(first: 500) { edges { node { timeline(first: 500) { edges { node { summary } } } } } } }`

// unusedCycle is a fragment that spreads itself, used by no operation:
// graphql-go's OverlappingFieldsCanBeMerged recursed until the stack
// overflowed, a fatal error that ended the process.
const unusedCycle = `{ viewer { user } } fragment A on Query { ...A }`

// postWithin posts query and fails the test if no answer comes within d.
func postWithin(t testing.TB, s *server, d time.Duration, query string, vars map[string]any) gqlResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	// A refusal is then HTTP 400 (with application/json it is 200).
	req.Header.Set("Accept", "application/graphql-response+json")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("no answer within %v (%d-byte query): %v", d, len(query), err)
	}
	return decode(t, resp)
}

// wantLimit checks a refusal for limit with value max.
func wantLimit(t testing.TB, r gqlResponse, limit string, max int) {
	t.Helper()
	wantCode(t, r, http.StatusBadRequest, "BAD_USER_INPUT")
	if len(r.Errors) != 1 {
		t.Fatalf("want one error, got %d: %.500s", len(r.Errors), r.Raw)
	}
	ext := r.Errors[0].Extensions
	if ext["limit"] != limit || ext["max"] != float64(max) {
		t.Errorf("want limit %s = %d, got %v = %v: %s", limit, max, ext["limit"], ext["max"], r.Raw)
	}
}

func TestDocumentLimits(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	for _, tc := range []struct {
		name, over, under string
		limit             string
		max               int
	}{
		{"bytes", `{ customers(filter: {search: "` + strings.Repeat("x", 40000) + `"}) { totalCount } }`,
			`{ customers(filter: {search: "` + strings.Repeat("x", 30000) + `"}) { totalCount } }`, "maxBytes", graphql.DefaultMaxQueryBytes},
		{"tokens", `{ holidays(calendar: "CN", from: "2026-01-01", to: "2026-01-02") { key` + strings.Repeat(" a", 5000) + ` } }`, "", "maxTokens", graphql.DefaultMaxTokens},
		{"list nesting", listLiteral(9), "", "maxValueDepth", graphql.DefaultMaxValueDepth},
		{"list nesting 2000", listLiteral(2000), "", "maxValueDepth", graphql.DefaultMaxValueDepth},
		{"object nesting", objectLiteral(9), "", "maxValueDepth", graphql.DefaultMaxValueDepth},
		{"object nesting 400", objectLiteral(400), "", "maxValueDepth", graphql.DefaultMaxValueDepth},
		{"default value nesting", `query($x: [[[[[[[[[String]]]]]]]]] = [[[[[[[[["a"]]]]]]]]]) { viewer { user } }`, "", "maxValueDepth", graphql.DefaultMaxValueDepth},
		{"selection nesting", nested("{ viewer ", "}", "{ user }", 33), "", "maxSelectionDepth", graphql.DefaultMaxSelectionDepth},
		{"inline fragment nesting", "{" + nested(" ... on Query {", " }", " viewer { user }", 32) + " }",
			"{" + nested(" ... on Query {", " }", " viewer { user }", 30) + " }", "maxSelectionDepth", graphql.DefaultMaxSelectionDepth},
		{"aliases", nestedAliases(graphql.DefaultMaxAliases + 1), nestedAliases(200), "maxAliases", graphql.DefaultMaxAliases},
		{"arguments", unknownArguments(33), "", "maxArguments", graphql.DefaultMaxArguments},
		{"arguments 3000", unknownArguments(3000), "", "maxArguments", graphql.DefaultMaxArguments},
		{"fragments", manyFragments(65), manyFragments(20), "maxFragments", graphql.DefaultMaxFragments},
		{"diamond", diamond(40), diamond(6), "maxSelections", graphql.DefaultMaxSelections},
		{"root fields", aliases(graphql.DefaultMaxRootFields + 1), aliases(100), "maxRootFields", graphql.DefaultMaxRootFields},
		{"root fields via fragments", rootFragments(5, 30), rootFragments(3, 30), "maxRootFields", graphql.DefaultMaxRootFields},
		{"same alias", sameAlias(9), sameAlias(2), "maxRepeats", graphql.DefaultMaxRepeats},
		{"same alias 250", sameAlias(250), "", "maxRepeats", graphql.DefaultMaxRepeats},
		{"repeated field", repeated(9), repeated(3), "maxRepeats", graphql.DefaultMaxRepeats},
		{"repeated nested field", `{ customer(id: "c1") {` + strings.Repeat(" id", 9) + ` } }`, "", "maxRepeats", graphql.DefaultMaxRepeats},
		{"repeated field through fragments", `{ customer(id: "c1") { ...A ...B ...C } } fragment A on Customer { id id id } fragment B on Customer { id id id } fragment C on Customer { id id id }`,
			`{ customer(id: "c1") { ...A ...A ...A ...A } } fragment A on Customer { id id id }`, "maxRepeats", graphql.DefaultMaxRepeats},
		{"repeated field 4000", repeated(4000), "", "maxBytes", graphql.DefaultMaxQueryBytes},
		{"depth through fragments", `{ complaint(id: "k1") { ...A } } fragment A on Complaint { customer { openComplaints { ...B } } } fragment B on Complaint { customer { openComplaints { ...C } } } fragment C on Complaint { customer { openComplaints { ...D } } } fragment D on Complaint { customer { openComplaints { ...E } } } fragment E on Complaint { customer { openComplaints { customer { openComplaints { customer { openComplaints { id } } } } } } }`,
			"", "maxDepth", graphql.DefaultMaxDepth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantLimit(t, postWithin(t, s, 5*time.Second, tc.over, nil), tc.limit, tc.max)
			if tc.under != "" {
				r := postWithin(t, s, 5*time.Second, tc.under, nil)
				if len(r.Errors) > 0 && r.Errors[0].Extensions["limit"] != nil {
					t.Errorf("a document under the limit was refused: %.300s", r.Raw)
				}
			}
		})
	}
}

// A limit's refusal is a request error like any other: 200 with
// application/json, 400 with application/graphql-response+json, no data.
func TestLimitRefusalMediaTypes(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	r := wantRequestError(t, "BAD_USER_INPUT", s.sender(listLiteral(9), nil))
	if r.Errors[0].Extensions["limit"] != "maxValueDepth" {
		t.Errorf("%s", r.Raw)
	}
}

func aliases(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " v%d: viewer { user }", i)
	}
	return b.String() + " }"
}

// rootFragments spreads n fragments of k root fields each, and each
// fragment twice (which counts once).
func rootFragments(n, k int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " ...R%d ...R%d", i, i)
	}
	b.WriteString(" }")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " fragment R%d on Query {", i)
		for j := 0; j < k; j++ {
			fmt.Fprintf(&b, " r%d_%d: viewer { user }", i, j)
		}
		b.WriteString(" }")
	}
	return b.String()
}

// nestedAliases gives n aliases below the root.
func nestedAliases(n int) string {
	var b strings.Builder
	b.WriteString("{ viewer {")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " u%d: user", i)
	}
	return b.String() + " } }"
}

func manyFragments(n int) string {
	var b strings.Builder
	b.WriteString("{ viewer { ")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "...V%d ", i)
	}
	b.WriteString("} }")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " fragment V%d on Viewer { u%d: user }", i, i)
	}
	return b.String()
}

func TestLimitsAreConfigurable(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{Limits: graphql.Limits{MaxAliases: 2, MaxValueDepth: 2}})
	wantLimit(t, postWithin(t, s, 5*time.Second, aliases(3), nil), "maxAliases", 2)
	wantLimit(t, postWithin(t, s, 5*time.Second, listLiteral(3), nil), "maxValueDepth", 2)
	mustOK(t, postWithin(t, s, 5*time.Second, aliases(2), nil))
	if _, err := graphql.NewHandler(newTestSchema(t), graphql.HandlerConfig{Limits: graphql.Limits{MaxTokens: -1}}); err == nil ||
		!strings.Contains(err.Error(), "MaxTokens") {
		t.Errorf("negative limit: %v", err)
	}
}

// A limit's refusal says where: line and column of the token that crossed it.
func TestLimitLocation(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	r := postWithin(t, s, 5*time.Second, "{\n  holidays(calendar: [[[[[[[[[1]]]]]]]]], from: \"2026-01-01\", to: \"2026-01-02\") { key } }", nil)
	if !strings.Contains(r.Raw, `"locations":[{"line":2,"column":30}]`) {
		t.Errorf("location: %s", r.Raw)
	}
}

// A fragment diamond is measured in one step per fragment: refused at
// n = 40 without walking its 2^40 paths, answered at n = 6 (2^6 paths).
func TestFragmentDiamond(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	r := postWithin(t, s, 5*time.Second, diamond(40), nil)
	wantLimit(t, r, "maxSelections", graphql.DefaultMaxSelections)
	mustOK(t, postWithin(t, s, 5*time.Second, diamond(6), nil))
}

// A fragment cycle is refused wherever it is, used or not.
func TestFragmentCycleAnywhere(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	for _, q := range []string{
		unusedCycle,
		`{ viewer { user } } fragment A on Query { viewer { ...B } } fragment B on Viewer { user ...C } fragment C on Viewer { ...B }`,
		`{ ...A } fragment A on Query { viewer { user } ...A }`,
	} {
		r := postWithin(t, s, 5*time.Second, q, nil)
		wantCode(t, r, http.StatusBadRequest, "BAD_USER_INPUT")
		if !strings.Contains(r.Raw, "cycle") {
			t.Errorf("%s: %s", q, r.Raw)
		}
	}
	// The server still answers.
	mustOK(t, postWithin(t, s, 5*time.Second, `{ viewer { user } }`, nil))
}

// A syntax error at the end of a long line: graphql-go draws the line with
// the error marked, by a loop that costs the column times the line's
// length — 600 MB of allocation for a 32 KB one-line query. The error now
// comes from plain (short lines) and still points at the right place.
func TestSyntaxErrorOnALongLine(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	q := "{" + strings.Repeat(" customers { totalCount }", 1200) + " & }"
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := postWithin(t, s, 5*time.Second, q, nil)
	runtime.ReadMemStats(&after)
	wantCode(t, r, http.StatusBadRequest, "BAD_USER_INPUT")
	want := fmt.Sprintf("Syntax Error GraphQL request (1:%d) Expected Name, found &", len(q)-2)
	if len(r.Errors) != 1 || r.Errors[0].Message != want {
		t.Errorf("want %q, got %.300s", want, r.Raw)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > 64<<20 {
		t.Errorf("a syntax error cost %d MB of allocation", a>>20)
	}
}

// graphql-go's parser lets a variable without a type through, and its
// validation then dereferenced nil (the handler panicked and the client's
// connection dropped). Found by FuzzDocumentCost.
func TestVariableWithoutType(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	for _, q := range []string{
		`query($n: = 3) { customers(first: $n) { totalCount } }`,
		`query($n: ]) { viewer { user } }`,
		`query($n: !) { viewer { user } }`,
		`query($n: [!]) { viewer { user } }`,
	} {
		r := postWithin(t, s, 5*time.Second, q, nil)
		wantCode(t, r, http.StatusBadRequest, "BAD_USER_INPUT")
		if !strings.Contains(r.Raw, "$n needs a type") {
			t.Errorf("%s: %s", q, r.Raw)
		}
	}
}

// The estimate saturates: 2^62 × 3 used to wrap negative and let the
// document through.
func TestComplexitySaturates(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	for _, q := range []string{
		overflowing,
		`{ complaints(first: 9223372036854775807) { edges { node { id } } } }`,
	} {
		r := postWithin(t, s, 5*time.Second, q, nil)
		wantCode(t, r, http.StatusBadRequest, "BAD_USER_INPUT")
		c, _ := r.Errors[0].Extensions["complexity"].(float64)
		if !strings.Contains(r.Raw, "complexity") || c <= graphql.DefaultMaxComplexity {
			t.Errorf("complexity %v: %s", c, r.Raw)
		}
	}
	// A variable that large, or a float, saturates too.
	for _, n := range []any{4611686018427387904.0, 1e300} {
		r := postWithin(t, s, 5*time.Second, `query($n: Int) { complaints(first: $n) { edges { node { id } } } y: complaints(first: 400) { edges { node { id customer { id } } } } }`, map[string]any{"n": n})
		wantCode(t, r, http.StatusBadRequest, "BAD_USER_INPUT")
	}
}

// Introspection costs what it returns: its price is at least the number of
// fields in its answer, one full introspection passes, four do not.
func TestIntrospectionPricedByAnswer(t *testing.T) {
	one := introspections(1)
	s := newServer(t, graphql.HandlerConfig{})
	r := postWithin(t, s, 5*time.Second, one, nil)
	mustOK(t, r)
	keys := countKeys(r.Data)
	if keys < 1000 {
		t.Fatalf("the answer has only %d fields", keys)
	}
	// Priced at fewer than keys, MaxComplexity = keys-1 would let it pass.
	tight := newServer(t, graphql.HandlerConfig{MaxComplexity: keys - 1})
	wantCode(t, postWithin(t, tight, 5*time.Second, one, nil), http.StatusBadRequest, "BAD_USER_INPUT")
	r = postWithin(t, s, 5*time.Second, introspections(4), nil)
	wantCode(t, r, http.StatusBadRequest, "BAD_USER_INPUT")
	if !strings.Contains(r.Raw, "complexity") {
		t.Errorf("4 introspections: %.300s", r.Raw)
	}
	// The explorer's own introspection (and TestComplexityLimit's) still passes.
	mustOK(t, postWithin(t, s, 5*time.Second, introspection, nil))
	// __type is priced by the type it names.
	mustOK(t, postWithin(t, s, 5*time.Second, `{ __type(name: "Customer") { fields { name type { ...T } } } }`+typeRefFragment, nil))
}

func countKeys(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			n += 1 + countKeys(x)
		}
	case []any:
		for _, x := range v {
			n += countKeys(x)
		}
	}
	return n
}

// Validation stops after 50 errors: each is located by a scan of the whole
// document, 4,000 of them took 10 s and made a 645 KB answer.
func TestValidationErrorsAreCapped(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	var b strings.Builder
	b.WriteString(`{ customer(id: "c1") {`)
	for i := 0; i < 1900; i++ {
		fmt.Fprintf(&b, " nam%d", i)
	}
	b.WriteString(" } }")
	r := postWithin(t, s, 5*time.Second, b.String(), nil)
	wantCode(t, r, http.StatusBadRequest, "BAD_USER_INPUT")
	if len(r.Errors) != 51 || !strings.Contains(r.Errors[50].Message, "stopped after 50 errors") {
		t.Errorf("%d errors, last %q", len(r.Errors), r.Errors[len(r.Errors)-1].Message)
	}
}

// An error inside a value keeps its location although the value's nodes no
// longer carry the source (see detachValueSources).
func TestValueErrorLocations(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	r := postWithin(t, s, 5*time.Second, "query($s: [Stage] = [NOPE]) {\n  customers(filter: {stages: $s, tiers: [GOLD], tiers: [VIP]}) { totalCount } }", nil)
	wantCode(t, r, http.StatusBadRequest, "BAD_USER_INPUT")
	if !strings.Contains(r.Raw, `"line":2`) || !strings.Contains(r.Raw, `"line":1,"column":21`) {
		t.Errorf("locations: %s", r.Raw)
	}
}

// slowAPI is a schema of its own, for what the handler does to any schema
// (answer size, deadlines, a client leaving): items(first) lists items
// whose name takes delay to resolve (ignoring the context, as a resolver
// that cannot be interrupted would) and counts the calls.
type slowAPI struct {
	calls   atomic.Int64
	delay   time.Duration
	nameLen int
}

func (a *slowAPI) serve(t *testing.T, cfg graphql.HandlerConfig) *server {
	t.Helper()
	item := gql.NewObject(gql.ObjectConfig{Name: "Item", Fields: gql.Fields{
		"id": {Type: gql.Int, Resolve: func(p gql.ResolveParams) (any, error) { return p.Source, nil }},
		"name": {Type: gql.String, Resolve: func(p gql.ResolveParams) (any, error) {
			a.calls.Add(1)
			time.Sleep(a.delay)
			return strings.Repeat("名", a.nameLen), nil
		}},
	}})
	query := gql.NewObject(gql.ObjectConfig{Name: "Query", Fields: gql.Fields{
		"items": {Type: gql.NewList(item), Args: gql.FieldConfigArgument{"first": {Type: gql.Int}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				n, _ := p.Args["first"].(int)
				out := make([]any, n)
				for i := range out {
					out[i] = i
				}
				return out, nil
			}},
		"blocked": {Type: gql.String, Resolve: func(p gql.ResolveParams) (any, error) {
			<-p.Context.Done()
			return nil, p.Context.Err()
		}},
	}})
	schema, err := gql.NewSchema(gql.SchemaConfig{Query: query})
	if err != nil {
		t.Fatal(err)
	}
	graphql.GuardResolvers(schema)
	h, err := graphql.NewHandler(schema, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/graphql", h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return &server{Server: ts, h: h, t: t}
}

// The answer is capped: execution stops once it would pass MaxResponseBytes.
func TestResponseSizeCap(t *testing.T) {
	s := (&slowAPI{nameLen: 1000}).serve(t, graphql.HandlerConfig{Limits: graphql.Limits{MaxResponseBytes: 256 << 10}})
	r := postWithin(t, s, 5*time.Second, `{ items(first: 200) { id name } }`, nil) // 200 names of 3,000 bytes
	wantLimit(t, r, "maxResponseBytes", 256<<10)
	if len(r.Raw) > 4096 {
		t.Errorf("refusal is %d bytes", len(r.Raw))
	}
	// Smaller pages pass.
	mustOK(t, postWithin(t, s, 5*time.Second, `{ items(first: 50) { id name } }`, nil))
}

const everyItem = `{ items(first: 500) { id name } }`

// Past the deadline, execution stops: the answer is 503 TIMEOUT at the
// deadline, and no resolver runs after it (before, graphql-go's resolving
// goroutine went on through all 500 items).
func TestExecutionStopsAtDeadline(t *testing.T) {
	slow := &slowAPI{delay: 2 * time.Millisecond, nameLen: 1}
	s := slow.serve(t, graphql.HandlerConfig{Timeout: 100 * time.Millisecond})
	start := time.Now()
	r := postWithin(t, s, 5*time.Second, everyItem, nil)
	if r.Status != http.StatusServiceUnavailable || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "TIMEOUT" {
		t.Fatalf("want 503 TIMEOUT, got %d: %.300s", r.Status, r.Raw)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("answered after %v", el)
	}
	settled := waitStill(t, &slow.calls)
	if settled >= 500 {
		t.Errorf("every item was resolved (%d calls)", settled)
	}
}

// When the client goes away, execution stops too.
func TestExecutionStopsWhenClientLeaves(t *testing.T) {
	slow := &slowAPI{delay: 2 * time.Millisecond, nameLen: 1}
	var codes []graphql.Code
	done := make(chan struct{}, 1)
	s := slow.serve(t, graphql.HandlerConfig{Timeout: time.Minute, OnRequest: func(i graphql.RequestInfo) {
		codes = i.ErrorCodes
		done <- struct{}{}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	body, _ := json.Marshal(map[string]any{"query": everyItem})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	go func() {
		for slow.calls.Load() < 10 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if resp, err := s.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("the request finished before the client left")
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not return 5 s after the client left")
	}
	if len(codes) != 1 || codes[0] != graphql.CodeCancelled {
		t.Errorf("codes %v", codes)
	}
	if n := waitStill(t, &slow.calls); n >= 500 {
		t.Errorf("every item was resolved (%d calls)", n)
	}
}

// waitStill waits until counter stops moving (for 300 ms; at most 5 s) and
// returns its value.
func waitStill(t *testing.T, counter *atomic.Int64) int64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	last := counter.Load()
	for time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
		n := counter.Load()
		if n == last {
			return n
		}
		last = n
	}
	t.Fatalf("resolvers still running 5 s later (%d calls)", last)
	return last
}

// ---- fuzzing the cost of documents ----

// costSeeds are the attacks at sizes that cost seconds or more
// before the limits, and documents at the limits' edges.
func costSeeds() []string {
	return []string{
		listLiteral(400), listLiteral(2000), objectLiteral(400), diamond(40), sameAlias(250), repeated(1300),
		unknownArguments(2500), introspections(20), overflowing, unusedCycle,
		nested("{ viewer ", "}", "{ user }", 3000), introspections(3), diamond(9),
		`{ holidays(calendar: [[[[[[[[` + strings.Repeat("1,", 4500) + `]]]]]]]], from: "2026-01-01", to: "2026-01-02") { key } }`,
		`{ customer(id: "c1") {` + strings.Repeat(" nam", 1900) + ` } }`,
		introspection, benchQuery, `{ viewer { user } }`, `query($n: Int = 3) { customers(first: $n) { edges { node { id } } } }`,
		"{" + strings.Repeat(" customers { totalCount }", 1200) + " & }",
		`"""desc""" query { viewer { user } }`, "query($n: = 3) { customers(first: $n)}{ edges { node { id } }ge }", "# comment\n{ viewer { user } }", `{ a: viewer { user } b: viewer @include(if: true) { user } }`,
	}
}

// FuzzDocumentCost sends any document through the handler and bounds what
// it costs: wall time and bytes allocated may grow with the document's
// length, by at most a constant per byte. graphql-go's parser, validation
// and execution all run inside the bound.
func FuzzDocumentCost(f *testing.F) {
	for _, s := range costSeeds() {
		f.Add(s)
	}
	b := newBook(f)
	schema, err := graphql.NewSchema(graphql.Deps{App: b.srv.App()})
	if err != nil {
		f.Fatal(err)
	}
	h, err := graphql.NewHandler(schema, graphql.HandlerConfig{CacheEntries: -1, MaxBodyBytes: 4 << 20})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query string) {
		body, _ := json.Marshal(map[string]any{"query": query})
		maxTime := time.Duration(costSlowdown) * (time.Second + time.Duration(len(query))*200*time.Microsecond)
		maxAlloc := uint64(64<<20) + uint64(len(query))*8<<10
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		done := make(chan int, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := &recorder{header: http.Header{}}
			h.ServeHTTP(rec, req)
			done <- rec.status
		}()
		select {
		case status := <-done:
			if status >= 500 {
				t.Errorf("HTTP %d for %.200q", status, query)
			}
		case <-time.After(maxTime + 2*time.Second):
			t.Fatalf("no answer after %v for a %d-byte document %.200q", maxTime+2*time.Second, len(query), query)
		}
		el := time.Since(start)
		runtime.ReadMemStats(&after)
		if el > maxTime {
			t.Errorf("%v for a %d-byte document (bound %v): %.200q", el, len(query), maxTime, query)
		}
		if a := after.TotalAlloc - before.TotalAlloc; a > maxAlloc {
			t.Errorf("%d MB allocated for a %d-byte document (bound %d MB): %.200q", a>>20, len(query), maxAlloc>>20, query)
		}
	})
}
