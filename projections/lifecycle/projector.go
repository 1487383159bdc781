package lifecycle

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config configures a Projector.
type Config struct {
	// Policy holds the thresholds; use DefaultPolicy() or LoadPolicy.
	Policy Policy
	// Churn is the churn model in use; nil for none (no DORMANT). Replace
	// it later with SetChurn.
	Churn ChurnView
	// OnChange, if set, is called for every stage change, in the order
	// they happen, while the Projector's lock is held: it must not call
	// the Projector (hand the change to a queue). The follow-up process
	// manager uses it to react to "entered SILENT".
	OnChange func(customerID string, c StageChange)
}

// Status is a customer's current lifecycle in the live read model.
type Status struct {
	Stage Stage
	Since time.Time
	// Next is when the stage changes with no new fact (zero if never),
	// and NextStage what it changes to.
	Next      time.Time
	NextStage Stage
	// Grievances counts open and unsettled complaints plus an unanswered
	// grumble.
	Grievances int
}

// Projector is the live lifecycle read model: one compact State per
// customer, an index by stage (counts and member lists) and a deadline
// index (a min-heap on each customer's next time-driven change) that
// AdvanceTo drains as the clock passes. It is safe for concurrent use.
//
// Apply folds facts exactly as StageAt does; AdvanceTo(t) then fires every
// deadline up to t, so the live stage of a customer whose facts were
// applied in order equals StageAt(history, t). It keeps no histories: the
// timeline of a customer is StageAt over their stream.
type Projector struct {
	mu       sync.RWMutex
	rules    *Rules
	onChange func(string, StageChange) `snapshot:"-"` // wired by New
	ids      map[string]int32
	entries  []entry
	byStage  [NumStages][]int32
	heap     []int32 // entry indexes with a deadline, min-heap on st.next
	now      int64
	started  bool
	buf      []StageChange `snapshot:"-"` // scratch
}

type entry struct {
	id       string
	st       State
	stagePos int32
	heapPos  int32 // -1 when not in the heap
	// retired: merged into another customer (Retire), out of the
	// populations until a Recompose.
	retired bool
}

// New builds an empty Projector. The only error is an invalid policy.
func New(cfg Config) (*Projector, error) {
	r, err := NewRules(cfg.Policy, cfg.Churn)
	if err != nil {
		return nil, err
	}
	return &Projector{rules: r, onChange: cfg.OnChange, ids: make(map[string]int32)}, nil
}

// Apply folds one fact of a customer's stream into the read model. Facts of
// one customer must come in stream order.
func (p *Projector) Apply(customerID string, f Fact) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.entry(customerID)
	e := &p.entries[i]
	if e.retired {
		return // merged into another: its facts count there
	}
	p.buf = e.st.Apply(p.rules, f, p.buf[:0])
	p.after(i)
}

// AdvanceTo moves the clock to now, firing every time-driven change due by
// then (each dated when its threshold was crossed). A now before the
// current clock does nothing.
func (p *Projector) AdvanceTo(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := now.UnixNano()
	if p.started && t <= p.now {
		return
	}
	p.started, p.now = true, t
	for len(p.heap) > 0 {
		i := p.heap[0]
		e := &p.entries[i]
		if e.st.next > t {
			break
		}
		// One deadline at a time, so that changes (and the hook) come in
		// time order across customers.
		p.buf = e.st.advance(p.rules, e.st.next, p.buf[:0])
		p.after(i)
	}
}

// SetChurn replaces the churn model (after a refit) as of the projector's
// clock: every customer is re-evaluated under it (changes get the reason
// "churn model refitted") and the deadlines are recomputed. nil removes
// the model.
func (p *Projector) SetChurn(v ChurnView) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.bind(v)
	at := time.Unix(0, p.now)
	for i := range p.entries {
		p.buf = p.entries[i].st.Rebase(r, at, p.buf[:0])
		p.after(int32(i))
	}
}

// RestoreChurn binds v as the churn model of a projector restored from a
// snapshot whose states were computed under v (a snapshot does not hold
// the model, only the states): unlike SetChurn nothing is rebased.
func (p *Projector) RestoreChurn(v ChurnView) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bind(v)
}

// bind puts rules for v under the projector's policy in use and returns
// them. p.mu must be held.
func (p *Projector) bind(v ChurnView) *Rules {
	r, err := NewRules(p.rules.policy, v)
	if err != nil { // cannot happen: the policy was validated by New
		panic(err)
	}
	p.rules = r
	return r
}

// Now is the projector's clock: the latest AdvanceTo (zero before the
// first).
func (p *Projector) Now() time.Time {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if !p.started {
		return time.Time{}
	}
	return time.Unix(0, p.now).UTC()
}

// Replace makes p hold fresh's state — its customers, stages, deadlines,
// clock and churn model — and keeps p's own OnChange hook: a projector
// rebuilt from the log under a new churn model takes the live one's place
// without the pointers held by its readers changing. fresh must not be
// used afterwards.
func (p *Projector) Replace(fresh *Projector) {
	if p == fresh {
		return
	}
	fresh.mu.Lock()
	defer fresh.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.ids, p.entries, p.byStage, p.heap = fresh.rules, fresh.ids, fresh.entries, fresh.byStage, fresh.heap
	p.now, p.started = fresh.now, fresh.started
	p.buf = nil
}

