// Package erasure completes crypto-shredding wherever the log goes: a
// process manager that, for every CustomerErased it sees, destroys that
// customer's key in this instance's keystore and key cache. The command
// that erased already did so; this also covers other instances sharing a
// store (whose caches would otherwise keep the key) and an erase that
// crashed between appending the event and destroying the key. Destroy is
// idempotent.
//
// Erasing a survivor of merges (CustomersMergedIn) erases the customers
// merged into it too, transitively: their streams are part of the
// survivor's history, so their keys are destroyed with its key. A
// customer unmerged before (CustomersUnmerged) is its own again and keeps
// its key.
package erasure

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections"
)

// KeyDestroyer destroys a customer's personal-data key (pii.Vault).
type KeyDestroyer interface {
	Destroy(ctx context.Context, customerID string) error
}

// Projection is the process manager, for the projection runtime.
type Projection struct {
	Keys   KeyDestroyer `snapshot:"-"` // wired by the caller
	erased int
	// merged are, per survivor, the customers merged into it.
	merged map[string][]string
}

// Name is the permanent name.
func (*Projection) Name() string { return "erasure" }

// Wants keeps every other event type away.
func (*Projection) Wants(eventType string) bool {
	return eventType == customer.TypeCustomerErased || eventType == customer.TypeCustomersMergedIn || eventType == customer.TypeCustomersUnmerged
}

// Digest counts the erasures seen.
func (e *Projection) Digest() [32]byte { return sha256.Sum256([]byte(fmt.Sprint(e.erased))) }

// Apply destroys the erased customer's key, and those of the customers
// merged into it.
func (e *Projection) Apply(ctx context.Context, d projections.Decoded) error {
	_, id, _ := strings.Cut(d.Event.StreamID, "-")
	switch p := d.Payload.(type) {
	case *customer.CustomersMergedIn:
		if e.merged == nil {
			e.merged = map[string][]string{}
		}
		e.merged[id] = append(e.merged[id], p.From...)
		return nil
	case *customer.CustomersUnmerged:
		e.merged[id] = slices.DeleteFunc(e.merged[id], func(f string) bool { return slices.Contains(p.IDs, f) })
		return nil
	case *customer.CustomerErased:
	default:
		return nil
	}
	todo, seen := []string{id}, map[string]bool{id: true}
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		if err := e.Keys.Destroy(ctx, c); err != nil {
			return fmt.Errorf("erasure: destroy the key of customer %s (erased at position %d): %w", c, d.Event.Position, err)
		}
		for _, f := range e.merged[c] {
			if !seen[f] {
				seen[f] = true
				todo = append(todo, f)
			}
		}
	}
	e.erased++
	return nil
}
