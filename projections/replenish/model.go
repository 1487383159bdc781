package replenish

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unique"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
)

// Name is the read model's permanent projection name.
const Name = "replenish"

// Config tunes the estimator.
type Config struct {
	// MinCustomers is how many customers with a repeat purchase a
	// category needs for a prior of its own (default 5); below that it
	// borrows the pooled prior, which needs as many over all categories.
	MinCustomers int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config { return Config{MinCustomers: 5} }

// Validate reports what is wrong with c.
func (c Config) Validate() error {
	if c.MinCustomers < 2 {
		return fmt.Errorf("%w: MinCustomers %d is below 2", ErrInvalidConfig, c.MinCustomers)
	}
	return nil
}

// Prediction is a customer's next purchase of one category.
type Prediction struct {
	Category string
	// Item is the text of the latest item bought in the category.
	Item string
	// Purchases is the number of purchase days of the category;
	// LastPurchaseAt the start (UTC) of the latest.
	Purchases      int
	LastPurchaseAt time.Time
	// Interval is the estimated mean interval in days; ExpectedAt is
	// LastPurchaseAt + Interval.
	Interval   float64
	ExpectedAt time.Time
	// Confidence is the credibility weight of the customer's own
	// intervals, 0–1.
	Confidence float64
	// Prior is the population prior used; PriorScope is "category" or
	// "pooled" (the category had too few repeat customers).
	Prior      Prior
	PriorScope string
}

// series is a customer's purchase days of a category. A customer's series
// are a slice sorted by category (a customer buys in a few categories: a
// map each would cost more than the series), their strings interned (the
// decoded payload's strings share the event's buffer).
type series struct {
	cat  string
	item string  // latest item text (by purchase time)
	at   int64   // when item was bought (Unix nanoseconds)
	days []int32 // sorted, distinct
}

// find is the series of category c in cats (sorted by category), or where
// it would go.
func find(cats []series, c string) (int, bool) {
	return slices.BinarySearchFunc(cats, c, func(s series, c string) int { return cmp.Compare(s.cat, c) })
}

// Model is the replenishment read model: every customer's purchase days
// per category, and the priors fitted from them on demand (cached per
// day). Safe for concurrent use; adapt it with projections.Adapt.
type Model struct {
	cfg Config

	mu      sync.RWMutex
	cust    map[string][]series
	version uint64

	// cache is derived (left out of snapshots).
	cacheMu sync.Mutex  `snapshot:"-"`
	cache   *priorCache `snapshot:"-"`
}

type priorCache struct {
	day     int32
	version uint64
	cats    map[string]Prior
	pooled  *Prior
}

// New returns an empty read model.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Model{cfg: cfg, cust: map[string][]series{}}, nil
}

// Name is the permanent projection name.
func (m *Model) Name() string { return Name }

// Wants selects the event types the model folds: purchases.
func (m *Model) Wants(eventType string) bool { return eventType == customer.TypePurchaseMade }

// Apply folds a stored customer event. Re-delivery is harmless: a
// purchase day counts once.
func (m *Model) Apply(ev eventstore.Event, e customer.Event) {
	p, ok := e.(*customer.PurchaseMade)
	if !ok {
		return
	}
	id, ok := strings.CutPrefix(ev.StreamID, customer.StreamCategory+"-")
	if !ok {
		return
	}
	m.Add(id, ev.OccurredAt, p.Items...)
}

// Add records that customerID bought items at t.
func (m *Model) Add(customerID string, t time.Time, items ...string) {
	d := dayOf(t)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range items {
		c := Category(it)
		if c == "" {
			continue
		}
		cats, known := m.cust[customerID]
		if !known {
			customerID = strings.Clone(customerID)
		}
		k, found := find(cats, c)
		if !found {
			// Exactly one more: a customer has a few categories, and
			// append's slack would be a quarter of the model.
			grown := make([]series, len(cats)+1)
			copy(grown, cats[:k])
			copy(grown[k+1:], cats[k:])
			grown[k] = series{cat: unique.Make(c).Value(), at: math.MinInt64}
			cats = grown
			m.cust[customerID] = cats
		}
		s := &cats[k]
		if at := t.UnixNano(); at >= s.at {
			s.item, s.at = unique.Make(strings.TrimSpace(it)).Value(), at
		}
		if k, found := slices.BinarySearch(s.days, d); !found {
			s.days = slices.Insert(s.days, k, d)
			m.version++
		}
	}
}

