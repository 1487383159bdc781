package pii_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kefu-crm/kefu/pii"
)

// keystores runs f against every Keystore implementation.
func keystores(t *testing.T, f func(t *testing.T, ks pii.Keystore)) {
	t.Run("mem", func(t *testing.T) { f(t, pii.NewMemKeystore()) })
	t.Run("file", func(t *testing.T) {
		ks, err := pii.OpenFileKeystore(filepath.Join(t.TempDir(), "keys"))
		if err != nil {
			t.Fatal(err)
		}
		f(t, ks)
	})
}

func TestKeystoreLifecycle(t *testing.T) {
	keystores(t, func(t *testing.T, ks pii.Keystore) {
		ctx := t.Context()
		if _, err := ks.Key(ctx, "c1", false); !errors.Is(err, pii.ErrNoKey) {
			t.Fatalf("Key(create=false) of a new subject: %v, want ErrNoKey", err)
		}
		k1, err := ks.Key(ctx, "c1", true)
		if err != nil || len(k1) != pii.KeySize {
			t.Fatalf("Key(create) = %x, %v", k1, err)
		}
		for _, create := range []bool{false, true} {
			k, err := ks.Key(ctx, "c1", create)
			if err != nil || !bytes.Equal(k, k1) {
				t.Fatalf("Key again (create=%v) = %x, %v; want %x", create, k, err, k1)
			}
		}
		k2, err := ks.Key(ctx, "c2", true)
		if err != nil || bytes.Equal(k1, k2) {
			t.Fatalf("second subject's key %x, %v: want a different key", k2, err)
		}
		if err := ks.Destroy(ctx, "c1"); err != nil {
			t.Fatal(err)
		}
		for _, create := range []bool{false, true} {
			if _, err := ks.Key(ctx, "c1", create); !errors.Is(err, pii.ErrDestroyed) {
				t.Fatalf("Key after Destroy (create=%v): %v, want ErrDestroyed", create, err)
			}
		}
		if err := ks.Destroy(ctx, "c1"); err != nil {
			t.Fatalf("Destroy twice: %v", err)
		}
		if k, err := ks.Key(ctx, "c2", false); err != nil || !bytes.Equal(k, k2) {
			t.Fatalf("other subject after Destroy: %x, %v", k, err)
		}
		// Destroying a subject that never had a key still refuses a later one.
		if err := ks.Destroy(ctx, "never"); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.Key(ctx, "never", true); !errors.Is(err, pii.ErrDestroyed) {
			t.Fatalf("Key after Destroy of a keyless subject: %v, want ErrDestroyed", err)
		}
	})
}

func TestKeystoreRefusesBadSubjects(t *testing.T) {
	keystores(t, func(t *testing.T, ks pii.Keystore) {
		for _, s := range []string{"", "../x", "a/b", "x y", string(make([]byte, 65))} {
			if _, err := ks.Key(t.Context(), s, true); !errors.Is(err, pii.ErrInvalidSubject) {
				t.Errorf("Key(%q): %v, want ErrInvalidSubject", s, err)
			}
			if err := ks.Destroy(t.Context(), s); !errors.Is(err, pii.ErrInvalidSubject) {
				t.Errorf("Destroy(%q): %v, want ErrInvalidSubject", s, err)
			}
		}
	})
}

func TestKeystoreConcurrentCreateAgrees(t *testing.T) {
	keystores(t, func(t *testing.T, ks pii.Keystore) {
		const n = 16
		keys := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { keys[i], errs[i] = ks.Key(t.Context(), "shared", true) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || !bytes.Equal(keys[i], keys[0]) {
				t.Fatalf("goroutine %d: %x, %v; goroutine 0: %x", i, keys[i], errs[i], keys[0])
			}
		}
	})
}

func TestFileKeystorePersistsAndLeavesNoCopyAfterDestroy(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "keys")
	ks, err := pii.OpenFileKeystore(dir)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ks.Key(ctx, "c1", true)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ks.Key(ctx, "c2", true)
	if err != nil {
		t.Fatal(err)
	}
	// A stray temporary file, as a crash before rename would leave.
	shard := filepath.Dir(findFile(t, dir, "c1.key"))
	if err := os.WriteFile(filepath.Join(shard, ".tmp-123"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	ks, err = pii.OpenFileKeystore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ks.Key(ctx, "c1", false); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("after reopen: %x, %v; want %x", got, err, key)
	}
	if err := ks.Destroy(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if n := filesContaining(t, dir, key); n != 0 {
		t.Fatalf("%d files still hold the destroyed key", n)
	}
	if n := filesContaining(t, dir, other); n != 1 {
		t.Fatalf("%d files hold the live key, want 1", n)
	}
	ks, err = pii.OpenFileKeystore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Key(ctx, "c1", true); !errors.Is(err, pii.ErrDestroyed) {
		t.Fatalf("after reopen, destroyed key: %v", err)
	}
}

func TestFileKeystoreDamagedFiles(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "keys")
	ks, err := pii.OpenFileKeystore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"zeroed", "flipped"} {
		if _, err := ks.Key(ctx, s, true); err != nil {
			t.Fatal(err)
		}
	}
	// An interrupted Destroy leaves the file scrubbed to zeros: destroyed.
	if err := os.WriteFile(findFile(t, dir, "zeroed.key"), make([]byte, 45), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Key(ctx, "zeroed", true); !errors.Is(err, pii.ErrDestroyed) {
		t.Fatalf("zeroed file: %v, want ErrDestroyed", err)
	}
	f := findFile(t, dir, "flipped.key")
	b, _ := os.ReadFile(f)
	b[12] ^= 1
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Key(ctx, "flipped", true); !errors.Is(err, pii.ErrCorruptKey) {
		t.Fatalf("flipped bit: %v, want ErrCorruptKey", err)
	}
}

func findFile(t *testing.T, dir, name string) string {
	t.Helper()
	var found string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == name {
			found = p
		}
		return err
	})
	if err != nil || found == "" {
		t.Fatalf("%s not found under %s: %v", name, dir, err)
	}
	return found
}

func filesContaining(t *testing.T, dir string, needle []byte) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if bytes.Contains(b, needle) {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
