// Package embedded is kefu's default event store: one data directory, no
// server, pure Go, built on bbolt (a copy-on-write B+tree in one
// memory-mapped file, go.etcd.io/bbolt).
//
// Layout of the file events.db in the data directory, in bbolt buckets:
//
//	meta     "format" → "kefu-eventstore-bbolt/1"
//	events   position (8 bytes, big-endian) → event envelope (see internal/envelope)
//	streams  stream ID, 0x00, revision (8 bytes, big-endian) → position
//	ids      event ID (16 bytes) → position
//
// Positions are dense: the n-th event ever appended has position n.
//
// Appends go through one writer goroutine that batches the appends waiting
// for it into one bbolt transaction and so one pair of fsyncs (group
// commit); Append returns once its transaction is on disk. AppendBatch
// (eventstore.BatchAppender) queues a whole call of many streams' appends
// as one request, written in one transaction. A transaction is
// all-or-nothing, so a crash never leaves part of an append. Nothing in the
// API updates or deletes an event.
//
// Only one process may open a data directory at a time; bbolt holds an
// exclusive flock on the file, and a second Open fails with an error
// matching eventstore.ErrLocked.
package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded/internal/envelope"
)

// queueLen is how many appends may wait for the writer; appends queued while
// it commits go into its next transaction.
const queueLen = 1024

// FileName is the name of the database file in the data directory.
const FileName = "events.db"

// Format is the format marker stored in the file. A file with another
// marker is refused.
const Format = "kefu-eventstore-bbolt/1"

var (
	bucketMeta    = []byte("meta")
	bucketEvents  = []byte("events")
	bucketStreams = []byte("streams")
	bucketIDs     = []byte("ids")
	keyFormat     = []byte("format")
)

// Sentinel errors of this package; eventstore's sentinels apply too.
var (
	// ErrFormat: the data directory holds a file this code cannot read (not
	// a bbolt file, or another format marker).
	ErrFormat = errors.New("embedded: unknown data format")
	// ErrCorrupt: a stored record cannot be decoded. See CorruptError.
	ErrCorrupt = errors.New("embedded: corrupt record")
)

// CorruptError says which record is corrupt. It matches ErrCorrupt.
type CorruptError struct {
	// Path is the store's file, when known.
	Path string
	// Position is the record's global position, or of the event the
	// record refers to.
	Position eventstore.Position
	// Detail says what is wrong.
	Detail string
	// Err is the underlying decoding error, if any.
	Err error
}

func (e *CorruptError) Error() string {
	msg := "embedded: corrupt record"
	if e.Path != "" {
		msg += " in " + e.Path
	}
	msg += fmt.Sprintf(" at position %d: %s", e.Position, e.Detail)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Path != "" {
		msg += "; restore the data directory from a backup (README, \"Backup and restore\")"
	}
	return msg
}

// Unwrap returns ErrCorrupt and the underlying error.
func (e *CorruptError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrCorrupt}
	}
	return []error{ErrCorrupt, e.Err}
}

// Options configures Open. The zero value gives the defaults.
type Options struct {
	// Logger receives open, close and write-failure messages; nil discards
	// them.
	Logger *slog.Logger
	// Clock gives each event's RecordedAt; nil means time.Now.
	Clock func() time.Time
	// LockTimeout is how long Open waits for another process to release
	// the data directory before failing with eventstore.ErrLocked; 0 means
	// 1 second.
	LockTimeout time.Duration
	// MaxBatchEvents bounds how many events one group commit writes; 0
	// means 8192. A single larger append is still written whole.
	MaxBatchEvents int
	// MaxEventBytes bounds an event's data plus metadata; larger records
	// are refused with eventstore.ErrInvalidRecord. 0 means 16 MiB.
	MaxEventBytes int
	// ReadChunk is how many events ReadAll and Subscribe decode per read
	// transaction, so that no transaction stays open long; 0 means 2048.
	ReadChunk int
}

