// Package snapfile stores a snapshot of the read models in one sealed
// file: a header in clear (what the snapshot is of, and which key seals
// it) and the body in AES-256-GCM chunks of at most 1 MiB, each
// authenticated together with the header, its number and whether it is the
// last, so a file cut short, reordered or spliced from two snapshots does
// not open. The read models hold personal data (names, phones, the
// duplicates' blind index); sealed, a snapshot is worth nothing without
// its key, which the data directory's keystore holds and an erasure
// destroys (crypto-shredding reaches the snapshot as it reaches the log).
//
// Write goes to a temporary file, fsyncs it, renames it over the old one
// and fsyncs the directory: a crash leaves the old snapshot or the new
// one, never half of one.
package snapfile

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kefu-crm/kefu/internal/durable"
)

// ErrCorrupt: the file is not a whole snapshot sealed with this key.
var ErrCorrupt = errors.New("snapfile: corrupt or foreign snapshot")

const (
	magic      = "KEFUSNP1"
	headerSize = len(magic) + 32 + 8 + 16 + 8 + 8 + 4
	chunkSize  = 1 << 20
	// maxSealed bounds one sealed chunk on read.
	maxSealed = chunkSize + 16
)

// Header says what a snapshot is of.
type Header struct {
	// Fingerprint identifies the code and settings that wrote it.
	Fingerprint [32]byte
	// Position is the last event the snapshot reflects, EventID that
	// event's ID (a snapshot of another log has another ID there) and
	// RecordedAt when it was recorded.
	Position   uint64
	EventID    [16]byte
	RecordedAt time.Time
	// Generation names the key that seals it.
	Generation uint64
	nonce      [4]byte
}

func (h Header) marshal() []byte {
	b := make([]byte, 0, headerSize)
	b = append(b, magic...)
	b = append(b, h.Fingerprint[:]...)
	b = binary.LittleEndian.AppendUint64(b, h.Position)
	b = append(b, h.EventID[:]...)
	b = binary.LittleEndian.AppendUint64(b, uint64(h.RecordedAt.UnixNano()))
	b = binary.LittleEndian.AppendUint64(b, h.Generation)
	return append(b, h.nonce[:]...)
}

func unmarshal(b []byte) (Header, error) {
	var h Header
	if len(b) != headerSize || string(b[:len(magic)]) != magic {
		return h, fmt.Errorf("%w: no snapshot header", ErrCorrupt)
	}
	b = b[len(magic):]
	copy(h.Fingerprint[:], b)
	b = b[32:]
	h.Position = binary.LittleEndian.Uint64(b)
	copy(h.EventID[:], b[8:])
	h.RecordedAt = time.Unix(0, int64(binary.LittleEndian.Uint64(b[24:]))).UTC()
	h.Generation = binary.LittleEndian.Uint64(b[32:])
	copy(h.nonce[:], b[40:])
	return h, nil
}

func aead(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("snapfile: a key of %d bytes, want 32", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func nonceOf(h *Header, n uint64) []byte {
	nonce := make([]byte, 12)
	copy(nonce, h.nonce[:])
	binary.BigEndian.PutUint64(nonce[4:], n)
	return nonce
}

func adOf(hdr []byte, n uint64, last bool) []byte {
	ad := binary.LittleEndian.AppendUint64(bytes.Clone(hdr), n)
	if last {
		return append(ad, 1)
	}
	return append(ad, 0)
}

// sealer is the writer of the body: it seals every full chunk.
type sealer struct {
	w    io.Writer
	g    cipher.AEAD
	h    *Header
	hdr  []byte
	buf  []byte
	n    uint64
	out  []byte
	size int64
}

func (s *sealer) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		k := min(chunkSize-len(s.buf), len(p))
		s.buf = append(s.buf, p[:k]...)
		p = p[k:]
		if len(s.buf) == chunkSize {
			if err := s.flush(false); err != nil {
				return total - len(p), err
			}
		}
	}
	return total, nil
}

