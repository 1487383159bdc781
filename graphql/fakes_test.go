package graphql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/graphql"
)

// fakeDeps is a test double for the API's ports: an in-memory store of
// views and a command recorder. It is not the thing under test — the
// schema and the handler are — so it keeps only enough behaviour to let
// every field resolve and every error class be provoked.
type fakeDeps struct {
	mu         sync.Mutex
	customers  map[string]graphql.CustomerView
	complaints map[string]graphql.ComplaintView
	followUps  map[string]graphql.FollowUpView
	campaigns  map[string]graphql.CampaignView
	events     []graphql.EventView
	// calls records each command: name and acting user.
	calls []call
	// fail, when set, is returned by the next command.
	fail error
	// lastQuery records the last customers() query (to check filters).
	lastQuery graphql.CustomerQuery
	seq       int
}

type call struct {
	Name  string
	Actor graphql.Actor
	Input any
}

var t0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

func sp(s string) *string { return &s }

func newFake() *fakeDeps {
	f := &fakeDeps{
		customers:  map[string]graphql.CustomerView{},
		complaints: map[string]graphql.ComplaintView{},
		followUps:  map[string]graphql.FollowUpView{},
		campaigns:  map[string]graphql.CampaignView{},
	}
	bd := calendar.MustParse("1990-05-17")
	pAlive := 0.8
	f.customers["c1"] = graphql.CustomerView{
		ID: "c1", Name: sp("王芳"), Phone: sp("+86 138 0000 0000"), Email: sp("wang@example.com"),
		Tier: "GOLD", Segment: sp("retail"), AccountManager: sp("alice"), Timezone: "Asia/Shanghai", Locale: "zh-CN",
		Birthday: &bd, MarketingConsent: true, RegisteredAt: t0.AddDate(-1, 0, 0), Stage: "COMPLAINING", StageSince: t0,
		StageHistory: []graphql.StageChangeView{
			{To: "NEW", At: t0.AddDate(-1, 0, 0), Reason: "CustomerRegistered"},
			{From: sp("NEW"), To: "COMPLAINING", At: t0, Reason: "ComplaintFiled"},
		},
		PurchaseCount: 3, LifetimeValue: []graphql.Money{{AmountMinor: 129900, Currency: "CNY"}},
		Loyalty: graphql.LoyaltyView{Score: 42, Level: "REPEAT", PAlive: &pAlive}, Version: 7,
	}
	f.customers["c2"] = graphql.CustomerView{ID: "c2", Name: sp("李雷"), Tier: "STANDARD", Timezone: "Asia/Shanghai", Locale: "zh-CN",
		RegisteredAt: t0, Stage: "NEW", StageSince: t0, Loyalty: graphql.LoyaltyView{Level: "NONE"}, Version: 0}
	f.complaints["k1"] = graphql.ComplaintView{
		ID: "k1", CustomerID: "c1", Status: "OPEN", Severity: "GENERAL", Category: "delivery", Channel: "PHONE",
		Description: sp("包裹丢失"), Owner: "alice", FiledAt: t0, ReplyDueAt: t0.Add(4*time.Hour + 30*time.Minute),
		RecoverySteps: []graphql.RecoveryStepView{{Step: "APOLOGY", At: t0, By: "alice", Note: sp("called 王芳")}},
		Compensation:  []graphql.Money{{AmountMinor: 5000, Currency: "CNY"}}, Version: 7,
	}
	f.followUps["f1"] = graphql.FollowUpView{ID: "f1", CustomerID: "c1", ComplaintID: sp("k1"), Reason: "RECOVERY", Owner: "alice",
		DueAt: t0.AddDate(0, 0, 3), Status: "DUE", Note: sp("ask 王芳 about the parcel")}
	d := calendar.MustParse("2026-02-17")
	f.campaigns["g1"] = graphql.CampaignView{ID: "g1", Name: "春节 2026", Occasion: "CN:spring_festival", Date: &d, SendAtLocal: "09:00",
		Status: "SCHEDULED", Audience: graphql.AudienceView{Stages: []string{"LOYAL"}, Tiers: []string{"GOLD"}, ExcludeConductFlagged: true},
		SkippedByReason: []graphql.ReasonCount{{Reason: "NO_CONSENT", Count: 2}}, CreatedBy: "mia"}
	f.events = []graphql.EventView{
		{EventID: "e1", StreamID: "customer-c1", Type: "CustomerRegistered", Revision: 0, Position: "1", OccurredAt: t0, RecordedAt: t0,
			Data: json.RawMessage(`{"customerId":"c1","name":"王芳","phone":"+86 138","tier":"GOLD"}`), Metadata: json.RawMessage(`{"actor":"alice"}`)},
		{EventID: "e2", StreamID: "customer-c1", Type: "ContactLogged", Revision: 1, Position: "2", OccurredAt: t0, RecordedAt: t0,
			Data: json.RawMessage(`{"channel":"PHONE","direction":"INBOUND","summary":"王芳 called, upset"}`), Metadata: json.RawMessage(`{"actor":"alice"}`)},
	}
	return f
}

