package graphql_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/graphql"
)

// TestMergeCustomersOverHTTP merges c2 into c1 through the HTTP API, after
// every refusal the merge can meet has been sent and appended nothing.
func TestMergeCustomersOverHTTP(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{Tokens: testTokens(t)})
	const merge = `mutation($s: ID!, $m: [ID!]!, $v: [Int!], $p: [ProfileChoiceInput!], $k: String) {
		mergeCustomers(input: {survivorId: $s, mergedIds: $m, by: "alice", reason: "same person", expectedVersions: $v, profile: $p, idempotencyKey: $k}) {
			version customer { id mergedFrom mergedInto purchaseCount } } }`
	version := func(id string) int {
		r := s.post(t, "admin-token", `query($id: ID!) { customer(id: $id) { version } }`, map[string]any{"id": id})
		mustOK(t, r)
		return int(at(r.Data, "customer", "version").(float64))
	}
	mustOK(t, s.post(t, "admin-token", `mutation { registerCustomer(input: {id: "c3", name: "Erased"}) { version } }`, nil))
	mustOK(t, s.post(t, "admin-token", `mutation { eraseCustomer(input: {customerId: "c3", by: "root", reason: "request"}) { version } }`, nil))
	v1, v2 := version("c1"), version("c2")

	refuse := func(name, token, code string, vars map[string]any) {
		t.Helper()
		before := s.appended()
		r := s.post(t, token, merge, vars)
		wantCode(t, r, 200, code)
		if got := s.appended(); got != before {
			t.Errorf("%s: %d events appended by a refused merge", name, got-before)
		}
	}
	both := map[string]any{"s": "c1", "m": []string{"c2"}}
	refuse("analyst", "analyst-token", "FORBIDDEN", both)
	refuse("marketing", "mkt-token", "FORBIDDEN", both)
	refuse("self", "am-token", "BAD_USER_INPUT", map[string]any{"s": "c1", "m": []string{"c1"}})
	refuse("twice", "am-token", "BAD_USER_INPUT", map[string]any{"s": "c1", "m": []string{"c2", "c2"}})
	refuse("unknown merged", "am-token", "NOT_FOUND", map[string]any{"s": "c1", "m": []string{"nobody"}})
	refuse("unknown survivor", "am-token", "NOT_FOUND", map[string]any{"s": "nobody", "m": []string{"c2"}})
	refuse("into erased", "am-token", "FAILED_PRECONDITION", map[string]any{"s": "c3", "m": []string{"c2"}})
	refuse("erased merged", "am-token", "FAILED_PRECONDITION", map[string]any{"s": "c1", "m": []string{"c3"}})
	refuse("stale survivor", "am-token", "CONFLICT", map[string]any{"s": "c1", "m": []string{"c2"}, "v": []int{v1 - 1, v2}})
	refuse("stale merged", "am-token", "CONFLICT", map[string]any{"s": "c1", "m": []string{"c2"}, "v": []int{v1, v2 + 1}})
	refuse("versions count", "am-token", "BAD_USER_INPUT", map[string]any{"s": "c1", "m": []string{"c2"}, "v": []int{v1}})
	refuse("negative version", "am-token", "BAD_USER_INPUT", map[string]any{"s": "c1", "m": []string{"c2"}, "v": []int{-1, v2}})
	refuse("bad profile field", "am-token", "BAD_USER_INPUT", map[string]any{"s": "c1", "m": []string{"c2"}, "p": []map[string]any{{"field": "shoeSize", "from": "c2"}}})
	refuse("bad id", "am-token", "BAD_USER_INPUT", map[string]any{"s": "c1", "m": []string{"no spaces"}})
	many := make([]string, command.MaxMergeIDs+1)
	for i := range many {
		many[i] = fmt.Sprintf("m-%d", i)
	}
	refuse("too many", "am-token", "BAD_USER_INPUT", map[string]any{"s": "c1", "m": many})
	refuse("long key", "am-token", "BAD_USER_INPUT", map[string]any{"s": "c1", "m": []string{"c2"}, "k": strings.Repeat("k", aggregate.MaxLineRunes+1)})
	refuse("key with a line break", "am-token", "BAD_USER_INPUT", map[string]any{"s": "c1", "m": []string{"c2"}, "k": "merge\nc2"})

	before := s.appended()
	r := s.post(t, "am-token", merge, map[string]any{"s": "c1", "m": []string{"c2"}, "v": []int{v1, v2}, "p": []map[string]any{{"field": "segment", "from": "c2"}}})
	mustOK(t, r)
	if got := s.appended() - before; got != 2 {
		t.Errorf("merge appended %d events, want 2 (CustomerMerged, CustomersMergedIn)", got)
	}
	if id := at(r.Data, "mergeCustomers", "customer", "id"); id != "c1" {
		t.Errorf("payload customer %v, want the survivor c1", id)
	}
	if got := at(r.Data, "mergeCustomers", "version"); got != float64(v1+1) {
		t.Errorf("payload version %v, want %d", got, v1+1)
	}

	// The merged id reads as the survivor; the timeline says where each
	// event came from.
	r = s.post(t, "admin-token", `{ customer(id: "c2") { id mergedFrom mergedInto
		timeline(first: 100, oldestFirst: true) { edges { node { customerId type } } } } }`, nil)
	mustOK(t, r)
	if id := at(r.Data, "customer", "id"); id != "c1" {
		t.Errorf("customer(c2) is %v, want the survivor c1", id)
	}
	if mf := at(r.Data, "customer", "mergedFrom"); !slices.Equal(anyStrings(mf), []string{"c2"}) {
		t.Errorf("mergedFrom %v, want [c2]", mf)
	}
	if mi := at(r.Data, "customer", "mergedInto"); mi != nil {
		t.Errorf("survivor's mergedInto %v, want null", mi)
	}
	from := map[string][]string{}
	for _, e := range at(r.Data, "customer", "timeline", "edges").([]any) {
		n := e.(map[string]any)["node"].(map[string]any)
		from[n["customerId"].(string)] = append(from[n["customerId"].(string)], n["type"].(string))
	}
	if !slices.Contains(from["c2"], "CustomerRegistered") || !slices.Contains(from["c2"], "CustomerMerged") || !slices.Contains(from["c1"], "CustomersMergedIn") {
		t.Errorf("timeline sources %v: want c2's registration and CustomerMerged, c1's CustomersMergedIn", from)
	}

	// After the merge: commands on the merged id name the survivor; a
	// second merge and a cycle are refused.
	before = s.appended()
	r = s.post(t, "am-token", `mutation { logContact(input: {customerId: "c2", channel: PHONE, direction: INBOUND, agent: "alice"}) { version } }`, nil)
	wantCode(t, r, 200, "FAILED_PRECONDITION")
	if into := r.Errors[0].Extensions["into"]; into != "c1" {
		t.Errorf("refusal on a merged id names %v, want the survivor c1: %s", into, r.Raw)
	}
	if s.appended() != before {
		t.Error("a command on a merged id appended events")
	}
	mustOK(t, s.post(t, "admin-token", `mutation { registerCustomer(input: {id: "c4", name: "Another"}) { version } }`, nil))
	refuse("already merged", "am-token", "FAILED_PRECONDITION", map[string]any{"s": "c4", "m": []string{"c2"}})
	refuse("cycle", "am-token", "FAILED_PRECONDITION", map[string]any{"s": "c2", "m": []string{"c1"}})
}

func anyStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
