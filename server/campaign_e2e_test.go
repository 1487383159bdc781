package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the test customers live in Asia/Shanghai and America/New_York

	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/server"
)

// The campaign end-to-end tests drive issue 6's marketer's flow through the
// real server (embedded store in a temporary directory, real HTTP) with a
// controlled clock: the greeting dispatcher and the outbox both read it, so
// every send is stamped with the instant the test moved the clock to.

const campaignFields = `id name occasion date sendAtLocal status
	audience{ stages tiers accountManager excludeConductFlagged } audienceSize sent failed skipped skippedByReason{ reason count } createdBy`

const (
	mSchedule = `mutation($in:ScheduleGreetingCampaignInput!){ scheduleGreetingCampaign(input:$in){ campaign{ ` + campaignFields + ` } } }`
	mCancel   = `mutation($in:CancelCampaignInput!){ cancelGreetingCampaign(input:$in){ campaign{ ` + campaignFields + ` } } }`
	qCampaign = `query($id:ID!){ campaign(id:$id){ ` + campaignFields + ` } }`
	qPreview  = `query($in:ScheduleGreetingCampaignInput!){ previewGreetingCampaign(input:$in){
		evaluated greeted skipped skippedByReason{ reason count } byChannel{ reason count } } }`
	qGreetings = `query($id:ID!){ customer(id:$id){ stage
		greetings{ campaign{ id } occasion channel status reason at }
		timeline(first: 100, oldestFirst: true, types: ["GreetingSent","GreetingFailed","GreetingSkipped"]){
			totalCount edges{ node{ eventId type occurredAt summary data } } } } }`
)

// dispatchEvery is the dispatcher's and the stage clock's tick in these
// tests: short, so that a moved clock is acted on quickly.
const dispatchEvery = 5 * time.Millisecond

// campaignServer starts a server whose greeting dispatcher ticks fast on
// clock; edit may set a Sender or a greeting Policy.
func campaignServer(t *testing.T, dir string, clock *fakeClock, edit func(*server.Config)) *harness {
	t.Helper()
	return startServerWith(t, options{dir: dir, auth: true, clock: clock, tick: dispatchEvery}, func(c *server.Config) {
		c.DispatchInterval = dispatchEvery
		if edit != nil {
			edit(c)
		}
	})
}

// campaignState is what campaign(id) says about delivery.
type campaignState struct {
	Status                              string
	AudienceSize, Sent, Failed, Skipped int
	ByReason                            map[string]int
}

func (s campaignState) String() string {
	return fmt.Sprintf("%s audience=%d sent=%d failed=%d skipped=%d %v", s.Status, s.AudienceSize, s.Sent, s.Failed, s.Skipped, s.ByReason)
}

// reasonCounts reads a [ReasonCount] list at path.
func reasonCounts(r result, path string) map[string]int {
	out := map[string]int{}
	for i := range r.list(path) {
		out[r.str(fmt.Sprintf("%s.%d.reason", path, i))] += r.num(fmt.Sprintf("%s.%d.count", path, i))
	}
	return out
}

func stateOf(r result, path string) campaignState {
	return campaignState{
		Status: r.str(path + ".status"), AudienceSize: r.num(path + ".audienceSize"),
		Sent: r.num(path + ".sent"), Failed: r.num(path + ".failed"), Skipped: r.num(path + ".skipped"),
		ByReason: reasonCounts(r, path+".skippedByReason"),
	}
}

// campaign reads one campaign's delivery state.
func (h *harness) campaign(id string) campaignState {
	h.t.Helper()
	r := h.ok(qCampaign, map[string]any{"id": id})
	if r.get("campaign") == nil {
		h.t.Fatalf("campaign %s not found", id)
	}
	return stateOf(r, "campaign")
}

