package customer

import (
	"errors"
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
)

// Undoing a merge
//
// A merge made by mistake is undone by another fact, not by removing the
// first: history shows both. Unmerge records, appended together (all or
// none) by the application like the merge:
//
//   - CustomersUnmerged{ids} on the survivor's stream;
//   - CustomerUnmerged{from} on the stream of each restored customer.
//
// From then on each restored customer is a customer of its own again:
// commands on its id are accepted, its reads are its own, and the
// survivor's history no longer includes its stream (as of an instant
// between the merge and the unmerge the two are still one customer).
//
// Profile fields the merge took from a restored customer stay on the
// survivor: an unmerge records no profile change, and the survivor's
// profile is what it is now (whoever corrects it does so with
// updateProfile, as a fact of its own). The restored customer's own stream
// never lost its profile — a merge changes nothing on it but its
// CustomerMerged — so it is again what its stream says.
//
// Only a merge made directly into the survivor can be undone there, and
// only within the policy's window after it (MergePolicy.UnmergeWindow):
// past it, read models, greetings and follow-ups have treated the two as
// one for long enough that splitting them is a new registration, not an
// undo.

// DefaultUnmergeWindow is how long after a merge it may be undone.
const DefaultUnmergeWindow = 30 * 24 * time.Hour

// MergePolicy holds the rules of merging and unmerging.
type MergePolicy struct {
	// UnmergeWindow is how long after a merge it may be undone; zero
	// means DefaultUnmergeWindow.
	UnmergeWindow time.Duration
}

// DefaultMergePolicy returns the default rules.
func DefaultMergePolicy() MergePolicy { return MergePolicy{UnmergeWindow: DefaultUnmergeWindow} }

// Validate reports every problem with p.
func (p MergePolicy) Validate() error {
	var errs []error
	if p.UnmergeWindow < 0 {
		errs = append(errs, fmt.Errorf("merge policy: UnmergeWindow must not be negative (got %s)", p.UnmergeWindow))
	}
	return errors.Join(errs...)
}

// window is the unmerge window, the default for zero.
func (p MergePolicy) window() time.Duration {
	if p.UnmergeWindow <= 0 {
		return DefaultUnmergeWindow
	}
	return p.UnmergeWindow
}

// UnmergeCustomers asks to undo the merge of some customers into a
// survivor.
type UnmergeCustomers struct {
	// By is who unmerges; Reason why (both required).
	By     string
	Reason string
}

// CustomersUnmerged: the customers IDs, merged into this one before, are
// customers of their own again; this customer's history no longer
// includes theirs from now on. Nothing about the profile changes.
type CustomersUnmerged struct {
	IDs    []string `json:"ids"`
	By     string   `json:"by"`
	Reason string   `json:"reason"`
}

// CustomerUnmerged: this customer, merged into From before, is a customer
// of its own again; commands on it are accepted from now on.
type CustomerUnmerged struct {
	From   string `json:"from"`
	By     string `json:"by"`
	Reason string `json:"reason"`
}

func (CustomersUnmerged) EventType() string { return TypeCustomersUnmerged }
func (CustomerUnmerged) EventType() string  { return TypeCustomerUnmerged }

// UnmergeWindowError refuses an unmerge past the policy's window. It
// matches aggregate.ErrFailedPrecondition.
type UnmergeWindowError struct {
	// Survivor and ID name the merge; MergedAt is when it was made and
	// ClosedAt when its window closed.
	Survivor, ID       string
	MergedAt, ClosedAt time.Time
}

func (e *UnmergeWindowError) Error() string {
	return fmt.Sprintf("cannot unmerge customers from %s: customer %s was merged into it at %s and the unmerge window closed at %s",
		e.Survivor, e.ID, e.MergedAt.UTC().Format(time.RFC3339), e.ClosedAt.UTC().Format(time.RFC3339))
}

// Unwrap returns aggregate.ErrFailedPrecondition.
func (e *UnmergeWindowError) Unwrap() error { return aggregate.ErrFailedPrecondition }

// MergedAt is when id was merged into c, if it is merged into c now.
func (c *Customer) MergedAt(id string) (time.Time, bool) {
	t, ok := c.mergedAt[id]
	return t, ok
}

// Unmerge decides the undoing of the merge of restored into survivor: it
// records CustomersUnmerged on survivor and CustomerUnmerged on each
// restored customer, or refuses and records nothing anywhere. Refused: no
// restored customers, a customer twice, the survivor among them, a
// customer that does not exist, a survivor that was erased or is itself
// merged into another, a customer not merged into this survivor now, a
// merge whose window (policy) has passed (an *UnmergeWindowError).
func Unmerge(survivor *Customer, restored []*Customer, cmd UnmergeCustomers, policy MergePolicy, now time.Time) error {
	if survivor == nil {
		return invalid("survivorId", "required")
	}
	if err := firstErr(required("by", cmd.By), required("reason", cmd.Reason)); err != nil {
		return err
	}
	if len(restored) == 0 {
		return invalid("unmergedIds", "name at least one customer to unmerge")
	}
	seen := map[string]bool{}
	for _, m := range restored {
		if m == nil {
			return invalid("unmergedIds", "nil customer")
		}
		if m.id == survivor.id {
			return invalid("unmergedIds", "customer %s cannot be unmerged from itself", m.id)
		}
		if seen[m.id] {
			return invalid("unmergedIds", "customer %s is named twice", m.id)
		}
		seen[m.id] = true
	}
	action := "unmerge customers from " + survivor.id
	if !survivor.registered {
		return &aggregate.NotFoundError{Kind: "customer", ID: survivor.id}
	}
	if survivor.erased {
		return &aggregate.PreconditionError{Action: action, Reason: "the survivor " + survivor.id + " was erased, and the customers merged into it with it"}
	}
	if into, ok := survivor.MergedInto(); ok {
		return &MergedError{Action: action, ID: survivor.id, Into: into}
	}
	at, err := survivor.occurredAt(time.Time{}, now)
	if err != nil {
		return err
	}
	for _, m := range restored {
		if !m.registered {
			return &aggregate.NotFoundError{Kind: "customer", ID: m.id}
		}
		mergedAt, ok := survivor.mergedAt[m.id]
		if into, _ := m.MergedInto(); !ok || into != survivor.id {
			reason := fmt.Sprintf("customer %s is not merged into %s", m.id, survivor.id)
			if into != "" {
				reason += " (it is merged into " + into + ")"
			}
			if merged := survivor.MergedFrom(); len(merged) > 0 {
				reason += fmt.Sprintf("; merged into it now: %v", merged)
			}
			return &aggregate.PreconditionError{Action: action, Reason: reason}
		}
		if m.erased {
			return &aggregate.PreconditionError{Action: action, Reason: "customer " + m.id + " was erased"}
		}
		if closed := mergedAt.Add(policy.window()); at.After(closed) {
			return &UnmergeWindowError{Survivor: survivor.id, ID: m.id, MergedAt: mergedAt, ClosedAt: closed}
		}
	}
	out := &CustomersUnmerged{By: cmd.By, Reason: cmd.Reason}
	for _, m := range restored {
		out.IDs = append(out.IDs, m.id)
		m.record(&CustomerUnmerged{From: survivor.id, By: cmd.By, Reason: cmd.Reason}, at)
	}
	survivor.record(out, at)
	return nil
}
