package e2e_test

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mergeFields is what the merge journey reads of a customer (nothing that
// moves with the clock between two reads, such as pAlive).
const mergeFields = `id mergedFrom mergedInto stage purchaseCount lifetimeValue { amountMinor currency }
	loyalty { score level recoveredComplaints }
	openComplaints { id } followUps { id complaint { id } }
	timeline(first: 100, oldestFirst: true) { totalCount edges { node { customerId type occurredAt position } } }`

type mergeView struct {
	ID            string
	MergedFrom    []string
	MergedInto    *string
	Stage         string
	PurchaseCount int
	Loyalty       struct {
		Score               int
		Level               string
		RecoveredComplaints int
	}
	OpenComplaints []struct{ ID string }
	FollowUps      []struct {
		ID        string
		Complaint *struct{ ID string }
	}
	Timeline struct {
		TotalCount int
		Edges      []struct {
			Node struct {
				CustomerID, Type, Position string
				OccurredAt                 time.Time
			}
		}
	}
}

// TestMergeJourney is an account manager finding that two customers are
// one person: a1 (registered from a phone call) and b1 (from WeChat) each
// hold part of the history. She merges b1 into a1 through the API; the
// merged id then reads as a1 with both histories, as one customer u1 who
// had the whole history reads; as of before the merge they are apart; a
// restart agrees with the live answer.
func TestMergeJourney(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 120*time.Second)
	dir := filepath.Join(t.TempDir(), "kefu-data")
	s := startServer(t, ctx, serveOpts{dir: dir, args: []string{"--auth", writeTokens(t)}})
	amy := s.client(tokAM)

	base := time.Now().UTC().Add(-60 * 24 * time.Hour).Truncate(time.Second)
	day := func(d int) string { return stamp(base.Add(time.Duration(d) * 24 * time.Hour)) }
	// One person's history, in time order; each step is recorded on the
	// duplicate it happened to reach (who) and on u1, the reference.
	type step struct {
		who string
		do  func(id, suffix string)
	}
	register := func(id, name, at string) {
		amy.must(ctx, nil, `mutation($id: ID!, $n: String!, $at: DateTime!) { registerCustomer(input: {id: $id, name: $n, occurredAt: $at}) { version } }`,
			map[string]any{"id": id, "n": name, "at": at})
	}
	purchase := func(d int, minor int) func(id, suffix string) {
		return func(id, suffix string) {
			amy.must(ctx, nil, `mutation($id: ID!, $o: String!, $m: Int!, $at: DateTime!) { recordPurchase(input: {customerId: $id, orderId: $o, amount: {amountMinor: $m, currency: "CNY"}, items: ["tea"], occurredAt: $at}) { version } }`,
				map[string]any{"id": id, "o": "o" + strconv.Itoa(d) + suffix, "m": minor, "at": day(d)})
		}
	}
	contact := func(d int) func(id, suffix string) {
		return func(id, _ string) {
			amy.must(ctx, nil, `mutation($id: ID!, $at: DateTime!) { logContact(input: {customerId: $id, channel: WECHAT, direction: INBOUND, agent: "amy", occurredAt: $at}) { version } }`,
				map[string]any{"id": id, "at": day(d)})
		}
	}
	complain := func(d int) func(id, suffix string) {
		return func(id, suffix string) {
			amy.must(ctx, nil, `mutation($id: ID!, $k: ID!, $at: DateTime!) { fileComplaint(input: {customerId: $id, complaintId: $k, channel: WECHAT, category: "quality", description: "stale tea", owner: "amy", occurredAt: $at}) { version } }`,
				map[string]any{"id": id, "k": "k" + suffix, "at": day(d)})
			amy.must(ctx, nil, `mutation($id: ID!, $k: ID!, $due: DateTime!) { scheduleFollowUp(input: {customerId: $id, complaintId: $k, reason: RECOVERY, owner: "amy", dueAt: $due, note: "call back"}) { followUp { id } } }`,
				map[string]any{"id": id, "k": "k" + suffix, "due": day(d + 2)})
		}
	}
	register("a1", "Zhang Wei", day(0))
	register("u1", "Zhang Wei", day(0))
	steps := []step{
		{"a1", purchase(1, 12000)},
		{"b1", func(id, suffix string) {
			if id == "b1" {
				register("b1", "张伟", day(5))
			}
		}},
		{"b1", purchase(6, 8000)},
		{"a1", contact(10)},
		{"b1", purchase(20, 15000)},
		{"a1", purchase(30, 9000)},
		{"a1", purchase(50, 11000)},
		// Last: the follow-up it schedules is recorded as of now.
		{"b1", complain(55)},
	}
	for _, st := range steps {
		st.do(st.who, "-"+st.who)
		st.do("u1", "-u1")
	}

	read := func(c *client, id string, asOf *time.Time) (mergeView, json.RawMessage) {
		t.Helper()
		vars := map[string]any{"id": id}
		q := `query($id: ID!) { customer(id: $id) { ` + mergeFields + ` } }`
		if asOf != nil {
			vars["asOf"] = stamp(*asOf)
			q = `query($id: ID!, $asOf: DateTime) { customer(id: $id, asOf: $asOf) { ` + mergeFields + ` } }`
		}
		var out struct{ Customer json.RawMessage }
		c.must(ctx, &out, q, vars)
		var v mergeView
		if err := json.Unmarshal(out.Customer, &v); err != nil {
			t.Fatal(err)
		}
		return v, out.Customer
	}
	var versions struct{ A, B struct{ Version int } }
	amy.must(ctx, &versions, `{ a: customer(id: "a1") { version } b: customer(id: "b1") { version } }`, nil)

	// A marketer and an analyst may not merge; nothing is appended.
	for _, tok := range []string{tokMarketing, tokAnalyst} {
		s.client(tok).fails(ctx, "FORBIDDEN", `mutation { mergeCustomers(input: {survivorId: "a1", mergedIds: ["b1"], by: "x", reason: "dup"}) { version } }`, nil)
	}
	beforeMerge := time.Now().UTC()
	time.Sleep(10 * time.Millisecond)
	var merged struct {
		MergeCustomers struct {
			Version  int
			Customer struct {
				ID         string
				MergedFrom []string
			}
		}
	}
	amy.must(ctx, &merged, `mutation($v: [Int!]) { mergeCustomers(input: {survivorId: "a1", mergedIds: ["b1"], by: "amy", reason: "same phone, same person", expectedVersions: $v, idempotencyKey: "merge-a1-b1"}) { version customer { id mergedFrom } } }`,
		map[string]any{"v": []int{versions.A.Version, versions.B.Version}})
	if m := merged.MergeCustomers; m.Customer.ID != "a1" || !slices.Equal(m.Customer.MergedFrom, []string{"b1"}) || m.Version != versions.A.Version+1 {
		t.Errorf("mergeCustomers payload %+v, want a1 at version %d with mergedFrom [b1]", m, versions.A.Version+1)
	}

	live, liveRaw := read(amy, "b1", nil)
	ref, _ := read(amy, "u1", nil)
	if live.ID != "a1" || !slices.Equal(live.MergedFrom, []string{"b1"}) || live.MergedInto != nil {
		t.Errorf("customer(b1) = %s mergedFrom %v mergedInto %v; want the survivor a1, mergedFrom [b1], mergedInto null", live.ID, live.MergedFrom, live.MergedInto)
	}
	// Stage and loyalty over the union equal those of one customer with
	// the whole history.
	if live.Stage != ref.Stage || live.PurchaseCount != ref.PurchaseCount || live.Loyalty != ref.Loyalty {
		t.Errorf("merged a1: stage %s, %d purchases, loyalty %+v; one customer with the union history: stage %s, %d purchases, loyalty %+v",
			live.Stage, live.PurchaseCount, live.Loyalty, ref.Stage, ref.PurchaseCount, ref.Loyalty)
	}
	if live.PurchaseCount != 5 {
		t.Errorf("merged a1 counts %d purchases, want 5 (3 of a1, 2 of b1)", live.PurchaseCount)
	}
	// Complaints and follow-ups move to the survivor.
	if len(live.OpenComplaints) != 1 || live.OpenComplaints[0].ID != "k-b1" {
		t.Errorf("survivor's open complaints %+v, want b1's complaint k-b1", live.OpenComplaints)
	}
	if len(live.FollowUps) != len(ref.FollowUps) || len(live.FollowUps) == 0 {
		t.Errorf("survivor has %d follow-ups, the reference %d (want the same, at least one)", len(live.FollowUps), len(ref.FollowUps))
	}
	// The timeline interleaves both histories in order, saying where each
	// event is from; apart from the registrations and the merge itself it
	// is the reference's.
	var kinds, refKinds []string
	sources := ""
	var lastPos uint64
	var lastAt time.Time
	for _, e := range live.Timeline.Edges {
		n := e.Node
		pos, _ := strconv.ParseUint(n.Position, 10, 64)
		if pos <= lastPos || n.OccurredAt.Before(lastAt) {
			t.Errorf("timeline out of order at %s %s (position %s, occurred %s)", n.CustomerID, n.Type, n.Position, n.OccurredAt)
		}
		lastPos, lastAt = pos, n.OccurredAt
		if n.CustomerID != "a1" && n.CustomerID != "b1" {
			t.Errorf("timeline entry from %q", n.CustomerID)
		}
		if sources == "" || sources[len(sources)-1] != n.CustomerID[0] {
			sources += n.CustomerID[:1]
		}
		switch n.Type {
		case "CustomerRegistered", "CustomerMerged", "CustomersMergedIn":
		default:
			kinds = append(kinds, n.Type)
		}
	}
	for _, e := range ref.Timeline.Edges {
		if e.Node.Type != "CustomerRegistered" {
			refKinds = append(refKinds, e.Node.Type)
		}
	}
	if !slices.Equal(kinds, refKinds) {
		t.Errorf("merged timeline %v, want the reference's %v", kinds, refKinds)
	}
	if !regexp.MustCompile(`^ababab`).MatchString(sources) {
		t.Errorf("timeline sources switch %q, want the two histories interleaved (a, b, a, b, a, b …)", sources)
	}

	// As of before the merge they are two customers.
	for id, want := range map[string]int{"a1": 3, "b1": 2} {
		v, _ := read(amy, id, &beforeMerge)
		if v.ID != id || len(v.MergedFrom) != 0 || v.PurchaseCount != want {
			t.Errorf("customer(%s, asOf before the merge) = %s with %d purchases, mergedFrom %v; want itself with %d, unmerged", id, v.ID, v.PurchaseCount, v.MergedFrom, want)
		}
	}

	// Commands on the merged id name the survivor.
	e := amy.fails(ctx, "FAILED_PRECONDITION", `mutation { logContact(input: {customerId: "b1", channel: PHONE, direction: INBOUND, agent: "amy"}) { version } }`, nil)
	if e.Extensions["into"] != "a1" {
		t.Errorf("refusal on the merged id: extensions %v, want into a1", e.Extensions)
	}
	var book struct{ Customers struct{ TotalCount int } }
	amy.must(ctx, &book, `{ customers(first: 1) { totalCount } }`, nil)
	if book.Customers.TotalCount != 2 {
		t.Errorf("the book lists %d customers after the merge, want 2 (a1, u1)", book.Customers.TotalCount)
	}
	// The merged customer's name, as text, finds the survivor.
	var found struct {
		Customers struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	amy.must(ctx, &found, `{ customers(filter: {search: "张伟"}) { edges { node { id } } } }`, nil)
	if len(found.Customers.Edges) != 1 || found.Customers.Edges[0].Node.ID != "a1" {
		t.Errorf("search for the merged customer's name: %+v, want the survivor a1", found.Customers.Edges)
	}
	if h := s.health(ctx); h.Customers != 2 {
		t.Errorf("/healthz counts %d customers after the merge, want the book's 2", h.Customers)
	}

	// The book's populations: three customers before the merge, two
	// after — lifecycleReport, the stage filter and kefu replay agree with
	// customer(asOf:) of the customers the book had at each instant.
	afterMerge := time.Now().UTC()
	// Report buckets are calendar days: the population at the end of
	// yesterday's is before the merge; today's ends tonight and counts the
	// changes so far, the merge among them.
	midnight := afterMerge.Truncate(24 * time.Hour)
	populations := func(c *client, label string) {
		t.Helper()
		for _, at := range []struct {
			from, to, census time.Time
			ids              []string
		}{{midnight.Add(-48 * time.Hour), midnight, midnight, []string{"a1", "b1", "u1"}},
			{midnight.Add(-24 * time.Hour), afterMerge, afterMerge, []string{"a1", "u1"}}} {
			census := stageCensus(t, ctx, c, at.ids, at.census)
			rep := lifecycleReport(t, ctx, c, at.from, at.to, "DAY")
			pop := map[string]int{}
			for _, p := range rep[len(rep)-1].Population {
				pop[p.Stage] = p.Count
			}
			if !sameCounts(pop, census) {
				t.Errorf("%s: lifecycleReport population of the day bucket up to %s disagrees with customer(asOf: %s) of %v:\n%s", label, stamp(at.to), stamp(at.census), at.ids,
					stageDiff("lifecycleReport", pop, "customer(asOf:)", census))
			}
		}
		var f struct {
			Customers struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		c.must(ctx, &f, `query($s: [Stage!]) { customers(first: 10, filter: {stages: $s}) { edges { node { id } } } }`, map[string]any{"s": []string{live.Stage}})
		var ids []string
		for _, e := range f.Customers.Edges {
			ids = append(ids, e.Node.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"a1", "u1"}) {
			t.Errorf("%s: customers in stage %s: %v, want [a1 u1] (the merged b1 counted once, in the survivor)", label, live.Stage, ids)
		}
	}
	populations(amy, "live")

	// Restart: the read models rebuilt from the log answer as the live
	// ones did.
	s.stop()
	s = startServer(t, ctx, serveOpts{dir: dir, args: []string{"--auth", writeTokens(t)}})
	_, again := read(s.client(tokAM), "b1", nil)
	if !jsonEqual(liveRaw, again) {
		t.Errorf("customer(b1) after a restart differs from the live answer:\n--- live\n%s\n--- restarted\n%s", liveRaw, again)
	}
	populations(s.client(tokAM), "after a restart")
	censusBefore := stageCensus(t, ctx, s.client(tokAM), []string{"a1", "b1", "u1"}, beforeMerge)
	censusAfter := stageCensus(t, ctx, s.client(tokAM), []string{"a1", "u1"}, afterMerge)
	s.stop()
	for _, c := range []struct {
		at     time.Time
		census map[string]int
	}{{beforeMerge, censusBefore}, {afterMerge, censusAfter}} {
		b := parseReplay(t, kefu(t, ctx, "replay", "--data", dir, "--until", stamp(c.at)).stdout)
		if !sameCounts(b.populations, c.census) {
			t.Errorf("kefu replay --until %s disagrees with customer(asOf:):\n%s", stamp(c.at), stageDiff("kefu replay", b.populations, "customer(asOf:)", c.census))
		}
	}
}

// TestMergedCustomerGreetedOnce: two records of one person, merged, are one
// recipient of a campaign — the survivor is greeted, the merged record is
// not in the audience (and nothing is appended to its stream).
func TestMergedCustomerGreetedOnce(t *testing.T) {
	t.Parallel()
	ctx := journey(t, time.Minute)
	s := startServer(t, ctx, serveOpts{dir: t.TempDir(), env: []string{"KEFU_DISPATCH_INTERVAL=200ms"}})
	c := s.client("")
	zone, localDay := daytimeZone(time.Now())
	registerGreetees(t, ctx, c, "e2e.merge", zone, []greetee{
		{id: "mg-a", name: "陈静", phone: "+86 139 3000 0001", consent: true},
		{id: "mg-b", name: "陈静", phone: "+86 139 3000 0002", consent: true},
	})
	c.must(ctx, nil, `mutation { mergeCustomers(input: {survivorId: "mg-a", mergedIds: ["mg-b"], by: "e2e", reason: "same person"}) { version } }`, nil)
	a := scheduleDueCampaign(t, ctx, c, "E2E merged day", "e2e.merge", localDay, "SMS")
	if a.AudienceSize != 1 {
		t.Errorf("audience of the merged pair at scheduling: %d, want 1", a.AudienceSize)
	}
	got := waitHandled(t, ctx, c, a.ID, 1)
	if got.Sent != 1 || got.AudienceSize != 1 {
		t.Errorf("campaign %s, want the one person greeted once", js(got))
	}
	time.Sleep(time.Second) // more ticks: nothing more is sent or recorded
	var d struct{ Campaign campaignView }
	c.must(ctx, &d, `query($id: ID!) { campaign(id: $id) { `+campaignFields+` } }`, map[string]any{"id": a.ID})
	if d.Campaign.Sent != 1 || d.Campaign.Failed != 0 {
		t.Errorf("after more ticks: %s", js(d.Campaign))
	}
	if o := outcomes(t, ctx, c, "mg-a", a.ID); len(o) != 1 || o[0] != "SENT SMS" {
		t.Errorf("the survivor's greetings of the campaign: %v, want one SENT SMS", o)
	}
}

// TestErasingASurvivorErasesTheMerged: erasing the survivor of a merge
// shreds the personal data of the customer merged into it too — its
// events, part of the survivor's timeline, no longer read — and a restart
// still serves the book (the merged stream's events decode as erased).
func TestErasingASurvivorErasesTheMerged(t *testing.T) {
	t.Parallel()
	ctx := journey(t, time.Minute)
	dir := t.TempDir()
	s := startServer(t, ctx, serveOpts{dir: dir})
	c := s.client("")
	at := stamp(time.Now().Add(-time.Hour))
	for _, id := range []string{"er-a", "er-b"} {
		c.must(ctx, nil, `mutation($id: ID!, $at: DateTime!) { registerCustomer(input: {id: $id, name: "Zhou Xun", phone: "13700000001", occurredAt: $at}) { version } }`,
			map[string]any{"id": id, "at": at})
	}
	c.must(ctx, nil, `mutation { logContact(input: {customerId: "er-b", channel: PHONE, direction: INBOUND, agent: "amy", summary: "lives at 12 Secret Lane"}) { version } }`, nil)
	c.must(ctx, nil, `mutation { mergeCustomers(input: {survivorId: "er-a", mergedIds: ["er-b"], by: "amy", reason: "same person"}) { version } }`, nil)
	timeline := func(c *client) string {
		var d json.RawMessage
		c.must(ctx, &d, `{ a: customer(id: "er-a") { name phone timeline(first: 50) { edges { node { customerId type summary } } } }
			b: events(filter: {streamId: "customer-er-b"}) { edges { node { type data } } } }`, nil)
		return string(d)
	}
	if got := timeline(c); !strings.Contains(got, "Secret Lane") || !strings.Contains(got, "Zhou Xun") {
		t.Fatalf("before the erasure the merged customer's contact is readable: %s", got)
	}
	c.must(ctx, nil, `mutation { eraseCustomer(input: {customerId: "er-a", by: "admin", reason: "asked to be forgotten"}) { version } }`, nil)
	eventually(t, ctx, 10*time.Second, "the merged customer's personal data is gone too", func() (bool, string) {
		got := timeline(c)
		return !strings.Contains(got, "Secret Lane") && !strings.Contains(got, "Zhou Xun"), got
	})
	s.stop()
	s2 := startServer(t, ctx, serveOpts{dir: dir})
	if got := timeline(s2.client("")); strings.Contains(got, "Secret Lane") || strings.Contains(got, "Zhou Xun") {
		t.Fatalf("after a restart: %s", got)
	}
}
