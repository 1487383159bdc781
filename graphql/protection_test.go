package graphql_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	gql "github.com/graphql-go/graphql"

	"github.com/kefu-crm/kefu/graphql"
)

func TestDepthLimit(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{MaxDepth: 5})
	// complaint → customer → openComplaints → customer → id: depth 5 is fine, 6 is not.
	mustOK(t, s.post(t, "", `{ complaint(id: "k1") { customer { openComplaints { customer { id } } } } }`, nil))
	r := wantRequestError(t, "BAD_USER_INPUT", s.sender(`{ complaint(id: "k1") { customer { openComplaints { customer { openComplaints { id } } } } } }`, nil))
	if !strings.Contains(r.Raw, "depth 6 exceeds the maximum 5") {
		t.Errorf("message: %s", r.Raw)
	}
	// Fragments count too.
	wantRequestError(t, "BAD_USER_INPUT", s.sender(`{ complaint(id: "k1") { ...A } } fragment A on Complaint { customer { openComplaints { customer { openComplaints { id } } } } }`, nil))
	// A fragment cycle is rejected, not looped on.
	wantRequestError(t, "BAD_USER_INPUT", s.sender(`{ complaint(id: "k1") { ...A } } fragment A on Complaint { customer { openComplaints { ...A } } }`, nil))
}

func TestComplexityLimit(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	// 500 customers × 500 timeline entries: rejected before anything runs.
	q := `query($n: Int) { customers(first: 500) { edges { node { timeline(first: $n) { edges { node { summary } } } } } } }`
	r := wantRequestError(t, "BAD_USER_INPUT", s.sender(q, map[string]any{"n": 500}))
	if !strings.Contains(r.Raw, "complexity") {
		t.Errorf("message: %s", r.Raw)
	}
	// The same document with a small page is fine (variables are read).
	mustOK(t, s.post(t, "", q, map[string]any{"n": 5}))
	// The benchmark query is well inside the limit.
	mustOK(t, s.post(t, "", benchQuery, nil))
	// The explorer's introspection is priced by what it returns, and fits.
	mustOK(t, s.post(t, "", introspection, nil))
}

func TestBodyLimit(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{MaxBodyBytes: 1024})
	big := fmt.Sprintf(`{"query": "{ viewer { user } }", "variables": {"pad": %q}}`, strings.Repeat("x", 2000))
	wantCode(t, s.postRaw(t, "", "application/json", []byte(big)), http.StatusRequestEntityTooLarge, "BAD_USER_INPUT")
}

func TestMalformedRequests(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	for name, body := range map[string]string{
		"not JSON":             `{"query": `,
		"trailing data":        `{"query": "{ viewer { user } }"} {}`,
		"variables not object": `{"query": "{ viewer { user } }", "variables": [1]}`,
		"query not string":     `{"query": 42}`,
		"empty query":          `{"query": ""}`,
	} {
		t.Run(name, func(t *testing.T) {
			wantRequestError(t, "BAD_USER_INPUT", func(accept string) gqlResponse {
				return s.postAccept(t, "", "application/json", accept, []byte(body))
			})
		})
	}
	// Variables as a JSON string are accepted (some clients send that).
	mustOK(t, s.postRaw(t, "", "application/json", []byte(`{"query": "query($id: ID!) { customer(id: $id) { id } }", "variables": "{\"id\": \"c1\"}"}`)))
	wantCode(t, s.postRaw(t, "", "text/plain", []byte(`{"query": "{ viewer { user } }"}`)), http.StatusUnsupportedMediaType, "BAD_USER_INPUT")

	req, _ := http.NewRequest(http.MethodDelete, s.URL+"/graphql", nil)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, decode(t, resp), http.StatusMethodNotAllowed, "BAD_USER_INPUT")
}

func TestTimeout(t *testing.T) {
	s := (&slowAPI{}).serve(t, graphql.HandlerConfig{Timeout: 20 * time.Millisecond})
	r := postWithin(t, s, 5*time.Second, `{ blocked }`, nil)
	// A timeout is the server's, not the client's fault: 503 with TIMEOUT
	// (INTERNAL and 200 before).
	if r.Status != http.StatusServiceUnavailable || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "TIMEOUT" || !strings.Contains(r.Raw, "timed out") {
		t.Errorf("timeout: %d %s", r.Status, r.Raw)
	}
}

func TestCacheHits(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	q := `query($id: ID!) { customer(id: $id) { id stage } }`
	for _, id := range []string{"c1", "c2", "c1"} {
		r := s.post(t, "", q, map[string]any{"id": id})
		mustOK(t, r)
		if at(r.Data, "customer", "id") != id {
			t.Errorf("cached document answered for the wrong variables: %s", r.Raw)
		}
	}
	st := s.h.CacheStats()
	if st.Entries != 1 || st.Misses != 1 || st.Hits != 2 {
		t.Errorf("stats = %+v, want 1 entry, 1 miss, 2 hits", st)
	}
	// An invalid query is not cached.
	s.post(t, "", `{ nope }`, nil)
	s.post(t, "", `{ nope }`, nil)
	if st := s.h.CacheStats(); st.Entries != 1 {
		t.Errorf("invalid query cached: %+v", st)
	}
}

