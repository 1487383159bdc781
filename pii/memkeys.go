package pii

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"

	"github.com/kefu-crm/kefu/eventstore"
)

// MemKeystore is an in-memory Keystore for tests. It keeps nothing across
// processes.
type MemKeystore struct {
	mu        sync.Mutex
	keys      map[string][]byte
	destroyed map[string]bool
}

var _ Keystore = (*MemKeystore)(nil)

// NewMemKeystore returns an empty in-memory keystore.
func NewMemKeystore() *MemKeystore {
	return &MemKeystore{keys: map[string][]byte{}, destroyed: map[string]bool{}}
}

// Key implements Keystore.
func (m *MemKeystore) Key(ctx context.Context, subject string, create bool) ([]byte, error) {
	if err := checkSubject(ctx, subject); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.destroyed[subject] {
		return nil, fmt.Errorf("%w: %s", ErrDestroyed, subject)
	}
	if k, ok := m.keys[subject]; ok {
		return append([]byte(nil), k...), nil
	}
	if !create {
		return nil, fmt.Errorf("%w: %s", ErrNoKey, subject)
	}
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	m.keys[subject] = k
	return append([]byte(nil), k...), nil
}

// Destroy implements Keystore.
func (m *MemKeystore) Destroy(ctx context.Context, subject string) error {
	if err := checkSubject(ctx, subject); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.keys[subject])
	delete(m.keys, subject)
	m.destroyed[subject] = true
	return nil
}

func checkSubject(ctx context.Context, subject string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !eventstore.ValidID(subject) {
		return fmt.Errorf("%w: %q", ErrInvalidSubject, subject)
	}
	return nil
}
