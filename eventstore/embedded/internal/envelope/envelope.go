// Package envelope is the embedded store's binary encoding of one stored
// event. An envelope holds everything of an eventstore.Event except its
// position, which is the record's key:
//
//	offset 0  version byte (1)
//	offset 1  CRC-32C (Castagnoli), little-endian, of every byte from offset 5
//	offset 5  event ID, 16 bytes
//	then      uvarint revision
//	          uvarint length + stream ID bytes
//	          uvarint length + type bytes
//	          uvarint schema version
//	          varint occurredAt Unix seconds, uvarint nanoseconds
//	          varint recordedAt Unix seconds, uvarint nanoseconds
//	          uvarint length + data bytes (JSON, as appended)
//	          uvarint length + metadata bytes (JSON, as appended)
//
// and nothing after. Times are decoded in UTC.
package envelope

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"time"

	"github.com/kefu-crm/kefu/eventstore"
)

// Version is the envelope layout this package writes and reads.
const Version = 1

const headerLen = 1 + 4 + 16

// Sentinel errors.
var (
	// ErrMalformed: the bytes are not an envelope (truncated, a length out of
	// range, trailing bytes, a checksum mismatch).
	ErrMalformed = errors.New("envelope: malformed")
	// ErrVersion: the envelope has a version this code does not know.
	ErrVersion = errors.New("envelope: unknown version")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Append appends e's envelope to dst and returns the extended slice.
// e.Position is not encoded.
func Append(dst []byte, e *eventstore.Event) []byte {
	start := len(dst)
	dst = append(dst, Version, 0, 0, 0, 0)
	dst = append(dst, e.ID[:]...)
	dst = binary.AppendUvarint(dst, e.Revision)
	dst = appendBytes(dst, e.StreamID)
	dst = appendBytes(dst, e.Type)
	dst = binary.AppendUvarint(dst, uint64(e.SchemaVersion))
	dst = appendTime(dst, e.OccurredAt)
	dst = appendTime(dst, e.RecordedAt)
	dst = appendBytes(dst, e.Data)
	dst = appendBytes(dst, e.Metadata)
	binary.LittleEndian.PutUint32(dst[start+1:], crc32.Checksum(dst[start+5:], castagnoli))
	return dst
}

// Size is an upper bound of the length of e's envelope.
func Size(e *eventstore.Event) int {
	return headerLen + 6*binary.MaxVarintLen64 + len(e.StreamID) + len(e.Type) + len(e.Data) + len(e.Metadata)
}

func appendBytes[T string | []byte](dst []byte, b T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

// Decoder decodes envelopes. It remembers type names so that decoding many
// events of few types allocates each name once. A Decoder is not safe for
// concurrent use; its zero value is ready.
type Decoder struct {
	types map[string]string
}

// maxTypes bounds the type-name cache.
const maxTypes = 1024

// Decode decodes the envelope b into e, leaving e.Position alone. The event's
// data and metadata are copied: e keeps no reference to b.
func (d *Decoder) Decode(b []byte, e *eventstore.Event) error {
	if len(b) < headerLen {
		return fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrMalformed, len(b), headerLen)
	}
	if b[0] != Version {
		return fmt.Errorf("%w: version %d, this code reads version %d", ErrVersion, b[0], Version)
	}
	if want, got := binary.LittleEndian.Uint32(b[1:5]), crc32.Checksum(b[5:], castagnoli); want != got {
		return fmt.Errorf("%w: checksum %08x, stored %08x", ErrMalformed, got, want)
	}
	r := reader{b: b[headerLen:]}
	copy(e.ID[:], b[5:21])
	e.Revision = r.uvarint("revision")
	stream := r.bytes("stream ID")
	typ := r.bytes("type")
	schema := r.uvarint("schema version")
	e.OccurredAt = r.time("occurredAt")
	e.RecordedAt = r.time("recordedAt")
	data := r.bytes("data")
	meta := r.bytes("metadata")
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(r.b))
	}
	if schema > math.MaxInt32 {
		return fmt.Errorf("%w: schema version %d out of range", ErrMalformed, schema)
	}
	e.SchemaVersion = int(schema)
	e.StreamID = string(stream)
	e.Type = d.intern(typ)
	// One allocation for data and metadata; each slice is capped so that
	// appending to one cannot overwrite the other.
	buf := make([]byte, len(data)+len(meta))
	copy(buf, data)
	copy(buf[len(data):], meta)
	e.Data = buf[:len(data):len(data)]
	e.Metadata = nil
	if len(meta) > 0 {
		e.Metadata = buf[len(data):]
	}
	return nil
}

func (d *Decoder) intern(b []byte) string {
	if s, ok := d.types[string(b)]; ok {
		return s
	}
	s := string(b)
	if d.types == nil {
		d.types = make(map[string]string)
	}
	if len(d.types) < maxTypes {
		d.types[s] = s
	}
	return s
}

// reader reads fields, keeping the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint in %s", ErrMalformed, field)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint(field string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint in %s", ErrMalformed, field)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(field string) []byte {
	n := r.uvarint(field)
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = fmt.Errorf("%w: %s of %d bytes, only %d left", ErrMalformed, field, n, len(r.b))
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) time(field string) time.Time {
	sec := r.varint(field)
	nsec := r.uvarint(field)
	if r.err != nil {
		return time.Time{}
	}
	if nsec >= 1e9 {
		r.err = fmt.Errorf("%w: %s has %d nanoseconds", ErrMalformed, field, nsec)
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
