package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests of issue 11 §3's greeting bugs, through the real server over
// HTTP: customers outside a campaign's audience get no event on their
// streams (the campaign counts them), audienceSize is known when the
// campaign is scheduled, and scheduleGreetingCampaign honours its
// idempotency key.

const qExcluded = `query($id:ID!){ campaign(id:$id){ status audienceSize sent failed skipped skippedByReason{ reason count }
	excluded excludedByReason{ reason count } } }`

// exclusionState is what campaign(id) says about the customers outside the
// audience, besides the delivery counts.
type exclusionState struct {
	campaignState
	Excluded   int
	ExReasons  map[string]int
	ExcludedOK bool // the fields resolved
}

func (h *harness) exclusions(id string) exclusionState {
	h.t.Helper()
	r := h.post(tokMarketing, qExcluded, map[string]any{"id": id})
	if len(r.Errors) > 0 {
		h.t.Errorf("campaign(%s){ excluded excludedByReason }: %s", id, r.Raw)
		return exclusionState{}
	}
	return exclusionState{campaignState: stateOf(r, "campaign"), Excluded: r.num("campaign.excluded"),
		ExReasons: reasonCounts(r, "campaign.excludedByReason"), ExcludedOK: true}
}

// streamEvents lists the types of the events of one stream (of the given
// types, all when none), oldest first.
func (h *harness) streamEvents(stream string, types ...string) []string {
	h.t.Helper()
	filter := map[string]any{"streamId": stream}
	if len(types) > 0 {
		filter["types"] = types
	}
	r := h.ok(`query($f:EventFilter){ events(filter:$f, first: 500){ edges{ node{ type data } } pageInfo{ hasNextPage } } }`,
		map[string]any{"f": filter})
	if r.get("events.pageInfo.hasNextPage") == true {
		h.t.Fatalf("%s has more than 500 events", stream)
	}
	var out []string
	for i := range r.list("events.edges") {
		out = append(out, r.str(fmt.Sprintf("events.edges.%d.node.type", i)))
	}
	return out
}

// logEvents counts the events of the given types in the whole log whose
// data names the campaign.
func (h *harness) logEvents(campaignID string, types ...string) map[string]int {
	h.t.Helper()
	out := map[string]int{}
	after := ""
	for {
		vars := map[string]any{"f": map[string]any{"types": types}}
		if after != "" {
			vars["after"] = after
		}
		r := h.ok(`query($f:EventFilter, $after:String){ events(filter:$f, first: 500, after:$after){
			edges{ cursor node{ streamId type data } } pageInfo{ hasNextPage endCursor } } }`, vars)
		for i := range r.list("events.edges") {
			p := fmt.Sprintf("events.edges.%d.node.", i)
			data, _ := r.get(p + "data").(map[string]any)
			if s, ok := r.get(p + "data").(string); ok {
				_ = json.Unmarshal([]byte(s), &data)
			}
			if data["campaignId"] == campaignID || strings.TrimPrefix(r.str(p+"streamId"), "campaign-") == campaignID {
				out[r.str(p+"type")]++
			}
		}
		if r.get("events.pageInfo.hasNextPage") != true {
			return out
		}
		after = r.str("events.pageInfo.endCursor")
	}
}

var greetingTypes = []string{"GreetingSent", "GreetingFailed", "GreetingSkipped"}

