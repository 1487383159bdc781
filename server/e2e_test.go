package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

const customerFields = `id name phone email tier segment accountManager timezone locale birthday marketingConsent erased conductFlagged
	registeredAt stage stageSince stageHistory{ from to at reason } lastInboundAt lastPurchaseAt purchaseCount
	lifetimeValue{ amountMinor currency } loyalty{ score level referrals csatAverage recoveredComplaints pAlive expectedPurchases(horizonDays: 30) }
	openComplaints{ id status } complaints(first: 5){ totalCount edges{ node{ id } } } followUps{ id status } greetings{ occasion status }
	timeline(first: 50){ totalCount edges{ cursor node{ eventId type revision position occurredAt recordedAt summary data } } } version`

const mCustomer = `mutation($in: %s!){ %s(input:$in){ version customer{ ` + customerFields + ` } } }`

// customerMutation runs a customer mutation that must succeed.
func (h *harness) customerMutation(name, inputType string, in map[string]any) result {
	h.t.Helper()
	return h.ok(fmt.Sprintf(mCustomer, inputType, name), map[string]any{"in": in})
}

// TestCustomerMutations runs every customer mutation of the contract over
// HTTP and checks what each one did through its payload and the queries.
func TestCustomerMutations(t *testing.T) {
	h := startServer(t, options{auth: true})
	past := time.Now().Add(-48 * time.Hour).Truncate(time.Second)

	r := h.customerMutation("registerCustomer", "RegisterCustomerInput", map[string]any{
		"id": "c1", "name": "Wang Fang", "phone": "+8613800000001", "email": "wang.fang@example.com", "wechat": "wangfang88",
		"tier": "GOLD", "segment": "retail", "accountManager": "mia", "timezone": "Asia/Shanghai", "locale": "zh-CN",
		"birthday": "1990-05-17", "marketingConsent": true, "occurredAt": ts(past), "idempotencyKey": "reg-c1",
	})
	for path, want := range map[string]any{
		"registerCustomer.version": 0.0, "registerCustomer.customer.name": "Wang Fang", "registerCustomer.customer.phone": "+8613800000001",
		"registerCustomer.customer.email": "wang.fang@example.com", "registerCustomer.customer.tier": "GOLD",
		"registerCustomer.customer.segment": "retail", "registerCustomer.customer.accountManager": "mia",
		"registerCustomer.customer.birthday": "1990-05-17", "registerCustomer.customer.marketingConsent": true,
		"registerCustomer.customer.stage": "NEW", "registerCustomer.customer.erased": false, "registerCustomer.customer.timeline.totalCount": 1.0,
		"registerCustomer.customer.timeline.edges.0.node.type": "CustomerRegistered",
	} {
		if got := r.get(path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	if got := mustTime(t, r.str("registerCustomer.customer.registeredAt")); !got.Equal(past) {
		t.Errorf("registeredAt = %v, want the backfilled %v", got, past)
	}

	r = h.customerMutation("updateProfile", "UpdateProfileInput", map[string]any{"customerId": "c1", "tier": "VIP", "segment": "premium", "expectedVersion": 0})
	if r.str("updateProfile.customer.tier") != "VIP" || r.str("updateProfile.customer.segment") != "premium" || r.num("updateProfile.version") != 1 {
		t.Errorf("updateProfile: %s", r.Raw)
	}
	if r.str("updateProfile.customer.name") != "Wang Fang" {
		t.Errorf("updateProfile changed a field it was not given: name %q", r.str("updateProfile.customer.name"))
	}

	r = h.customerMutation("setMarketingConsent", "SetMarketingConsentInput", map[string]any{"customerId": "c1", "consent": false, "source": "phone call"})
	if r.get("setMarketingConsent.customer.marketingConsent") != false {
		t.Errorf("setMarketingConsent: %s", r.Raw)
	}

	contactAt := time.Now().Add(-time.Hour).Truncate(time.Second)
	r = h.customerMutation("logContact", "LogContactInput", map[string]any{"customerId": "c1", "channel": "WECHAT", "direction": "INBOUND", "agent": "mia", "summary": "asked about delivery", "occurredAt": ts(contactAt)})
	if got := r.str("logContact.customer.lastInboundAt"); got == "" || !mustTime(t, got).Equal(contactAt) {
		t.Errorf("lastInboundAt = %q, want %v", got, contactAt)
	}

	for i, amount := range []int{12900, 5000} {
		r = h.customerMutation("recordPurchase", "RecordPurchaseInput", map[string]any{"customerId": "c1", "orderId": fmt.Sprintf("o-%d", i),
			"amount": map[string]any{"amountMinor": amount, "currency": "CNY"}, "items": []string{"tea"}, "occurredAt": ts(past.Add(time.Duration(i+1) * time.Hour))})
	}
	if r.num("recordPurchase.customer.purchaseCount") != 2 || r.num("recordPurchase.customer.lifetimeValue.0.amountMinor") != 17900 ||
		r.str("recordPurchase.customer.lifetimeValue.0.currency") != "CNY" || r.str("recordPurchase.customer.lastPurchaseAt") == "" {
		t.Errorf("recordPurchase: %s", r.Raw)
	}
	if st := r.str("recordPurchase.customer.stage"); st != "ACTIVE" {
		t.Errorf("stage after two purchases = %s, want ACTIVE", st)
	}

	h.register("c2", "Li Lei", nil)
	r = h.customerMutation("recordReferral", "RecordReferralInput", map[string]any{"customerId": "c1", "referredCustomerId": "c2"})
	if r.num("recordReferral.customer.loyalty.referrals") != 1 {
		t.Errorf("referrals = %v", r.get("recordReferral.customer.loyalty.referrals"))
	}

	r = h.customerMutation("voiceGrumble", "VoiceGrumbleInput", map[string]any{"customerId": "c1", "channel": "PHONE", "summary": "the tea was cold", "agent": "mia"})
	if st := r.str("voiceGrumble.customer.stage"); st != "GRUMBLING" {
		t.Errorf("stage after a grumble = %s, want GRUMBLING", st)
	}

	r = h.customerMutation("recordSatisfaction", "RecordSatisfactionInput", map[string]any{"customerId": "c1", "score": 4, "comment": "fine now"})
	if avg, _ := r.get("recordSatisfaction.customer.loyalty.csatAverage").(float64); avg != 4 {
		t.Errorf("csatAverage = %v, want 4", r.get("recordSatisfaction.customer.loyalty.csatAverage"))
	}

	r = h.customerMutation("flagConduct", "FlagConductInput", map[string]any{"customerId": "c2", "by": "mia", "note": "shouted at staff", "severity": "MAJOR"})
	if r.get("flagConduct.customer.conductFlagged") != true {
		t.Errorf("flagConduct: %s", r.Raw)
	}

	r = h.customerMutation("markLost", "MarkLostInput", map[string]any{"customerId": "c2", "reason": "moved abroad", "by": "mia"})
	if st := r.str("markLost.customer.stage"); st != "LOST" {
		t.Errorf("stage after markLost = %s, want LOST", st)
	}

	// The timeline lists every event, newest first, with summaries.
	r = h.ok(`{ customer(id:"c1"){ version timeline(first: 50){ totalCount edges{ node{ type revision summary } } } } }`, nil)
	wantTypes := []string{"CustomerRegistered", "ProfileUpdated", "MarketingConsentChanged", "ContactLogged", "PurchaseMade", "PurchaseMade",
		"ReferralMade", "GrumbleVoiced", "SatisfactionRecorded"}
	var gotTypes []string
	for i := range r.list("customer.timeline.edges") {
		gotTypes = append(gotTypes, r.str(fmt.Sprintf("customer.timeline.edges.%d.node.type", i)))
		if r.str(fmt.Sprintf("customer.timeline.edges.%d.node.summary", i)) == "" {
			t.Errorf("timeline entry %d has no summary", i)
		}
	}
	slices.Reverse(gotTypes)
	if !slices.Equal(gotTypes, wantTypes) {
		t.Errorf("timeline types (oldest first) = %v, want %v", gotTypes, wantTypes)
	}
	if r.num("customer.timeline.totalCount") != len(wantTypes) || r.num("customer.version") != len(wantTypes)-1 {
		t.Errorf("totalCount %d, version %d; want %d, %d", r.num("customer.timeline.totalCount"), r.num("customer.version"), len(wantTypes), len(wantTypes)-1)
	}
	if s := r.str("customer.timeline.edges.0.node.summary"); !strings.Contains(s, "4/5") {
		t.Errorf("satisfaction summary %q does not give the score", s)
	}

	// customers: filters.
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`{tiers:[VIP]}`, []string{"c1"}},
		{`{stages:[LOST]}`, []string{"c2"}},
		{`{accountManager:"mia"}`, []string{"c1"}},
		{`{search:"Li Lei"}`, []string{"c2"}},
		{`{hasOpenComplaint:true}`, nil},
		{`{minLoyaltyScore:0}`, []string{"c1", "c2"}},
		{`{}`, []string{"c1", "c2"}},
	} {
		r := h.ok(`{ customers(filter:`+tc.filter+`){ totalCount edges{ node{ id } } } }`, nil)
		var ids []string
		for i := range r.list("customers.edges") {
			ids = append(ids, r.str(fmt.Sprintf("customers.edges.%d.node.id", i)))
		}
		if !slices.Equal(ids, tc.want) || r.num("customers.totalCount") != len(tc.want) {
			t.Errorf("customers(filter:%s) = %v (totalCount %d), want %v", tc.filter, ids, r.num("customers.totalCount"), tc.want)
		}
	}
	if r := h.ok(`{ customer(id:"nobody"){ id } }`, nil); r.get("customer") != nil {
		t.Errorf("unknown customer: %s", r.Raw)
	}
}

