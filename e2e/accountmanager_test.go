package e2e_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Shapes of the account manager's answers.
type (
	amCustomer struct {
		ID           string
		Name         *string
		Phone        *string
		Stage        string
		StageSince   string
		Version      int
		StageHistory []stageChange
		Timeline     struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					Revision   int
					Type       string
					OccurredAt string
					Summary    string
				}
			}
		}
		Loyalty struct {
			Score               int
			Level               string
			RecoveredComplaints int
		}
		OpenComplaints []struct{ ID string }
	}
	stageChange struct {
		From   *string
		To     string
		At     string
		Reason string
	}
	amComplaint struct {
		ID             string
		Status         string
		Owner          string
		FiledAt        string
		ReplyDueAt     string
		AcknowledgedAt *string
		AcceptedOption *string
		Outcome        *string
		ResolvedAt     *string
		Version        int
		Customer       struct {
			Stage   string
			Version int
		}
	}
	amFollowUp struct {
		ID        string
		Reason    string
		Owner     string
		DueAt     string
		Status    string
		Outcome   *string
		Complaint *struct{ ID string }
		Customer  struct{ ID string }
	}
)

const amCustomerFields = `id name phone stage stageSince version
	stageHistory { from to at reason }
	timeline(first: 100) { totalCount edges { node { revision type occurredAt summary } } }
	loyalty { score level recoveredComplaints }
	openComplaints { id }`

const amComplaintFields = `id status owner filedAt replyDueAt acknowledgedAt acceptedOption outcome resolvedAt version customer { stage version }`

const amFollowUpFields = `id reason owner dueAt status outcome complaint { id } customer { id }`

