package pii_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/kefu-crm/kefu/pii"
)

// keystores runs f against every Keystore implementation.
func keystores(t *testing.T, f func(t *testing.T, ks pii.Keystore)) {
	t.Run("mem", func(t *testing.T) { f(t, pii.NewMemKeystore()) })
	t.Run("file", func(t *testing.T) {
		f(t, openKeys(t, filepath.Join(t.TempDir(), "keys")))
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

// openKeys opens a file keystore that is closed when the test ends.
func openKeys(t testing.TB, dir string) *pii.FileKeystore {
	t.Helper()
	ks, err := pii.OpenFileKeystore(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ks.Close() })
	return ks
}

func mustKey(t testing.TB, ks pii.Keystore, subject string, create bool) []byte {
	t.Helper()
	k, err := ks.Key(context.Background(), subject, create)
	if err != nil {
		t.Fatalf("Key(%s, %v): %v", subject, create, err)
	}
	return k
}

func TestFileKeystorePersistsAndLeavesNoCopyAfterDestroy(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "keys")
	ks := openKeys(t, dir)
	key := mustKey(t, ks, "c1", true)
	other := mustKey(t, ks, "c2", true)
	// A stray temporary file, as a crash while creating the file leaves.
	if err := os.WriteFile(filepath.Join(dir, ".tmp-123"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	ks = openKeys(t, dir)
	if got, err := ks.Key(ctx, "c1", false); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("after reopen: %x, %v; want %x", got, err, key)
	}
	if err := ks.Destroy(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	// Checked while the keystore is still open: nothing waits for Close.
	if n := filesContaining(t, dir, key); n != 0 {
		t.Fatalf("%d files still hold the destroyed key", n)
	}
	if n := filesContaining(t, dir, other); n != 1 {
		t.Fatalf("%d files hold the live key, want 1", n)
	}
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	ks = openKeys(t, dir)
	if _, err := ks.Key(ctx, "c1", true); !errors.Is(err, pii.ErrDestroyed) {
		t.Fatalf("after reopen, destroyed key: %v", err)
	}
	if err := ks.Destroy(ctx, "c0"); err != nil {
		t.Fatal(err)
	}
	if got := ks.Subjects(); !slices.Equal(got, []string{"c0", "c1", "c2"}) {
		t.Fatalf("Subjects() = %v, want the live, the destroyed and the keyless destroyed subject", got)
	}
	if got := mustKey(t, ks, "c2", false); !bytes.Equal(got, other) {
		t.Fatalf("other key after reopen: %x, want %x", got, other)
	}
}

func TestFileKeystoreIsCompact(t *testing.T) {
	ks := openKeys(t, filepath.Join(t.TempDir(), "keys"))
	const n = 500
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { mustKey(t, ks, fmt.Sprintf("c%06d", i), true) })
	}
	wg.Wait()
	st := ks.Stats()
	// 8-byte header; 7-byte subject + 38 bytes per record.
	if want := int64(8 + n*45); st.FileBytes != want || st.Live != n {
		t.Fatalf("stats %+v, want %d bytes and %d live keys", st, want, n)
	}
	fi, err := os.Stat(filepath.Join(ks.Dir(), pii.FileName))
	if err != nil || fi.Size() != st.FileBytes {
		t.Fatalf("file: %v, %v; want %d bytes", fi, err, st.FileBytes)
	}
}

// Concurrent creators share fsyncs: while one round is syncing, the
// callers that arrive queue up and all go out in the next round.
func TestFileKeystoreGroupCommit(t *testing.T) {
	ks := openKeys(t, filepath.Join(t.TempDir(), "keys"))
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	var first sync.Once
	pii.SetBeforeSync(ks, func() {
		first.Do(func() {
			entered <- struct{}{}
			<-release
		})
	})
	base := ks.Stats().Syncs
	var wg sync.WaitGroup
	wg.Go(func() { mustKey(t, ks, "first", true) })
	<-entered // the first round is syncing
	const n = 32
	for i := range n {
		wg.Go(func() { mustKey(t, ks, fmt.Sprintf("w%d", i), true) })
	}
	for ks.Stats().Queued < n {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if got := ks.Stats().Syncs - base; got != 2 {
		t.Fatalf("%d creators took %d fsyncs, want 2 (one round each for the first and the rest)", n+1, got)
	}
}

func TestFileKeystoreClosed(t *testing.T) {
	ks := openKeys(t, filepath.Join(t.TempDir(), "keys"))
	mustKey(t, ks, "c1", true)
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Key(t.Context(), "c1", false); !errors.Is(err, pii.ErrClosed) {
		t.Fatalf("Key after Close: %v", err)
	}
	if err := ks.Destroy(t.Context(), "c1"); !errors.Is(err, pii.ErrClosed) {
		t.Fatalf("Destroy after Close: %v", err)
	}
}

func TestFileKeystoreRefusesOtherFormats(t *testing.T) {
	t.Run("old per-file layout", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "ab"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "ab", "c1.key"), make([]byte, 45), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := pii.OpenFileKeystore(dir); !errors.Is(err, pii.ErrFormat) {
			t.Fatalf("open: %v, want ErrFormat", err)
		}
	})
	t.Run("foreign file", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, pii.FileName), []byte("something else"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := pii.OpenFileKeystore(dir); !errors.Is(err, pii.ErrFormat) {
			t.Fatalf("open: %v, want ErrFormat", err)
		}
	})
}

