package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/server"
)

// TestIdempotencyAcrossRestart retries mutations with the same
// idempotencyKey, before and after the server restarts on the same data
// directory: each retry returns the first result and appends nothing.
func TestIdempotencyAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	h := startServer(t, options{dir: dir})

	const register = `mutation($in:RegisterCustomerInput!){ registerCustomer(input:$in){ version customer{ id name } } }`
	regIn := map[string]any{"in": map[string]any{"name": "Guo Jing", "idempotencyKey": "reg-once"}}
	const contact = `mutation($in:LogContactInput!){ logContact(input:$in){ version customer{ version } } }`
	const file = `mutation($in:FileComplaintInput!){ fileComplaint(input:$in){ version complaint{ id status } } }`
	const schedule = `mutation($in:ScheduleFollowUpInput!){ scheduleFollowUp(input:$in){ version followUp{ id } } }`

	first := h.ok(register, regIn)
	id := first.str("registerCustomer.customer.id")
	if id == "" {
		t.Fatalf("no generated id: %s", first.Raw)
	}
	contactIn := map[string]any{"in": map[string]any{"customerId": id, "channel": "PHONE", "direction": "INBOUND", "agent": "mia", "idempotencyKey": "contact-1"}}
	fileIn := map[string]any{"in": map[string]any{"customerId": id, "channel": "PHONE", "category": "billing", "description": "charged twice", "owner": "mia", "idempotencyKey": "file-1"}}
	fileNamedIn := map[string]any{"in": map[string]any{"customerId": id, "complaintId": "k-named", "channel": "EMAIL", "category": "billing",
		"description": "charged three times", "owner": "mia", "idempotencyKey": "file-2"}}
	scheduleIn := map[string]any{"in": map[string]any{"customerId": id, "reason": "ROUTINE", "owner": "mia", "dueAt": ts(time.Now().Add(48 * time.Hour)), "idempotencyKey": "fu-1"}}

	type call struct {
		name, query string
		vars        map[string]any
		key         string // the part of the result that must not change
	}
	calls := []call{
		{"registerCustomer without id", register, regIn, "registerCustomer"},
		{"logContact", contact, contactIn, "logContact.version"},
		{"fileComplaint without id", file, fileIn, "fileComplaint.complaint.id"},
		{"fileComplaint with id", file, fileNamedIn, "fileComplaint.complaint.id"},
		{"scheduleFollowUp", schedule, scheduleIn, "scheduleFollowUp.followUp.id"},
	}
	want := map[string]string{}
	wantVersion := map[string]int{}
	for _, c := range calls {
		r := h.ok(c.query, c.vars)
		b, _ := json.Marshal(r.get(c.key))
		want[c.name] = string(b)
		for _, p := range []string{"registerCustomer.version", "logContact.version", "fileComplaint.version", "scheduleFollowUp.version"} {
			if r.get(p) != nil {
				wantVersion[c.name] = r.num(p)
			}
		}
	}
	// One more change, so that "the same result" is not just "the latest".
	h.ok(`mutation($id:ID!){ recordSatisfaction(input:{customerId:$id, score:5}){ version } }`, map[string]any{"id": id})

	retry := func(h *harness, when string) {
		t.Helper()
		for _, c := range calls {
			before := h.head()
			r := h.gql(c.query, c.vars)
			if len(r.Errors) > 0 {
				t.Errorf("%s: retry of %s failed: %s", when, c.name, r.Raw)
				continue
			}
			b, _ := json.Marshal(r.get(c.key))
			if string(b) != want[c.name] {
				t.Errorf("%s: retry of %s returned %s, first call %s", when, c.name, b, want[c.name])
			}
			for _, p := range []string{"registerCustomer.version", "logContact.version", "fileComplaint.version", "scheduleFollowUp.version"} {
				if r.get(p) != nil && r.num(p) != wantVersion[c.name] {
					t.Errorf("%s: retry of %s: version %d, first call %d", when, c.name, r.num(p), wantVersion[c.name])
				}
			}
			if after := h.head(); after != before {
				t.Errorf("%s: retry of %s appended %d event(s)", when, c.name, after-before)
			}
		}
		if n := h.ok(`{ customers{ totalCount } }`, nil).num("customers.totalCount"); n != 1 {
			t.Errorf("%s: %d customers after retried registrations, want 1", when, n)
		}
		if n := h.ok(`{ complaints{ totalCount } }`, nil).num("complaints.totalCount"); n != 2 {
			t.Errorf("%s: %d complaints after retried filings, want 2", when, n)
		}
		if n := h.ok(`{ followUps{ totalCount } }`, nil).num("followUps.totalCount"); n != 1 {
			t.Errorf("%s: %d follow-ups after retried scheduling, want 1", when, n)
		}
	}
	retry(h, "same server")
	head := h.head()
	h.stop()

	h2 := startServer(t, options{dir: dir})
	if got := h2.head(); got != head {
		t.Fatalf("head after restart %d, before %d", got, head)
	}
	retry(h2, "after restart")
}

