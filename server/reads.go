package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/graphql"
	"github.com/kefu-crm/kefu/projections/churn"
	"github.com/kefu-crm/kefu/projections/complaints"
	"github.com/kefu-crm/kefu/projections/customers"
	"github.com/kefu-crm/kefu/projections/followups"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// reads serves the API's queries from the read models; "as of" questions
// are answered by folding the customer's own stream up to that instant
// through the same read-model code, so the two paths cannot disagree.
type reads struct{ s *Server }

// stream reads and decodes a customer's whole stream (personal data opened
// or marked erased), through the read cache. A customer without events is
// NOT_FOUND. The slice is shared: callers must not modify it.
func (s *Server) stream(ctx context.Context, id string) ([]codec.Decoded, error) {
	e, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return e.evs, nil
}

// snapshot is one customer folded from their stream up to an instant.
type snapshot struct {
	book    *customers.Model
	compl   *complaints.Model
	facts   []lifecycle.Fact
	stage   lifecycle.Result
	version uint64
}

// fold folds a customer's decoded stream, keeping events that occurred at
// or before asOf (all when asOf is nil), and evaluates the lifecycle at t.
func (s *Server) fold(id string, evs []codec.Decoded, asOf *time.Time, t time.Time) (*snapshot, error) {
	sn := &snapshot{book: customers.New(), compl: complaints.New()}
	for _, d := range evs {
		e, ok := d.Payload.(customer.Event)
		if !ok || (asOf != nil && d.Event.OccurredAt.After(*asOf)) {
			continue
		}
		sn.book.Apply(d.Event, e)
		sn.compl.Apply(d.Event, e)
		sn.facts = append(sn.facts, lifecycle.Fact{At: d.Event.OccurredAt, Event: e})
		sn.version = d.Event.Revision
	}
	if len(sn.facts) == 0 {
		return nil, notFound("customer", id)
	}
	res, err := lifecycle.StageAt(sn.facts, t, s.policy, s.Churn.View())
	if err != nil {
		return nil, err
	}
	sn.stage = res
	return sn, nil
}

// Customer serves a customer now from the customer book, with the parts
// that cost a fold of the stream (stage, its history, loyalty) computed
// only when a resolver asks for them (CustomerView.Details); as of a past
// instant, the whole view is folded from the stream at once.
func (r reads) Customer(ctx context.Context, id string, asOf *time.Time) (graphql.CustomerView, error) {
	if asOf == nil {
		if c, ok := r.s.Customers.Get(id); ok {
			return r.s.liveCustomerView(c), nil
		}
	}
	evs, err := r.s.stream(ctx, id)
	if err != nil {
		return graphql.CustomerView{}, err
	}
	now := r.s.clock()
	t := now
	if asOf != nil {
		if asOf.After(now) {
			return graphql.CustomerView{}, apiErr(&customer.InvalidInputError{Field: "asOf", Reason: "is in the future"})
		}
		t = *asOf
	}
	sn, err := r.s.fold(id, evs, asOf, t)
	if err != nil {
		return graphql.CustomerView{}, err
	}
	c, _ := sn.book.Get(id)
	v := r.s.customerView(c, sn.stage.Stage, sn.stage.Since, sn.stage.Changes)
	v.Version = int(sn.version)
	v.Loyalty = r.s.loyaltyView(c, sn.compl.OfCustomer(id), sn.facts, t)
	if asOf != nil {
		at := *asOf
		v.AsOf = &at
	}
	return v, nil
}

// liveCustomerView maps the book's entry of a customer now and sets the
// loaders of the costly parts.
func (s *Server) liveCustomerView(c customers.Customer) graphql.CustomerView {
	v := s.customerView(c, lifecycle.StageNone, time.Time{}, nil)
	v.Stage = ""
	d := &lazyDetails{s: s, id: c.ID}
	v.Details = d.get
	return v
}