// damage opens a keystore in a new directory, creates keys for subjects,
// closes it, lets change alter the file's bytes, and reopens it.
func damage(t *testing.T, subjects []string, change func(b []byte, rec func(subject string) int) []byte) (dir string, keys map[string][]byte, ks *pii.FileKeystore, err error) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "keys")
	first := openKeys(t, dir)
	keys = map[string][]byte{}
	for _, s := range subjects {
		keys[s] = mustKey(t, first, s, true)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, pii.FileName)
	b, rerr := os.ReadFile(path)
	if rerr != nil {
		t.Fatal(rerr)
	}
	rec := func(subject string) int {
		i := bytes.Index(b, append([]byte{byte(len(subject))}, subject...))
		if i < 0 {
			t.Fatalf("no record of %s", subject)
		}
		return i
	}
	if err := os.WriteFile(path, change(b, rec), 0o600); err != nil {
		t.Fatal(err)
	}
	ks, err = pii.OpenFileKeystore(dir)
	if err == nil {
		t.Cleanup(func() { _ = ks.Close() })
	}
	return dir, keys, ks, err
}

func TestFileKeystoreRecovers(t *testing.T) {
	subjects := []string{"a1", "b22", "c333"}
	const recA, recB, recC = 2 + 38, 3 + 38, 4 + 38
	tests := []struct {
		name string
		// when the file is changed so
		change func(b []byte, rec func(string) int) []byte
		// then these subjects read back their keys, are destroyed or corrupt
		live, destroyed, corrupt []string
		size                     int64
	}{
		{
			name:   "torn final record is cut off",
			change: func(b []byte, rec func(string) int) []byte { return b[:len(b)-10] },
			live:   []string{"a1", "b22"}, size: 8 + recA + recB,
		},
		{
			name:   "torn final record with zeros is cut off",
			change: func(b []byte, rec func(string) int) []byte { clear(b[rec("c333")+9:]); return b },
			live:   []string{"a1", "b22"}, size: 8 + recA + recB,
		},
		{
			name:   "zeros past the end are cut off",
			change: func(b []byte, rec func(string) int) []byte { return append(b, make([]byte, 100)...) },
			live:   subjects, size: 8 + recA + recB + recC,
		},
		{
			name:   "garbage past the end is cut off",
			change: func(b []byte, rec func(string) int) []byte { return append(b, "\x05hello world, not a record"...) },
			live:   subjects, size: 8 + recA + recB + recC,
		},
		{
			name: "destroy interrupted after the state byte",
			change: func(b []byte, rec func(string) int) []byte {
				b[rec("b22")+1+3] = 'X'
				return b
			},
			live: []string{"a1", "c333"}, destroyed: []string{"b22"}, size: 8 + recA + recB + recC,
		},
		{
			name: "destroy interrupted while zeroing the key",
			change: func(b []byte, rec func(string) int) []byte {
				i := rec("a1") + 1 + 2
				b[i] = 'X'
				clear(b[i+1 : i+1+20])
				return b
			},
			live: []string{"b22", "c333"}, destroyed: []string{"a1"}, size: 8 + recA + recB + recC,
		},
		{
			name: "last record's destroy interrupted",
			change: func(b []byte, rec func(string) int) []byte {
				b[rec("c333")+1+4] = 'X'
				return b
			},
			live: []string{"a1", "b22"}, destroyed: []string{"c333"}, size: 8 + recA + recB + recC,
		},
		{
			name: "flipped key bit in a live record",
			change: func(b []byte, rec func(string) int) []byte {
				b[rec("b22")+10] ^= 1
				return b
			},
			live: []string{"a1", "c333"}, corrupt: []string{"b22"}, size: 8 + recA + recB + recC,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, keys, ks, err := damage(t, subjects, tt.change)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			for _, s := range tt.live {
				if got, err := ks.Key(t.Context(), s, false); err != nil || !bytes.Equal(got, keys[s]) {
					t.Errorf("%s: %x, %v; want its key", s, got, err)
				}
			}
			for _, s := range tt.destroyed {
				if _, err := ks.Key(t.Context(), s, true); !errors.Is(err, pii.ErrDestroyed) {
					t.Errorf("%s: %v, want ErrDestroyed", s, err)
				}
				if n := filesContaining(t, dir, keys[s][20:]); n != 0 {
					t.Errorf("%s: %d files still hold the end of its destroyed key", s, n)
				}
			}
			for _, s := range tt.corrupt {
				if _, err := ks.Key(t.Context(), s, true); !errors.Is(err, pii.ErrCorruptKey) {
					t.Errorf("%s: %v, want ErrCorruptKey", s, err)
				}
			}
			if st := ks.Stats(); st.FileBytes != tt.size {
				t.Errorf("file holds %d bytes of records, want %d", st.FileBytes, tt.size)
			}
			if fi, err := os.Stat(filepath.Join(dir, pii.FileName)); err != nil || fi.Size() != tt.size {
				t.Errorf("file size %v, %v; want %d", fi.Size(), err, tt.size)
			}
			// Writing goes on after the repair, and survives a reopen.
			k := mustKey(t, ks, "after", true)
			for _, s := range tt.corrupt {
				if err := ks.Destroy(t.Context(), s); err != nil {
					t.Fatalf("destroy corrupt %s: %v", s, err)
				}
			}
			if err := ks.Close(); err != nil {
				t.Fatal(err)
			}
			ks2 := openKeys(t, dir)
			if got := mustKey(t, ks2, "after", false); !bytes.Equal(got, k) {
				t.Fatalf("key created after repair: %x, want %x", got, k)
			}
			for _, s := range tt.live {
				if got := mustKey(t, ks2, s, false); !bytes.Equal(got, keys[s]) {
					t.Errorf("%s after reopen: %x", s, got)
				}
			}
			for _, s := range append(tt.destroyed, tt.corrupt...) {
				if _, err := ks2.Key(t.Context(), s, false); !errors.Is(err, pii.ErrDestroyed) {
					t.Errorf("%s after reopen: %v, want ErrDestroyed", s, err)
				}
			}
		})
	}
}