// TestComplaintRecoveryPath walks a MAJOR complaint from filing to a
// satisfied resolution and checks the customer's stage on the way.
func TestComplaintRecoveryPath(t *testing.T) {
	h := startServer(t, options{auth: true})
	start := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
	h.register("c1", "Zhang Wei", map[string]any{"occurredAt": ts(start), "accountManager": "mia"})
	for i := range 2 {
		h.customerMutation("recordPurchase", "RecordPurchaseInput", map[string]any{"customerId": "c1", "orderId": fmt.Sprintf("o%d", i),
			"amount": map[string]any{"amountMinor": 1000, "currency": "CNY"}, "occurredAt": ts(start.Add(time.Duration(i+1) * time.Hour))})
	}
	stage := func() string { return h.ok(`{ customer(id:"c1"){ stage } }`, nil).str("customer.stage") }
	if s := stage(); s != "ACTIVE" {
		t.Fatalf("stage before the complaint = %s, want ACTIVE", s)
	}

	const kf = `id status severity category channel description owner filedAt replyDueAt acknowledgedAt overdue escalatedTo promisedReplyBy
		resolutionOptions acceptedOption recoverySteps{ step at by note } compensation{ amountMinor currency } outcome resolvedAt declineReason
		repeatContacts incidentReportFiled customer{ id stage }`
	step := func(name, inputType string, in map[string]any) result {
		t.Helper()
		return h.ok(fmt.Sprintf(`mutation($in:%s!){ %s(input:$in){ version complaint{ %s } } }`, inputType, name, kf), map[string]any{"in": in})
	}

	r := step("fileComplaint", "FileComplaintInput", map[string]any{"customerId": "c1", "complaintId": "k1", "channel": "PHONE",
		"category": "quality", "severity": "MAJOR", "description": "the kettle leaked and scalded my hand", "owner": "mia"})
	if r.str("fileComplaint.complaint.status") != "OPEN" || r.str("fileComplaint.complaint.severity") != "MAJOR" ||
		r.str("fileComplaint.complaint.owner") != "mia" || r.str("fileComplaint.complaint.customer.stage") != "COMPLAINING" {
		t.Errorf("fileComplaint: %s", r.Raw)
	}
	filed := mustTime(t, r.str("fileComplaint.complaint.filedAt"))
	if due := mustTime(t, r.str("fileComplaint.complaint.replyDueAt")); !due.After(filed) {
		t.Errorf("replyDueAt %v not after filedAt %v", due, filed)
	}
	c := h.ok(`{ customer(id:"c1"){ stage openComplaints{ id status } } }`, nil)
	if c.str("customer.stage") != "COMPLAINING" || len(c.list("customer.openComplaints")) != 1 || c.str("customer.openComplaints.0.id") != "k1" {
		t.Errorf("after filing: %s", c.Raw)
	}

	r = step("acknowledgeComplaint", "ComplaintActionInput", map[string]any{"complaintId": "k1", "by": "mia", "note": "called back"})
	if r.str("acknowledgeComplaint.complaint.status") != "ACKNOWLEDGED" || r.str("acknowledgeComplaint.complaint.acknowledgedAt") == "" ||
		r.get("acknowledgeComplaint.complaint.overdue") != false {
		t.Errorf("acknowledge: %s", r.Raw)
	}

	// Resolving a MAJOR complaint before escalation and an incident report is refused.
	res := h.refused(tokAdmin, "FAILED_PRECONDITION", `mutation($in:ResolveComplaintInput!){ resolveComplaint(input:$in){ version } }`,
		map[string]any{"in": map[string]any{"complaintId": "k1", "by": "mia", "outcome": "SATISFIED"}})
	if len(res.Errors) > 0 && !strings.Contains(res.Errors[0].Message, "escalat") {
		t.Errorf("refusal does not say why: %q", res.Errors[0].Message)
	}

	promised := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	r = step("escalateComplaint", "EscalateComplaintInput", map[string]any{"complaintId": "k1", "by": "mia", "to": "quality-lead",
		"reason": "injury", "promisedReplyBy": ts(promised)})
	if r.str("escalateComplaint.complaint.status") != "ESCALATED" || r.str("escalateComplaint.complaint.escalatedTo") != "quality-lead" ||
		!mustTime(t, r.str("escalateComplaint.complaint.promisedReplyBy")).Equal(promised) {
		t.Errorf("escalate: %s", r.Raw)
	}

	for _, s := range []map[string]any{
		{"step": "APOLOGY", "note": "apologised in person"},
		{"step": "URGENT_RESTORATION", "note": "replacement kettle sent"},
		{"step": "EMPATHY"},
		{"step": "SYMBOLIC_ATONEMENT", "compensation": map[string]any{"amountMinor": 20000, "currency": "CNY"}},
	} {
		s["complaintId"], s["by"] = "k1", "mia"
		r = step("takeRecoveryStep", "TakeRecoveryStepInput", s)
	}
	if n := len(r.list("takeRecoveryStep.complaint.recoverySteps")); n != 4 {
		t.Errorf("recoverySteps = %d, want 4: %s", n, r.Raw)
	}
	if r.num("takeRecoveryStep.complaint.compensation.0.amountMinor") != 20000 || r.str("takeRecoveryStep.complaint.recoverySteps.0.step") != "APOLOGY" {
		t.Errorf("compensation / steps: %s", r.Raw)
	}

	r = step("proposeResolution", "ProposeResolutionInput", map[string]any{"complaintId": "k1", "by": "quality-lead", "options": []string{"refund", "new kettle and voucher"}})
	if r.str("proposeResolution.complaint.status") != "RESOLUTION_PROPOSED" || len(r.list("proposeResolution.complaint.resolutionOptions")) != 2 {
		t.Errorf("propose: %s", r.Raw)
	}
	r = step("acceptResolution", "AcceptResolutionInput", map[string]any{"complaintId": "k1", "optionIndex": 1})
	if r.str("acceptResolution.complaint.acceptedOption") != "new kettle and voucher" {
		t.Errorf("accept: %s", r.Raw)
	}
	r = step("fileIncidentReport", "IncidentReportInput", map[string]any{"complaintId": "k1", "by": "quality-lead", "impact": "one customer burned",
		"handling": "replaced, compensated", "cause": "faulty seal batch 42", "correctiveActions": "recall batch 42"})
	if r.get("fileIncidentReport.complaint.incidentReportFiled") != true {
		t.Errorf("incident report: %s", r.Raw)
	}
	r = step("resolveComplaint", "ResolveComplaintInput", map[string]any{"complaintId": "k1", "by": "mia", "outcome": "SATISFIED", "note": "happy"})
	if r.str("resolveComplaint.complaint.status") != "RESOLVED" || r.str("resolveComplaint.complaint.outcome") != "SATISFIED" ||
		r.str("resolveComplaint.complaint.resolvedAt") == "" {
		t.Errorf("resolve: %s", r.Raw)
	}
	c = h.ok(`{ customer(id:"c1"){ stage stageHistory{ from to reason } openComplaints{ id } loyalty{ recoveredComplaints }
		timeline(first: 50, oldestFirst: true){ edges{ node{ type summary } } } } }`, nil)
	if s := c.str("customer.stage"); s != "ACTIVE" && s != "LOYAL" {
		t.Errorf("stage after a satisfied resolution = %s, want ACTIVE or LOYAL", s)
	}
	if len(c.list("customer.openComplaints")) != 0 || c.num("customer.loyalty.recoveredComplaints") != 1 {
		t.Errorf("after resolution: %s", c.Raw)
	}
	var path []string
	for i := range c.list("customer.stageHistory") {
		path = append(path, c.str(fmt.Sprintf("customer.stageHistory.%d.to", i)))
	}
	if i := slices.Index(path, "COMPLAINING"); i < 0 || i == len(path)-1 {
		t.Errorf("stageHistory %v does not go through COMPLAINING and out of it", path)
	}
	var summaries []string
	for i := range c.list("customer.timeline.edges") {
		summaries = append(summaries, c.str(fmt.Sprintf("customer.timeline.edges.%d.node.summary", i)))
	}
	joined := strings.Join(summaries, "\n")
	for _, want := range []string{"complaint k1 filed", "acknowledged by mia", "escalated to quality-lead", "compensation 200.00 CNY",
		"options proposed", "new kettle and voucher", "incident report", "resolved, customer satisfied"} {
		if !strings.Contains(joined, want) {
			t.Errorf("timeline summaries lack %q:\n%s", want, joined)
		}
	}

	// Reopen, then the complaint is open again; then the complaints list.
	r = step("reopenComplaint", "ComplaintActionInput", map[string]any{"complaintId": "k1", "by": "mia", "note": "kettle leaks again"})
	if st := r.str("reopenComplaint.complaint.status"); st == "RESOLVED" || st == "" {
		t.Errorf("reopen: %s", r.Raw)
	}
	if s := stage(); s != "COMPLAINING" {
		t.Errorf("stage after reopen = %s, want COMPLAINING", s)
	}

	// A second complaint, declined.
	h.fileComplaint("c1", map[string]any{"complaintId": "k2"})
	r = step("declineComplaint", "DeclineComplaintInput", map[string]any{"complaintId": "k2", "by": "mia", "reason": "duplicate of k1"})
	if r.str("declineComplaint.complaint.status") != "DECLINED" || r.str("declineComplaint.complaint.declineReason") != "duplicate of k1" {
		t.Errorf("decline: %s", r.Raw)
	}
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`{statuses:[DECLINED]}`, []string{"k2"}},
		{`{severity:MAJOR}`, []string{"k1"}},
		{`{owner:"mia"}`, []string{"k1", "k2"}},
		{`{owner:"nobody"}`, nil},
	} {
		r := h.ok(`{ complaints(filter:`+tc.filter+`){ totalCount edges{ node{ id } } } }`, nil)
		var ids []string
		for i := range r.list("complaints.edges") {
			ids = append(ids, r.str(fmt.Sprintf("complaints.edges.%d.node.id", i)))
		}
		slices.Sort(ids)
		if !slices.Equal(ids, tc.want) || r.num("complaints.totalCount") != len(tc.want) {
			t.Errorf("complaints(filter:%s) = %v (totalCount %d), want %v", tc.filter, ids, r.num("complaints.totalCount"), tc.want)
		}
	}
	if r := h.ok(`{ complaint(id:"k1"){ id customer{ id } } }`, nil); r.str("complaint.customer.id") != "c1" {
		t.Errorf("complaint(id): %s", r.Raw)
	}
	if r := h.ok(`{ complaint(id:"nope"){ id } }`, nil); r.get("complaint") != nil {
		t.Errorf("unknown complaint: %s", r.Raw)
	}
}