// waitCampaign polls campaign(id) until cond holds and returns that state.
// Every state seen on the way must be consistent (skipped is the sum of
// skippedByReason) and no count may ever go down. (audienceSize is
// checked by TestCampaignAudienceSizeWhileRunning and at completion.)
func (h *harness) waitCampaign(id, what string, cond func(campaignState) bool) campaignState {
	h.t.Helper()
	var last campaignState
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := h.campaign(id)
		sum := 0
		for _, n := range s.ByReason {
			sum += n
		}
		if sum != s.Skipped {
			h.t.Errorf("campaign %s: skipped=%d but skippedByReason sums to %d: %v", id, s.Skipped, sum, s)
		}
		if s.Sent < last.Sent || s.Failed < last.Failed || s.Skipped < last.Skipped {
			h.t.Errorf("campaign %s: counts went down: %v after %v", id, s, last)
		}
		last = s
		if cond(s) {
			break
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("gave up waiting for campaign %s: %s; last seen %v", id, what, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return last
}

// greetingEvent is one Greeting* entry of a customer's timeline.
type greetingEvent struct {
	EventID    string
	Type       string
	OccurredAt time.Time
	Summary    string
	Data       map[string]any
}

// customerGreetings is what a customer's greetings and timeline show.
type customerGreetings struct {
	Stage     string
	Events    []greetingEvent // oldest first
	Greetings []map[string]any
}

// greetingsOf reads a customer's greeting events (from the log) and
// customer.greetings (the book's read model, which applies them a moment
// later: it waits, up to 5 s, until the book shows as many as the log).
func (h *harness) greetingsOf(id string) customerGreetings {
	h.t.Helper()
	var g customerGreetings
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if g = h.readGreetings(id); len(g.Greetings) == len(g.Events) || time.Now().After(deadline) {
			return g
		}
	}
}

func (h *harness) readGreetings(id string) customerGreetings {
	h.t.Helper()
	r := h.ok(qGreetings, map[string]any{"id": id})
	if r.get("customer") == nil {
		h.t.Fatalf("customer %s not found", id)
	}
	out := customerGreetings{Stage: r.str("customer.stage")}
	for i := range r.list("customer.timeline.edges") {
		p := fmt.Sprintf("customer.timeline.edges.%d.node.", i)
		data, _ := r.get(p + "data").(map[string]any)
		if s, ok := r.get(p + "data").(string); ok {
			_ = json.Unmarshal([]byte(s), &data)
		}
		out.Events = append(out.Events, greetingEvent{EventID: r.str(p + "eventId"), Type: r.str(p + "type"),
			OccurredAt: mustTime(h.t, r.str(p+"occurredAt")), Summary: r.str(p + "summary"), Data: data})
	}
	if n := r.num("customer.timeline.totalCount"); n != len(out.Events) {
		h.t.Errorf("customer %s: timeline totalCount %d, %d edges", id, n, len(out.Events))
	}
	for _, g := range r.list("customer.greetings") {
		m, _ := g.(map[string]any)
		out.Greetings = append(out.Greetings, m)
	}
	return out
}

// forCampaign keeps the events of one campaign.
func (g customerGreetings) forCampaign(campaignID string) []greetingEvent {
	var out []greetingEvent
	for _, e := range g.Events {
		if e.Data["campaignId"] == campaignID {
			out = append(out, e)
		}
	}
	return out
}

// readOutbox reads the outbox file of a data directory (nil when absent).
func readOutbox(t *testing.T, dir string) []greeting.OutboxLine {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, greeting.OutboxFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []greeting.OutboxLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var l greeting.OutboxLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("outbox line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// outboxByCustomer indexes outbox lines by customer, failing on a second
// line for a customer and campaign, or a repeated idempotency key.
func outboxByCustomer(t *testing.T, lines []greeting.OutboxLine) map[string]greeting.OutboxLine {
	t.Helper()
	out := map[string]greeting.OutboxLine{}
	keys := map[string]bool{}
	for _, l := range lines {
		if keys[l.IdempotencyKey] {
			t.Errorf("outbox: idempotency key %s written twice", l.IdempotencyKey)
		}
		keys[l.IdempotencyKey] = true
		if prev, dup := out[l.CampaignID+"/"+l.CustomerID]; dup {
			t.Errorf("outbox: customer %s greeted twice for campaign %s:\n %+v\n %+v", l.CustomerID, l.CampaignID, prev, l)
		}
		out[l.CampaignID+"/"+l.CustomerID] = l
	}
	return out
}

// campCustomer describes a test customer; register builds their history.
type campCustomer struct {
	id, name, tier, tz, locale, phone, email, manager string
	birthday                                          string // YYYY-MM-DD
	consent                                           bool
	purchases                                         int // on distinct days: 2 → ACTIVE, 5 → LOYAL
	grumble, flag, erase                              bool
}

// setup registers c (backdated to since) and builds their stage.
func (h *harness) setup(c campCustomer, since time.Time) {
	h.t.Helper()
	in := map[string]any{"tier": c.tier, "timezone": c.tz, "locale": c.locale, "marketingConsent": c.consent, "occurredAt": ts(since)}
	for k, v := range map[string]string{"phone": c.phone, "email": c.email, "accountManager": c.manager, "birthday": c.birthday} {
		if v != "" {
			in[k] = v
		}
	}
	if c.tier == "" {
		in["tier"] = "STANDARD"
	}
	if c.tz == "" {
		in["timezone"] = "Asia/Shanghai"
	}
	if c.locale == "" {
		in["locale"] = "zh-CN"
	}
	h.register(c.id, c.name, in)
	for i := range c.purchases {
		h.ok(`mutation($in:RecordPurchaseInput!){ recordPurchase(input:$in){ version } }`, map[string]any{"in": map[string]any{
			"customerId": c.id, "orderId": fmt.Sprintf("%s-o%d", c.id, i), "amount": map[string]any{"amountMinor": 8800, "currency": "CNY"},
			"occurredAt": ts(since.Add(time.Duration(i+1) * 24 * time.Hour))}})
	}
	if c.grumble {
		h.ok(`mutation($id:ID!){ voiceGrumble(input:{customerId:$id, channel:PHONE, summary:"the gift box was dented", agent:"mia"}){ version } }`,
			map[string]any{"id": c.id})
	}
	if c.flag {
		h.ok(`mutation($id:ID!){ flagConduct(input:{customerId:$id, by:"mia", note:"abusive on the phone"}){ version } }`, map[string]any{"id": c.id})
	}
	if c.erase {
		h.ok(`mutation($id:ID!){ eraseCustomer(input:{customerId:$id, by:"alice", reason:"erasure request"}){ version } }`, map[string]any{"id": c.id})
	}
}

// schedule schedules a campaign as MARKETING and returns its id.
func (h *harness) schedule(in map[string]any) (string, result) {
	h.t.Helper()
	r := h.post(tokMarketing, mSchedule, map[string]any{"in": in})
	if len(r.Errors) > 0 {
		h.t.Fatalf("scheduleGreetingCampaign: %s", r.Raw)
	}
	return r.str("scheduleGreetingCampaign.campaign.id"), r
}

// localClock is t as HH:MM on its day in zone.
func localClock(t *testing.T, at time.Time, zone string) string {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return at.In(loc).Format("2006-01-02 15:04")
}

// at is the instant of a local wall-clock time in zone.
func at(t *testing.T, zone string, y int, m time.Month, d, hh, mm int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(y, m, d, hh, mm, 0, 0, loc)
}

const (
	shanghai = "Asia/Shanghai"
	newYork  = "America/New_York"
)

// TestCampaignMarketerFlow is issue 6 §4 through GraphQL: list the
// holidays, preview and schedule the next 春节 for LOYAL and ACTIVE (and,
// for the care template, unhappy) GOLD/VIP customers, move the clock to
// 09:00 in Shanghai and then in New York, watch the counts grow, and find
// each greeting on the customer's timeline, in customer.greetings and in
// the outbox rendered in the customer's locale.
func TestCampaignMarketerFlow(t *testing.T) {
	t0 := time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	h := campaignServer(t, "", clock, nil)

	// 1. The marketer lists the holidays and finds 春节.
	r := h.post(tokMarketing, `{ holidays(calendar:"CN", from:"2027-01-01", to:"2027-12-31"){ calendar key name localName date } }`, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("holidays: %s", r.Raw)
	}
	var sfDate string
	for i := range r.list("holidays") {
		p := fmt.Sprintf("holidays.%d.", i)
		if r.str(p+"localName") == "春节" {
			if r.str(p+"key") != "CN:spring_festival" || r.str(p+"calendar") != "CN" || r.str(p+"name") != "Spring Festival" {
				t.Errorf("春节 listed as %v", r.get(fmt.Sprintf("holidays.%d", i)))
			}
			sfDate = r.str(p + "date")
		}
	}
	if sfDate != "2027-02-06" {
		t.Fatalf("春节 2027 on %q, want 2027-02-06: %s", sfDate, r.Raw)
	}

	// 2. The book.
	since := t0.Add(-60 * 24 * time.Hour)
	book := []campCustomer{
		{id: "sh-loyal", name: "王芳", tier: "GOLD", phone: "+8613800000001", consent: true, purchases: 5},
		{id: "sh-grumble", name: "李雷", tier: "VIP", phone: "+8613800000002", consent: true, purchases: 2, grumble: true},
		{id: "ny-active", name: "John Smith", tier: "VIP", tz: newYork, locale: "en-US", phone: "+12125550100", consent: true, purchases: 2},
		{id: "no-consent", name: "赵敏", tier: "GOLD", phone: "+8613800000003", consent: false, purchases: 2},
		{id: "standard", name: "钱多多", tier: "STANDARD", phone: "+8613800000004", consent: true, purchases: 2},
		{id: "flagged", name: "孙悟空", tier: "VIP", phone: "+8613800000005", consent: true, purchases: 2, flag: true},
		{id: "no-phone", name: "周芷若", tier: "GOLD", email: "zhou@example.com", consent: true, purchases: 5},
		{id: "erased", name: "吴用", tier: "GOLD", phone: "+8613800000006", consent: true, purchases: 2, erase: true},
		{id: "newbie", name: "郑和", tier: "GOLD", phone: "+8613800000007", consent: true},
	}
	for _, c := range book {
		h.setup(c, since)
	}
	wantStage := map[string]string{"sh-loyal": "LOYAL", "sh-grumble": "GRUMBLING", "ny-active": "ACTIVE", "no-consent": "ACTIVE",
		"standard": "ACTIVE", "flagged": "ACTIVE", "no-phone": "LOYAL", "erased": "ACTIVE", "newbie": "NEW"}
	for id, want := range wantStage {
		if got := h.ok(`query($id:ID!){ customer(id:$id){ stage } }`, map[string]any{"id": id}).str("customer.stage"); got != want {
			t.Fatalf("setup: %s is %s, want %s", id, got, want)
		}
	}

	// 3. Preview, then schedule the next 春节 (no date: looked up).
	in := map[string]any{
		"name": "春节问候 2027", "occasion": "CN:spring_festival", "sendAtLocal": "09:00", "idempotencyKey": "sf-2027",
		"audience": map[string]any{"stages": []string{"LOYAL", "ACTIVE", "GRUMBLING", "COMPLAINING", "SILENT"}, "tiers": []string{"GOLD", "VIP"}},
		"templates": []any{
			map[string]any{"stages": []string{"GRUMBLING", "COMPLAINING", "SILENT"}, "channel": "SMS", "body": "{{name}}, we are sorry for the trouble. Wishing you a peaceful {{occasion}}."},
			map[string]any{"channel": "SMS", "body": "{{occasion}}快乐 / Happy {{occasion}}, {{name}}! 20% off this week."},
		},
	}
	// Seven customers are in the audience (three greeted, four skipped);
	// two are outside it (standard: tier, newbie: stage).
	wantSkips := map[string]int{"NO_CONSENT": 1, "CONDUCT_FLAGGED": 1, "NO_CHANNEL": 1, "ERASED": 1}
	wantExcluded := map[string]int{"TIER_EXCLUDED": 1, "STAGE_EXCLUDED": 1}
	head := h.head()
	p := h.post(tokMarketing, qPreview, map[string]any{"in": in})
	if len(p.Errors) > 0 {
		t.Fatalf("previewGreetingCampaign: %s", p.Raw)
	}
	if p.num("previewGreetingCampaign.evaluated") != len(book) || p.num("previewGreetingCampaign.greeted") != 3 || p.num("previewGreetingCampaign.skipped") != 4 {
		t.Errorf("preview: %s", p.Raw)
	}
	if got := reasonCounts(p, "previewGreetingCampaign.skippedByReason"); !maps.Equal(got, wantSkips) {
		t.Errorf("preview skippedByReason = %v, want %v", got, wantSkips)
	}
	if got := reasonCounts(p, "previewGreetingCampaign.byChannel"); !maps.Equal(got, map[string]int{"SMS": 3}) {
		t.Errorf("preview byChannel = %v, want SMS:3", got)
	}
	if h.head() != head {
		t.Errorf("preview appended %d event(s)", h.head()-head)
	}

	id, s := h.schedule(in)
	c := "scheduleGreetingCampaign.campaign."
	if s.str(c+"status") != "SCHEDULED" || s.str(c+"date") != sfDate || s.str(c+"occasion") != "CN:spring_festival" || s.str(c+"createdBy") != "mark" ||
		s.str(c+"sendAtLocal") != "09:00" || s.num(c+"sent") != 0 || s.num(c+"skipped") != 0 || s.get(c+"audience.excludeConductFlagged") != true ||
		s.num(c+"audienceSize") != 7 {
		t.Errorf("scheduled: %s", s.Raw)
	}
	if again, _ := h.schedule(in); again != id {
		t.Errorf("the same idempotencyKey scheduled a second campaign %s (first %s)", again, id)
	}
	if n := h.ok(`{ campaigns{ totalCount } }`, nil).num("campaigns.totalCount"); n != 1 {
		t.Errorf("campaigns.totalCount = %d, want 1", n)
	}

	// 4. 09:00 in Shanghai: everyone there is greeted or skipped; New York waits.
	shAt := at(t, shanghai, 2027, 2, 6, 9, 0)
	nyAt := at(t, newYork, 2027, 2, 6, 9, 0)
	clock.Set(shAt)
	st := h.waitCampaign(id, "the Shanghai customers handled", func(s campaignState) bool { return s.Sent == 2 && s.Skipped == 4 })
	if st.Status != "RUNNING" || st.Failed != 0 || !maps.Equal(st.ByReason, wantSkips) || st.AudienceSize != 7 {
		t.Errorf("after Shanghai 09:00: %v, want RUNNING audience=7 sent=2 skipped=4 %v", st, wantSkips)
	}
	if g := h.greetingsOf("ny-active"); len(g.Events) != 0 || len(g.Greetings) != 0 {
		t.Errorf("ny-active greeted at %v (%s), before 09:00 New York: %+v", shAt, localClock(t, shAt, newYork), g)
	}

	// 5. 09:00 in New York.
	clock.Set(nyAt)
	st = h.waitCampaign(id, "New York handled", func(s campaignState) bool { return s.Sent == 3 })
	if st.Status != "RUNNING" || st.Skipped != 4 || st.Failed != 0 {
		t.Errorf("after New York 09:00: %v", st)
	}

	// 6. The day is over everywhere: the campaign completes with the counts.
	clock.Set(time.Date(2027, 2, 7, 16, 0, 0, 0, time.UTC))
	st = h.waitCampaign(id, "COMPLETED", func(s campaignState) bool { return s.Status == "COMPLETED" })
	if st.Sent != 3 || st.Failed != 0 || st.Skipped != 4 || st.AudienceSize != 7 || !maps.Equal(st.ByReason, wantSkips) {
		t.Errorf("completed: %v, want sent=3 skipped=4 audience=7 %v", st, wantSkips)
	}
	if x := h.exclusions(id); x.ExcludedOK && (x.Excluded != 2 || !maps.Equal(x.ExReasons, wantExcluded)) {
		t.Errorf("completed: excluded=%d %v, want 2 %v", x.Excluded, x.ExReasons, wantExcluded)
	}

	// 7. Each customer's timeline and greetings.
	type want struct {
		typ, reason, zone string
		at                time.Time
	}
	wants := map[string]want{
		"sh-loyal": {"GreetingSent", "", shanghai, shAt}, "sh-grumble": {"GreetingSent", "", shanghai, shAt},
		"ny-active": {"GreetingSent", "", newYork, nyAt}, "no-consent": {"GreetingSkipped", "NO_CONSENT", shanghai, shAt},
		"flagged":  {"GreetingSkipped", "CONDUCT_FLAGGED", shanghai, shAt},
		"no-phone": {"GreetingSkipped", "NO_CHANNEL", shanghai, shAt},
	}
	for cid, w := range wants {
		g := h.greetingsOf(cid)
		if len(g.Events) != 1 {
			t.Errorf("%s: %d greeting events on the timeline, want 1: %+v", cid, len(g.Events), g.Events)
			continue
		}
		e := g.Events[0]
		if e.Type != w.typ || e.Data["campaignId"] != id || e.Data["occasion"] != "CN:spring_festival" {
			t.Errorf("%s: timeline has %s %v, want %s of campaign %s", cid, e.Type, e.Data, w.typ, id)
		}
		if w.reason != "" && (e.Data["reason"] != w.reason || !strings.Contains(e.Summary, w.reason)) {
			t.Errorf("%s: skip reason %v (summary %q), want %s", cid, e.Data["reason"], e.Summary, w.reason)
		}
		if !e.OccurredAt.Equal(w.at) || localClock(t, e.OccurredAt, w.zone) != "2027-02-06 09:00" {
			t.Errorf("%s: %s at %v (%s local), want 2027-02-06 09:00 %s", cid, e.Type, e.OccurredAt, localClock(t, e.OccurredAt, w.zone), w.zone)
		}
		if len(g.Greetings) != 1 {
			t.Errorf("%s: customer.greetings has %d entries, want 1: %v", cid, len(g.Greetings), g.Greetings)
			continue
		}
		gr := g.Greetings[0]
		wantStatus := map[string]string{"GreetingSent": "SENT", "GreetingSkipped": "SKIPPED"}[w.typ]
		camp, _ := gr["campaign"].(map[string]any)
		if gr["status"] != wantStatus || gr["occasion"] != "CN:spring_festival" || camp["id"] != id || (w.reason != "" && gr["reason"] != w.reason) {
			t.Errorf("%s: customer.greetings = %v, want %s %s of %s", cid, gr, wantStatus, w.reason, id)
		}
		if wantStatus == "SENT" && gr["channel"] != "SMS" {
			t.Errorf("%s: greeting channel %v, want SMS", cid, gr["channel"])
		}
		if a, _ := gr["at"].(string); a == "" || !mustTime(t, a).Equal(w.at) {
			t.Errorf("%s: greeting at %v, want %v", cid, gr["at"], w.at)
		}
	}
	// An erased customer's stream takes no event, nor do the streams of the
	// customers outside the audience: nothing is recorded there.
	for _, cid := range []string{"erased", "standard", "newbie"} {
		if g := h.greetingsOf(cid); len(g.Events) != 0 || len(g.Greetings) != 0 {
			t.Errorf("%s got greeting events: %+v %v", cid, g.Events, g.Greetings)
		}
	}

	// 8. The outbox: one line per greeted customer, rendered in their locale,
	// as an integration reads it (GET /outbox with the marketer's token);
	// the file itself keeps address and body sealed.
	lines := h.outbox(tokMarketing)
	if len(lines) != 3 {
		t.Errorf("outbox has %d lines, want 3 (one per greeted customer): %+v", len(lines), lines)
	}
	out := outboxByCustomer(t, lines)
	for cid, w := range map[string]struct {
		body     string
		template int
		to       string
		at       time.Time
	}{
		"sh-loyal":   {"春节快乐 / Happy 春节, 王芳! 20% off this week.", 1, "+8613800000001", shAt},
		"sh-grumble": {"李雷, we are sorry for the trouble. Wishing you a peaceful 春节.", 0, "+8613800000002", shAt},
		"ny-active":  {"Spring Festival快乐 / Happy Spring Festival, John Smith! 20% off this week.", 1, "+12125550100", nyAt},
	} {
		l, ok := out[id+"/"+cid]
		if !ok {
			t.Errorf("outbox: no line for %s", cid)
			continue
		}
		if l.Body != w.body || l.Template != w.template || l.Channel != "SMS" || l.To != w.to || l.Occasion != "CN:spring_festival" {
			t.Errorf("outbox line for %s = %+v\nwant body %q, template %d, SMS to %s", cid, l.Message, w.body, w.template, w.to)
		}
		if !l.WrittenAt.Equal(w.at) {
			t.Errorf("outbox line for %s written at %v, want %v", cid, l.WrittenAt, w.at)
		}
		if ev := h.greetingsOf(cid).Events; len(ev) == 1 && ev[0].EventID != l.IdempotencyKey {
			t.Errorf("%s: outbox idempotency key %s is not the GreetingSent event ID %s", cid, l.IdempotencyKey, ev[0].EventID)
		}
		raw, err := os.ReadFile(filepath.Join(h.dir, greeting.OutboxFileName))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{w.to, w.body} {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("the outbox file holds %q in clear", s)
			}
		}
	}
}

// outbox reads every line of the outbox through GET /outbox (as an
// integration does), a page of 2 at a time to walk the after parameter.
func (h *harness) outbox(token string) []greeting.OutboxLine {
	h.t.Helper()
	var out []greeting.OutboxLine
	for {
		var page []greeting.OutboxEntry
		code, body := h.get(token, fmt.Sprintf("/outbox?after=%d&limit=2", len(out)))
		if code != http.StatusOK {
			h.t.Fatalf("GET /outbox: %d %s", code, body)
		}
		sc := bufio.NewScanner(strings.NewReader(body))
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			var e greeting.OutboxEntry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				h.t.Fatalf("GET /outbox line %q: %v", sc.Text(), err)
			}
			page = append(page, e)
		}
		after := len(out)
		for i, e := range page {
			if e.Line != after+i+1 {
				h.t.Fatalf("GET /outbox?after=%d: entry %d has line %d, want %d", after, i, e.Line, after+i+1)
			}
			out = append(out, e.OutboxLine)
		}
		if len(page) < 2 {
			return out
		}
	}
}

