package pii

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// FileKeystore keeps each subject's key in its own small file:
//
//	<dir>/<shard>/<subject>.key      shard = first 2 hex digits of SHA-256(subject)
//
// A key file is 45 bytes: the magic "kefudk01", a state byte ('K' live,
// 'X' destroyed), 32 bytes of key (zeros when destroyed) and a CRC-32C of
// the preceding 41 bytes (big-endian).
//
// Why one file per subject, not one database: destroying a key must leave
// no copy of it in the data directory. A B+tree file (bbolt) keeps deleted
// values in free pages until they are reused, and a log-structured store
// keeps them until compaction; with one file per subject, Destroy first
// overwrites the file in place with zeros and fsyncs it (on filesystems that
// overwrite in place, such as ext4 and xfs, that scrubs the key's disk
// blocks too), then atomically replaces it with a destroyed-state file
// (write temporary, fsync, rename, fsync directory). The destroyed state
// stays so that the key is never re-created for an erased subject; it holds
// no key material. A file of all zeros (a Destroy interrupted between the
// two steps) reads as destroyed.
//
// Files are created with mode 0600 and written durably (fsync of the file
// and of its directory) before Key returns a new key. It is safe for
// concurrent use within one process; the data directory's lock (held by the
// event store) keeps other processes out.
type FileKeystore struct {
	dir   string
	locks [256]sync.Mutex // by shard
}

var _ Keystore = (*FileKeystore)(nil)

const (
	fileMagic = "kefudk01"
	fileSize  = len(fileMagic) + 1 + KeySize + 4
	stateLive = 'K'
	stateGone = 'X'
)

// OpenFileKeystore opens (creating it if needed) a keystore in dir, e.g.
// "<data dir>/keys".
func OpenFileKeystore(dir string) (*FileKeystore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pii: keystore: %w", err)
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return nil, fmt.Errorf("pii: keystore: %w", err)
	}
	// A crash between writing a temporary file and renaming it leaves the
	// temporary behind; it may hold a key that was never used. Remove it so
	// that no stray copy of a key survives.
	stale, err := filepath.Glob(filepath.Join(dir, "*", ".tmp-*"))
	if err != nil {
		return nil, fmt.Errorf("pii: keystore: %w", err)
	}
	for _, f := range stale {
		if err := os.Remove(f); err != nil {
			return nil, fmt.Errorf("pii: keystore: %w", err)
		}
	}
	return &FileKeystore{dir: dir}, nil
}

// Dir is the keystore's directory.
func (k *FileKeystore) Dir() string { return k.dir }

func (k *FileKeystore) paths(subject string) (shardIdx int, shardDir, file string) {
	sum := sha256.Sum256([]byte(subject))
	shardDir = filepath.Join(k.dir, hex.EncodeToString(sum[:1]))
	return int(sum[0]), shardDir, filepath.Join(shardDir, subject+".key")
}

// Key implements Keystore.
func (k *FileKeystore) Key(ctx context.Context, subject string, create bool) ([]byte, error) {
	if err := checkSubject(ctx, subject); err != nil {
		return nil, err
	}
	idx, shard, file := k.paths(subject)
	k.locks[idx].Lock()
	defer k.locks[idx].Unlock()
	key, err := readKeyFile(file)
	switch {
	case err == nil:
		return key, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w (%s)", err, subject)
	case !create:
		return nil, fmt.Errorf("%w: %s", ErrNoKey, subject)
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(shard, 0o700); err != nil {
		return nil, fmt.Errorf("pii: keystore: %w", err)
	}
	if err := syncDir(k.dir); err != nil {
		return nil, fmt.Errorf("pii: keystore: %w", err)
	}
	if err := writeAtomic(shard, file, encodeKeyFile(stateLive, key)); err != nil {
		return nil, err
	}
	return key, nil
}

// Destroy implements Keystore.
func (k *FileKeystore) Destroy(ctx context.Context, subject string) error {
	if err := checkSubject(ctx, subject); err != nil {
		return err
	}
	idx, shard, file := k.paths(subject)
	k.locks[idx].Lock()
	defer k.locks[idx].Unlock()
	_, err := readKeyFile(file)
	switch {
	case errors.Is(err, ErrDestroyed):
		return nil
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(shard, 0o700); err != nil {
			return fmt.Errorf("pii: keystore: %w", err)
		}
	default:
		// Live (or corrupt): scrub in place first.
		if err := scrub(file); err != nil {
			return err
		}
	}
	return writeAtomic(shard, file, encodeKeyFile(stateGone, make([]byte, KeySize)))
}

func encodeKeyFile(state byte, key []byte) []byte {
	b := make([]byte, 0, fileSize)
	b = append(b, fileMagic...)
	b = append(b, state)
	b = append(b, key...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

func readKeyFile(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("pii: keystore: %w", err)
	}
	if len(b) > 0 && bytes.Count(b, []byte{0}) == len(b) {
		return nil, ErrDestroyed // interrupted Destroy
	}
	if len(b) != fileSize || string(b[:len(fileMagic)]) != fileMagic ||
		binary.BigEndian.Uint32(b[fileSize-4:]) != crc32.Checksum(b[:fileSize-4], crc32.MakeTable(crc32.Castagnoli)) {
		return nil, fmt.Errorf("%w: %s", ErrCorruptKey, filepath.Base(file))
	}
	switch b[len(fileMagic)] {
	case stateLive:
		return append([]byte(nil), b[len(fileMagic)+1:fileSize-4]...), nil
	case stateGone:
		return nil, ErrDestroyed
	default:
		return nil, fmt.Errorf("%w: %s: unknown state", ErrCorruptKey, filepath.Base(file))
	}
}

// scrub overwrites file in place with zeros and fsyncs it.
func scrub(file string) error {
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pii: keystore: %w", err)
	}
	st, err := f.Stat()
	if err == nil {
		_, err = f.WriteAt(make([]byte, st.Size()), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pii: keystore: scrub: %w", err)
	}
	return nil
}

// writeAtomic replaces file with data: temporary file, fsync, rename, fsync
// of the directory.
func writeAtomic(dir, file string, data []byte) error {
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("pii: keystore: %w", err)
	}
	name := tmp.Name()
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, file)
	}
	if err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("pii: keystore: write %s: %w", filepath.Base(file), err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("pii: keystore: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
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