// TestComplaintSLA checks replyDueAt (half a working day, CN calendar,
// 09:00–18:00 Asia/Shanghai) for complaints backfilled via occurredAt.
func TestComplaintSLA(t *testing.T) {
	h := startServer(t, options{})
	h.register("sla", "SLA Customer", map[string]any{"occurredAt": "2025-01-01T09:00:00+08:00"})
	for i, tc := range []struct{ filed, due string }{
		{"2025-03-04T10:00:00+08:00", "2025-03-04T14:30:00+08:00"}, // Tuesday
		{"2025-03-07T17:00:00+08:00", "2025-03-10T12:30:00+08:00"}, // Friday → Monday
		{"2025-09-27T10:00:00+08:00", "2025-09-28T13:30:00+08:00"}, // Saturday → the make-up working Sunday
		{"2025-09-30T16:00:00+08:00", "2025-10-09T11:30:00+08:00"}, // before National Day
	} {
		id := h.fileComplaint("sla", map[string]any{"complaintId": fmt.Sprintf("sla%d", i), "occurredAt": tc.filed})
		r := h.ok(`query($id:ID!){ complaint(id:$id){ filedAt replyDueAt overdue } }`, map[string]any{"id": id})
		want, _ := time.Parse(time.RFC3339, tc.due)
		filed, _ := time.Parse(time.RFC3339, tc.filed)
		if got := mustTime(t, r.str("complaint.replyDueAt")); !got.Equal(want) {
			t.Errorf("filed %s: replyDueAt %s, want %s", tc.filed, got.In(want.Location()), tc.due)
		}
		if got := mustTime(t, r.str("complaint.filedAt")); !got.Equal(filed) {
			t.Errorf("filedAt %v, want %s", got, tc.filed)
		}
		if r.get("complaint.overdue") != true {
			t.Errorf("complaint filed %s and never acknowledged is not overdue", tc.filed)
		}
	}
}