// TestCampaignExcludedCustomersGetNoEvent: a campaign for GOLD/VIP
// customers in ACTIVE or LOYAL appends an outcome only to the customers of
// its audience — sent, or skipped for consent, conduct or a missing
// channel; erased customers are counted and get nothing — and none to the
// customers its stages and tiers leave out, whatever else is true of them
// (no consent, another timezone). The campaign still counts those by
// reason: live while it runs, in GreetingCampaignCompleted at the end, and
// after a restart.
func TestCampaignExcludedCustomersGetNoEvent(t *testing.T) {
	t0 := time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	dir := t.TempDir()
	h := campaignServer(t, dir, clock, nil)
	since := t0.Add(-60 * 24 * time.Hour)
	audience := []campCustomer{
		{id: "in-sent", name: "王芳", tier: "GOLD", phone: "+8613800000101", consent: true, purchases: 2},
		{id: "in-noconsent", name: "赵敏", tier: "GOLD", phone: "+8613800000102", purchases: 2},
		{id: "in-flagged", name: "孙悟空", tier: "VIP", phone: "+8613800000103", consent: true, purchases: 2, flag: true},
		{id: "in-nophone", name: "周芷若", tier: "GOLD", email: "zhou@example.com", consent: true, purchases: 5},
		{id: "in-erased", name: "吴用", tier: "GOLD", phone: "+8613800000104", consent: true, purchases: 2, erase: true},
	}
	outside := []campCustomer{
		{id: "ex-stage", name: "郑和", tier: "GOLD", phone: "+8613800000105", consent: true},                   // NEW
		{id: "ex-stage-noconsent", name: "李四", tier: "VIP", phone: "+8613800000106"},                         // NEW, and no consent
		{id: "ex-tier", name: "钱多多", tier: "STANDARD", phone: "+8613800000107", consent: true, purchases: 2}, // ACTIVE
		{id: "ex-tier-ny", name: "Joe Bloggs", tier: "STANDARD", tz: newYork, locale: "en-US", phone: "+12125550199", consent: true, purchases: 2},
	}
	for _, c := range slices.Concat(audience, outside) {
		h.setup(c, since)
	}
	in := map[string]any{
		"name": "春节问候", "occasion": "CN:spring_festival", "date": "2027-02-06",
		"audience":  map[string]any{"stages": []string{"ACTIVE", "LOYAL"}, "tiers": []string{"GOLD", "VIP"}},
		"templates": []any{map[string]any{"channel": "SMS", "body": "{{occasion}}快乐, {{name}}"}},
	}
	wantSkips := map[string]int{"NO_CONSENT": 1, "CONDUCT_FLAGGED": 1, "NO_CHANNEL": 1, "ERASED": 1}
	wantExcluded := map[string]int{"STAGE_EXCLUDED": 2, "TIER_EXCLUDED": 2}

	// The preview splits the audience from the customers left out.
	p := h.post(tokMarketing, `query($in:ScheduleGreetingCampaignInput!){ previewGreetingCampaign(input:$in){
		evaluated audienceSize greeted skipped skippedByReason{ reason count } excluded excludedByReason{ reason count } } }`, map[string]any{"in": in})
	if len(p.Errors) > 0 {
		t.Errorf("preview: %s", p.Raw)
	} else {
		pv := "previewGreetingCampaign."
		if p.num(pv+"evaluated") != 9 || p.num(pv+"audienceSize") != 5 || p.num(pv+"greeted") != 1 || p.num(pv+"skipped") != 4 || p.num(pv+"excluded") != 4 ||
			!maps.Equal(reasonCounts(p, pv+"skippedByReason"), wantSkips) || !maps.Equal(reasonCounts(p, pv+"excludedByReason"), wantExcluded) {
			t.Errorf("preview: %s\nwant evaluated=9 audienceSize=5 greeted=1 skipped=4 %v excluded=4 %v", p.Raw, wantSkips, wantExcluded)
		}
	}

	id, _ := h.schedule(in)
	// Shanghai's 09:00: everyone there is handled; New York waits.
	clock.Set(at(t, shanghai, 2027, 2, 6, 9, 0))
	h.waitCampaign(id, "Shanghai handled", func(s campaignState) bool { return s.Sent == 1 && s.Skipped >= 4 })
	for _, c := range outside {
		if ev := h.streamEvents("customer-"+c.id, greetingTypes...); len(ev) != 0 {
			t.Errorf("%s is outside the audience but its stream got %v", c.id, ev)
		}
	}
	if st := h.exclusions(id); st.ExcludedOK && (st.Status != "RUNNING" || st.Excluded != 3 ||
		!maps.Equal(st.ExReasons, map[string]int{"STAGE_EXCLUDED": 2, "TIER_EXCLUDED": 1})) {
		t.Errorf("running, after Shanghai's 09:00: %v excluded=%d %v; want RUNNING excluded=3 (STAGE_EXCLUDED 2, TIER_EXCLUDED 1)", st.campaignState, st.Excluded, st.ExReasons)
	}

	// New York's 09:00: the customer there is outside the audience too,
	// counted and given nothing.
	clock.Set(at(t, newYork, 2027, 2, 6, 9, 0))
	eventually(t, "the New York customer counted", func() bool { st := h.exclusions(id); return !st.ExcludedOK || st.Excluded == 4 })
	clock.Set(time.Date(2027, 2, 7, 16, 0, 0, 0, time.UTC))
	h.waitCampaign(id, "COMPLETED", func(s campaignState) bool { return s.Status == "COMPLETED" })

	// No event on any stream outside the audience; one on each stream of
	// it (the erased customer's takes none).
	for _, c := range outside {
		if ev := h.streamEvents("customer-"+c.id, greetingTypes...); len(ev) != 0 {
			t.Errorf("%s is outside the audience but its stream got %v", c.id, ev)
		}
		if g := h.greetingsOf(c.id); len(g.Greetings) != 0 {
			t.Errorf("%s is outside the audience but customer.greetings lists %v", c.id, g.Greetings)
		}
	}
	for _, c := range audience {
		want := 1
		if c.erase {
			want = 0
		}
		if ev := h.greetingsOf(c.id).forCampaign(id); len(ev) != want {
			t.Errorf("%s is in the audience: %d greeting events, want %d: %+v", c.id, len(ev), want, ev)
		}
	}
	if got, want := h.logEvents(id, greetingTypes...), map[string]int{"GreetingSent": 1, "GreetingSkipped": 3}; !maps.Equal(got, want) {
		t.Errorf("the log holds %v for the campaign, want %v", got, want)
	}

	check := func(when string) {
		t.Helper()
		st := h.exclusions(id)
		if !st.ExcludedOK {
			return
		}
		if st.Status != "COMPLETED" || st.AudienceSize != 5 || st.Sent != 1 || st.Failed != 0 || st.Skipped != 4 || !maps.Equal(st.ByReason, wantSkips) ||
			st.Excluded != 4 || !maps.Equal(st.ExReasons, wantExcluded) {
			t.Errorf("%s: %v excluded=%d %v\nwant COMPLETED audience=5 sent=1 skipped=4 %v excluded=4 %v", when, st.campaignState, st.Excluded, st.ExReasons, wantSkips, wantExcluded)
		}
	}
	check("completed")
	// The counts live in the campaign's stream: a restarted server, whose
	// dispatcher has no tally of its own, reads the same.
	h.stop()
	h = campaignServer(t, dir, clock, nil)
	check("completed, after a restart")
	if got := h.logEvents(id, "GreetingCampaignCompleted"); got["GreetingCampaignCompleted"] != 1 {
		t.Errorf("campaign stream: %v, want one GreetingCampaignCompleted", got)
	}
}