// TestExpectedVersion: the right version succeeds, a stale one is CONFLICT
// on customer and complaint mutations alike.
func TestExpectedVersion(t *testing.T) {
	h := startServer(t, options{})
	v := h.register("c1", "Ma Li", nil)
	r := h.ok(`mutation($v:Int){ logContact(input:{customerId:"c1", channel:SMS, direction:OUTBOUND, agent:"mia", expectedVersion:$v}){ version customer{ version } } }`, map[string]any{"v": v})
	if r.num("logContact.version") != v+1 || r.num("logContact.customer.version") != v+1 {
		t.Fatalf("logContact at the right version: %s", r.Raw)
	}
	h.refused("", "CONFLICT", `mutation($v:Int){ logContact(input:{customerId:"c1", channel:SMS, direction:OUTBOUND, agent:"mia", expectedVersion:$v}){ version } }`, map[string]any{"v": v})
	h.fileComplaint("c1", map[string]any{"complaintId": "k1", "expectedVersion": v + 1})
	h.refused("", "CONFLICT", `mutation{ acknowledgeComplaint(input:{complaintId:"k1", by:"mia", expectedVersion:1}){ version } }`, nil)
	h.ok(`mutation{ acknowledgeComplaint(input:{complaintId:"k1", by:"mia", expectedVersion:2}){ version } }`, nil)
	// expectedVersion on a stream that does not exist yet.
	h.refused("", "CONFLICT", `mutation{ updateProfile(input:{customerId:"c1", segment:"x", expectedVersion:0}){ version } }`, nil)
}

// Given a complaint whose customer had other events since the complaint's
// last step, when a client reads Complaint.version — from complaint(id),
// complaints(...) and customer.openComplaints — and passes it back as
// expectedVersion, then the write succeeds: the number is the customer
// stream's revision, as its description says. (It was the revision of the
// complaint's last event, so such a write was CONFLICT forever.)
func TestComplaintVersionIsTheStreamRevision(t *testing.T) {
	h := startServer(t, options{})
	h.register("c1", "Ma Li", nil)
	h.fileComplaint("c1", map[string]any{"complaintId": "k1"})
	h.ok(`mutation{ logContact(input:{customerId:"c1", channel:SMS, direction:INBOUND, agent:"mia"}){ version } }`, nil)
	r := h.ok(`mutation{ recordPurchase(input:{customerId:"c1", orderId:"o1", amount:{amountMinor:100, currency:"CNY"}}){ version } }`, nil)
	head := r.num("recordPurchase.version")
	views := h.ok(`{ complaint(id:"k1"){ version }
		complaints(filter:{owner:"mia"}){ edges{ node{ version } } }
		customer(id:"c1"){ version openComplaints{ version } } }`, nil)
	for _, path := range []string{"complaint.version", "complaints.edges.0.node.version", "customer.openComplaints.0.version", "customer.version"} {
		if got := views.num(path); got != head {
			t.Errorf("%s = %d, want the customer stream's revision %d: %s", path, got, head, views.Raw)
		}
	}
	ack := h.ok(`mutation($v:Int){ acknowledgeComplaint(input:{complaintId:"k1", by:"mia", expectedVersion:$v}){ version complaint{ version } } }`, map[string]any{"v": views.num("complaint.version")})
	if ack.num("acknowledgeComplaint.version") != head+1 || ack.num("acknowledgeComplaint.complaint.version") != head+1 {
		t.Errorf("after acknowledging: %s, want version %d in both places", ack.Raw, head+1)
	}
}

