package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/internal/durable"
	"github.com/kefu-crm/kefu/pii"
	"github.com/kefu-crm/kefu/server"
)

const (
	backupSummary  = "copy a data directory (log, keys, checkpoints) consistently, even while kefu serve runs on it"
	restoreSummary = "verify a backup and copy it into a new data directory"
)

// runBackup copies --data into --out. A directory that a running server
// holds (it is locked) is copied through that server's admin endpoint, so
// that the copy is one consistent instant of a live store; otherwise the
// command opens the directory itself. Either way the copy is written into a
// temporary directory beside --out, verified (datadir.VerifyBackup: every
// check a start makes, every page of the log read), synced and renamed.
func runBackup(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "backup", "backup [--data DIR] --out BACKUP_DIR [--addr HOST:PORT] [--token TOKEN]")
	data := fs.String("data", envDefault(e, "KEFU_DATA", "./kefu-data"), "data directory (env KEFU_DATA)")
	out := fs.String("out", "", "backup directory to create (must not exist)")
	addr := fs.String("addr", envDefault(e, "KEFU_ADDR", "127.0.0.1:8080"), "address of the kefu serve running on --data, if one is (env KEFU_ADDR)")
	token := fs.String("token", envDefault(e, "KEFU_TOKEN", ""), "ADMIN bearer token, when the server runs with --auth (env KEFU_TOKEN)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out BACKUP_DIR is required", errUsage)
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("%w: --out %s already exists: choose a new directory", errUsage, *out)
	}
	start := time.Now()
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(*out)), "."+filepath.Base(*out)+".tmp-")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmp) // gone after the rename
	create := func(name string) (io.WriteCloser, error) {
		p, err := datadir.BackupFilePath(tmp, name)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, err
		}
		return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}

	how := "opened directly"
	dir, err := datadir.Open(*data, datadir.Options{Logger: e.log, MustExist: true})
	switch {
	case errors.Is(err, eventstore.ErrLocked):
		how = "through the server at " + *addr
		if err := backupFromServer(ctx, *data, *addr, *token, create); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		var files []io.Closer
		_, err = dir.WriteBackup(ctx, func(name string) (io.Writer, error) {
			f, err := create(name)
			if err == nil {
				files = append(files, f)
			}
			return f, err
		})
		for _, f := range files {
			err = errors.Join(err, f.Close())
		}
		err = errors.Join(err, dir.Close())
		if err != nil {
			return err
		}
	}
	m, keys, err := datadir.VerifyBackup(ctx, tmp)
	if err != nil {
		return fmt.Errorf("the copy of %s failed verification, nothing was kept: %w", *data, err)
	}
	if err := syncTree(tmp); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := durable.SyncDir(filepath.Dir(filepath.Clean(*out))); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	var bytes int64
	for _, f := range m.Files {
		bytes += f.Bytes
	}
	fmt.Fprintf(e.stdout, "backed up %s (%s) to %s in %s: %d events, %d keys, %d files, %.1f MB; verified\n",
		*data, how, *out, time.Since(start).Round(time.Millisecond), m.Head, keys, len(m.Files), float64(bytes)/1e6)
	fmt.Fprintf(e.stdout, "restore with: kefu restore --from %s --data NEW_DIR\n", *out)
	return nil
}

// backupFromServer asks the server at addr, which must serve the data
// directory dataDir (same identity), for a copy.
func backupFromServer(ctx context.Context, dataDir, addr, token string, create func(string) (io.WriteCloser, error)) error {
	want, ok, err := pii.ReadFileKeystoreIdentity(filepath.Join(dataDir, "keys"))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s is held by a running server, but its keystore has no identity yet: try again once the server has started", dataDir)
	}
	url := "http://" + addr + server.BackupPath
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return fmt.Errorf("%w: --addr %s: %v", errUsage, addr, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s is held by a running server, and the server at %s does not answer (%v): pass the server's address with --addr", dataDir, addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("the server at %s refused the backup (%s): %s", addr, resp.Status, strings.TrimSpace(string(b)))
	}
	if got := resp.Header.Get(server.BackupIdentityHeader); got != uuid.UUID(want).String() {
		return fmt.Errorf("the server at %s serves data directory %s, not %s (%s): pass the address of the server running on --data with --addr", addr, got, dataDir, uuid.UUID(want))
	}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		return fmt.Errorf("the server at %s answered %q, not a backup", addr, resp.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	manifest := false
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("backup from %s cut off: %w", addr, err)
		}
		if p.Header.Get(server.BackupErrorHeader) != "" {
			b, _ := io.ReadAll(io.LimitReader(p, 4096))
			return fmt.Errorf("the server at %s failed the backup: %s", addr, b)
		}
		name := p.Header.Get(server.BackupFileHeader)
		f, err := create(name)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, p)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("backup from %s: %s: %w", addr, name, err)
		}
		manifest = manifest || name == datadir.ManifestName
	}
	if !manifest {
		return fmt.Errorf("backup from %s is incomplete (no %s)", addr, datadir.ManifestName)
	}
	return nil
}

// runRestore verifies a backup and copies it into a new data directory.
func runRestore(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "restore", "restore --from BACKUP_DIR --data NEW_DIR")
	from := fs.String("from", "", "backup directory written by kefu backup")
	data := fs.String("data", "", "data directory to create (must not exist, or be empty)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *data == "" {
		return fmt.Errorf("%w: --from BACKUP_DIR and --data NEW_DIR are required", errUsage)
	}
	if entries, err := os.ReadDir(*data); err == nil && len(entries) > 0 {
		return fmt.Errorf("%w: --data %s is not empty: restore into a new directory (move the damaged one aside first; keep it until the restored one serves)", errUsage, *data)
	}
	m, keys, err := datadir.VerifyBackup(ctx, *from)
	if err != nil {
		return fmt.Errorf("%s cannot be restored: %w", *from, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(*data)), "."+filepath.Base(*data)+".tmp-")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, f := range m.Files {
		src, _ := datadir.BackupFilePath(*from, f.Path)
		dst, _ := datadir.BackupFilePath(tmp, f.Path)
		if err := copyFile(src, dst); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	if err := syncTree(tmp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	_ = os.Remove(*data) // an empty directory, if given one
	if err := os.Rename(tmp, *data); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := durable.SyncDir(filepath.Dir(filepath.Clean(*data))); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(e.stdout, "restored %s into %s: %d events (backed up %s), %d keys\nserve it with: kefu serve --data %s\n",
		*from, *data, m.Head, m.CreatedAt.Format(time.RFC3339), keys, *data)
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncTree fsyncs every file and directory under root.
func syncTree(root string) error {
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
}
