package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/kefu-crm/kefu/eventstore"
)

// # Damaged files
//
// bbolt maps the file into memory and trusts what it finds there: a file
// cut short makes the first read past its end a SIGBUS, which kills the
// process; a page overwritten with zeros or garbage makes bbolt panic on an
// assertion (or fault on a pointer it computed from garbage). This file
// keeps both from reaching the caller as a crash:
//
//   - Before bbolt opens the file, checkFile reads its two meta pages with
//     plain reads (no mapping), validates them as bbolt does (magic,
//     version, FNV-64a checksum) and picks the one bbolt would, then checks
//     that the file holds every page that meta page counts (its high-water
//     mark), that the root and freelist pages are where it says and are of
//     their type, and that every page ID on the freelist lies below the
//     high-water mark. This costs a few page reads, whatever the size of
//     the store, and refuses a truncated file before anything is mapped.
//   - Every bbolt call runs under protect: faults on the mapping become
//     panics (debug.SetPanicOnFault, for the calling goroutine only), and
//     any panic is recovered into a *DamagedError naming the file. The
//     first damage found is kept: from then on the store refuses appends
//     and reads with it (Damage reports it), since a write transaction
//     built on a damaged page would spread the damage.
//   - Verify walks every page of every bucket (about 130 ms for a
//     380 MB, 720k-event file, against seconds to rebuild the read models
//     from it), so damage anywhere is found at once rather than when a
//     request happens to touch it; VerifyFull adds bbolt's own Check
//     (freelist and reachability of every page, about 4× the walk).

// ErrDamaged: the store's file is damaged (truncated, overwritten pages,
// inconsistent meta pages). See DamagedError.
var ErrDamaged = errors.New("embedded: damaged store file")

// DamagedError says which file is damaged and how. It matches ErrDamaged.
type DamagedError struct {
	// Path is the store's file.
	Path string
	// Detail says what is wrong.
	Detail string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("embedded: %s is damaged: %s; the log cannot be read safely: stop kefu and restore the data directory from a backup (README, \"Backup and restore\")", e.Path, e.Detail)
}

// Is matches ErrDamaged.
func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }

// Layout of a bbolt (v1.x, format version 2) file, as go.etcd.io/bbolt's
// internal/common package defines it, in the machine's byte order: every
// page starts with a 16-byte header (id uint64, flags uint16, count uint16,
// overflow uint32); pages 0 and 1 are meta pages whose body is magic,
// version, pageSize, flags (uint32 each), root bucket (root pgid, sequence),
// freelist pgid, high-water pgid, txid and an FNV-64a checksum of the
// preceding 56 bytes (uint64 each).
const (
	boltMagic          = 0xED0CDAED
	boltVersion        = 2
	boltPageHeader     = 16
	boltMetaSize       = 64
	boltBranchPage     = 0x01
	boltLeafPage       = 0x02
	boltFreelistPage   = 0x10
	boltNoFreelist     = ^uint64(0)
	boltMinPageSize    = 1 << 10
	boltMaxPageSize    = 1 << 24
	boltFreelistMaxIDs = 0xFFFF // count == 0xFFFF: the first element holds the count
)

// boltMeta is a decoded meta page.
type boltMeta struct {
	pageSize, version uint32
	root, freelist    uint64
	pgid, txid        uint64
}

// parseMeta decodes and validates the meta page at the start of b.
func parseMeta(b []byte) (boltMeta, error) {
	if len(b) < boltPageHeader+boltMetaSize {
		return boltMeta{}, errors.New("too short for a meta page")
	}
	m := b[boltPageHeader : boltPageHeader+boltMetaSize]
	ne := binary.NativeEndian
	if ne.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, errors.New("no bbolt magic number")
	}
	meta := boltMeta{
		version: ne.Uint32(m[4:]), pageSize: ne.Uint32(m[8:]),
		root: ne.Uint64(m[16:]), freelist: ne.Uint64(m[32:]), pgid: ne.Uint64(m[40:]), txid: ne.Uint64(m[48:]),
	}
	if meta.version != boltVersion {
		return meta, fmt.Errorf("bbolt format version %d, this code reads %d", meta.version, boltVersion)
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:56])
	if h.Sum64() != ne.Uint64(m[56:]) {
		return meta, errors.New("checksum mismatch")
	}
	if meta.pageSize < boltMinPageSize || meta.pageSize > boltMaxPageSize || meta.pageSize&(meta.pageSize-1) != 0 {
		return meta, fmt.Errorf("page size %d", meta.pageSize)
	}
	return meta, nil
}