// get sends GET path with a bearer token and returns the status and body.
func (h *harness) get(token, path string) (int, string) {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.t.Context(), http.MethodGet, h.http.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// crashingSender delivers through an outbox until it "crashes": the first
// ok messages go through; the next one is written to the outbox and then
// reported as an error, as if the process died between the send and the
// append of GreetingSent; every later one fails without writing anything.
// The dispatcher records nothing for an error that is not a
// *greeting.DeliveryError.
type crashingSender struct {
	inner greeting.Sender
	ok    int

	mu      sync.Mutex
	sent    int
	calls   int
	crashed string          // the key written and then reported as a crash
	seen    map[string]bool // every key offered
}

var errSimulatedCrash = errors.New("simulated crash after the outbox write")

func (s *crashingSender) Send(ctx context.Context, m greeting.Message) (greeting.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[m.IdempotencyKey] = true
	s.calls++
	switch {
	case s.sent < s.ok:
		s.sent++
		return s.inner.Send(ctx, m)
	case s.crashed == "":
		s.crashed = m.IdempotencyKey
		if _, err := s.inner.Send(ctx, m); err != nil {
			return greeting.Receipt{}, err
		}
		return greeting.Receipt{}, errSimulatedCrash
	}
	return greeting.Receipt{}, errSimulatedCrash
}

func (s *crashingSender) state() (crashed string, seen, calls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.crashed, len(s.seen), s.calls
}

// countingSender counts the messages offered per idempotency key and
// passes them on.
type countingSender struct {
	inner greeting.Sender

	mu       sync.Mutex
	calls    map[string]int
	receipts map[string]greeting.Receipt
}

func (s *countingSender) Send(ctx context.Context, m greeting.Message) (greeting.Receipt, error) {
	rc, err := s.inner.Send(ctx, m)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls, s.receipts = map[string]int{}, map[string]greeting.Receipt{}
	}
	s.calls[m.IdempotencyKey]++
	s.receipts[m.IdempotencyKey] = rc
	return rc, err
}

