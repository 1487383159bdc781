package graphql_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kefu-crm/kefu/graphql"
)

// The GraphQL-over-HTTP conformance cases of the graphql-http audit suite
// (its server audits, named by their IDs), mirrored in Go so that CI checks
// them without node. Each case sends what the audit sends and checks what
// the audit checks (the MUSTs and the SHOULDs).

const (
	acceptJSON = "application/json"
	acceptGQL  = "application/graphql-response+json"
)

// exchange is one raw HTTP request and its answer.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

// bodyJSON decodes the answer as an execution result; ok is false when it
// is not a JSON object.
func (e exchange) bodyJSON() (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(e.body, &m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

func (e exchange) has(key string) bool {
	m, ok := e.bodyJSON()
	_, has := m[key]
	return ok && has
}

func (e exchange) String() string {
	return http.StatusText(e.status) + " " + e.header.Get("Content-Type") + " " + string(e.body)
}

// do sends a request: method, body (nil for none) and headers as pairs.
func (s *server) do(t *testing.T, method, target string, body []byte, headers ...string) exchange {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return exchange{status: resp.StatusCode, header: resp.Header, body: b}
}

func jsonBody(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestGraphQLOverHTTPAudit(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	endpoint := s.URL + "/graphql"
	typename := jsonBody(map[string]any{"query": "{ __typename }"})
	post := func(t *testing.T, accept string, body []byte) exchange {
		t.Helper()
		h := []string{"Content-Type", "application/json"}
		if accept != "" {
			h = append(h, "Accept", accept)
		}
		return s.do(t, http.MethodPost, endpoint, body, h...)
	}
	get := func(t *testing.T, accept string, params url.Values) exchange {
		t.Helper()
		var h []string
		if accept != "" {
			h = []string{"Accept", accept}
		}
		return s.do(t, http.MethodGet, endpoint+"?"+params.Encode(), nil, h...)
	}
	wantStatus := func(t *testing.T, e exchange, status int) {
		t.Helper()
		if e.status != status {
			t.Errorf("status %d, want %d: %s", e.status, status, e)
		}
	}
	wantType := func(t *testing.T, e exchange, ct string) {
		t.Helper()
		if !strings.Contains(e.header.Get("Content-Type"), ct) {
			t.Errorf("Content-Type %q, want %s", e.header.Get("Content-Type"), ct)
		}
	}
	wantErrors := func(t *testing.T, e exchange, want bool) {
		t.Helper()
		if _, ok := e.bodyJSON(); !ok {
			t.Fatalf("body is not a JSON object: %s", e)
		}
		if e.has("errors") != want {
			t.Errorf("errors entry present = %v, want %v: %s", !want, want, e)
		}
	}
	wantNoData := func(t *testing.T, e exchange) {
		t.Helper()
		if e.has("data") {
			t.Errorf("the data entry is present: %s", e)
		}
	}
	invalid := map[string]any{"object": map[string]any{"obj": "ect"}, "number": 0, "boolean": false, "array": []any{"array"}}

	cases := []struct {
		id, name string
		run      func(t *testing.T)
	}{
		{"22EB", "SHOULD accept application/graphql-response+json and match the content-type", func(t *testing.T) {
			e := post(t, acceptGQL, typename)
			wantStatus(t, e, 200)
			wantType(t, e, acceptGQL)
		}},
		{"4655", "MUST accept application/json and match the content-type", func(t *testing.T) {
			e := post(t, acceptJSON, typename)
			wantStatus(t, e, 200)
			wantType(t, e, acceptJSON)
		}},
		{"47DE", "SHOULD accept */* and use application/json for the content-type", func(t *testing.T) {
			e := post(t, "*/*", typename)
			wantStatus(t, e, 200)
			wantType(t, e, acceptJSON)
		}},
		{"80D8", "SHOULD assume application/json content-type when accept is missing", func(t *testing.T) {
			e := get(t, "", url.Values{"query": {"{ __typename }"}})
			wantStatus(t, e, 200)
			wantType(t, e, acceptJSON)
		}},
		{"82A3", "MUST use utf-8 encoding when responding", func(t *testing.T) {
			e := post(t, "", jsonBody(map[string]any{"query": `{ customer(id: "c1") { name } }`}))
			wantStatus(t, e, 200)
			if !utf8.Valid(e.body) || !strings.Contains(string(e.body), "王芳") || !strings.Contains(e.header.Get("Content-Type"), "charset=utf-8") {
				t.Errorf("not UTF-8 (or not said so): %s", e)
			}
		}},
		{"BF61", "MUST accept utf-8 encoded request", func(t *testing.T) {
			wantStatus(t, s.do(t, http.MethodPost, endpoint, typename, "Content-Type", "application/json; charset=utf-8"), 200)
		}},
		{"78D5", "MUST assume utf-8 in request if encoding is unspecified", func(t *testing.T) {
			e := post(t, "", jsonBody(map[string]any{"query": `{ customers(filter: {search: "王"}) { totalCount } }`}))
			wantStatus(t, e, 200)
			wantErrors(t, e, false)
		}},
		{"2C94", "MUST accept POST requests", func(t *testing.T) { wantStatus(t, post(t, "", typename), 200) }},
		{"5A70", "MAY accept application/x-www-form-urlencoded formatted GET requests", func(t *testing.T) {
			wantStatus(t, get(t, "", url.Values{"query": {"{ __typename }"}}), 200)
		}},
		{"9C48", "MAY NOT allow executing mutations on GET requests", func(t *testing.T) {
			e := get(t, acceptGQL, url.Values{"query": {"mutation { __typename }"}})
			if e.status < 400 || e.status > 499 {
				t.Errorf("status %d, want 4xx: %s", e.status, e)
			}
			e = get(t, acceptJSON, url.Values{"query": {`mutation { logContact(input: {customerId: "c1", channel: SMS, direction: OUTBOUND, agent: "a"}) { version } }`}})
			wantStatus(t, e, http.StatusMethodNotAllowed)
			if n := s.appended(); n != 0 {
				t.Errorf("a mutation over GET appended %d events", n)
			}
		}},
		{"9ABE", "SHOULD respond with 4xx status code if content-type is not supplied on POST requests", func(t *testing.T) {
			e := s.do(t, http.MethodPost, endpoint, nil)
			if e.status < 400 || e.status > 499 {
				t.Errorf("status %d, want 4xx: %s", e.status, e)
			}
		}},
		{"03D4", "MUST accept application/json POST requests", func(t *testing.T) { wantStatus(t, post(t, "", typename), 200) }},
		{"7267", "MUST require a request body on POST", func(t *testing.T) {
			e := s.do(t, http.MethodPost, endpoint, nil, "Content-Type", "application/json")
			if strings.Contains(e.header.Get("Content-Type"), "application/json") {
				wantErrors(t, e, true)
			} else {
				wantStatus(t, e, 400)
			}
		}},
		{"6610", "SHOULD use 400 status code on missing {query} parameter when accepting application/graphql-response+json", func(t *testing.T) {
			wantStatus(t, post(t, acceptGQL, jsonBody(map[string]any{"notquery": "{ __typename }"})), 400)
		}},
		{"3715", "SHOULD use 200 status code with errors field on missing {query} parameter when accepting application/json", func(t *testing.T) {
			e := post(t, acceptJSON, jsonBody(map[string]any{"notquery": "{ __typename }"}))
			wantStatus(t, e, 200)
			wantErrors(t, e, true)
		}},
		{"4F5x", "SHOULD use 400 status code on non-string {query} parameter when accepting application/graphql-response+json", func(t *testing.T) {
			for kind, v := range invalid {
				t.Run(kind, func(t *testing.T) { wantStatus(t, post(t, acceptGQL, jsonBody(map[string]any{"query": v})), 400) })
			}
		}},
		{"9FEx", "SHOULD use 200 status code with errors field on non-string {query} parameter when accepting application/json", func(t *testing.T) {
			for kind, v := range invalid {
				t.Run(kind, func(t *testing.T) {
					e := post(t, acceptJSON, jsonBody(map[string]any{"query": v}))
					wantStatus(t, e, 200)
					wantErrors(t, e, true)
				})
			}
		}},
		{"34A2", "SHOULD allow string {query} parameter when accepting application/graphql-response+json", func(t *testing.T) {
			wantStatus(t, post(t, acceptGQL, typename), 200)
		}},
		{"13EE", "MUST allow string {query} parameter when accepting application/json", func(t *testing.T) {
			e := post(t, acceptJSON, typename)
			wantStatus(t, e, 200)
			wantErrors(t, e, false)
		}},
		{"E3Ex", "SHOULD use 400 status code on non-string {operationName} parameter when accepting application/graphql-response+json", func(t *testing.T) {
			for kind, v := range invalid {
				t.Run(kind, func(t *testing.T) {
					wantStatus(t, post(t, acceptGQL, jsonBody(map[string]any{"operationName": v, "query": "{ __typename }"})), 400)
				})
			}
		}},
		{"FB9x", "SHOULD use 200 status code with errors field on non-string {operationName} parameter when accepting application/json", func(t *testing.T) {
			for kind, v := range invalid {
				t.Run(kind, func(t *testing.T) {
					e := post(t, acceptJSON, jsonBody(map[string]any{"operationName": v, "query": "{ __typename }"}))
					wantStatus(t, e, 200)
					wantErrors(t, e, true)
				})
			}
		}},
		{"8161", "SHOULD allow string {operationName} parameter when accepting application/graphql-response+json", func(t *testing.T) {
			wantStatus(t, post(t, acceptGQL, jsonBody(map[string]any{"operationName": "Query", "query": "query Query { __typename }"})), 200)
		}},
		{"B8B3", "MUST allow string {operationName} parameter when accepting application/json", func(t *testing.T) {
			e := post(t, acceptJSON, jsonBody(map[string]any{"operationName": "Query", "query": "query Query { __typename }"}))
			wantStatus(t, e, 200)
			wantErrors(t, e, false)
		}},
		{"94Bx/022x", "MUST allow null {variables}, {operationName} and {extensions}", func(t *testing.T) {
			for _, param := range []string{"variables", "operationName", "extensions"} {
				for _, accept := range []string{acceptGQL, acceptJSON} {
					t.Run(param+" "+accept, func(t *testing.T) {
						e := post(t, accept, jsonBody(map[string]any{"query": "{ __typename }", param: nil}))
						wantStatus(t, e, 200)
						wantErrors(t, e, false)
					})
				}
			}
		}},
		{"69Bx/F05x/904x/368x", "SHOULD refuse non-map {variables} and {extensions}: 400 in graphql-response+json, 200 with errors in json", func(t *testing.T) {
			for _, param := range []string{"variables", "extensions"} {
				for kind, v := range map[string]any{"string": "string", "number": 0, "boolean": false, "array": []any{"array"}} {
					t.Run(param+" "+kind, func(t *testing.T) {
						body := jsonBody(map[string]any{"query": "{ __typename }", param: v})
						wantStatus(t, post(t, acceptGQL, body), 400)
						e := post(t, acceptJSON, body)
						wantStatus(t, e, 200)
						wantErrors(t, e, true)
					})
				}
			}
		}},
		{"2EA1/28B9", "MUST allow map {variables} parameter", func(t *testing.T) {
			for _, accept := range []string{acceptGQL, acceptJSON} {
				e := post(t, accept, jsonBody(map[string]any{"query": "query Type($name: String!) { __type(name: $name) { name } }", "variables": map[string]any{"name": "sometype"}}))
				wantStatus(t, e, 200)
				wantErrors(t, e, false)
			}
		}},
		{"D6D5/6A70", "MAY allow URL-encoded JSON string {variables} parameter in GETs", func(t *testing.T) {
			for _, accept := range []string{acceptGQL, acceptJSON} {
				e := get(t, accept, url.Values{"query": {"query Type($name: String!) { __type(name: $name) { name } }"}, "variables": {`{"name":"sometype"}`}})
				wantStatus(t, e, 200)
				wantErrors(t, e, false)
			}
		}},
		{"428F/1B7A", "MUST allow map {extensions} parameter", func(t *testing.T) {
			for _, accept := range []string{acceptGQL, acceptJSON} {
				e := post(t, accept, jsonBody(map[string]any{"query": "{ __typename }", "extensions": map[string]any{"some": "value"}}))
				wantStatus(t, e, 200)
				wantErrors(t, e, false)
			}
		}},
		{"D477", "SHOULD use 200 status code on JSON parsing failure when accepting application/json", func(t *testing.T) {
			e := post(t, acceptJSON, []byte(`{ "not a JSON`))
			wantStatus(t, e, 200)
			wantErrors(t, e, true)
		}},
		{"F5AF", "SHOULD use 200 status code if parameters are invalid when accepting application/json", func(t *testing.T) {
			wantStatus(t, post(t, acceptJSON, jsonBody(map[string]any{"qeury": "{ __typename }"})), 200)
		}},
		{"572B", "SHOULD use 200 status code on document parsing failure when accepting application/json", func(t *testing.T) {
			wantStatus(t, post(t, acceptJSON, jsonBody(map[string]any{"query": "{"})), 200)
		}},
		{"FDE2", "SHOULD use 200 status code on document validation failure when accepting application/json", func(t *testing.T) {
			wantStatus(t, post(t, acceptJSON, jsonBody(map[string]any{"query": "{ 8f31403dfe404bccbb0e835f2629c6a7 }"})), 200)
		}},
		{"60AA/2163", "SHOULD use 400 status code on JSON parsing failure when accepting application/graphql-response+json", func(t *testing.T) {
			wantStatus(t, post(t, acceptGQL, []byte(`{ "not a JSON`)), 400)
		}},
		{"3E36/17C5/34D6", "SHOULD use 400 and no data entry if parameters are invalid when accepting application/graphql-response+json", func(t *testing.T) {
			e := post(t, acceptGQL, jsonBody(map[string]any{"qeury": "{ __typename }"}))
			wantStatus(t, e, 400)
			wantNoData(t, e)
		}},
		{"865D/556A/D586", "SHOULD use 400 and no data entry on document parsing failure when accepting application/graphql-response+json", func(t *testing.T) {
			e := post(t, acceptGQL, jsonBody(map[string]any{"query": "{"}))
			wantStatus(t, e, 400)
			wantNoData(t, e)
		}},
		{"51FE/74FF/5E5B", "SHOULD use 400 and no data entry on document validation failure when accepting application/graphql-response+json", func(t *testing.T) {
			e := post(t, acceptGQL, jsonBody(map[string]any{"query": "{ 8f31403dfe404bccbb0e835f2629c6a7 }"}))
			wantStatus(t, e, 400)
			wantNoData(t, e)
		}},
	}
	for _, c := range cases {
		t.Run(c.id+" "+c.name, c.run)
	}
}

// The parts of the GraphQL-over-HTTP spec the audit does not script: Accept
// negotiation by q and order, variable coercion (no data, 200/400), data
// present once execution started, 406, and a batch refused in words.
func TestGraphQLOverHTTPNegotiation(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	endpoint := s.URL + "/graphql"
	typename := jsonBody(map[string]any{"query": "{ __typename }"})
	for accept, want := range map[string]string{
		"application/graphql-response+json, application/json":                                                               acceptGQL, // graphql-request
		"application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed": acceptGQL, // urql
		"*/*": acceptJSON, // Apollo Client 3
		"application/graphql-response+json,application/json;q=0.9":        acceptGQL, // Apollo Client 4
		"application/json;q=0.5, application/graphql-response+json;q=0.4": acceptJSON,
		"application/json, application/graphql-response+json":             acceptJSON,
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": acceptJSON, // a browser
		"application/*": acceptJSON,
	} {
		e := s.do(t, http.MethodPost, endpoint, typename, "Content-Type", "application/json", "Accept", accept)
		if e.status != 200 || !strings.HasPrefix(e.header.Get("Content-Type"), want) {
			t.Errorf("Accept %q: %s, want 200 %s", accept, e, want)
		}
	}
	if e := s.do(t, http.MethodOptions, endpoint, nil); e.status != http.StatusNoContent || !strings.Contains(e.header.Get("Allow"), "POST") {
		t.Errorf("OPTIONS: %s, want 204 with Allow", e)
	}
	e := s.do(t, http.MethodPost, endpoint, typename, "Content-Type", "application/json", "Accept", "text/plain")
	if e.status != http.StatusNotAcceptable || !e.has("errors") {
		t.Errorf("Accept text/plain: %s, want 406 with errors", e)
	}

	// Variable coercion: refused before execution, so no data entry; 200 in
	// application/json (Apollo Client keeps extensions.code), 400 in
	// application/graphql-response+json.
	coerce := jsonBody(map[string]any{"query": `query($c: Channel!) { logContact(input: {customerId: "c1", channel: $c, direction: INBOUND, agent: "a"}) { version } }`, "variables": map[string]any{"c": "PIGEON"}})
	for accept, status := range map[string]int{acceptJSON: 200, acceptGQL: 400, "*/*": 200} {
		e := s.do(t, http.MethodPost, endpoint, coerce, "Content-Type", "application/json", "Accept", accept)
		if e.status != status || e.has("data") || !strings.Contains(string(e.body), `"code":"BAD_USER_INPUT"`) {
			t.Errorf("bad enum variable, Accept %s: %s, want %d, BAD_USER_INPUT and no data", accept, e, status)
		}
	}
	// Execution started: data is there, even null, and the status is 200 in
	// both media types.
	for _, accept := range []string{acceptJSON, acceptGQL} {
		e := s.do(t, http.MethodPost, endpoint, jsonBody(map[string]any{"query": `{ holidays(calendar: "XX", from: "2026-01-01", to: "2026-02-01") { key } }`}), "Content-Type", "application/json", "Accept", accept)
		if e.status != 200 || !e.has("data") || !strings.Contains(string(e.body), `"path":["holidays"]`) {
			t.Errorf("field error, Accept %s: %s, want 200 with data and the field's error", accept, e)
		}
	}
	// A batch gets an error that says what to do, in words, not Go types.
	batch := []byte(`[{"query":"{ __typename }"},{"query":"{ __typename }"}]`)
	for _, accept := range []string{acceptJSON, acceptGQL} {
		e := s.do(t, http.MethodPost, endpoint, batch, "Content-Type", "application/json", "Accept", accept)
		body := string(e.body)
		if !strings.Contains(body, "batched requests") || !strings.Contains(body, "each operation in its own request") || strings.Contains(body, "Go ") || strings.Contains(body, "struct") || e.has("data") {
			t.Errorf("batch, Accept %s: %s", accept, e)
		}
	}
	// No body error names a Go type.
	for _, body := range []string{`{"query": 42}`, `{"variables": [1], "query": "{ __typename }"}`, `"just a string"`, `42`, `{"operationName": {}, "query": "{ __typename }"}`} {
		e := s.do(t, http.MethodPost, endpoint, []byte(body), "Content-Type", "application/json")
		if !e.has("errors") || strings.Contains(string(e.body), "Go ") || strings.Contains(string(e.body), "struct") || strings.Contains(string(e.body), "map[") {
			t.Errorf("body %s: %s", body, e)
		}
	}
}

// Only application/json bodies are read: application/jsonp, text/plain,
// forms and a body without a type are 415 (the types a page on another
// origin may send without a preflight), and nothing runs.
func TestContentTypeIsApplicationJSON(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	mutation := jsonBody(map[string]any{"query": `mutation { logContact(input: {customerId: "c1", channel: SMS, direction: OUTBOUND, agent: "a"}) { version } }`})
	for _, ct := range []string{"", "application/jsonp", "application/json-seq", "application/jsonx; charset=utf-8", "text/plain", "text/plain;charset=UTF-8",
		"application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", "application/graphql"} {
		var h []string
		if ct != "" {
			h = []string{"Content-Type", ct}
		}
		e := s.do(t, http.MethodPost, s.URL+"/graphql", mutation, h...)
		if e.status != http.StatusUnsupportedMediaType || !strings.Contains(string(e.body), "application/json") {
			t.Errorf("Content-Type %q: %s, want 415", ct, e)
		}
	}
	if n := s.appended(); n != 0 {
		t.Fatalf("a refused body appended %d events", n)
	}
	for _, ct := range []string{"application/json", "Application/JSON", "application/json; charset=utf-8", "application/json;charset=UTF-8"} {
		if e := s.do(t, http.MethodPost, s.URL+"/graphql", mutation, "Content-Type", ct); e.status != 200 || e.has("errors") {
			t.Errorf("Content-Type %q: %s, want 200", ct, e)
		}
	}
}
