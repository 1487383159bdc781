package graphql_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/graphql"
)

const customerFields = `id name phone email tier segment accountManager timezone locale birthday marketingConsent erased conductFlagged
  registeredAt stage stageSince stageHistory { from to at reason } lastInboundAt lastPurchaseAt purchaseCount
  lifetimeValue { amountMinor currency }
  loyalty { score level referrals csatAverage recoveredComplaints pAlive expectedPurchases(horizonDays: 30) }
  openComplaints { id status }
  complaints(first: 5) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } }
  followUps(status: DUE) { id reason }
  greetings { campaign { id name } occasion channel status reason at }
  timeline(first: 1, types: ["ContactLogged", "CustomerRegistered"]) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { eventId type revision position occurredAt recordedAt summary data } } }
  version`

const complaintFields = `id customer { id } status severity category channel description owner filedAt replyDueAt acknowledgedAt overdue
  escalatedTo promisedReplyBy resolutionOptions acceptedOption recoverySteps { step at by note } compensation { amountMinor currency }
  outcome resolvedAt declineReason repeatContacts incidentReportFiled version`

const campaignFields = `id name occasion date sendAtLocal status audience { stages tiers accountManager excludeConductFlagged }
  audienceSize sent failed skipped skippedByReason { reason count } createdBy`

