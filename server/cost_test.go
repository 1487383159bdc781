package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/graphql"
	"github.com/kefu-crm/kefu/server"
)

// costServer is a real server behind its own listener that counts the
// requests its handler is still working on, so a test can tell when the
// server is done with a request — not only when the client got an answer.
type costServer struct {
	*harness
	url      string
	inflight atomic.Int64
}

func startCostServer(t *testing.T, edit func(*server.Config)) *costServer {
	t.Helper()
	h := startServerWith(t, options{}, edit)
	cs := &costServer{harness: h}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.inflight.Add(1)
		defer cs.inflight.Add(-1)
		h.srv.Handler().ServeHTTP(w, r)
	})}
	go func() { _ = hs.Serve(ln) }()
	// Close, not Shutdown: a handler that never ends must not hang the test.
	t.Cleanup(func() { _ = hs.Close() })
	cs.url = "http://" + ln.Addr().String() + "/graphql"
	return cs
}

// send posts query as ADMIN (no auth) and gives up after budget: the
// test fails if the server has not answered by then.
func (cs *costServer) send(t *testing.T, budget time.Duration, query string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, cs.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	// Refusals are then HTTP 400 (with application/json they are 200).
	req.Header.Set("Accept", "application/graphql-response+json")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("no answer within %v to a %d-byte document: %v", budget, len(query), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("not JSON (HTTP %d): %.300s", resp.StatusCode, raw)
	}
	t.Logf("%d-byte document: HTTP %d, %d-byte answer in %v", len(query), resp.StatusCode, len(raw), time.Since(start).Round(time.Millisecond))
	return result{Status: resp.StatusCode, Data: out.Data, Errors: out.Errors, Raw: string(raw)}
}

// idle waits (at most budget) until the handler has returned, then checks
// that the process is not still busy with the request: less than a fifth
// of one core used over the next half second.
func (cs *costServer) idle(t *testing.T, budget time.Duration) {
	t.Helper()
	deadline := time.Now().Add(budget)
	for cs.inflight.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the handler was still working %v after the client got its answer", budget)
		}
		time.Sleep(10 * time.Millisecond)
	}
	before, ok := processCPU()
	if !ok {
		t.Log("process CPU time is not measured on this OS; only the handler's return was checked")
		return
	}
	const window = 500 * time.Millisecond
	time.Sleep(window)
	after, _ := processCPU()
	if used := after - before; used > window/5 {
		t.Errorf("the process used %v of CPU in the %v after the request (work went on in the background)", used, window)
	}
}

func nest(open, close, inner string, n int) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
}

func repeat(format string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

const fullIntrospection = `__schema { queryType { name } mutationType { name } types { kind name description
 fields(includeDeprecated: true) { name description args { name description type { ...T } defaultValue } type { ...T } isDeprecated deprecationReason }
 inputFields { name description type { ...T } defaultValue } interfaces { ...T } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
 possibleTypes { ...T } } directives { name description locations args { name description type { ...T } defaultValue } } }`

const typeRef = ` fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`

func introspections(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " i%d: %s", i, fullIntrospection)
	}
	return b.String() + " }" + typeRef
}

