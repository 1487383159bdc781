package pii_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kefu-crm/kefu/pii"
)

// keystoreWith creates keys for subjects in a new keystore, closes it, lets
// change alter the file and returns the directory.
func keystoreWith(t *testing.T, subjects []string, change func(b []byte) []byte) (string, map[string][]byte) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "keys")
	ks := openKeys(t, dir)
	keys := map[string][]byte{}
	for _, s := range subjects {
		keys[s] = mustKey(t, ks, s, true)
	}
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, pii.FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, change(b), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, keys
}

// The last 20 bytes of keys.dat cut off used to be repaired silently — the
// last key dropped. TornTail is asked first, with the record's subject.
func TestTornTailIsAskedBeforeCutting(t *testing.T) {
	subjects := []string{"a1", "b22", "c333"}
	cut := func(b []byte) []byte { return b[:len(b)-20] }

	dir, _ := keystoreWith(t, subjects, cut)
	path := filepath.Join(dir, pii.FileName)
	before, _ := os.ReadFile(path)
	var got []pii.TornTail
	refuse := errors.New("that key was handed out")
	_, err := pii.OpenFileKeystoreWith(dir, pii.FileKeystoreOptions{TornTail: func(tt pii.TornTail) error {
		got = append(got, tt)
		return refuse
	}})
	if !errors.Is(err, refuse) {
		t.Fatalf("open: %v, want the callback's error", err)
	}
	want := pii.TornTail{Path: path, Offset: int64(len(before) - (4 + 38 - 20)), Bytes: 4 + 38 - 20, Subject: "c333"}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("TornTail got %+v, want %+v", got, want)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Fatal("a refused open changed the file")
	}

	// Accepted: cut off as before.
	ks, err := pii.OpenFileKeystoreWith(dir, pii.FileKeystoreOptions{TornTail: func(pii.TornTail) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if st := ks.Stats(); st.Live != 2 || st.FileBytes != int64(len(before)-(4+38-20)) {
		t.Fatalf("after the accepted cut: %+v", st)
	}

	// A tail too short to name its subject is reported without one.
	dir2, _ := keystoreWith(t, subjects, func(b []byte) []byte { return b[:len(b)-(4+38-1)] })
	var short []pii.TornTail
	ks2, err := pii.OpenFileKeystoreWith(dir2, pii.FileKeystoreOptions{TornTail: func(tt pii.TornTail) error { short = append(short, tt); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ks2.Close()
	if len(short) != 1 || short[0].Subject != "" || short[0].Bytes != 1 {
		t.Fatalf("short tail: %+v", short)
	}
}

func TestDamagedListsCorruptRecords(t *testing.T) {
	dir, _ := keystoreWith(t, []string{"a1", "b22", "c333"}, func(b []byte) []byte {
		i := bytes.Index(b, []byte("\x03b22"))
		b[i+10] ^= 1 // a key byte
		return b
	})
	ks := openKeys(t, dir)
	defer ks.Close()
	d := ks.Damaged()
	if len(d) != 1 || d[0].Subject != "b22" || d[0].Offset != 8+2+38 {
		t.Fatalf("Damaged: %+v", d)
	}
}

func TestKeystoreIdentity(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	ks := openKeys(t, dir)
	if _, ok := ks.Identity(); ok {
		t.Fatal("a new keystore has an identity")
	}
	mustKey(t, ks, "a1", true)
	id := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	if err := ks.SetIdentity(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if err := ks.SetIdentity(t.Context(), id); err != nil {
		t.Fatalf("same identity again: %v", err)
	}
	if err := ks.SetIdentity(t.Context(), [16]byte{9}); err == nil {
		t.Fatal("another identity was accepted")
	}
	mustKey(t, ks, "identity", true) // a subject of that name is a customer like any other
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := pii.ReadFileKeystoreIdentity(dir); err != nil || !ok || got != id {
		t.Fatalf("ReadFileKeystoreIdentity: %x %v %v", got, ok, err)
	}
	ks = openKeys(t, dir)
	defer ks.Close()
	if got, ok := ks.Identity(); !ok || got != id {
		t.Fatalf("after reopening: %x %v", got, ok)
	}
	if got := ks.Subjects(); !slices.Equal(got, []string{"a1", "identity"}) {
		t.Fatalf("Subjects %v: the identity record is not a subject", got)
	}
	if st := ks.Stats(); st.Live != 2 {
		t.Fatalf("Stats %+v", st)
	}
}

func TestKeystoreBackup(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	ks := openKeys(t, dir)
	defer ks.Close()
	keys := map[string][]byte{}
	for _, s := range []string{"a1", "b22", "c333"} {
		keys[s] = mustKey(t, ks, s, true)
	}
	if err := ks.Destroy(t.Context(), "b22"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := ks.Backup(t.Context(), &buf)
	if err != nil || n != int64(buf.Len()) || n != ks.Stats().FileBytes {
		t.Fatalf("Backup: %d bytes, %v; buffer %d, file %d", n, err, buf.Len(), ks.Stats().FileBytes)
	}
	mustKey(t, ks, "later", true) // writes go on after the copy
	copyDir := filepath.Join(t.TempDir(), "keys")
	if err := os.MkdirAll(copyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(copyDir, pii.FileName), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c := openKeys(t, copyDir)
	defer c.Close()
	for _, s := range []string{"a1", "c333"} {
		if got := mustKey(t, c, s, false); !bytes.Equal(got, keys[s]) {
			t.Fatalf("%s in the copy: %x", s, got)
		}
	}
	if _, err := c.Key(t.Context(), "b22", false); !errors.Is(err, pii.ErrDestroyed) {
		t.Fatalf("b22 in the copy: %v, want ErrDestroyed", err)
	}
}
