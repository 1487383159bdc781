package pii

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/kefu-crm/kefu/internal/durable"
)

// FileKeystore keeps every subject's key in one append-only file,
//
//	<dir>/keys.dat
//
// which starts with the 8-byte header "kefuks02" followed by records:
//
//	len      1 byte    length n of the subject, 1..64
//	subject  n bytes   the subject ([A-Za-z0-9_.-])
//	state    1 byte    'K' live, 'X' destroyed
//	key      32 bytes  the key; zeros when destroyed
//	crc      4 bytes   CRC-32C (big-endian) of all the preceding bytes
//
// A record takes n+38 bytes: 45 bytes for a customer ID like "c000042".
// One record may be the keystore's identity instead of a key: state 'I',
// subject "identity", and in the key field the 16-byte identity of the data
// directory the keystore belongs to (see SetIdentity), then zeros; it is
// not a subject.
// All records are read into memory when the keystore is opened (about
// 0.2 s for a million customers; see BENCHMARKS.md); lookups never touch
// the disk.
//
// # Creating keys: group commit
//
// Key(create=true) puts the new record in a queue and waits until it is on
// disk: the first waiter finding no write in progress writes the whole queue
// with one write and one fsync, while callers arriving meanwhile queue up
// for the next round. Concurrent creators thus share fsyncs, and Key returns
// a new key only after its record is synced. The Vault asks for the key
// before it encrypts a field, and the codec encrypts before the store
// appends the event, so no event sealed with a key reaches the log before
// the key is durable. A caller asking for a key another caller is creating
// waits for the same round.
//
// # Destroying keys: overwrite in place
//
// Destroying a key overwrites its record in place, so that no copy of the
// key remains in any file, without rewriting the file:
//
//  1. the state byte becomes 'X' (a one-byte write, which cannot tear),
//     fsync — from here on the subject reads as destroyed, even after a
//     crash;
//  2. the key bytes become zeros and the CRC is rewritten, fsync.
//
// On filesystems that overwrite in place (ext4, xfs) this also scrubs the
// key's disk block, which rewriting the file and renaming it over the old
// one would not: the old file's blocks would be freed with the key still in
// them. (Copy-on-write filesystems and SSD remapping keep old blocks out of
// any program's reach; full-disk encryption is the answer there.) The
// record stays, as a tombstone, so that the subject never gets a new key.
// A subject without a key is destroyed by appending a tombstone, through
// the same queue as new keys.
//
// # Crash recovery
//
// Open repairs what a crash can leave: records of a torn final write (never
// acknowledged to a caller) are zeroed and cut off; a record in state 'X'
// whose CRC does not match (a crash between steps 1 and 2) is scrubbed
// again. A damaged live record followed by intact ones makes its subject's
// Key fail with ErrCorruptKey (Damaged lists them); damage that cannot be
// attributed to a subject makes Open fail with ErrCorruptKey, rather than
// hand out new keys for subjects whose keys may be in the damaged bytes.
//
// A torn final record looks exactly like the end of a file cut short after
// the fact, whose last key was acknowledged and is now lost. The file alone
// cannot tell them apart; the log can (an acknowledged key sealed an event
// before anything else happened to it), so OpenFileKeystoreWith asks its
// TornTail callback before cutting anything off.
//
// The previous format (one file per subject under <dir>/<shard>/) existed
// only in development data directories; Open refuses a directory holding it
// with ErrFormat.
//
// FileKeystore is safe for concurrent use within one process; the data
// directory's lock (held by the event store) keeps other processes out.
// Only one FileKeystore may be open on a directory at a time.
type FileKeystore struct {
	dir  string
	path string

	mu   sync.Mutex
	cond sync.Cond // signalled when a write round ends
	f    *os.File
	size int64 // end of the records on disk
	keys map[string]slot

	queue   []byte   // encoded records waiting for the next round
	queued  []queued // their subjects and positions in queue
	seq     uint64   // last sequence number handed out
	durable uint64   // every operation up to this sequence number is synced
	writing bool     // a round owns the file
	err     error    // a failed write: the keystore refuses further writes
	closed  bool

	// identity is the data directory's identity, if recorded.
	identity    [16]byte
	hasIdentity bool

	opts FileKeystoreOptions

	syncs      atomic.Uint64
	beforeSync func() // test hook, called before each fsync
}

// slot is a subject's state in memory. While its record waits in the
// queue (or a Destroy is writing it), off is minus the operation's
// sequence number.
type slot struct {
	key   [KeySize]byte
	off   int64
	state byte
}

type queued struct {
	subject string
	seq     uint64
	pos     int64
}

var _ Keystore = (*FileKeystore)(nil)

const (
	// FileName is the keystore's file in its directory.
	FileName = "keys.dat"

	fileHeader    = "kefuks02"
	recOverhead   = 1 + 1 + KeySize + 4
	stateLive     = 'K'
	stateGone     = 'X'
	stateIdentity = 'I'
	stateCorrupt  = 'C' // in memory only

	identitySubject = "identity"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// KeystoreStats describes a FileKeystore.
type KeystoreStats struct {
	Live      int    // subjects with a live key
	Destroyed int    // subjects whose key was destroyed
	Corrupt   int    // subjects whose record is damaged
	FileBytes int64  // size of the keystore file
	Syncs     uint64 // fsyncs since Open
	Queued    int    // records waiting for the next write round
}

// FileKeystoreOptions configures OpenFileKeystoreWith.
type FileKeystoreOptions struct {
	// TornTail, when set, is called before Open cuts off a torn final
	// write (see FileKeystore, "Crash recovery"). Returning an error makes
	// Open fail with it and leaves the file untouched; returning nil lets
	// Open cut the bytes off. Nil cuts them off silently.
	TornTail func(TornTail) error
}

// TornTail is the end of a keystore file that does not hold a whole
// record: a write torn by a crash (never acknowledged), or a file cut short
// (whose last key was acknowledged and is lost).
type TornTail struct {
	// Path is the keystore file.
	Path string
	// Offset is where the incomplete record starts; Bytes how many bytes
	// from there to the end of the file would be cut off.
	Offset int64
	Bytes  int
	// Subject is the incomplete record's subject when its length and
	// subject bytes are there (empty otherwise, and for an identity
	// record): if that subject's key sealed anything in the log, the key
	// was handed out, and this is a file cut short, not a torn write.
	Subject string
}

// DamagedRecord is a damaged record (see Damaged).
type DamagedRecord struct {
	Subject string
	Offset  int64
}

// OpenFileKeystore opens (creating it if needed) a keystore in dir, e.g.
// "<data dir>/keys", reading all its keys and repairing what a crash left
// (see FileKeystore).
func OpenFileKeystore(dir string) (*FileKeystore, error) {
	return OpenFileKeystoreWith(dir, FileKeystoreOptions{})
}

// OpenFileKeystoreWith is OpenFileKeystore with options.
func OpenFileKeystoreWith(dir string, opts FileKeystoreOptions) (*FileKeystore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pii: keystore: %w", err)
	}
	if err := durable.SyncDir(filepath.Dir(dir)); err != nil {
		return nil, fmt.Errorf("pii: keystore: %w", err)
	}
	if err := refuseOldFormat(dir); err != nil {
		return nil, err
	}
	// A crash while creating the file leaves the temporary behind.
	stale, err := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	if err != nil {
		return nil, fmt.Errorf("pii: keystore: %w", err)
	}
	for _, f := range stale {
		if err := os.Remove(f); err != nil {
			return nil, fmt.Errorf("pii: keystore: %w", err)
		}
	}
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := writeAtomic(dir, path, []byte(fileHeader)); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("pii: keystore: %w", err)
	}
	k := &FileKeystore{dir: dir, path: path, f: f, opts: opts}
	k.cond.L = &k.mu
	if err := k.load(); err != nil {
		_ = f.Close()
		return nil, err
	}
	return k, nil
}

// refuseOldFormat fails with ErrFormat when dir holds the per-file format
// of earlier development versions (<dir>/<2 hex digits>/<subject>.key).
func refuseOldFormat(dir string) error {
	old, err := filepath.Glob(filepath.Join(dir, "[0-9a-f][0-9a-f]", "*.key"))
	if err != nil {
		return fmt.Errorf("pii: keystore: %w", err)
	}
	if len(old) > 0 {
		return fmt.Errorf("%w: %s holds keys in the per-file format of development versions (%s …); it cannot be read any more: seed a new data directory", ErrFormat, dir, old[0])
	}
	return nil
}

// Dir is the keystore's directory.
func (k *FileKeystore) Dir() string { return k.dir }

// Stats returns counts describing the keystore.
func (k *FileKeystore) Stats() KeystoreStats {
	k.mu.Lock()
	defer k.mu.Unlock()
	st := KeystoreStats{FileBytes: k.size, Syncs: k.syncs.Load(), Queued: len(k.queued)}
	for _, s := range k.keys {
		switch s.state {
		case stateLive:
			st.Live++
		case stateGone:
			st.Destroyed++
		default:
			st.Corrupt++
		}
	}
	return st
}

// Damaged lists, by offset, the subjects whose live record is damaged
// (their Key fails with ErrCorruptKey).
func (k *FileKeystore) Damaged() []DamagedRecord {
	k.mu.Lock()
	var out []DamagedRecord
	for s, sl := range k.keys {
		if sl.state == stateCorrupt {
			out = append(out, DamagedRecord{Subject: s, Offset: sl.off})
		}
	}
	k.mu.Unlock()
	slices.SortFunc(out, func(a, b DamagedRecord) int { return cmp.Compare(a.Offset, b.Offset) })
	return out
}

// Identity returns the identity of the data directory recorded with
// SetIdentity, and whether there is one.
func (k *FileKeystore) Identity() ([16]byte, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.identity, k.hasIdentity
}

// SetIdentity records, durably, the identity of the data directory the
// keystore belongs to, so that a keystore and a log from different
// directories (or a lost one and a new one) can be told apart. Recording
// the identity already recorded is a no-op; another one is refused.
func (k *FileKeystore) SetIdentity(ctx context.Context, id [16]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.closed:
		return ErrClosed
	case k.hasIdentity && k.identity == id:
		return nil
	case k.hasIdentity:
		return fmt.Errorf("pii: keystore %s already belongs to data directory %x, not %x", k.path, k.identity, id)
	case k.err != nil:
		return k.err
	}
	var field [KeySize]byte
	copy(field[:], id[:])
	if err := k.waitDurable(k.enqueue(identitySubject, stateIdentity, field[:])); err != nil {
		return err
	}
	k.identity, k.hasIdentity = id, true
	return nil
}

// Backup writes a consistent copy of the keystore file to w: every record
// synced when it starts. Writes wait while it copies; lookups do not. It
// returns the number of bytes written.
func (k *FileKeystore) Backup(ctx context.Context, w io.Writer) (int64, error) {
	k.mu.Lock()
	for k.writing && !k.closed {
		k.cond.Wait()
	}
	if k.closed {
		k.mu.Unlock()
		return 0, ErrClosed
	}
	k.writing = true // no write round or scrub while copying
	size := k.size
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		k.writing = false
		k.cond.Broadcast()
		k.mu.Unlock()
	}()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, err := io.Copy(w, io.NewSectionReader(k.f, 0, size))
	if err != nil {
		return n, fmt.Errorf("pii: keystore backup: %w", err)
	}
	return n, nil
}

// ReadFileKeystoreIdentity reads the identity recorded in the keystore in
// dir without opening it (and so without repairing anything), for tools
// that must not touch a keystore another process has open.
func ReadFileKeystoreIdentity(dir string) ([16]byte, bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		return [16]byte{}, false, fmt.Errorf("pii: keystore: %w", err)
	}
	defer clear(data)
	if len(data) < len(fileHeader) || string(data[:len(fileHeader)]) != fileHeader {
		return [16]byte{}, false, fmt.Errorf("%w: %s does not start with %q", ErrFormat, filepath.Join(dir, FileName), fileHeader)
	}
	for off := len(fileHeader); off < len(data); {
		r, ok := parseRecord(data[off:])
		if !ok || !r.crcOK {
			break
		}
		if r.state == stateIdentity {
			return [16]byte(r.key[:16]), true, nil
		}
		off += r.size
	}
	return [16]byte{}, false, nil
}

// Subjects returns, sorted, every subject the keystore has a record of:
// with a live key, destroyed, or damaged (for copying a keystore, e.g. by
// `kefu migrate`).
func (k *FileKeystore) Subjects() []string {
	k.mu.Lock()
	out := make([]string, 0, len(k.keys))
	for s := range k.keys {
		out = append(out, s)
	}
	k.mu.Unlock()
	slices.Sort(out)
	return out
}

// Close writes what is queued and closes the file. Later calls fail with
// ErrClosed.
func (k *FileKeystore) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil
	}
	for k.writing {
		k.cond.Wait()
	}
	var err error
	if len(k.queued) > 0 && k.err == nil {
		err = k.round(nil)
	}
	k.closed = true
	clear(k.keys) // zeroes the map's memory, keys included
	k.keys = nil
	k.cond.Broadcast()
	if cerr := k.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("pii: keystore: %w", cerr)
	}
	return err
}

