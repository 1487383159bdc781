// Package checkpoint stores a consumer's durable progress: the global
// position it has applied up to, together with an optional snapshot of its
// state taken at exactly that position, in one small file per consumer.
//
// A file is replaced atomically (write a temporary file, fsync it, rename it
// over the old one, fsync the directory), so after a crash a reader sees
// either the previous checkpoint or the new one, never a mix — which is what
// lets a restarted consumer resume from (snapshot, position) and apply
// nothing twice.
//
// File format (little endian):
//
//	magic    8 bytes  "KEFUCKP1"
//	position 8 bytes  uint64
//	recorded 8 bytes  int64, RecordedAt of the event at position (Unix ns; 0 if unknown)
//	length   4 bytes  uint32, snapshot length
//	snapshot length bytes
//	crc      4 bytes  CRC-32C (Castagnoli) of everything before it
package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/internal/durable"
)

// Checkpoint is a consumer's durable progress.
type Checkpoint struct {
	// Position is the last global position the consumer has applied.
	Position eventstore.Position
	// RecordedAt is the store time of the event at Position (zero if unknown).
	RecordedAt time.Time
	// Snapshot is the consumer's state after applying Position; nil when the
	// consumer keeps no state.
	Snapshot []byte
}

// Sentinel errors. Test with errors.Is.
var (
	// ErrNotFound: no checkpoint has been saved under that name.
	ErrNotFound = errors.New("checkpoint: not found")
	// ErrCorrupt: a checkpoint file that does not decode.
	ErrCorrupt = errors.New("checkpoint: corrupt")
	// ErrInvalidName: a consumer name that is not usable as a file name.
	ErrInvalidName = errors.New("checkpoint: invalid name")
)

// CorruptError says why a checkpoint does not decode. It matches ErrCorrupt.
type CorruptError struct {
	// Path is the file, empty when decoding bytes.
	Path   string
	Reason string
}

func (e *CorruptError) Error() string {
	if e.Path == "" {
		return "checkpoint: corrupt: " + e.Reason
	}
	return fmt.Sprintf("checkpoint: %s: corrupt: %s", e.Path, e.Reason)
}

// Unwrap returns ErrCorrupt.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

const (
	magic      = "KEFUCKP1"
	headerSize = len(magic) + 8 + 8 + 4
	crcSize    = 4
	// MaxSnapshot bounds a snapshot's size (1 GiB).
	MaxSnapshot = 1 << 30
	suffix      = ".ckpt"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

// ValidName reports whether name can name a checkpoint: [a-z][a-z0-9_.-]{0,63}.
func ValidName(name string) bool { return namePattern.MatchString(name) }

// Marshal encodes c in the file format.
func Marshal(c Checkpoint) []byte {
	b := make([]byte, 0, headerSize+len(c.Snapshot)+crcSize)
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint64(b, uint64(c.Position))
	var rec int64
	if !c.RecordedAt.IsZero() {
		rec = c.RecordedAt.UnixNano()
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(rec))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(c.Snapshot)))
	b = append(b, c.Snapshot...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// Unmarshal decodes the file format. The snapshot does not alias b.
func Unmarshal(b []byte) (Checkpoint, error) {
	corrupt := func(format string, a ...any) (Checkpoint, error) {
		return Checkpoint{}, &CorruptError{Reason: fmt.Sprintf(format, a...)}
	}
	if len(b) < headerSize+crcSize {
		return corrupt("%d bytes, want at least %d", len(b), headerSize+crcSize)
	}
	if !bytes.Equal(b[:len(magic)], []byte(magic)) {
		return corrupt("bad magic %q", b[:len(magic)])
	}
	n := binary.LittleEndian.Uint32(b[headerSize-4 : headerSize])
	if uint64(n) > MaxSnapshot || uint64(len(b)) != uint64(headerSize)+uint64(n)+crcSize {
		return corrupt("snapshot length %d does not match file size %d", n, len(b))
	}
	body := b[:len(b)-crcSize]
	if got, want := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(b[len(body):]); got != want {
		return corrupt("checksum %08x, want %08x", got, want)
	}
	c := Checkpoint{Position: eventstore.Position(binary.LittleEndian.Uint64(b[8:16]))}
	if rec := int64(binary.LittleEndian.Uint64(b[16:24])); rec != 0 {
		c.RecordedAt = time.Unix(0, rec).UTC()
	}
	if n > 0 {
		c.Snapshot = bytes.Clone(b[headerSize : headerSize+int(n)])
	}
	return c, nil
}

// Dir keeps checkpoints as files in one directory. Save and Load of
// different names may run concurrently; one name must not be saved by two
// goroutines at once.
type Dir struct {
	path string
}

// Open returns the checkpoint directory at path, creating it if needed.
func Open(path string) (*Dir, error) {
	if path == "" {
		return nil, fmt.Errorf("checkpoint: empty directory path")
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return &Dir{path: path}, nil
}

// Path returns the file that holds name's checkpoint.
func (d *Dir) Path(name string) string { return filepath.Join(d.path, name+suffix) }

// Load reads name's checkpoint; ErrNotFound when none was saved.
func (d *Dir) Load(name string) (Checkpoint, error) {
	if !ValidName(name) {
		return Checkpoint{}, fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	p := d.Path(name)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Checkpoint{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	c, err := Unmarshal(b)
	if ce, ok := errors.AsType[*CorruptError](err); ok {
		ce.Path = p
	}
	return c, err
}

// Save replaces name's checkpoint atomically and durably.
func (d *Dir) Save(name string, c Checkpoint) error {
	if !ValidName(name) {
		return fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	if len(c.Snapshot) > MaxSnapshot {
		return fmt.Errorf("checkpoint: %s: snapshot of %d bytes exceeds %d", name, len(c.Snapshot), MaxSnapshot)
	}
	if err := durable.WriteFile(filepath.Join(d.path, name+suffix), Marshal(c), 0o600); err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", name, err)
	}
	return nil
}
