package graphql_test

import (
	"testing"

	"github.com/kefu-crm/kefu/graphql"
)

// TestUnmergeCustomersOverHTTP merges c2 into c1, sends every refusal an
// unmerge can meet (appending nothing), then unmerges: c2 is its own
// customer again and accepts commands.
func TestUnmergeCustomersOverHTTP(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{Tokens: testTokens(t)})
	const unmerge = `mutation($s: ID!, $u: [ID!]!, $v: [Int!], $by: String!, $why: String!) {
		unmergeCustomers(input: {survivorId: $s, unmergedIds: $u, by: $by, reason: $why, expectedVersions: $v}) {
			version customer { id mergedFrom mergedInto } } }`
	version := func(id string) int {
		r := s.post(t, "admin-token", `query($id: ID!) { customer(id: $id) { version } }`, map[string]any{"id": id})
		mustOK(t, r)
		return int(at(r.Data, "customer", "version").(float64))
	}
	mustOK(t, s.post(t, "am-token", `mutation { mergeCustomers(input: {survivorId: "c1", mergedIds: ["c2"], by: "alice", reason: "same phone"}) { version } }`, nil))
	v1 := version("c1")
	r := s.post(t, "admin-token", `{ customer(id: "c1") { timeline(first: 100) { edges { node { customerId revision type } } } } }`, nil)
	mustOK(t, r)
	v2 := -1
	for _, e := range at(r.Data, "customer", "timeline", "edges").([]any) {
		n := e.(map[string]any)["node"].(map[string]any)
		if n["customerId"] == "c2" && int(n["revision"].(float64)) > v2 {
			v2 = int(n["revision"].(float64))
		}
	}

	refuse := func(name, token, code string, vars map[string]any) gqlResponse {
		t.Helper()
		for k, v := range map[string]any{"by": "alice", "why": "two people"} {
			if _, ok := vars[k]; !ok {
				vars[k] = v
			}
		}
		before := s.appended()
		r := s.post(t, token, unmerge, vars)
		wantCode(t, r, 200, code)
		if got := s.appended(); got != before {
			t.Errorf("%s: %d events appended by a refused unmerge", name, got-before)
		}
		return r
	}
	refuse("analyst", "analyst-token", "FORBIDDEN", map[string]any{"s": "c1", "u": []string{"c2"}})
	refuse("marketing", "mkt-token", "FORBIDDEN", map[string]any{"s": "c1", "u": []string{"c2"}})
	refuse("self", "am-token", "BAD_USER_INPUT", map[string]any{"s": "c1", "u": []string{"c1"}})
	refuse("twice", "am-token", "BAD_USER_INPUT", map[string]any{"s": "c1", "u": []string{"c2", "c2"}})
	refuse("no reason", "am-token", "BAD_USER_INPUT", map[string]any{"s": "c1", "u": []string{"c2"}, "why": " "})
	refuse("no by", "am-token", "BAD_USER_INPUT", map[string]any{"s": "c1", "u": []string{"c2"}, "by": ""})
	refuse("unknown", "am-token", "NOT_FOUND", map[string]any{"s": "c1", "u": []string{"nobody"}})
	mustOK(t, s.post(t, "admin-token", `mutation { registerCustomer(input: {id: "c5", name: "Stranger"}) { version } }`, nil))
	refuse("not merged", "am-token", "FAILED_PRECONDITION", map[string]any{"s": "c1", "u": []string{"c5"}})
	refuse("the wrong way round", "am-token", "FAILED_PRECONDITION", map[string]any{"s": "c2", "u": []string{"c1"}})
	refuse("stale survivor", "am-token", "CONFLICT", map[string]any{"s": "c1", "u": []string{"c2"}, "v": []int{v1 - 1, v2}})
	refuse("stale restored", "am-token", "CONFLICT", map[string]any{"s": "c1", "u": []string{"c2"}, "v": []int{v1, v2 + 1}})
	refuse("versions count", "am-token", "BAD_USER_INPUT", map[string]any{"s": "c1", "u": []string{"c2"}, "v": []int{v1}})

	before := s.appended()
	r = s.post(t, "am-token", unmerge, map[string]any{"s": "c1", "u": []string{"c2"}, "v": []int{v1, v2}, "by": "alice", "why": "two people"})
	mustOK(t, r)
	if got := s.appended() - before; got != 2 {
		t.Errorf("unmerge appended %d events, want 2 (CustomerUnmerged, CustomersUnmerged)", got)
	}
	if id, mf := at(r.Data, "unmergeCustomers", "customer", "id"), at(r.Data, "unmergeCustomers", "customer", "mergedFrom"); id != "c1" || len(anyStrings(mf)) != 0 {
		t.Errorf("payload customer %v mergedFrom %v, want c1 with nobody merged in", id, mf)
	}
	r = s.post(t, "admin-token", `{ customer(id: "c2") { id mergedInto mergedFrom } }`, nil)
	mustOK(t, r)
	if id, mi := at(r.Data, "customer", "id"), at(r.Data, "customer", "mergedInto"); id != "c2" || mi != nil {
		t.Errorf("customer(c2) after the unmerge is %v (mergedInto %v), want c2 itself", id, mi)
	}
	mustOK(t, s.post(t, "am-token", `mutation { logContact(input: {customerId: "c2", channel: PHONE, direction: INBOUND, agent: "alice"}) { version } }`, nil))
	refuse("again", "am-token", "FAILED_PRECONDITION", map[string]any{"s": "c1", "u": []string{"c2"}})
}