// TestBackfillAndAsOf backfills a history with occurredAt and asks for the
// customer as of instants inside it: the state is recomputed from the
// stream.
func TestBackfillAndAsOf(t *testing.T) {
	h := startServer(t, options{})
	now := time.Now().Truncate(time.Second)
	day := 24 * time.Hour
	h.register("c1", "Han Mei", map[string]any{"occurredAt": ts(now.Add(-10 * day))})
	for i := range 2 {
		h.ok(`mutation($in:RecordPurchaseInput!){ recordPurchase(input:$in){ version } }`, map[string]any{"in": map[string]any{"customerId": "c1",
			"orderId": fmt.Sprintf("o%d", i), "amount": map[string]any{"amountMinor": 500, "currency": "CNY"}, "occurredAt": ts(now.Add(-time.Duration(9-i) * day))}})
	}
	h.fileComplaint("c1", map[string]any{"complaintId": "k1", "occurredAt": ts(now.Add(-5 * day))})

	const q = `query($t:DateTime){ customer(id:"c1", asOf:$t){ stage version purchaseCount openComplaints{ id } timeline{ totalCount } } }`
	for _, tc := range []struct {
		at        time.Time
		stage     string
		purchases int
		open      int
		events    int
	}{
		{now.Add(-9*day - time.Hour), "NEW", 0, 0, 1},
		{now.Add(-7 * day), "ACTIVE", 2, 0, 3},
		{now.Add(-4 * day), "COMPLAINING", 2, 1, 4},
	} {
		r := h.ok(q, map[string]any{"t": ts(tc.at)})
		if r.str("customer.stage") != tc.stage || r.num("customer.purchaseCount") != tc.purchases ||
			len(r.list("customer.openComplaints")) != tc.open || r.num("customer.timeline.totalCount") != tc.events ||
			r.num("customer.version") != tc.events-1 {
			t.Errorf("as of %s: %s; want stage %s, %d purchases, %d open complaints, %d events", tc.at, r.Raw, tc.stage, tc.purchases, tc.open, tc.events)
		}
	}
	// Before registration there is no customer.
	if r := h.ok(q, map[string]any{"t": ts(now.Add(-11 * day))}); r.get("customer") != nil {
		t.Errorf("as of before registration: %s", r.Raw)
	}
	// Now, the live read models agree with the fold.
	r := h.ok(`{ customer(id:"c1"){ stage } customers(filter:{stages:[COMPLAINING]}){ totalCount } }`, nil)
	if r.str("customer.stage") != "COMPLAINING" || r.num("customers.totalCount") != 1 {
		t.Errorf("now: %s", r.Raw)
	}
}