// Key implements Keystore.
func (k *FileKeystore) Key(ctx context.Context, subject string, create bool) ([]byte, error) {
	if err := checkSubject(ctx, subject); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for {
		if k.closed {
			return nil, ErrClosed
		}
		s, ok := k.keys[subject]
		switch {
		case ok && s.state == stateGone:
			return nil, fmt.Errorf("%w: %s", ErrDestroyed, subject)
		case ok && s.state == stateCorrupt:
			return nil, fmt.Errorf("%w: record of %s", ErrCorruptKey, subject)
		case ok && s.off < 0:
			if err := k.waitDurable(uint64(-s.off)); err != nil {
				return nil, err
			}
			continue
		case ok:
			return append([]byte(nil), s.key[:]...), nil
		case !create:
			return nil, fmt.Errorf("%w: %s", ErrNoKey, subject)
		case k.err != nil:
			return nil, k.err
		}
		var key [KeySize]byte
		if _, err := rand.Read(key[:]); err != nil {
			return nil, err
		}
		seq := k.enqueue(subject, stateLive, key[:])
		k.keys[subject] = slot{key: key, off: -int64(seq), state: stateLive}
		clear(key[:])
	}
}

// Destroy implements Keystore.
func (k *FileKeystore) Destroy(ctx context.Context, subject string) error {
	if err := checkSubject(ctx, subject); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for {
		if k.closed {
			return ErrClosed
		}
		s, ok := k.keys[subject]
		switch {
		case ok && s.off < 0:
			// Queued, or being destroyed: wait for that round, then look again.
			if err := k.waitDurable(uint64(-s.off)); err != nil {
				return err
			}
			continue
		case ok && s.state == stateGone:
			return nil
		case k.err != nil:
			return k.err
		case !ok:
			seq := k.enqueue(subject, stateGone, make([]byte, KeySize))
			k.keys[subject] = slot{off: -int64(seq), state: stateGone}
			return k.waitDurable(seq)
		case k.writing:
			k.cond.Wait()
			continue
		}
		// A live (or damaged) record on disk: scrub it in place, as this
		// round's writer.
		k.seq++
		seq := k.seq
		clear(s.key[:])
		k.keys[subject] = slot{off: -int64(seq), state: stateGone}
		err := k.round(&scrub{subject: subject, off: s.off})
		if sl := k.keys[subject]; err == nil && sl.off == -int64(seq) {
			sl.off = s.off
			k.keys[subject] = sl
		}
		return err
	}
}

// enqueue appends a record to the queue and returns its sequence number.
// mu is held.
func (k *FileKeystore) enqueue(subject string, state byte, key []byte) uint64 {
	k.seq++
	k.queued = append(k.queued, queued{subject: subject, seq: k.seq, pos: int64(len(k.queue))})
	k.queue = appendRecord(k.queue, subject, state, key)
	return k.seq
}