func TestEveryQueryResolves(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	tests := []struct {
		name  string
		query string
		check func(t *testing.T, data map[string]any)
	}{
		{"customer", `{ customer(id: "c1") { ` + customerFields + ` } }`, func(t *testing.T, d map[string]any) {
			if at(d, "customer", "birthday") != "1990-05-17" || at(d, "customer", "tier") != "GOLD" {
				t.Errorf("customer: %v", d)
			}
			if at(d, "customer", "stageHistory", 1, "from") != "NEW" || at(d, "customer", "stageHistory", 0, "from") != nil {
				t.Errorf("stageHistory: %v", at(d, "customer", "stageHistory"))
			}
			if at(d, "customer", "lifetimeValue", 0, "amountMinor") != 129900.0 || at(d, "customer", "purchaseCount") != 3.0 {
				t.Errorf("purchases: %v", d)
			}
			if at(d, "customer", "timeline", "totalCount") != 2.0 || at(d, "customer", "timeline", "pageInfo", "hasNextPage") != true {
				t.Errorf("timeline page: %v", at(d, "customer", "timeline"))
			}
			if at(d, "customer", "timeline", "edges", 0, "node", "type") != "ContactLogged" {
				t.Errorf("timeline is not newest first: %v", at(d, "customer", "timeline"))
			}
			if at(d, "customer", "timeline", "edges", 0, "node", "data", "summary") != "王芳 called, upset" {
				t.Errorf("timeline data: %v", at(d, "customer", "timeline"))
			}
			if at(d, "customer", "openComplaints", 0, "id") != "k1" || at(d, "customer", "followUps", 0, "reason") != "RECOVERY" {
				t.Errorf("nested lists: %v", d)
			}
		}},
		{"customer asOf", `{ customer(id: "c1", asOf: "2025-01-01T00:00:00+08:00") { id stage } }`, func(t *testing.T, d map[string]any) {
			if at(d, "customer", "stage") != "ACTIVE" {
				t.Errorf("as of New Year, before the complaint: %v", d)
			}
		}},
		{"unknown customer is null", `{ customer(id: "nobody") { id } }`, func(t *testing.T, d map[string]any) {
			if v, ok := d["customer"]; !ok || v != nil {
				t.Errorf("want customer: null, got %v", d)
			}
		}},
		{"customers", `{ customers(filter: {stages: [COMPLAINING, NEW], tiers: [GOLD], accountManager: "alice", minLoyaltyScore: 0, hasOpenComplaint: true, search: "王"}, first: 1) {
			totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`, func(t *testing.T, d map[string]any) {
			if at(d, "customers", "totalCount") != 1.0 || at(d, "customers", "edges", 0, "node", "id") != "c1" {
				t.Errorf("customers: %v", d)
			}
		}},
		{"customers page 1", `{ customers(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }`, func(t *testing.T, d map[string]any) {
			if at(d, "customers", "totalCount") != 2.0 || at(d, "customers", "pageInfo", "hasNextPage") != true {
				t.Errorf("page 1: %v", d)
			}
		}},
		{"complaint", `{ complaint(id: "k1") { ` + complaintFields + ` } }`, func(t *testing.T, d map[string]any) {
			if at(d, "complaint", "customer", "id") != "c1" || at(d, "complaint", "recoverySteps", 0, "step") != "APOLOGY" {
				t.Errorf("complaint: %v", d)
			}
		}},
		{"complaints", `{ complaints(filter: {statuses: [OPEN], severity: GENERAL, owner: "alice", overdue: false, filedFrom: "2025-01-01T00:00:00Z", filedTo: "2026-01-01T00:00:00Z"}) {
			totalCount pageInfo { hasNextPage } edges { cursor node { id } } } }`, nil},
		{"followUps", `{ followUps(filter: {owner: "alice", status: DUE, dueBefore: "2030-01-01T00:00:00Z", reasons: [RECOVERY]}) {
			totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id customer { id } complaint { id } reason owner dueAt status outcome note } } } }`,
			func(t *testing.T, d map[string]any) {
				if at(d, "followUps", "edges", 0, "node", "complaint", "id") != "k1" || at(d, "followUps", "edges", 0, "node", "note") != "ask 王芳 about the parcel" {
					t.Errorf("followUps: %v", d)
				}
			}},
		{"campaign", `{ campaign(id: "$CAMPAIGN") { ` + campaignFields + ` } }`, func(t *testing.T, d map[string]any) {
			if at(d, "campaign", "date") != "2026-02-17" || at(d, "campaign", "status") != "SCHEDULED" || at(d, "campaign", "audience", "tiers", 0) != "GOLD" {
				t.Errorf("campaign: %v", d)
			}
		}},
		{"campaigns", `{ campaigns(first: 10) { totalCount pageInfo { hasNextPage } edges { cursor node { id } } } }`, nil},
		{"holidays", `{ holidays(calendar: "CN", from: "2026-01-01", to: "2026-12-31") { calendar key name localName date } }`, func(t *testing.T, d map[string]any) {
			if at(d, "holidays", 1, "localName") != "春节" {
				t.Errorf("holidays: %v", d)
			}
		}},
		{"lifecycleReport", `{ lifecycleReport(from: "2025-01-01T00:00:00Z", to: "2025-04-01T00:00:00Z", bucket: WEEK) {
			buckets { start population { stage count } transitions { from to count } } } }`, nil},
		{"serviceReport", `{ serviceReport(from: "2025-03-01T00:00:00+08:00", to: "2025-03-08T00:00:00+08:00") {
			from to complaints byCategory { key count } bySeverity { key count } slaMetPercent firstContactResolutionPercent
			medianTimeToResolutionSeconds followUpsDue followUpsCompleted followUpCompletionPercent satisfactionPercent declined overdueNow } }`,
			func(t *testing.T, d map[string]any) {
				if at(d, "serviceReport", "complaints") != 1.0 || at(d, "serviceReport", "from") != "2025-03-01T00:00:00+08:00" {
					t.Errorf("serviceReport: %v", d)
				}
			}},
		{"events", `{ events(filter: {streamId: "customer-c1", types: ["ContactLogged"], from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z"}, first: 10) {
			pageInfo { hasNextPage endCursor } edges { cursor node { eventId streamId type revision position occurredAt recordedAt data metadata } } } }`,
			func(t *testing.T, d map[string]any) {
				if at(d, "events", "edges", 0, "node", "metadata", "actor") != "local" || at(d, "events", "edges", 0, "node", "data", "summary") != "王芳 called, upset" {
					t.Errorf("events: %v", d)
				}
			}},
		{"preview", `query($in: ScheduleGreetingCampaignInput!) { previewGreetingCampaign(input: $in) { evaluated greeted skipped skippedByReason { reason count } byChannel { reason count } } }`, nil},
		{"viewer", `{ viewer { user role canSeePII } }`, func(t *testing.T, d map[string]any) {
			if at(d, "viewer", "user") != "local" || at(d, "viewer", "role") != "ADMIN" {
				t.Errorf("viewer: %v", d)
			}
		}},
		{"typename and fragments", `query Q { customer(id: "c1") { __typename ...F ... on Customer { tier } } } fragment F on Customer { id }`, nil},
	}
	vars := map[string]any{"in": map[string]any{"name": "春节", "occasion": "CN:spring_festival", "templates": []any{map[string]any{"channel": "SMS", "body": "{{name}}，{{occasion}}快乐"}}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.post(t, "", tt.query, vars)
			mustOK(t, r)
			if tt.check != nil {
				tt.check(t, r.Data)
			}
		})
	}
}

