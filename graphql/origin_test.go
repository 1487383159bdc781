package graphql_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/graphql"
)

// guarded is the API behind graphql.Guard with policy p.
func guarded(t *testing.T, p graphql.BrowserPolicy) *server {
	t.Helper()
	s := newServer(t, graphql.HandlerConfig{})
	mux := http.NewServeMux()
	mux.Handle("/graphql", s.h)
	g, err := graphql.Guard(p, mux)
	if err != nil {
		t.Fatalf("Guard: %v", err)
	}
	ts := httptest.NewServer(g)
	t.Cleanup(ts.Close)
	s.Server = ts
	return s
}

// Without auth, a Host that is not loopback (DNS rebinding: evil.example
// re-pointed at 127.0.0.1) is refused on every route before anything
// runs; loopback names pass.
func TestGuardRefusesForeignHost(t *testing.T) {
	s := guarded(t, graphql.BrowserPolicy{LoopbackOnly: true})
	mutation := jsonBody(map[string]any{"query": `mutation { logContact(input: {customerId: "c1", channel: SMS, direction: OUTBOUND, agent: "a"}) { version } }`})
	port := s.Listener.Addr().String()
	port = port[strings.LastIndex(port, ":"):]
	for _, host := range []string{"evil.example" + port, "evil.example", "127.0.0.1.evil.example" + port, "localhost.evil.example" + port, "10.0.0.1" + port} {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(string(mutation)))
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r := decode(t, resp)
		if r.Status != http.StatusForbidden || len(r.codes()) != 1 || r.codes()[0] != "FORBIDDEN" || !strings.Contains(r.Raw, "DNS rebinding") {
			t.Errorf("Host %s: %d %s, want 403 FORBIDDEN", host, r.Status, r.Raw)
		}
	}
	if n := s.appended(); n != 0 {
		t.Fatalf("a refused Host appended %d events", n)
	}
	for _, host := range []string{"localhost" + port, "127.0.0.1" + port, "[::1]" + port, "kefu.localhost" + port, "127.0.0.2" + port} {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if r := decode(t, resp); r.Status != 200 || len(r.Errors) != 0 {
			t.Errorf("Host %s: %d %s, want 200", host, r.Status, r.Raw)
		}
	}
	// A proxy's name can be added; with auth any Host passes unless names
	// are given.
	s = guarded(t, graphql.BrowserPolicy{LoopbackOnly: true, Hosts: []string{"crm.example.com"}})
	if e := s.hostGet(t, "crm.example.com"); e != 200 {
		t.Errorf("allowed host: %d", e)
	}
	s = guarded(t, graphql.BrowserPolicy{})
	if e := s.hostGet(t, "crm.example.com"); e != 200 {
		t.Errorf("auth, any host: %d", e)
	}
	s = guarded(t, graphql.BrowserPolicy{Hosts: []string{"crm.example.com:8443"}})
	if e := s.hostGet(t, "other.example.com"); e != http.StatusForbidden {
		t.Errorf("auth with named hosts, another host: %d, want 403", e)
	}
}

func (s *server) hostGet(t *testing.T, host string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/graphql?query=%7B__typename%7D", nil)
	req.Host = host
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A request with an Origin that is neither the server's own nor listed is
// refused before anything runs; a listed one gets CORS headers and its
// preflight is answered; the server's own origin passes without them.
func TestGuardOriginsAndCORS(t *testing.T) {
	const app = "http://localhost:3000"
	s := guarded(t, graphql.BrowserPolicy{LoopbackOnly: true, CORSOrigins: []string{app, "https://crm.example.com:443"}})
	mutation := `{"query":"mutation { logContact(input: {customerId: \"c1\", channel: SMS, direction: OUTBOUND, agent: \"a\"}) { version } }"}`
	send := func(method, origin string, header ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, s.URL+"/graphql", strings.NewReader(mutation))
		req.Header.Set("Content-Type", "application/json")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	for _, o := range []string{"http://evil.example", "http://localhost:3001", "https://localhost:3000", "null", "http://127.0.0.1:3000"} {
		resp := send(http.MethodPost, o)
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("Origin %s: %d (ACAO %q), want 403 without CORS headers", o, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		if r := decode(t, resp); !strings.Contains(r.Raw, "--cors-origin") {
			t.Errorf("Origin %s: the refusal does not say how to allow it: %s", o, r.Raw)
		}
		pre := send(http.MethodOptions, o, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
		if pre.StatusCode != http.StatusForbidden || pre.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from %s: %d, want 403 without CORS headers", o, pre.StatusCode)
		}
	}
	if n := s.appended(); n != 0 {
		t.Fatalf("a refused origin appended %d events", n)
	}

	pre := send(http.MethodOptions, app, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != app ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "authorization") || pre.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("preflight from %s: %d %v", app, pre.StatusCode, pre.Header)
	}
	resp := send(http.MethodPost, app)
	if r := decode(t, resp); r.Status != 200 || len(r.Errors) != 0 || resp.Header.Get("Access-Control-Allow-Origin") != app || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
		t.Errorf("POST from %s: %d %v %s", app, r.Status, resp.Header, r.Raw)
	}
	// An origin given with its default port matches what browsers send.
	if resp := send(http.MethodPost, "https://crm.example.com"); resp.StatusCode != 200 {
		t.Errorf("https://crm.example.com: %d", resp.StatusCode)
	}
	// The server's own origin (the explorer page) passes, without CORS headers.
	resp = send(http.MethodPost, s.URL)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("same origin: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestBrowserPolicyValidate(t *testing.T) {
	for _, o := range []string{"*", "null", "localhost:3000", "ftp://x", "http://x/path", "http://user@x", ""} {
		err := graphql.BrowserPolicy{CORSOrigins: []string{o}}.Validate()
		if !errors.Is(err, graphql.ErrBrowserPolicy) {
			t.Errorf("origin %q: %v, want ErrBrowserPolicy", o, err)
		}
	}
	if err := (graphql.BrowserPolicy{CORSOrigins: []string{"http://localhost:3000", "https://app.example.com"}, Hosts: []string{"crm.example.com"}}).Validate(); err != nil {
		t.Errorf("valid policy: %v", err)
	}
}
