// Package durable writes files so that a crash leaves either the old file
// or the whole new one: a temporary file in the same directory, fsync,
// rename, fsync of the directory. Every command that keeps state beside
// the event log (key files, checkpoints, the churn model, the seed marker,
// backups) writes through it.
package durable

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile replaces path with data, mode perm. Any failure (mode, write,
// short write, fsync, close, rename) is returned and the temporary file
// removed: path is then either as it was or complete.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return WriteFileWith(path, data, perm, func(dir string) (TempFile, error) {
		return os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	})
}

// TempFile is what WriteFile does with its temporary file (an *os.File;
// tests substitute one that fails).
type TempFile interface {
	Name() string
	Chmod(mode fs.FileMode) error
	Write(b []byte) (int, error)
	Sync() error
	Close() error
}

// WriteFileWith is WriteFile with the temporary file from create.
func WriteFileWith(path string, data []byte, perm fs.FileMode, create func(dir string) (TempFile, error)) error {
	dir := filepath.Dir(path)
	tmp, err := create(dir)
	if err != nil {
		return err
	}
	name := tmp.Name()
	err = tmp.Chmod(perm)
	if err == nil {
		var n int
		n, err = tmp.Write(data)
		if err == nil && n < len(data) {
			err = io.ErrShortWrite
		}
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		if rerr := os.Remove(name); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return SyncDir(dir)
}

// SyncDir makes the entries of dir (a file created, renamed or removed in
// it) durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
