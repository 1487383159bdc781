package pii_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kefu-crm/kefu/pii"
)

// FuzzFileKeystoreOpen feeds arbitrary bytes after the file header to Open.
// It must not panic; when it opens, its repair must be complete (a second
// Open sees the same subjects and the same file), every subject answers
// Key without panicking, and new keys can still be created.
func FuzzFileKeystoreOpen(f *testing.F) {
	rec := func(subject string, state byte, key byte) []byte {
		b := []byte{byte(len(subject))}
		b = append(b, subject...)
		b = append(b, state)
		for range pii.KeySize {
			b = append(b, key)
		}
		return append(b, 0, 0, 0, 0) // wrong CRC
	}
	f.Add([]byte{})
	f.Add(rec("a1", 'K', 7))
	f.Add(rec("a1", 'X', 0))
	f.Add(append(rec("a1", 'K', 7), rec("b2", 'X', 1)...))
	f.Add(make([]byte, 50))
	f.Fuzz(func(t *testing.T, body []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, pii.FileName)
		if err := os.WriteFile(path, append([]byte("kefuks02"), body...), 0o600); err != nil {
			t.Fatal(err)
		}
		ks, err := pii.OpenFileKeystore(dir)
		if err != nil {
			if !errors.Is(err, pii.ErrCorruptKey) {
				t.Fatalf("open: %v, want nil or ErrCorruptKey", err)
			}
			return
		}
		subjects := ks.Subjects()
		for _, s := range subjects {
			if _, err := ks.Key(t.Context(), s, false); err != nil && !errors.Is(err, pii.ErrDestroyed) && !errors.Is(err, pii.ErrCorruptKey) {
				t.Fatalf("Key(%s): %v", s, err)
			}
		}
		if err := ks.Close(); err != nil {
			t.Fatal(err)
		}
		repaired, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ks, err = pii.OpenFileKeystore(dir)
		if err != nil {
			t.Fatalf("reopen after repair: %v", err)
		}
		defer ks.Close()
		if again := ks.Subjects(); !slices.Equal(again, subjects) {
			t.Fatalf("subjects %v, after reopen %v", subjects, again)
		}
		if b, _ := os.ReadFile(path); string(b) != string(repaired) {
			t.Fatalf("a second Open changed the repaired file")
		}
		if _, err := ks.Key(t.Context(), "fuzz-new-subject-0123456789", true); err != nil && !errors.Is(err, pii.ErrDestroyed) && !errors.Is(err, pii.ErrCorruptKey) {
			t.Fatalf("create after repair: %v", err)
		}
	})
}
