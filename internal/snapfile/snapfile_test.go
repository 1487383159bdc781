package snapfile

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func key(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func read(path string, k []byte) (Header, []byte, error) {
	s, err := Open(path, k)
	if err != nil {
		return Header{}, nil, err
	}
	defer s.Close()
	b, err := io.ReadAll(s)
	return s.Header, b, err
}

func TestRoundTripAndTampering(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "readmodels.snap")
	k := key(t)
	body := bytes.Repeat([]byte("张三 13800138000 "), 150000) // > 2 chunks
	h := Header{Position: 42, EventID: [16]byte{1, 2, 3}, RecordedAt: time.Unix(1700000000, 5).UTC(), Generation: 7}
	h.Fingerprint[0] = 9
	n, err := Write(path, h, k, func(w io.Writer) error { _, err := w.Write(body); return err })
	if err != nil || n != int64(len(body)) {
		t.Fatalf("Write: %d, %v", n, err)
	}
	got, b, err := read(path, k)
	if err != nil || !bytes.Equal(b, body) {
		t.Fatalf("read back: %v (%d bytes of %d)", err, len(b), len(body))
	}
	if got.Position != 42 || got.Generation != 7 || got.EventID != h.EventID || !got.RecordedAt.Equal(h.RecordedAt) || got.Fingerprint != h.Fingerprint {
		t.Fatalf("header %+v", got)
	}
	if hh, err := ReadHeader(path); err != nil || hh.Position != 42 {
		t.Fatalf("ReadHeader: %+v %v", hh, err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("13800138000")) || bytes.Contains(raw, []byte("张三")) {
		t.Fatal("the body is in clear")
	}
	if _, _, err := read(path, key(t)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("another key: %v", err)
	}
	bad := filepath.Join(dir, "bad")
	for name, f := range map[string]func([]byte) []byte{
		"cut at the end":     func(b []byte) []byte { return b[:len(b)-1] },
		"last chunk dropped": func(b []byte) []byte { return b[:headerSize+2*(4+chunkSize+16)] },
		"flipped body byte":  func(b []byte) []byte { b[headerSize+100] ^= 1; return b },
		"position changed":   func(b []byte) []byte { b[len(magic)+32] ^= 1; return b },
		"trailing garbage":   func(b []byte) []byte { return append(b, 0) },
	} {
		if err := os.WriteFile(bad, f(bytes.Clone(raw)), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := read(bad, k); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A failed body leaves the old snapshot.
	if _, err := Write(path, h, k, func(io.Writer) error { return errors.New("boom") }); err == nil {
		t.Fatal("a failing body wrote")
	}
	if _, b, err := read(path, k); err != nil || !bytes.Equal(b, body) {
		t.Fatalf("after a failed write: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*")); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}
