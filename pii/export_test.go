package pii

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kefu-crm/kefu/internal/durable"
)

// SetBeforeSync installs a hook called before every fsync of k.
func SetBeforeSync(k *FileKeystore, f func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.beforeSync = f
}

// WriteKeystoreFile writes a keystore file in dir with n live keys for
// subjects subject(0..n-1), quickly (one write), for benchmarks of Open.
func WriteKeystoreFile(dir string, n int, subject func(int) string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b := []byte(fileHeader)
	key := make([]byte, KeySize)
	for i := range n {
		if _, err := rand.Read(key); err != nil {
			return err
		}
		b = appendRecord(b, subject(i), stateLive, key)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o600); err != nil {
		return fmt.Errorf("write keystore: %w", err)
	}
	return nil
}

// TempFile is the temporary file writeAtomic writes.
type TempFile = durable.TempFile

// WriteAtomicWith is writeAtomic with the temporary file from create.
func WriteAtomicWith(dir, file string, data []byte, create func(dir string) (TempFile, error)) error {
	return durable.WriteFileWith(file, data, 0o600, create)
}