// TestFollowUps schedules and completes a follow-up and lists them.
func TestFollowUps(t *testing.T) {
	h := startServer(t, options{auth: true})
	h.register("c1", "Chen Jing", nil)
	k := h.fileComplaint("c1", nil)
	due := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	const fu = `id status reason owner dueAt outcome note customer{ id } complaint{ id }`
	r := h.ok(`mutation($in:ScheduleFollowUpInput!){ scheduleFollowUp(input:$in){ version followUp{ `+fu+` } } }`, map[string]any{"in": map[string]any{
		"customerId": "c1", "complaintId": k, "reason": "RECOVERY", "owner": "mia", "dueAt": ts(due), "note": "call about the parcel"}})
	id := r.str("scheduleFollowUp.followUp.id")
	if id == "" || r.str("scheduleFollowUp.followUp.status") != "DUE" || r.str("scheduleFollowUp.followUp.complaint.id") != k ||
		!mustTime(t, r.str("scheduleFollowUp.followUp.dueAt")).Equal(due) || r.str("scheduleFollowUp.followUp.customer.id") != "c1" {
		t.Fatalf("scheduleFollowUp: %s", r.Raw)
	}
	l := h.ok(`{ followUps(filter:{owner:"mia", status:DUE, reasons:[RECOVERY]}){ totalCount edges{ node{ id } } } }`, nil)
	if l.num("followUps.totalCount") < 1 || !slices.ContainsFunc(l.list("followUps.edges"), func(e any) bool {
		return e.(map[string]any)["node"].(map[string]any)["id"] == id
	}) {
		t.Errorf("followUps does not list %s: %s", id, l.Raw)
	}
	if c := h.ok(`{ customer(id:"c1"){ followUps(status: DUE){ id } } }`, nil); len(c.list("customer.followUps")) < 1 {
		t.Errorf("customer.followUps: %s", c.Raw)
	}
	r = h.ok(`mutation($in:CompleteFollowUpInput!){ completeFollowUp(input:$in){ version followUp{ `+fu+` } } }`, map[string]any{"in": map[string]any{
		"followUpId": id, "by": "mia", "outcome": "SATISFIED", "note": "all good"}})
	if r.str("completeFollowUp.followUp.status") != "DONE" || r.str("completeFollowUp.followUp.outcome") != "SATISFIED" {
		t.Errorf("completeFollowUp: %s", r.Raw)
	}
	if l := h.ok(`{ followUps(filter:{status:DONE}){ totalCount } }`, nil); l.num("followUps.totalCount") != 1 {
		t.Errorf("followUps(DONE): %s", l.Raw)
	}
}

