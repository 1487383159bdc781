package e2e_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// replenishFollowUps is what followUps(reasons:[REPLENISHMENT]) lists.
type replenishFollowUps struct {
	FollowUps struct {
		TotalCount int
		Edges      []struct {
			Node struct {
				ID, Reason, Owner, DueAt, Status string
				Note                             *string
				Customer                         struct{ ID string }
			}
		}
	}
}

const replenishQuery = `{ followUps(first: 50, filter: {reasons: [REPLENISHMENT]}) { totalCount edges { node { id reason owner dueAt status note customer { id } } } } }`

// Given six households of amy's buying a 10 kg bag of rice about every
// month, written through the API with their real dates, when the server
// restarts (its scheduler plans on the clock tick, and the first tick
// comes at start), then exactly one REPLENISHMENT follow-up appears: for
// the one consenting household without a grievance whose bag runs out
// within the lead, owned by amy, naming rice in its note — not for the one
// without consent, nor the one with an open complaint, nor those not yet
// due; amy's nextBestActions lists the overdue complaint reply, the due
// routine call, the replenishment call and a silent customer's win-back in
// that order (app/query/nextaction); and another restart books nothing
// twice.
func TestReplenishmentJourney(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 120*time.Second)
	dir := filepath.Join(t.TempDir(), "kefu-data")
	tokens := writeTokens(t)
	s := startServer(t, ctx, serveOpts{dir: dir, args: []string{"--auth", tokens}})
	admin := s.client(tokAdmin)

	now := time.Now().UTC()
	households := []struct {
		id      string
		consent bool
		lastAgo int // days since the last bag
		grieves bool
	}{
		{"hh-ann", true, 28, false}, // due in about two days: called
		{"hh-bob", true, 8, false},
		{"hh-cai", false, 28, false}, // no consent
		{"hh-dan", true, 28, true},   // an open complaint
		{"hh-eve", true, 15, false},
		{"hh-fay", true, 20, false},
	}
	for i, h := range households {
		first := now.AddDate(0, 0, -h.lastAgo-4*30)
		admin.must(ctx, nil, `mutation($in: RegisterCustomerInput!) { registerCustomer(input: $in) { version } }`,
			map[string]any{"in": map[string]any{"id": h.id, "name": "Household " + h.id, "accountManager": "amy",
				"marketingConsent": h.consent, "occurredAt": stamp(first.AddDate(0, 0, -3))}})
		for k := 0; k <= 4; k++ {
			// every 29–31 days, ending lastAgo days ago
			at := now.AddDate(0, 0, -h.lastAgo-(4-k)*30+(k%3)-1+(i%2))
			if k == 4 {
				at = now.AddDate(0, 0, -h.lastAgo)
			}
			admin.must(ctx, nil, `mutation($in: RecordPurchaseInput!) { recordPurchase(input: $in) { version } }`,
				map[string]any{"in": map[string]any{"customerId": h.id, "orderId": fmt.Sprintf("o-%s-%d", h.id, k),
					"amount": map[string]any{"amountMinor": 8900, "currency": "CNY"}, "items": []string{"rice:jasmine 10kg"}, "occurredAt": stamp(at)}})
		}
		if h.grieves {
			admin.must(ctx, nil, `mutation($in: FileComplaintInput!) { fileComplaint(input: $in) { version } }`,
				map[string]any{"in": map[string]any{"customerId": h.id, "channel": "PHONE", "category": "product quality",
					"description": "the last bag had weevils", "owner": "amy", "complaintId": "cp-dan", "occurredAt": stamp(now.AddDate(0, 0, -3))}})
		}
	}
	// gus bought twice (tea, no rhythm to call about), grumbled 45 days
	// ago and has not been heard of since: SILENT, his win-back follow-up
	// too late to book (stale), so a win-back is one of amy's actions.
	admin.must(ctx, nil, `mutation($in: RegisterCustomerInput!) { registerCustomer(input: $in) { version } }`,
		map[string]any{"in": map[string]any{"id": "hh-gus", "name": "Household gus", "accountManager": "amy", "marketingConsent": true, "occurredAt": stamp(now.AddDate(0, 0, -200))}})
	for k, ago := range []int{120, 60} {
		admin.must(ctx, nil, `mutation($in: RecordPurchaseInput!) { recordPurchase(input: $in) { version } }`,
			map[string]any{"in": map[string]any{"customerId": "hh-gus", "orderId": fmt.Sprintf("o-gus-%d", k),
				"amount": map[string]any{"amountMinor": 125000, "currency": "CNY"}, "items": []string{"tea gift box"}, "occurredAt": stamp(now.AddDate(0, 0, -ago))}})
	}
	admin.must(ctx, nil, `mutation($in: VoiceGrumbleInput!) { voiceGrumble(input: $in) { version } }`,
		map[string]any{"in": map[string]any{"customerId": "hh-gus", "channel": "WECHAT", "summary": "the tea was stale", "occurredAt": stamp(now.AddDate(0, 0, -45))}})
	// A routine call amy agreed with bob, due an hour ago.
	admin.must(ctx, nil, `mutation($in: ScheduleFollowUpInput!) { scheduleFollowUp(input: $in) { version } }`,
		map[string]any{"in": map[string]any{"customerId": "hh-bob", "reason": "ROUTINE", "owner": "amy", "dueAt": stamp(now.Add(-time.Hour)), "note": "asked about the new harvest"}})
	s.quiesce(ctx)
	s.stop()

	s = startServer(t, ctx, serveOpts{dir: dir, args: []string{"--auth", tokens}})
	amy := s.client(tokAM)
	var got replenishFollowUps
	eventually(t, ctx, 30*time.Second, "a REPLENISHMENT follow-up", func() (bool, string) {
		amy.must(ctx, &got, replenishQuery, nil)
		return got.FollowUps.TotalCount > 0, js(got)
	})
	s.quiesce(ctx)
	amy.must(ctx, &got, replenishQuery, nil)
	if got.FollowUps.TotalCount != 1 || len(got.FollowUps.Edges) != 1 {
		t.Fatalf("REPLENISHMENT follow-ups: %s, want exactly one (hh-ann)", js(got))
	}
	f := got.FollowUps.Edges[0].Node
	if f.Customer.ID != "hh-ann" || f.Owner != "amy" || f.Status != "DUE" || f.Note == nil || !strings.Contains(*f.Note, "rice") {
		t.Fatalf("follow-up %s: want hh-ann's, owned by amy, DUE, with rice in the note", js(f))
	}
	if due := parseTime(t, f.DueAt); due.After(now.AddDate(0, 0, 2)) || due.Before(now.AddDate(0, 0, -7)) {
		t.Errorf("due %v: want a few days before the bag runs out (about %v)", due, now.AddDate(0, 0, 2))
	}

	// amy's next best actions, in the documented order: the overdue
	// complaint reply, the due routine call, the replenishment call, the
	// win-back.
	var nba struct {
		NextBestActions []struct {
			Kind, Reason string
			DueAt        *string
			Ref          *string
			Customer     struct{ ID string }
		}
	}
	amy.must(ctx, &nba, `{ nextBestActions(owner: "amy") { kind reason dueAt ref customer { id } } }`, nil)
	var order []string
	for _, a := range nba.NextBestActions {
		order = append(order, a.Kind+":"+a.Customer.ID)
		if a.Reason == "" {
			t.Errorf("action %s has no reason", js(a))
		}
	}
	if want := []string{"COMPLAINT_REPLY:hh-dan", "FOLLOW_UP:hh-bob", "REPLENISHMENT:hh-ann", "WIN_BACK:hh-gus"}; strings.Join(order, " ") != strings.Join(want, " ") {
		t.Fatalf("nextBestActions(owner: amy) = %v, want %v\n%s", order, want, js(nba))
	}
	if r := nba.NextBestActions[2]; r.Ref == nil || *r.Ref != f.ID || !strings.Contains(r.Reason, "rice") {
		t.Errorf("replenishment action %s: want follow-up %s with rice in the reason", js(r), f.ID)
	}
	var one struct {
		Ann, Eve struct{ NextBestAction *struct{ Kind string } }
	}
	amy.must(ctx, &one, `{ ann: customer(id: "hh-ann") { nextBestAction { kind } } eve: customer(id: "hh-eve") { nextBestAction { kind } } }`, nil)
	if one.Ann.NextBestAction == nil || one.Ann.NextBestAction.Kind != "REPLENISHMENT" || one.Eve.NextBestAction != nil {
		t.Errorf("customer.nextBestAction: ann %s, eve %s; want REPLENISHMENT and null", js(one.Ann), js(one.Eve))
	}
	amy.fails(ctx, "BAD_USER_INPUT", `{ nextBestActions(owner: "amy", first: 1000) { kind } }`, nil)

	// Booked once: a further restart replays and ticks again.
	s.stop()
	s = startServer(t, ctx, serveOpts{dir: dir, args: []string{"--auth", tokens}})
	s.quiesce(ctx)
	amy = s.client(tokAM)
	amy.must(ctx, &got, replenishQuery, nil)
	if got.FollowUps.TotalCount != 1 || got.FollowUps.Edges[0].Node.ID != f.ID {
		t.Fatalf("after a restart: %s, want the one follow-up %s", js(got), f.ID)
	}
}
