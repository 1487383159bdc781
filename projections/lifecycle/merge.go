package lifecycle

import (
	"strings"
	"time"
)

// Merged customers
//
// A merge makes one customer of several (CustomersMergedIn on the
// survivor's stream, CustomerMerged on the others'); an unmerge parts them
// again. The projector keeps no histories, so whoever folds the log hands
// it the histories a change of that kind needs: Recompose replaces one
// customer's state with the fold of a given history (the survivor's union,
// or a customer's own history after an unmerge), Retire takes a merged
// customer out of the populations. Both happen at the instant of the merge
// event and are reported through OnChange like any change, so the book's
// populations at any instant count the customers as they were then (two
// before the merge, one after) — what customer(asOf:) says of each.

// Recompose first fires the time-driven changes the customer's state had
// due up to at (a rebuild does not move the clock between events), then
// replaces the state with the fold of history (in the order to apply it)
// advanced to at, records the difference as one stage change at that
// instant (with reason, if the stage differs) and puts the
// customer back in the populations if it had been retired. The deadlines
// the new state has after at fire on the next AdvanceTo as any other.
func (p *Projector) Recompose(customerID string, history []Fact, at time.Time, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.entry(customerID)
	e := &p.entries[i]
	var st State
	var scratch []StageChange
	for _, f := range history {
		scratch = st.Apply(p.rules, f, scratch[:0])
	}
	st.Advance(p.rules, at, scratch[:0])
	p.buf = p.buf[:0]
	if !e.retired {
		// What the clock had still to fire up to the merge (a rebuild
		// does not move it between events), dated when it happened.
		p.buf = e.st.Advance(p.rules, at, p.buf)
	}
	old := e.st.stage
	e.st, e.retired = st, false
	if st.stage != old {
		when := at
		if n := st.Now(); n.After(when) {
			when = n
		}
		p.buf = append(p.buf, StageChange{From: old, To: st.stage, At: when.UTC(), Reason: reason, Merge: true})
	}
	p.after(i)
}

// Retire takes a customer merged into another out of the populations at
// at (after the time-driven changes it had due by then): its stage becomes
// StageNone (one change, with reason) and the facts
// of its stream that still come are ignored until a Recompose brings it
// back (an unmerge).
func (p *Projector) Retire(customerID string, at time.Time, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.entry(customerID)
	e := &p.entries[i]
	p.buf = p.buf[:0]
	if !e.retired {
		p.buf = e.st.Advance(p.rules, at, p.buf)
	}
	old := e.st.stage
	e.st, e.retired = State{}, true
	if old != StageNone {
		p.buf = append(p.buf, StageChange{From: old, To: StageNone, At: at.UTC(), Reason: reason, Merge: true})
	}
	p.after(i)
}

// Retired reports whether a customer is merged into another (out of the
// populations).
func (p *Projector) Retired(customerID string) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	i, ok := p.ids[customerID]
	return ok && p.entries[i].retired
}

// entry is the index of a customer's entry, created (StageNone) if new.
// Callers hold the write lock.
func (p *Projector) entry(customerID string) int32 {
	if i, ok := p.ids[customerID]; ok {
		return i
	}
	i := int32(len(p.entries))
	id := strings.Clone(customerID) // do not retain a decoded message's buffer
	p.entries = append(p.entries, entry{id: id, heapPos: -1})
	p.ids[id] = i
	p.byStage[StageNone] = append(p.byStage[StageNone], i)
	p.entries[i].stagePos = int32(len(p.byStage[StageNone]) - 1)
	return i
}