// TestAnalystQueries runs holidays, churnModel, lifecycleReport and events.
func TestAnalystQueries(t *testing.T) {
	h := startServer(t, options{})
	h.register("c1", "Zhou Min", map[string]any{"occurredAt": "2025-01-02T10:00:00+08:00"})

	r := h.ok(`{ holidays(calendar:"CN", from:"2025-01-01", to:"2025-12-31"){ calendar key name localName date } }`, nil)
	var keys []string
	for i := range r.list("holidays") {
		keys = append(keys, r.str(fmt.Sprintf("holidays.%d.key", i)))
	}
	if !slices.ContainsFunc(keys, func(k string) bool { return strings.Contains(k, "spring") }) || len(keys) < 5 {
		t.Errorf("holidays 2025: %v", keys)
	}
	h.refused("", "BAD_USER_INPUT", `{ holidays(calendar:"XX", from:"2025-01-01", to:"2025-12-31"){ key } }`, nil)
	h.refused("", "BAD_USER_INPUT", `{ holidays(from:"2025-12-31", to:"2025-01-01"){ key } }`, nil)

	r = h.ok(`{ events(first: 10){ edges{ cursor node{ eventId streamId type revision position occurredAt recordedAt data metadata } } pageInfo{ hasNextPage endCursor } } }`, nil)
	if len(r.list("events.edges")) != 1 || r.str("events.edges.0.node.streamId") != "customer-c1" || r.str("events.edges.0.node.type") != "CustomerRegistered" {
		t.Errorf("events: %s", r.Raw)
	}
	r = h.ok(`{ events(filter:{streamId:"customer-c1", types:["PurchaseMade"]}){ edges{ node{ type } } } }`, nil)
	if len(r.list("events.edges")) != 0 {
		t.Errorf("events filtered by type: %s", r.Raw)
	}

	r = h.gql(`{ lifecycleReport(from:"2025-01-01T00:00:00+08:00", to:"2025-04-01T00:00:00+08:00", bucket: MONTH){
		buckets{ start population{ stage count } transitions{ from to count } } } }`, nil)
	if len(r.Errors) > 0 {
		t.Errorf("lifecycleReport: %s", r.Raw)
	} else if n := len(r.list("lifecycleReport.buckets")); n != 3 {
		t.Errorf("lifecycleReport: %d monthly buckets for Jan–Mar, want 3: %s", n, r.Raw)
	}

	// With one customer and no purchases the model cannot be fitted: a
	// domain refusal, not an internal error.
	r = h.gql(`{ churnModel(unit: WEEK){ unit asOf customers r alpha a b logLikelihood } }`, nil)
	if len(r.Errors) > 0 && r.Errors[0].code() != "FAILED_PRECONDITION" {
		t.Errorf("churnModel without data: %v: %s", r.codes(), r.Raw)
	}
	h.refused("", "BAD_USER_INPUT", `query($t:DateTime){ churnModel(asOf:$t){ r } }`, map[string]any{"t": ts(time.Now().Add(time.Hour))})
}

