package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestDuplicateCandidates: a book with the same people registered twice —
// from a call and a WeChat message, with the phone written differently; a
// Gmail address with dots and a +suffix; the same name and birthday —
// and a stranger. duplicateCandidates finds the planted pairs with their
// reasons, best first, pages, honours minScore and refuses ANALYST; erasing
// one of a pair and merging another take them off the list; a restart
// rebuilds the same answer.
func TestDuplicateCandidates(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 2*time.Minute)
	dir := t.TempDir()
	tokens := writeTokens(t)
	s := startServer(t, ctx, serveOpts{dir: dir, args: []string{"--auth", tokens}})
	admin := s.client(tokAdmin)
	reg := func(in map[string]any) {
		t.Helper()
		admin.must(ctx, nil, `mutation($in: RegisterCustomerInput!) { registerCustomer(input: $in) { version } }`, map[string]any{"in": in})
	}
	reg(map[string]any{"id": "dp-a", "name": "王芳", "phone": "13800138000", "email": "Wang.Fang@gmail.com", "birthday": "1988-02-03", "accountManager": "amy"})
	reg(map[string]any{"id": "dp-b", "name": "王 芳", "phone": "+86 138 0013 8000", "wechat": "wf88", "birthday": "1988-02-03", "accountManager": "amy"})
	reg(map[string]any{"id": "dp-c", "name": "Fang W.", "email": "wangfang+shop@gmail.com", "accountManager": "amy"})
	reg(map[string]any{"id": "dp-d", "name": "Zhao Min", "birthday": "1990-05-01", "accountManager": "amy"})
	reg(map[string]any{"id": "dp-e", "name": "zhao min", "birthday": "1990-05-01", "phone": "13900000002", "accountManager": "amy"})
	reg(map[string]any{"id": "dp-f", "name": "Li Lei", "phone": "13900000003", "birthday": "1990-05-01", "accountManager": "amy"})

	type cand struct {
		Customers []struct{ ID string }
		Score     float64
		Reasons   []string
	}
	type page struct {
		DuplicateCandidates struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   *string
			}
			Edges []struct{ Node cand }
		}
	}
	list := func(c *client, vars map[string]any) page {
		t.Helper()
		var p page
		c.must(ctx, &p, `query($first: Int, $after: String, $min: Float) { duplicateCandidates(first: $first, after: $after, minScore: $min) {
			totalCount pageInfo { hasNextPage endCursor } edges { node { customers { id } score reasons } } } }`, vars)
		return p
	}
	show := func(p page) []string {
		var out []string
		for _, e := range p.DuplicateCandidates.Edges {
			n := e.Node
			s := ""
			for _, c := range n.Customers {
				s += c.ID + "+"
			}
			for _, r := range n.Reasons {
				s += " " + r
			}
			out = append(out, s)
		}
		return out
	}
	want := []string{
		"dp-a+dp-b+ SAME_PHONE SAME_NAME_AND_BIRTHDAY",
		"dp-a+dp-c+ SAME_EMAIL",
		"dp-d+dp-e+ SAME_NAME_AND_BIRTHDAY",
	}
	got := list(admin, nil)
	if js(show(got)) != js(want) || got.DuplicateCandidates.TotalCount != 3 {
		t.Fatalf("duplicateCandidates = %s (total %d), want %s", js(show(got)), got.DuplicateCandidates.TotalCount, js(want))
	}
	if sc := got.DuplicateCandidates.Edges[0].Node.Score; sc < 0.96 || sc > 0.963 {
		t.Errorf("phone + name and birthday score %v, want 1 − 0.15 × 0.25 = 0.9625", sc)
	}

	// Paging and the threshold.
	first := list(admin, map[string]any{"first": 1})
	if !first.DuplicateCandidates.PageInfo.HasNextPage || first.DuplicateCandidates.PageInfo.EndCursor == nil {
		t.Fatalf("first page %s", js(first))
	}
	rest := list(admin, map[string]any{"first": 5, "after": *first.DuplicateCandidates.PageInfo.EndCursor})
	if js(append(show(first), show(rest)...)) != js(want) || rest.DuplicateCandidates.PageInfo.HasNextPage {
		t.Errorf("paged: %s then %s, want %s", js(show(first)), js(show(rest)), js(want))
	}
	if strong := list(admin, map[string]any{"min": 0.9}); js(show(strong)) != js(want[:1]) {
		t.Errorf("minScore 0.9: %s, want %s", js(show(strong)), js(want[:1]))
	}
	s.client(tokAnalyst).fails(ctx, "FORBIDDEN", `{ duplicateCandidates { totalCount } }`, nil)
	admin.fails(ctx, "BAD_USER_INPUT", `{ duplicateCandidates(minScore: 2) { totalCount } }`, nil)
	// An exact phone or e-mail finds its customers through the index,
	// however it is written; a name is still found as text.
	search := func(q string) []string {
		t.Helper()
		var d struct {
			Customers struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		admin.must(ctx, &d, `query($q: String) { customers(filter: {search: $q}) { edges { node { id } } } }`, map[string]any{"q": q})
		var ids []string
		for _, e := range d.Customers.Edges {
			ids = append(ids, e.Node.ID)
		}
		return ids
	}
	for q, want := range map[string][]string{
		"+86 139-0000-0003":   {"dp-f"},
		"WANG.FANG@gmail.com": {"dp-a", "dp-c"},
		"0086 13800138000":    {"dp-a", "dp-b"},
		"Li Lei":              {"dp-f"},
	} {
		if got := search(q); js(got) != js(want) {
			t.Errorf("customers(filter: {search: %q}) = %v, want %v", q, got, want)
		}
	}
	// The reserved key subject is no customer ID.
	admin.fails(ctx, "BAD_USER_INPUT", `mutation { registerCustomer(input: {id: "kefu.blind-index", name: "x"}) { version } }`, nil)

	// Erase c, merge b into a: one pair is left.
	admin.must(ctx, nil, `mutation { eraseCustomer(input: {customerId: "dp-c", by: "admin", reason: "asked to be forgotten"}) { version } }`, nil)
	admin.must(ctx, nil, `mutation { mergeCustomers(input: {survivorId: "dp-a", mergedIds: ["dp-b"], by: "admin", reason: "same phone"}) { version } }`, nil)
	eventually(t, ctx, 10*time.Second, "the erased and the merged leave the candidates", func() (bool, string) {
		g := show(list(admin, nil))
		return js(g) == js(want[2:]), js(g)
	})
	// A page read on with a cursor from before the erasure and the merge
	// goes on where that page ended: nothing still listed is skipped.
	if later := show(list(admin, map[string]any{"first": 5, "after": *first.DuplicateCandidates.PageInfo.EndCursor})); js(later) != js(want[2:]) {
		t.Errorf("the page after the first one's cursor, read after the merge: %s, want %s", js(later), js(want[2:]))
	}
	before := js(list(admin, nil))
	s.stop()
	s2 := startServer(t, ctx, serveOpts{dir: dir, args: []string{"--auth", tokens}})
	if after := js(list(s2.client(tokAdmin), nil)); after != before {
		t.Errorf("after a restart %s, before %s", after, before)
	}
}

