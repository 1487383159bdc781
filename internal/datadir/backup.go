package datadir

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore/embedded"
)

// # Backups
//
// A backup is a data directory: events/events.db, keys/keys.dat, the
// checkpoints, and backup.json describing them. Dir.WriteBackup takes it
// from an open directory — the one a running server holds — without
// stopping writes, in an order that makes the copy consistent:
//
//  1. checkpoints/ (process managers' progress and the churn model): each
//     is at or before the log's head when it is copied, so at or before
//     the head of the log copied next;
//  2. the log, as of one read transaction (embedded.Store.Backup);
//  3. the keystore, as synced when its copy starts (pii.FileKeystore.Backup):
//     a key is durable before any event sealed with it is appended, so
//     every event of the log copy finds its key (the copy may hold a few
//     keys of later events, as after a crash; keys destroyed by an erasure
//     that the log copy does not hold yet read as erased);
//  4. backup.json: the identity, the log's head, each file's size and
//     SHA-256.
//
// VerifyBackup checks a copy: sizes and digests, then opens it as a data
// directory (every check of integrity.go) and reads every page of the log
// (embedded.Store.VerifyFull). The greetings outbox is not part of a backup:
// it is what the default sender delivered, not state.

// BackupFormat is the format marker of backup.json.
const BackupFormat = "kefu-backup/1"

// ManifestName is the backup's description, in the backup directory.
const ManifestName = "backup.json"

// Manifest is backup.json.
type Manifest struct {
	Format string `json:"format"`
	// Identity is the data directory's identity (log and keystore agree).
	Identity string `json:"identity"`
	// Head is the last position in the log copy.
	Head uint64 `json:"head"`
	// CreatedAt is when the copy began.
	CreatedAt time.Time `json:"createdAt"`
	// Files lists every file of the backup but backup.json, in the order
	// written, with slash-separated paths relative to the backup directory.
	Files []ManifestFile `json:"files"`
}

// ManifestFile is one file of a backup.
type ManifestFile struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// ErrBackup: a backup that is incomplete or does not match its manifest.
var ErrBackup = errors.New("datadir: invalid backup")