// TestCampaigns schedules and cancels a greeting campaign and reads it back.
func TestCampaigns(t *testing.T) {
	h := startServer(t, options{auth: true})
	h.register("c1", "Sun Li", map[string]any{"marketingConsent": true})
	year := time.Now().Year() + 1
	r := h.post(tokMarketing, `mutation($in:ScheduleGreetingCampaignInput!){ scheduleGreetingCampaign(input:$in){ campaign{
		id name occasion date sendAtLocal status audience{ stages tiers accountManager excludeConductFlagged } audienceSize sent failed skipped
		skippedByReason{ reason count } createdBy } } }`, map[string]any{"in": map[string]any{
		"name": "Spring greetings", "occasion": "CN:spring_festival", "date": fmt.Sprintf("%d-02-01", year), "idempotencyKey": "camp-1",
		"templates": []any{map[string]any{"channel": "SMS", "body": "Happy {{occasion}}, {{name}}!"}}}})
	if len(r.Errors) > 0 {
		t.Fatalf("scheduleGreetingCampaign: %s", r.Raw)
	}
	id := r.str("scheduleGreetingCampaign.campaign.id")
	if r.str("scheduleGreetingCampaign.campaign.status") != "SCHEDULED" || r.str("scheduleGreetingCampaign.campaign.createdBy") != "mark" {
		t.Errorf("scheduled campaign: %s", r.Raw)
	}
	if g := h.ok(`query($id:ID!){ campaign(id:$id){ id name } campaigns{ totalCount edges{ node{ id } } } }`, map[string]any{"id": id}); g.str("campaign.id") != id || g.num("campaigns.totalCount") != 1 {
		t.Errorf("campaign(s): %s", g.Raw)
	}
	r = h.post(tokMarketing, `mutation($in:CancelCampaignInput!){ cancelGreetingCampaign(input:$in){ campaign{ id status } } }`,
		map[string]any{"in": map[string]any{"campaignId": id, "reason": "wrong date"}})
	if len(r.Errors) > 0 || r.str("cancelGreetingCampaign.campaign.status") != "CANCELLED" {
		t.Errorf("cancelGreetingCampaign: %s", r.Raw)
	}
	h.refused(tokManager, "FORBIDDEN", `mutation{ cancelGreetingCampaign(input:{campaignId:"x", reason:"r"}){ campaign{ id } } }`, nil)
}

