// Package erasure completes crypto-shredding wherever the log goes: a
// process manager that, for every CustomerErased it sees, destroys that
// customer's key in this instance's keystore and key cache. The command
// that erased already did so; this also covers other instances sharing a
// store (whose caches would otherwise keep the key) and an erase that
// crashed between appending the event and destroying the key. Destroy is
// idempotent.
package erasure

import (
	"context"
	"crypto/sha256"
	"fmt"
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
	Keys   KeyDestroyer
	erased int
}

// Name is the permanent name.
func (*Projection) Name() string { return "erasure" }

// Wants keeps every other event type away.
func (*Projection) Wants(eventType string) bool { return eventType == customer.TypeCustomerErased }

// Digest counts the erasures seen.
func (e *Projection) Digest() [32]byte { return sha256.Sum256([]byte(fmt.Sprint(e.erased))) }

// Apply destroys the erased customer's key.
func (e *Projection) Apply(ctx context.Context, d projections.Decoded) error {
	if _, ok := d.Payload.(*customer.CustomerErased); !ok {
		return nil
	}
	_, id, _ := strings.Cut(d.Event.StreamID, "-")
	if err := e.Keys.Destroy(ctx, id); err != nil {
		return fmt.Errorf("erasure: destroy the key of customer %s (position %d): %w", id, d.Event.Position, err)
	}
	e.erased++
	return nil
}