// TestHostileDocuments sends each document of issue 13 §1 to a real
// server over HTTP. Each cost the server seconds to minutes of CPU (or the
// process itself) before anything ran; now each is refused within two
// seconds with BAD_USER_INPUT naming what it exceeds, and the server is idle
// again right after.
func TestHostileDocuments(t *testing.T) {
	cs := startCostServer(t, nil)
	cs.register("c1", "Wang Fang", nil)
	cs.fileComplaint("c1", nil)
	for _, tc := range []struct {
		name, query string
		// what the refusal names: extensions.limit, or a word of the message
		want string
	}{
		// 4.6 s at depth 400 and no answer in 120 s at 2,000 in
		// ArgumentsOfCorrectTypeRule; 69 s for objects at depth 400.
		{"nested list literal", `{ holidays(calendar: ` + nest("[", "]", "1", 2000) + `, from: "2026-01-01", to: "2026-01-02") { key } }`, "maxValueDepth"},
		{"nested object literal", `{ customers(filter: ` + nest("{a: ", "}", "1", 400) + `) { totalCount } }`, "maxValueDepth"},
		// 2^40 paths through the fragments for the depth check.
		{"fragment diamond", `{ ...F0 }` + diamondFragments(40), "maxSelections"},
		// 26 s and a 7.9 MB answer of conflicts.
		{"same alias, conflicting arguments", "{" + repeat(` a: customer(id: "c%d") { id }`, 250) + " }", "maxRepeats"},
		{"same alias under the alias limit", "{" + repeat(` a: customer(id: "c%d") { id }`, 9) + " }", "maxRepeats"},
		// 11 s before the complexity check.
		{"repeated field", "{" + strings.Repeat(" customers { totalCount }", 4000) + " }", "maxBytes"},
		{"repeated field, short", "{" + strings.Repeat(" customers { totalCount }", 9) + " }", "maxRepeats"},
		// 8.5 s of KnownArgumentNames and a 645 KB answer.
		{"unknown arguments", "{ customers(" + repeat("a%d: 1 ", 3000) + ") { totalCount } }", "maxArguments"},
		// Introspection cost 1: 100 copies made a 10.7 MB answer.
		{"introspection, 100 copies", introspections(100), "maxBytes"},
		{"introspection, 4 copies", introspections(4), "complexity"},
		// 2^62 × 3 wrapped the estimate negative and let the rest through.
		{"complexity overflow", `{ x: complaints(first: 4611686018427387904) { edges { node { id } } } ` +
			repeat(` c%d: customers(first: 500) { edges { node { timeline(first: 500) { edges { node { summary data } } } } } }`, 30) + ` }`, "complexity"},
		// A fragment that spreads itself, used nowhere: graphql-go's
		// OverlappingFieldsCanBeMerged recursed until the stack overflowed
		// and the process died (fatal error: stack overflow).
		{"unused fragment cycle", `{ viewer { user } } fragment A on Query { ...A }`, "cycle"},
		{"selection nesting", nest("{ viewer ", "}", "{ user }", 3000), "maxSelectionDepth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cs.send(t, 2*time.Second, tc.query)
			if r.Status != http.StatusBadRequest || len(r.Errors) != 1 || r.Errors[0].code() != "BAD_USER_INPUT" {
				t.Fatalf("want one BAD_USER_INPUT with HTTP 400, got %d: %.400s", r.Status, r.Raw)
			}
			if limit, _ := r.Errors[0].Extensions["limit"].(string); limit != tc.want && !strings.Contains(r.Errors[0].Message, tc.want) {
				t.Errorf("refusal does not name %s: %.400s", tc.want, r.Raw)
			}
			if len(r.Raw) > 2048 {
				t.Errorf("the refusal is %d bytes", len(r.Raw))
			}
			cs.idle(t, time.Second)
		})
	}
	// Still serving.
	if r := cs.send(t, 5*time.Second, `{ customer(id: "c1") { id } }`); r.str("customer.id") != "c1" {
		t.Errorf("after the attacks: %s", r.Raw)
	}
	// One full introspection is fine.
	if r := cs.send(t, 5*time.Second, introspections(1)); len(r.Errors) > 0 || r.Status != http.StatusOK {
		t.Errorf("one introspection: %.300s", r.Raw)
	}
	cs.idle(t, time.Second)
}

// diamondFragments defines F0 … Fn, each spreading the next twice.
func diamondFragments(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Query { viewer { user } }", n)
	return b.String()
}

// A request that runs past RequestTimeout is answered 503 with TIMEOUT (it
// was INTERNAL, with HTTP 400).
func TestTimeoutIs503(t *testing.T) {
	cs := startCostServer(t, func(c *server.Config) { c.RequestTimeout = time.Nanosecond })
	r := cs.send(t, 5*time.Second, `{ customers { totalCount } }`)
	if r.Status != http.StatusServiceUnavailable || len(r.Errors) != 1 || r.Errors[0].code() != "TIMEOUT" {
		t.Fatalf("want 503 TIMEOUT, got %d: %s", r.Status, r.Raw)
	}
	if r.Data != nil {
		t.Errorf("a timed-out request answered data: %s", r.Raw)
	}
}

// The answer is capped: a page whose answer would pass MaxResponseBytes is
// refused, naming the limit; a smaller page passes.
func TestResponseSizeIsCapped(t *testing.T) {
	const capBytes = 16 << 10
	cs := startCostServer(t, func(c *server.Config) { c.Limits = graphql.Limits{MaxResponseBytes: capBytes} })
	for i := 0; i < 60; i++ {
		cs.register(fmt.Sprintf("big-%02d", i), "Customer "+strings.Repeat("x", 180), map[string]any{"phone": "+8613900000000"})
	}
	r := cs.send(t, 5*time.Second, `{ events(first: 500) { edges { node { eventId type data metadata } } } }`)
	if r.Status != http.StatusBadRequest || len(r.Errors) != 1 || r.Errors[0].Extensions["limit"] != "maxResponseBytes" ||
		r.Errors[0].Extensions["max"] != float64(capBytes) {
		t.Fatalf("want a maxResponseBytes refusal, got %d: %.400s", r.Status, r.Raw)
	}
	r = cs.send(t, 5*time.Second, `{ events(first: 3) { edges { node { eventId type data } } } }`)
	if r.Status != http.StatusOK || len(r.Errors) > 0 || len(r.list("events.edges")) != 3 {
		t.Errorf("a small page: %.400s", r.Raw)
	}
	cs.idle(t, time.Second)
}