// TestCampaignAudienceSizeKnownWhenScheduled: scheduleGreetingCampaign
// answers with the audience as the read models have it (not 0 until the
// dispatcher's first tick); when sending starts it is evaluated again (a
// customer registered since is counted, though not yet due); at completion
// it is the customers handled.
func TestCampaignAudienceSizeKnownWhenScheduled(t *testing.T) {
	t0 := time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	h := campaignServer(t, "", clock, nil)
	for _, c := range []campCustomer{
		{id: "s-1", name: "一", tier: "GOLD", phone: "+8613700000001", consent: true, birthday: "1990-02-10"},
		{id: "s-2", name: "二", tier: "GOLD", phone: "+8613700000002"}, // no consent: in the audience, skipped
		{id: "s-3", name: "三", tier: "VIP", phone: "+8613700000003", consent: true},
		{id: "s-std", name: "四", tier: "STANDARD", phone: "+8613700000004", consent: true, birthday: "1990-02-11"}, // outside
		{id: "s-ny", name: "Five", tier: "GOLD", tz: newYork, locale: "en-US", phone: "+12125550111", consent: true},
	} {
		h.setup(c, t0.Add(-time.Hour))
	}
	sms := []any{map[string]any{"channel": "SMS", "body": "{{occasion}}, {{name}}"}}
	id, r := h.schedule(map[string]any{"name": "Spring", "occasion": "CN:spring_festival", "date": "2027-02-06",
		"audience": map[string]any{"tiers": []string{"GOLD", "VIP"}}, "templates": sms})
	if got := r.num("scheduleGreetingCampaign.campaign.audienceSize"); got != 4 {
		t.Errorf("scheduleGreetingCampaign answered audienceSize %d, want 4 (the GOLD and VIP customers)", got)
	}
	if st := h.campaign(id); st.Status != "SCHEDULED" || st.AudienceSize != 4 {
		t.Errorf("scheduled: %v, want SCHEDULED audience=4", st)
	}
	// A birthday campaign's audience is the customers whose birthday falls
	// in its window.
	_, r = h.schedule(map[string]any{"name": "Birthdays", "occasion": "BIRTHDAY", "date": "2027-02-01", "templates": sms})
	if got := r.num("scheduleGreetingCampaign.campaign.audienceSize"); got != 2 {
		t.Errorf("birthday campaign: audienceSize %d, want 2 (s-1 and s-std have a birthday in the 30-day window)", got)
	}

	// A customer registered after the scheduling is counted when sending
	// starts, before New York (and they) are due.
	h.setup(campCustomer{id: "s-late", name: "Late", tier: "VIP", tz: newYork, locale: "en-US", phone: "+12125550112", consent: true}, t0)
	clock.Set(at(t, shanghai, 2027, 2, 6, 9, 0))
	st := h.waitCampaign(id, "Shanghai handled", func(s campaignState) bool { return s.Sent == 2 && s.Skipped == 1 })
	if st.Status != "RUNNING" || st.AudienceSize != 5 {
		t.Errorf("running, Shanghai handled: %v, want RUNNING audience=5 (re-evaluated when sending started)", st)
	}
	clock.Set(at(t, newYork, 2027, 2, 6, 9, 0))
	h.waitCampaign(id, "New York handled", func(s campaignState) bool { return s.Sent == 4 })
	clock.Set(time.Date(2027, 2, 7, 16, 0, 0, 0, time.UTC))
	st = h.waitCampaign(id, "COMPLETED", func(s campaignState) bool { return s.Status == "COMPLETED" })
	if st.AudienceSize != 5 || st.Sent != 4 || st.Skipped != 1 || st.AudienceSize != st.Sent+st.Failed+st.Skipped {
		t.Errorf("completed: %v, want audience=5 = sent 4 + skipped 1", st)
	}
}