// after re-indexes entry i and reports p.buf.
func (p *Projector) after(i int32) {
	e := &p.entries[i]
	if len(p.buf) > 0 {
		old := p.buf[0].From
		if s := e.st.stage; s != old {
			p.moveStage(i, old, s)
		}
		if p.onChange != nil {
			for _, c := range p.buf {
				p.onChange(e.id, c)
			}
		}
	}
	p.fixHeap(i)
}

func (p *Projector) moveStage(i int32, from, to Stage) {
	e := &p.entries[i]
	list := p.byStage[from]
	last := list[len(list)-1]
	list[e.stagePos] = last
	p.entries[last].stagePos = e.stagePos
	p.byStage[from] = list[:len(list)-1]
	p.byStage[to] = append(p.byStage[to], i)
	e.stagePos = int32(len(p.byStage[to]) - 1)
}

// Get returns a customer's current status.
func (p *Projector) Get(customerID string) (Status, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	i, ok := p.ids[customerID]
	if !ok {
		return Status{}, false
	}
	st := &p.entries[i].st
	s := Status{Stage: st.Stage(), Since: st.Since(), Grievances: st.g.Count()}
	if at, to, ok := st.Next(); ok {
		s.Next, s.NextStage = at, to
	}
	return s, true
}

// EachPurchases calls fn with every customer's purchase history, in no
// particular order — what fitting the churn model needs. fn runs under the
// read lock: it must not call the Projector.
func (p *Projector) EachPurchases(fn func(customerID string, h Purchases)) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for i := range p.entries {
		fn(p.entries[i].id, p.entries[i].st.Purchases())
	}
}

// Purchases returns one customer's purchase history.
func (p *Projector) Purchases(customerID string) (Purchases, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	i, ok := p.ids[customerID]
	if !ok {
		return Purchases{}, false
	}
	return p.entries[i].st.Purchases(), true
}

// Count is the number of customers in a stage.
func (p *Projector) Count(s Stage) int {
	if int(s) >= NumStages {
		return 0
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.byStage[s])
}

// Counts returns the number of customers in every stage, indexed by Stage.
func (p *Projector) Counts() [NumStages]int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out [NumStages]int
	for s := range p.byStage {
		out[s] = len(p.byStage[s])
	}
	return out
}

// InStage returns the IDs of the customers in a stage, sorted.
func (p *Projector) InStage(s Stage) []string {
	if int(s) >= NumStages {
		return nil
	}
	p.mu.RLock()
	out := make([]string, len(p.byStage[s]))
	for k, i := range p.byStage[s] {
		out[k] = p.entries[i].id
	}
	p.mu.RUnlock()
	slices.Sort(out)
	return out
}

// Len is the number of customers.
func (p *Projector) Len() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.entries)
}

// NextDeadline is the earliest pending time-driven change of any customer.
func (p *Projector) NextDeadline() (time.Time, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if len(p.heap) == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, p.entries[p.heap[0]].st.next).UTC(), true
}

// Digest is a hex SHA-256 of every customer's (ID, stage, since, next
// deadline, next stage), in ID order: equal digests mean equal read
// models (the rebuild-equals-live check).
func (p *Projector) Digest() string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	order := make([]int32, len(p.entries))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(p.entries[a].id, p.entries[b].id) })
	h := sha256.New()
	var b [8]byte
	for _, i := range order {
		e := &p.entries[i]
		h.Write([]byte(e.id))
		h.Write([]byte{0, byte(e.st.stage), byte(e.st.nextStage), boolByte(e.retired)})
		binary.BigEndian.PutUint64(b[:], uint64(e.st.since))
		h.Write(b[:])
		binary.BigEndian.PutUint64(b[:], uint64(e.st.nextNanos()))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// --- deadline heap (indexes into entries; heapPos kept in each entry) ---

func (p *Projector) key(k int) int64 { return p.entries[p.heap[k]].st.next }

func (p *Projector) swap(a, b int) {
	p.heap[a], p.heap[b] = p.heap[b], p.heap[a]
	p.entries[p.heap[a]].heapPos = int32(a)
	p.entries[p.heap[b]].heapPos = int32(b)
}

func (p *Projector) up(k int) {
	for k > 0 {
		parent := (k - 1) / 2
		if p.key(parent) <= p.key(k) {
			return
		}
		p.swap(parent, k)
		k = parent
	}
}

func (p *Projector) down(k int) {
	n := len(p.heap)
	for {
		l := 2*k + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && p.key(r) < p.key(l) {
			m = r
		}
		if p.key(k) <= p.key(m) {
			return
		}
		p.swap(k, m)
		k = m
	}
}

func (p *Projector) fixHeap(i int32) {
	e := &p.entries[i]
	due := e.st.nextNanos() != never
	switch {
	case e.heapPos < 0 && due:
		p.heap = append(p.heap, i)
		e.heapPos = int32(len(p.heap) - 1)
		p.up(int(e.heapPos))
	case e.heapPos >= 0 && !due:
		k := int(e.heapPos)
		last := len(p.heap) - 1
		if k != last {
			p.swap(k, last)
		}
		p.heap = p.heap[:last]
		e.heapPos = -1
		if k < last {
			p.down(k)
			p.up(k)
		}
	case e.heapPos >= 0:
		p.down(int(e.heapPos))
		p.up(int(e.heapPos))
	}
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
