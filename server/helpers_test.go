package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/graphql"
	"github.com/kefu-crm/kefu/server"
)

// Tokens of the test auth file (see authFile).
const (
	tokAdmin     = "tok-admin"
	tokManager   = "tok-manager"
	tokMarketing = "tok-marketing"
	tokAnalyst   = "tok-analyst"
)

// authFile maps one token to each role.
const authFile = `{"tokens":[
 {"token":"tok-admin","user":"alice","role":"ADMIN"},
 {"token":"tok-manager","user":"mia","role":"ACCOUNT_MANAGER"},
 {"token":"tok-marketing","user":"mark","role":"MARKETING"},
 {"token":"tok-analyst","user":"ana","role":"ANALYST"}]}`

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// options configure startServer.
type options struct {
	dir   string // data directory; default a fresh t.TempDir()
	auth  bool   // use authFile
	clock *fakeClock
	tick  time.Duration
	cors  []string     // Config.CORSOrigins
	ln    net.Listener // listen here instead of a fresh loopback port
}

// harness is a real server: embedded store in a temporary directory, its
// Handler behind a real HTTP listener, Run in a goroutine.
type harness struct {
	t      *testing.T
	dir    string
	srv    *server.Server
	http   *httptest.Server
	cancel context.CancelFunc
	done   chan error
	token  string // default bearer token of gql
	once   sync.Once
}

func startServer(t *testing.T, o options) *harness {
	t.Helper()
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	cfg := server.Config{DataDir: o.dir, Tick: o.tick, CORSOrigins: o.cors}
	if o.clock != nil {
		cfg.Clock = o.clock.Now
	}
	h := &harness{t: t, dir: o.dir}
	if o.auth {
		toks, err := graphql.ParseTokens(strings.NewReader(authFile))
		if err != nil {
			t.Fatalf("auth file: %v", err)
		}
		cfg.Tokens = toks
		h.token = tokAdmin
	}
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	h.srv = srv
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-h.done:
		t.Fatalf("Run returned before Ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("server not ready after 30s")
	}
	h.http = httptest.NewUnstartedServer(srv.Handler())
	if o.ln != nil {
		h.http.Listener.Close()
		h.http.Listener = o.ln
	}
	h.http.Start()
	t.Cleanup(h.stop)
	return h
}

// stop shuts the server down like kefu serve does: HTTP first, then Run,
// then the data directory. Safe to call twice.
func (h *harness) stop() {
	h.once.Do(func() {
		h.http.Close()
		h.cancel()
		select {
		case err := <-h.done:
			if err != nil {
				h.t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			h.t.Errorf("Run did not return 30s after cancel")
		}
		if err := h.srv.Close(); err != nil {
			h.t.Errorf("Close: %v", err)
		}
	})
}

// head is the store's head position (the number of events appended).
func (h *harness) head() uint64 {
	h.t.Helper()
	p, err := h.srv.Store().Head(h.t.Context())
	if err != nil {
		h.t.Fatalf("Head: %v", err)
	}
	return uint64(p)
}

// gqlError is one error of a response.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (e gqlError) code() string { s, _ := e.Extensions["code"].(string); return s }

// result is a GraphQL response.
type result struct {
	Status int
	Data   map[string]any
	Errors []gqlError
	Raw    string
}

// codes lists the errors' extensions.code.
func (r result) codes() []string {
	out := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		out[i] = e.code()
	}
	return out
}

