package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/loyalty"
)

// readModel adapts a read model that folds customer events to the
// projection runtime: one watermill handler per read model, under a
// permanent name.
type readModel struct {
	name   string
	apply  func(eventstore.Event, customer.Event)
	digest func() [32]byte
	// types narrows the customer events the model folds (nil: all).
	types map[string]bool
}

func customerProjection(name string, apply func(eventstore.Event, customer.Event), digest func() [32]byte, types ...string) *readModel {
	m := &readModel{name: name, apply: apply, digest: digest}
	if len(types) > 0 {
		m.types = make(map[string]bool, len(types))
		for _, t := range types {
			m.types[t] = true
		}
	}
	return m
}

func (m *readModel) Name() string     { return m.name }
func (m *readModel) Digest() [32]byte { return m.digest() }

// Wants keeps other streams' events, and the types a model ignores, away
// from it: the runtime then skips them (and does not decode what nobody
// wants).
func (m *readModel) Wants(eventType string) bool {
	if m.types != nil {
		return m.types[eventType]
	}
	return customerTypes[eventType]
}

func (m *readModel) Apply(_ context.Context, d projections.Decoded) error {
	e, ok := d.Payload.(customer.Event)
	if !ok {
		return fmt.Errorf("%s: event %s at position %d decoded to %T, not a customer event", m.name, d.Event.Type, d.Event.Position, d.Payload)
	}
	m.apply(d.Event, e)
	return nil
}

var customerTypes = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range customer.Events() {
		m[s.Type] = true
	}
	return m
}()

func customerIDOf(ev eventstore.Event) string {
	id, _ := strings.CutPrefix(ev.StreamID, customer.StreamCategory+"-")
	return id
}

func hexDigest(f func() string) func() [32]byte {
	return func() [32]byte {
		var out [32]byte
		b, err := hex.DecodeString(f())
		if err != nil || len(b) != 32 {
			return sha256.Sum256([]byte(f()))
		}
		copy(out[:], b)
		return out
	}
}

// loyaltyDigest hashes the score index (the top of every bucket, in order).
func loyaltyDigest(p *loyalty.Projector) func() [32]byte {
	return func() [32]byte {
		h := sha256.New()
		entries := p.Top(p.Len())
		ids := make([]string, len(entries))
		byID := make(map[string]loyalty.Entry, len(entries))
		for i, e := range entries {
			ids[i] = e.CustomerID
			byID[e.CustomerID] = e
		}
		slices.Sort(ids)
		for _, id := range ids {
			e := byID[id]
			fmt.Fprintf(h, "%s|%d|%s\n", id, e.Points, e.Level)
		}
		var out [32]byte
		copy(out[:], h.Sum(nil))
		return out
	}
}

// erasure completes crypto-shredding wherever the log goes: every
// CustomerErased it sees destroys that customer's key in this instance's
// keystore and key cache. The command that erased already did so; this
// also covers other instances sharing an EventStoreDB cluster (whose
// caches would otherwise keep the key) and an erase that crashed between
// appending the event and destroying the key. Destroy is idempotent.
type erasure struct {
	vault interface {
		Destroy(ctx context.Context, customerID string) error
	}
	log    *slog.Logger
	erased int
}

func (e *erasure) Name() string                { return "erasure" }
func (e *erasure) Wants(eventType string) bool { return eventType == customer.TypeCustomerErased }
func (e *erasure) Digest() [32]byte            { return sha256.Sum256([]byte(fmt.Sprint(e.erased))) }

func (e *erasure) Apply(ctx context.Context, d projections.Decoded) error {
	if _, ok := d.Payload.(*customer.CustomerErased); !ok {
		return nil
	}
	id := customerIDOf(d.Event)
	if err := e.vault.Destroy(ctx, id); err != nil {
		return fmt.Errorf("erasure: destroy the key of customer %s (position %d): %w", id, d.Event.Position, err)
	}
	e.erased++
	return nil
}