// Categories lists the categories bought by anyone, sorted.
func (m *Model) Categories() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	set := map[string]bool{}
	for _, cats := range m.cust {
		for _, s := range cats {
			set[s.cat] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// Prior is the prior category's predictions use as of asOf (purchases on
// or before asOf's UTC day) and its scope ("category" or "pooled"); an
// error matching ErrTooFewCustomers when there is none.
func (m *Model) Prior(category string, asOf time.Time) (Prior, string, error) {
	pc := m.priors(dayOf(asOf))
	if p, ok := pc.cats[category]; ok {
		return p, "category", nil
	}
	if pc.pooled != nil {
		return *pc.pooled, "pooled", nil
	}
	return Prior{}, "", fmt.Errorf("%w: no prior for %q as of %s", ErrTooFewCustomers, category, asOf.UTC().Format(time.DateOnly))
}

// Predict returns the customer's predictions as of asOf (purchases on or
// before asOf's UTC day), soonest expected first; none for an unknown
// customer or categories without a prior.
func (m *Model) Predict(customerID string, asOf time.Time) []Prediction {
	day := dayOf(asOf)
	pc := m.priors(day)
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Prediction
	for i := range m.cust[customerID] {
		if p, ok := m.predictLocked(pc, &m.cust[customerID][i], day); ok {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Prediction) int {
		if c := a.ExpectedAt.Compare(b.ExpectedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Category, b.Category)
	})
	return out
}

// Due is one customer's prediction.
type Due struct {
	CustomerID string
	Prediction
}

// DueBy lists, as of asOf, every customer's predictions expected on or
// before by (overdue ones included), by customer ID then soonest first.
func (m *Model) DueBy(asOf, by time.Time) []Due {
	day := dayOf(asOf)
	pc := m.priors(day)
	m.mu.RLock()
	var out []Due
	for id, cats := range m.cust {
		for i := range cats {
			if p, ok := m.predictLocked(pc, &cats[i], day); ok && !p.ExpectedAt.After(by) {
				out = append(out, Due{CustomerID: id, Prediction: p})
			}
		}
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b Due) int {
		return cmp.Or(cmp.Compare(a.CustomerID, b.CustomerID), a.ExpectedAt.Compare(b.ExpectedAt), cmp.Compare(a.Category, b.Category))
	})
	return out
}

// PredictCategory is Predict for one category.
func (m *Model) PredictCategory(customerID, category string, asOf time.Time) (Prediction, bool) {
	day := dayOf(asOf)
	pc := m.priors(day)
	m.mu.RLock()
	defer m.mu.RUnlock()
	cats := m.cust[customerID]
	k, found := find(cats, category)
	if !found {
		return Prediction{}, false
	}
	return m.predictLocked(pc, &cats[k], day)
}

func (m *Model) predictLocked(pc *priorCache, s *series, day int32) (Prediction, bool) {
	category := s.cat
	n, _ := slices.BinarySearch(s.days, day+1) // days ≤ day
	if n == 0 {
		return Prediction{}, false
	}
	prior, scope := pc.cats[category], "category"
	if _, ok := pc.cats[category]; !ok {
		if pc.pooled == nil {
			return Prediction{}, false
		}
		prior, scope = *pc.pooled, "pooled"
	}
	iv, conf := prior.Estimate(HistoryOf(s.days[:n]))
	if math.IsNaN(iv) || math.IsInf(iv, 0) || iv > 100*365 {
		return Prediction{}, false
	}
	last := dayStart(s.days[n-1])
	return Prediction{
		Category: category, Item: s.item, Purchases: n, LastPurchaseAt: last,
		Interval: iv, ExpectedAt: last.Add(time.Duration(iv * float64(24*time.Hour))).Truncate(time.Second),
		Confidence: conf, Prior: prior, PriorScope: scope,
	}, true
}

// priors returns the priors as of day, fitted once per (day, version).
func (m *Model) priors(day int32) *priorCache {
	m.mu.RLock()
	v := m.version
	m.mu.RUnlock()
	m.cacheMu.Lock()
	defer m.cacheMu.Unlock()
	if c := m.cache; c != nil && c.day == day && c.version == v {
		return c
	}
	byCat, all := m.histories(day)
	c := &priorCache{day: day, version: v, cats: map[string]Prior{}}
	for cat, hs := range byCat {
		if p, err := FitPrior(hs, m.cfg.MinCustomers); err == nil {
			c.cats[cat] = p
		}
	}
	if p, err := FitPrior(all, m.cfg.MinCustomers); err == nil {
		c.pooled = &p
	}
	m.cache = c
	return c
}

// histories collects every (customer, category) history as of day, per
// category and pooled, in a deterministic order.
func (m *Model) histories(day int32) (map[string][]History, []History) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ids := make([]string, 0, len(m.cust))
	for id := range m.cust {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	byCat := map[string][]History{}
	var all []History
	for _, id := range ids {
		for _, s := range m.cust[id] {
			c := s.cat
			n, _ := slices.BinarySearch(s.days, day+1)
			if n < 2 {
				continue
			}
			h := HistoryOf(s.days[:n])
			byCat[c] = append(byCat[c], h)
			all = append(all, h)
		}
	}
	for c := range byCat {
		slices.SortFunc(byCat[c], cmpHistory)
	}
	slices.SortFunc(all, cmpHistory)
	return byCat, all
}

func cmpHistory(a, b History) int {
	if c := cmp.Compare(a.Intervals, b.Intervals); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Span, b.Span); c != 0 {
		return c
	}
	return cmp.Compare(a.LogSum, b.LogSum)
}

// Digest hashes every customer's purchase days per category, in order.
func (m *Model) Digest() [32]byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ids := make([]string, 0, len(m.cust))
	for id := range m.cust {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	h := sha256.New()
	var b [4]byte
	for _, id := range ids {
		for _, s := range m.cust[id] { // sorted by category
			fmt.Fprintf(h, "%s\x00%s\x00%s\x00", id, s.cat, s.item)
			for _, d := range s.days {
				binary.BigEndian.PutUint32(b[:], uint32(d))
				h.Write(b[:])
			}
		}
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func dayOf(t time.Time) int32 {
	y, mo, d := t.UTC().Date()
	return int32(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func dayStart(d int32) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }
