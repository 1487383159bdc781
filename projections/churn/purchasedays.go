package churn

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
)

// PurchaseDays keeps every customer's distinct purchase days (UTC day
// numbers, sorted), enough to summarise any customer as of any instant
// and so fit the BG/NBD model as of any instant (churnModel(asOf)). Safe
// for concurrent use.
type PurchaseDays struct {
	mu   sync.RWMutex
	ids  map[string]int32
	days [][]int32
	// latest is the latest purchase day of any customer; changes counts
	// the purchase days added (what a refit of the churn model waits for).
	latest  int32
	changes uint64
}

// NewPurchaseDays returns an empty read model.
func NewPurchaseDays() *PurchaseDays { return &PurchaseDays{ids: make(map[string]int32)} }

// Add records a purchase of a customer at t (several on one day count
// once; order does not matter).
func (p *PurchaseDays) Add(customerID string, t time.Time) {
	d := int32(DayNumber(t.UTC()))
	p.mu.Lock()
	defer p.mu.Unlock()
	i, ok := p.ids[customerID]
	if !ok {
		i = int32(len(p.days))
		p.ids[strings.Clone(customerID)] = i
		p.days = append(p.days, nil)
	}
	ds := p.days[i]
	if n := len(ds); n == 0 || ds[n-1] < d {
		p.days[i] = append(ds, d)
	} else if k, found := slices.BinarySearch(ds, d); !found {
		p.days[i] = slices.Insert(ds, k, d)
	} else {
		return
	}
	p.changes++
	p.latest = max(p.latest, d)
}

// Changes is the number of purchase days added so far.
func (p *PurchaseDays) Changes() uint64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.changes
}

// Latest is the start (00:00 UTC) of the latest purchase day of any
// customer; false with no purchase.
func (p *PurchaseDays) Latest() (time.Time, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if len(p.days) == 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(p.latest)*86400, 0).UTC(), true
}

// Customers is the number of customers with a purchase.
func (p *PurchaseDays) Customers() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.days)
}

// Summaries returns the BG/NBD summary of every customer with a purchase
// on or before asOf's UTC day, in unit.
func (p *PurchaseDays) Summaries(asOf time.Time, unit Unit) ([]Summary, error) {
	per := float64(unit.Days())
	if per == 0 {
		return nil, fmt.Errorf("%w: unit %v", ErrInvalidUnit, unit)
	}
	asOfDay := int32(DayNumber(asOf.UTC()))
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]Summary, 0, len(p.days))
	for _, ds := range p.days {
		if len(ds) == 0 || ds[0] > asOfDay {
			continue
		}
		n, _ := slices.BinarySearch(ds, asOfDay+1) // days ≤ asOfDay
		first, last := ds[0], ds[n-1]
		s := Summary{X: float64(n - 1), T: float64(asOfDay-first) / per}
		if n > 1 {
			s.Tx = float64(last-first) / per
		}
		out = append(out, s)
	}
	return out, nil
}

// MinFitCustomers is the fewest customers with purchases Fit accepts.
const MinFitCustomers = 20

// Fit fits the BG/NBD model on the customers' purchase histories as of
// asOf (purchases after it unseen) in unit, and returns it with the
// number of customers fitted. The fit is deterministic.
func (p *PurchaseDays) Fit(ctx context.Context, asOf time.Time, unit Unit) (Model, int, error) {
	ss, err := p.Summaries(asOf, unit)
	if err != nil {
		return Model{}, 0, err
	}
	if len(ss) < MinFitCustomers {
		return Model{}, len(ss), fmt.Errorf("%w: %d customers with purchases by %s (need %d)", ErrNoModel, len(ss), asOf.Format(time.DateOnly), MinFitCustomers)
	}
	m, err := Fit(ctx, ss, FitOptions{})
	if err != nil {
		return Model{}, len(ss), fmt.Errorf("%w: %w", ErrNoModel, err)
	}
	return m, len(ss), nil
}

// FitBook fits the churn model the lifecycle decides DORMANT with — the
// book's model: BG/NBD in days over every customer's purchase days, as of
// the latest purchase day in the log. It is a function of the log alone
// (not of the wall clock, nor of a replay's cut-off), so the live server,
// customer(asOf:), stageHistory, lifecycleReport and kefu replay all judge
// every instant of history with the same model. asOf is the day it is
// fitted as of.
func (p *PurchaseDays) FitBook(ctx context.Context) (m Model, fittedOn int, asOf time.Time, err error) {
	asOf, ok := p.Latest()
	if !ok {
		return Model{}, 0, time.Time{}, fmt.Errorf("%w: no purchase yet", ErrNoModel)
	}
	m, fittedOn, err = p.Fit(ctx, asOf, Day)
	return m, fittedOn, asOf, err
}

// Fitted is a churn fit as of an instant, shaped like the API's
// ChurnModel.
type Fitted struct {
	Unit           Unit
	AsOf           time.Time
	Customers      int
	R, Alpha, A, B float64
	LogLikelihood  float64
}

// FitAt fits the model as of asOf in unit ("DAY" or "WEEK").
func (p *PurchaseDays) FitAt(ctx context.Context, asOf time.Time, unit string) (Fitted, error) {
	u, err := ParseUnit(unit)
	if err != nil {
		return Fitted{}, fmt.Errorf("%w: %w", ErrInvalidUnit, err)
	}
	m, n, err := p.Fit(ctx, asOf, u)
	if err != nil {
		return Fitted{}, err
	}
	return Fitted{Unit: u, AsOf: asOf, Customers: n, R: m.R, Alpha: m.Alpha, A: m.A, B: m.B, LogLikelihood: m.LogLikelihood}, nil
}

// Name is the projection's permanent name: PurchaseDays is a
// projections.Model[customer.Event] (wrap it with projections.Adapt) for
// the live server, so churnModel(asOf) can be answered without a replay.
func (p *PurchaseDays) Name() string { return "analytics.purchase-days" }

// Wants reports the event types the model folds: purchases only.
func (p *PurchaseDays) Wants(eventType string) bool { return eventType == customer.TypePurchaseMade }

// Apply folds a stored customer event. Re-delivery is harmless: a
// purchase day counts once.
func (p *PurchaseDays) Apply(ev eventstore.Event, e customer.Event) {
	if _, ok := e.(*customer.PurchaseMade); !ok {
		return
	}
	if id, ok := strings.CutPrefix(ev.StreamID, customer.StreamCategory+"-"); ok {
		p.Add(id, ev.OccurredAt)
	}
}

// Digest hashes every customer's purchase days in ID order.
func (p *PurchaseDays) Digest() [32]byte {
	p.mu.RLock()
	defer p.mu.RUnlock()
	ids := make([]string, 0, len(p.ids))
	for id := range p.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	h := sha256.New()
	var b [4]byte
	for _, id := range ids {
		h.Write([]byte(id))
		h.Write([]byte{0})
		for _, d := range p.days[p.ids[id]] {
			binary.BigEndian.PutUint32(b[:], uint32(d))
			h.Write(b[:])
		}
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
