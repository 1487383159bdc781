package pii_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/kefu-crm/kefu/pii"
)

// failingFile is a real temporary file whose chosen operation fails.
type failingFile struct {
	*os.File
	fail  string // "chmod", "write", "partial", "short", "sync", "close"
	cause error
}

func (f *failingFile) Chmod(m fs.FileMode) error {
	if f.fail == "chmod" {
		return f.cause
	}
	return f.File.Chmod(m)
}

func (f *failingFile) Write(b []byte) (int, error) {
	switch f.fail {
	case "write":
		return 0, f.cause
	case "partial": // part of the data reached the file, then an error
		n, _ := f.File.Write(b[:len(b)/2])
		return n, f.cause
	case "short": // a writer breaking io.Writer's contract: n < len(b), no error
		return f.File.Write(b[:len(b)/2])
	}
	return f.File.Write(b)
}

func (f *failingFile) Sync() error {
	if f.fail == "sync" {
		return f.cause
	}
	return f.File.Sync()
}

func (f *failingFile) Close() error {
	err := f.File.Close()
	if f.fail == "close" {
		return f.cause
	}
	return err
}

// Every failure while writing the keystore file's temporary copy is
// returned, the temporary file is removed and nothing is renamed into
// place: the file is either complete or absent.
func TestWriteAtomicReportsEveryFailure(t *testing.T) {
	data := []byte("kefuks02")
	for _, fail := range []string{"chmod", "write", "partial", "short", "sync", "close"} {
		t.Run(fail, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, pii.FileName)
			cause := errors.New("injected " + fail + " failure")
			err := pii.WriteAtomicWith(dir, target, data, func(dir string) (pii.TempFile, error) {
				f, err := os.CreateTemp(dir, ".tmp-*")
				if err != nil {
					return nil, err
				}
				return &failingFile{File: f, fail: fail, cause: cause}, nil
			})
			want := cause
			if fail == "short" {
				want = io.ErrShortWrite
			}
			if err == nil {
				t.Errorf("the %s failure was not reported", fail)
			} else if !errors.Is(err, want) {
				t.Errorf("error %v does not wrap %v", err, want)
			}
			if _, serr := os.Stat(target); !errors.Is(serr, fs.ErrNotExist) {
				b, _ := os.ReadFile(target)
				t.Errorf("after a %s failure %s exists (%d bytes: %q)", fail, pii.FileName, len(b), b)
			}
			left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
			if len(left) > 0 {
				t.Errorf("temporary file left behind: %v", left)
			}
		})
	}
	t.Run("no failure", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, pii.FileName)
		err := pii.WriteAtomicWith(dir, target, data, func(dir string) (pii.TempFile, error) { return os.CreateTemp(dir, ".tmp-*") })
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(target)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", st.Mode().Perm())
		}
		if b, _ := os.ReadFile(target); !bytes.Equal(b, data) {
			t.Errorf("content %q, want %q", b, data)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(left) > 0 {
			t.Errorf("temporary file left behind: %v", left)
		}
	})
}