// The endCursor of a page leads to the next one.
func TestCustomersPaging(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	q := `query($after: String) { customers(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`
	var seen []string
	var after any
	for page := 0; page < 3; page++ {
		r := s.post(t, "", q, map[string]any{"after": after})
		mustOK(t, r)
		if id, ok := at(r.Data, "customers", "edges", 0, "node", "id").(string); ok {
			seen = append(seen, id)
		}
		if at(r.Data, "customers", "pageInfo", "hasNextPage") != true {
			break
		}
		after = at(r.Data, "customers", "pageInfo", "endCursor")
		if c := at(r.Data, "customers", "edges", 0, "cursor"); c != after {
			t.Errorf("the last edge's cursor %v is not endCursor %v", c, after)
		}
	}
	slices.Sort(seen)
	if !slices.Equal(seen, []string{"c1", "c2"}) {
		t.Errorf("pages showed %v, want c1 and c2 once each", seen)
	}
	wantCode(t, s.post(t, "", q, map[string]any{"after": "0"}), http.StatusOK, "BAD_USER_INPUT")
}

// Every condition of the filter reaches the book: each alone leaves 王芳
// out.
func TestCustomerFilterReachesTheBook(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	match := `stages: [COMPLAINING], tiers: [GOLD], accountManager: "alice", minLoyaltyScore: 0, hasOpenComplaint: true, search: "138"`
	for _, miss := range []string{"", `stages: [SILENT]`, `tiers: [VIP]`, `accountManager: "bob"`, `minLoyaltyScore: 100`, `hasOpenComplaint: false`, `search: "139"`} {
		filter := match
		if miss != "" {
			name := miss[:strings.Index(miss, ":")]
			filter = regexp.MustCompile(name+`: (\[[^]]*\]|"[^"]*"|\w+)`).ReplaceAllString(match, miss)
		}
		r := s.post(t, "", `{ customers(filter: {`+filter+`}) { totalCount edges { node { id } } } }`, nil)
		mustOK(t, r)
		want := 1.0
		if miss != "" {
			want = 0
		}
		if got := at(r.Data, "customers", "totalCount"); got != want {
			t.Errorf("filter {%s}: totalCount %v, want %v: %s", filter, got, want, r.Raw)
		}
	}
}