// WriteBackup writes a consistent copy of the directory (see the comment
// above): for each file, in order, it calls create with the file's
// slash-separated path in the backup and writes the file to the writer it
// returns; backup.json comes last. It works on the embedded store only.
func (d *Dir) WriteBackup(ctx context.Context, create func(name string) (io.Writer, error)) (Manifest, error) {
	store, ok := d.Store.(*embedded.Store)
	if !ok || d.Keys == nil {
		return Manifest{}, errors.New("datadir: backups are of the embedded store; back up EventStoreDB with its own tools")
	}
	id, hasID, err := store.Identity()
	if err != nil {
		return Manifest{}, err
	}
	if !hasID {
		return Manifest{}, errors.New("datadir: the log has no identity")
	}
	m := Manifest{Format: BackupFormat, Identity: id.String(), CreatedAt: time.Now().UTC()}
	add := func(name string, write func(io.Writer) error) error {
		w, err := create(name)
		if err != nil {
			return err
		}
		h := sha256.New()
		cw := &countWriter{w: io.MultiWriter(w, h)}
		if err := write(cw); err != nil {
			return fmt.Errorf("datadir: backup of %s: %w", name, err)
		}
		m.Files = append(m.Files, ManifestFile{Path: name, Bytes: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))})
		return nil
	}
	ckpts, err := os.ReadDir(d.CheckpointDir())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, fmt.Errorf("datadir: backup: %w", err)
	}
	for _, e := range ckpts {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue // temporaries of a save in progress
		}
		f, err := os.Open(filepath.Join(d.CheckpointDir(), e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Manifest{}, fmt.Errorf("datadir: backup: %w", err)
		}
		err = add("checkpoints/"+e.Name(), func(w io.Writer) error { _, err := io.Copy(w, f); return err })
		f.Close()
		if err != nil {
			return Manifest{}, err
		}
	}
	if err := add(eventsFile, func(w io.Writer) error {
		info, err := store.Backup(ctx, w)
		m.Head = uint64(info.Head)
		return err
	}); err != nil {
		return Manifest{}, err
	}
	if err := add(keysFile, func(w io.Writer) error { _, err := d.Keys.Backup(ctx, w); return err }); err != nil {
		return Manifest{}, err
	}
	w, err := create(ManifestName)
	if err != nil {
		return Manifest{}, err
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if _, err := w.Write(append(b, '\n')); err != nil {
		return Manifest{}, fmt.Errorf("datadir: backup of %s: %w", ManifestName, err)
	}
	return m, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// BackupFilePath checks a file name of a backup stream (relative,
// slash-separated, one of the files a backup holds) and returns it as a
// path under dir.
func BackupFilePath(dir, name string) (string, error) {
	clean := path.Clean(name)
	ok := clean == name && !path.IsAbs(name) && !strings.HasPrefix(name, "../") &&
		(name == eventsFile || name == keysFile || name == ManifestName ||
			strings.HasPrefix(name, "checkpoints/") && strings.Count(name, "/") == 1 && len(name) > len("checkpoints/"))
	if !ok {
		return "", fmt.Errorf("%w: unexpected file %q", ErrBackup, name)
	}
	return filepath.Join(dir, filepath.FromSlash(name)), nil
}

// VerifyBackup checks the backup in dir against its manifest and opens it
// as a data directory, reading every page of its log. It returns the
// manifest and how many keys the copy holds.
func VerifyBackup(ctx context.Context, dir string) (Manifest, int, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, 0, fmt.Errorf("%w: %s: %v", ErrBackup, dir, err)
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Format != BackupFormat {
		return m, 0, fmt.Errorf("%w: %s is not a %s manifest (%v)", ErrBackup, filepath.Join(dir, ManifestName), BackupFormat, err)
	}
	names := make([]string, 0, len(m.Files))
	for _, f := range m.Files {
		p, err := BackupFilePath(dir, f.Path)
		if err != nil {
			return m, 0, err
		}
		names = append(names, f.Path)
		got, n, err := digest(p)
		if err != nil {
			return m, 0, fmt.Errorf("%w: %v", ErrBackup, err)
		}
		if n != f.Bytes || got != f.SHA256 {
			return m, 0, fmt.Errorf("%w: %s has %d bytes with SHA-256 %s; the manifest says %d bytes, %s", ErrBackup, p, n, got, f.Bytes, f.SHA256)
		}
	}
	if !slices.Contains(names, eventsFile) || !slices.Contains(names, keysFile) {
		return m, 0, fmt.Errorf("%w: %s lacks %s or %s", ErrBackup, dir, eventsFile, keysFile)
	}
	d, err := Open(dir, Options{MustExist: true})
	if err != nil {
		return m, 0, err
	}
	defer d.Close()
	store := d.Store.(*embedded.Store)
	if err := store.VerifyFull(ctx); err != nil {
		return m, 0, err
	}
	head, err := store.Head(ctx)
	if err != nil {
		return m, 0, err
	}
	id, _, err := store.Identity()
	if err != nil {
		return m, 0, err
	}
	if uint64(head) != m.Head || id.String() != m.Identity {
		return m, 0, fmt.Errorf("%w: %s holds data directory %s up to position %d; the manifest says %s up to %d", ErrBackup, dir, id, head, m.Identity, m.Head)
	}
	st := d.Keys.Stats()
	return m, st.Live + st.Destroyed, nil
}

func digest(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	var h hash.Hash = sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Identity returns the data directory's identity (embedded store only).
func (d *Dir) Identity() (uuid.UUID, bool, error) {
	store, ok := d.Store.(*embedded.Store)
	if !ok {
		return uuid.UUID{}, false, nil
	}
	return store.Identity()
}