// Validate reports every out-of-range option.
func (o Options) Validate() error {
	var errs []error
	if o.LockTimeout < 0 {
		errs = append(errs, fmt.Errorf("LockTimeout %v is negative", o.LockTimeout))
	}
	if o.MaxBatchEvents < 0 {
		errs = append(errs, fmt.Errorf("MaxBatchEvents %d is negative", o.MaxBatchEvents))
	}
	if o.MaxEventBytes < 0 || o.MaxEventBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("MaxEventBytes %d is out of range [0, 1 GiB]", o.MaxEventBytes))
	}
	if o.ReadChunk < 0 {
		errs = append(errs, fmt.Errorf("ReadChunk %d is negative", o.ReadChunk))
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = time.Second
	}
	if o.MaxBatchEvents == 0 {
		o.MaxBatchEvents = 8192
	}
	if o.MaxEventBytes == 0 {
		o.MaxEventBytes = 16 << 20
	}
	if o.ReadChunk == 0 {
		o.ReadChunk = 2048
	}
	return o
}

// Store is the embedded event store. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	opts Options
	path string

	reqs       chan *request // appends queue here while the writer commits
	closing    chan struct{}
	closeOnce  sync.Once
	writerDone chan struct{}
	closed     atomic.Bool

	// inflight counts the calls inside Append, for the writer's batching.
	inflight atomic.Int64

	// head is the last committed position, published after each commit.
	head atomic.Uint64

	mu      sync.Mutex
	changed chan struct{} // closed and replaced after each commit

	// damage is the first damage found in the file (damage.go).
	damage atomic.Pointer[DamagedError]
}

var (
	_ eventstore.Store          = (*Store)(nil)
	_ eventstore.BatchAppender  = (*Store)(nil)
	_ eventstore.AtomicAppender = (*Store)(nil)
)

// Open opens the store in dir, creating dir and an empty store if needed.
// It fails with an error matching eventstore.ErrLocked when another process
// has the directory open, with ErrFormat when the file is not a kefu
// event store of a known format, and with ErrDamaged when the file is
// damaged (cut short, or its meta, root or freelist pages overwritten: see
// damage.go) — checked before the file is mapped, so a damaged file is an
// error, never a crash.
func Open(dir string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("embedded: invalid options: %w", err)
	}
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded: create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	start := time.Now()
	if err := checkFile(path); err != nil {
		return nil, err
	}
	db, err := openProtected(path, &bolt.Options{
		Timeout:         opts.LockTimeout,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: 1 << 30, // address space only; avoids remaps that wait for readers
		NoStatistics:    true,
	})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("%w: %s is held by another process (waited %v)", eventstore.ErrLocked, path, opts.LockTimeout)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, path, err)
	case errors.Is(err, ErrDamaged):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	var head eventstore.Position
	err = guard(path, "open", func() (err error) {
		head, err = initialize(db, path)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s := &Store{
		db:         db,
		opts:       opts,
		path:       path,
		reqs:       make(chan *request, queueLen),
		closing:    make(chan struct{}),
		writerDone: make(chan struct{}),
		changed:    make(chan struct{}),
	}
	s.head.Store(uint64(head))
	go s.write()
	opts.Logger.Info("event store opened", "path", path, "head", uint64(head), "took", time.Since(start))
	return s, nil
}

// initialize checks the format marker (writing it into a new file) and
// returns the last position. An existing store is only read: opening it
// writes nothing.
func initialize(db *bolt.DB, path string) (eventstore.Position, error) {
	var head eventstore.Position
	fresh := false
	err := db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			empty := true
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return fmt.Errorf("%w: %s is a bbolt file without a kefu format marker", ErrFormat, path)
			}
			fresh = true
			return nil
		}
		if f := meta.Get(keyFormat); string(f) != Format {
			return fmt.Errorf("%w: %s has format %q, this code reads %q", ErrFormat, path, f, Format)
		}
		events := tx.Bucket(bucketEvents)
		if events == nil || tx.Bucket(bucketStreams) == nil || tx.Bucket(bucketIDs) == nil {
			return fmt.Errorf("%w: %s lacks a bucket of format %q", ErrFormat, path, Format)
		}
		if k, _ := events.Cursor().Last(); k != nil {
			if len(k) != 8 {
				return &CorruptError{Path: path, Detail: fmt.Sprintf("last event key %x is not 8 bytes", k)}
			}
			head = eventstore.Position(binary.BigEndian.Uint64(k))
		}
		return nil
	})
	if err == nil && fresh {
		err = db.Update(func(tx *bolt.Tx) error {
			meta, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			if err := meta.Put(keyFormat, []byte(Format)); err != nil {
				return err
			}
			for _, name := range [][]byte{bucketEvents, bucketStreams, bucketIDs} {
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrCorrupt) {
		err = fmt.Errorf("embedded: initialize %s: %w", path, err)
	}
	return head, err
}

// Close stops the writer after the commit in progress, and closes the file.
// Appends waiting for the writer and running subscriptions end with
// eventstore.ErrClosed.
func (s *Store) Close() error {
	first := false
	s.closeOnce.Do(func() { first = true })
	if !first {
		return eventstore.ErrClosed
	}
	s.closed.Store(true)
	close(s.closing)
	<-s.writerDone
	err := s.db.Close()
	s.opts.Logger.Info("event store closed", "path", s.path, "head", s.head.Load())
	if err != nil {
		return fmt.Errorf("embedded: close %s: %w", s.path, err)
	}
	return nil
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.closed.Load() {
		return 0, eventstore.ErrClosed
	}
	return eventstore.Position(s.head.Load()), nil
}

// view runs fn in a read transaction under protect, mapping a closed
// database to ErrClosed; a damaged store refuses with its damage.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	if err := s.Damage(); err != nil {
		return err
	}
	err := s.protect("read", func() error { return s.db.View(fn) })
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return eventstore.ErrClosed
	}
	return s.annotate(err)
}

