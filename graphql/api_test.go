package graphql_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

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
			if at(d, "customer", "loyalty", "expectedPurchases") != 0.3 {
				t.Errorf("expectedPurchases(30): %v", at(d, "customer", "loyalty"))
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
			if at(d, "customer", "openComplaints", 0, "id") != "k1" || at(d, "customer", "greetings", 0, "campaign", "id") != "g1" {
				t.Errorf("nested lists: %v", d)
			}
		}},
		{"customer asOf", `{ customer(id: "c1", asOf: "2025-01-01T00:00:00+08:00") { id stage } }`, nil},
		{"unknown customer is null", `{ customer(id: "nobody") { id } }`, func(t *testing.T, d map[string]any) {
			if v, ok := d["customer"]; !ok || v != nil {
				t.Errorf("want customer: null, got %v", d)
			}
		}},
		{"customers", `{ customers(filter: {stages: [COMPLAINING, NEW], tiers: [GOLD], accountManager: "alice", minLoyaltyScore: 10, hasOpenComplaint: true, search: "王"}, first: 1) {
			totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`, func(t *testing.T, d map[string]any) {
			if at(d, "customers", "totalCount") != 1.0 || at(d, "customers", "edges", 0, "node", "id") != "c1" {
				t.Errorf("customers: %v", d)
			}
		}},
		{"customers paging", `{ customers(first: 1, after: "0") { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }`, func(t *testing.T, d map[string]any) {
			if at(d, "customers", "edges", 0, "node", "id") != "c2" || at(d, "customers", "pageInfo", "hasNextPage") != false || at(d, "customers", "pageInfo", "endCursor") != "1" {
				t.Errorf("page 2: %v", d)
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
				if at(d, "followUps", "edges", 0, "node", "complaint", "id") != "k1" {
					t.Errorf("followUps: %v", d)
				}
			}},
		{"campaign", `{ campaign(id: "g1") { ` + campaignFields + ` } }`, func(t *testing.T, d map[string]any) {
			if at(d, "campaign", "date") != "2026-02-17" || at(d, "campaign", "skippedByReason", 0, "reason") != "NO_CONSENT" {
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
		{"churnModel", `{ churnModel(unit: WEEK) { unit asOf customers r alpha a b logLikelihood } }`, func(t *testing.T, d map[string]any) {
			if at(d, "churnModel", "r") != 0.243 {
				t.Errorf("churnModel: %v", d)
			}
		}},
		{"serviceReport", `{ serviceReport(from: "2025-03-01T00:00:00+08:00", to: "2025-03-08T00:00:00+08:00") {
			from to complaints byCategory { key count } bySeverity { key count } slaMetPercent firstContactResolutionPercent
			medianTimeToResolutionSeconds followUpsDue followUpsCompleted followUpCompletionPercent satisfactionPercent declined overdueNow } }`,
			func(t *testing.T, d map[string]any) {
				if at(d, "serviceReport", "medianTimeToResolutionSeconds") != 93600.0 || at(d, "serviceReport", "from") != "2025-03-01T00:00:00+08:00" {
					t.Errorf("serviceReport: %v", d)
				}
			}},
		{"events", `{ events(filter: {streamId: "customer-c1", types: ["ContactLogged"], from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z"}, first: 10) {
			pageInfo { hasNextPage endCursor } edges { cursor node { eventId streamId type revision position occurredAt recordedAt data metadata } } } }`,
			func(t *testing.T, d map[string]any) {
				if at(d, "events", "edges", 0, "node", "metadata", "actor") != "alice" {
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
	// The filter reached the reader intact.
	q := s.fake.lastQuery
	if q.Search != nil || q.AccountManager == nil {
		// the last customers() call was the paging one without a filter
		if q.AccountManager != nil {
			t.Errorf("filter leaked into an unfiltered query: %+v", q)
		}
	}
}

func TestCustomerFilterReachesReader(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	mustOK(t, s.post(t, "", `{ customers(filter: {stages: [SILENT], tiers: [VIP], accountManager: "bob", minLoyaltyScore: 7, hasOpenComplaint: false, search: "138"}) { totalCount } }`, nil))
	q := s.fake.lastQuery
	if !slices.Equal(q.Stages, []string{"SILENT"}) || !slices.Equal(q.Tiers, []string{"VIP"}) || *q.AccountManager != "bob" ||
		*q.MinLoyaltyScore != 7 || *q.HasOpenComplaint != false || *q.Search != "138" {
		t.Errorf("query = %+v", q)
	}
}

// mutations lists one call of every mutation, with the command it must reach.
var mutations = []struct {
	name, command, query string
}{
	{"registerCustomer", "RegisterCustomer", `mutation { registerCustomer(input: {id: "c9", name: "张伟", phone: "138", email: "z@example.com", wechat: "zw", tier: VIP, segment: "b2b", accountManager: "alice", birthday: "1988-02-29", marketingConsent: true, occurredAt: "2025-03-01T09:00:00+08:00", idempotencyKey: "k-1"}) { customer { id name tier birthday } version } }`},
	{"updateProfile", "UpdateProfile", `mutation { updateProfile(input: {customerId: "c1", name: "王芳芳", tier: VIP, birthday: "1990-05-18", expectedVersion: 7}) { customer { id version } version } }`},
	{"setMarketingConsent", "SetMarketingConsent", `mutation { setMarketingConsent(input: {customerId: "c1", consent: false, source: "call"}) { customer { marketingConsent } version } }`},
	{"logContact", "LogContact", `mutation { logContact(input: {customerId: "c1", channel: WECHAT, direction: INBOUND, agent: "alice", summary: "问快递", complaintId: "k1"}) { customer { id } version } }`},
	{"recordPurchase", "RecordPurchase", `mutation { recordPurchase(input: {customerId: "c1", orderId: "o-1", amount: {amountMinor: 9900, currency: "CNY"}, items: ["rice"]}) { version } }`},
	{"recordReferral", "RecordReferral", `mutation { recordReferral(input: {customerId: "c1", referredCustomerId: "c2"}) { version } }`},
	{"voiceGrumble", "VoiceGrumble", `mutation { voiceGrumble(input: {customerId: "c1", channel: PHONE, summary: "slow", agent: "alice"}) { version } }`},
	{"fileComplaint", "FileComplaint", `mutation { fileComplaint(input: {customerId: "c1", complaintId: "k2", channel: PHONE, category: "delivery", severity: MAJOR, description: "lost", owner: "alice"}) { complaint { id status severity replyDueAt } version } }`},
	{"acknowledgeComplaint", "AcknowledgeComplaint", `mutation { acknowledgeComplaint(input: {complaintId: "k1", by: "alice", note: "on it"}) { complaint { status acknowledgedAt } version } }`},
	{"escalateComplaint", "EscalateComplaint", `mutation { escalateComplaint(input: {complaintId: "k1", by: "alice", to: "boss", reason: "major", promisedReplyBy: "2025-03-05T10:00:00+08:00"}) { complaint { status escalatedTo promisedReplyBy } } }`},
	{"declineComplaint", "DeclineComplaint", `mutation { declineComplaint(input: {complaintId: "k1", by: "alice", reason: "not covered"}) { complaint { status declineReason } } }`},
	{"transferComplaint", "TransferComplaint", `mutation { transferComplaint(input: {complaintId: "k1", by: "alice", to: "bob", reason: "holiday"}) { complaint { owner } } }`},
	{"proposeResolution", "ProposeResolution", `mutation { proposeResolution(input: {complaintId: "k1", by: "alice", options: ["refund", "resend"]}) { complaint { resolutionOptions } } }`},
	{"acceptResolution", "AcceptResolution", `mutation { acceptResolution(input: {complaintId: "k1", optionIndex: 0}) { complaint { acceptedOption } } }`},
	{"takeRecoveryStep", "TakeRecoveryStep", `mutation { takeRecoveryStep(input: {complaintId: "k1", step: SYMBOLIC_ATONEMENT, by: "alice", compensation: {amountMinor: 2000, currency: "CNY"}}) { complaint { recoverySteps { step } } } }`},
	{"resolveComplaint", "ResolveComplaint", `mutation { resolveComplaint(input: {complaintId: "k1", by: "alice", outcome: SATISFIED, note: "happy"}) { complaint { status outcome } } }`},
	{"reopenComplaint", "ReopenComplaint", `mutation { reopenComplaint(input: {complaintId: "k1", by: "alice"}) { complaint { status } } }`},
	{"fileIncidentReport", "FileIncidentReport", `mutation { fileIncidentReport(input: {complaintId: "k1", by: "alice", impact: "i", handling: "h", cause: "c", correctiveActions: "a"}) { complaint { incidentReportFiled } } }`},
	{"scheduleFollowUp", "ScheduleFollowUp", `mutation { scheduleFollowUp(input: {customerId: "c1", complaintId: "k1", reason: ROUTINE, owner: "bob", dueAt: "2025-04-01T10:00:00+08:00", note: "call"}) { followUp { id reason owner dueAt status } version } }`},
	{"completeFollowUp", "CompleteFollowUp", `mutation { completeFollowUp(input: {followUpId: "f1", by: "alice", outcome: SATISFIED}) { followUp { status outcome } version } }`},
	{"recordSatisfaction", "RecordSatisfaction", `mutation { recordSatisfaction(input: {customerId: "c1", score: 5, comment: "great", complaintId: "k1"}) { version } }`},
	{"markLost", "MarkLost", `mutation { markLost(input: {customerId: "c1", reason: "moved", by: "alice"}) { version } }`},
	{"flagConduct", "FlagConduct", `mutation { flagConduct(input: {customerId: "c1", by: "alice", note: "shouted", severity: MAJOR}) { version } }`},
	{"scheduleGreetingCampaign", "ScheduleGreetingCampaign", `mutation { scheduleGreetingCampaign(input: {name: "春节", occasion: "CN:spring_festival", date: "2026-02-17", sendAtLocal: "10:30", audience: {stages: [LOYAL, ACTIVE], tiers: [GOLD, VIP]}, templates: [{stages: [COMPLAINING], channel: SMS, body: "{{name}} care"}, {channel: WECHAT, body: "{{name}}，{{occasion}}快乐"}], idempotencyKey: "cny"}) { campaign { id status sendAtLocal createdBy audience { stages tiers excludeConductFlagged } } } }`},
	{"cancelGreetingCampaign", "CancelGreetingCampaign", `mutation { cancelGreetingCampaign(input: {campaignId: "g1", reason: "typo"}) { campaign { status } } }`},
	{"eraseCustomer", "EraseCustomer", `mutation { eraseCustomer(input: {customerId: "c2", by: "admin", reason: "request"}) { customer { erased name } version } }`},
}

func TestEveryMutationResolves(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			before := len(s.fake.callNames())
			r := s.post(t, "", m.query, nil)
			mustOK(t, r)
			calls := s.fake.callNames()
			if len(calls) != before+1 || calls[len(calls)-1] != m.command {
				t.Fatalf("commands called: %v, want one more %s", calls[before:], m.command)
			}
			s.fake.mu.Lock()
			actor := s.fake.calls[len(s.fake.calls)-1].Actor
			s.fake.mu.Unlock()
			if actor != graphql.LocalActor {
				t.Errorf("actor %+v, want the local admin", actor)
			}
		})
	}
	// Every mutation of the schema is in the table.
	schema := newTestSchema(t)
	for name := range schema.MutationType().Fields() {
		if !slices.ContainsFunc(mutations, func(m struct{ name, command, query string }) bool { return m.name == name }) {
			t.Errorf("mutation %s is not tested", name)
		}
	}
}

func TestMutationInputsReachCommands(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	mustOK(t, s.post(t, "", mutations[0].query, nil))
	mustOK(t, s.post(t, "", `mutation { scheduleGreetingCampaign(input: {name: "n", occasion: "BIRTHDAY", templates: [{channel: SMS, body: "hi {{name}}"}]}) { campaign { id } } }`, nil))
	s.fake.mu.Lock()
	defer s.fake.mu.Unlock()
	reg := s.fake.calls[0].Input.(graphql.RegisterCustomerInput)
	if reg.ID != "c9" || reg.Name != "张伟" || reg.Tier != "VIP" || reg.Timezone != "Asia/Shanghai" || reg.Locale != "zh-CN" ||
		reg.Birthday.String() != "1988-02-29" || !reg.MarketingConsent || reg.IdempotencyKey != "k-1" || reg.OccurredAt.Format("15:04Z07:00") != "09:00+08:00" {
		t.Errorf("register input = %+v", reg)
	}
	camp := s.fake.calls[1].Input.(graphql.ScheduleGreetingCampaignInput)
	if camp.SendAtLocal != "09:00" || !camp.Audience.ExcludeConductFlagged || len(camp.Audience.Stages) != 7 || slices.Contains(camp.Audience.Stages, "LOST") {
		t.Errorf("campaign defaults = %+v", camp)
	}
}

// precondition is a port error listing allowed next steps.
type precondition struct{ allowed []string }

func (p precondition) Error() string            { return "cannot resolve: not acknowledged" }
func (p precondition) Unwrap() error            { return graphql.ErrPrecondition }
func (p precondition) AllowedActions() []string { return p.allowed }

func TestErrorCodes(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	tests := []struct {
		name   string
		before func()
		query  string
		vars   map[string]any
		status int
		code   string
		check  func(t *testing.T, r gqlResponse)
	}{
		{name: "unknown follow-up", query: `mutation { completeFollowUp(input: {followUpId: "nope", by: "a", outcome: SATISFIED}) { version } }`, status: 200, code: "NOT_FOUND"},
		{name: "unknown customer in a mutation", query: `mutation { logContact(input: {customerId: "nope", channel: SMS, direction: OUTBOUND, agent: "a"}) { version } }`, status: 200, code: "NOT_FOUND"},
		{name: "expectedVersion mismatch", query: `mutation { logContact(input: {customerId: "c1", channel: SMS, direction: OUTBOUND, agent: "a", expectedVersion: 3}) { version } }`, status: 200, code: "CONFLICT"},
		{name: "domain rule", before: func() {
			s.fake.fail = fmt.Errorf("wrapped: %w", precondition{allowed: []string{"acknowledgeComplaint"}})
		},
			query: `mutation { resolveComplaint(input: {complaintId: "k1", by: "a", outcome: SATISFIED}) { version } }`, status: 200, code: "FAILED_PRECONDITION",
			check: func(t *testing.T, r gqlResponse) {
				if fmt.Sprint(r.Errors[0].Extensions["allowed"]) != "[acknowledgeComplaint]" {
					t.Errorf("allowed steps not passed on: %s", r.Raw)
				}
			}},
		{name: "port bad input", query: `{ holidays(calendar: "XX", from: "2026-01-01", to: "2026-02-01") { key } }`, status: 200, code: "BAD_USER_INPUT"},
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
		{name: "sendAtLocal not HH:MM", query: `mutation { scheduleGreetingCampaign(input: {name: "n", occasion: "BIRTHDAY", sendAtLocal: "9am", templates: [{channel: SMS, body: "b"}]}) { campaign { id } } }`, status: 200, code: "BAD_USER_INPUT"},
		{name: "no templates", query: `mutation { scheduleGreetingCampaign(input: {name: "n", occasion: "BIRTHDAY", templates: []}) { campaign { id } } }`, status: 200, code: "BAD_USER_INPUT"},
		{name: "bad customer id", query: `mutation { registerCustomer(input: {id: "a b", name: "x"}) { version } }`, status: 200, code: "BAD_USER_INPUT"},
		{name: "to before from", query: `{ serviceReport(from: "2025-03-08T00:00:00Z", to: "2025-03-01T00:00:00Z") { complaints } }`, status: 200, code: "BAD_USER_INPUT"},
		{name: "internal error is hidden", before: func() {
			s.fake.mu.Lock()
			s.fake.customers["boom"] = s.fake.customers["c2"]
			s.fake.mu.Unlock()
		}, query: `{ customer(id: "boom") { id } }`, status: 200, code: "INTERNAL",
			check: func(t *testing.T, r gqlResponse) {
				if strings.Contains(r.Raw, "secret") || r.Errors[0].Message != "internal error" {
					t.Errorf("internal detail leaked: %s", r.Raw)
				}
			}},
		{name: "unknown operation name", query: `query A { viewer { user } }`, status: 400, code: "BAD_USER_INPUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			before := len(s.fake.callNames())
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
			if tt.code == "BAD_USER_INPUT" && len(s.fake.callNames()) != before {
				t.Errorf("a refused input reached the commands: %v", s.fake.callNames()[before:])
			}
		})
	}
}

func TestUnicodeLiterals(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	r := s.post(t, "", `mutation { voiceGrumble(input: {customerId: "c1", channel: PHONE, summary: "快递太慢了——非常生气 😠", agent: "小李"}) { version } }`, nil)
	mustOK(t, r)
	s.fake.mu.Lock()
	in := s.fake.calls[0].Input.(graphql.VoiceGrumbleInput)
	s.fake.mu.Unlock()
	if in.Summary != "快递太慢了——非常生气 😠" || *in.Agent != "小李" {
		t.Errorf("summary = %q agent = %q", in.Summary, *in.Agent)
	}
}

func TestGETQueries(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	r := s.get(t, "", `query($id: ID!) { customer(id: $id) { id } }`, `{"id":"c1"}`)
	mustOK(t, r)
	if at(r.Data, "customer", "id") != "c1" {
		t.Errorf("GET query: %s", r.Raw)
	}
	r = s.get(t, "", `mutation { markLost(input: {customerId: "c1", reason: "r", by: "a"}) { version } }`, "")
	wantCode(t, r, http.StatusMethodNotAllowed, "BAD_USER_INPUT")
	if calls := s.fake.callNames(); len(calls) != 0 {
		t.Errorf("GET mutation reached the commands: %v", calls)
	}
}