// lazyDetails computes a customer's stage, stage history and loyalty now,
// once, on first use: StageAt and the loyalty score over the customer's
// stream (through the read cache), as the eager path does. pAlive is
// deferred further, to when it is selected.
type lazyDetails struct {
	s  *Server
	id string

	once sync.Once
	v    graphql.CustomerDetails
	err  error
}

func (d *lazyDetails) get(ctx context.Context) (graphql.CustomerDetails, error) {
	d.once.Do(func() { d.v, d.err = d.s.detailsNow(ctx, d.id) })
	return d.v, d.err
}

// detailsNow folds a customer's stream and evaluates their stage and
// loyalty at the clock's now.
func (s *Server) detailsNow(ctx context.Context, id string) (graphql.CustomerDetails, error) {
	evs, err := s.stream(ctx, id)
	if err != nil {
		return graphql.CustomerDetails{}, err
	}
	t := s.clock()
	sn, err := s.fold(id, evs, nil, t)
	if err != nil {
		return graphql.CustomerDetails{}, err
	}
	c, _ := sn.book.Get(id)
	d := graphql.CustomerDetails{Stage: sn.stage.Stage.String(), StageSince: sn.stage.Since,
		StageHistory: stageHistory(sn.stage.Changes)}
	d.Loyalty = s.loyaltyScore(c, sn.compl.OfCustomer(id), sn.facts, t)
	facts := sn.facts
	d.Loyalty.PAliveFn = func(context.Context) (*float64, error) {
		if p, ok := s.pAlive(facts, t); ok {
			return &p, nil
		}
		return nil, nil
	}
	return d, nil
}

// customerView maps the book's entry; stage history is given by the
// caller (from StageAt over the stream).
func (s *Server) customerView(c customers.Customer, stage lifecycle.Stage, since time.Time, changes []lifecycle.StageChange) graphql.CustomerView {
	v := graphql.CustomerView{
		ID: c.ID, Tier: c.Tier.String(), Timezone: c.Timezone, Locale: c.Locale,
		MarketingConsent: c.MarketingConsent, Erased: c.Erased, ConductFlagged: c.ConductFlagged,
		RegisteredAt: c.RegisteredAt, Stage: stage.String(), StageSince: since,
		LastInboundAt: c.LastInboundAt, LastPurchaseAt: c.LastPurchaseAt, PurchaseCount: c.PurchaseCount,
		Version: int(c.Version),
	}
	if !c.Erased {
		v.Name, v.Phone, v.Email = strPtr(c.Name), strPtr(c.Phone), strPtr(c.Email)
		if d, err := calendar.Parse(c.Birthday); err == nil {
			v.Birthday = &d
		}
	}
	v.Segment, v.AccountManager = strPtr(c.Segment), strPtr(c.AccountManager)
	for _, m := range c.LifetimeValue {
		v.LifetimeValue = append(v.LifetimeValue, graphql.Money{AmountMinor: m.AmountMinor, Currency: m.Currency})
	}
	v.StageHistory = stageHistory(changes)
	return v
}