// mutations lists one call of every mutation, in an order the domain
// accepts on the book, with the event it must append last.
var mutations = []struct {
	name, event, query string
}{
	{"registerCustomer", "CustomerRegistered", `mutation { registerCustomer(input: {id: "c9", name: "张伟", phone: "138", email: "z@example.com", wechat: "zw", tier: VIP, segment: "b2b", accountManager: "alice", birthday: "1988-02-29", marketingConsent: true, occurredAt: "2025-03-01T09:00:00+08:00", idempotencyKey: "k-1"}) { customer { id name tier birthday } version } }`},
	{"updateProfile", "ProfileUpdated", `mutation { updateProfile(input: {customerId: "c1", name: "王芳芳", tier: VIP, birthday: "1990-05-18"}) { customer { id version } version } }`},
	{"setMarketingConsent", "MarketingConsentChanged", `mutation { setMarketingConsent(input: {customerId: "c1", consent: false, source: "call"}) { customer { marketingConsent } version } }`},
	{"logContact", "ContactLogged", `mutation { logContact(input: {customerId: "c1", channel: WECHAT, direction: INBOUND, agent: "alice", summary: "问快递", complaintId: "k1"}) { customer { id } version } }`},
	{"recordPurchase", "PurchaseMade", `mutation { recordPurchase(input: {customerId: "c1", orderId: "o-9", amount: {amountMinor: 9900, currency: "CNY"}, items: ["rice"]}) { version } }`},
	{"recordReferral", "ReferralMade", `mutation { recordReferral(input: {customerId: "c1", referredCustomerId: "c2"}) { version } }`},
	{"voiceGrumble", "GrumbleVoiced", `mutation { voiceGrumble(input: {customerId: "c1", channel: PHONE, summary: "slow", agent: "alice"}) { version } }`},
	{"fileComplaint", "ComplaintFiled", `mutation { fileComplaint(input: {customerId: "c1", complaintId: "k2", channel: PHONE, category: "delivery", severity: MAJOR, description: "lost", owner: "alice"}) { complaint { id status severity replyDueAt } version } }`},
	{"declineComplaint", "ComplaintDeclined", `mutation { declineComplaint(input: {complaintId: "k2", by: "alice", reason: "not covered"}) { complaint { status declineReason } } }`},
	{"acknowledgeComplaint", "ComplaintAcknowledged", `mutation { acknowledgeComplaint(input: {complaintId: "k1", by: "alice", note: "on it"}) { complaint { status acknowledgedAt } version } }`},
	{"escalateComplaint", "ComplaintEscalated", `mutation { escalateComplaint(input: {complaintId: "k1", by: "alice", to: "boss", reason: "major", promisedReplyBy: "2025-03-05T10:00:00+08:00"}) { complaint { status escalatedTo promisedReplyBy } } }`},
	{"transferComplaint", "ComplaintTransferred", `mutation { transferComplaint(input: {complaintId: "k1", by: "alice", to: "bob", reason: "holiday"}) { complaint { owner } } }`},
	{"proposeResolution", "ResolutionProposed", `mutation { proposeResolution(input: {complaintId: "k1", by: "bob", options: ["refund", "resend"]}) { complaint { resolutionOptions } } }`},
	{"acceptResolution", "ResolutionAccepted", `mutation { acceptResolution(input: {complaintId: "k1", optionIndex: 0}) { complaint { acceptedOption } } }`},
	{"takeRecoveryStep", "RecoveryStepTaken", `mutation { takeRecoveryStep(input: {complaintId: "k1", step: URGENT_RESTORATION, by: "bob"}) { complaint { recoverySteps { step } } } }`},
	{"fileIncidentReport", "IncidentReportFiled", `mutation { fileIncidentReport(input: {complaintId: "k1", by: "bob", impact: "i", handling: "h", cause: "c", correctiveActions: "a"}) { complaint { incidentReportFiled } } }`},
	{"resolveComplaint", "ComplaintResolved", `mutation { resolveComplaint(input: {complaintId: "k1", by: "bob", outcome: SATISFIED, note: "happy"}) { complaint { status outcome } } }`},
	{"reopenComplaint", "ComplaintReopened", `mutation { reopenComplaint(input: {complaintId: "k1", by: "bob"}) { complaint { status } } }`},
	{"scheduleFollowUp", "FollowUpScheduled", `mutation { scheduleFollowUp(input: {customerId: "c1", complaintId: "k1", reason: ROUTINE, owner: "bob", dueAt: "2025-04-01T10:00:00+08:00", note: "call"}) { followUp { id reason owner dueAt status } version } }`},
	{"completeFollowUp", "FollowUpCompleted", `mutation { completeFollowUp(input: {followUpId: "$FOLLOWUP", by: "alice", outcome: SATISFIED}) { followUp { status outcome } version } }`},
	{"recordSatisfaction", "SatisfactionRecorded", `mutation { recordSatisfaction(input: {customerId: "c1", score: 5, comment: "great", complaintId: "k1"}) { version } }`},
	{"flagConduct", "ConductFlagged", `mutation { flagConduct(input: {customerId: "c1", by: "alice", note: "shouted", severity: MAJOR}) { version } }`},
	{"markLost", "CustomerMarkedLost", `mutation { markLost(input: {customerId: "c1", reason: "moved", by: "alice"}) { version } }`},
	{"scheduleGreetingCampaign", "GreetingCampaignScheduled", `mutation { scheduleGreetingCampaign(input: {name: "春节", occasion: "CN:spring_festival", date: "2026-02-17", sendAtLocal: "10:30", audience: {stages: [LOYAL, ACTIVE], tiers: [GOLD, VIP]}, templates: [{stages: [COMPLAINING], channel: SMS, body: "{{name}} care"}, {channel: WECHAT, body: "{{name}}，{{occasion}}快乐"}], idempotencyKey: "cny"}) { campaign { id status sendAtLocal createdBy audience { stages tiers excludeConductFlagged } } } }`},
	{"cancelGreetingCampaign", "GreetingCampaignCancelled", `mutation { cancelGreetingCampaign(input: {campaignId: "$CAMPAIGN", reason: "typo"}) { campaign { status } } }`},
	{"mergeCustomers", "CustomersMergedIn", `mutation { mergeCustomers(input: {survivorId: "c1", mergedIds: ["c9"], by: "alice", reason: "same person", idempotencyKey: "m-1"}) { customer { id mergedFrom } version } }`},
	{"unmergeCustomers", "CustomersUnmerged", `mutation { unmergeCustomers(input: {survivorId: "c1", unmergedIds: ["c9"], by: "alice", reason: "two people", idempotencyKey: "u-1"}) { customer { id mergedFrom } version } }`},
	{"eraseCustomer", "CustomerErased", `mutation { eraseCustomer(input: {customerId: "c2", by: "admin", reason: "request"}) { customer { erased name } version } }`},
}