// TestErrorCodes checks every error class of the contract; no refused
// command appends anything.
func TestErrorCodes(t *testing.T) {
	h := startServer(t, options{auth: true})
	h.register("c1", "Wu Hao", map[string]any{"occurredAt": ts(time.Now().Add(-time.Hour))})
	k := h.fileComplaint("c1", map[string]any{"complaintId": "k1"})
	h.ok(`mutation{ acknowledgeComplaint(input:{complaintId:"k1", by:"mia"}){ version } }`, nil)
	future := ts(time.Now().Add(time.Hour))
	const logContact = `mutation($in:LogContactInput!){ logContact(input:$in){ version } }`
	contact := func(extra map[string]any) map[string]any {
		in := map[string]any{"customerId": "c1", "channel": "PHONE", "direction": "INBOUND", "agent": "mia"}
		for k, v := range extra {
			in[k] = v
		}
		return map[string]any{"in": in}
	}
	const escalate = `mutation($in:EscalateComplaintInput!){ escalateComplaint(input:$in){ version } }`
	esc := func(promised time.Time) map[string]any {
		return map[string]any{"in": map[string]any{"complaintId": k, "by": "mia", "to": "lead", "reason": "r", "promisedReplyBy": ts(promised)}}
	}
	cases := []struct {
		name, token, code, query string
		vars                     map[string]any
	}{
		{"bad enum value in variables", tokAdmin, "BAD_USER_INPUT", logContact, contact(map[string]any{"channel": "FAX"})},
		{"bad enum value inline", tokAdmin, "BAD_USER_INPUT", `mutation{ logContact(input:{customerId:"c1", channel:FAX, direction:INBOUND, agent:"a"}){ version } }`, nil},
		{"invalid customer ID", tokAdmin, "BAD_USER_INPUT", `mutation{ registerCustomer(input:{id:"no spaces allowed!", name:"X"}){ version } }`, nil},
		{"occurredAt in the future", tokAdmin, "BAD_USER_INPUT", logContact, contact(map[string]any{"occurredAt": future})},
		{"malformed occurredAt", tokAdmin, "BAD_USER_INPUT", logContact, contact(map[string]any{"occurredAt": "yesterday"})},
		{"promisedReplyBy in the past", tokAdmin, "BAD_USER_INPUT", escalate, esc(time.Now().Add(-time.Hour))},
		{"promisedReplyBy after 30 days", tokAdmin, "BAD_USER_INPUT", escalate, esc(time.Now().Add(31 * 24 * time.Hour))},
		{"survey score 6", tokAdmin, "BAD_USER_INPUT", `mutation{ recordSatisfaction(input:{customerId:"c1", score:6}){ version } }`, nil},
		{"survey score 0", tokAdmin, "BAD_USER_INPUT", `mutation{ recordSatisfaction(input:{customerId:"c1", score:0}){ version } }`, nil},
		{"negative amount", tokAdmin, "BAD_USER_INPUT", `mutation{ recordPurchase(input:{customerId:"c1", orderId:"o1", amount:{amountMinor:-1, currency:"CNY"}}){ version } }`, nil},
		{"negative expectedVersion", tokAdmin, "BAD_USER_INPUT", logContact, contact(map[string]any{"expectedVersion": -1})},
		{"missing required input field", tokAdmin, "BAD_USER_INPUT", `mutation{ logContact(input:{customerId:"c1", channel:PHONE, direction:INBOUND}){ version } }`, nil},
		{"bad customers cursor", tokAdmin, "BAD_USER_INPUT", `{ customers(after:"!!not-a-cursor!!"){ totalCount } }`, nil},
		{"bad timeline cursor", tokAdmin, "BAD_USER_INPUT", `{ customer(id:"c1"){ timeline(after:"bm90LWEtbnVtYmVy"){ totalCount } } }`, nil},
		{"bad complaints cursor", tokAdmin, "BAD_USER_INPUT", `{ complaints(after:"%%%"){ totalCount } }`, nil},
		{"bad followUps cursor", tokAdmin, "BAD_USER_INPUT", `{ followUps(after:"%%%"){ totalCount } }`, nil},
		{"bad events cursor", tokAdmin, "BAD_USER_INPUT", `{ events(after:"%%%"){ edges{ cursor } } }`, nil},
		{"first over the cap", tokAdmin, "BAD_USER_INPUT", `{ customers(first: 100000){ totalCount } }`, nil},
		{"negative first", tokAdmin, "BAD_USER_INPUT", `{ customers(first: -1){ totalCount } }`, nil},
		{"asOf in the future", tokAdmin, "BAD_USER_INPUT", `query($t:DateTime){ customer(id:"c1", asOf:$t){ stage } }`, map[string]any{"t": future}},
		{"syntax error", tokAdmin, "BAD_USER_INPUT", `{ customer(id:"c1") { stage `, nil},
		{"unknown field", tokAdmin, "BAD_USER_INPUT", `{ customer(id:"c1"){ shoeSize } }`, nil},
		{"unknown customer", tokAdmin, "NOT_FOUND", logContact, map[string]any{"in": map[string]any{"customerId": "ghost", "channel": "PHONE", "direction": "INBOUND", "agent": "a"}}},
		{"unknown customer for a complaint", tokAdmin, "NOT_FOUND", `mutation{ fileComplaint(input:{customerId:"ghost", channel:PHONE, category:"c", description:"d", owner:"o"}){ version } }`, nil},
		{"unknown complaint", tokAdmin, "NOT_FOUND", `mutation{ acknowledgeComplaint(input:{complaintId:"ghost", by:"mia"}){ version } }`, nil},
		{"unknown follow-up", tokAdmin, "NOT_FOUND", `mutation{ completeFollowUp(input:{followUpId:"ghost", by:"mia", outcome:SATISFIED}){ version } }`, nil},
		{"unknown customer to erase", tokAdmin, "NOT_FOUND", `mutation{ eraseCustomer(input:{customerId:"ghost", by:"alice", reason:"r"}){ version } }`, nil},
		{"stale expectedVersion", tokAdmin, "CONFLICT", logContact, contact(map[string]any{"expectedVersion": 0})},
		{"expectedVersion ahead", tokAdmin, "CONFLICT", logContact, contact(map[string]any{"expectedVersion": 99})},
		{"step out of order", tokAdmin, "FAILED_PRECONDITION", `mutation{ acceptResolution(input:{complaintId:"k1", optionIndex:0}){ version } }`, nil},
		{"acknowledge twice", tokAdmin, "FAILED_PRECONDITION", `mutation{ acknowledgeComplaint(input:{complaintId:"k1", by:"mia"}){ version } }`, nil},
		{"register an existing customer", tokAdmin, "FAILED_PRECONDITION", `mutation{ registerCustomer(input:{id:"c1", name:"Someone else"}){ version } }`, nil},
		{"file with a taken complaint id", tokAdmin, "FAILED_PRECONDITION", `mutation{ fileComplaint(input:{customerId:"c1", complaintId:"k1", channel:PHONE, category:"c", description:"d", owner:"o"}){ version } }`, nil},
		{"file with a taken complaint id and another key", tokAdmin, "FAILED_PRECONDITION", `mutation{ fileComplaint(input:{customerId:"c1", complaintId:"k1", channel:PHONE, category:"c", description:"d", owner:"o", idempotencyKey:"another"}){ version } }`, nil},
		{"no token", "", "UNAUTHENTICATED", `{ customers{ totalCount } }`, nil},
		{"unknown token", "forged", "UNAUTHENTICATED", logContact, contact(nil)},
		{"marketing files a complaint", tokMarketing, "FORBIDDEN", `mutation{ fileComplaint(input:{customerId:"c1", channel:PHONE, category:"c", description:"d", owner:"o"}){ version } }`, nil},
		{"analyst logs a contact", tokAnalyst, "FORBIDDEN", logContact, contact(nil)},
		{"manager erases", tokManager, "FORBIDDEN", `mutation{ eraseCustomer(input:{customerId:"c1", by:"mia", reason:"asked"}){ version } }`, nil},
		{"analyst searches", tokAnalyst, "FORBIDDEN", `{ customers(filter:{search:"Wu"}){ totalCount } }`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			outer := h.t
			h.t = t
			defer func() { h.t = outer }()
			r := h.refused(tc.token, tc.code, tc.query, tc.vars)
			if len(r.Errors) > 0 && r.Errors[0].Message == "" {
				t.Errorf("error without a message: %s", r.Raw)
			}
			if tc.code == "UNAUTHENTICATED" && r.Status != http.StatusUnauthorized {
				t.Errorf("HTTP %d, want 401", r.Status)
			}
		})
	}

	// The precondition error lists the steps allowed instead.
	r := h.post(tokAdmin, `mutation{ acceptResolution(input:{complaintId:"k1", optionIndex:0}){ version } }`, nil)
	allowed, _ := r.Errors[0].Extensions["allowed"].([]any)
	var names []string
	for _, a := range allowed {
		names = append(names, fmt.Sprint(a))
	}
	for _, want := range []string{"escalateComplaint", "proposeResolution", "declineComplaint"} {
		if !slices.Contains(names, want) {
			t.Errorf("extensions.allowed = %v, lacks %q", names, want)
		}
	}
	if slices.Contains(names, "acceptResolution") || slices.Contains(names, "acknowledgeComplaint") {
		t.Errorf("extensions.allowed = %v lists a step the complaint does not accept", names)
	}
	// Input errors name the field at fault.
	r = h.post(tokAdmin, logContact, contact(map[string]any{"occurredAt": future}))
	if f := fmt.Sprint(r.Errors[0].Extensions["fields"]); !strings.Contains(f, "occurredAt") {
		t.Errorf("extensions.fields = %s, want occurredAt", f)
	}
}