func TestCacheEviction(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{CacheEntries: 2})
	for i := 0; i < 5; i++ {
		mustOK(t, s.post(t, "", fmt.Sprintf(`{ a%d: viewer { user } }`, i), nil))
	}
	if st := s.h.CacheStats(); st.Entries != 2 {
		t.Errorf("entries = %d, want 2", st.Entries)
	}
	// The most recent one is still cached.
	mustOK(t, s.post(t, "", `{ a4: viewer { user } }`, nil))
	if st := s.h.CacheStats(); st.Hits != 1 {
		t.Errorf("hits = %d, want 1", st.Hits)
	}
}

func TestExplorerPage(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/graphql", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("explorer: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"<title>kefu", "__schema", "localStorage", "Ctrl"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"https://", "http://", "cdn"} {
		if bytes.Contains(bytes.ToLower(body), []byte(bad)) {
			t.Errorf("page refers to %q: it must work offline", bad)
		}
	}
	// Without Accept: text/html a GET without query is an API error, not the page.
	wantRequestError(t, "BAD_USER_INPUT", func(accept string) gqlResponse { return s.getAccept(t, "", accept, "", "") })
	// Auth does not hide the page (the token is entered on it).
	s2 := newServer(t, graphql.HandlerConfig{Tokens: testTokens(t)})
	req, _ = http.NewRequest(http.MethodGet, s2.URL+"/graphql", nil)
	req.Header.Set("Accept", "text/html")
	resp, err = s2.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("explorer with auth: %d", resp.StatusCode)
	}
}

func TestOnRequest(t *testing.T) {
	var got []graphql.RequestInfo
	s := newServer(t, graphql.HandlerConfig{OnRequest: func(i graphql.RequestInfo) { got = append(got, i) }})
	s.post(t, "", `query Q { viewer { user } }`, nil)
	s.post(t, "", `mutation { markLost(input: {customerId: "zz", reason: "r", by: "a"}) { version } }`, nil)
	if len(got) != 2 || got[0].OperationType != "query" || got[0].Status != 200 || got[1].OperationType != "mutation" ||
		len(got[1].ErrorCodes) != 1 || got[1].ErrorCodes[0] != graphql.CodeNotFound {
		t.Errorf("infos = %+v", got)
	}
}

func TestNewSchemaNeedsAnApplication(t *testing.T) {
	if _, err := graphql.NewSchema(graphql.Deps{}); err == nil || !strings.Contains(err.Error(), "App") {
		t.Errorf("err = %v", err)
	}
	if _, err := graphql.NewHandler(gql.Schema{}, graphql.HandlerConfig{}); err == nil {
		t.Error("NewHandler accepted an empty schema")
	}
	if _, err := graphql.NewHandler(newTestSchema(t), graphql.HandlerConfig{MaxDepth: -1}); err == nil {
		t.Error("NewHandler accepted a negative MaxDepth")
	}
}

const benchQuery = `{ customer(id: "c1") { stage loyalty { score level } openComplaints { id } timeline(first: 20) { edges { node { type occurredAt summary } } } } }`

const introspection = `{ __schema { queryType { name } mutationType { name } types { kind name description
  fields { name description args { name description type { ...T } defaultValue } type { ...T } }
  inputFields { name description type { ...T } defaultValue } enumValues { name description } } } }
  fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{`{"query":"{ a }"}`, `{"query":"q","variables":{"a":1},"operationName":"Q"}`, `{"variables":"{\"a\":1}"}`, `{`, `null`, `[]`, `{"variables":"\"x\""}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := graphql.DecodeRequest(b)
		if err != nil {
			if !strings.Contains(err.Error(), "bad input") && !strings.Contains(err.Error(), "JSON") && !strings.Contains(err.Error(), "variables") {
				t.Errorf("unexpected error class: %v", err)
			}
			return
		}
		_ = req
	})
}

func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{"2025-03-04T10:00:00+08:00", "2025-03-04T10:00:00Z", "2025-03-04T10:00:00.123456789-05:30", "2025-03-04T10:00:00", "2025-03-04", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := graphql.ParseDateTime(s)
		if err != nil {
			return
		}
		// Whatever parses round-trips through the output format.
		back, err := graphql.ParseDateTime(tm.Format(time.RFC3339Nano))
		if err != nil || !back.Equal(tm) {
			t.Errorf("%q → %v → %v (%v)", s, tm, back, err)
		}
	})
}

// BenchmarkQuery measures the benchmark query through the handler,
// with the parse/validate cache and without it.
func BenchmarkQuery(b *testing.B) {
	for _, bc := range []struct {
		name    string
		entries int
	}{{"cached", 0}, {"uncached", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			schema := newTestSchema(b)
			h, err := graphql.NewHandler(schema, graphql.HandlerConfig{CacheEntries: bc.entries})
			if err != nil {
				b.Fatal(err)
			}
			body := []byte(`{"query": ` + fmt.Sprintf("%q", benchQuery) + `}`)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req, _ := http.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				rec := &recorder{header: http.Header{}}
				h.ServeHTTP(rec, req)
				if rec.status != 200 {
					b.Fatalf("status %d: %s", rec.status, rec.body.String())
				}
			}
		})
	}
}