func (s *countingSender) snapshot() (map[string]int, map[string]greeting.Receipt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls), maps.Clone(s.receipts)
}

// openOutbox opens the data directory's outbox for a wrapping sender; the
// caller closes it after the server has stopped.
func openOutbox(t *testing.T, dir string, clock *fakeClock) *greeting.Outbox {
	t.Helper()
	o, err := greeting.OpenOutbox(dir, greeting.OutboxOptions{Clock: clock.Now})
	if err != nil {
		t.Fatalf("OpenOutbox: %v", err)
	}
	return o
}

// TestCampaignRestartMidCampaign stops the server mid-campaign — one
// greeting recorded, one written to the outbox but not recorded (a crash
// between the send and the append), one not sent at all, New York not yet
// due — restarts it on the same data directory and lets the campaign
// finish: every customer has one outbox line and one Greeting* event, the
// greeting recorded before the restart is not offered to the sender again,
// and the campaign completes with the right counts.
func TestCampaignRestartMidCampaign(t *testing.T) {
	t0 := time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	dir := t.TempDir()
	out1 := openOutbox(t, dir, clock)
	crash := &crashingSender{inner: out1, ok: 1}
	h := campaignServer(t, dir, clock, func(c *server.Config) { c.Sender = crash })

	book := []campCustomer{
		{id: "sh-1", name: "王一", tier: "GOLD", phone: "+8613900000001", consent: true},
		{id: "sh-2", name: "王二", tier: "GOLD", phone: "+8613900000002", consent: true},
		{id: "sh-3", name: "王三", tier: "GOLD", phone: "+8613900000003", consent: true},
		{id: "sh-skip", name: "王四", tier: "GOLD", phone: "+8613900000004", consent: false},
		{id: "ny-1", name: "Jane Doe", tier: "GOLD", tz: newYork, locale: "en-US", phone: "+12125550101", consent: true},
	}
	for _, c := range book {
		h.setup(c, t0.Add(-time.Hour))
	}
	id, _ := h.schedule(map[string]any{"name": "Spring 2027", "occasion": "CN:spring_festival", "date": "2027-02-06",
		"templates": []any{map[string]any{"channel": "SMS", "body": "Happy {{occasion}}, {{name}}"}}})

	// Shanghai's 09:00: one send recorded, one crash, one refused.
	clock.Set(at(t, shanghai, 2027, 2, 6, 9, 0))
	eventually(t, "every Shanghai greeting offered to the sender", func() bool { c, n, _ := crash.state(); return c != "" && n == 3 })
	// The dispatcher retries the two unrecorded greetings on every tick;
	// let it fail a few more times, then read the campaign: one sent, one
	// skipped (NO_CONSENT), however many ticks failed.
	_, _, before := crash.state()
	eventually(t, "the failed sends retried", func() bool { _, _, n := crash.state(); return n >= before+10 })
	if st := h.campaign(id); st.Sent != 1 || st.Skipped != 1 || st.Failed != 0 {
		t.Errorf("mid-campaign (one greeting recorded, two failing): campaign shows %v, want sent=1 skipped=1", st)
	}
	h.stop()
	if err := out1.Close(); err != nil {
		t.Fatal(err)
	}
	crashedKey, _, _ := crash.state()
	if sent := func() int { crash.mu.Lock(); defer crash.mu.Unlock(); return crash.sent }(); sent != 1 {
		t.Fatalf("the crashing sender delivered %d greetings, want 1", sent)
	}
	if n := len(readOutbox(t, dir)); n != 2 {
		t.Fatalf("before the restart the outbox has %d lines, want 2 (the recorded send and the crashed one)", n)
	}
	// Restart on the same data directory, counting what is offered to the
	// sender.
	out2 := openOutbox(t, dir, clock)
	count := &countingSender{inner: out2}
	h = campaignServer(t, dir, clock, func(c *server.Config) { c.Sender = count })
	defer func() {
		h.stop() // before the outbox it sends to is closed
		if err := out2.Close(); err != nil {
			t.Error(err)
		}
	}()
	st := h.waitCampaign(id, "every Shanghai customer handled after the restart", func(s campaignState) bool { return s.Sent == 3 && s.Skipped == 1 })
	if st.Status != "RUNNING" {
		t.Errorf("after the restart: %v, want RUNNING", st)
	}
	clock.Set(at(t, newYork, 2027, 2, 6, 9, 0))
	h.waitCampaign(id, "New York greeted", func(s campaignState) bool { return s.Sent == 4 })
	clock.Set(time.Date(2027, 2, 7, 16, 0, 0, 0, time.UTC))
	st = h.waitCampaign(id, "COMPLETED", func(s campaignState) bool { return s.Status == "COMPLETED" })
	if st.Sent != 4 || st.Skipped != 1 || st.Failed != 0 || st.AudienceSize != 5 || !maps.Equal(st.ByReason, map[string]int{"NO_CONSENT": 1}) {
		t.Errorf("completed: %v, want sent=4 skipped=1 (NO_CONSENT) audience=5", st)
	}

	// Exactly once: one Greeting* event and one outbox line per customer.
	keys := map[string]string{}
	for _, c := range book {
		ev := h.greetingsOf(c.id).forCampaign(id)
		if len(ev) != 1 {
			t.Errorf("%s: %d greeting events, want 1: %+v", c.id, len(ev), ev)
			continue
		}
		keys[c.id] = ev[0].EventID
	}
	lines := readOutbox(t, dir)
	if len(lines) != 4 {
		t.Errorf("outbox has %d lines, want 4 (one per greeted customer)", len(lines))
	}
	byCustomer := outboxByCustomer(t, lines)
	for _, c := range []string{"sh-1", "sh-2", "sh-3", "ny-1"} {
		if l, ok := byCustomer[id+"/"+c]; !ok || l.IdempotencyKey != keys[c] {
			t.Errorf("%s: outbox line %+v, want one with key %s", c, l.Message, keys[c])
		}
	}

	// After the restart the sender was offered only what had no outcome:
	// the crashed greeting (deduped by the outbox), the refused one and New
	// York — never the greeting recorded before the restart.
	calls, receipts := count.snapshot()
	if len(calls) != 3 {
		t.Errorf("after the restart the sender was offered %d greetings, want 3: %v", len(calls), calls)
	}
	for k, n := range calls {
		if n != 1 {
			t.Errorf("after the restart greeting %s was offered %d times", k, n)
		}
	}
	if n := calls[crashedKey]; n != 1 || !receipts[crashedKey].Duplicate {
		t.Errorf("the crashed greeting %s: offered %d time(s), receipt %+v; want once, a Duplicate", crashedKey, n, receipts[crashedKey])
	}
	notOffered := 0
	for _, c := range []string{"sh-1", "sh-2", "sh-3"} {
		if calls[keys[c]] == 0 {
			notOffered++
		}
	}
	if notOffered != 1 {
		t.Errorf("%d Shanghai greetings were not offered again after the restart, want 1 (the one recorded before it): %v", notOffered, calls)
	}
}