// scheduleRaw posts scheduleGreetingCampaign without the harness's t (safe
// from several goroutines) and returns the campaign id and name, or the
// first error's code and message.
func scheduleRaw(url string, in map[string]any) (id, name, code, msg string, err error) {
	body, err := json.Marshal(map[string]any{"query": `mutation($in:ScheduleGreetingCampaignInput!){ scheduleGreetingCampaign(input:$in){ campaign{ id name } } }`,
		"variables": map[string]any{"in": in}})
	if err != nil {
		return "", "", "", "", err
	}
	req, err := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return "", "", "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tokMarketing)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", "", "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", "", "", "", err
	}
	var out struct {
		Data struct {
			ScheduleGreetingCampaign *struct {
				Campaign struct{ ID, Name string }
			}
		}
		Errors []gqlError
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", "", "", "", fmt.Errorf("%w: %s", err, raw)
	}
	if len(out.Errors) > 0 {
		return "", "", out.Errors[0].code(), out.Errors[0].Message, nil
	}
	if out.Data.ScheduleGreetingCampaign == nil {
		return "", "", "", "", fmt.Errorf("no campaign and no error: %s", raw)
	}
	c := out.Data.ScheduleGreetingCampaign.Campaign
	return c.ID, c.Name, "", "", nil
}