// TestAccountManager is amy's day (an ACCOUNT_MANAGER token): find a
// caller by phone and name, read their history, log the call, run their
// complaint from filing to SATISFIED — retrying a write that conflicts
// with a colleague's the way the API documents (expectedVersion from
// what was read, CONFLICT, re-read, retry) — and work the recovery
// follow-ups the scheduler books on her queue.
func TestAccountManager(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 120*time.Second)
	s := startServer(t, ctx, serveOpts{dir: filepath.Join(t.TempDir(), "kefu-data"),
		args: []string{"--demo", "--auth", writeTokens(t)}})
	amy := s.client(tokAM)
	colleague := s.client(tokAdmin)

	var who struct {
		Viewer struct {
			User, Role string
			CanSeePII  bool
		}
	}
	amy.must(ctx, &who, `{ viewer { user role canSeePII } }`, nil)
	if who.Viewer.User != "amy" || who.Viewer.Role != "ACCOUNT_MANAGER" || !who.Viewer.CanSeePII {
		t.Fatalf("viewer = %+v, want amy, ACCOUNT_MANAGER, with PII access", who.Viewer)
	}
	s.client("").fails(ctx, "UNAUTHENTICATED", `{ customers { totalCount } }`, nil)

	// A caller: a buying customer with a phone and nothing open.
	var list struct {
		Customers struct {
			Edges []struct{ Node amCustomer }
		}
	}
	amy.must(ctx, &list, `{ customers(first: 100, filter: {hasOpenComplaint: false, stages: [ACTIVE, LOYAL]}) { edges { node { id name phone stage } } } }`, nil)
	var caller amCustomer
	for _, e := range list.Customers.Edges {
		if e.Node.Phone != nil && *e.Node.Phone != "" && e.Node.Name != nil && *e.Node.Name != "" {
			caller = e.Node
			break
		}
	}
	if caller.ID == "" {
		t.Fatalf("no customer with a name and a phone among %d listed", len(list.Customers.Edges))
	}

	// Find them by what they say on the phone: their number, their name.
	for _, q := range []string{*caller.Phone, *caller.Name} {
		var found struct {
			Customers struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
			}
		}
		amy.must(ctx, &found, `query($q: String!) { customers(first: 500, filter: {search: $q}) { totalCount edges { node { id } } } }`, map[string]any{"q": q})
		ids := []string{}
		for _, e := range found.Customers.Edges {
			ids = append(ids, e.Node.ID)
		}
		if !slices.Contains(ids, caller.ID) {
			t.Errorf("customers(filter:{search: %q}) = %v (totalCount %d), want it to find %s", q, ids, found.Customers.TotalCount, caller.ID)
		}
	}

	// Their history: timeline, stage history, loyalty.
	read := func() amCustomer {
		t.Helper()
		var d struct{ Customer *amCustomer }
		amy.must(ctx, &d, `query($id: ID!) { customer(id: $id) { `+amCustomerFields+` } }`, map[string]any{"id": caller.ID})
		if d.Customer == nil {
			t.Fatalf("customer(id: %q) is null", caller.ID)
		}
		return *d.Customer
	}
	c := read()
	checkHistory(t, c)
	if c.Loyalty.Score < 0 || c.Loyalty.Score > 100 || c.Loyalty.Level == "" {
		t.Errorf("loyalty = %+v, want a score in 0…100 and a level", c.Loyalty)
	}
	recoveredBefore := c.Loyalty.RecoveredComplaints

	// The call itself, written at the version just read.
	var logged struct {
		LogContact struct {
			Version  int
			Customer amCustomer
		}
	}
	amy.must(ctx, &logged, `mutation($in: LogContactInput!) { logContact(input: $in) { version customer { `+amCustomerFields+` } } }`,
		map[string]any{"in": map[string]any{"customerId": caller.ID, "channel": "PHONE", "direction": "INBOUND", "agent": "amy",
			"summary": "asks where the order is", "expectedVersion": c.Version}})
	if logged.LogContact.Version != c.Version+1 || logged.LogContact.Customer.Version != c.Version+1 {
		t.Errorf("logContact at version %d: payload version %d, customer.version %d, want %d", c.Version, logged.LogContact.Version, logged.LogContact.Customer.Version, c.Version+1)
	}
	if tl := logged.LogContact.Customer.Timeline.Edges; len(tl) == 0 || tl[0].Node.Type != "ContactLogged" || tl[0].Node.Revision != c.Version+1 {
		t.Errorf("the timeline does not start with the contact just logged: %+v", tl)
	}
	c = logged.LogContact.Customer
	checkHistory(t, c)

	// The complaint, from filing to SATISFIED.
	step := func(name, inputType string, in map[string]any) (amComplaint, int) {
		t.Helper()
		var d map[string]struct {
			Version   int
			Complaint amComplaint
		}
		amy.must(ctx, &d, `mutation($in: `+inputType+`!) { `+name+`(input: $in) { version complaint { `+amComplaintFields+` } } }`, map[string]any{"in": in})
		p := d[name]
		if p.Complaint.Version != p.Version || p.Complaint.Customer.Version != p.Version {
			t.Errorf("%s: payload version %d, complaint.version %d, customer.version %d — Complaint.version is documented as the revision of the customer stream holding it",
				name, p.Version, p.Complaint.Version, p.Complaint.Customer.Version)
		}
		return p.Complaint, p.Version
	}
	k, v := step("fileComplaint", "FileComplaintInput", map[string]any{"customerId": caller.ID, "channel": "PHONE", "category": "delivery",
		"severity": "GENERAL", "description": "the order is two weeks late", "owner": "amy", "expectedVersion": c.Version})
	if k.Status != "OPEN" || k.Owner != "amy" || k.Customer.Stage != "COMPLAINING" || v != c.Version+1 {
		t.Errorf("fileComplaint: %s (version %d), want OPEN, owned by amy, customer COMPLAINING, version %d", js(k), v, c.Version+1)
	}
	if !parseTime(t, k.ReplyDueAt).After(parseTime(t, k.FiledAt)) {
		t.Errorf("replyDueAt %s is not after filedAt %s", k.ReplyDueAt, k.FiledAt)
	}
	readComplaint := func() amComplaint {
		t.Helper()
		var d struct{ Complaint *amComplaint }
		amy.must(ctx, &d, `query($id: ID!) { complaint(id: $id) { `+amComplaintFields+` } }`, map[string]any{"id": k.ID})
		if d.Complaint == nil {
			t.Fatalf("complaint(id: %q) is null", k.ID)
		}
		return *d.Complaint
	}

	read0 := readComplaint()
	k, _ = step("acknowledgeComplaint", "ComplaintActionInput", map[string]any{"complaintId": k.ID, "by": "amy", "note": "called back", "expectedVersion": read0.Version})
	if k.Status != "ACKNOWLEDGED" || k.AcknowledgedAt == nil {
		t.Errorf("acknowledgeComplaint: %s", js(k))
	}

	// amy reads the complaint to propose a resolution; meanwhile a
	// colleague at the courier desk logs a call with the same customer
	// (not filed against the complaint).
	seen := readComplaint()
	var other struct{ LogContact struct{ Version int } }
	colleague.must(ctx, &other, `mutation($in: LogContactInput!) { logContact(input: $in) { version } }`,
		map[string]any{"in": map[string]any{"customerId": caller.ID, "channel": "PHONE", "direction": "OUTBOUND", "agent": "courier-desk",
			"summary": "courier confirms the parcel is at the depot"}})
	propose := map[string]any{"complaintId": k.ID, "by": "amy", "options": []string{"refund the shipping", "express re-delivery"}, "expectedVersion": seen.Version}
	e := amy.fails(ctx, "CONFLICT", `mutation($in: ProposeResolutionInput!) { proposeResolution(input: $in) { version } }`, map[string]any{"in": propose})
	t.Logf("CONFLICT as documented: %s", e.Message)
	if now := read(); now.Version != other.LogContact.Version {
		t.Errorf("after the refused write the customer is at version %d, want %d (a refused command appends nothing)", now.Version, other.LogContact.Version)
	}
	// Re-read, retry with what was read.
	reread := readComplaint()
	if reread.Version != other.LogContact.Version {
		t.Errorf("complaint.version after a colleague's contact on the customer = %d, customer stream is at %d: a client passing Complaint.version as expectedVersion gets CONFLICT forever",
			reread.Version, other.LogContact.Version)
	}
	propose["expectedVersion"] = reread.Version
	r, err := amy.do(ctx, `mutation($in: ProposeResolutionInput!) { proposeResolution(input: $in) { version complaint { `+amComplaintFields+` } } }`, map[string]any{"in": propose})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) == 0 && r.Status == 200 {
		var d struct {
			ProposeResolution struct{ Complaint amComplaint }
		}
		if err := json.Unmarshal(r.Data, &d); err != nil {
			t.Fatalf("decode %s: %v", r, err)
		}
		k = d.ProposeResolution.Complaint
	} else {
		t.Errorf("retry with the re-read complaint.version %d: %v, want success\nresponse: %s", reread.Version, r.codes(), r)
		// Carry on with the customer's version to see the rest of the day.
		propose["expectedVersion"] = read().Version
		k, _ = step("proposeResolution", "ProposeResolutionInput", propose)
	}
	if k.Status != "RESOLUTION_PROPOSED" {
		t.Errorf("after proposeResolution: status %s", k.Status)
	}
	k, _ = step("acceptResolution", "AcceptResolutionInput", map[string]any{"complaintId": k.ID, "optionIndex": 1})
	if k.AcceptedOption == nil || *k.AcceptedOption != "express re-delivery" {
		t.Errorf("acceptResolution(optionIndex: 1): acceptedOption %s, want \"express re-delivery\"", js(k.AcceptedOption))
	}
	k, _ = step("resolveComplaint", "ResolveComplaintInput", map[string]any{"complaintId": k.ID, "by": "amy", "outcome": "SATISFIED", "note": "delivered next day"})
	if k.Status != "RESOLVED" || k.Outcome == nil || *k.Outcome != "SATISFIED" || k.ResolvedAt == nil {
		t.Fatalf("resolveComplaint SATISFIED: %s", js(k))
	}
	resolvedAt := parseTime(t, *k.ResolvedAt)
	// The scheduler appends the follow-ups in the background: wait until
	// the customer view has caught up with its stream before checking it.
	eventually(t, ctx, 10*time.Second, "customer.version catches up with the timeline", func() (bool, string) {
		c = read()
		return c.Timeline.TotalCount == c.Version+1, js(map[string]int{"version": c.Version, "timelineTotal": c.Timeline.TotalCount})
	})
	checkHistory(t, c)
	if c.Stage != "ACTIVE" && c.Stage != "LOYAL" {
		t.Errorf("stage after a SATISFIED resolution = %s, want ACTIVE or LOYAL", c.Stage)
	}
	if len(c.OpenComplaints) != 0 || c.Loyalty.RecoveredComplaints != recoveredBefore+1 {
		t.Errorf("after resolution: open complaints %v, recoveredComplaints %d (was %d)", c.OpenComplaints, c.Loyalty.RecoveredComplaints, recoveredBefore)
	}
	if !wentThrough(c.StageHistory, "COMPLAINING") {
		t.Errorf("stageHistory does not go into COMPLAINING and out again: %s", js(c.StageHistory))
	}

	// The recovery follow-ups (+3 d, +30 d) land on amy's queue.
	queue := func() []amFollowUp {
		t.Helper()
		var d struct {
			FollowUps struct {
				TotalCount int
				Edges      []struct{ Node amFollowUp }
			}
		}
		amy.must(ctx, &d, `{ followUps(filter: {owner: "amy", status: DUE}) { totalCount edges { node { `+amFollowUpFields+` } } } }`, nil)
		var fs []amFollowUp
		for _, e := range d.FollowUps.Edges {
			fs = append(fs, e.Node)
		}
		if d.FollowUps.TotalCount != len(fs) {
			t.Errorf("followUps totalCount %d, %d edges", d.FollowUps.TotalCount, len(fs))
		}
		return fs
	}
	var due []amFollowUp
	eventually(t, ctx, 20*time.Second, "recovery follow-ups on amy's DUE queue", func() (bool, string) {
		due = queue()
		return len(due) >= 2, js(due)
	})
	if len(due) != 2 {
		t.Fatalf("amy's DUE queue: %s, want the two recovery follow-ups of %s", js(due), k.ID)
	}
	for i, want := range []time.Duration{3 * 24 * time.Hour, 30 * 24 * time.Hour} {
		f := due[i]
		if f.Reason != "RECOVERY" || f.Owner != "amy" || f.Status != "DUE" || f.Complaint == nil || f.Complaint.ID != k.ID || f.Customer.ID != caller.ID {
			t.Errorf("follow-up %d: %s, want RECOVERY of %s for %s, owned by amy, DUE", i, js(f), k.ID, caller.ID)
		}
		if at := parseTime(t, f.DueAt); !at.Equal(resolvedAt.Add(want)) {
			t.Errorf("follow-up %d due %s, want resolvedAt + %s = %s", i, f.DueAt, want, stamp(resolvedAt.Add(want)))
		}
	}

	// amy makes the first call.
	var done struct {
		CompleteFollowUp struct{ FollowUp amFollowUp }
	}
	amy.must(ctx, &done, `mutation($in: CompleteFollowUpInput!) { completeFollowUp(input: $in) { followUp { `+amFollowUpFields+` } } }`,
		map[string]any{"in": map[string]any{"followUpId": due[0].ID, "by": "amy", "outcome": "SATISFIED", "note": "happy with the re-delivery"}})
	if f := done.CompleteFollowUp.FollowUp; f.Status != "DONE" || f.Outcome == nil || *f.Outcome != "SATISFIED" {
		t.Errorf("completeFollowUp: %s, want DONE, SATISFIED", js(f))
	}
	eventually(t, ctx, 10*time.Second, "the completed follow-up leaves the DUE queue", func() (bool, string) {
		q := queue()
		return len(q) == 1 && q[0].ID == due[1].ID, js(q)
	})
	var mine struct {
		Customer struct {
			FollowUps []struct{ ID, Status string }
		}
	}
	amy.must(ctx, &mine, `query($id: ID!) { customer(id: $id) { followUps(status: DONE) { id status } } }`, map[string]any{"id": caller.ID})
	if !slices.ContainsFunc(mine.Customer.FollowUps, func(f struct{ ID, Status string }) bool { return f.ID == due[0].ID }) {
		t.Errorf("customer.followUps(status: DONE) = %+v, want %s", mine.Customer.FollowUps, due[0].ID)
	}
}