// TestPagination walks every connection page by page: no duplicates, none
// missing, totalCount exact on every page, cursors opaque; an insert in the
// middle of a walk does not disturb it.
func TestPagination(t *testing.T) {
	h := startServer(t, options{})
	const n = 23
	var ids []string
	for i := range n {
		id := fmt.Sprintf("p%02d", i)
		ids = append(ids, id)
		h.register(id, "Customer "+id, nil)
	}
	var complaints []string
	for i := range 7 {
		complaints = append(complaints, h.fileComplaint(ids[i], map[string]any{"complaintId": fmt.Sprintf("pk%d", i)}))
	}
	for i := range 6 {
		h.ok(`mutation($in:ScheduleFollowUpInput!){ scheduleFollowUp(input:$in){ version } }`, map[string]any{"in": map[string]any{
			"customerId": ids[i], "reason": "ROUTINE", "owner": "mia", "dueAt": ts(time.Now().Add(time.Duration(i+1) * time.Hour))}})
	}
	for i := range 11 {
		h.ok(`mutation($in:LogContactInput!){ logContact(input:$in){ version } }`, map[string]any{"in": map[string]any{
			"customerId": "p00", "channel": "PHONE", "direction": "OUTBOUND", "agent": fmt.Sprintf("agent%d", i)}})
	}

	check := func(what string, keys []string, totals []int, want []string) {
		t.Helper()
		noDuplicates(t, what, keys)
		if !slices.Equal(sorted(keys), sorted(want)) {
			t.Errorf("%s: walked %v, want %v", what, keys, want)
		}
		for _, tc := range totals {
			if tc != len(want) {
				t.Errorf("%s: totalCount %v on some page, want %d", what, totals, len(want))
				break
			}
		}
	}

	keys, totals := h.walk(`query($first:Int,$after:String){ customers(first:$first, after:$after){ totalCount edges{ cursor node{ id } } pageInfo{ hasNextPage endCursor } } }`, "customers", "id", 5, nil)
	check("customers", keys, totals, ids)
	if !slices.IsSorted(keys) {
		t.Errorf("customers are not in a stable (id) order: %v", keys)
	}

	// Timeline of p00: 1 registration + 1 complaint + 1 follow-up + 11 contacts.
	for _, oldest := range []bool{true, false} {
		keys, totals := h.walk(`query($first:Int,$after:String,$o:Boolean){ customer(id:"p00"){ timeline(first:$first, after:$after, oldestFirst:$o){
			totalCount edges{ cursor node{ revision } } pageInfo{ hasNextPage endCursor } } } }`, "customer.timeline", "revision", 3, map[string]any{"o": oldest})
		var want []string
		for i := range 14 {
			want = append(want, fmt.Sprint(i))
		}
		check(fmt.Sprintf("timeline(oldestFirst:%v)", oldest), keys, totals, want)
		if len(keys) == 14 && (keys[0] == "0") != oldest {
			t.Errorf("timeline(oldestFirst:%v) starts at revision %s", oldest, keys[0])
		}
	}

	keys, totals = h.walk(`query($first:Int,$after:String){ complaints(first:$first, after:$after){ totalCount edges{ cursor node{ id } } pageInfo{ hasNextPage endCursor } } }`, "complaints", "id", 2, nil)
	check("complaints", keys, totals, complaints)

	keys, totals = h.walk(`query($first:Int,$after:String){ followUps(first:$first, after:$after){ totalCount edges{ cursor node{ id } } pageInfo{ hasNextPage endCursor } } }`, "followUps", "id", 4, nil)
	if len(keys) != 6 {
		t.Errorf("followUps: walked %d, want 6", len(keys))
	}
	noDuplicates(t, "followUps", keys)
	for _, tc := range totals {
		if tc != 6 {
			t.Errorf("followUps: totalCount %v, want 6", totals)
			break
		}
	}

	keys, _ = h.walk(`query($first:Int,$after:String){ events(first:$first, after:$after){ edges{ cursor node{ position } } pageInfo{ hasNextPage endCursor } } }`, "events", "position", 7, nil)
	noDuplicates(t, "events", keys)
	if uint64(len(keys)) != h.head() {
		t.Errorf("events: walked %d, the log holds %d", len(keys), h.head())
	}

	// Cursors are opaque: not the raw id, revision or position.
	r := h.ok(`{ customers(first:1){ edges{ cursor node{ id } } } events(first:1){ edges{ cursor node{ position } } } }`, nil)
	if c := r.str("customers.edges.0.cursor"); c == "" || strings.Contains(c, r.str("customers.edges.0.node.id")) {
		t.Errorf("customer cursor %q shows the id", c)
	}
	if c := r.str("events.edges.0.cursor"); c == "" || c == r.str("events.edges.0.node.position") {
		t.Errorf("event cursor %q is the raw position", c)
	}

	// Stable across an insert: take the first page, register customers on
	// both sides of the cursor, then continue.
	p1 := h.ok(`{ customers(first:10){ totalCount edges{ node{ id } } pageInfo{ endCursor } } }`, nil)
	h.register("a-before", "Early", nil)
	h.register("z-after", "Late", nil)
	var rest []string
	after := p1.str("customers.pageInfo.endCursor")
	for {
		r := h.ok(`query($after:String){ customers(first:10, after:$after){ totalCount edges{ node{ id } } pageInfo{ hasNextPage endCursor } } }`, map[string]any{"after": after})
		for i := range r.list("customers.edges") {
			rest = append(rest, r.str(fmt.Sprintf("customers.edges.%d.node.id", i)))
		}
		if r.num("customers.totalCount") != n+2 {
			t.Errorf("totalCount after inserts = %d, want %d", r.num("customers.totalCount"), n+2)
		}
		if r.get("customers.pageInfo.hasNextPage") != true {
			break
		}
		after = r.str("customers.pageInfo.endCursor")
	}
	if want := append(slices.Clone(ids[10:]), "z-after"); !slices.Equal(rest, want) {
		t.Errorf("after an insert the walk continued with %v, want %v", rest, want)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestSilentWhenTheClockMoves: a customer with an open complaint and no
// inbound contact for 30 days becomes SILENT when the (controlled) clock
// moves; the live read model and /metrics follow.
func TestSilentWhenTheClockMoves(t *testing.T) {
	t0 := time.Date(2025, 6, 2, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	clock := newFakeClock(t0)
	h := startServer(t, options{clock: clock, tick: 5 * time.Millisecond})
	h.register("s1", "Silent Sam", map[string]any{"occurredAt": ts(t0.Add(-2 * time.Hour))})
	h.register("s2", "Chatty Cathy", map[string]any{"occurredAt": ts(t0.Add(-2 * time.Hour))})
	h.fileComplaint("s1", map[string]any{"complaintId": "k1", "occurredAt": ts(t0.Add(-time.Hour))})

	gauge := func(stage string) string {
		_, _, body := h.httpGet("/metrics", nil)
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, `kefu_customers_by_stage{stage="`+stage+`"}`) {
				return strings.TrimSpace(strings.TrimPrefix(line, `kefu_customers_by_stage{stage="`+stage+`"}`))
			}
		}
		return ""
	}
	if g := gauge("COMPLAINING"); g != "1" {
		t.Errorf(`kefu_customers_by_stage{stage="COMPLAINING"} = %q, want 1`, g)
	}
	if s := h.ok(`{ customer(id:"s1"){ stage } }`, nil).str("customer.stage"); s != "COMPLAINING" {
		t.Fatalf("stage at t0 = %s", s)
	}

	// 29 days on: still COMPLAINING.
	clock.Set(t0.Add(29 * 24 * time.Hour))
	if s := h.ok(`{ customer(id:"s1"){ stage } }`, nil).str("customer.stage"); s != "COMPLAINING" {
		t.Errorf("stage after 29 quiet days = %s, want COMPLAINING", s)
	}
	clock.Set(t0.Add(31 * 24 * time.Hour))
	r := h.ok(`{ customer(id:"s1"){ stage stageSince stageHistory{ from to at reason } } }`, nil)
	if r.str("customer.stage") != "SILENT" {
		t.Fatalf("stage after 31 quiet days = %s, want SILENT: %s", r.str("customer.stage"), r.Raw)
	}
	// The change is dated when the threshold was crossed, not when asked.
	if since := mustTime(t, r.str("customer.stageSince")); !since.Equal(t0.Add(-time.Hour).Add(30 * 24 * time.Hour)) {
		t.Errorf("stageSince = %v, want the complaint + 30 days", since)
	}
	eventually(t, "the live read model to move s1 to SILENT", func() bool {
		r := h.ok(`{ customers(filter:{stages:[SILENT]}){ edges{ node{ id } } } }`, nil)
		return r.str("customers.edges.0.node.id") == "s1"
	})
	eventually(t, `kefu_customers_by_stage{stage="SILENT"} 1`, func() bool { return gauge("SILENT") == "1" })
	if g := gauge("COMPLAINING"); g != "0" {
		t.Errorf(`kefu_customers_by_stage{stage="COMPLAINING"} = %q after the move, want 0`, g)
	}
	if s := h.ok(`{ customer(id:"s2"){ stage } }`, nil).str("customer.stage"); s != "NEW" {
		t.Errorf("a customer without a grievance went %s", s)
	}
	// An inbound contact (at the moved clock) leaves SILENT.
	h.ok(`mutation{ logContact(input:{customerId:"s1", channel:PHONE, direction:INBOUND, agent:"mia"}){ version } }`, nil)
	if s := h.ok(`{ customer(id:"s1"){ stage } }`, nil).str("customer.stage"); s != "COMPLAINING" {
		t.Errorf("stage after an inbound contact = %s, want COMPLAINING", s)
	}
	// occurredAt is checked against the server's clock, not the machine's.
	h.refused("", "BAD_USER_INPUT", `mutation($t:DateTime){ logContact(input:{customerId:"s1", channel:PHONE, direction:INBOUND, agent:"mia", occurredAt:$t}){ version } }`,
		map[string]any{"t": ts(t0.Add(32 * 24 * time.Hour))})
}

// TestHealthAndMetrics checks /healthz and /metrics over HTTP.
func TestHealthAndMetrics(t *testing.T) {
	h := startServer(t, options{auth: true})
	h.register("c1", "Metric Mo", nil)
	// Without a token /healthz says only how the server is; with one, the
	// operator's detail.
	code, _, body := h.httpGet("/healthz", nil)
	if code != http.StatusOK || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Errorf("/healthz without a token: HTTP %d %s, want the status alone", code, body)
	}
	code, hdr, body := h.httpGet("/healthz", map[string]string{"Authorization": "Bearer " + tokAnalyst})
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("/healthz: HTTP %d %s: %s", code, hdr.Get("Content-Type"), body)
	}
	var health struct {
		Status      string `json:"status"`
		Head        uint64 `json:"head"`
		Customers   int    `json:"customers"`
		Projections []struct {
			Name      string `json:"name"`
			State     string `json:"state"`
			LagEvents uint64 `json:"lagEvents"`
		} `json:"projections"`
	}
	if err := json.Unmarshal([]byte(body), &health); err != nil {
		t.Fatalf("/healthz is not JSON: %v: %s", err, body)
	}
	if health.Status != "ok" || health.Customers != 1 || health.Head != h.head() || len(health.Projections) == 0 {
		t.Errorf("/healthz: %s", body)
	}
	for _, p := range health.Projections {
		if p.State != "live" || p.LagEvents != 0 {
			t.Errorf("projection %s: state %s, lag %d", p.Name, p.State, p.LagEvents)
		}
	}
	// /metrics needs a token under --auth (any role).
	if code, _, body := h.httpGet("/metrics", nil); code != http.StatusUnauthorized || strings.Contains(body, "kefu_") {
		t.Errorf("/metrics without a token: HTTP %d", code)
	}
	bearer := map[string]string{"Authorization": "Bearer " + tokAnalyst}
	code, hdr, body = h.httpGet("/metrics", bearer)
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: HTTP %d %s", code, hdr.Get("Content-Type"))
	}
	for _, want := range []string{
		`kefu_http_requests_total{code="200",route="/graphql"}`,
		`kefu_http_request_duration_seconds_bucket{route="/graphql"`,
		`kefu_projection_lag_events{projection="customers"} 0`,
		`kefu_projection_lag_seconds{projection=`,
		`kefu_append_duration_seconds_count 1`,
		`kefu_customers_by_stage{stage="NEW"} 1`,
		`kefu_graphql_operations_total{code="OK",operation="registerCustomer",type="mutation"} 1`,
		"kefu_log_head_position 1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// A refused request is counted under its code.
	h.post("", `{ customers{ totalCount } }`, nil)
	_, _, body = h.httpGet("/metrics", bearer)
	if !strings.Contains(body, `kefu_http_requests_total{code="401",route="/graphql"} 1`) {
		t.Errorf("/metrics does not count the 401")
	}
	// The root redirects browsers to the explorer.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, h.http.URL+"/", nil)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/graphql" {
		t.Errorf("GET /: HTTP %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The explorer page is served without a token, offline (no CDN).
	code, _, page := h.httpGet("/graphql", map[string]string{"Accept": "text/html"})
	if code != http.StatusOK || !strings.Contains(page, "<script") || strings.Contains(page, "https://") {
		t.Errorf("explorer page: HTTP %d, %d bytes, external URL: %v", code, len(page), strings.Contains(page, "https://"))
	}
	// GET queries work; GET mutations do not.
	code, _, body = h.httpGet("/graphql?query="+url.QueryEscape(`{ customer(id:"c1"){ id } }`), map[string]string{"Authorization": "Bearer " + tokAnalyst})
	if code != http.StatusOK || !strings.Contains(body, `"id":"c1"`) {
		t.Errorf("GET query: HTTP %d: %s", code, body)
	}
	before := h.head()
	code, _, body = h.httpGet("/graphql?query="+url.QueryEscape(`mutation{ registerCustomer(input:{name:"Via GET"}){ version } }`), map[string]string{"Authorization": "Bearer " + tokAdmin})
	if code != http.StatusMethodNotAllowed || h.head() != before {
		t.Errorf("GET mutation: HTTP %d: %s", code, body)
	}
	// Malformed JSON → a GraphQL-shaped body: 400 when the client accepts
	// application/graphql-response+json, 200 in application/json (GraphQL
	// over HTTP).
	for accept, status := range map[string]int{"application/graphql-response+json": http.StatusBadRequest, "application/json": http.StatusOK} {
		req, _ := http.NewRequest(http.MethodPost, h.http.URL+"/graphql", strings.NewReader(`{"query": `))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		resp, err = h.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var eb struct {
			Errors []gqlError `json:"errors"`
		}
		err = json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if resp.StatusCode != status || err != nil || len(eb.Errors) == 0 || eb.Errors[0].code() != "BAD_USER_INPUT" {
			t.Errorf("malformed JSON, Accept %s: HTTP %d, %v, %+v", accept, resp.StatusCode, err, eb)
		}
	}
}

// TestConcurrentRetries: the same idempotent command sent by several
// clients at once appends once, and every caller gets the same version.
func TestConcurrentRetries(t *testing.T) {
	h := startServer(t, options{})
	h.register("c1", "Lin Tao", nil)
	before := h.head()
	const n = 8
	versions := make(chan result, n)
	for range n {
		go func() {
			versions <- h.post("", `mutation{ recordPurchase(input:{customerId:"c1", orderId:"o-42", amount:{amountMinor:100, currency:"CNY"}, idempotencyKey:"buy-42"}){ version } }`, nil)
		}()
	}
	seen := map[int]int{}
	for range n {
		r := <-versions
		if len(r.Errors) > 0 {
			t.Errorf("concurrent retry failed: %s", r.Raw)
			continue
		}
		seen[r.num("recordPurchase.version")]++
	}
	if len(seen) != 1 {
		t.Errorf("concurrent retries returned different versions: %v", seen)
	}
	if got := h.head() - before; got != 1 {
		t.Errorf("%d concurrent retries appended %d events, want 1", n, got)
	}
	if c := h.ok(`{ customer(id:"c1"){ purchaseCount } }`, nil); c.num("customer.purchaseCount") != 1 {
		t.Errorf("purchaseCount = %d, want 1", c.num("customer.purchaseCount"))
	}
}

// TestTimelineTypesAndProtection: the timeline's types filter, and the
// handler's limits through the real server.
func TestTimelineTypesAndProtection(t *testing.T) {
	h := startServer(t, options{})
	h.register("c1", "Tang Yu", nil)
	for i := range 3 {
		h.ok(fmt.Sprintf(`mutation{ logContact(input:{customerId:"c1", channel:EMAIL, direction:OUTBOUND, agent:"a%d"}){ version } }`, i), nil)
	}
	r := h.ok(`{ customer(id:"c1"){ timeline(types:["ContactLogged"]){ totalCount edges{ node{ type } } } } }`, nil)
	if r.num("customer.timeline.totalCount") != 3 || len(r.list("customer.timeline.edges")) != 3 || r.str("customer.timeline.edges.0.node.type") != "ContactLogged" {
		t.Errorf("timeline(types): %s", r.Raw)
	}
	deep := "{ customer(id:\"c1\"){ " + strings.Repeat("openComplaints{ customer{ ", 10) + "id" + strings.Repeat(" } }", 10) + " } }"
	if r := h.refused("", "BAD_USER_INPUT", deep, nil); r.Status != http.StatusOK {
		t.Errorf("a too deep query: HTTP %d", r.Status)
	}
	wide := `{ customers(first: 500){ edges{ node{ timeline(first: 500){ edges{ node{ data } } } } } } }`
	if r := h.refused("", "BAD_USER_INPUT", wide, nil); r.Status != http.StatusOK || !strings.Contains(r.Raw, "complexity") {
		t.Errorf("a too complex query: HTTP %d %s", r.Status, r.Raw)
	}
	big := `{"query":"{ customers { totalCount } }", "variables": {"pad": "` + strings.Repeat("x", 2<<20) + `"}}`
	resp, err := h.http.Client().Post(h.http.URL+"/graphql", "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MiB body: HTTP %d, want 413", resp.StatusCode)
	}
}