// TestCampaignQuietHoursAndMissed: a sendAtLocal of 22:30 falls in the
// quiet hours and is moved to 08:00 local, in each customer's timezone; a
// server started more than 24 h after a customer's send instant skips them
// as MISSED and still greets a customer who is only 12 h late.
func TestCampaignQuietHoursAndMissed(t *testing.T) {
	t0 := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	dir := t.TempDir()
	h := campaignServer(t, dir, clock, nil)
	for _, c := range []campCustomer{
		{id: "q-sh", name: "夜猫子", phone: "+8613600000001", consent: true, manager: "quiet"},
		{id: "q-ny", name: "Night Owl", tz: newYork, locale: "en-US", phone: "+12125550102", consent: true, manager: "quiet"},
		{id: "m-sh", name: "迟到", phone: "+8613600000002", consent: true, manager: "missy"},
		{id: "m-ny", name: "Late Larry", tz: newYork, locale: "en-US", phone: "+12125550103", consent: true, manager: "missy"},
	} {
		h.setup(c, t0.Add(-time.Hour))
	}
	sms := []any{map[string]any{"channel": "SMS", "body": "{{occasion}}, {{name}}"}}
	quiet, r := h.schedule(map[string]any{"name": "Late-night wishes", "occasion": "CN:spring_festival", "date": "2027-02-06", "sendAtLocal": "22:30",
		"audience": map[string]any{"accountManager": "quiet"}, "templates": sms})
	if got := r.str("scheduleGreetingCampaign.campaign.sendAtLocal"); got != "22:30" {
		t.Errorf("sendAtLocal = %q, want 22:30 as given", got)
	}
	missed, _ := h.schedule(map[string]any{"name": "Shop anniversary", "occasion": "店庆", "date": "2027-02-03", "sendAtLocal": "09:00",
		"audience": map[string]any{"accountManager": "missy"}, "templates": sms})
	h.stop()

	// The server was down for the shop anniversary: it starts on 4
	// February 02:00 UTC, 25 h after 09:00 in Shanghai on the 3rd and 12 h
	// after 09:00 in New York.
	late := time.Date(2027, 2, 4, 2, 0, 0, 0, time.UTC)
	clock.Set(late)
	h = campaignServer(t, dir, clock, nil)
	st := h.waitCampaign(missed, "both customers handled", func(s campaignState) bool { return s.Sent+s.Skipped == 2 })
	if st.Sent != 1 || st.Skipped != 1 || st.ByReason["MISSED"] != 1 {
		t.Errorf("late start: %v, want sent=1, skipped=1 MISSED", st)
	}
	if ev := h.greetingsOf("m-sh").forCampaign(missed); len(ev) != 1 || ev[0].Type != "GreetingSkipped" || ev[0].Data["reason"] != "MISSED" ||
		!strings.Contains(ev[0].Summary, "MISSED") || !ev[0].OccurredAt.Equal(late) {
		t.Errorf("m-sh (25 h late): %+v, want one GreetingSkipped MISSED at %v", ev, late)
	}
	if ev := h.greetingsOf("m-ny").forCampaign(missed); len(ev) != 1 || ev[0].Type != "GreetingSent" {
		t.Errorf("m-ny (12 h late): %+v, want one GreetingSent", ev)
	}
	// customer.greetings is the book's read model, which may apply the
	// skip a moment after the campaign's.
	var g []map[string]any
	eventually(t, "m-sh's greeting in the book", func() bool { g = h.greetingsOf("m-sh").Greetings; return len(g) == 1 })
	if g[0]["status"] != "SKIPPED" || g[0]["reason"] != "MISSED" {
		t.Errorf("m-sh greetings: %v, want SKIPPED MISSED", g)
	}

	// 22:30 is inside the quiet hours (21:00–08:00): moved to 08:00 local.
	shAt := at(t, shanghai, 2027, 2, 6, 8, 0)
	nyAt := at(t, newYork, 2027, 2, 6, 8, 0)
	// A tick at 07:59 Shanghai time sends nothing (the 08:00 stamps
	// below would read 07:59 otherwise).
	clock.Set(shAt.Add(-time.Minute))
	h.waitTick(clock)
	clock.Set(shAt)
	h.waitCampaign(quiet, "Shanghai greeted at 08:00", func(s campaignState) bool { return s.Sent == 1 })
	if ev := h.greetingsOf("q-ny").forCampaign(quiet); len(ev) != 0 {
		t.Errorf("q-ny greeted at %s New York time: %+v", localClock(t, shAt, newYork), ev)
	}
	clock.Set(nyAt.Add(-time.Minute))
	h.waitTick(clock)
	clock.Set(nyAt)
	h.waitCampaign(quiet, "New York greeted at 08:00", func(s campaignState) bool { return s.Sent == 2 })
	for cid, w := range map[string]struct {
		zone string
		at   time.Time
	}{"q-sh": {shanghai, shAt}, "q-ny": {newYork, nyAt}} {
		ev := h.greetingsOf(cid).forCampaign(quiet)
		if len(ev) != 1 || ev[0].Type != "GreetingSent" || !ev[0].OccurredAt.Equal(w.at) || localClock(t, ev[0].OccurredAt, w.zone) != "2027-02-06 08:00" {
			t.Errorf("%s: %+v, want one GreetingSent at 2027-02-06 08:00 %s", cid, ev, w.zone)
		}
	}
	out := outboxByCustomer(t, readOutbox(t, dir))
	for cid, w := range map[string]time.Time{"q-sh": shAt, "q-ny": nyAt} {
		if l, ok := out[quiet+"/"+cid]; !ok || !l.WrittenAt.Equal(w) {
			t.Errorf("%s: outbox line %+v, want one written at %v", cid, l, w)
		}
	}
	if l, ok := out[missed+"/m-sh"]; ok {
		t.Errorf("MISSED customer has an outbox line: %+v", l)
	}

	clock.Set(time.Date(2027, 2, 7, 16, 0, 0, 0, time.UTC))
	for _, id := range []string{quiet, missed} {
		h.waitCampaign(id, "COMPLETED", func(s campaignState) bool { return s.Status == "COMPLETED" })
	}
	if st := h.campaign(missed); st.Sent != 1 || st.Skipped != 1 || !maps.Equal(st.ByReason, map[string]int{"MISSED": 1}) {
		t.Errorf("shop anniversary completed: %v, want sent=1 MISSED=1", st)
	}
}

