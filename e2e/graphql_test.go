package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// client is a minimal GraphQL client over net/http: what any user's tool
// does — POST {query, variables} as JSON, read {data, errors}.
type client struct {
	t     *testing.T
	url   string
	token string
	http  *http.Client
}

// gqlError is one entry of a response's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is extensions.code.
func (e gqlError) Code() string {
	s, _ := e.Extensions["code"].(string)
	return s
}

// response is one GraphQL answer, with the raw body for failure messages.
type response struct {
	Status int             `json:"-"`
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	raw    string
}

func (r *response) String() string { return fmt.Sprintf("HTTP %d %s", r.Status, r.raw) }

// codes lists the errors' extensions.code.
func (r *response) codes() []string {
	var cs []string
	for _, e := range r.Errors {
		cs = append(cs, e.Code())
	}
	return cs
}

// do posts one operation; err is a transport or decoding failure only.
func (c *client) do(ctx context.Context, query string, vars map[string]any) (*response, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := &response{Status: resp.StatusCode, raw: string(b)}
	if err := json.Unmarshal(b, r); err != nil {
		return r, fmt.Errorf("HTTP %d, body is not a GraphQL response (%v): %s", resp.StatusCode, err, tail(string(b), 2000))
	}
	return r, nil
}

// must runs an operation that must succeed and decodes data into out (if
// not nil); any error fails the test with the whole response.
func (c *client) must(ctx context.Context, out any, query string, vars map[string]any) {
	c.t.Helper()
	r, err := c.do(ctx, query, vars)
	if err != nil {
		c.t.Fatalf("%v\nquery: %s\nvariables: %s", err, oneLine(query), js(vars))
	}
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		c.t.Fatalf("unexpected GraphQL errors %v\nquery: %s\nvariables: %s\nresponse: %s", r.codes(), oneLine(query), js(vars), tail(r.raw, 4000))
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			c.t.Fatalf("decode data into %T: %v\nresponse: %s", out, err, tail(r.raw, 4000))
		}
	}
}

// fails runs an operation that must fail with an error whose
// extensions.code is code; it returns that error.
func (c *client) fails(ctx context.Context, code, query string, vars map[string]any) gqlError {
	c.t.Helper()
	r, err := c.do(ctx, query, vars)
	if err != nil {
		c.t.Fatalf("%v\nquery: %s\nvariables: %s", err, oneLine(query), js(vars))
	}
	for _, e := range r.Errors {
		if e.Code() == code {
			return e
		}
	}
	c.t.Fatalf("want an error with extensions.code %s, got %v\nquery: %s\nvariables: %s\nresponse: %s", code, r.codes(), oneLine(query), js(vars), tail(r.raw, 4000))
	return gqlError{}
}

// eventually polls check until it reports done, failing the test with the
// last observation when within passes first.
func eventually(t *testing.T, ctx context.Context, within time.Duration, what string, check func() (done bool, seen string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		done, seen := check()
		if done {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %s; last seen: %s", what, within, seen)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// parseTime parses an API DateTime, failing the test when it is not RFC 3339.
func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("DateTime %q: %v", s, err)
	}
	return at
}

// stamp formats an instant as the API and the CLI take it.
func stamp(at time.Time) string { return at.UTC().Format(time.RFC3339Nano) }
