package datadir_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/pii"
)

// legacyDir writes a data directory as earlier versions did: a log with
// one event and a keystore with one key, neither with an identity.
func legacyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	store, err := embedded.Open(filepath.Join(dir, "events"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.OpenFileKeystore(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Key(t.Context(), "c1", true); err != nil {
		t.Fatal(err)
	}
	rec := eventstore.Record{ID: uuid.New(), Type: "ContactLogged", SchemaVersion: 1, OccurredAt: time.Now(), Data: []byte(`{}`)}
	if _, err := store.Append(t.Context(), "customer-c1", eventstore.NoStream(), rec); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(keys.Close(), store.Close()); err != nil {
		t.Fatal(err)
	}
	return dir
}

// identities opens dir and returns the identity of its log and keystore.
func identities(t *testing.T, dir string) (uuid.UUID, uuid.UUID) {
	t.Helper()
	d, err := datadir.Open(dir, datadir.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer d.Close()
	logID, ok, err := d.Identity()
	if err != nil || !ok {
		t.Fatalf("log identity: %v %v", ok, err)
	}
	keyID, ok := d.Keys.Identity()
	if !ok {
		t.Fatal("no keystore identity")
	}
	return logID, uuid.UUID(keyID)
}

func TestIdentityIsRecordedAndKept(t *testing.T) {
	for name, dir := range map[string]string{"new": t.TempDir(), "earlier version": legacyDir(t)} {
		t.Run(name, func(t *testing.T) {
			logID, keyID := identities(t, dir)
			if logID != keyID || logID == uuid.Nil {
				t.Fatalf("log %s, keystore %s", logID, keyID)
			}
			if again, _ := identities(t, dir); again != logID {
				t.Fatalf("identity changed on reopening: %s → %s", logID, again)
			}
		})
	}
}

// A crash between recording the identity in the log and in the keystore:
// the next Open finishes the binding.
func TestInterruptedBindingIsCompleted(t *testing.T) {
	dir := legacyDir(t)
	store, err := embedded.Open(filepath.Join(dir, "events"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	if err := store.SetIdentity(id); err != nil {
		t.Fatal(err)
	}
	store.Close()
	if logID, keyID := identities(t, dir); logID != id || keyID != id {
		t.Fatalf("log %s, keystore %s, want %s", logID, keyID, id)
	}
}

// An unused new directory whose log is deleted has lost nothing.
func TestUnusedDirectoryMayLoseItsLog(t *testing.T) {
	dir := t.TempDir()
	id, _ := identities(t, dir)
	if err := os.Remove(filepath.Join(dir, "events", embedded.FileName)); err != nil {
		t.Fatal(err)
	}
	if logID, _ := identities(t, dir); logID != id {
		t.Fatalf("log identity %s, want %s", logID, id)
	}
}

func TestMismatchedFilesAreRefused(t *testing.T) {
	newKeystore := func(t *testing.T, dir string) {
		t.Helper()
		if err := os.Remove(filepath.Join(dir, "keys", pii.FileName)); err != nil {
			t.Fatal(err)
		}
		ks, err := pii.OpenFileKeystore(filepath.Join(dir, "keys"))
		if err != nil {
			t.Fatal(err)
		}
		ks.Close()
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		detail string
	}{
		{"keystore replaced by an empty one", newKeystore, "holds no key"},
		{"log of an earlier version deleted", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "events", embedded.FileName)); err != nil {
				t.Fatal(err)
			}
		}, "events.db is missing"},
		{"keystore of an earlier version lost", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "keys")); err != nil {
				t.Fatal(err)
			}
		}, "keys.dat is missing"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := legacyDir(t)
			if i == 0 {
				identities(t, dir) // bound first
			}
			tc.damage(t, dir)
			_, err := datadir.Open(dir, datadir.Options{})
			if !errors.Is(err, datadir.ErrDamaged) || !datadir.IsDamage(err) || !strings.Contains(err.Error(), tc.detail) || !strings.Contains(err.Error(), "backup") {
				t.Fatalf("Open: %v; want ErrDamaged saying %q", err, tc.detail)
			}
		})
	}
}