// TestCampaignQuietHoursPolicy: server.Config.Greetings sets the quiet
// hours; a send inside them goes out at their configured end.
func TestCampaignQuietHoursPolicy(t *testing.T) {
	clock := newFakeClock(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
	h := campaignServer(t, "", clock, func(c *server.Config) {
		c.Greetings = greeting.Policy{QuietStart: "22:00", QuietEnd: "07:30", MissedAfter: 24 * time.Hour}
	})
	h.setup(campCustomer{id: "p-sh", name: "早起", phone: "+8613500000001", consent: true, manager: "dawn"}, clock.Now().Add(-time.Hour))
	id, _ := h.schedule(map[string]any{"name": "Dawn", "occasion": "CN:spring_festival", "date": "2027-02-06", "sendAtLocal": "23:15",
		"audience":  map[string]any{"accountManager": "dawn"},
		"templates": []any{map[string]any{"channel": "SMS", "body": "{{occasion}}"}}})
	want := at(t, shanghai, 2027, 2, 6, 7, 30)
	clock.Set(want.Add(-time.Minute))
	h.waitTick(clock) // nothing at 07:29
	clock.Set(want)
	h.waitCampaign(id, "sent at 07:30", func(s campaignState) bool { return s.Sent == 1 })
	if ev := h.greetingsOf("p-sh").forCampaign(id); len(ev) != 1 || !ev[0].OccurredAt.Equal(want) {
		t.Errorf("p-sh: %+v, want one GreetingSent at %v (07:30 Shanghai)", ev, want)
	}
}

// TestCampaignCancel: cancelGreetingCampaign stops the remaining sends. A
// second, uncancelled campaign due at the same instants is the probe that
// the dispatcher did run once New York's time had come.
func TestCampaignCancel(t *testing.T) {
	t0 := time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	h := campaignServer(t, "", clock, nil)
	for _, c := range []campCustomer{
		{id: "c-sh", name: "上海客", phone: "+8613400000001", consent: true},
		{id: "c-ny", name: "NY Guest", tz: newYork, locale: "en-US", phone: "+12125550104", consent: true},
	} {
		h.setup(c, t0.Add(-time.Hour))
	}
	sms := []any{map[string]any{"channel": "SMS", "body": "{{occasion}}, {{name}}"}}
	id, _ := h.schedule(map[string]any{"name": "To cancel", "occasion": "CN:spring_festival", "date": "2027-02-06", "templates": sms})
	probe, _ := h.schedule(map[string]any{"name": "Probe", "occasion": "Probe day", "date": "2027-02-06", "templates": sms})

	clock.Set(at(t, shanghai, 2027, 2, 6, 9, 0))
	h.waitCampaign(id, "Shanghai greeted", func(s campaignState) bool { return s.Sent == 1 })
	h.waitCampaign(probe, "Shanghai greeted", func(s campaignState) bool { return s.Sent == 1 })

	r := h.post(tokMarketing, mCancel, map[string]any{"in": map[string]any{"campaignId": id, "reason": "wrong wording"}})
	if len(r.Errors) > 0 || r.str("cancelGreetingCampaign.campaign.status") != "CANCELLED" || r.num("cancelGreetingCampaign.campaign.sent") != 1 {
		t.Fatalf("cancelGreetingCampaign: %s", r.Raw)
	}
	// A cancelled campaign cannot be cancelled again; nothing is appended.
	h.refused(tokMarketing, "FAILED_PRECONDITION", mCancel, map[string]any{"in": map[string]any{"campaignId": id, "reason": "again"}})

	clock.Set(at(t, newYork, 2027, 2, 6, 9, 0))
	h.waitCampaign(probe, "New York greeted by the probe", func(s campaignState) bool { return s.Sent == 2 })
	if ev := h.greetingsOf("c-ny").forCampaign(id); len(ev) != 0 {
		t.Errorf("c-ny got %+v from the cancelled campaign", ev)
	}
	clock.Set(time.Date(2027, 2, 7, 16, 0, 0, 0, time.UTC))
	h.waitCampaign(probe, "probe COMPLETED", func(s campaignState) bool { return s.Status == "COMPLETED" })
	if st := h.campaign(id); st.Status != "CANCELLED" || st.Sent != 1 || st.Skipped != 0 || st.Failed != 0 {
		t.Errorf("cancelled campaign: %v, want CANCELLED with sent=1", st)
	}
	out := outboxByCustomer(t, readOutbox(t, h.dir))
	if _, ok := out[id+"/c-ny"]; ok {
		t.Errorf("c-ny has an outbox line from the cancelled campaign")
	}
	if len(out) != 3 {
		t.Errorf("outbox has %d greetings, want 3 (cancelled: Shanghai; probe: both)", len(out))
	}
}

// TestCampaignBadInput: bad input is BAD_USER_INPUT and schedules
// nothing; MARKETING may schedule, ACCOUNT_MANAGER may not.
func TestCampaignBadInput(t *testing.T) {
	clock := newFakeClock(time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC))
	h := campaignServer(t, "", clock, nil)
	h.setup(campCustomer{id: "b1", name: "Bai", phone: "+8613300000001", consent: true}, clock.Now().Add(-time.Hour))
	valid := func() map[string]any {
		return map[string]any{"name": "Spring", "occasion": "CN:spring_festival", "sendAtLocal": "09:00",
			"templates": []any{map[string]any{"channel": "SMS", "body": "{{occasion}}, {{name}}"}}}
	}
	for _, tc := range []struct {
		name  string
		edit  func(map[string]any)
		field string
	}{
		{"unknown holiday key", func(in map[string]any) { in["occasion"] = "CN:no_such_holiday" }, "occasion"},
		{"unknown calendar", func(in map[string]any) { in["occasion"] = "XX:spring_festival" }, "occasion"},
		{"sendAtLocal 9am", func(in map[string]any) { in["sendAtLocal"] = "9am" }, "sendAtLocal"},
		{"sendAtLocal 24:00", func(in map[string]any) { in["sendAtLocal"] = "24:00" }, "sendAtLocal"},
		{"unknown placeholder", func(in map[string]any) {
			in["templates"] = []any{map[string]any{"channel": "SMS", "body": "Dear {{surname}}, happy {{occasion}}"}}
		}, "templates"},
		{"empty template list", func(in map[string]any) { in["templates"] = []any{} }, "templates"},
		{"custom occasion without date", func(in map[string]any) { in["occasion"] = "Shop day" }, "date"},
		{"date in the past", func(in map[string]any) { in["date"] = "2026-02-17" }, "date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := valid()
			tc.edit(in)
			r := h.refused(tokMarketing, "BAD_USER_INPUT", mSchedule, map[string]any{"in": in})
			if len(r.Errors) > 0 && !strings.Contains(r.Raw, tc.field) {
				t.Errorf("the error does not name %s: %s", tc.field, r.Raw)
			}
			h.refused(tokMarketing, "BAD_USER_INPUT", qPreview, map[string]any{"in": in})
			if n := h.ok(`{ campaigns{ totalCount } }`, nil).num("campaigns.totalCount"); n != 0 {
				t.Errorf("campaigns.totalCount = %d after a refused schedule", n)
			}
		})
	}

	h.refused(tokMarketing, "BAD_USER_INPUT", `{ holidays(calendar:"XX", from:"2027-01-01", to:"2027-12-31"){ key } }`, nil)
	h.refused(tokMarketing, "BAD_USER_INPUT", `{ holidays(calendar:"CN", from:"2027-12-31", to:"2027-01-01"){ key } }`, nil)

	h.refused(tokManager, "FORBIDDEN", mSchedule, map[string]any{"in": valid()})
	h.refused(tokAnalyst, "FORBIDDEN", mSchedule, map[string]any{"in": valid()})
	if n := h.ok(`{ campaigns{ totalCount } }`, nil).num("campaigns.totalCount"); n != 0 {
		t.Errorf("campaigns.totalCount = %d after refusals", n)
	}
	id, r := h.schedule(valid())
	if r.str("scheduleGreetingCampaign.campaign.createdBy") != "mark" || r.str("scheduleGreetingCampaign.campaign.date") != "2027-02-06" {
		t.Errorf("MARKETING scheduled: %s", r.Raw)
	}
	if g := h.ok(`{ campaigns{ totalCount edges{ node{ id } } } }`, nil); g.num("campaigns.totalCount") != 1 || g.str("campaigns.edges.0.node.id") != id {
		t.Errorf("campaigns: %s", g.Raw)
	}
	// ACCOUNT_MANAGER cannot cancel it either.
	h.refused(tokManager, "FORBIDDEN", mCancel, map[string]any{"in": map[string]any{"campaignId": id, "reason": "no"}})
	if st := h.campaign(id); st.Status != "SCHEDULED" {
		t.Errorf("after a refused cancel: %v", st)
	}
}