// TestPaginationBackfilledOrder: complaints and follow-ups created out of
// their time order (backfill) still page without gaps or repeats, through
// the top-level connections and the customer's own.
func TestPaginationBackfilledOrder(t *testing.T) {
	h := startServer(t, options{})
	base := time.Now().Add(-30 * 24 * time.Hour).Truncate(time.Second)
	h.register("b1", "Out Of Order", map[string]any{"occurredAt": ts(base)})
	h.register("b2", "Another One", map[string]any{"occurredAt": ts(base)})
	offsets := []int{9, 2, 7, 1, 8, 3, 6, 4, 5} // days after base, in filing order
	var want []string
	for i, d := range offsets {
		cust := []string{"b1", "b2"}[i%2]
		id := fmt.Sprintf("z%d", 9-i) // ids in reverse filing order too
		want = append(want, h.fileComplaint(cust, map[string]any{"complaintId": id, "occurredAt": ts(base.Add(time.Duration(d) * 24 * time.Hour))}))
		h.ok(`mutation($in:ScheduleFollowUpInput!){ scheduleFollowUp(input:$in){ version } }`, map[string]any{"in": map[string]any{
			"customerId": cust, "reason": "ROUTINE", "owner": "mia", "dueAt": ts(time.Now().Add(time.Duration(offsets[len(offsets)-1-i]) * time.Hour))}})
	}
	for _, first := range []int{1, 2, 4} {
		keys, totals := h.walk(`query($first:Int,$after:String){ complaints(first:$first, after:$after){ totalCount edges{ cursor node{ id } } pageInfo{ hasNextPage endCursor } } }`, "complaints", "id", first, nil)
		noDuplicates(t, "complaints", keys)
		if !slices.Equal(sorted(keys), sorted(want)) {
			t.Errorf("complaints(first:%d): walked %v, want %v", first, keys, want)
		}
		for _, tc := range totals {
			if tc != len(want) {
				t.Errorf("complaints(first:%d): totalCount %v", first, totals)
				break
			}
		}
		keys, _ = h.walk(`query($first:Int,$after:String){ followUps(first:$first, after:$after){ totalCount edges{ cursor node{ id } } pageInfo{ hasNextPage endCursor } } }`, "followUps", "id", first, nil)
		noDuplicates(t, "followUps", keys)
		if len(keys) != len(offsets) {
			t.Errorf("followUps(first:%d): walked %d, want %d", first, len(keys), len(offsets))
		}
		keys, totals = h.walk(`query($first:Int,$after:String){ customer(id:"b1"){ complaints(first:$first, after:$after){ totalCount edges{ cursor node{ id } } pageInfo{ hasNextPage endCursor } } } }`, "customer.complaints", "id", first, nil)
		noDuplicates(t, "customer.complaints", keys)
		if len(keys) != 5 {
			t.Errorf("customer(b1).complaints(first:%d): walked %v, want 5", first, keys)
		}
		for _, tc := range totals {
			if tc != 5 {
				t.Errorf("customer(b1).complaints(first:%d): totalCount %v", first, totals)
				break
			}
		}
	}
}