// checkHistory checks what a customer view says about itself: the
// timeline holds every revision newest first, and the stage history
// starts at registration, is in time order and ends in the current stage.
func checkHistory(t *testing.T, c amCustomer) {
	t.Helper()
	if c.Timeline.TotalCount != c.Version+1 {
		t.Errorf("customer %s: timeline.totalCount %d, version %d (revisions are 0-based: want version+1 entries)", c.ID, c.Timeline.TotalCount, c.Version)
	}
	for i, e := range c.Timeline.Edges {
		if e.Node.Revision != c.Version-i {
			t.Errorf("customer %s: timeline entry %d has revision %d, want %d (newest first)", c.ID, i, e.Node.Revision, c.Version-i)
			break
		}
		if strings.TrimSpace(e.Node.Summary) == "" {
			t.Errorf("customer %s: timeline entry %d (%s) has no summary", c.ID, i, e.Node.Type)
		}
	}
	h := c.StageHistory
	if len(h) == 0 {
		t.Fatalf("customer %s: empty stageHistory", c.ID)
	}
	if h[0].From != nil {
		t.Errorf("customer %s: the first stage change comes from %s, want null (registration)", c.ID, *h[0].From)
	}
	for i := 1; i < len(h); i++ {
		if h[i].From == nil || *h[i].From != h[i-1].To {
			t.Errorf("customer %s: stage change %d comes from %v, the one before went to %s", c.ID, i, h[i].From, h[i-1].To)
		}
		if parseTime(t, h[i].At).Before(parseTime(t, h[i-1].At)) {
			t.Errorf("customer %s: stageHistory is not in time order at %d: %s before %s", c.ID, i, h[i].At, h[i-1].At)
		}
	}
	last := h[len(h)-1]
	if last.To != c.Stage || !parseTime(t, last.At).Equal(parseTime(t, c.StageSince)) {
		t.Errorf("customer %s: stage %s since %s, but stageHistory ends with %s at %s", c.ID, c.Stage, c.StageSince, last.To, last.At)
	}
}

// wentThrough reports whether the history enters stage and later leaves it.
func wentThrough(h []stageChange, stage string) bool {
	for i, c := range h {
		if c.To == stage && i < len(h)-1 {
			return true
		}
	}
	return false
}