// gateway is a fake SMS gateway: it checks each request's signature and
// answers per customer from a script (the last answer repeats).
type gateway struct {
	t      *testing.T
	secret []byte

	mu     sync.Mutex
	script map[string][]int
	hits   map[string]int
	keys   map[string]map[string]bool // idempotency keys seen per customer
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !greeting.Verify(g.secret, body, r.Header.Get(greeting.HeaderSignature)) {
		g.t.Errorf("gateway: bad signature %q", r.Header.Get(greeting.HeaderSignature))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var m greeting.Message
	if err := json.Unmarshal(body, &m); err != nil {
		g.t.Errorf("gateway: body %q: %v", body, err)
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if k := r.Header.Get(greeting.HeaderIdempotencyKey); k != m.IdempotencyKey || k == "" {
		g.t.Errorf("gateway: Idempotency-Key header %q, body key %q", k, m.IdempotencyKey)
	}
	g.mu.Lock()
	g.hits[m.CustomerID]++
	if g.keys[m.CustomerID] == nil {
		g.keys[m.CustomerID] = map[string]bool{}
	}
	g.keys[m.CustomerID][m.IdempotencyKey] = true
	answers := g.script[m.CustomerID]
	code := http.StatusOK
	if n := g.hits[m.CustomerID]; len(answers) > 0 {
		code = answers[min(n, len(answers))-1]
	}
	g.mu.Unlock()
	w.WriteHeader(code)
}

// TestCampaignWebhookSender: a webhook sender passed in server.Config
// retries 503s until the gateway takes the greeting (GreetingSent with the
// attempts), and records a 400 as GreetingFailed with the reason on the
// customer's timeline.
func TestCampaignWebhookSender(t *testing.T) {
	secret := []byte("gateway-secret")
	gw := &gateway{t: t, secret: secret, hits: map[string]int{}, keys: map[string]map[string]bool{}, script: map[string][]int{
		"w-retry": {503, 503, 200},
		"w-bad":   {400},
		"w-ok":    {200},
	}}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close) // after the kefu server (cleanups run last-in first-out)
	wh, err := greeting.NewWebhook(greeting.WebhookConfig{URL: srv.URL + "/sms", Secret: secret, Timeout: 5 * time.Second,
		MaxAttempts: 5, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock(time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC))
	h := campaignServer(t, "", clock, func(c *server.Config) { c.Sender = wh })
	for _, c := range []campCustomer{
		{id: "w-retry", name: "重试", phone: "+8613200000001", consent: true},
		{id: "w-bad", name: "坏号", phone: "+8613200000002", consent: true},
		{id: "w-ok", name: "顺利", phone: "+8613200000003", consent: true},
	} {
		h.setup(c, clock.Now().Add(-time.Hour))
	}
	id, _ := h.schedule(map[string]any{"name": "Gateway", "occasion": "CN:spring_festival", "date": "2027-02-06",
		"templates": []any{map[string]any{"channel": "SMS", "body": "{{occasion}}快乐, {{name}}"}}})
	sendAt := at(t, shanghai, 2027, 2, 6, 9, 0)
	clock.Set(sendAt)
	st := h.waitCampaign(id, "every customer handled", func(s campaignState) bool { return s.Sent+s.Failed == 3 })
	if st.Sent != 2 || st.Failed != 1 || st.Skipped != 0 {
		t.Errorf("campaign: %v, want sent=2 failed=1", st)
	}

	retry := h.greetingsOf("w-retry").forCampaign(id)
	if len(retry) != 1 || retry[0].Type != "GreetingSent" || retry[0].Data["attempts"] != 3.0 {
		t.Errorf("w-retry: %+v, want one GreetingSent after 3 attempts", retry)
	}
	bad := h.greetingsOf("w-bad")
	if ev := bad.forCampaign(id); len(ev) != 1 || ev[0].Type != "GreetingFailed" || ev[0].Data["reason"] != "HTTP_400" ||
		!strings.Contains(ev[0].Summary, "HTTP_400") || !ev[0].OccurredAt.Equal(sendAt) {
		t.Errorf("w-bad: %+v, want one GreetingFailed HTTP_400 at %v", ev, sendAt)
	}
	if len(bad.Greetings) != 1 || bad.Greetings[0]["status"] != "FAILED" || bad.Greetings[0]["reason"] != "HTTP_400" || bad.Greetings[0]["channel"] != "SMS" {
		t.Errorf("w-bad greetings: %v, want FAILED HTTP_400 on SMS", bad.Greetings)
	}
	if ev := h.greetingsOf("w-ok").forCampaign(id); len(ev) != 1 || ev[0].Type != "GreetingSent" {
		t.Errorf("w-ok: %+v, want one GreetingSent", ev)
	}

	gw.mu.Lock()
	hits := maps.Clone(gw.hits)
	for c, ks := range gw.keys {
		if len(ks) != 1 {
			t.Errorf("gateway: %s got %d idempotency keys, want 1 across retries: %v", c, len(ks), slices.Collect(maps.Keys(ks)))
		}
	}
	gw.mu.Unlock()
	if want := map[string]int{"w-retry": 3, "w-bad": 1, "w-ok": 1}; !maps.Equal(hits, want) {
		t.Errorf("gateway requests per customer = %v, want %v (a 4xx is not retried)", hits, want)
	}
	if lines := readOutbox(t, h.dir); len(lines) != 0 {
		t.Errorf("with a webhook sender the outbox has %d lines", len(lines))
	}

	clock.Set(time.Date(2027, 2, 7, 16, 0, 0, 0, time.UTC))
	st = h.waitCampaign(id, "COMPLETED", func(s campaignState) bool { return s.Status == "COMPLETED" })
	if st.Sent != 2 || st.Failed != 1 || st.AudienceSize != 3 {
		t.Errorf("completed: %v, want sent=2 failed=1 audience=3", st)
	}
	gw.mu.Lock()
	defer gw.mu.Unlock()
	if !maps.Equal(gw.hits, hits) {
		t.Errorf("the gateway was called again after the outcomes were recorded: %v, then %v", hits, gw.hits)
	}
}

// flakySender fails its first n sends with an error that is not a
// delivery failure (a gateway or disk hiccup: nothing is recorded and the
// dispatcher retries on its next tick), then passes messages on.
type flakySender struct {
	inner greeting.Sender
	mu    sync.Mutex
	n     int
	calls int
}

var errHiccup = errors.New("transient hiccup")

func (s *flakySender) Send(ctx context.Context, m greeting.Message) (greeting.Receipt, error) {
	s.mu.Lock()
	s.calls++
	fail := s.calls <= s.n
	s.mu.Unlock()
	if fail {
		return greeting.Receipt{}, errHiccup
	}
	return s.inner.Send(ctx, m)
}

// TestCampaignCountsSurviveRetriedTicks: a tick that could not handle
// every customer is retried, and the customers it did handle are not
// counted twice — neither in the live counts nor in the final
// GreetingCampaignCompleted (whose ERASED count the read model uses).
func TestCampaignCountsSurviveRetriedTicks(t *testing.T) {
	t0 := time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	dir := t.TempDir()
	ob := openOutbox(t, dir, clock)
	flaky := &flakySender{inner: ob, n: 5}
	h := campaignServer(t, dir, clock, func(c *server.Config) { c.Sender = flaky })
	defer func() {
		h.stop()
		if err := ob.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, c := range []campCustomer{
		{id: "f-ok", name: "Flaky", phone: "+8613100000001", consent: true},
		{id: "f-skip", name: "No consent", phone: "+8613100000002"},
		{id: "f-erased", name: "Erased", phone: "+8613100000003", consent: true, erase: true},
	} {
		h.setup(c, t0.Add(-time.Hour))
	}
	id, _ := h.schedule(map[string]any{"name": "Flaky", "occasion": "CN:spring_festival", "date": "2027-02-06",
		"templates": []any{map[string]any{"channel": "SMS", "body": "{{occasion}}"}}})
	clock.Set(at(t, shanghai, 2027, 2, 6, 9, 0))
	h.waitCampaign(id, "sent after the hiccups", func(s campaignState) bool { return s.Sent >= 1 })
	want := map[string]int{"NO_CONSENT": 1, "ERASED": 1}
	if st := h.campaign(id); st.Sent != 1 || st.Skipped != 2 || !maps.Equal(st.ByReason, want) {
		t.Errorf("running, after %d failed ticks: %v, want sent=1 skipped=2 %v", flaky.n, st, want)
	}
	clock.Set(time.Date(2027, 2, 7, 16, 0, 0, 0, time.UTC))
	st := h.waitCampaign(id, "COMPLETED", func(s campaignState) bool { return s.Status == "COMPLETED" })
	if st.Sent != 1 || st.Skipped != 2 || st.AudienceSize != 3 || !maps.Equal(st.ByReason, want) {
		t.Errorf("completed: %v, want sent=1 skipped=2 audience=3 %v", st, want)
	}
	if ev := h.greetingsOf("f-ok").forCampaign(id); len(ev) != 1 || ev[0].Type != "GreetingSent" {
		t.Errorf("f-ok: %+v, want one GreetingSent", ev)
	}
}

// TestCampaignAudienceSizeWhileRunning: while a campaign runs, audienceSize
// is the audience counted when sending started (New York's customer
// included before they are due), never less than sent + failed + skipped;
// once the campaign has completed it is sent + failed + skipped —
// including the ERASED skips, which only the dispatcher's progress knows
// about until completion.
func TestCampaignAudienceSizeWhileRunning(t *testing.T) {
	t0 := time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	h := campaignServer(t, "", clock, nil)
	for _, c := range []campCustomer{
		{id: "a-sh", name: "在", phone: "+8613000000001", consent: true},
		{id: "a-erased", name: "无", phone: "+8613000000002", consent: true, erase: true},
		{id: "a-ny", name: "Later", tz: newYork, locale: "en-US", phone: "+12125550105", consent: true},
	} {
		h.setup(c, t0.Add(-time.Hour))
	}
	sms := []any{map[string]any{"channel": "SMS", "body": "{{occasion}}"}}
	id, _ := h.schedule(map[string]any{"name": "Size", "occasion": "CN:spring_festival", "date": "2027-02-06", "templates": sms})
	clock.Set(at(t, shanghai, 2027, 2, 6, 9, 0))
	h.waitCampaign(id, "Shanghai handled", func(s campaignState) bool { return s.Sent == 1 && s.Skipped == 1 })
	// Scheduling waits until the campaigns read model has applied every
	// event stored so far, the GreetingSent of a-sh included.
	h.schedule(map[string]any{"name": "Sync", "occasion": "Sync day", "date": "2027-03-01", "templates": sms})
	if st := h.campaign(id); st.Status != "RUNNING" || st.AudienceSize != 3 || st.Sent+st.Failed+st.Skipped != 2 {
		t.Errorf("running: %v; want audience=3 (counted when sending started) and 2 handled", st)
	}
	clock.Set(at(t, newYork, 2027, 2, 6, 9, 0))
	h.waitCampaign(id, "New York handled", func(s campaignState) bool { return s.Sent == 2 })
	clock.Set(time.Date(2027, 2, 7, 16, 0, 0, 0, time.UTC))
	if st := h.waitCampaign(id, "COMPLETED", func(s campaignState) bool { return s.Status == "COMPLETED" }); st.AudienceSize != 3 || st.Sent != 2 || st.Skipped != 1 {
		t.Errorf("completed: %v, want audience=3 sent=2 skipped=1 (ERASED)", st)
	}
}

// waitTick returns once the greeting dispatcher has run a tick at the
// clock's current time. Each tick handles every active campaign at the
// same instant, and stamps what it records with it; so after waitTick, a
// greeting stamped later than now was not due now. It registers a probe
// customer in a zone where it is midday, and a probe campaign for that
// customer alone (by account manager) due now, and waits for its send.
// Campaigns under test that must not see the probe customer need an
// account-manager scope.
func (h *harness) waitTick(clock *fakeClock) {
	h.t.Helper()
	now := clock.Now()
	k := 12 - now.UTC().Hour() // the probe's zone is UTC+k: midday there
	zone := fmt.Sprintf("Etc/GMT%+d", -k)
	loc, err := time.LoadLocation(zone)
	if err != nil {
		h.t.Fatal(err)
	}
	local := now.In(loc)
	id := fmt.Sprintf("probe-%d", now.Unix())
	h.register(id, "Probe", map[string]any{"timezone": zone, "locale": "en-US", "phone": "+10000000000", "marketingConsent": true, "accountManager": id})
	camp, _ := h.schedule(map[string]any{"name": id, "occasion": "Probe " + id, "date": local.Format("2006-01-02"), "sendAtLocal": local.Format("15:04"),
		"audience": map[string]any{"accountManager": id}, "templates": []any{map[string]any{"channel": "SMS", "body": "probe"}}})
	h.waitCampaign(camp, "the probe sent at "+now.Format(time.RFC3339), func(s campaignState) bool { return s.Sent == 1 })
	if ev := h.greetingsOf(id).forCampaign(camp); len(ev) != 1 || !ev[0].OccurredAt.Equal(now) {
		h.t.Fatalf("probe greeting %+v, want one stamped %v", ev, now)
	}
}

// gateSender holds every send until the gate opens.
type gateSender struct {
	inner   greeting.Sender
	entered chan struct{} // closed at the first send
	gate    chan struct{}
	once    sync.Once
}

func (s *gateSender) Send(ctx context.Context, m greeting.Message) (greeting.Receipt, error) {
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.gate:
	case <-ctx.Done():
		return greeting.Receipt{}, ctx.Err()
	}
	return s.inner.Send(ctx, m)
}

// TestCampaignReadableWhileSending: campaign(id) and campaigns answer while
// the dispatcher is busy sending (a slow gateway must not freeze the
// marketer's view of the campaign).
func TestCampaignReadableWhileSending(t *testing.T) {
	t0 := time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	dir := t.TempDir()
	ob := openOutbox(t, dir, clock)
	gate := &gateSender{inner: ob, entered: make(chan struct{}), gate: make(chan struct{})}
	h := campaignServer(t, dir, clock, func(c *server.Config) { c.Sender = gate })
	var openOnce sync.Once
	open := func() { openOnce.Do(func() { close(gate.gate) }) }
	defer func() {
		open()
		h.stop()
		if err := ob.Close(); err != nil {
			t.Error(err)
		}
	}()
	h.setup(campCustomer{id: "slow", name: "Slow", phone: "+8612900000001", consent: true}, t0.Add(-time.Hour))
	h.setup(campCustomer{id: "gone", name: "Gone", phone: "+8612900000002", consent: true, erase: true}, t0.Add(-time.Hour))
	id, _ := h.schedule(map[string]any{"name": "Slow gateway", "occasion": "CN:spring_festival", "date": "2027-02-06",
		"templates": []any{map[string]any{"channel": "SMS", "body": "{{occasion}}"}}})
	clock.Set(at(t, shanghai, 2027, 2, 6, 9, 0))
	<-gate.entered

	// The send is held. Read the campaign from another goroutine; if the
	// read waits for the send, open the gate after a while so that the
	// test ends, and report it.
	answered := make(chan string, 1)
	go func() {
		body, _ := json.Marshal(map[string]any{"query": `query($id:ID!){ campaign(id:$id){ status sent skipped } campaigns{ totalCount } }`,
			"variables": map[string]any{"id": id}})
		req, err := http.NewRequest(http.MethodPost, h.http.URL+"/graphql", bytes.NewReader(body))
		if err != nil {
			answered <- err.Error()
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tokMarketing)
		resp, err := h.http.Client().Do(req)
		if err != nil {
			answered <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answered <- string(b)
	}()
	select {
	case got := <-answered:
		var r struct {
			Data struct {
				Campaign  *struct{ Status string }
				Campaigns struct{ TotalCount int }
			}
			Errors []any
		}
		if err := json.Unmarshal([]byte(got), &r); err != nil || len(r.Errors) > 0 || r.Data.Campaign == nil || r.Data.Campaigns.TotalCount != 1 {
			t.Errorf("while sending: %s (%v), want the campaign", got, err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("campaign(id) did not answer in 10 s while a greeting was being sent (it waits for the dispatcher's tick)")
		open()
		t.Logf("after the send: %s", <-answered)
	}
	open()
	h.waitCampaign(id, "sent", func(s campaignState) bool { return s.Sent == 1 })
}

// Given an EMAIL campaign, when a customer of its audience is skipped (no
// consent, no address), then their greeting shows the channel the campaign
// would have used — not SMS, which skips used to show for want of one.
func TestSkippedGreetingShowsTheTemplatesChannel(t *testing.T) {
	clock := newFakeClock(time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC))
	h := campaignServer(t, "", clock, nil)
	for _, c := range []campCustomer{
		{id: "e-ok", name: "顺利", email: "ok@example.com", consent: true},
		{id: "e-no", name: "不要", email: "no@example.com"},
		{id: "e-none", name: "没邮箱", phone: "+8613200000009", consent: true},
	} {
		h.setup(c, clock.Now().Add(-time.Hour))
	}
	id, _ := h.schedule(map[string]any{"name": "Mail", "occasion": "CN:spring_festival", "date": "2027-02-06",
		"templates": []any{map[string]any{"channel": "EMAIL", "body": "{{occasion}}快乐, {{name}}"}}})
	clock.Set(at(t, shanghai, 2027, 2, 6, 9, 0))
	h.waitCampaign(id, "every customer handled", func(s campaignState) bool { return s.Sent+s.Failed+s.Skipped == 3 })
	for cid, reason := range map[string]string{"e-ok": "", "e-no": "NO_CONSENT", "e-none": "NO_CHANNEL"} {
		// The customers' read model may trail the campaign's by a moment.
		var g []map[string]any
		eventually(t, cid+"'s greeting", func() bool { g = h.greetingsOf(cid).Greetings; return len(g) == 1 })
		if g[0]["channel"] != "EMAIL" || (reason != "" && g[0]["reason"] != reason) {
			t.Errorf("%s greetings: %v, want one on EMAIL (%s)", cid, g, reason)
		}
	}
}
