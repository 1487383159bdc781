package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

type campaignView struct {
	ID              string
	Name            string
	Occasion        string
	Date            *string
	SendAtLocal     string
	Status          string
	AudienceSize    int
	Sent            int
	Failed          int
	Skipped         int
	SkippedByReason []reasonCount
	CreatedBy       string
}

type reasonCount struct {
	Reason string
	Count  int
}

const campaignFields = `id name occasion date sendAtLocal status audienceSize sent failed skipped skippedByReason { reason count } createdBy`

// TestMarketing is mia's campaign (a MARKETING token): the holidays to
// choose from, a preview, a campaign scheduled (twice, with the same
// idempotency key: one campaign), its counts watched until it completes,
// the greetings it leaves on customers and in the outbox, and a second
// campaign cancelled before it sends.
func TestMarketing(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 150*time.Second)
	dir := filepath.Join(t.TempDir(), "kefu-data")
	s := startServer(t, ctx, serveOpts{dir: dir, args: []string{"--demo", "--auth", writeTokens(t)}})
	mia, amy, admin := s.client(tokMarketing), s.client(tokAM), s.client(tokAdmin)

	// The holidays of the coming year, in order, with their keys.
	today := time.Now().UTC()
	var hol struct {
		Holidays []struct{ Calendar, Key, Name, Date string }
	}
	mia.must(ctx, &hol, `query($from: Date!, $to: Date!) { holidays(calendar: "CN", from: $from, to: $to) { calendar key name date } }`,
		map[string]any{"from": today.Format(time.DateOnly), "to": today.AddDate(1, 0, 0).Format(time.DateOnly)})
	keys := map[string]string{}
	prev := ""
	for _, h := range hol.Holidays {
		if h.Calendar != "CN" || h.Date < today.Format(time.DateOnly) || h.Date < prev {
			t.Errorf("holidays: %+v out of calendar, range or order", h)
		}
		prev, keys[h.Key] = h.Date, h.Date
	}
	for _, k := range []string{"CN:new_year", "CN:spring_festival", "CN:labour_day", "CN:national_day", "CN:mid_autumn"} {
		if keys[k] == "" {
			t.Errorf("holidays of the next 12 months lack %s: %+v", k, hol.Holidays)
		}
	}

	// Roles: marketing schedules, account managers do not; marketing logs no contacts.
	const schedule = `mutation($in: ScheduleGreetingCampaignInput!) { scheduleGreetingCampaign(input: $in) { campaign { ` + campaignFields + ` } } }`
	templates := []any{map[string]any{"channel": "SMS", "body": "{{name}}，{{occasion}}快乐！"}}
	amy.fails(ctx, "FORBIDDEN", schedule, map[string]any{"in": map[string]any{"name": "amy's", "occasion": "CN:spring_festival", "templates": templates}})
	mia.fails(ctx, "FORBIDDEN", `mutation { logContact(input: {customerId: "c000000", channel: PHONE, direction: OUTBOUND, agent: "mia"}) { version } }`, nil)

	// A small audience of one account manager, in a timezone where it is
	// now day, so that today's 09:00 send has passed (and is not late by
	// a day): two greeted, one without consent, one without a phone, one
	// flagged for conduct, and a VIP the audience leaves out.
	zone, localDay := daytimeZone(today)
	type member struct {
		id, name, tier, phone string
		consent, flag         bool
	}
	members := []member{
		{"mk-greet-1", "林晓", "STANDARD", "+86 139 0000 0001", true, false},
		{"mk-greet-2", "周敏", "GOLD", "+86 139 0000 0002", true, false},
		{"mk-noconsent", "吴芳", "STANDARD", "+86 139 0000 0003", false, false},
		{"mk-nophone", "郑强", "STANDARD", "", true, false},
		{"mk-flagged", "王刚", "GOLD", "+86 139 0000 0005", true, true},
		{"mk-vip", "陈静", "VIP", "+86 139 0000 0006", true, false},
	}
	registered := today.Add(-48 * time.Hour)
	for _, m := range members {
		in := map[string]any{"id": m.id, "name": m.name, "tier": m.tier, "accountManager": "e2e.mkt", "timezone": zone,
			"marketingConsent": m.consent, "email": m.id + "@example.com", "occurredAt": stamp(registered)}
		if m.phone != "" {
			in["phone"] = m.phone
		}
		admin.must(ctx, nil, `mutation($in: RegisterCustomerInput!) { registerCustomer(input: $in) { version } }`, map[string]any{"in": in})
		if m.flag {
			admin.must(ctx, nil, `mutation($in: FlagConductInput!) { flagConduct(input: $in) { version } }`,
				map[string]any{"in": map[string]any{"customerId": m.id, "by": "admin", "note": "shouted at the hotline", "occurredAt": stamp(registered.Add(time.Hour))}})
		}
	}
	const inAudience = 5 // all but the VIP: the audience is STANDARD and GOLD of e2e.mkt

	campaignA := map[string]any{"name": "店庆问候", "occasion": "E2E store anniversary", "date": localDay, "sendAtLocal": "09:00",
		"audience":  map[string]any{"accountManager": "e2e.mkt", "tiers": []string{"STANDARD", "GOLD"}, "excludeConductFlagged": true},
		"templates": templates, "idempotencyKey": "e2e-store-anniversary"}

	var pv struct {
		PreviewGreetingCampaign struct {
			Evaluated, Greeted, Skipped int
			SkippedByReason             []reasonCount
			ByChannel                   []reasonCount
		}
	}
	mia.must(ctx, &pv, `query($in: ScheduleGreetingCampaignInput!) { previewGreetingCampaign(input: $in) {
		evaluated greeted skipped skippedByReason { reason count } byChannel { reason count } } }`, map[string]any{"in": campaignA})
	p := pv.PreviewGreetingCampaign
	wantSkips := map[string]int{"NO_CONSENT": 1, "NO_CHANNEL": 1, "CONDUCT_FLAGGED": 1}
	if p.Greeted != 2 || !slices.Equal(p.ByChannel, []reasonCount{{"SMS", 2}}) || !sameCounts(audienceSkips(p.SkippedByReason), wantSkips) {
		t.Errorf("preview = %+v, want 2 greeted by SMS and skips %v", p, wantSkips)
	}

	var campaignsBefore struct{ Campaigns struct{ TotalCount int } }
	mia.must(ctx, &campaignsBefore, `{ campaigns { totalCount } }`, nil)

	var sa struct {
		ScheduleGreetingCampaign struct{ Campaign campaignView }
	}
	mia.must(ctx, &sa, schedule, map[string]any{"in": campaignA})
	a := sa.ScheduleGreetingCampaign.Campaign
	if a.ID == "" || a.CreatedBy != "mia" || (a.Status != "SCHEDULED" && a.Status != "RUNNING") || a.Date == nil || *a.Date != localDay {
		t.Errorf("scheduled campaign = %s, want SCHEDULED, created by mia, on %s", js(a), localDay)
	}
	if a.AudienceSize != inAudience {
		t.Errorf("audienceSize when scheduled = %d, want %d (known from the read models when the campaign is scheduled)", a.AudienceSize, inAudience)
	}
	// The same request again (a retry after a lost response): one campaign.
	var again struct {
		ScheduleGreetingCampaign struct{ Campaign campaignView }
	}
	mia.must(ctx, &again, schedule, map[string]any{"in": campaignA})
	var campaignsAfter struct{ Campaigns struct{ TotalCount int } }
	mia.must(ctx, &campaignsAfter, `{ campaigns { totalCount } }`, nil)
	if got := again.ScheduleGreetingCampaign.Campaign.ID; got != a.ID || campaignsAfter.Campaigns.TotalCount != campaignsBefore.Campaigns.TotalCount+1 {
		t.Errorf("scheduling twice with idempotencyKey %q: campaigns %s and %s, totalCount %d → %d; want one campaign",
			campaignA["idempotencyKey"], a.ID, got, campaignsBefore.Campaigns.TotalCount, campaignsAfter.Campaigns.TotalCount)
	}

	// Watch the counts until every customer of the audience is handled
	// (the dispatcher ticks every 30 s): they only grow, and end where the
	// preview said. The campaign stays RUNNING until the day has passed in
	// every timezone.
	var last campaignView
	eventually(t, ctx, 75*time.Second, "campaign "+a.ID+" handles its audience", func() (bool, string) {
		var d struct{ Campaign *campaignView }
		mia.must(ctx, &d, `query($id: ID!) { campaign(id: $id) { `+campaignFields+` } }`, map[string]any{"id": a.ID})
		if d.Campaign == nil {
			t.Fatalf("campaign(id: %q) is null", a.ID)
		}
		c := *d.Campaign
		if c.Sent < last.Sent || c.Skipped < last.Skipped || c.Failed < last.Failed {
			t.Errorf("campaign counts went down: %s after %s", js(c), js(last))
		}
		last = c
		handled := c.Sent + c.Failed
		for _, n := range audienceSkips(c.SkippedByReason) {
			handled += n
		}
		return handled >= inAudience, js(c)
	})
	if last.Status != "RUNNING" || last.Sent != p.Greeted || last.Failed != 0 || !sameCounts(audienceSkips(last.SkippedByReason), audienceSkips(p.SkippedByReason)) {
		t.Errorf("campaign after its send time = %s; want RUNNING, and what the preview said: %d greeted, skips %v", js(last), p.Greeted, p.SkippedByReason)
	}
	if last.AudienceSize != inAudience {
		t.Errorf("audienceSize once sending started = %d, want %d (the customers the audience definition selects)", last.AudienceSize, inAudience)
	}

	// What each customer's record shows.
	wantGreeting := map[string]string{"mk-greet-1": "SENT", "mk-greet-2": "SENT", "mk-noconsent": "SKIPPED NO_CONSENT",
		"mk-nophone": "SKIPPED NO_CHANNEL", "mk-flagged": "SKIPPED CONDUCT_FLAGGED",
		"mk-vip": "", "c000000": ""} // outside the audience (tier; another account manager): nothing on their stream
	for id, want := range wantGreeting {
		var d struct {
			Customer struct {
				Greetings []struct {
					Campaign *struct{ ID string }
					Status   string
					Reason   *string
					Channel  string
				}
				Timeline struct{ TotalCount int }
			}
		}
		admin.must(ctx, &d, `query($id: ID!) { customer(id: $id) { greetings { campaign { id } status reason channel }
			timeline(types: ["GreetingSent", "GreetingSkipped", "GreetingFailed"]) { totalCount } } }`, map[string]any{"id": id})
		var got []string
		for _, g := range d.Customer.Greetings {
			if g.Campaign != nil && g.Campaign.ID == a.ID {
				o := g.Status
				if g.Reason != nil && *g.Reason != "" {
					o += " " + *g.Reason
				}
				got = append(got, o)
			}
		}
		switch {
		case want == "" && len(got) > 0:
			t.Errorf("customer %s is outside the audience, yet the campaign recorded %v on their stream (timeline has %d greeting events)", id, got, d.Customer.Timeline.TotalCount)
		case want != "" && (len(got) != 1 || got[0] != want):
			t.Errorf("customer %s: greetings of campaign %s = %v, want exactly [%s]", id, a.ID, got, want)
		}
	}
	checkOutbox(t, ctx, s, tokMarketing, filepath.Join(dir, "greetings-outbox.ndjson"), a.ID, map[string]string{"mk-greet-1": "林晓", "mk-greet-2": "周敏"})

	// A Spring Festival campaign for the whole book, cancelled before it sends.
	var sb struct {
		ScheduleGreetingCampaign struct{ Campaign campaignView }
	}
	mia.must(ctx, &sb, schedule, map[string]any{"in": map[string]any{"name": "春节问候", "occasion": "CN:spring_festival", "templates": templates}})
	b := sb.ScheduleGreetingCampaign.Campaign
	if b.Status != "SCHEDULED" || b.Date == nil || *b.Date != keys["CN:spring_festival"] || b.AudienceSize == 0 {
		t.Errorf("spring festival campaign = %s, want SCHEDULED on %s (the date looked up), with its audience counted", js(b), keys["CN:spring_festival"])
	}
	const cancel = `mutation($in: CancelCampaignInput!) { cancelGreetingCampaign(input: $in) { campaign { ` + campaignFields + ` } } }`
	amy.fails(ctx, "FORBIDDEN", cancel, map[string]any{"in": map[string]any{"campaignId": b.ID, "reason": "not mine"}})
	var cb struct {
		CancelGreetingCampaign struct{ Campaign campaignView }
	}
	mia.must(ctx, &cb, cancel, map[string]any{"in": map[string]any{"campaignId": b.ID, "reason": "the budget moved to 元宵"}})
	if c := cb.CancelGreetingCampaign.Campaign; c.Status != "CANCELLED" || c.Sent != 0 {
		t.Errorf("cancelled campaign = %s, want CANCELLED with nothing sent", js(c))
	}
	var rb struct{ Campaign campaignView }
	mia.must(ctx, &rb, `query($id: ID!) { campaign(id: $id) { `+campaignFields+` } }`, map[string]any{"id": b.ID})
	if rb.Campaign.Status != "CANCELLED" {
		t.Errorf("campaign(id: %s).status = %s after cancelling, want CANCELLED", b.ID, rb.Campaign.Status)
	}
	mia.fails(ctx, "NOT_FOUND", cancel, map[string]any{"in": map[string]any{"campaignId": "no-such-campaign", "reason": "typo"}})
}