// stageHistory maps lifecycle stage changes to their views.
func stageHistory(changes []lifecycle.StageChange) []graphql.StageChangeView {
	var out []graphql.StageChangeView
	for _, ch := range changes {
		sc := graphql.StageChangeView{To: ch.To.String(), At: ch.At, Reason: ch.Reason}
		if ch.From != lifecycle.StageNone {
			f := ch.From.String()
			sc.From = &f
		}
		out = append(out, sc)
	}
	return out
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// loyaltyView scores a customer at t from their facts (the same fold the
// live loyalty read model runs).
func (s *Server) loyaltyView(c customers.Customer, cs []complaints.Complaint, facts []lifecycle.Fact, t time.Time) graphql.LoyaltyView {
	v := s.loyaltyScore(c, cs, facts, t)
	if p, ok := s.pAlive(facts, t); ok {
		v.PAlive = &p
	}
	return v
}

// loyaltyScore is loyaltyView without pAlive.
func (s *Server) loyaltyScore(c customers.Customer, cs []complaints.Complaint, facts []lifecycle.Fact, t time.Time) graphql.LoyaltyView {
	rules, _ := s.cache.rules()
	sc := rules.ScoreAt(facts, t)
	v := graphql.LoyaltyView{Score: sc.Points, Level: sc.Level.String(), Referrals: c.Referrals}
	if c.CSATCount > 0 {
		avg := float64(c.CSATSum) / float64(c.CSATCount)
		v.CSATAverage = &avg
	}
	for _, k := range cs {
		if k.Outcome != nil && *k.Outcome == customer.Satisfied {
			v.RecoveredComplaints++
		}
	}
	return v
}

// purchasesOf reduces facts up to t to the churn model's inputs, counting
// distinct UTC purchase days like the lifecycle does.
func (s *Server) purchasesOf(facts []lifecycle.Fact, t time.Time) lifecycle.Purchases {
	var st lifecycle.State
	_, rules := s.cache.rules()
	for _, f := range facts {
		if !f.At.After(t) {
			st.Apply(rules, f, nil)
		}
	}
	return st.Purchases()
}

func (s *Server) pAlive(facts []lifecycle.Fact, t time.Time) (float64, bool) {
	m, _ := s.Churn.Model()
	if m == nil {
		return 0, false
	}
	h := s.purchasesOf(facts, t)
	if h.Days == 0 {
		return 0, false
	}
	p := m.PAlive(churn.SummaryOf(h, t))
	return p, !math.IsNaN(p)
}

func (r reads) ExpectedPurchases(ctx context.Context, id string, asOf *time.Time, horizonDays int) (*float64, error) {
	if horizonDays < 0 {
		return nil, apiErr(&customer.InvalidInputError{Field: "horizonDays", Reason: "is negative"})
	}
	m, _ := r.s.Churn.Model()
	if m == nil {
		return nil, nil
	}
	e, err := r.s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	t := r.s.clock()
	if asOf != nil {
		t = *asOf
	}
	h := r.s.purchasesOf(e.facts, t)
	if h.Days == 0 {
		return nil, nil
	}
	x := m.ExpectedPurchases(churn.SummaryOf(h, t), float64(horizonDays))
	if math.IsNaN(x) {
		return nil, nil
	}
	return &x, nil
}

func (r reads) Customers(ctx context.Context, q graphql.CustomerQuery, p graphql.Page) (graphql.Connection[graphql.CustomerView], error) {
	s := r.s
	var stages []lifecycle.Stage
	for _, name := range q.Stages {
		st, err := lifecycle.ParseStage(name)
		if err != nil {
			return graphql.Connection[graphql.CustomerView]{}, apiErr(&customer.InvalidInputError{Field: "filter.stages", Reason: err.Error()})
		}
		stages = append(stages, st)
	}
	var ids []string
	switch {
	case q.AccountManager != nil:
		ids = s.Customers.OfAccountManager(*q.AccountManager)
	case len(stages) > 0:
		for _, st := range slices.Compact(slices.Sorted(slices.Values(stages))) {
			ids = append(ids, s.Lifecycle.InStage(st)...)
		}
		slices.Sort(ids)
	default:
		ids = s.Customers.IDs()
	}
	after, err := decodeCursor(p.After)
	if err != nil {
		return graphql.Connection[graphql.CustomerView]{}, err
	}
	var out graphql.Connection[graphql.CustomerView]
	for _, id := range ids {
		c, ok := s.Customers.Get(id)
		if !ok || !r.matches(c, q, stages) {
			continue
		}
		out.TotalCount++
		if after != "" && id <= after {
			continue
		}
		if len(out.Edges) == p.First {
			out.HasNextPage = true
			continue
		}
		v, err := r.Customer(ctx, id, nil)
		if err != nil {
			return graphql.Connection[graphql.CustomerView]{}, err
		}
		out.Edges = append(out.Edges, graphql.Edge[graphql.CustomerView]{Cursor: encodeCursor(id), Node: v})
	}
	return out, nil
}

func (r reads) matches(c customers.Customer, q graphql.CustomerQuery, stages []lifecycle.Stage) bool {
	s := r.s
	if len(q.Tiers) > 0 && !slices.Contains(q.Tiers, c.Tier.String()) {
		return false
	}
	if q.AccountManager != nil && c.AccountManager != *q.AccountManager {
		return false
	}
	if len(stages) > 0 {
		st, ok := s.Lifecycle.Get(c.ID)
		if !ok || !slices.Contains(stages, st.Stage) {
			return false
		}
	}
	if q.MinLoyaltyScore != nil {
		sc, ok := s.Loyalty.Get(c.ID)
		if !ok || sc.Points < *q.MinLoyaltyScore {
			return false
		}
	}
	if q.HasOpenComplaint != nil {
		open := false
		for _, k := range s.Complaints.OfCustomer(c.ID) {
			if !k.Status.Closed() {
				open = true
				break
			}
		}
		if open != *q.HasOpenComplaint {
			return false
		}
	}
	if q.Search != nil && !customers.Matches(&c, *q.Search) {
		return false
	}
	return true
}

func (r reads) Greetings(ctx context.Context, id string, asOf *time.Time) ([]graphql.GreetingView, error) {
	var c customers.Customer
	if asOf == nil {
		var ok bool
		if c, ok = r.s.Customers.Get(id); !ok {
			return nil, notFound("customer", id)
		}
	} else {
		evs, err := r.s.stream(ctx, id)
		if err != nil {
			return nil, err
		}
		sn, err := r.s.fold(id, evs, asOf, *asOf)
		if err != nil {
			return nil, err
		}
		c, _ = sn.book.Get(id)
	}
	out := make([]graphql.GreetingView, 0, len(c.Greetings))
	for _, g := range c.Greetings {
		v := graphql.GreetingView{CampaignID: strPtr(g.CampaignID), Occasion: g.Occasion, Channel: g.Channel.String(), Status: g.Status, Reason: strPtr(g.Reason), At: g.At}
		if v.Channel == "" { // a skip recorded before skips kept their channel
			v.Channel = customer.ChannelSMS.String()
		}
		out = append(out, v)
	}
	return out, nil
}

// Timeline pages through a customer's events; the cursor is the revision.
func (r reads) Timeline(ctx context.Context, id string, q graphql.TimelineQuery, p graphql.Page) (graphql.Connection[graphql.TimelineEntryView], error) {
	e, err := r.s.load(ctx, id)
	if err != nil {
		return graphql.Connection[graphql.TimelineEntryView]{}, err
	}
	after := int64(-1)
	if p.After != "" {
		c, err := decodeCursor(p.After)
		if err != nil {
			return graphql.Connection[graphql.TimelineEntryView]{}, err
		}
		if after, err = strconv.ParseInt(c, 10, 64); err != nil {
			return graphql.Connection[graphql.TimelineEntryView]{}, badCursor()
		}
	}
	n := len(e.evs)
	var out graphql.Connection[graphql.TimelineEntryView]
	for k := range n {
		i := k
		if !q.OldestFirst {
			i = n - 1 - k // newest first; the cached slice is shared, never reversed
		}
		d := e.evs[i]
		if (q.AsOf != nil && d.Event.OccurredAt.After(*q.AsOf)) || (len(q.Types) > 0 && !slices.Contains(q.Types, d.Event.Type)) {
			continue
		}
		out.TotalCount++
		rev := int64(d.Event.Revision)
		if after >= 0 && ((q.OldestFirst && rev <= after) || (!q.OldestFirst && rev >= after)) {
			continue
		}
		if len(out.Edges) == p.First {
			out.HasNextPage = true
			continue
		}
		part, err := e.part(i)
		if err != nil {
			return graphql.Connection[graphql.TimelineEntryView]{}, err
		}
		out.Edges = append(out.Edges, graphql.Edge[graphql.TimelineEntryView]{
			Cursor: encodeCursor(strconv.FormatInt(rev, 10)),
			Node: graphql.TimelineEntryView{
				EventID: d.Event.ID.String(), Type: d.Event.Type, Revision: int(d.Event.Revision),
				Position: strconv.FormatUint(uint64(d.Event.Position), 10), OccurredAt: d.Event.OccurredAt,
				RecordedAt: d.Event.RecordedAt, Summary: part.full, SafeSummary: part.safe, Data: part.data,
			},
		})
	}
	return out, nil
}

// Cursors are opaque: base64 of an ID, a revision or a position.
func encodeCursor(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 {
		return "", badCursor()
	}
	return string(b), nil
}

func badCursor() error {
	return apiErr(&customer.InvalidInputError{Field: "after", Reason: "is not a cursor this API returned"})
}

// ---- complaints ----

// complaintView builds the API's complaint. streamVersion is the revision
// of the customer stream that holds it, as the reader knows it: that is
// what a client passes back as expectedVersion, not the revision of the
// complaint's own last event (any later event on the customer made that
// number stale, and every write with it a CONFLICT).
func complaintView(k complaints.Complaint, streamVersion uint64, now time.Time) graphql.ComplaintView {
	v := graphql.ComplaintView{
		ID: k.ID, CustomerID: k.CustomerID, Status: string(k.Status), Severity: k.Severity.String(),
		Category: k.Category, Channel: k.Channel.String(), Owner: k.Owner, FiledAt: k.FiledAt,
		ReplyDueAt: k.ReplyDueAt, ReplyDueProvisional: k.ReplyDueProvisional, AcknowledgedAt: k.AcknowledgedAt, Overdue: k.Overdue(now),
		EscalatedTo: strPtr(k.EscalatedTo), PromisedReplyBy: k.PromisedReplyBy,
		ResolutionOptions: slices.Clone(k.ResolutionOptions), AcceptedOption: k.AcceptedOption,
		ResolvedAt: k.ResolvedAt, DeclineReason: strPtr(k.DeclineReason), RepeatContacts: k.RepeatContacts,
		IncidentReportFiled: k.IncidentReport, Version: int(max(streamVersion, k.Version)), Description: strPtr(k.Description),
	}
	if v.ResolutionOptions == nil {
		v.ResolutionOptions = []string{}
	}
	for _, st := range k.RecoverySteps {
		v.RecoverySteps = append(v.RecoverySteps, graphql.RecoveryStepView{Step: st.Step.String(), At: st.At, By: st.By, Note: strPtr(st.Note)})
	}
	for _, m := range k.Compensation {
		v.Compensation = append(v.Compensation, graphql.Money{AmountMinor: m.AmountMinor, Currency: m.Currency})
	}
	if k.Outcome != nil {
		o := k.Outcome.String()
		v.Outcome = &o
	}
	return v
}

func (r reads) Complaint(ctx context.Context, id string) (graphql.ComplaintView, error) {
	k, ok := r.s.Complaints.Get(id)
	if !ok {
		return graphql.ComplaintView{}, notFound("complaint", id)
	}
	return complaintView(k, r.s.streamVersion(k.CustomerID), r.s.clock()), nil
}

// streamVersion is the revision of the customer's stream as the customers
// read model knows it.
func (s *Server) streamVersion(customerID string) uint64 {
	c, _ := s.Customers.Get(customerID)
	return c.Version
}

func (r reads) Complaints(ctx context.Context, q graphql.ComplaintQuery, p graphql.Page) (graphql.Connection[graphql.ComplaintView], error) {
	now := r.s.clock()
	f := complaints.Filter{CustomerID: q.CustomerID, Overdue: q.Overdue, FiledFrom: q.FiledFrom, FiledTo: q.FiledTo, Now: now}
	for _, st := range q.Statuses {
		f.Statuses = append(f.Statuses, complaints.Status(st))
	}
	if q.Severity != nil {
		sev, err := customer.ParseSeverity(*q.Severity)
		if err != nil {
			return graphql.Connection[graphql.ComplaintView]{}, apiErr(err)
		}
		f.Severity = &sev
	}
	if q.Owner != nil {
		f.Owner = *q.Owner
	}
	model, version := r.s.Complaints, r.s.streamVersion
	if q.AsOf != nil && q.CustomerID != "" {
		evs, err := r.s.stream(ctx, q.CustomerID)
		if err != nil {
			return graphql.Connection[graphql.ComplaintView]{}, err
		}
		sn, err := r.s.fold(q.CustomerID, evs, q.AsOf, *q.AsOf)
		if err != nil {
			return graphql.Connection[graphql.ComplaintView]{}, err
		}
		model, f.Now, now = sn.compl, *q.AsOf, *q.AsOf
		version = func(string) uint64 { return sn.version }
	}
	after, err := decodeCursor(p.After)
	if err != nil {
		return graphql.Connection[graphql.ComplaintView]{}, err
	}
	page, err := model.List(f, after, p.First)
	if err != nil {
		return graphql.Connection[graphql.ComplaintView]{}, badCursor()
	}
	out := graphql.Connection[graphql.ComplaintView]{TotalCount: page.Total, HasNextPage: page.HasMore}
	for i, k := range page.Items {
		out.Edges = append(out.Edges, graphql.Edge[graphql.ComplaintView]{Cursor: encodeCursor(page.Cursors[i]), Node: complaintView(k, version(k.CustomerID), now)})
	}
	return out, nil
}

// ---- follow-ups ----

func followUpView(f followups.FollowUp) graphql.FollowUpView {
	v := graphql.FollowUpView{ID: f.ID, CustomerID: f.CustomerID, ComplaintID: strPtr(f.ComplaintID), Reason: f.Reason.String(),
		Owner: f.Owner, DueAt: f.DueAt, Status: string(f.Status), Note: strPtr(f.Note)}
	if f.Outcome != nil {
		o := f.Outcome.String()
		v.Outcome = &o
	}
	return v
}

func (r reads) FollowUps(ctx context.Context, q graphql.FollowUpQuery, p graphql.Page) (graphql.Connection[graphql.FollowUpView], error) {
	f := followups.Filter{CustomerID: q.CustomerID, DueBefore: q.DueBefore}
	if q.Owner != nil {
		f.Owner = *q.Owner
	}
	if q.Status != nil {
		f.Status = followups.Status(*q.Status)
	}
	for _, reason := range q.Reasons {
		rr, err := customer.ParseFollowUpReason(reason)
		if err != nil {
			return graphql.Connection[graphql.FollowUpView]{}, apiErr(err)
		}
		f.Reasons = append(f.Reasons, rr)
	}
	page, err := r.s.FollowUps.List(f, p.After, p.First)
	if err != nil {
		return graphql.Connection[graphql.FollowUpView]{}, badCursor()
	}
	out := graphql.Connection[graphql.FollowUpView]{TotalCount: page.Total, HasNextPage: page.HasMore}
	for i, fu := range page.Items {
		cursor := page.EndCursor
		if i < len(page.Items)-1 {
			cursor = followups.CursorOf(fu)
		}
		out.Edges = append(out.Edges, graphql.Edge[graphql.FollowUpView]{Cursor: cursor, Node: followUpView(fu)})
	}
	return out, nil
}

// ---- calendar ----

func (r reads) Holidays(ctx context.Context, cal string, from, to calendar.Date) ([]graphql.HolidayView, error) {
	hs, err := calendar.Holidays(cal, from, to)
	if err != nil {
		return nil, apiErr(err)
	}
	out := make([]graphql.HolidayView, len(hs))
	for i, h := range hs {
		out[i] = graphql.HolidayView{Calendar: h.Calendar, Key: h.Key, Name: h.Name, LocalName: strPtr(h.LocalName), Date: h.Date}
	}
	return out, nil
}

// ---- events ----

// Events pages through the global log; the cursor is the position.
func (r reads) Events(ctx context.Context, q graphql.EventQuery, p graphql.Page) (graphql.Connection[graphql.EventView], error) {
	after := eventstore.Start
	if p.After != "" {
		c, err := decodeCursor(p.After)
		if err != nil {
			return graphql.Connection[graphql.EventView]{}, err
		}
		n, err := strconv.ParseUint(c, 10, 64)
		if err != nil {
			return graphql.Connection[graphql.EventView]{}, badCursor()
		}
		after = eventstore.Position(n)
	}
	var out graphql.Connection[graphql.EventView]
	emit := func(ev eventstore.Event) error {
		if (q.From != nil && ev.OccurredAt.Before(*q.From)) || (q.To != nil && !ev.OccurredAt.Before(*q.To)) ||
			(len(q.Types) > 0 && !slices.Contains(q.Types, ev.Type)) {
			return nil
		}
		if len(out.Edges) == p.First {
			out.HasNextPage = true
			return eventstore.ErrStop
		}
		d, err := r.s.dir.Codec.Decode(ctx, ev)
		if err != nil {
			return err
		}
		data, err := json.Marshal(d.Payload)
		if err != nil {
			return err
		}
		meta := ev.Metadata
		if len(meta) == 0 {
			meta = json.RawMessage("{}")
		}
		out.Edges = append(out.Edges, graphql.Edge[graphql.EventView]{
			Cursor: encodeCursor(strconv.FormatUint(uint64(ev.Position), 10)),
			Node: graphql.EventView{EventID: ev.ID.String(), StreamID: ev.StreamID, Type: ev.Type, Revision: int(ev.Revision),
				Position: strconv.FormatUint(uint64(ev.Position), 10), OccurredAt: ev.OccurredAt, RecordedAt: ev.RecordedAt,
				Data: data, Metadata: meta},
		})
		return nil
	}
	if q.StreamID != nil {
		evs, err := r.s.dir.Store.ReadStream(ctx, *q.StreamID, eventstore.StreamRead{})
		if errors.Is(err, eventstore.ErrStreamNotFound) || errors.Is(err, eventstore.ErrInvalidStreamID) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		for _, ev := range evs {
			if ev.Position <= after {
				continue
			}
			if err := emit(ev); errors.Is(err, eventstore.ErrStop) {
				break
			} else if err != nil {
				return out, err
			}
		}
		return out, nil
	}
	err := r.s.dir.Store.ReadAll(ctx, after, emit)
	return out, err
}

// ---- analytics ----

func (r reads) ChurnModel(ctx context.Context, asOf *time.Time, unit string) (graphql.ChurnModelView, error) {
	now := r.s.clock()
	t := now
	if asOf != nil {
		if asOf.After(now) {
			return graphql.ChurnModelView{}, apiErr(&customer.InvalidInputError{Field: "asOf", Reason: "is in the future"})
		}
		t = *asOf
	}
	m, err := r.s.PurchaseDays.FitAt(ctx, t, unit)
	switch {
	case errors.Is(err, churn.ErrInvalidUnit):
		return graphql.ChurnModelView{}, apiErr(&customer.InvalidInputError{Field: "unit", Reason: err.Error()})
	case errors.Is(err, churn.ErrNoModel):
		return graphql.ChurnModelView{}, apiErr(&customer.PreconditionError{Action: "fit the churn model", Reason: err.Error()})
	case err != nil:
		return graphql.ChurnModelView{}, err
	}
	return graphql.ChurnModelView{Unit: m.Unit.String(), AsOf: m.AsOf, Customers: m.Customers, R: m.R, Alpha: m.Alpha, A: m.A, B: m.B, LogLikelihood: m.LogLikelihood}, nil
}

// loadLocation loads an IANA zone (cached by the time package).
func loadLocation(name string) (*time.Location, error) { return time.LoadLocation(name) }