func (f *fakeDeps) deps() graphql.Deps {
	return graphql.Deps{
		Customers: f, Complaints: f, FollowUps: f, Campaigns: f, Calendar: f, Analytics: f, Events: f, Commands: f,
		Now:    func() time.Time { return t0.Add(time.Hour) },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func notFound(kind, id string) error {
	return fmt.Errorf("%s %q: %w", kind, id, graphql.ErrNotFound)
}

// page applies cursor paging (cursor = index) to items.
func page[T any](items []T, p graphql.Page) graphql.Connection[T] {
	start := 0
	if p.After != "" {
		n, err := strconv.Atoi(p.After)
		if err == nil {
			start = n + 1
		}
	}
	c := graphql.Connection[T]{TotalCount: len(items)}
	for i := start; i < len(items) && len(c.Edges) < p.First; i++ {
		c.Edges = append(c.Edges, graphql.Edge[T]{Cursor: strconv.Itoa(i), Node: items[i]})
	}
	c.HasNextPage = start+len(c.Edges) < len(items)
	return c
}

func sortedValues[T any](m map[string]T) []T {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]T, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// ---- readers ----

func (f *fakeDeps) Customer(_ context.Context, id string, asOf *time.Time) (graphql.CustomerView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.customers[id]
	if !ok {
		return graphql.CustomerView{}, notFound("customer", id)
	}
	if id == "boom" {
		return c, fmt.Errorf("disk on fire at /secret/path")
	}
	c.AsOf = asOf
	return c, nil
}

func (f *fakeDeps) Customers(_ context.Context, q graphql.CustomerQuery, p graphql.Page) (graphql.Connection[graphql.CustomerView], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastQuery = q
	var items []graphql.CustomerView
	for _, c := range sortedValues(f.customers) {
		if len(q.Stages) > 0 && !slices.Contains(q.Stages, c.Stage) {
			continue
		}
		if len(q.Tiers) > 0 && !slices.Contains(q.Tiers, c.Tier) {
			continue
		}
		items = append(items, c)
	}
	return page(items, p), nil
}

func (f *fakeDeps) Timeline(_ context.Context, id string, q graphql.TimelineQuery, p graphql.Page) (graphql.Connection[graphql.TimelineEntryView], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var items []graphql.TimelineEntryView
	for _, e := range f.events {
		if e.StreamID != "customer-"+id || (len(q.Types) > 0 && !slices.Contains(q.Types, e.Type)) {
			continue
		}
		items = append(items, graphql.TimelineEntryView{EventID: e.EventID, Type: e.Type, Revision: e.Revision, Position: e.Position,
			OccurredAt: e.OccurredAt, RecordedAt: e.RecordedAt, Summary: e.Type + ": " + string(e.Data), SafeSummary: e.Type + " (redacted)", Data: e.Data})
	}
	if !q.OldestFirst {
		slices.Reverse(items)
	}
	return page(items, p), nil
}

func (f *fakeDeps) Greetings(context.Context, string, *time.Time) ([]graphql.GreetingView, error) {
	return []graphql.GreetingView{{CampaignID: sp("g1"), Occasion: "CN:spring_festival", Channel: "SMS", Status: "SKIPPED", Reason: sp("NO_CONSENT"), At: t0}}, nil
}

func (f *fakeDeps) ExpectedPurchases(_ context.Context, _ string, _ *time.Time, horizon int) (*float64, error) {
	v := float64(horizon) / 100
	return &v, nil
}

func (f *fakeDeps) Complaint(_ context.Context, id string) (graphql.ComplaintView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.complaints[id]
	if !ok {
		return c, notFound("complaint", id)
	}
	return c, nil
}

func (f *fakeDeps) Complaints(_ context.Context, q graphql.ComplaintQuery, p graphql.Page) (graphql.Connection[graphql.ComplaintView], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var items []graphql.ComplaintView
	for _, c := range sortedValues(f.complaints) {
		if q.CustomerID != "" && c.CustomerID != q.CustomerID {
			continue
		}
		if len(q.Statuses) > 0 && !slices.Contains(q.Statuses, c.Status) {
			continue
		}
		items = append(items, c)
	}
	return page(items, p), nil
}

func (f *fakeDeps) FollowUps(_ context.Context, q graphql.FollowUpQuery, p graphql.Page) (graphql.Connection[graphql.FollowUpView], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var items []graphql.FollowUpView
	for _, x := range sortedValues(f.followUps) {
		if q.CustomerID != "" && x.CustomerID != q.CustomerID {
			continue
		}
		if q.Status != nil && x.Status != *q.Status {
			continue
		}
		items = append(items, x)
	}
	return page(items, p), nil
}

func (f *fakeDeps) Campaign(_ context.Context, id string) (graphql.CampaignView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.campaigns[id]
	if !ok {
		return c, notFound("campaign", id)
	}
	return c, nil
}

func (f *fakeDeps) Campaigns(_ context.Context, p graphql.Page) (graphql.Connection[graphql.CampaignView], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return page(sortedValues(f.campaigns), p), nil
}

func (f *fakeDeps) PreviewCampaign(_ context.Context, in graphql.ScheduleGreetingCampaignInput) (graphql.CampaignPreviewView, error) {
	if in.Occasion == "CN:nope" {
		return graphql.CampaignPreviewView{}, fmt.Errorf("unknown holiday %q: %w", in.Occasion, graphql.ErrBadInput)
	}
	return graphql.CampaignPreviewView{Evaluated: 2, Greeted: 1, Skipped: 1,
		SkippedByReason: []graphql.ReasonCount{{Reason: "NO_CONSENT", Count: 1}}, ByChannel: []graphql.ReasonCount{{Reason: in.Templates[0].Channel, Count: 1}}}, nil
}

func (f *fakeDeps) Holidays(_ context.Context, cal string, from, to calendar.Date) ([]graphql.HolidayView, error) {
	if cal != "CN" {
		return nil, fmt.Errorf("unknown calendar %q: %w", cal, graphql.ErrBadInput)
	}
	var out []graphql.HolidayView
	for _, h := range []graphql.HolidayView{
		{Calendar: "CN", Key: "CN:new_year", Name: "New Year's Day", LocalName: sp("元旦"), Date: calendar.MustParse("2026-01-01")},
		{Calendar: "CN", Key: "CN:spring_festival", Name: "Spring Festival", LocalName: sp("春节"), Date: calendar.MustParse("2026-02-17")},
	} {
		if !h.Date.Before(from) && !h.Date.After(to) {
			out = append(out, h)
		}
	}
	return out, nil
}

func (f *fakeDeps) LifecycleReport(_ context.Context, from, _ time.Time, _ string) (graphql.LifecycleReportView, error) {
	return graphql.LifecycleReportView{Buckets: []graphql.LifecycleBucketView{{
		Start:       from,
		Population:  []graphql.StageCount{{Stage: "NEW", Count: 1}, {Stage: "COMPLAINING", Count: 1}},
		Transitions: []graphql.TransitionCount{{From: sp("NEW"), To: "COMPLAINING", Count: 1}, {To: "NEW", Count: 2}},
	}}}, nil
}

func (f *fakeDeps) ChurnModel(_ context.Context, asOf *time.Time, unit string) (graphql.ChurnModelView, error) {
	at := t0
	if asOf != nil {
		at = *asOf
	}
	return graphql.ChurnModelView{Unit: unit, AsOf: at, Customers: 2357, R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426, LogLikelihood: -9582.4}, nil
}

func (f *fakeDeps) ServiceReport(_ context.Context, from, to time.Time) (graphql.ServiceReportView, error) {
	sla, med := 50.0, 26*time.Hour
	return graphql.ServiceReportView{From: from, To: to, Complaints: 2,
		ByCategory: []graphql.KeyCount{{Key: "delivery", Count: 2}}, BySeverity: []graphql.KeyCount{{Key: "GENERAL", Count: 2}},
		SLAMetPercent: &sla, MedianTimeToResolution: &med, FollowUpsDue: 3, FollowUpsCompleted: 1, Declined: 0, OverdueNow: 1}, nil
}

func (f *fakeDeps) Events(_ context.Context, q graphql.EventQuery, p graphql.Page) (graphql.Connection[graphql.EventView], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var items []graphql.EventView
	for _, e := range f.events {
		if q.StreamID != nil && e.StreamID != *q.StreamID {
			continue
		}
		items = append(items, e)
	}
	return page(items, p), nil
}

// ---- commands ----

func (f *fakeDeps) record(name string, by graphql.Actor, in any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{Name: name, Actor: by, Input: in})
	if f.fail != nil {
		err := f.fail
		f.fail = nil
		return err
	}
	return nil
}

// touch bumps a customer's version, checking expectedVersion.
func (f *fakeDeps) touch(id string, m graphql.Meta) (graphql.CustomerResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.customers[id]
	if !ok {
		return graphql.CustomerResult{}, notFound("customer", id)
	}
	if m.ExpectedVersion != nil && *m.ExpectedVersion != c.Version {
		return graphql.CustomerResult{}, fmt.Errorf("customer %s is at version %d, not %d: %w", id, c.Version, *m.ExpectedVersion, graphql.ErrConflict)
	}
	c.Version++
	f.customers[id] = c
	return graphql.CustomerResult{Customer: c, Version: c.Version}, nil
}

func (f *fakeDeps) custCmd(name string, by graphql.Actor, in any, id string, m graphql.Meta) (graphql.CustomerResult, error) {
	if err := f.record(name, by, in); err != nil {
		return graphql.CustomerResult{}, err
	}
	return f.touch(id, m)
}

func (f *fakeDeps) complaintCmd(name string, by graphql.Actor, in any, id string, m graphql.Meta, change func(*graphql.ComplaintView)) (graphql.ComplaintResult, error) {
	if err := f.record(name, by, in); err != nil {
		return graphql.ComplaintResult{}, err
	}
	f.mu.Lock()
	c, ok := f.complaints[id]
	f.mu.Unlock()
	if !ok {
		return graphql.ComplaintResult{}, notFound("complaint", id)
	}
	r, err := f.touch(c.CustomerID, m)
	if err != nil {
		return graphql.ComplaintResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if change != nil {
		change(&c)
	}
	c.Version = r.Version
	f.complaints[id] = c
	return graphql.ComplaintResult{Complaint: c, Version: r.Version}, nil
}

func (f *fakeDeps) RegisterCustomer(_ context.Context, by graphql.Actor, in graphql.RegisterCustomerInput) (graphql.CustomerResult, error) {
	if err := f.record("RegisterCustomer", by, in); err != nil {
		return graphql.CustomerResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := in.ID
	if id == "" {
		f.seq++
		id = fmt.Sprintf("n%d", f.seq)
	}
	if _, dup := f.customers[id]; dup {
		return graphql.CustomerResult{}, fmt.Errorf("customer %s exists: %w", id, graphql.ErrConflict)
	}
	c := graphql.CustomerView{ID: id, Name: &in.Name, Phone: in.Phone, Email: in.Email, Tier: in.Tier, Timezone: in.Timezone, Locale: in.Locale,
		Birthday: in.Birthday, MarketingConsent: in.MarketingConsent, RegisteredAt: t0, Stage: "NEW", StageSince: t0, Loyalty: graphql.LoyaltyView{Level: "NONE"}}
	f.customers[id] = c
	return graphql.CustomerResult{Customer: c}, nil
}

func (f *fakeDeps) UpdateProfile(_ context.Context, by graphql.Actor, in graphql.UpdateProfileInput) (graphql.CustomerResult, error) {
	return f.custCmd("UpdateProfile", by, in, in.CustomerID, in.Meta)
}
func (f *fakeDeps) SetMarketingConsent(_ context.Context, by graphql.Actor, in graphql.SetMarketingConsentInput) (graphql.CustomerResult, error) {
	return f.custCmd("SetMarketingConsent", by, in, in.CustomerID, in.Meta)
}
func (f *fakeDeps) LogContact(_ context.Context, by graphql.Actor, in graphql.LogContactInput) (graphql.CustomerResult, error) {
	return f.custCmd("LogContact", by, in, in.CustomerID, in.Meta)
}
func (f *fakeDeps) RecordPurchase(_ context.Context, by graphql.Actor, in graphql.RecordPurchaseInput) (graphql.CustomerResult, error) {
	return f.custCmd("RecordPurchase", by, in, in.CustomerID, in.Meta)
}
func (f *fakeDeps) RecordReferral(_ context.Context, by graphql.Actor, in graphql.RecordReferralInput) (graphql.CustomerResult, error) {
	return f.custCmd("RecordReferral", by, in, in.CustomerID, in.Meta)
}
func (f *fakeDeps) VoiceGrumble(_ context.Context, by graphql.Actor, in graphql.VoiceGrumbleInput) (graphql.CustomerResult, error) {
	return f.custCmd("VoiceGrumble", by, in, in.CustomerID, in.Meta)
}
func (f *fakeDeps) FileComplaint(_ context.Context, by graphql.Actor, in graphql.FileComplaintInput) (graphql.ComplaintResult, error) {
	if err := f.record("FileComplaint", by, in); err != nil {
		return graphql.ComplaintResult{}, err
	}
	r, err := f.touch(in.CustomerID, in.Meta)
	if err != nil {
		return graphql.ComplaintResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := in.ComplaintID
	if id == "" {
		f.seq++
		id = fmt.Sprintf("k%d", 100+f.seq)
	}
	c := graphql.ComplaintView{ID: id, CustomerID: in.CustomerID, Status: "OPEN", Severity: in.Severity, Category: in.Category, Channel: in.Channel,
		Description: &in.Description, Owner: in.Owner, FiledAt: t0, ReplyDueAt: t0.Add(270 * time.Minute), Version: r.Version}
	f.complaints[id] = c
	return graphql.ComplaintResult{Complaint: c, Version: r.Version}, nil
}
func (f *fakeDeps) AcknowledgeComplaint(_ context.Context, by graphql.Actor, in graphql.ComplaintActionInput) (graphql.ComplaintResult, error) {
	return f.complaintCmd("AcknowledgeComplaint", by, in, in.ComplaintID, in.Meta, func(c *graphql.ComplaintView) {
		if c.Status != "OPEN" {
			return
		}
		c.Status, c.AcknowledgedAt = "ACKNOWLEDGED", &t0
	})
}
func (f *fakeDeps) EscalateComplaint(_ context.Context, by graphql.Actor, in graphql.EscalateComplaintInput) (graphql.ComplaintResult, error) {
	return f.complaintCmd("EscalateComplaint", by, in, in.ComplaintID, in.Meta, func(c *graphql.ComplaintView) {
		c.Status, c.EscalatedTo, c.PromisedReplyBy = "ESCALATED", &in.To, &in.PromisedReplyBy
	})
}
func (f *fakeDeps) DeclineComplaint(_ context.Context, by graphql.Actor, in graphql.DeclineComplaintInput) (graphql.ComplaintResult, error) {
	return f.complaintCmd("DeclineComplaint", by, in, in.ComplaintID, in.Meta, func(c *graphql.ComplaintView) { c.Status, c.DeclineReason = "DECLINED", &in.Reason })
}
func (f *fakeDeps) TransferComplaint(_ context.Context, by graphql.Actor, in graphql.TransferComplaintInput) (graphql.ComplaintResult, error) {
	return f.complaintCmd("TransferComplaint", by, in, in.ComplaintID, in.Meta, func(c *graphql.ComplaintView) { c.Owner = in.To })
}
func (f *fakeDeps) ProposeResolution(_ context.Context, by graphql.Actor, in graphql.ProposeResolutionInput) (graphql.ComplaintResult, error) {
	return f.complaintCmd("ProposeResolution", by, in, in.ComplaintID, in.Meta, func(c *graphql.ComplaintView) {
		c.Status, c.ResolutionOptions = "RESOLUTION_PROPOSED", in.Options
	})
}
func (f *fakeDeps) AcceptResolution(_ context.Context, by graphql.Actor, in graphql.AcceptResolutionInput) (graphql.ComplaintResult, error) {
	return f.complaintCmd("AcceptResolution", by, in, in.ComplaintID, in.Meta, func(c *graphql.ComplaintView) {
		if in.OptionIndex < len(c.ResolutionOptions) {
			c.AcceptedOption = &c.ResolutionOptions[in.OptionIndex]
		}
	})
}
func (f *fakeDeps) TakeRecoveryStep(_ context.Context, by graphql.Actor, in graphql.TakeRecoveryStepInput) (graphql.ComplaintResult, error) {
	return f.complaintCmd("TakeRecoveryStep", by, in, in.ComplaintID, in.Meta, func(c *graphql.ComplaintView) {
		c.RecoverySteps = append(c.RecoverySteps, graphql.RecoveryStepView{Step: in.Step, At: t0, By: in.By, Note: in.Note})
	})
}
func (f *fakeDeps) ResolveComplaint(_ context.Context, by graphql.Actor, in graphql.ResolveComplaintInput) (graphql.ComplaintResult, error) {
	return f.complaintCmd("ResolveComplaint", by, in, in.ComplaintID, in.Meta, func(c *graphql.ComplaintView) { c.Status, c.Outcome = "RESOLVED", &in.Outcome })
}
func (f *fakeDeps) ReopenComplaint(_ context.Context, by graphql.Actor, in graphql.ComplaintActionInput) (graphql.ComplaintResult, error) {
	return f.complaintCmd("ReopenComplaint", by, in, in.ComplaintID, in.Meta, func(c *graphql.ComplaintView) { c.Status = "OPEN" })
}
func (f *fakeDeps) FileIncidentReport(_ context.Context, by graphql.Actor, in graphql.IncidentReportInput) (graphql.ComplaintResult, error) {
	return f.complaintCmd("FileIncidentReport", by, in, in.ComplaintID, in.Meta, func(c *graphql.ComplaintView) { c.IncidentReportFiled = true })
}
func (f *fakeDeps) ScheduleFollowUp(_ context.Context, by graphql.Actor, in graphql.ScheduleFollowUpInput) (graphql.FollowUpResult, error) {
	if err := f.record("ScheduleFollowUp", by, in); err != nil {
		return graphql.FollowUpResult{}, err
	}
	r, err := f.touch(in.CustomerID, in.Meta)
	if err != nil {
		return graphql.FollowUpResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	owner := "alice"
	if in.Owner != nil {
		owner = *in.Owner
	}
	x := graphql.FollowUpView{ID: "f-new", CustomerID: in.CustomerID, ComplaintID: in.ComplaintID, Reason: in.Reason, Owner: owner, DueAt: in.DueAt, Status: "DUE", Note: in.Note}
	f.followUps[x.ID] = x
	return graphql.FollowUpResult{FollowUp: x, Version: r.Version}, nil
}
func (f *fakeDeps) CompleteFollowUp(_ context.Context, by graphql.Actor, in graphql.CompleteFollowUpInput) (graphql.FollowUpResult, error) {
	if err := f.record("CompleteFollowUp", by, in); err != nil {
		return graphql.FollowUpResult{}, err
	}
	f.mu.Lock()
	x, ok := f.followUps[in.FollowUpID]
	f.mu.Unlock()
	if !ok {
		return graphql.FollowUpResult{}, notFound("follow-up", in.FollowUpID)
	}
	r, err := f.touch(x.CustomerID, in.Meta)
	if err != nil {
		return graphql.FollowUpResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	x.Status, x.Outcome = "DONE", &in.Outcome
	f.followUps[x.ID] = x
	return graphql.FollowUpResult{FollowUp: x, Version: r.Version}, nil
}
func (f *fakeDeps) RecordSatisfaction(_ context.Context, by graphql.Actor, in graphql.RecordSatisfactionInput) (graphql.CustomerResult, error) {
	return f.custCmd("RecordSatisfaction", by, in, in.CustomerID, in.Meta)
}
func (f *fakeDeps) MarkLost(_ context.Context, by graphql.Actor, in graphql.MarkLostInput) (graphql.CustomerResult, error) {
	return f.custCmd("MarkLost", by, in, in.CustomerID, in.Meta)
}
func (f *fakeDeps) FlagConduct(_ context.Context, by graphql.Actor, in graphql.FlagConductInput) (graphql.CustomerResult, error) {
	return f.custCmd("FlagConduct", by, in, in.CustomerID, in.Meta)
}
func (f *fakeDeps) ScheduleGreetingCampaign(_ context.Context, by graphql.Actor, in graphql.ScheduleGreetingCampaignInput) (graphql.CampaignResult, error) {
	if err := f.record("ScheduleGreetingCampaign", by, in); err != nil {
		return graphql.CampaignResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := graphql.CampaignView{ID: "g-new", Name: in.Name, Occasion: in.Occasion, Date: in.Date, SendAtLocal: in.SendAtLocal, Status: "SCHEDULED",
		Audience: graphql.AudienceView{Stages: in.Audience.Stages, Tiers: in.Audience.Tiers, AccountManager: in.Audience.AccountManager,
			ExcludeConductFlagged: in.Audience.ExcludeConductFlagged}, CreatedBy: by.User}
	f.campaigns[c.ID] = c
	return graphql.CampaignResult{Campaign: c}, nil
}
func (f *fakeDeps) CancelGreetingCampaign(_ context.Context, by graphql.Actor, in graphql.CancelCampaignInput) (graphql.CampaignResult, error) {
	if err := f.record("CancelGreetingCampaign", by, in); err != nil {
		return graphql.CampaignResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.campaigns[in.CampaignID]
	if !ok {
		return graphql.CampaignResult{}, notFound("campaign", in.CampaignID)
	}
	c.Status = "CANCELLED"
	f.campaigns[c.ID] = c
	return graphql.CampaignResult{Campaign: c}, nil
}
func (f *fakeDeps) EraseCustomer(_ context.Context, by graphql.Actor, in graphql.EraseCustomerInput) (graphql.CustomerResult, error) {
	if err := f.record("EraseCustomer", by, in); err != nil {
		return graphql.CustomerResult{}, err
	}
	r, err := f.touch(in.CustomerID, graphql.Meta{})
	if err != nil {
		return r, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.customers[in.CustomerID]
	c.Name, c.Phone, c.Email, c.Birthday, c.Erased = nil, nil, nil, nil, true
	f.customers[in.CustomerID] = c
	r.Customer = c
	return r, nil
}

func (f *fakeDeps) callNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.calls))
	for i, c := range f.calls {
		out[i] = c.Name
	}
	return out
}