// checkFile checks an existing, non-empty store file before bbolt maps it
// (see the comment at the top of this file). A missing or empty file is
// left to bbolt, which initializes it.
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("embedded: open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("embedded: %s: %w", path, err)
	}
	size := st.Size()
	if size == 0 {
		return nil
	}
	damaged := func(format string, args ...any) error {
		return &DamagedError{Path: path, Detail: fmt.Sprintf(format, args...)}
	}
	read := func(off int64, n int) ([]byte, error) {
		b := make([]byte, n)
		k, err := f.ReadAt(b, off)
		if k == n {
			return b, nil
		}
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	hdr := boltPageHeader + boltMetaSize

	// Meta page 0 gives the page size; failing that, look for meta page 1
	// at every page size bbolt could have used, as bbolt does.
	var metas []boltMeta
	var errs []string
	b0, err := read(0, hdr)
	if err != nil {
		return damaged("%d bytes: too short to hold a meta page", size)
	}
	m0, err0 := parseMeta(b0)
	pageSize := int64(m0.pageSize)
	if err0 == nil {
		metas = append(metas, m0)
	} else {
		errs = append(errs, "meta page 0: "+err0.Error())
		pageSize = 0
		for ps := int64(boltMinPageSize); ps <= boltMaxPageSize && ps+int64(hdr) <= size; ps <<= 1 {
			if b, err := read(ps, hdr); err == nil {
				if m, err := parseMeta(b); err == nil && int64(m.pageSize) == ps {
					pageSize = ps
					break
				}
			}
		}
	}
	if pageSize == 0 {
		if bytes.Contains(b0, binary.NativeEndian.AppendUint32(nil, boltMagic)) {
			return damaged("neither meta page is valid (%s)", errs[0])
		}
		return fmt.Errorf("%w: %s is not a bbolt file (no valid meta page; if it was an event store, it is damaged: restore it from a backup)", ErrFormat, path)
	}
	b1, err := read(pageSize, hdr)
	if err != nil {
		return damaged("%d bytes: too short to hold its second meta page (page size %d)", size, pageSize)
	}
	m1, err1 := parseMeta(b1)
	if err1 == nil && int64(m1.pageSize) == pageSize {
		metas = append(metas, m1)
	} else if err1 != nil {
		errs = append(errs, "meta page 1: "+err1.Error())
	}
	var meta boltMeta // the one bbolt uses: the valid one with the higher txid
	for _, m := range metas {
		if m.txid >= meta.txid {
			meta = m
		}
	}
	if meta.pageSize == 0 {
		return damaged("neither meta page is valid (%s)", strings.Join(errs, "; "))
	}
	if meta.version != boltVersion {
		return fmt.Errorf("%w: %s is bbolt format version %d", ErrFormat, path, meta.version)
	}

	// The file must hold every page below the high-water mark.
	if meta.pgid < 4 || meta.pgid > uint64(1<<62)/uint64(pageSize) {
		return damaged("meta page (txid %d) counts %d pages", meta.txid, meta.pgid)
	}
	if need := int64(meta.pgid) * pageSize; size < need {
		return damaged("it is %d bytes long, but its meta page (txid %d) counts %d pages of %d bytes (%d bytes): the file was cut short",
			size, meta.txid, meta.pgid, pageSize, need)
	}
	// The root bucket's page and the freelist: where the meta page says,
	// of their type, and within the file.
	page := func(id uint64) (flags uint16, count uint16, overflow uint32, err error) {
		b, err := read(int64(id)*pageSize, boltPageHeader)
		if err != nil {
			return 0, 0, 0, err
		}
		ne := binary.NativeEndian
		if got := ne.Uint64(b); got != id {
			return 0, 0, 0, fmt.Errorf("page %d identifies itself as page %d", id, got)
		}
		return ne.Uint16(b[8:]), ne.Uint16(b[10:]), ne.Uint32(b[12:]), nil
	}
	if meta.root < 2 || meta.root >= meta.pgid {
		return damaged("root page %d is outside [2, %d)", meta.root, meta.pgid)
	}
	flags, _, overflow, err := page(meta.root)
	if err != nil {
		return damaged("root page: %v", err)
	}
	if flags != boltBranchPage && flags != boltLeafPage {
		return damaged("root page %d has page flags %#x, not a branch or leaf", meta.root, flags)
	}
	if meta.root+uint64(overflow) >= meta.pgid {
		return damaged("root page %d overflows past the high-water mark %d", meta.root, meta.pgid)
	}
	if meta.freelist == boltNoFreelist {
		return nil
	}
	if meta.freelist < 2 || meta.freelist >= meta.pgid {
		return damaged("freelist page %d is outside [2, %d)", meta.freelist, meta.pgid)
	}
	flags, count, overflow, err := page(meta.freelist)
	if err != nil {
		return damaged("freelist: %v", err)
	}
	if flags != boltFreelistPage {
		return damaged("freelist page %d has page flags %#x, not a freelist", meta.freelist, flags)
	}
	if meta.freelist+uint64(overflow) >= meta.pgid {
		return damaged("freelist page %d overflows past the high-water mark %d", meta.freelist, meta.pgid)
	}
	body, err := read(int64(meta.freelist)*pageSize+boltPageHeader, int(int64(overflow+1)*pageSize-boltPageHeader))
	if err != nil {
		return damaged("freelist: %v", err)
	}
	n, ids := int(count), body
	if count == boltFreelistMaxIDs {
		if len(body) < 8 {
			return damaged("freelist page %d is too short", meta.freelist)
		}
		n, ids = int(binary.NativeEndian.Uint64(body)), body[8:]
	}
	if n > len(ids)/8 {
		return damaged("freelist page %d lists %d pages, more than it can hold", meta.freelist, n)
	}
	for i := range n {
		if id := binary.NativeEndian.Uint64(ids[8*i:]); id < 2 || id >= meta.pgid {
			return damaged("the freelist lists page %d, outside [2, %d)", id, meta.pgid)
		}
	}
	return nil
}