// TestCampaignScheduleIdempotencyKey: scheduling twice with the same
// idempotencyKey gives one campaign — the same id back and one
// GreetingCampaignScheduled, also when the retry comes days later or
// races the first request; the same key with another definition is a
// CONFLICT that names the key and appends nothing.
func TestCampaignScheduleIdempotencyKey(t *testing.T) {
	t0 := time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	h := campaignServer(t, "", clock, nil)
	h.setup(campCustomer{id: "k-1", name: "一", tier: "GOLD", phone: "+8613600000101", consent: true}, t0.Add(-time.Hour))
	def := func(name string) map[string]any {
		return map[string]any{"name": name, "occasion": "CN:spring_festival", "idempotencyKey": "spring-2027",
			"audience":  map[string]any{"tiers": []string{"GOLD"}},
			"templates": []any{map[string]any{"channel": "SMS", "body": "{{occasion}}快乐, {{name}}"}}}
	}
	id, _ := h.schedule(def("春节问候"))
	head := h.head()
	if again, _ := h.schedule(def("春节问候")); again != id {
		t.Errorf("the same key and definition gave campaign %s, then %s", id, again)
	}
	if h.head() != head {
		t.Errorf("the retry appended %d event(s)", h.head()-head)
	}

	// The same key with another definition is refused.
	for what, in := range map[string]map[string]any{
		"another name": def("国庆问候"),
		"another template": func() map[string]any {
			in := def("春节问候")
			in["templates"] = []any{map[string]any{"channel": "SMS", "body": "Happy {{occasion}}"}}
			return in
		}(),
		"another audience": func() map[string]any {
			in := def("春节问候")
			in["audience"] = map[string]any{"tiers": []string{"GOLD", "VIP"}}
			return in
		}(),
		"another send time": func() map[string]any {
			in := def("春节问候")
			in["sendAtLocal"] = "10:00"
			return in
		}(),
	} {
		r := h.refused(tokMarketing, "CONFLICT", mSchedule, map[string]any{"in": in})
		if len(r.Errors) > 0 && !strings.Contains(r.Errors[0].Message, "spring-2027") {
			t.Errorf("%s: the CONFLICT does not name the key: %s", what, r.Errors[0].Message)
		}
	}

	// A retry after the holiday (whose date was looked up when the
	// campaign was scheduled: now it would be next year's) is still the
	// same request.
	clock.Set(time.Date(2027, 2, 10, 0, 0, 0, 0, time.UTC))
	if again, _ := h.schedule(def("春节问候")); again != id {
		t.Errorf("a retry after the holiday gave campaign %s, want %s", again, id)
	}
	if got := h.logEvents(id, "GreetingCampaignScheduled"); got["GreetingCampaignScheduled"] != 1 {
		t.Errorf("campaign %s: %v, want one GreetingCampaignScheduled", id, got)
	}
	if n := h.ok(`{ campaigns{ totalCount } }`, nil).num("campaigns.totalCount"); n != 1 {
		t.Errorf("campaigns.totalCount = %d, want 1", n)
	}

	// Racing requests with one key: one campaign; a request whose
	// definition lost the race is a CONFLICT, never the other's campaign.
	const racers = 8
	type answer struct{ id, name, code, msg string }
	answers := make([]answer, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			in := def(fmt.Sprintf("race %d", i%2))
			in["idempotencyKey"] = "race-key"
			id, name, code, msg, err := scheduleRaw(h.http.URL, in)
			if err != nil {
				t.Errorf("racer %d: %v", i, err)
			}
			answers[i] = answer{id, name, code, msg}
		})
	}
	wg.Wait()
	ids := map[string]bool{}
	for i, a := range answers {
		want := fmt.Sprintf("race %d", i%2)
		switch {
		case a.code == "CONFLICT":
			if !strings.Contains(a.msg, "race-key") {
				t.Errorf("racer %d: CONFLICT without the key: %s", i, a.msg)
			}
		case a.code != "":
			t.Errorf("racer %d: %s %s, want the campaign or CONFLICT", i, a.code, a.msg)
		case a.name != want:
			t.Errorf("racer %d asked for %q and got campaign %s named %q", i, want, a.id, a.name)
		default:
			ids[a.id] = true
		}
	}
	if len(ids) != 1 {
		t.Errorf("racing requests with one key got campaigns %v, want one", ids)
	}
	for cid := range ids {
		if got := h.logEvents(cid, "GreetingCampaignScheduled"); got["GreetingCampaignScheduled"] != 1 {
			t.Errorf("campaign %s: %v, want one GreetingCampaignScheduled", cid, got)
		}
	}
	if n := h.ok(`{ campaigns{ totalCount } }`, nil).num("campaigns.totalCount"); n != 2 {
		t.Errorf("campaigns.totalCount = %d after the race, want 2", n)
	}
}