func (s *sealer) flush(last bool) error {
	s.out = s.g.Seal(binary.LittleEndian.AppendUint32(s.out[:0], uint32(len(s.buf)+s.g.Overhead())), nonceOf(s.h, s.n), s.buf, adOf(s.hdr, s.n, last))
	s.n++
	s.size += int64(len(s.buf))
	s.buf = s.buf[:0]
	_, err := s.w.Write(s.out)
	return err
}

// Write stores a snapshot at path: h (its Generation naming key), then
// what body writes, sealed with key. It returns the body's size.
func Write(path string, h Header, key []byte, body func(io.Writer) error) (int64, error) {
	g, err := aead(key)
	if err != nil {
		return 0, err
	}
	if _, err := rand.Read(h.nonce[:]); err != nil {
		return 0, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	defer func() {
		if tmp != "" {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	hdr := h.marshal()
	if _, err := w.Write(hdr); err != nil {
		return 0, err
	}
	s := &sealer{w: w, g: g, h: &h, hdr: hdr, buf: make([]byte, 0, chunkSize)}
	if err := body(s); err != nil {
		return 0, err
	}
	if err := s.flush(true); err != nil {
		return 0, err
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, err
	}
	tmp = ""
	return s.size, durable.SyncDir(dir)
}

// ReadHeader reads the header of the snapshot at path.
func ReadHeader(path string) (Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, err
	}
	defer f.Close()
	b := make([]byte, headerSize)
	if _, err := io.ReadFull(f, b); err != nil {
		return Header{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return unmarshal(b)
}

// Snapshot is an open snapshot: its header, and the body as a Reader
// that opens one chunk at a time (Read fails with ErrCorrupt on any
// chunk that does not open, and at an end before the last chunk).
type Snapshot struct {
	Header
	// Size bounds the body's size (the file's size).
	Size int64
	f    *os.File
	r    *bufio.Reader
	g    cipher.AEAD
	hdr  []byte
	n    uint64
	buf  []byte
	sbuf []byte
	last bool
}

// Open opens the snapshot at path with key.
func Open(path string, key []byte) (*Snapshot, error) {
	g, err := aead(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &Snapshot{f: f, r: bufio.NewReaderSize(f, 1<<20), g: g, hdr: make([]byte, headerSize), Size: st.Size()}
	if _, err := io.ReadFull(s.r, s.hdr); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if s.Header, err = unmarshal(s.hdr); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the file.
func (s *Snapshot) Close() error { return s.f.Close() }

func (s *Snapshot) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.last {
			return 0, io.EOF
		}
		if err := s.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

func (s *Snapshot) next() error {
	var l [4]byte
	if _, err := io.ReadFull(s.r, l[:]); err != nil {
		return fmt.Errorf("%w: cut short before chunk %d", ErrCorrupt, s.n)
	}
	n := binary.LittleEndian.Uint32(l[:])
	if n < uint32(s.g.Overhead()) || n > maxSealed {
		return fmt.Errorf("%w: chunk %d of %d bytes", ErrCorrupt, s.n, n)
	}
	if cap(s.sbuf) < int(n) {
		s.sbuf = make([]byte, n)
	}
	sealed := s.sbuf[:n]
	if _, err := io.ReadFull(s.r, sealed); err != nil {
		return fmt.Errorf("%w: chunk %d cut short", ErrCorrupt, s.n)
	}
	// The last chunk is the one that opens as last.
	nonce := nonceOf(&s.Header, s.n)
	plain, err := s.g.Open(sealed[:0:0], nonce, sealed, adOf(s.hdr, s.n, false))
	if err != nil {
		if plain, err = s.g.Open(sealed[:0:0], nonce, sealed, adOf(s.hdr, s.n, true)); err != nil {
			return fmt.Errorf("%w: chunk %d does not open", ErrCorrupt, s.n)
		}
		s.last = true
		if _, err := s.r.ReadByte(); err != io.EOF {
			return fmt.Errorf("%w: bytes after the last chunk", ErrCorrupt)
		}
	}
	s.n++
	s.buf = plain
	return nil
}