// daytimeZone returns an IANA fixed-offset zone where the local time of
// now is between 10:00 and 20:00 on the same date as in UTC (one always
// exists: offsets run from −12 to +14 hours), and that date.
func daytimeZone(now time.Time) (string, string) {
	now = now.UTC()
	for off := -12; off <= 14; off++ {
		name := "UTC"
		if off != 0 {
			name = fmt.Sprintf("Etc/GMT%+d", -off) // POSIX sign: Etc/GMT-8 is UTC+8
		}
		loc, err := time.LoadLocation(name)
		if err != nil {
			continue
		}
		local := now.In(loc)
		if h := local.Hour(); h >= 10 && h < 20 && local.Format(time.DateOnly) == now.Format(time.DateOnly) {
			return name, local.Format(time.DateOnly)
		}
	}
	panic("no fixed-offset zone has daytime now")
}

// audienceSkips drops the reasons for customers outside the audience
// definition (stage, tier): a campaign may count them, or not.
func audienceSkips(rs []reasonCount) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		if r.Reason != "STAGE_EXCLUDED" && r.Reason != "TIER_EXCLUDED" && r.Count != 0 {
			m[r.Reason] = r.Count
		}
	}
	return m
}

// checkOutbox reads the greetings the default sender wrote as an
// integration does — GET /outbox with token (a marketer's), NDJSON, the
// address and body opened — and checks that the campaign delivered exactly
// one message to each of want (customer ID → name), with the name filled
// into the template; and that the outbox file itself holds neither name
// (it keeps address and body sealed under each customer's key).
func checkOutbox(t *testing.T, ctx context.Context, s *server, token, path, campaignID string, want map[string]string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/outbox?after=0&limit=10000", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Errorf("GET /outbox: %v", err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-ndjson") {
		b, _ := io.ReadAll(resp.Body)
		t.Errorf("GET /outbox: %s %q %s, want 200 NDJSON", resp.Status, resp.Header.Get("Content-Type"), b)
		return
	}
	got := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		var m struct {
			Line                                      int
			CampaignID, CustomerID, Channel, To, Body string
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("outbox line %q: %v", sc.Text(), err)
			continue
		}
		if line++; m.Line != line {
			t.Errorf("outbox entry %d has line %d", line, m.Line)
		}
		if m.CampaignID != campaignID {
			continue
		}
		got[m.CustomerID]++
		name, ok := want[m.CustomerID]
		if !ok || !strings.Contains(m.Body, name) || m.Channel != "SMS" || m.To == "" {
			t.Errorf("outbox message %+v: want an SMS to one of %v with their name in it", m, want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Errorf("GET /outbox: %v", err)
	}
	if raw, err := os.ReadFile(path); err != nil {
		t.Errorf("the outbox file: %v", err)
	} else {
		for _, name := range want {
			if strings.Contains(string(raw), name) {
				t.Errorf("the outbox file %s holds %q in clear", path, name)
			}
		}
	}
	for id := range want {
		if got[id] != 1 {
			t.Errorf("outbox: %d messages of campaign %s to %s, want 1 (all: %v)", got[id], campaignID, id, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("outbox: campaign %s wrote to %v, want exactly %v", campaignID, got, want)
	}
}