// TestSeededDuplicatesFoundAndMerged: `kefu seed --duplicates` plants
// duplicates; duplicateCandidates lists them (at least as many as planted,
// best first), and merging the best one through the API takes it off.
func TestSeededDuplicatesFoundAndMerged(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 2*time.Minute)
	dir := t.TempDir()
	out := kefu(t, ctx, "seed", "--data", dir, "--customers", "600", "--seed", "3", "--duplicates", "0.05")
	var planted int
	for _, l := range strings.Split(out.stdout, "\n") {
		if strings.Contains(l, "planted duplicates") {
			fmt.Sscanf(strings.TrimSpace(l), "planted duplicates %d", &planted)
		}
	}
	if planted < 10 {
		t.Fatalf("kefu seed planted %d duplicates:\n%s", planted, out.stdout)
	}
	s := startServer(t, ctx, serveOpts{dir: dir})
	c := s.client("")
	var d struct {
		DuplicateCandidates struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					Customers []struct{ ID string }
					Reasons   []string
				}
			}
		}
	}
	const q = `{ duplicateCandidates(first: 200) { totalCount edges { node { customers { id } reasons } } } }`
	c.must(ctx, &d, q, nil)
	if d.DuplicateCandidates.TotalCount < planted {
		t.Fatalf("%d candidates for %d planted duplicates", d.DuplicateCandidates.TotalCount, planted)
	}
	survivor, merged := d.DuplicateCandidates.Edges[0].Node.Customers[0].ID, d.DuplicateCandidates.Edges[0].Node.Customers[1].ID
	c.must(ctx, nil, `mutation($s: ID!, $m: ID!) { mergeCustomers(input: {survivorId: $s, mergedIds: [$m], by: "e2e", reason: "duplicate"}) { version } }`,
		map[string]any{"s": survivor, "m": merged})
	eventually(t, ctx, 10*time.Second, "the merged pair leaves the candidates", func() (bool, string) {
		d.DuplicateCandidates.Edges = nil
		c.must(ctx, &d, q, nil)
		for _, e := range d.DuplicateCandidates.Edges {
			if e.Node.Customers[0].ID == survivor && e.Node.Customers[1].ID == merged {
				return false, js(e)
			}
		}
		return true, ""
	})
}