// waitDurable returns once every operation up to seq is synced, writing
// the queue itself when no round is under way. mu is held (and released
// while waiting or writing).
func (k *FileKeystore) waitDurable(seq uint64) error {
	for k.durable < seq {
		switch {
		case k.err != nil:
			return k.err
		case k.closed:
			return ErrClosed
		case k.writing:
			k.cond.Wait()
		default:
			if err := k.round(nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// scrub is a destroyed subject's live record, to overwrite in place.
type scrub struct {
	subject string
	off     int64
}

// round is one write round: it appends the queued records, scrubs sc if
// given, and syncs. It is called with mu held, no round under way and no
// sticky error; it releases mu during the I/O. Every operation with a
// sequence number up to k.seq at the start is durable when it returns nil.
func (k *FileKeystore) round(sc *scrub) error {
	k.writing = true
	batch, items, last, base := k.queue, k.queued, k.seq, k.size
	k.queue, k.queued = nil, nil
	k.mu.Unlock()
	err := k.write(batch, base, sc)
	clear(batch)
	k.mu.Lock()
	k.writing = false
	defer k.cond.Broadcast()
	if err != nil {
		k.err = fmt.Errorf("pii: keystore: write failed, reopen the keystore: %w", err)
		_ = k.f.Truncate(base)
		for _, it := range items {
			if s, ok := k.keys[it.subject]; ok && s.off == -int64(it.seq) {
				k.keys[it.subject] = slot{} // overwrite the key before forgetting it
				delete(k.keys, it.subject)
			}
		}
		return k.err
	}
	k.size = base + int64(len(batch))
	for _, it := range items {
		if s, ok := k.keys[it.subject]; ok && s.off == -int64(it.seq) {
			s.off = base + it.pos
			k.keys[it.subject] = s
		}
	}
	k.durable = last
	return nil
}

// write does a round's I/O.
func (k *FileKeystore) write(batch []byte, base int64, sc *scrub) error {
	if len(batch) > 0 {
		if _, err := k.f.WriteAt(batch, base); err != nil {
			return err
		}
	}
	stateOff := int64(0)
	if sc != nil {
		stateOff = sc.off + 1 + int64(len(sc.subject))
		if _, err := k.f.WriteAt([]byte{stateGone}, stateOff); err != nil {
			return err
		}
	}
	if len(batch) == 0 && sc == nil {
		return nil
	}
	if err := k.sync(); err != nil {
		return err
	}
	if sc == nil {
		return nil
	}
	rec := appendRecord(nil, sc.subject, stateGone, make([]byte, KeySize))
	if _, err := k.f.WriteAt(rec[1+len(sc.subject)+1:], stateOff+1); err != nil {
		return err
	}
	return k.sync()
}

func (k *FileKeystore) sync() error {
	if k.beforeSync != nil {
		k.beforeSync()
	}
	k.syncs.Add(1)
	return k.f.Sync()
}

func appendRecord(b []byte, subject string, state byte, key []byte) []byte {
	start := len(b)
	b = append(b, byte(len(subject)))
	b = append(b, subject...)
	b = append(b, state)
	b = append(b, key...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// record is one parsed record; key aliases the file's bytes.
type record struct {
	subject string
	state   byte
	key     []byte
	size    int
	crcOK   bool
}

// parseRecord reads the record at the start of b. ok means its header is
// plausible (length, subject characters, state) and it fits in b; crcOK
// says whether its checksum matches too.
func parseRecord(b []byte) (r record, ok bool) {
	if len(b) < 1 {
		return r, false
	}
	n := int(b[0])
	size := n + recOverhead
	if n < 1 || n > 64 || len(b) < size {
		return r, false
	}
	subj := b[1 : 1+n]
	for _, c := range subj {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return r, false
		}
	}
	state := b[1+n]
	if state != stateLive && state != stateGone && state != stateIdentity {
		return r, false
	}
	r = record{subject: string(subj), state: state, key: b[2+n : 2+n+KeySize], size: size}
	r.crcOK = binary.BigEndian.Uint32(b[size-4:size]) == crc32.Checksum(b[:size-4], castagnoli)
	return r, true
}

// load reads the file into memory and repairs what a crash left.
func (k *FileKeystore) load() error {
	data, err := os.ReadFile(k.path)
	if err != nil {
		return fmt.Errorf("pii: keystore: %w", err)
	}
	defer clear(data)
	if len(data) < len(fileHeader) || string(data[:len(fileHeader)]) != fileHeader {
		return fmt.Errorf("%w: %s does not start with %q", ErrFormat, k.path, fileHeader)
	}
	k.keys = make(map[string]slot, len(data)/(recOverhead+8))
	var rescrub []scrub
	off := len(fileHeader)
	end := len(data)
	for off < end {
		r, ok := parseRecord(data[off:])
		if ok && r.crcOK && r.state == stateIdentity {
			id := [16]byte(r.key[:16])
			if k.hasIdentity && k.identity != id {
				return fmt.Errorf("%w: %s holds two identities (%x at byte %d, and %x before): restore the keystore from a backup", ErrCorruptKey, k.path, id, off, k.identity)
			}
			k.identity, k.hasIdentity = id, true
			off += r.size
			continue
		}
		if ok && r.crcOK {
			k.apply(r, int64(off), &rescrub)
			off += r.size
			continue
		}
		// Damage. Where does the next intact record start?
		next := off + 1
		for next < end {
			if n, ok := parseRecord(data[next:]); ok && n.crcOK {
				break
			}
			next++
		}
		switch {
		case next == end && !(ok && r.state == stateGone && off+r.size == end):
			// A torn final write (none of it was acknowledged), unless the
			// caller knows better.
			if k.opts.TornTail != nil {
				subject := tornSubject(data[off:])
				if _, known := k.keys[subject]; known {
					subject = "" // its key, if any, is in an intact record before
				}
				if err := k.opts.TornTail(TornTail{Path: k.path, Offset: int64(off), Bytes: end - off, Subject: subject}); err != nil {
					return err
				}
			}
			end = off
		case ok && r.state == stateIdentity:
			return fmt.Errorf("%w: %s: the identity record at byte %d is damaged; restore the keystore from a backup", ErrCorruptKey, k.path, off)
		case ok && off+r.size == next && r.state == stateGone:
			// A Destroy interrupted between its two steps.
			k.apply(r, int64(off), &rescrub)
			rescrub = append(rescrub, scrub{subject: r.subject, off: int64(off)})
		case ok && off+r.size == next:
			k.markCorrupt(r.subject, int64(off))
		default:
			return fmt.Errorf("%w: %s: bytes %d to %d are damaged and belong to no subject; restore the keystore from a backup", ErrCorruptKey, k.path, off, next)
		}
		off = next
	}
	k.size = int64(end)
	return k.repair(data, rescrub)
}

// tornSubject is the subject of the incomplete key record at the start of
// b, when its length byte and subject are there.
func tornSubject(b []byte) string {
	if len(b) < 2 {
		return ""
	}
	n := int(b[0])
	if n < 1 || n > 64 || len(b) < 1+n {
		return ""
	}
	subj := b[1 : 1+n]
	for _, c := range subj {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return ""
		}
	}
	if len(b) > 1+n && b[1+n] != stateLive && b[1+n] != stateGone {
		return "" // an identity record, or not a record
	}
	return string(subj)
}

// apply records an intact (or interrupted-destroy) record in memory. A
// subject with any destroyed record is destroyed; its live records, if
// any, are scrubbed by repair.
func (k *FileKeystore) apply(r record, off int64, rescrub *[]scrub) {
	prev, seen := k.keys[r.subject]
	switch {
	case r.state == stateGone:
		if seen && prev.state != stateGone {
			*rescrub = append(*rescrub, scrub{subject: r.subject, off: prev.off})
		}
		if !seen || prev.state != stateGone {
			k.keys[r.subject] = slot{off: off, state: stateGone}
		}
	case seen && prev.state == stateGone:
		*rescrub = append(*rescrub, scrub{subject: r.subject, off: off})
	case seen:
		// A second live record cannot be written by this code; keep the
		// first, which is the one that was handed out.
	default:
		s := slot{off: off, state: stateLive}
		copy(s.key[:], r.key)
		k.keys[r.subject] = s
	}
}

func (k *FileKeystore) markCorrupt(subject string, off int64) {
	if prev, ok := k.keys[subject]; ok && prev.state == stateGone {
		return
	}
	k.keys[subject] = slot{off: off, state: stateCorrupt}
}

// repair cuts off a torn tail (zeroing it first) and scrubs destroyed
// subjects' records that still hold key bytes.
func (k *FileKeystore) repair(data []byte, rescrub []scrub) error {
	dirty := false
	if tail := len(data) - int(k.size); tail > 0 {
		if _, err := k.f.WriteAt(make([]byte, tail), k.size); err != nil {
			return fmt.Errorf("pii: keystore: repair: %w", err)
		}
		if err := k.f.Sync(); err != nil {
			return fmt.Errorf("pii: keystore: repair: %w", err)
		}
		if err := k.f.Truncate(k.size); err != nil {
			return fmt.Errorf("pii: keystore: repair: %w", err)
		}
		dirty = true
	}
	seen := map[int64]bool{}
	for _, sc := range rescrub {
		if seen[sc.off] || sc.off+int64(len(sc.subject)+recOverhead) > k.size {
			continue
		}
		seen[sc.off] = true
		rec := appendRecord(nil, sc.subject, stateGone, make([]byte, KeySize))
		if _, err := k.f.WriteAt(rec, sc.off); err != nil {
			return fmt.Errorf("pii: keystore: repair: %w", err)
		}
		dirty = true
	}
	if dirty {
		if err := k.sync(); err != nil {
			return fmt.Errorf("pii: keystore: repair: %w", err)
		}
	}
	return nil
}

// writeAtomic creates file with data (durable.WriteFile).
func writeAtomic(dir, file string, data []byte) error {
	if err := durable.WriteFile(file, data, 0o600); err != nil {
		return fmt.Errorf("pii: keystore: %w", err)
	}
	return nil
}