// Given 16 writers logging contacts on one customer at once, with no
// expectedVersion, then every write gets through — the server retries lost
// races with a jittered backoff until the request's deadline instead of
// giving up after a few attempts — and a CONFLICT that does happen (a
// stale expectedVersion) says what to do without the store's internals.
func TestRacingWritersWithoutVersionAllSucceed(t *testing.T) {
	// Each attempt reads the whole (growing) stream: under -race on a
	// loaded machine a write may need more than the default 10 s.
	h := startServerWith(t, options{}, func(c *server.Config) { c.RequestTimeout = time.Minute })
	h.register("c1", "Lin Tao", nil)
	before := h.head()
	const writers, each = 16, 30
	errs := make(chan string, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r := h.post("", `mutation($s: String){ logContact(input:{customerId:"c1", channel:PHONE, direction:INBOUND, agent:"mia", summary:$s}){ version } }`,
					map[string]any{"s": fmt.Sprintf("w%d-%d", w, i)})
				if len(r.Errors) > 0 {
					errs <- r.Raw
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for e := range errs {
		if failed++; failed <= 3 {
			t.Errorf("a racing write failed: %s", e)
		}
	}
	if got := h.head() - before; got != writers*each {
		t.Errorf("%d writes appended %d events (%d failed)", writers*each, got, failed)
	}
	r := h.refused("", "CONFLICT", `mutation{ logContact(input:{customerId:"c1", channel:PHONE, direction:INBOUND, agent:"mia", expectedVersion: 3}){ version } }`, nil)
	for _, leak := range []string{"eventstore", "app:", "stream"} {
		if strings.Contains(r.Raw, leak) {
			t.Errorf("the CONFLICT message leaks %q: %s", leak, r.Raw)
		}
	}
	if !strings.Contains(r.Raw, "retry") {
		t.Errorf("the CONFLICT message should say what to do: %s", r.Raw)
	}
}

// Given text no CRM should store — a million-character name, a NUL, a
// control character in a one-line field, an over-long note — when it is
// sent, then the answer is BAD_USER_INPUT naming the field and nothing is
// appended; line breaks in free text stay allowed.
func TestTextLimits(t *testing.T) {
	h := startServer(t, options{})
	h.register("c1", "Lin Tao", nil)
	const register = `mutation($in: RegisterCustomerInput!){ registerCustomer(input: $in){ version } }`
	const contact = `mutation($in: LogContactInput!){ logContact(input: $in){ version } }`
	cases := []struct {
		name, query, field string
		in                 map[string]any
	}{
		{"a million-character name", register, "name", map[string]any{"name": strings.Repeat("a", 1_000_000)}},
		{"NUL in a name", register, "name", map[string]any{"name": "Lin\x00Tao"}},
		{"a line break in a phone", register, "phone", map[string]any{"name": "Lin", "phone": "+86138\n00000000"}},
		{"an over-long summary", contact, "summary", map[string]any{"customerId": "c1", "channel": "PHONE", "direction": "INBOUND", "agent": "mia", "summary": strings.Repeat("x", 10_001)}},
		{"an escape in an agent", contact, "agent", map[string]any{"customerId": "c1", "channel": "PHONE", "direction": "INBOUND", "agent": "mia\x1b[31m"}},
	}
	for _, tc := range cases {
		head := h.head()
		r := h.refused("", "BAD_USER_INPUT", tc.query, map[string]any{"in": tc.in})
		if !strings.Contains(r.Raw, `"input.`+tc.field+`"`) {
			t.Errorf("%s: the error should name input.%s: %.300s", tc.name, tc.field, r.Raw)
		}
		if h.head() != head {
			t.Errorf("%s: appended something", tc.name)
		}
	}
	h.ok(contact, map[string]any{"in": map[string]any{"customerId": "c1", "channel": "PHONE", "direction": "INBOUND", "agent": "mia", "summary": "line one\nline two\tand a tab"}})
}

// Naming a stage twice in a filter lists each customer once.
func TestRepeatedStageFilter(t *testing.T) {
	h := startServer(t, options{})
	h.register("a1", "王芳", nil)
	h.register("b1", "李娜", nil)
	r := h.ok(`{ customers(filter:{stages:[NEW, NEW]}){ totalCount edges{ node{ id } } } }`, nil)
	if n, edges := r.num("customers.totalCount"), len(r.list("customers.edges")); n != 2 || edges != 2 {
		t.Fatalf("totalCount %d, %d edges; want 2 and 2", n, edges)
	}
}
