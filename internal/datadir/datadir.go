// Package datadir opens a kefu data directory: the embedded event store,
// the personal-data keystore and the codec that seals personal data with
// it. Every command that touches a data directory (serve, seed, replay,
// export, import) opens it here, so they all agree on its layout:
//
//	<dir>/events/       the embedded event store (one bbolt file)
//	<dir>/keys/keys.dat one 45-byte data-key record per customer (crypto-shredding)
//	<dir>/checkpoints/  process managers' and projections' checkpoints
//	<dir>/greetings-outbox.ndjson  greetings delivered by the default outbox sender
//
// Open refuses a directory whose log or keys are damaged, missing or from
// another directory (integrity.go), and Dir.WriteBackup copies an open one
// consistently (backup.go).
package datadir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/embedded"
	"github.com/kefu-crm/kefu/eventstore/kurrent"
	"github.com/kefu-crm/kefu/eventstore/postgres"
	"github.com/kefu-crm/kefu/pii"
)

// Dir is an open data directory.
type Dir struct {
	Path string
	// Store is the event log: the embedded store in Path/events, or
	// EventStoreDB or PostgreSQL when Options.StoreURL names one.
	Store eventstore.Store
	// DensePositions says the store numbers events 1, 2, 3 … (embedded
	// and PostgreSQL), so that a difference of positions counts events.
	DensePositions bool
	// Keys is the file keystore in Path/keys (nil with EventStoreDB or
	// PostgreSQL, whose keys live beside the events).
	Keys *pii.FileKeystore
	// Keystore is the keystore in use.
	Keystore pii.Keystore
	Vault    *pii.Vault
	Codec    *codec.Codec
}

// Options configures Open.
type Options struct {
	Logger *slog.Logger
	// Clock is the store's and codec's clock; nil means time.Now.
	Clock func() time.Time
	// Specs are extra event specs beyond the customer and campaign streams'.
	Specs [][]codec.Spec
	// MustExist refuses to create a new data directory (for read-only tools
	// such as replay and export, where a typo should not create one).
	MustExist bool
	// StoreURL, when set (esdb://… or esdb+discover://…, or
	// postgres://…), keeps events and personal-data keys in
	// EventStoreDB/KurrentDB or PostgreSQL instead of the data directory;
	// the directory then holds only checkpoints and the outbox.
	StoreURL string
}

// ErrNoData: the directory holds no kefu data (with Options.MustExist).
var ErrNoData = errors.New("datadir: no kefu data directory")

// Open opens (or creates) the data directory at path.
func Open(path string, opts Options) (*Dir, error) {
	switch {
	case postgres.IsURL(opts.StoreURL):
		return openPostgres(path, opts)
	case opts.StoreURL != "":
		return openKurrent(path, opts)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := preflight(path, opts.MustExist); err != nil {
		return nil, err
	}
	store, err := embedded.Open(filepath.Join(path, "events"), embedded.Options{Logger: opts.Logger, Clock: opts.Clock})
	switch {
	case errors.Is(err, eventstore.ErrLocked):
		return nil, fmt.Errorf("%w — is `kefu serve` running on %s? Stop it, or point this command at another --data directory (a running server makes backups: `kefu backup`)", err, path)
	case IsDamage(err):
		return nil, &DamagedError{Dir: path, Err: err}
	case err != nil:
		return nil, err
	}
	keys, err := openKeys(path, store, log)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	d, err := assemble(path, store, keys, opts)
	if err != nil {
		_ = keys.Close()
		_ = store.Close()
		return nil, err
	}
	d.Keys = keys
	d.DensePositions = true
	return d, nil
}

// openKeys opens the keystore beside store and checks that both are whole
// and belong together (integrity.go).
func openKeys(path string, store *embedded.Store, log *slog.Logger) (*pii.FileKeystore, error) {
	ctx := context.Background()
	head, err := store.Head(ctx)
	if err != nil {
		return nil, err
	}
	if err := keysLost(path, head); err != nil {
		return nil, err
	}
	keys, err := pii.OpenFileKeystoreWith(filepath.Join(path, "keys"), pii.FileKeystoreOptions{TornTail: tornTail(path, store, log)})
	switch {
	case errors.Is(err, ErrDamaged):
		return nil, err
	case IsDamage(err):
		return nil, &DamagedError{Dir: path, Err: err}
	case err != nil:
		return nil, err
	}
	err = checkKeys(path, keys)
	if err == nil {
		err = bind(ctx, path, store, keys, log)
	}
	if err != nil {
		_ = keys.Close()
		return nil, err
	}
	return keys, nil
}

func assemble(path string, store eventstore.Store, keys pii.Keystore, opts Options) (*Dir, error) {
	vault := pii.NewVault(keys, pii.VaultOptions{})
	specs := append([][]codec.Spec{codec.SpecsOf(customer.Events()), codec.SpecsOf(campaign.Events())}, opts.Specs...)
	c, err := codec.New(codec.Options{Protector: vault, Clock: opts.Clock}, specs...)
	if err != nil {
		return nil, err
	}
	return &Dir{Path: path, Store: store, Keystore: keys, Vault: vault, Codec: c}, nil
}

// openKurrent opens EventStoreDB/KurrentDB as the store and keystore.
func openKurrent(path string, opts Options) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("datadir: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := kurrent.Open(ctx, opts.StoreURL, kurrent.Options{Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("datadir: %s: %w", redactURL(opts.StoreURL), err)
	}
	d, err := assemble(path, store, kurrent.NewKeystore(store, kurrent.KeystoreOptions{}), opts)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	return d, nil
}

// openPostgres opens a PostgreSQL database as the store and keystore.
func openPostgres(path string, opts Options) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("datadir: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := postgres.Open(ctx, opts.StoreURL, postgres.Options{Logger: opts.Logger, Clock: opts.Clock})
	if err != nil {
		return nil, fmt.Errorf("datadir: %s: %w", redactURL(opts.StoreURL), err)
	}
	d, err := assemble(path, store, postgres.NewKeystore(store, postgres.KeystoreOptions{}), opts)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	d.DensePositions = true
	return d, nil
}

// redactURL hides a password in a connection string for messages.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return s
}

// CheckpointDir is where checkpoints live.
func (d *Dir) CheckpointDir() string { return filepath.Join(d.Path, "checkpoints") }

// Close closes the store and the keystore.
func (d *Dir) Close() error {
	err := d.Store.Close()
	if d.Keys != nil {
		err = errors.Join(err, d.Keys.Close())
	}
	return err
}
