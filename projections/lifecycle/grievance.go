package lifecycle

import (
	"strings"

	"github.com/kefu-crm/kefu/domain/customer"
)

// Grievances tracks what a customer is still aggrieved about, in a few
// bytes. The rules (shared with the loyalty score, so both read models
// agree on what an open grievance is):
//
//   - ComplaintFiled opens a complaint; ComplaintReopened opens it again.
//   - ComplaintResolved SATISFIED closes it for good. ComplaintResolved
//     UNSATISFIED and ComplaintDeclined close it but leave it unsettled:
//     the customer is still dissatisfied.
//   - An unsettled complaint is settled by a later PurchaseMade (the
//     customer is buying again: all of them), by a SatisfactionRecorded
//     with a score ≥ the policy's SatisfiedScore (the one it names, or all
//     when it names none), or by a SATISFIED resolution after a reopen.
//   - GrumbleVoiced leaves an unanswered grumble until an OUTBOUND
//     ContactLogged or any SatisfactionRecorded answers it; a
//     ComplaintFiled absorbs it (the grumble became the complaint).
//
// The zero value has no grievance.
type Grievances struct {
	// complaints open or unsettled, in filing order. Usually empty.
	items   []grievance
	grumble bool
}

type grievance struct {
	id   string
	open bool // open; otherwise closed but unsettled
}

// Observe updates g with one event and reports whether anything changed.
// satisfiedScore is Policy.SatisfiedScore.
func (g *Grievances) Observe(e customer.Event, satisfiedScore int) bool {
	switch e := e.(type) {
	case *customer.GrumbleVoiced:
		if g.grumble {
			return false
		}
		g.grumble = true
		return true
	case *customer.ContactLogged:
		if e.Direction == customer.Outbound && g.grumble {
			g.grumble = false
			return true
		}
	case *customer.ComplaintFiled:
		changed := g.grumble
		g.grumble = false
		return g.set(e.ComplaintID, true) || changed
	case *customer.ComplaintReopened:
		return g.set(e.ComplaintID, true)
	case *customer.ComplaintResolved:
		if e.Outcome == customer.Satisfied {
			return g.remove(e.ComplaintID)
		}
		return g.set(e.ComplaintID, false)
	case *customer.ComplaintDeclined:
		return g.set(e.ComplaintID, false)
	case *customer.PurchaseMade:
		return g.settleAll()
	case *customer.SatisfactionRecorded:
		changed := g.grumble
		g.grumble = false
		if e.Score >= satisfiedScore {
			if e.ComplaintID == "" {
				changed = g.settleAll() || changed
			} else if i := g.find(e.ComplaintID); i >= 0 && !g.items[i].open {
				changed = g.remove(e.ComplaintID) || changed
			}
		}
		return changed
	}
	return false
}

func (g *Grievances) find(id string) int {
	for i := range g.items {
		if g.items[i].id == id {
			return i
		}
	}
	return -1
}

func (g *Grievances) set(id string, open bool) bool {
	if i := g.find(id); i >= 0 {
		if g.items[i].open == open {
			return false
		}
		g.items[i].open = open
		return true
	}
	// Clone: the ID may share memory with a large decoded message.
	g.items = append(g.items, grievance{id: strings.Clone(id), open: open})
	return true
}

func (g *Grievances) remove(id string) bool {
	i := g.find(id)
	if i < 0 {
		return false
	}
	g.items = append(g.items[:i], g.items[i+1:]...)
	if len(g.items) == 0 {
		g.items = nil
	}
	return true
}

func (g *Grievances) settleAll() bool {
	kept := g.items[:0]
	for _, it := range g.items {
		if it.open {
			kept = append(kept, it)
		}
	}
	changed := len(kept) != len(g.items)
	clear(g.items[len(kept):])
	g.items = kept
	if len(g.items) == 0 {
		g.items = nil
	}
	return changed
}

// Open is the number of open complaints.
func (g *Grievances) Open() int {
	n := 0
	for _, it := range g.items {
		if it.open {
			n++
		}
	}
	return n
}

// Unsettled is the number of complaints closed UNSATISFIED or declined and
// not settled since.
func (g *Grievances) Unsettled() int { return len(g.items) - g.Open() }

// Grumbling reports an unanswered grumble.
func (g *Grievances) Grumbling() bool { return g.grumble }

// Count is the number of grievances: open and unsettled complaints plus
// one for an unanswered grumble.
func (g *Grievances) Count() int {
	n := len(g.items)
	if g.grumble {
		n++
	}
	return n
}

// Any reports whether there is any grievance.
func (g *Grievances) Any() bool { return g.grumble || len(g.items) > 0 }

// Describe names the most pressing grievance for a reason text: the latest
// open complaint ("complaint c-17"), else the latest unsettled one
// ("unresolved complaint c-17"), else "an unanswered grumble"; "" if none.
func (g *Grievances) Describe() string {
	for i := len(g.items) - 1; i >= 0; i-- {
		if g.items[i].open {
			return "complaint " + g.items[i].id
		}
	}
	if n := len(g.items); n > 0 {
		return "unresolved complaint " + g.items[n-1].id
	}
	if g.grumble {
		return "an unanswered grumble"
	}
	return ""
}

// clone returns a deep copy (the slice is not shared).
func (g Grievances) clone() Grievances {
	if g.items != nil {
		g.items = append([]grievance(nil), g.items...)
	}
	return g
}