func TestEveryMutationResolves(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			before := s.book.head()
			r := s.post(t, "", m.query, nil)
			mustOK(t, r)
			if !s.book.recordedBy(before, m.event, graphql.LocalActor.User) {
				actor, _, ok := s.book.since(before, m.event)
				t.Errorf("no %s by the local admin after the mutation (the first one found: %v, by %q)", m.event, ok, actor)
			}
		})
	}
	// Every mutation of the schema is in the table.
	schema := newTestSchema(t)
	for name := range schema.MutationType().Fields() {
		if !slices.ContainsFunc(mutations, func(m struct{ name, event, query string }) bool { return m.name == name }) {
			t.Errorf("mutation %s is not tested", name)
		}
	}
}

// What a mutation's input says is what its event records, defaults
// included.
func TestMutationInputsReachEvents(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	before := s.book.head()
	mustOK(t, s.post(t, "", mutations[0].query, nil))
	_, reg, _ := s.book.since(before, "CustomerRegistered")
	if reg["customerId"] != "c9" || reg["name"] != "张伟" || reg["tier"] != "VIP" || reg["timezone"] != "Asia/Shanghai" || reg["locale"] != "zh-CN" ||
		reg["birthday"] != "1988-02-29" || reg["marketingConsent"] != true {
		t.Errorf("CustomerRegistered = %v", reg)
	}
	r := s.post(t, "", `{ customer(id: "c9") { registeredAt } }`, nil)
	if got, _ := time.Parse(time.RFC3339, fmt.Sprint(at(r.Data, "customer", "registeredAt"))); !got.Equal(time.Date(2025, 3, 1, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("occurredAt did not reach the event: %s", r.Raw)
	}
	before = s.book.head()
	mustOK(t, s.post(t, "", `mutation { scheduleGreetingCampaign(input: {name: "n", occasion: "BIRTHDAY", templates: [{channel: SMS, body: "hi {{name}}"}]}) { campaign { id } } }`, nil))
	_, camp, _ := s.book.since(before, "GreetingCampaignScheduled")
	aud, _ := camp["audience"].(map[string]any)
	stages, _ := aud["stages"].([]any)
	if camp["sendAtLocal"] != "09:00" || aud["excludeConductFlagged"] != true || len(stages) != 7 || slices.Contains(stages, any("LOST")) {
		t.Errorf("campaign defaults = %v", camp)
	}
}

func TestErrorCodes(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	tests := []struct {
		name   string
		query  string
		vars   map[string]any
		status int
		code   string
		check  func(t *testing.T, r gqlResponse)
	}{
		{name: "unknown follow-up", query: `mutation { completeFollowUp(input: {followUpId: "nope", by: "a", outcome: SATISFIED}) { version } }`, status: 200, code: "NOT_FOUND"},
		{name: "unknown customer in a mutation", query: `mutation { logContact(input: {customerId: "nope", channel: SMS, direction: OUTBOUND, agent: "a"}) { version } }`, status: 200, code: "NOT_FOUND"},
		{name: "expectedVersion mismatch", query: `mutation { logContact(input: {customerId: "c1", channel: SMS, direction: OUTBOUND, agent: "a", expectedVersion: 3}) { version } }`, status: 200, code: "CONFLICT"},
		{name: "domain rule", query: `mutation { resolveComplaint(input: {complaintId: "k1", by: "a", outcome: SATISFIED}) { version } }`, status: 200, code: "FAILED_PRECONDITION",
			check: func(t *testing.T, r gqlResponse) {
				if allowed, _ := r.Errors[0].Extensions["allowed"].([]any); !slices.Contains(allowed, any("acknowledgeComplaint")) || slices.Contains(allowed, any("resolveComplaint")) {
					t.Errorf("allowed steps not passed on: %s", r.Raw)
				}
			}},
		{name: "churn model before any fit", query: `{ churnModel(unit: WEEK) { r } }`, status: 200, code: "FAILED_PRECONDITION"},
		{name: "unknown calendar", query: `{ holidays(calendar: "XX", from: "2026-01-01", to: "2026-02-01") { key } }`, status: 200, code: "BAD_USER_INPUT"},
		{name: "wrong enum value in a variable", query: `mutation($c: Channel!) { logContact(input: {customerId: "c1", channel: $c, direction: INBOUND, agent: "a"}) { version } }`,
			vars: map[string]any{"c": "PIGEON"}, status: 400, code: "BAD_USER_INPUT"},
		{name: "wrong enum literal", query: `mutation { logContact(input: {customerId: "c1", channel: PIGEON, direction: INBOUND, agent: "a"}) { version } }`, status: 400, code: "BAD_USER_INPUT"},
		{name: "missing required argument", query: `{ complaint { id } }`, status: 400, code: "BAD_USER_INPUT"},
		{name: "missing variable", query: `query($id: ID!) { complaint(id: $id) { id } }`, status: 400, code: "BAD_USER_INPUT"},
		{name: "DateTime without offset", query: `{ customer(id: "c1", asOf: "2025-01-01T00:00:00") { id } }`, status: 400, code: "BAD_USER_INPUT"},
		{name: "DateTime variable garbage", query: `query($t: DateTime) { customer(id: "c1", asOf: $t) { id } }`, vars: map[string]any{"t": "yesterday"}, status: 400, code: "BAD_USER_INPUT"},
		{name: "Date that does not exist", query: `{ holidays(from: "2025-02-29", to: "2025-03-01") { key } }`, status: 400, code: "BAD_USER_INPUT"},
		{name: "syntax error", query: `{ customer(id: "c1" { id } }`, status: 400, code: "BAD_USER_INPUT"},
		{name: "unknown field", query: `{ customer(id: "c1") { shoeSize } }`, status: 400, code: "BAD_USER_INPUT"},
		{name: "score out of range", query: `mutation { recordSatisfaction(input: {customerId: "c1", score: 6}) { version } }`, status: 200, code: "BAD_USER_INPUT",
			check: func(t *testing.T, r gqlResponse) {
				if fmt.Sprint(r.Errors[0].Extensions["fields"]) != "[input.score]" {
					t.Errorf("fields: %s", r.Raw)
				}
			}},
		{name: "occurredAt in the future", query: `mutation { logContact(input: {customerId: "c1", channel: SMS, direction: OUTBOUND, agent: "a", occurredAt: "2099-01-01T00:00:00Z"}) { version } }`, status: 200, code: "BAD_USER_INPUT"},
		{name: "first over the cap", query: `{ customers(first: 501) { totalCount } }`, status: 200, code: "BAD_USER_INPUT"},
		{name: "negative first", query: `{ customers(first: -1) { totalCount } }`, status: 200, code: "BAD_USER_INPUT"},
		{name: "sendAtLocal not HH:MM", query: `mutation { scheduleGreetingCampaign(input: {name: "n", occasion: "BIRTHDAY", sendAtLocal: "9am", templates: [{channel: SMS, body: "b"}]}) { campaign { id } } }`, status: 200, code: "BAD_USER_INPUT",
			check: func(t *testing.T, r gqlResponse) {
				if fmt.Sprint(r.Errors[0].Extensions["fields"]) != "[input.sendAtLocal]" {
					t.Errorf("fields: %s", r.Raw)
				}
			}},
		{name: "no templates", query: `mutation { scheduleGreetingCampaign(input: {name: "n", occasion: "BIRTHDAY", templates: []}) { campaign { id } } }`, status: 200, code: "BAD_USER_INPUT"},
		{name: "bad customer id", query: `mutation { registerCustomer(input: {id: "a b", name: "x"}) { version } }`, status: 200, code: "BAD_USER_INPUT"},
		{name: "to before from", query: `{ serviceReport(from: "2025-03-08T00:00:00Z", to: "2025-03-01T00:00:00Z") { complaints } }`, status: 200, code: "BAD_USER_INPUT"},
		{name: "unknown operation name", query: `query A { viewer { user } }`, status: 400, code: "BAD_USER_INPUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.book.head()
			body, _ := json.Marshal(map[string]any{"query": tt.query, "variables": tt.vars})
			if tt.name == "unknown operation name" {
				body, _ = json.Marshal(map[string]any{"query": tt.query, "operationName": "B"})
			}
			var r gqlResponse
			if tt.status == http.StatusBadRequest {
				// Refused before execution: 200 in application/json, 400 in
				// application/graphql-response+json, no data either way.
				r = wantRequestError(t, tt.code, func(accept string) gqlResponse { return s.postAccept(t, "", "application/json", accept, body) })
			} else {
				r = s.postRaw(t, "", "application/json", body)
				wantCode(t, r, tt.status, tt.code)
				if !r.HasData {
					t.Errorf("an executed request has no data entry: %s", r.Raw)
				}
			}
			if tt.check != nil {
				tt.check(t, r)
			}
			if after := s.book.head(); after != before {
				t.Errorf("a refused request appended events (head %d → %d)", before, after)
			}
		})
	}
}

func TestUnicodeLiterals(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	before := s.book.head()
	r := s.post(t, "", `mutation { voiceGrumble(input: {customerId: "c1", channel: PHONE, summary: "快递太慢了——非常生气 😠", agent: "小李"}) { version } }`, nil)
	mustOK(t, r)
	if _, ev, _ := s.book.since(before, "GrumbleVoiced"); ev["summary"] != "快递太慢了——非常生气 😠" || ev["agent"] != "小李" {
		t.Errorf("GrumbleVoiced = %v", ev)
	}
}

func TestGETQueries(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	r := s.get(t, "", `query($id: ID!) { customer(id: $id) { id } }`, `{"id":"c1"}`)
	mustOK(t, r)
	if at(r.Data, "customer", "id") != "c1" {
		t.Errorf("GET query: %s", r.Raw)
	}
	before := s.book.head()
	r = s.get(t, "", `mutation { markLost(input: {customerId: "c1", reason: "r", by: "a"}) { version } }`, "")
	wantCode(t, r, http.StatusMethodNotAllowed, "BAD_USER_INPUT")
	if after := s.book.head(); after != before {
		t.Errorf("a GET mutation appended events (head %d → %d)", before, after)
	}
}
