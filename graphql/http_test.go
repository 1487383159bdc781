package graphql_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/kefu-crm/kefu/eventstore"

	"github.com/kefu-crm/kefu/graphql"
)

// server is the API under test over real HTTP, with a real kefu (the
// book) behind it.
type server struct {
	*httptest.Server
	book *book
	h    *graphql.Handler
	t    testing.TB
	// start is the log's head once the book was written.
	start eventstore.Position
}

// appended is how many events were appended since the book was written.
func (s *server) appended() uint64 { return uint64(s.book.head() - s.start) }

func newServer(t testing.TB, cfg graphql.HandlerConfig) *server {
	t.Helper()
	b := newBook(t)
	s, err := graphql.NewSchema(graphql.Deps{App: b.srv.App()})
	if err != nil {
		t.Fatalf("NewSchema: %v", err)
	}
	h, err := graphql.NewHandler(s, cfg)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/graphql", h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return &server{Server: ts, book: b, h: h, t: t, start: b.head()}
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Status int
	Data   map[string]any `json:"data"`
	Errors []gqlError     `json:"errors"`
	Raw    string
	// HasData is true when the body has a data entry (even null).
	HasData bool
	// ContentType is the response's Content-Type.
	ContentType string
}

func (r gqlResponse) codes() []string {
	var out []string
	for _, e := range r.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

func decode(t testing.TB, resp *http.Response) gqlResponse {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := gqlResponse{Status: resp.StatusCode, Raw: string(b), ContentType: resp.Header.Get("Content-Type")}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("response is not JSON (%d): %s", resp.StatusCode, b)
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(b, &keys)
	_, out.HasData = keys["data"]
	for _, e := range out.Errors {
		if _, ok := e.Extensions["code"].(string); !ok {
			t.Errorf("error without extensions.code: %s", b)
		}
	}
	return out
}

func (s *server) post(t testing.TB, token, query string, vars map[string]any) gqlResponse {
	t.Helper()
	if s.book != nil {
		query = s.book.expand(query)
	}
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return s.postRaw(t, token, "application/json", body)
}

func (s *server) postRaw(t testing.TB, token, contentType string, body []byte) gqlResponse {
	t.Helper()
	return s.postAccept(t, token, contentType, "", body)
}

// postAccept posts body with the given Content-Type and Accept ("" sends
// no Accept header).
func (s *server) postAccept(t testing.TB, token, contentType, accept string, body []byte) gqlResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

// sender returns a function that posts query and vars as JSON with a given
// Accept header (for wantRequestError).
func (s *server) sender(query string, vars map[string]any) func(accept string) gqlResponse {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return func(accept string) gqlResponse {
		return s.postAccept(s.t, "", "application/json", accept, body)
	}
}

func (s *server) get(t testing.TB, token, query string, vars string) gqlResponse {
	t.Helper()
	return s.getAccept(t, token, "", query, vars)
}

// getAccept sends a GET query with the given Accept header ("" for none).
func (s *server) getAccept(t testing.TB, token, accept, query string, vars string) gqlResponse {
	t.Helper()
	u := s.URL + "/graphql?query=" + url.QueryEscape(query)
	if vars != "" {
		u += "&variables=" + url.QueryEscape(vars)
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

// at walks a decoded response: at(data, "customer", "loyalty", "score").
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func mustOK(t testing.TB, r gqlResponse) {
	t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("want success, got %d: %s", r.Status, r.Raw)
	}
}

// wantRequestError checks a GraphQL request error (refused before
// execution) under both media types: application/json answers 200 and
// application/graphql-response+json 400, neither with a data entry. send
// posts the request with the given Accept header.
func wantRequestError(t testing.TB, code string, send func(accept string) gqlResponse) gqlResponse {
	t.Helper()
	r := send("application/json")
	wantCode(t, r, http.StatusOK, code)
	if r.HasData || !strings.HasPrefix(r.ContentType, "application/json") {
		t.Errorf("application/json: a request error has a data entry or the wrong type (%s): %s", r.ContentType, r.Raw)
	}
	g := send("application/graphql-response+json")
	wantCode(t, g, http.StatusBadRequest, code)
	if g.HasData || !strings.HasPrefix(g.ContentType, "application/graphql-response+json") {
		t.Errorf("application/graphql-response+json: a request error has a data entry or the wrong type (%s): %s", g.ContentType, g.Raw)
	}
	return r
}

func wantCode(t testing.TB, r gqlResponse, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	if len(r.Errors) == 0 {
		t.Fatalf("want error %s, got none: %s", code, r.Raw)
	}
	for _, c := range r.codes() {
		if c != code {
			t.Errorf("code %s, want %s: %s", c, code, r.Raw)
		}
	}
}

func TestSmoke(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	r := s.post(t, "", `{ customer(id: "c1") { id name stage loyalty { score level expectedPurchases } } }`, nil)
	mustOK(t, r)
	if got := at(r.Data, "customer", "name"); got != "王芳" {
		t.Errorf("name = %v: %s", got, r.Raw)
	}
	// Three purchases make 王芳 ACTIVE, her open complaint COMPLAINING.
	if got := at(r.Data, "customer", "stage"); got != "COMPLAINING" {
		t.Errorf("stage = %v: %s", got, r.Raw)
	}
}

// Concurrent first requests that use enum literals do not race inside
// graphql-go (its enum lookups are built when the schema is made).
func TestConcurrentFirstRequestsWithEnums(t *testing.T) {
	srv := newServer(t, graphql.HandlerConfig{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			srv.post(t, "", `mutation { logContact(input:{customerId:"c1", channel:PHONE, direction:INBOUND, agent:"amy"}){ version } }`, nil)
		})
	}
	wg.Wait()
}
