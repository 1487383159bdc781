package e2e_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// unmergeFields is what the unmerge journey reads of a customer (nothing
// that moves with the clock between two reads).
const unmergeFields = `id mergedFrom mergedInto stage purchaseCount version
	openComplaints { id } followUps { id }
	timeline(first: 100, oldestFirst: true) { totalCount edges { node { customerId type summary } } }`

type unmergeView struct {
	ID             string
	MergedFrom     []string
	MergedInto     *string
	Stage          string
	PurchaseCount  int
	Version        int
	OpenComplaints []struct{ ID string }
	FollowUps      []struct{ ID string }
	Timeline       struct {
		TotalCount int
		Edges      []struct {
			Node struct{ CustomerID, Type, Summary string }
		}
	}
}

// types lists the timeline's event types from the given customer's stream.
func (v unmergeView) types(from string) []string {
	var out []string
	for _, e := range v.Timeline.Edges {
		if e.Node.CustomerID == from {
			out = append(out, e.Node.Type)
		}
	}
	return out
}

// TestUnmergeJourney is an account manager who merged two customers that
// share a phone number, and learns a week later that they are husband and
// wife: she undoes the merge through the API. Each is then their own
// customer again — reads, commands, complaints, stage, the duplicates
// index and a campaign's audience — while both timelines keep the merge
// and the unmerge, and as of an instant in between they were one. A
// restart agrees; on a server whose unmerge window has passed since a
// merge, undoing it is refused with the time the window closed.
func TestUnmergeJourney(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 150*time.Second)
	dir := filepath.Join(t.TempDir(), "kefu-data")
	tokens := writeTokens(t)
	s := startServer(t, ctx, serveOpts{dir: dir, args: []string{"--auth", tokens}})
	amy, mia := s.client(tokAM), s.client(tokMarketing)

	base := time.Now().UTC().Add(-40 * 24 * time.Hour).Truncate(time.Second)
	day := func(d int) string { return stamp(base.Add(time.Duration(d) * 24 * time.Hour)) }
	register := func(id, name, phone string) {
		amy.must(ctx, nil, `mutation($id: ID!, $n: String!, $p: String!, $at: DateTime!) { registerCustomer(input: {id: $id, name: $n, phone: $p,
			accountManager: "e2e.unmerge", marketingConsent: true, occurredAt: $at}) { version } }`,
			map[string]any{"id": id, "n": name, "p": phone, "at": day(0)})
	}
	purchase := func(id string, d, minor int) {
		amy.must(ctx, nil, `mutation($id: ID!, $o: String!, $m: Int!, $at: DateTime!) { recordPurchase(input: {customerId: $id, orderId: $o, amount: {amountMinor: $m, currency: "CNY"}, items: ["rice"], occurredAt: $at}) { version } }`,
			map[string]any{"id": id, "o": id + "-o" + day(d)[:10], "m": minor, "at": day(d)})
	}
	register("hu-wei", "Hu Wei", "13912345678")
	register("hu-li", "Hu Li", "+86 139 1234 5678")
	purchase("hu-wei", 1, 12000)
	purchase("hu-wei", 10, 9000)
	purchase("hu-li", 5, 3000)
	amy.must(ctx, nil, `mutation($at: DateTime!) { fileComplaint(input: {customerId: "hu-li", complaintId: "k-hu-li", channel: PHONE, category: "delivery", description: "rice arrived wet", owner: "amy", occurredAt: $at}) { version } }`,
		map[string]any{"at": day(30)})

	read := func(c *client, id string, asOf *time.Time) (unmergeView, json.RawMessage) {
		t.Helper()
		vars := map[string]any{"id": id}
		q := `query($id: ID!) { customer(id: $id) { ` + unmergeFields + ` } }`
		if asOf != nil {
			vars["asOf"] = stamp(*asOf)
			q = `query($id: ID!, $asOf: DateTime) { customer(id: $id, asOf: $asOf) { ` + unmergeFields + ` } }`
		}
		var out struct{ Customer json.RawMessage }
		c.must(ctx, &out, q, vars)
		var v unmergeView
		if err := json.Unmarshal(out.Customer, &v); err != nil {
			t.Fatal(err)
		}
		return v, out.Customer
	}
	pairs := func(c *client) []string {
		t.Helper()
		var p struct {
			DuplicateCandidates struct {
				Edges []struct {
					Node struct{ Customers []struct{ ID string } }
				}
			}
		}
		c.must(ctx, &p, `{ duplicateCandidates(first: 50) { edges { node { customers { id } } } } }`, nil)
		var out []string
		for _, e := range p.DuplicateCandidates.Edges {
			var ids []string
			for _, c := range e.Node.Customers {
				ids = append(ids, c.ID)
			}
			out = append(out, strings.Join(ids, "+"))
		}
		return out
	}
	audience := func() int {
		t.Helper()
		var pv struct{ PreviewGreetingCampaign struct{ Evaluated int } }
		mia.must(ctx, &pv, `query($in: ScheduleGreetingCampaignInput!) { previewGreetingCampaign(input: $in) { evaluated } }`,
			map[string]any{"in": map[string]any{"name": "unmerge audience", "occasion": "CN:spring_festival", "sendAtLocal": "10:00",
				"audience":  map[string]any{"accountManager": "e2e.unmerge"},
				"templates": []any{map[string]any{"channel": "SMS", "body": "{{name}}，新年快乐！"}}}})
		return pv.PreviewGreetingCampaign.Evaluated
	}
	bookSize := func(c *client) int {
		t.Helper()
		var b struct{ Customers struct{ TotalCount int } }
		c.must(ctx, &b, `{ customers(first: 1, filter: {accountManager: "e2e.unmerge"}) { totalCount } }`, nil)
		return b.Customers.TotalCount
	}
	if got := pairs(amy); !slices.Contains(got, "hu-li+hu-wei") {
		t.Fatalf("duplicate candidates %v, want the pair sharing a phone", got)
	}
	apart, _ := read(amy, "hu-li", nil)
	if apart.Stage != "COMPLAINING" {
		t.Fatalf("hu-li with an open complaint is %s, want COMPLAINING", apart.Stage)
	}

	// The merge, through the API.
	beforeMerge := time.Now().UTC()
	time.Sleep(10 * time.Millisecond)
	amy.must(ctx, nil, `mutation { mergeCustomers(input: {survivorId: "hu-wei", mergedIds: ["hu-li"], by: "amy", reason: "same phone"}) { version } }`, nil)
	time.Sleep(10 * time.Millisecond)
	between := time.Now().UTC()
	time.Sleep(10 * time.Millisecond)
	merged, _ := read(amy, "hu-li", nil)
	if merged.ID != "hu-wei" || merged.PurchaseCount != 3 || merged.Stage != "COMPLAINING" {
		t.Fatalf("customer(hu-li) after the merge = %s with %d purchases, %s; want the survivor hu-wei with 3, COMPLAINING", merged.ID, merged.PurchaseCount, merged.Stage)
	}
	if got := pairs(amy); slices.Contains(got, "hu-li+hu-wei") {
		t.Errorf("the merged pair is still a duplicate candidate: %v", got)
	}
	if n, b := audience(), bookSize(amy); n != 1 || b != 1 {
		t.Errorf("while merged the audience has %d and the book %d of them, want 1 and 1", n, b)
	}

	// Refusals: roles, ids not merged into the survivor, the survivor
	// itself, stale versions, no reason. Nothing is appended.
	var vers struct{ W struct{ Version int } }
	amy.must(ctx, &vers, `{ w: customer(id: "hu-wei") { version } }`, nil)
	streamLen := func() int {
		var liStream struct {
			Events struct{ Edges []any }
		}
		amy.must(ctx, &liStream, `{ events(filter: {streamId: "customer-hu-li"}, first: 100) { edges { node { type } } } }`, nil)
		return len(liStream.Events.Edges)
	}
	liRev := streamLen() - 1
	const unmerge = `mutation($s: ID!, $u: [ID!]!, $why: String!, $v: [Int!]) { unmergeCustomers(input: {survivorId: $s, unmergedIds: $u, by: "amy", reason: $why, expectedVersions: $v}) {
		version customer { id mergedFrom } } }`
	ok := map[string]any{"s": "hu-wei", "u": []string{"hu-li"}, "why": "husband and wife, one phone"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range ok {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	for _, tok := range []string{tokMarketing, tokAnalyst} {
		s.client(tok).fails(ctx, "FORBIDDEN", unmerge, ok)
	}
	register("hu-stranger", "Stranger", "13700000000")
	amy.fails(ctx, "FAILED_PRECONDITION", unmerge, with("u", []string{"hu-stranger"}))
	amy.fails(ctx, "FAILED_PRECONDITION", unmerge, with("s", "hu-li", "u", []string{"hu-wei"}))
	amy.fails(ctx, "BAD_USER_INPUT", unmerge, with("u", []string{"hu-wei"}))
	amy.fails(ctx, "BAD_USER_INPUT", unmerge, with("why", ""))
	amy.fails(ctx, "CONFLICT", unmerge, with("v", []int{vers.W.Version - 1, liRev}))
	amy.fails(ctx, "CONFLICT", unmerge, with("v", []int{vers.W.Version, liRev + 1}))
	var after struct{ W struct{ Version int } }
	amy.must(ctx, &after, `{ w: customer(id: "hu-wei") { version } }`, nil)
	if after.W.Version != vers.W.Version || streamLen()-1 != liRev {
		t.Fatalf("refused unmerges appended: hu-wei at %d (was %d), hu-li at %d (was %d)", after.W.Version, vers.W.Version, streamLen()-1, liRev)
	}

	// The unmerge.
	var res struct {
		UnmergeCustomers struct {
			Version  int
			Customer struct {
				ID         string
				MergedFrom []string
			}
		}
	}
	amy.must(ctx, &res, unmerge, with("v", []int{vers.W.Version, liRev}))
	if u := res.UnmergeCustomers; u.Customer.ID != "hu-wei" || len(u.Customer.MergedFrom) != 0 || u.Version != vers.W.Version+1 {
		t.Errorf("unmergeCustomers payload %+v, want hu-wei at version %d with nobody merged in", u, vers.W.Version+1)
	}

	check := func(c *client, when string) map[string]json.RawMessage {
		t.Helper()
		raw := map[string]json.RawMessage{}
		li, liRaw := read(c, "hu-li", nil)
		wei, weiRaw := read(c, "hu-wei", nil)
		raw["hu-li"], raw["hu-wei"] = liRaw, weiRaw
		if li.ID != "hu-li" || li.MergedInto != nil || li.PurchaseCount != 1 || li.Stage != "COMPLAINING" ||
			len(li.OpenComplaints) != 1 || li.OpenComplaints[0].ID != "k-hu-li" {
			t.Errorf("%s: customer(hu-li) = %s mergedInto %v, %d purchases, %s, complaints %+v; want itself, 1 purchase, COMPLAINING with k-hu-li",
				when, li.ID, li.MergedInto, li.PurchaseCount, li.Stage, li.OpenComplaints)
		}
		if wei.ID != "hu-wei" || len(wei.MergedFrom) != 0 || wei.PurchaseCount != 2 || wei.Stage == "COMPLAINING" || len(wei.OpenComplaints) != 0 {
			t.Errorf("%s: customer(hu-wei) = mergedFrom %v, %d purchases, %s, complaints %+v; want its own 2 purchases and no complaint",
				when, wei.MergedFrom, wei.PurchaseCount, wei.Stage, wei.OpenComplaints)
		}
		// Both timelines keep the merge and the unmerge; the survivor's no
		// longer holds the restored customer's events.
		if got := wei.types("hu-li"); len(got) != 0 {
			t.Errorf("%s: hu-wei's timeline still holds hu-li's events %v", when, got)
		}
		if got := wei.types("hu-wei"); !slices.Contains(got, "CustomersMergedIn") || !slices.Contains(got, "CustomersUnmerged") {
			t.Errorf("%s: hu-wei's timeline %v lacks the merge or the unmerge", when, got)
		}
		if got := li.types("hu-li"); !slices.Contains(got, "CustomerMerged") || !slices.Contains(got, "CustomerUnmerged") {
			t.Errorf("%s: hu-li's timeline %v lacks the merge or the unmerge", when, got)
		}
		// As of between the merge and the unmerge they were one; before
		// the merge and now, two.
		for _, id := range []string{"hu-li", "hu-wei"} {
			v, r := read(c, id, &between)
			raw[id+"@between"] = r
			if v.ID != "hu-wei" || !slices.Equal(v.MergedFrom, []string{"hu-li"}) || v.PurchaseCount != 3 {
				t.Errorf("%s: customer(%s, asOf between) = %s mergedFrom %v with %d purchases; want hu-wei with both (3)", when, id, v.ID, v.MergedFrom, v.PurchaseCount)
			}
		}
		for id, want := range map[string]int{"hu-li": 1, "hu-wei": 2} {
			v, _ := read(c, id, &beforeMerge)
			if v.ID != id || v.PurchaseCount != want {
				t.Errorf("%s: customer(%s, asOf before the merge) = %s with %d purchases, want itself with %d", when, id, v.ID, v.PurchaseCount, want)
			}
		}
		if got := pairs(c); !slices.Contains(got, "hu-li+hu-wei") {
			t.Errorf("%s: duplicate candidates %v, want the restored pair back", when, got)
		}
		if n, b := audience(), bookSize(c); n != 3 || b != 3 {
			t.Errorf("%s: the audience has %d and the book %d, want 3 and 3 (hu-wei, hu-li, hu-stranger)", when, n, b)
		}
		// The stage filter and the lifecycle report count the restored
		// customer again, as customer(asOf:) does.
		var f struct {
			Customers struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		c.must(ctx, &f, `{ customers(first: 10, filter: {stages: [COMPLAINING]}) { edges { node { id } } } }`, nil)
		if len(f.Customers.Edges) != 1 || f.Customers.Edges[0].Node.ID != "hu-li" {
			t.Errorf("%s: COMPLAINING customers %+v, want [hu-li]", when, f.Customers.Edges)
		}
		now := time.Now().UTC()
		census := stageCensus(t, ctx, c, []string{"hu-wei", "hu-li", "hu-stranger"}, now)
		rep := lifecycleReport(t, ctx, c, now.Add(-24*time.Hour), now, "DAY")
		pop := map[string]int{}
		for _, p := range rep[len(rep)-1].Population {
			pop[p.Stage] = p.Count
		}
		if !sameCounts(pop, census) {
			t.Errorf("%s: lifecycleReport population today disagrees with customer(asOf: now):\n%s", when, stageDiff("lifecycleReport", pop, "customer(asOf:)", census))
		}
		return raw
	}
	live := check(amy, "after the unmerge")

	// Commands on the restored id are accepted again.
	amy.must(ctx, nil, `mutation { logContact(input: {customerId: "hu-li", channel: PHONE, direction: OUTBOUND, agent: "amy", summary: "sorry for the mix-up"}) { version } }`, nil)
	_, live["hu-li"] = read(amy, "hu-li", nil)
	amy.fails(ctx, "FAILED_PRECONDITION", unmerge, ok)

	// Restart: the same answers from the log.
	s.stop()
	s = startServer(t, ctx, serveOpts{dir: dir, args: []string{"--auth", tokens}})
	amy, mia = s.client(tokAM), s.client(tokMarketing)
	again := check(amy, "after a restart")
	for k, v := range live {
		if !jsonEqual(v, again[k]) {
			t.Errorf("%s after a restart differs:\n--- live\n%s\n--- restarted\n%s", k, v, again[k])
		}
	}

	// Past the window: merge again, then serve with a window shorter than
	// the restart took; the unmerge is refused, saying when it closed.
	amy.must(ctx, nil, `mutation { mergeCustomers(input: {survivorId: "hu-wei", mergedIds: ["hu-li"], by: "amy", reason: "merged again by mistake"}) { version } }`, nil)
	mergedAgain := time.Now().UTC()
	s.stop()
	s = startServer(t, ctx, serveOpts{dir: dir, args: []string{"--auth", tokens, "--unmerge-window", "1ms"}})
	amy = s.client(tokAM)
	amy.must(ctx, &vers, `{ w: customer(id: "hu-wei") { version } }`, nil)
	e := amy.fails(ctx, "FAILED_PRECONDITION", unmerge, ok)
	closed, err := time.Parse(time.RFC3339Nano, asString(e.Extensions["windowClosedAt"]))
	if err != nil || closed.After(mergedAgain.Add(time.Second)) || !closed.After(between) || !strings.Contains(e.Message, closed.UTC().Format(time.RFC3339)) {
		t.Errorf("refusal past the window: %q, extensions %v; want windowClosedAt just after the second merge (%s), named in the message", e.Message, e.Extensions, stamp(mergedAgain))
	}
	amy.must(ctx, &after, `{ w: customer(id: "hu-wei") { version } }`, nil)
	if after.W.Version != vers.W.Version {
		t.Errorf("the refused unmerge moved hu-wei from %d to %d", vers.W.Version, after.W.Version)
	}
	if v, _ := read(amy, "hu-li", nil); v.ID != "hu-wei" {
		t.Errorf("after the refused unmerge customer(hu-li) is %s, want the survivor hu-wei", v.ID)
	}
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}