// protect runs fn, a call into bbolt, so that a damaged file is an error
// and not a crash: faults on the memory map panic instead of killing the
// process, and a panic becomes a *DamagedError, which the store keeps (see
// Damage). Panics of fn's own code are reported the same way: fn must
// only read the transaction and decode.
func (s *Store) protect(op string, fn func() error) error {
	err := guard(s.path, op, fn)
	var de *DamagedError
	if errors.As(err, &de) {
		return s.damaged(de.Detail)
	}
	return err
}

// guard runs fn with faults on the memory map turned into panics, and
// turns a panic into a *DamagedError naming path.
func guard(path, op string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			detail := fmt.Sprintf("%s: %v", op, r)
			if f, ok := r.(interface{ Addr() uintptr }); ok {
				detail = fmt.Sprintf("%s: a read of the mapped file faulted at %#x (%v): the file was cut short, or changed on disk while open", op, f.Addr(), r)
			}
			err = &DamagedError{Path: path, Detail: detail}
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return fn()
}

// damaged records the first damage found and returns it.
func (s *Store) damaged(detail string) error {
	e := &DamagedError{Path: s.path, Detail: detail}
	if s.damage.CompareAndSwap(nil, e) {
		s.opts.Logger.Error("event store file is damaged: appends and reads are refused; restore the data directory from a backup", "path", s.path, "detail", detail)
		s.mu.Lock()
		close(s.changed) // wake subscribers, which then see the damage
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
	return s.damage.Load()
}

// Damage returns the damage found in the store's file (a *DamagedError), or
// nil. Once damage is found the store refuses appends and reads with it.
func (s *Store) Damage() error {
	if e := s.damage.Load(); e != nil {
		return e
	}
	return nil
}

// openProtected is bolt.Open under protect's rules, before there is a
// Store: it may panic on a damaged freelist. The file it opened is closed
// if it does, releasing the lock.
func openProtected(path string, opts *bolt.Options) (db *bolt.DB, err error) {
	var file *os.File
	opts.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		if file == nil {
			file = f
		}
		return f, err
	}
	err = guard(path, "open", func() (err error) {
		db, err = bolt.Open(path, 0o600, opts)
		return err
	})
	if errors.Is(err, ErrDamaged) && file != nil {
		_ = file.Close()
	}
	return db, err
}

// Verify reads every page of every bucket of the store, and checks that
// the events are numbered 1 to the head without a gap and that the index
// entries are well formed and point at or before the head. It returns the
// first damage found (a *DamagedError or *CorruptError) or nil. It runs in
// one read transaction, beside appends; see the comment at the top of this
// file for its cost.
func (s *Store) Verify(ctx context.Context) error {
	if err := s.Damage(); err != nil {
		return err
	}
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	err := s.protect("verify", func() error {
		return s.db.View(func(tx *bolt.Tx) error { return verifyTx(ctx, tx) })
	})
	return s.annotate(err)
}

// VerifyFull is Verify followed by bbolt's own consistency check (every
// page reachable or free exactly once, keys in order), for backups and
// offline checks.
func (s *Store) VerifyFull(ctx context.Context) error {
	if err := s.Verify(ctx); err != nil {
		return err
	}
	var errs []string
	err := s.protect("check", func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				if len(errs) < 5 {
					errs = append(errs, err.Error())
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return s.damaged(fmt.Sprintf("bbolt's check: %v", errs))
	}
	return nil
}

func verifyTx(ctx context.Context, tx *bolt.Tx) error {
	events, streams, ids := tx.Bucket(bucketEvents), tx.Bucket(bucketStreams), tx.Bucket(bucketIDs)
	if tx.Bucket(bucketMeta) == nil || events == nil || streams == nil || ids == nil {
		return &CorruptError{Detail: "a bucket is missing"}
	}
	var head eventstore.Position
	n := 0
	c := events.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if n++; n%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		head++
		if len(k) != 8 || eventstore.Position(binary.BigEndian.Uint64(k)) != head {
			return &CorruptError{Position: head, Detail: fmt.Sprintf("expected the event at position %d, found key %x", head, k)}
		}
		if len(v) == 0 {
			return &CorruptError{Position: head, Detail: "empty event record"}
		}
		_ = v[0] + v[len(v)-1] // touch the first and last page of a long value
	}
	for _, b := range []*bolt.Bucket{streams, ids} {
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if n++; n%65536 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if len(v) != 8 {
				return &CorruptError{Detail: fmt.Sprintf("index entry %x → %x is not a position", k, v)}
			}
			if p := eventstore.Position(binary.BigEndian.Uint64(v)); p == 0 || p > head {
				return &CorruptError{Position: p, Detail: fmt.Sprintf("index entry %x points at position %d, the log ends at %d", k, p, head)}
			}
		}
	}
	return nil
}
