package loyalty

import (
	"strings"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// Projector is the live loyalty read model: one State per customer and an
// index by score (101 buckets, so "top customers" and "score ≥ n" are
// O(answer)). Scores move with time (recency, decay, tenure), so the
// index holds each customer's score as of their latest fact or the latest
// Refresh; Get scores exactly at the projector's clock. Safe for
// concurrent use.
type Projector struct {
	mu      sync.RWMutex
	rules   *Rules
	ids     map[string]int32
	entries []entry
	buckets [101][]int32
	now     int64
}

type entry struct {
	id     string
	st     State
	pos    int32
	points uint8
	level  Level
	// retired: merged into another customer, out of the index (pos -1).
	retired bool
}

// New builds an empty Projector.
func New(cfg Config) (*Projector, error) {
	r, err := NewRules(cfg)
	if err != nil {
		return nil, err
	}
	return &Projector{rules: r, ids: make(map[string]int32)}, nil
}

// Apply folds one fact of a customer's stream and rescores the customer
// at the later of the fact's time and the clock.
func (p *Projector) Apply(customerID string, f lifecycle.Fact) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.ids[customerID]
	i := p.entry(customerID)
	e := &p.entries[i]
	if e.retired {
		return // merged into another: its facts count there
	}
	if e.st.Apply(p.rules, f) || !ok {
		p.rescore(i, max(p.now, f.At.UnixNano()))
	}
}

// Refresh moves the clock to now and rescores every customer (O(n); run
// it on a schedule, e.g. hourly).
func (p *Projector) Refresh(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now = max(p.now, now.UnixNano())
	for i := range p.entries {
		if !p.entries[i].retired {
			p.rescore(int32(i), p.now)
		}
	}
}

func (p *Projector) rescore(i int32, at int64) {
	e := &p.entries[i]
	sc := e.st.At(p.rules, time.Unix(0, at))
	e.level = sc.Level
	if uint8(sc.Points) == e.points {
		return
	}
	old := p.buckets[e.points]
	last := old[len(old)-1]
	old[e.pos] = last
	p.entries[last].pos = e.pos
	p.buckets[e.points] = old[:len(old)-1]
	e.points = uint8(sc.Points)
	p.buckets[e.points] = append(p.buckets[e.points], i)
	e.pos = int32(len(p.buckets[e.points]) - 1)
}

// Get scores a customer exactly at the projector's clock (or their
// latest fact, if later).
func (p *Projector) Get(customerID string) (Score, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	i, ok := p.ids[customerID]
	if !ok {
		return Score{}, false
	}
	e := &p.entries[i]
	if e.retired {
		return Score{}, false
	}
	at := max(p.now, e.st.lastPurchase, e.st.registered)
	return e.st.At(p.rules, time.Unix(0, at)), true
}

// Entry is a customer in the score index.
type Entry struct {
	CustomerID string
	Points     int
	Level      Level
}

// Top returns up to n customers with the highest indexed scores, best
// first (ties in no particular order).
func (p *Projector) Top(n int) []Entry {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]Entry, 0, min(n, len(p.entries)))
	for b := 100; b >= 0 && len(out) < n; b-- {
		for _, i := range p.buckets[b] {
			if len(out) == n {
				break
			}
			e := &p.entries[i]
			out = append(out, Entry{CustomerID: e.id, Points: int(e.points), Level: e.level})
		}
	}
	return out
}

// CountAtLeast is the number of customers whose indexed score is ≥ points.
func (p *Projector) CountAtLeast(points int) int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	n := 0
	for b := max(points, 0); b <= 100; b++ {
		n += len(p.buckets[b])
	}
	return n
}

// Len is the number of customers.
func (p *Projector) Len() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.entries)
}

// Recompose replaces a customer's state with the fold of history (a
// survivor's union history after a merge, in business-time order) and
// rescores it; a retired customer is back in the index.
func (p *Projector) Recompose(customerID string, history []lifecycle.Fact) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.entry(customerID)
	e := &p.entries[i]
	if e.retired {
		e.retired, e.points = false, 0
		p.buckets[0] = append(p.buckets[0], i)
		e.pos = int32(len(p.buckets[0]) - 1)
	}
	var st State
	at := p.now
	for _, f := range history {
		st.Apply(p.rules, f)
		at = max(at, f.At.UnixNano())
	}
	e.st = st
	p.rescore(i, at)
}

// Retire takes a customer merged into another out of the index; its later
// facts are ignored until a Recompose.
func (p *Projector) Retire(customerID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.entry(customerID)
	e := &p.entries[i]
	if e.retired {
		return
	}
	old := p.buckets[e.points]
	last := old[len(old)-1]
	old[e.pos] = last
	p.entries[last].pos = e.pos
	p.buckets[e.points] = old[:len(old)-1]
	e.st, e.points, e.level, e.pos, e.retired = State{}, 0, 0, -1, true
}

// entry is the index of a customer's entry, created (score 0) if new.
// Callers hold the write lock.
func (p *Projector) entry(customerID string) int32 {
	if i, ok := p.ids[customerID]; ok {
		return i
	}
	i := int32(len(p.entries))
	id := strings.Clone(customerID)
	p.entries = append(p.entries, entry{id: id})
	p.ids[id] = i
	p.buckets[0] = append(p.buckets[0], i)
	p.entries[i].pos = int32(len(p.buckets[0]) - 1)
	return i
}
