package query

import (
	"cmp"
	"context"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/projections/churn"
	"github.com/kefu-crm/kefu/projections/complaints"
	"github.com/kefu-crm/kefu/projections/customers"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// Customer serves a customer now from the customer book, with the parts
// that cost a fold of the stream (stage, its history, loyalty) computed
// only when a resolver asks for them (CustomerView.Details); as of a past
// instant, the whole view is folded from the stream at once.
func (h Customers) Get(ctx context.Context, id string, asOf *time.Time) (Customer, error) {
	if asOf == nil {
		if c, ok := h.Customers.Get(id); ok {
			return h.liveCustomerView(h.survivor(c)), nil
		}
	}
	now := h.clock()
	t := now
	if asOf != nil {
		if asOf.After(now) {
			return Customer{}, &aggregate.InvalidInputError{Field: "asOf", Reason: "is in the future"}
		}
		t = *asOf
	}
	u, err := h.history(ctx, id, asOf)
	if err != nil {
		return Customer{}, err
	}
	sn, err := h.fold(id, u, asOf, t)
	if err != nil {
		return Customer{}, err
	}
	c, _ := sn.book.Get(id)
	if c.MergedInto != "" {
		// Merged by then: the customer is the survivor (as of then).
		return h.Get(ctx, c.MergedInto, asOf)
	}
	v := h.customerView(c, sn.stage.Stage, sn.stage.Since, sn.stage.Changes)
	v.Version = int(sn.version)
	v.Loyalty = h.loyaltyView(c, sn.compl.OfCustomer(id), sn.facts, t)
	if asOf != nil {
		at := *asOf
		v.AsOf = &at
	}
	return v, nil
}

// liveCustomerView maps the book's entry of a customer now and sets the
// loaders of the costly parts.
func (s *core) liveCustomerView(c customers.Customer) Customer {
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
	s  *core
	id string

	once sync.Once
	v    CustomerDetails
	err  error
}

func (d *lazyDetails) get(ctx context.Context) (CustomerDetails, error) {
	d.once.Do(func() { d.v, d.err = d.s.detailsNow(ctx, d.id) })
	return d.v, d.err
}

// detailsNow folds a customer's stream and evaluates their stage and
// loyalty at the clock's now.
func (s *core) detailsNow(ctx context.Context, id string) (CustomerDetails, error) {
	u, err := s.history(ctx, id, nil)
	if err != nil {
		return CustomerDetails{}, err
	}
	t := s.clock()
	sn, err := s.fold(id, u, nil, t)
	if err != nil {
		return CustomerDetails{}, err
	}
	c, _ := sn.book.Get(id)
	d := CustomerDetails{Stage: sn.stage.Stage.String(), StageSince: sn.stage.Since,
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
func (s *core) customerView(c customers.Customer, stage lifecycle.Stage, since time.Time, changes []lifecycle.StageChange) Customer {
	v := Customer{
		ID: c.ID, Tier: c.Tier.String(), Timezone: c.Timezone, Locale: c.Locale,
		MarketingConsent: c.MarketingConsent, Erased: c.Erased, ConductFlagged: c.ConductFlagged,
		RegisteredAt: c.RegisteredAt, Stage: stage.String(), StageSince: since,
		LastInboundAt: c.LastInboundAt, LastPurchaseAt: c.LastPurchaseAt, PurchaseCount: c.PurchaseCount,
		Version: int(c.Version), MergedFrom: c.MergedFrom,
	}
	if c.MergedInto != "" {
		into := c.MergedInto
		v.MergedInto = &into
	}
	if !c.Erased {
		v.Name, v.Phone, v.Email, v.WeChat = strPtr(c.Name), strPtr(c.Phone), strPtr(c.Email), strPtr(c.WeChat)
		if d, err := calendar.Parse(c.Birthday); err == nil {
			v.Birthday = &d
		}
	}
	v.Segment, v.AccountManager = strPtr(c.Segment), strPtr(c.AccountManager)
	for _, m := range c.LifetimeValue {
		v.LifetimeValue = append(v.LifetimeValue, Money{AmountMinor: m.AmountMinor, Currency: m.Currency})
	}
	v.StageHistory = stageHistory(changes)
	return v
}

// stageHistory maps lifecycle stage changes to their views.
func stageHistory(changes []lifecycle.StageChange) []StageChange {
	var out []StageChange
	for _, ch := range changes {
		sc := StageChange{To: ch.To.String(), At: ch.At, Reason: ch.Reason}
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
func (s *core) loyaltyView(c customers.Customer, cs []complaints.Complaint, facts []lifecycle.Fact, t time.Time) Loyalty {
	v := s.loyaltyScore(c, cs, facts, t)
	if p, ok := s.pAlive(facts, t); ok {
		v.PAlive = &p
	}
	return v
}

// loyaltyScore is loyaltyView without pAlive.
func (s *core) loyaltyScore(c customers.Customer, cs []complaints.Complaint, facts []lifecycle.Fact, t time.Time) Loyalty {
	rules, _ := s.cache.rules()
	sc := rules.ScoreAt(facts, t)
	v := Loyalty{Score: sc.Points, Level: sc.Level.String(), Referrals: c.Referrals}
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
func (s *core) purchasesOf(facts []lifecycle.Fact, t time.Time) lifecycle.Purchases {
	var st lifecycle.State
	_, rules := s.cache.rules()
	for _, f := range facts {
		if !f.At.After(t) {
			st.Apply(rules, f, nil)
		}
	}
	return st.Purchases()
}

func (s *core) pAlive(facts []lifecycle.Fact, t time.Time) (float64, bool) {
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

func (h Customers) ExpectedPurchases(ctx context.Context, id string, asOf *time.Time, horizonDays int) (*float64, error) {
	if horizonDays < 0 {
		return nil, &aggregate.InvalidInputError{Field: "horizonDays", Reason: "is negative"}
	}
	m, _ := h.Churn.Model()
	if m == nil {
		return nil, nil
	}
	u, err := h.history(ctx, id, asOf)
	if err != nil {
		return nil, err
	}
	t := h.clock()
	if asOf != nil {
		t = *asOf
	}
	ph := h.purchasesOf(u.facts(), t)
	if ph.Days == 0 {
		return nil, nil
	}
	x := m.ExpectedPurchases(churn.SummaryOf(ph, t), float64(horizonDays))
	if math.IsNaN(x) {
		return nil, nil
	}
	return &x, nil
}

// NextPurchase is the customer's expected next purchase per item
// category as of asOf (nil: now), soonest first; empty without purchases
// of an item category or while no category has enough repeat buyers for a
// prior.
func (h Customers) NextPurchase(ctx context.Context, id string, asOf *time.Time) ([]NextPurchase, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, ok := h.Customers.Get(id); !ok {
		return nil, notFound("customer", id)
	}
	t := h.clock()
	if asOf != nil {
		t = *asOf
	}
	ps := h.Replenish.Predict(id, t)
	out := make([]NextPurchase, len(ps))
	for i, p := range ps {
		out[i] = NextPurchase{Category: p.Category, Item: p.Item, ExpectedAt: p.ExpectedAt, Interval: p.Interval,
			Confidence: p.Confidence, Purchases: p.Purchases, LastPurchaseAt: p.LastPurchaseAt}
	}
	return out, nil
}

// dueForReplenishment reports whether any of the customer's categories is
// expected on or before by (UTC dates) as of now.
func (s *core) dueForReplenishment(id string, by calendar.Date, now time.Time) bool {
	for _, p := range s.Replenish.Predict(id, now) {
		if !calendar.DateOf(p.ExpectedAt.UTC()).After(by) {
			return true
		}
	}
	return false
}

func (h Customers) List(ctx context.Context, q CustomerFilter, p Page) (Connection[Customer], error) {
	s := h.core
	var stages []lifecycle.Stage
	for _, name := range q.Stages {
		st, err := lifecycle.ParseStage(name)
		if err != nil {
			return Connection[Customer]{}, &aggregate.InvalidInputError{Field: "filter.stages", Reason: err.Error()}
		}
		stages = append(stages, st)
	}
	var ids []string
	// An exact phone, e-mail or WeChat ID is looked up in the blind index
	// (O(1), and however the number was written); anything else is
	// matched as text over the book.
	byIndex := false
	if q.Search != nil && s.dupes != nil {
		if found := s.dupes.Lookup(*q.Search); len(found) > 0 {
			ids, byIndex = found, true
			q.Search = nil
		}
	}
	switch {
	case byIndex:
	case q.Search != nil:
		// Text over the book; a merged customer's name or details find
		// its survivor, which stands for it.
		found := map[string]bool{}
		for _, id := range s.Customers.IDs() {
			if c, ok := s.Customers.Get(id); ok && customers.Matches(&c, *q.Search) {
				found[s.survivor(c).ID] = true
			}
		}
		ids, q.Search = slices.Sorted(maps.Keys(found)), nil
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
		return Connection[Customer]{}, err
	}
	var out Connection[Customer]
	for _, id := range ids {
		c, ok := s.Customers.Get(id)
		if !ok || !h.matches(c, q, stages) {
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
		v, err := h.Get(ctx, id, nil)
		if err != nil {
			return Connection[Customer]{}, err
		}
		out.Edges = append(out.Edges, Edge[Customer]{Cursor: encodeCursor(id), Node: v})
	}
	return out, nil
}

func (h Customers) matches(c customers.Customer, q CustomerFilter, stages []lifecycle.Stage) bool {
	s := h.core
	if c.MergedInto != "" {
		return false // the book lists the survivor
	}
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
	if q.DueForReplenishmentBy != nil && !s.dueForReplenishment(c.ID, *q.DueForReplenishmentBy, s.clock()) {
		return false
	}
	return true
}

func (h Customers) Greetings(ctx context.Context, id string, asOf *time.Time) ([]Greeting, error) {
	var c customers.Customer
	if asOf == nil {
		var ok bool
		if c, ok = h.Customers.Get(id); !ok {
			return nil, notFound("customer", id)
		}
	} else {
		u, err := h.history(ctx, id, asOf)
		if err != nil {
			return nil, err
		}
		sn, err := h.fold(id, u, asOf, *asOf)
		if err != nil {
			return nil, err
		}
		c, _ = sn.book.Get(id)
	}
	out := make([]Greeting, 0, len(c.Greetings))
	for _, g := range c.Greetings {
		v := Greeting{CampaignID: strPtr(g.CampaignID), Occasion: g.Occasion, Channel: g.Channel.String(), Status: g.Status, Reason: strPtr(g.Reason), At: g.At}
		if v.Channel == "" { // a skip recorded before skips kept their channel
			v.Channel = customer.ChannelSMS.String()
		}
		out = append(out, v)
	}
	return out, nil
}

// Timeline pages through a customer's events; the cursor is the revision.
// A survivor's timeline interleaves the merged customers' events with its
// own in global order (TimelineEntry.CustomerID says whose stream each is
// from); its cursor is the global position.
func (h Customers) Timeline(ctx context.Context, id string, q TimelineFilter, p Page) (Connection[TimelineEntry], error) {
	u, err := h.history(ctx, id, q.AsOf)
	if err != nil {
		return Connection[TimelineEntry]{}, err
	}
	// A customer's own timeline is its stream, in order (cursor: the
	// revision). A survivor's interleaves every stream merged into it in
	// time order — occurredAt, then position — whatever order they were
	// recorded in (an import, a seed); its cursor is that pair.
	after, hasAfter := timelineKey{}, false
	if p.After != "" {
		c, err := decodeCursor(p.After)
		if err != nil {
			return Connection[TimelineEntry]{}, err
		}
		if after, err = parseTimelineKey(c, u.merged); err != nil {
			return Connection[TimelineEntry]{}, err
		}
		hasAfter = true
	}
	refs := u.refs
	if u.merged {
		refs = slices.Clone(refs)
		slices.SortStableFunc(refs, func(a, b eventRef) int { return keyOf(a.decoded(), true).compare(keyOf(b.decoded(), true)) })
	}
	n := len(refs)
	var out Connection[TimelineEntry]
	for k := range n {
		i := k
		if !q.OldestFirst {
			i = n - 1 - k // newest first; the cached slice is shared, never reversed
		}
		r := refs[i]
		d := r.decoded()
		if (q.AsOf != nil && d.Event.OccurredAt.After(*q.AsOf)) || (len(q.Types) > 0 && !slices.Contains(q.Types, d.Event.Type)) {
			continue
		}
		out.TotalCount++
		key := keyOf(d, u.merged)
		if hasAfter && ((q.OldestFirst && key.compare(after) <= 0) || (!q.OldestFirst && key.compare(after) >= 0)) {
			continue
		}
		if len(out.Edges) == p.First {
			out.HasNextPage = true
			continue
		}
		part, err := r.e.part(r.i)
		if err != nil {
			return Connection[TimelineEntry]{}, err
		}
		from, _ := strings.CutPrefix(d.Event.StreamID, customer.StreamCategory+"-")
		out.Edges = append(out.Edges, Edge[TimelineEntry]{
			Cursor: encodeCursor(key.String()),
			Node: TimelineEntry{
				CustomerID: from, EventID: d.Event.ID.String(), Type: d.Event.Type, Revision: int(d.Event.Revision),
				Position: strconv.FormatUint(uint64(d.Event.Position), 10), OccurredAt: d.Event.OccurredAt,
				RecordedAt: d.Event.RecordedAt, Summary: part.full, SafeSummary: part.safe, Data: part.data,
				Personal: h.codec.PersonalKeys(d.Event.Type),
			},
		})
	}
	return out, nil
}

// timelineKey orders a timeline: by revision in one stream; by (occurred
// at, position) in a survivor's union.
type timelineKey struct {
	at  int64 // occurredAt, Unix ns; 0 in one stream
	seq int64 // revision in one stream, position in a union
	// union: the key of a union timeline ("at:seq" in its cursor).
	union bool
}

func keyOf(d codec.Decoded, union bool) timelineKey {
	if !union {
		return timelineKey{seq: int64(d.Event.Revision)}
	}
	return timelineKey{at: d.Event.OccurredAt.UnixNano(), seq: int64(d.Event.Position), union: true}
}

func (k timelineKey) compare(o timelineKey) int {
	if c := cmp.Compare(k.at, o.at); c != 0 {
		return c
	}
	return cmp.Compare(k.seq, o.seq)
}

func (k timelineKey) String() string {
	if !k.union {
		return strconv.FormatInt(k.seq, 10)
	}
	return strconv.FormatInt(k.at, 10) + ":" + strconv.FormatInt(k.seq, 10)
}

// parseTimelineKey reads a cursor's key; a cursor of the other kind (a
// page of a customer's own timeline read on after a merge, or back) is
// refused as not this timeline's.
func parseTimelineKey(c string, union bool) (timelineKey, error) {
	at, seq, isUnion := strings.Cut(c, ":")
	if isUnion != union {
		return timelineKey{}, badCursor()
	}
	k := timelineKey{union: union}
	var err error
	if !union {
		if k.seq, err = strconv.ParseInt(c, 10, 64); err != nil || k.seq < 0 {
			return timelineKey{}, badCursor()
		}
		return k, nil
	}
	if k.at, err = strconv.ParseInt(at, 10, 64); err != nil {
		return timelineKey{}, badCursor()
	}
	if k.seq, err = strconv.ParseInt(seq, 10, 64); err != nil || k.seq < 0 {
		return timelineKey{}, badCursor()
	}
	return k, nil
}
