package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/pii"
)

// ErrKeyConflict: a data key imported for a customer who already has a
// different one.
var ErrKeyConflict = errors.New("postgres: customer already has another data key")

// Keystore keeps each customer's data key in the data_keys table of the
// store's schema; it implements pii.Keystore, and every kefu instance on the
// database sees the same keys. Destroy sets the key to NULL for good (see
// the package doc for when its bytes are gone from disk).
type Keystore struct {
	s    *Store
	rand io.Reader
}

var _ pii.Keystore = (*Keystore)(nil)

// KeystoreOptions configures a Keystore.
type KeystoreOptions struct {
	// Rand is the source of new keys; nil means crypto/rand.
	Rand io.Reader
}

// NewKeystore returns the keystore in the store's schema.
func NewKeystore(s *Store, opts KeystoreOptions) *Keystore {
	r := opts.Rand
	if r == nil {
		r = rand.Reader
	}
	return &Keystore{s: s, rand: r}
}

func (k *Keystore) check(ctx context.Context, subject string) error {
	if !eventstore.ValidID(subject) {
		return fmt.Errorf("%w: %q", pii.ErrInvalidSubject, subject)
	}
	if k.s.isClosed() {
		return pii.ErrClosed
	}
	return ctx.Err()
}

// Key implements pii.Keystore. Two instances creating the same subject's
// key race on the primary key; the first one stored wins for both.
func (k *Keystore) Key(ctx context.Context, subject string, create bool) ([]byte, error) {
	if err := k.check(ctx, subject); err != nil {
		return nil, err
	}
	key, err := k.read(ctx, subject)
	if !errors.Is(err, pii.ErrNoKey) || !create {
		return key, err
	}
	key = make([]byte, pii.KeySize)
	if _, err := io.ReadFull(k.rand, key); err != nil {
		return nil, fmt.Errorf("postgres: new data key: %w", err)
	}
	if _, err := k.s.pool.Exec(ctx, k.s.sql.keyPut, subject, key); err != nil {
		return nil, k.fail(ctx, "store data key of "+subject, err)
	}
	return k.read(ctx, subject)
}

// Import stores a given key for subject (kefu migrate copies a data
// directory's keys with it). Importing the key the subject already has is
// not an error; a different one is ErrKeyConflict; a destroyed subject is
// pii.ErrDestroyed.
func (k *Keystore) Import(ctx context.Context, subject string, key []byte) error {
	if err := k.check(ctx, subject); err != nil {
		return err
	}
	if len(key) != pii.KeySize {
		return fmt.Errorf("%w: key of %s has %d bytes, want %d", pii.ErrCorruptKey, subject, len(key), pii.KeySize)
	}
	if _, err := k.s.pool.Exec(ctx, k.s.sql.keyPut, subject, key); err != nil {
		return k.fail(ctx, "import data key of "+subject, err)
	}
	got, err := k.read(ctx, subject)
	if err != nil {
		return err
	}
	if string(got) != string(key) {
		return fmt.Errorf("%w: customer %s", ErrKeyConflict, subject)
	}
	return nil
}

// Destroy implements pii.Keystore: the key is NULL from now on and the
// subject can never get one again.
func (k *Keystore) Destroy(ctx context.Context, subject string) error {
	if err := k.check(ctx, subject); err != nil {
		return err
	}
	if _, err := k.s.pool.Exec(ctx, k.s.sql.keyDestroy, subject); err != nil {
		return k.fail(ctx, "destroy data key of "+subject, err)
	}
	return nil
}

// read returns the stored key, pii.ErrNoKey or pii.ErrDestroyed.
func (k *Keystore) read(ctx context.Context, subject string) ([]byte, error) {
	var key []byte
	err := k.s.pool.QueryRow(ctx, k.s.sql.keyGet, subject).Scan(&key)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("customer %s: %w", subject, pii.ErrNoKey)
	case err != nil:
		return nil, k.fail(ctx, "read data key of "+subject, err)
	case key == nil:
		return nil, fmt.Errorf("customer %s: %w", subject, pii.ErrDestroyed)
	case len(key) != pii.KeySize:
		return nil, fmt.Errorf("%w: data key of %s has %d bytes", pii.ErrCorruptKey, subject, len(key))
	}
	return key, nil
}

func (k *Keystore) fail(ctx context.Context, op string, err error) error {
	if k.s.isClosed() {
		return pii.ErrClosed
	}
	return k.s.fail(ctx, op, err)
}