// annotate names the store's file in a CorruptError.
func (s *Store) annotate(err error) error {
	var ce *CorruptError
	if errors.As(err, &ce) && ce.Path == "" {
		ce.Path = s.path
	}
	return err
}

func posKey(p eventstore.Position) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(p))
}

// streamKey is the stream index key of stream at rev.
func streamKey(dst []byte, stream string, rev uint64) []byte {
	dst = append(dst, stream...)
	dst = append(dst, 0)
	return binary.BigEndian.AppendUint64(dst, rev)
}

// lastRevision finds stream's last revision in the stream index.
func lastRevision(streams *bolt.Bucket, stream string) (rev uint64, exists bool) {
	prefix := append([]byte(stream), 0)
	c := streams.Cursor()
	// Seek to just past the stream's greatest possible key, then step back.
	seek := streamKey(nil, stream, ^uint64(0))
	k, _ := c.Seek(seek)
	switch {
	case k == nil:
		k, _ = c.Last()
	case !bytes.Equal(k, seek):
		k, _ = c.Prev()
	}
	if len(k) != len(prefix)+8 || !bytes.HasPrefix(k, prefix) {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[len(prefix):]), true
}

// lookup finds where an event ID is stored.
func lookup(tx *bolt.Tx, dec *envelope.Decoder, id uuid.UUID) (eventstore.Stored, bool, error) {
	v := tx.Bucket(bucketIDs).Get(id[:])
	if v == nil {
		return eventstore.Stored{}, false, nil
	}
	if len(v) != 8 {
		return eventstore.Stored{}, false, &CorruptError{Detail: fmt.Sprintf("ID index entry of %s is %d bytes", id, len(v))}
	}
	pos := eventstore.Position(binary.BigEndian.Uint64(v))
	e, err := getEvent(tx.Bucket(bucketEvents), dec, pos)
	if err != nil {
		return eventstore.Stored{}, false, err
	}
	if e.ID != id {
		return eventstore.Stored{}, false, &CorruptError{Position: pos, Detail: fmt.Sprintf("ID index maps %s here, the event is %s", id, e.ID)}
	}
	return eventstore.Stored{Stream: e.StreamID, Revision: e.Revision, Position: pos}, true, nil
}

// getEvent reads and decodes the event at pos.
func getEvent(events *bolt.Bucket, dec *envelope.Decoder, pos eventstore.Position) (eventstore.Event, error) {
	v := events.Get(posKey(pos))
	if v == nil {
		return eventstore.Event{}, &CorruptError{Position: pos, Detail: "an index refers to a missing event"}
	}
	var e eventstore.Event
	if err := dec.Decode(v, &e); err != nil {
		return eventstore.Event{}, &CorruptError{Position: pos, Detail: "undecodable event", Err: err}
	}
	e.Position = pos
	return e, nil
}