func TestFileKeystoreRefusesUnattributableDamage(t *testing.T) {
	_, _, _, err := damage(t, []string{"a1", "b22", "c333"}, func(b []byte, rec func(string) int) []byte {
		b[rec("b22")] = 0 // the length byte: the record can no longer be read
		return b
	})
	if !errors.Is(err, pii.ErrCorruptKey) {
		t.Fatalf("open: %v, want ErrCorruptKey", err)
	}
}

// Creates and destroys racing on one keystore: every key handed out and not
// destroyed survives a reopen, and no destroyed key is left in the file.
func TestFileKeystoreConcurrentCreateAndDestroy(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "keys")
	ks := openKeys(t, dir)
	const workers, per = 8, 40
	type result struct {
		subject   string
		key       []byte
		destroyed bool
	}
	results := make([][]result, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				s := fmt.Sprintf("w%d-%d", w, i)
				k, err := ks.Key(ctx, s, true)
				switch {
				case errors.Is(err, pii.ErrDestroyed):
					// the neighbouring worker destroyed it first
				case err != nil:
					t.Error(err)
					return
				}
				results[w] = append(results[w], result{subject: s, key: k, destroyed: k == nil})
				if i%3 == 0 {
					// Destroy one of this worker's earlier subjects, and
					// another worker's subject that may be being created.
					victim := &results[w][i/2]
					if err := ks.Destroy(ctx, victim.subject); err != nil {
						t.Error(err)
						return
					}
					victim.destroyed = true
					if err := ks.Destroy(ctx, fmt.Sprintf("w%d-%d", (w+1)%workers, i+1)); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	ks = openKeys(t, dir)
	for w := range workers {
		for _, r := range results[w] {
			got, err := ks.Key(ctx, r.subject, false)
			switch {
			case r.destroyed:
				if !errors.Is(err, pii.ErrDestroyed) {
					t.Errorf("%s: %v, want ErrDestroyed", r.subject, err)
				}
				if n := filesContaining(t, dir, r.key); r.key != nil && n != 0 {
					t.Errorf("%s: destroyed key in %d files", r.subject, n)
				}
			case errors.Is(err, pii.ErrDestroyed):
				// destroyed by the neighbouring worker
			case err != nil || !bytes.Equal(got, r.key):
				t.Errorf("%s: %x, %v; want %x", r.subject, got, err, r.key)
			}
		}
	}
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
