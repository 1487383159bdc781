package embedded

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/kefu-crm/kefu/eventstore"
)

// keyIdentity, in the meta bucket, holds the identity of the data directory
// the store belongs to (16 bytes), written by its owner with SetIdentity.
var keyIdentity = []byte("datadir")

// Identity returns the data directory identity recorded in the store by
// SetIdentity, and whether there is one.
func (s *Store) Identity() (uuid.UUID, bool, error) {
	var (
		id uuid.UUID
		ok bool
	)
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyIdentity)
		if v == nil {
			return nil
		}
		if len(v) != len(id) {
			return &CorruptError{Detail: fmt.Sprintf("identity %x is not 16 bytes", v)}
		}
		copy(id[:], v)
		ok = true
		return nil
	})
	return id, ok, err
}

// SetIdentity records the identity of the data directory the store belongs
// to, durably. Recording the identity already recorded is a no-op; another
// one is refused.
func (s *Store) SetIdentity(id uuid.UUID) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	if err := s.Damage(); err != nil {
		return err
	}
	err := s.protect("set identity", func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if v := meta.Get(keyIdentity); v != nil {
				if len(v) == len(id) && uuid.UUID(v) == id {
					return nil
				}
				return fmt.Errorf("embedded: %s already belongs to data directory %x, not %s", s.path, v, id)
			}
			return meta.Put(keyIdentity, id[:])
		})
	})
	return s.annotate(err)
}

// BackupInfo describes a copy written by Backup.
type BackupInfo struct {
	// Head is the last position in the copy.
	Head eventstore.Position
	// Bytes is the size of the copy.
	Bytes int64
}

// Backup writes a consistent copy of the store's file to w: the file as of
// one read transaction (bbolt's Tx.WriteTo), so appends go on meanwhile and
// the copy holds every event committed before it began and none after. The
// copy is a complete store file: put it in a data directory's events/ as
// FileName. A damaged store refuses (the copy would carry the damage).
func (s *Store) Backup(ctx context.Context, w io.Writer) (BackupInfo, error) {
	var info BackupInfo
	err := s.view(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); len(k) == 8 {
			info.Head = eventstore.Position(binary.BigEndian.Uint64(k))
		}
		n, err := tx.WriteTo(ctxWriter{ctx, w})
		info.Bytes = n
		if err != nil {
			return fmt.Errorf("embedded: backup of %s: %w", s.path, err)
		}
		return nil
	})
	return info, err
}

// ctxWriter stops a long copy when ctx ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