// get digs into the data: "customer.timeline.edges.0.node.type".
func (r result) get(path string) any {
	var v any = r.Data
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func (r result) str(path string) string {
	s, _ := r.get(path).(string)
	return s
}

func (r result) num(path string) int {
	f, _ := r.get(path).(float64)
	return int(f)
}

func (r result) list(path string) []any {
	l, _ := r.get(path).([]any)
	return l
}

// post sends one GraphQL request with token ("" for none).
func (h *harness) post(token, query string, vars map[string]any) result {
	h.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		h.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(h.t.Context(), http.MethodPost, h.http.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.http.Client().Do(req)
	if err != nil {
		h.t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("response is not JSON (HTTP %d): %v: %.300s", resp.StatusCode, err, raw)
	}
	return result{Status: resp.StatusCode, Data: out.Data, Errors: out.Errors, Raw: string(raw)}
}

// gql sends a request with the harness's default token.
func (h *harness) gql(query string, vars map[string]any) result {
	h.t.Helper()
	return h.post(h.token, query, vars)
}

// ok sends a request that must succeed.
func (h *harness) ok(query string, vars map[string]any) result {
	h.t.Helper()
	r := h.gql(query, vars)
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		h.t.Fatalf("unexpected errors (HTTP %d): %s\nquery: %s\nvars: %v", r.Status, r.Raw, query, vars)
	}
	return r
}

// refused sends a request that must fail with code and append nothing.
func (h *harness) refused(token, code, query string, vars map[string]any) result {
	h.t.Helper()
	before := h.head()
	r := h.post(token, query, vars)
	if len(r.Errors) == 0 {
		h.t.Errorf("want %s, got no error: %s", code, r.Raw)
		return r
	}
	if got := r.Errors[0].code(); got != code {
		h.t.Errorf("want %s, got %v: %s", code, r.codes(), r.Raw)
	}
	if after := h.head(); after != before {
		h.t.Errorf("a refused request (%s) appended %d event(s)", code, after-before)
	}
	return r
}

// httpGet fetches path from the server.
func (h *harness) httpGet(path string, header map[string]string) (int, http.Header, string) {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.t.Context(), http.MethodGet, h.http.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := h.http.Client().Do(req)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// eventually polls cond until it holds or a generous deadline passes; it
// makes no claim about how long things take.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// register registers a customer and returns its version.
func (h *harness) register(id, name string, extra map[string]any) int {
	h.t.Helper()
	in := map[string]any{"id": id, "name": name}
	for k, v := range extra {
		in[k] = v
	}
	r := h.ok(`mutation($in: RegisterCustomerInput!){ registerCustomer(input:$in){ version customer{ id } } }`, map[string]any{"in": in})
	if got := r.str("registerCustomer.customer.id"); got != id {
		h.t.Fatalf("registered %q, got id %q", id, got)
	}
	return r.num("registerCustomer.version")
}

// fileComplaint files a complaint and returns its id.
func (h *harness) fileComplaint(customerID string, extra map[string]any) string {
	h.t.Helper()
	in := map[string]any{"customerId": customerID, "channel": "PHONE", "category": "delivery", "description": "parcel arrived broken", "owner": "mia"}
	for k, v := range extra {
		in[k] = v
	}
	r := h.ok(`mutation($in: FileComplaintInput!){ fileComplaint(input:$in){ complaint{ id status } } }`, map[string]any{"in": in})
	return r.str("fileComplaint.complaint.id")
}

// ts formats t for the API.
func ts(t time.Time) string { return t.Format(time.RFC3339) }

// mustTime parses an RFC 3339 value from a response.
func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("not RFC 3339: %q: %v", s, err)
	}
	return v
}

// walk pages through a connection at path (e.g. "customers") with page
// size first, returning every node's key and the totalCount of each page.
func (h *harness) walk(query, path, key string, first int, vars map[string]any) (keys []string, totals []int) {
	h.t.Helper()
	var after any
	for pages := 0; ; pages++ {
		if pages > 10000 {
			h.t.Fatalf("%s: pagination does not end", path)
		}
		v := map[string]any{"first": first, "after": after}
		for k, x := range vars {
			v[k] = x
		}
		r := h.ok(query, v)
		edges := r.list(path + ".edges")
		if len(edges) > first {
			h.t.Fatalf("%s: page of %d edges for first=%d", path, len(edges), first)
		}
		for i := range edges {
			keys = append(keys, fmt.Sprint(r.get(fmt.Sprintf("%s.edges.%d.node.%s", path, i, key))))
		}
		if tc := r.get(path + ".totalCount"); tc != nil {
			totals = append(totals, r.num(path+".totalCount"))
		}
		if r.get(path+".pageInfo.hasNextPage") != true {
			if len(edges) > 0 && r.str(path+".pageInfo.endCursor") != r.str(fmt.Sprintf("%s.edges.%d.cursor", path, len(edges)-1)) {
				h.t.Errorf("%s: endCursor is not the last edge's cursor", path)
			}
			return keys, totals
		}
		if len(edges) == 0 {
			h.t.Fatalf("%s: hasNextPage with an empty page", path)
		}
		end := r.str(path + ".pageInfo.endCursor")
		if end == "" {
			h.t.Fatalf("%s: hasNextPage without endCursor", path)
		}
		after = end
	}
}

// noDuplicates reports keys that occur twice.
func noDuplicates(t *testing.T, what string, keys []string) {
	t.Helper()
	s := slices.Clone(keys)
	slices.Sort(s)
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			t.Errorf("%s: %q appears twice", what, s[i])
		}
	}
}

// startServerWith is startServer with a hook that edits the server.Config
// before the server is built (Sender, Greetings, DispatchInterval …).
func startServerWith(t *testing.T, o options, edit func(*server.Config)) *harness {
	t.Helper()
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	cfg := server.Config{DataDir: o.dir, Tick: o.tick, CORSOrigins: o.cors}
	if o.clock != nil {
		cfg.Clock = o.clock.Now
	}
	h := &harness{t: t, dir: o.dir}
	if o.auth {
		toks, err := graphql.ParseTokens(strings.NewReader(authFile))
		if err != nil {
			t.Fatalf("auth file: %v", err)
		}
		cfg.Tokens = toks
		h.token = tokAdmin
	}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	h.srv = srv
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-h.done:
		t.Fatalf("Run returned before Ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("server not ready after 30s")
	}
	h.http = httptest.NewUnstartedServer(srv.Handler())
	if o.ln != nil {
		h.http.Listener.Close()
		h.http.Listener = o.ln
	}
	h.http.Start()
	t.Cleanup(h.stop)
	return h
}
