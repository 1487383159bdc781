// Package statecodec writes the in-memory state of read models to bytes
// and reads it back, so that a restart can load a snapshot instead of
// folding the whole log again.
//
// It walks the values by reflection — unexported fields included — so a
// read model needs no serialiser of its own and a field added to one is
// in the next snapshot without anyone remembering to write it down. What
// that costs is explicitness about what is not state:
//
//   - fields of the types of package sync and sync/atomic are skipped
//     (locks are zero in a decoded value). While the encoder writes a
//     struct it holds that struct's locks — a sync.Mutex field locked, a
//     sync.RWMutex read-locked — so readers working under those locks
//     (a lazily sorted index, say) never race with it;
//   - a field tagged `snapshot:"-"` is skipped: a decoded root keeps what
//     the field held before (a callback wired by the constructor), a value
//     allocated by the decoder has it zero;
//   - any other function, channel, interface or unsafe pointer is an
//     error, found by Fingerprint before anything is written.
//
// A type whose pointer implements Custom writes another value in its
// place (a B-tree, say, writes its keys in order and rebuilds itself).
//
// Pointers keep their identity: two pointers to one value decode to two
// pointers to one value. time.Time keeps its instant and whether it was
// UTC or local (a time in another zone decodes in a fixed zone of the
// same offset).
//
// Fingerprint hashes the layout of every type reachable from the roots
// (names, kinds, fields, tags): a snapshot written by a binary whose
// read-model types differ is refused by comparing fingerprints, not
// misread. A change of what a read model computes that leaves its types
// as they were is not visible here; the caller versions that.
//
// The decoder reads untrusted bytes safely: every length is checked
// against the bytes that remain (Decode is given the total), so corrupt
// input is an error, never a panic or a huge allocation.
package statecodec

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// formatVersion versions the encoding itself (part of every
// fingerprint): bump it with any change to what a plan writes.
const formatVersion = 1

// ErrCorrupt: the bytes are not a snapshot of these types.
var ErrCorrupt = errors.New("statecodec: corrupt snapshot")

var (
	timeType   = reflect.TypeFor[time.Time]()
	customType = reflect.TypeFor[Custom]()
)

// Custom is implemented by types that stand in a snapshot for another
// value — one the codec can write — from which they rebuild themselves.
type Custom interface {
	// EncodeState returns the value written in place of the receiver.
	EncodeState() any
	// DecodeState returns a pointer to a value of the type EncodeState
	// returns, for the decoder to fill; StateDecoded is called after.
	DecodeState() any
	// StateDecoded rebuilds the receiver from the value filled.
	StateDecoded() error
}

// skipped reports whether values of t are not state (locks, atomics).
func skipped(t reflect.Type) bool {
	p := t.PkgPath()
	return p == "sync" || p == "sync/atomic"
}

// skipField reports whether struct field f is left out.
func skipField(f reflect.StructField) bool {
	return f.Tag.Get("snapshot") == "-" || skipped(f.Type)
}

// Fingerprint hashes the layout of the types roots point to and every
// type reachable from them; it fails on a type the codec cannot write.
func Fingerprint(roots ...any) ([32]byte, error) {
	h := sha256.New()
	fmt.Fprintf(h, "statecodec format %d;", formatVersion)
	seen := map[reflect.Type]int{}
	var walk func(t reflect.Type, path string) error
	walk = func(t reflect.Type, path string) error {
		if n, ok := seen[t]; ok {
			fmt.Fprintf(h, "@%d;", n)
			return nil
		}
		seen[t] = len(seen)
		fmt.Fprintf(h, "%s.%s/%s{", t.PkgPath(), t.Name(), t.Kind())
		defer h.Write([]byte("}"))
		if reflect.PointerTo(t).Implements(customType) {
			st := reflect.TypeOf(reflect.New(t).Interface().(Custom).DecodeState())
			if st == nil || st.Kind() != reflect.Pointer {
				return fmt.Errorf("statecodec: %s: DecodeState does not return a pointer", t)
			}
			h.Write([]byte("custom:"))
			return walk(st.Elem(), path+"(state)")
		}
		switch t.Kind() {
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
			reflect.Float32, reflect.Float64, reflect.String:
			return nil
		case reflect.Pointer, reflect.Slice:
			return walk(t.Elem(), path+"[]")
		case reflect.Array:
			fmt.Fprintf(h, "%d;", t.Len())
			return walk(t.Elem(), path+"[]")
		case reflect.Map:
			if err := walk(t.Key(), path+"{key}"); err != nil {
				return err
			}
			return walk(t.Elem(), path+"{}")
		case reflect.Struct:
			if t == timeType {
				return nil
			}
			for i := range t.NumField() {
				f := t.Field(i)
				fmt.Fprintf(h, "%s %q;", f.Name, f.Tag)
				if skipField(f) {
					continue
				}
				if err := walk(f.Type, path+"."+f.Name); err != nil {
					return err
				}
			}
			return nil
		}
		return fmt.Errorf("statecodec: %s (%s) cannot be written: tag the field `snapshot:\"-\"` if it is not state", strings.TrimPrefix(path, "."), t)
	}
	for _, r := range roots {
		t := reflect.TypeOf(r)
		if t == nil || t.Kind() != reflect.Pointer {
			return [32]byte{}, fmt.Errorf("statecodec: root %T is not a pointer", r)
		}
		if err := walk(t.Elem(), t.Elem().String()); err != nil {
			return [32]byte{}, err
		}
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out, nil
}

// A plan writes and reads values of one type through pointers to them,
// decided once per type (which fields, which offsets, which helpers), so
// that the per-value work is plain loads and stores.
type plan struct {
	enc func(e *Encoder, p unsafe.Pointer)
	dec func(d *Decoder, p unsafe.Pointer)
	// min is a lower bound of one value's encoded size.
	min int64
}

var plans sync.Map // reflect.Type → *plan

// planOf returns the plan of t, building it (and those of the types it
// holds) on first use.
func planOf(t reflect.Type) (*plan, error) {
	if p, ok := plans.Load(t); ok {
		return p.(*plan), nil
	}
	building := map[reflect.Type]*plan{}
	p, err := build(t, building)
	if err != nil {
		return nil, err
	}
	for bt, bp := range building {
		plans.LoadOrStore(bt, bp)
	}
	return p, nil
}

type sliceHeader struct {
	data unsafe.Pointer
	len  int
	cap  int
}

func build(t reflect.Type, building map[reflect.Type]*plan) (*plan, error) {
	if p, ok := plans.Load(t); ok {
		return p.(*plan), nil
	}
	if p, ok := building[t]; ok {
		return p, nil // recursive type: filled in below by the outer call
	}
	p := &plan{min: 1}
	building[t] = p
	if reflect.PointerTo(t).Implements(customType) {
		st := reflect.TypeOf(reflect.New(t).Interface().(Custom).DecodeState())
		if st == nil || st.Kind() != reflect.Pointer {
			return nil, fmt.Errorf("statecodec: %s: DecodeState does not return a pointer", t)
		}
		sp, err := build(st.Elem(), building)
		if err != nil {
			return nil, err
		}
		p.enc = func(e *Encoder, ptr unsafe.Pointer) {
			c := reflect.NewAt(t, ptr).Interface().(Custom)
			v := reflect.New(st.Elem())
			v.Elem().Set(reflect.ValueOf(c.EncodeState()))
			sp.enc(e, v.UnsafePointer())
		}
		p.dec = func(d *Decoder, ptr unsafe.Pointer) {
			c := reflect.NewAt(t, ptr).Interface().(Custom)
			sp.dec(d, reflect.ValueOf(c.DecodeState()).UnsafePointer())
			if d.err == nil {
				if err := c.StateDecoded(); err != nil {
					d.fail("%s: %v", t, err)
				}
			}
		}
		return p, nil
	}
	switch t.Kind() {
	case reflect.Bool:
		p.enc = func(e *Encoder, ptr unsafe.Pointer) {
			if *(*bool)(ptr) {
				e.byte(1)
			} else {
				e.byte(0)
			}
		}
		p.dec = func(d *Decoder, ptr unsafe.Pointer) {
			switch d.byte() {
			case 0:
				*(*bool)(ptr) = false
			case 1:
				*(*bool)(ptr) = true
			default:
				d.fail("a bool that is not 0 or 1")
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.enc, p.dec = intPlan(t.Size())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.enc, p.dec = uintPlan(t.Size())
	case reflect.Float32:
		p.min = 4
		p.enc = func(e *Encoder, ptr unsafe.Pointer) {
			e.raw(binary.LittleEndian.AppendUint32(e.buf[:0], math.Float32bits(*(*float32)(ptr))))
		}
		p.dec = func(d *Decoder, ptr unsafe.Pointer) {
			if b := d.fixed(4); b != nil {
				*(*float32)(ptr) = math.Float32frombits(binary.LittleEndian.Uint32(b))
			}
		}
	case reflect.Float64:
		p.min = 8
		p.enc = func(e *Encoder, ptr unsafe.Pointer) {
			e.raw(binary.LittleEndian.AppendUint64(e.buf[:0], math.Float64bits(*(*float64)(ptr))))
		}
		p.dec = func(d *Decoder, ptr unsafe.Pointer) {
			if b := d.fixed(8); b != nil {
				*(*float64)(ptr) = math.Float64frombits(binary.LittleEndian.Uint64(b))
			}
		}
	case reflect.String:
		p.enc = func(e *Encoder, ptr unsafe.Pointer) { e.string(*(*string)(ptr)) }
		p.dec = func(d *Decoder, ptr unsafe.Pointer) { *(*string)(ptr) = d.string() }
	case reflect.Slice:
		return p, slicePlan(p, t, building)
	case reflect.Array:
		ep, err := build(t.Elem(), building)
		if err != nil {
			return nil, err
		}
		n, size := t.Len(), t.Elem().Size()
		p.min = int64(n) * ep.min
		if t.Elem().Kind() == reflect.Uint8 {
			// Bytes (a digest, a UUID) as they are.
			p.enc = func(e *Encoder, ptr unsafe.Pointer) { e.raw(unsafe.Slice((*byte)(ptr), n)) }
			p.dec = func(d *Decoder, ptr unsafe.Pointer) { d.read(unsafe.Slice((*byte)(ptr), n)) }
			return p, nil
		}
		p.enc = func(e *Encoder, ptr unsafe.Pointer) {
			for i := range n {
				ep.enc(e, unsafe.Add(ptr, uintptr(i)*size))
			}
		}
		p.dec = func(d *Decoder, ptr unsafe.Pointer) {
			for i := 0; i < n && d.err == nil; i++ {
				ep.dec(d, unsafe.Add(ptr, uintptr(i)*size))
			}
		}
	case reflect.Map:
		return p, mapPlan(p, t, building)
	case reflect.Pointer:
		ep, err := build(t.Elem(), building)
		if err != nil {
			return nil, err
		}
		p.enc = func(e *Encoder, ptr unsafe.Pointer) {
			q := *(*unsafe.Pointer)(ptr)
			if q == nil {
				e.uvarint(0)
				return
			}
			k := ptrKey{q, t}
			if id, ok := e.ptrs[k]; ok {
				e.uvarint(id)
				return
			}
			id := uint64(len(e.ptrs)) + 1
			e.ptrs[k] = id
			e.uvarint(id)
			ep.enc(e, q)
		}
		p.dec = func(d *Decoder, ptr unsafe.Pointer) {
			id := d.uvarint()
			switch {
			case d.err != nil:
			case id == 0:
				*(*unsafe.Pointer)(ptr) = nil
			case id < uint64(len(d.ptrs)):
				if d.ptrs[id].t != t {
					d.fail("pointer %d is a %s, not a %s", id, d.ptrs[id].t, t)
					return
				}
				*(*unsafe.Pointer)(ptr) = d.ptrs[id].p
			case id == uint64(len(d.ptrs)):
				q := reflect.New(t.Elem()).UnsafePointer()
				d.ptrs = append(d.ptrs, ptrKey{q, t})
				*(*unsafe.Pointer)(ptr) = q
				ep.dec(d, q)
			default:
				d.fail("pointer %d before pointer %d", id, len(d.ptrs))
			}
		}
	case reflect.Struct:
		if t == timeType {
			p.enc = func(e *Encoder, ptr unsafe.Pointer) { e.time(*(*time.Time)(ptr)) }
			p.dec = func(d *Decoder, ptr unsafe.Pointer) { *(*time.Time)(ptr) = d.time() }
			return p, nil
		}
		return p, structPlan(p, t, building)
	default:
		return nil, fmt.Errorf("statecodec: cannot write a %s", t)
	}
	return p, nil
}

// signed and unsigned are the plans of integers stored as T (the size
// of the field's type): varints, range-checked on the way back.
func signed[T int8 | int16 | int32 | int64]() (func(*Encoder, unsafe.Pointer), func(*Decoder, unsafe.Pointer)) {
	return func(e *Encoder, p unsafe.Pointer) { e.varint(int64(*(*T)(p))) },
		func(d *Decoder, p unsafe.Pointer) {
			if x := d.varint(); int64(T(x)) == x {
				*(*T)(p) = T(x)
			} else {
				d.fail("%d overflows a %d-byte integer", x, unsafe.Sizeof(T(0)))
			}
		}
}

func unsigned[T uint8 | uint16 | uint32 | uint64]() (func(*Encoder, unsafe.Pointer), func(*Decoder, unsafe.Pointer)) {
	return func(e *Encoder, p unsafe.Pointer) { e.uvarint(uint64(*(*T)(p))) },
		func(d *Decoder, p unsafe.Pointer) {
			if x := d.uvarint(); uint64(T(x)) == x {
				*(*T)(p) = T(x)
			} else {
				d.fail("%d overflows a %d-byte unsigned integer", x, unsafe.Sizeof(T(0)))
			}
		}
}

func intPlan(size uintptr) (func(*Encoder, unsafe.Pointer), func(*Decoder, unsafe.Pointer)) {
	switch size {
	case 1:
		return signed[int8]()
	case 2:
		return signed[int16]()
	case 4:
		return signed[int32]()
	}
	return signed[int64]()
}

func uintPlan(size uintptr) (func(*Encoder, unsafe.Pointer), func(*Decoder, unsafe.Pointer)) {
	switch size {
	case 1:
		return unsigned[uint8]()
	case 2:
		return unsigned[uint16]()
	case 4:
		return unsigned[uint32]()
	}
	return unsigned[uint64]()
}

func slicePlan(p *plan, t reflect.Type, building map[reflect.Type]*plan) error {
	if t.Elem().Kind() == reflect.Uint8 {
		p.enc = func(e *Encoder, ptr unsafe.Pointer) {
			h := (*sliceHeader)(ptr)
			if h.data == nil {
				e.uvarint(0)
				return
			}
			e.uvarint(uint64(h.len) + 1)
			e.raw(unsafe.Slice((*byte)(h.data), h.len))
		}
		p.dec = func(d *Decoder, ptr unsafe.Pointer) {
			n := d.uvarint()
			if n == 0 || d.err != nil {
				*(*sliceHeader)(ptr) = sliceHeader{}
				return
			}
			l := d.length(n-1, 1)
			s := reflect.MakeSlice(t, l, l)
			d.read(s.Bytes())
			*(*sliceHeader)(ptr) = sliceHeader{s.UnsafePointer(), l, l}
		}
		return nil
	}
	ep, err := build(t.Elem(), building)
	if err != nil {
		return err
	}
	size := t.Elem().Size()
	p.enc = func(e *Encoder, ptr unsafe.Pointer) {
		h := (*sliceHeader)(ptr)
		if h.data == nil {
			e.uvarint(0)
			return
		}
		e.uvarint(uint64(h.len) + 1)
		for i := range h.len {
			ep.enc(e, unsafe.Add(h.data, uintptr(i)*size))
		}
	}
	p.dec = func(d *Decoder, ptr unsafe.Pointer) {
		n := d.uvarint()
		if n == 0 || d.err != nil {
			*(*sliceHeader)(ptr) = sliceHeader{}
			return
		}
		l := d.length(n-1, ep.min)
		if d.err != nil {
			return
		}
		data := reflect.MakeSlice(t, l, l).UnsafePointer()
		*(*sliceHeader)(ptr) = sliceHeader{data, l, l}
		for i := 0; i < l && d.err == nil; i++ {
			ep.dec(d, unsafe.Add(data, uintptr(i)*size))
		}
	}
	return nil
}

func mapPlan(p *plan, t reflect.Type, building map[reflect.Type]*plan) error {
	kp, err := build(t.Key(), building)
	if err != nil {
		return err
	}
	vp, err := build(t.Elem(), building)
	if err != nil {
		return err
	}
	p.enc = func(e *Encoder, ptr unsafe.Pointer) {
		m := reflect.NewAt(t, ptr).Elem()
		if m.IsNil() {
			e.uvarint(0)
			return
		}
		e.uvarint(uint64(m.Len()) + 1)
		k, v := reflect.New(t.Key()), reflect.New(t.Elem())
		it := m.MapRange()
		for it.Next() {
			k.Elem().SetIterKey(it)
			v.Elem().SetIterValue(it)
			kp.enc(e, k.UnsafePointer())
			vp.enc(e, v.UnsafePointer())
		}
	}
	p.dec = func(d *Decoder, ptr unsafe.Pointer) {
		dst := reflect.NewAt(t, ptr).Elem()
		n := d.uvarint()
		if n == 0 || d.err != nil {
			dst.SetZero()
			return
		}
		l := d.length(n-1, kp.min+vp.min)
		m := reflect.MakeMapWithSize(t, l)
		k, v := reflect.New(t.Key()), reflect.New(t.Elem())
		for i := 0; i < l && d.err == nil; i++ {
			k.Elem().SetZero()
			v.Elem().SetZero()
			kp.dec(d, k.UnsafePointer())
			vp.dec(d, v.UnsafePointer())
			m.SetMapIndex(k.Elem(), v.Elem())
		}
		if d.err == nil && m.Len() != l {
			d.fail("a map with a repeated key")
		}
		dst.Set(m)
	}
	return nil
}

type fieldPlan struct {
	off uintptr
	p   *plan
}

var (
	mutexType   = reflect.TypeFor[sync.Mutex]()
	rwMutexType = reflect.TypeFor[sync.RWMutex]()
)

func structPlan(p *plan, t reflect.Type, building map[reflect.Type]*plan) error {
	var fields []fieldPlan
	var mutexes, rwMutexes []uintptr
	p.min = 0
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("snapshot") != "-" {
			switch f.Type {
			case mutexType:
				mutexes = append(mutexes, f.Offset)
			case rwMutexType:
				rwMutexes = append(rwMutexes, f.Offset)
			}
		}
		if skipField(f) {
			continue
		}
		fp, err := build(f.Type, building)
		if err != nil {
			return fmt.Errorf("%w (field %s.%s)", err, t, f.Name)
		}
		fields = append(fields, fieldPlan{f.Offset, fp})
	}
	// The fields' minimum sizes are known once every plan is built; a
	// recursive type may not be yet, so 1 per field is the bound used.
	p.min = int64(len(fields))
	locks := len(mutexes)+len(rwMutexes) > 0
	p.enc = func(e *Encoder, ptr unsafe.Pointer) {
		if locks {
			for _, o := range mutexes {
				m := (*sync.Mutex)(unsafe.Add(ptr, o))
				m.Lock()
				defer m.Unlock()
			}
			for _, o := range rwMutexes {
				m := (*sync.RWMutex)(unsafe.Add(ptr, o))
				m.RLock()
				defer m.RUnlock()
			}
		}
		for _, f := range fields {
			f.p.enc(e, unsafe.Add(ptr, f.off))
		}
	}
	p.dec = func(d *Decoder, ptr unsafe.Pointer) {
		for _, f := range fields {
			if d.err != nil {
				return
			}
			f.p.dec(d, unsafe.Add(ptr, f.off))
		}
	}
	return nil
}

type ptrKey struct {
	p unsafe.Pointer
	t reflect.Type
}

// Encoder writes values to a stream.
type Encoder struct {
	w    *bufio.Writer
	ptrs map[ptrKey]uint64
	buf  [binary.MaxVarintLen64]byte
	err  error
	n    int64
}

// NewEncoder writes to w.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: bufio.NewWriterSize(w, 1<<16), ptrs: map[ptrKey]uint64{}}
}

// Encode writes the values roots point to (each a non-nil pointer), in
// order; pointers shared between roots keep their identity.
func (e *Encoder) Encode(roots ...any) error {
	for _, r := range roots {
		v := reflect.ValueOf(r)
		if v.Kind() != reflect.Pointer || v.IsNil() {
			return fmt.Errorf("statecodec: root %T is not a non-nil pointer", r)
		}
		p, err := planOf(v.Type().Elem())
		if err != nil {
			return err
		}
		p.enc(e, v.UnsafePointer())
	}
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.err
}

// Written is the number of bytes written so far.
func (e *Encoder) Written() int64 { return e.n }

func (e *Encoder) raw(b []byte) {
	if e.err != nil {
		return
	}
	_, e.err = e.w.Write(b)
	e.n += int64(len(b))
}

func (e *Encoder) byte(b byte) {
	if e.err == nil {
		e.err = e.w.WriteByte(b)
		e.n++
	}
}

func (e *Encoder) uvarint(x uint64) {
	if x < 0x80 {
		e.byte(byte(x))
		return
	}
	e.raw(binary.AppendUvarint(e.buf[:0], x))
}

func (e *Encoder) varint(x int64) {
	ux := uint64(x) << 1
	if x < 0 {
		ux = ^ux
	}
	e.uvarint(ux)
}

func (e *Encoder) string(s string) {
	e.uvarint(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
		e.n += int64(len(s))
	}
}

// Time zones: 0 the zero Time, 1 UTC, 2 local, 3 a fixed offset.
func (e *Encoder) time(t time.Time) {
	switch {
	case t.IsZero() && t.Location() == time.UTC:
		e.byte(0)
		return
	case t.Location() == time.UTC:
		e.byte(1)
	case t.Location() == time.Local:
		e.byte(2)
	default:
		_, off := t.Zone()
		e.byte(3)
		e.varint(int64(off))
	}
	e.varint(t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
}

// Decoder reads what an Encoder wrote.
type Decoder struct {
	r io.Reader
	// buf[pos:] is read from r and not decoded yet; rerr is r's error
	// once it has given everything.
	buf  []byte
	pos  int
	rerr error
	left int64
	ptrs []ptrKey
	err  error
	// arena holds the bytes of short strings decoded, many to one
	// allocation.
	arena []byte
}

// NewDecoder reads at most size bytes from r: size bounds every length
// the input claims.
func NewDecoder(r io.Reader, size int64) *Decoder {
	return &Decoder{r: r, buf: make([]byte, 0, 1<<16), left: size, ptrs: []ptrKey{{}}}
}

// Decode reads into the values roots point to, which must be of the
// types the encoder was given, in the same order. Fields tagged
// `snapshot:"-"` of the roots keep their values.
func (d *Decoder) Decode(roots ...any) error {
	for _, r := range roots {
		v := reflect.ValueOf(r)
		if v.Kind() != reflect.Pointer || v.IsNil() {
			return fmt.Errorf("statecodec: root %T is not a non-nil pointer", r)
		}
		p, err := planOf(v.Type().Elem())
		if err != nil {
			return err
		}
		p.dec(d, v.UnsafePointer())
		if d.err != nil {
			return d.err
		}
	}
	return nil
}

// Left is how many of the size bytes have not been read.
func (d *Decoder) Left() int64 { return d.left }

// AtEnd reports whether the input has nothing after what was decoded.
func (d *Decoder) AtEnd() bool {
	return d.pos == len(d.buf) && !d.fill() && d.rerr == io.EOF
}

// fill reads more of r into buf, keeping what is not decoded yet; it
// reports whether there is more.
func (d *Decoder) fill() bool {
	if d.rerr != nil {
		return false
	}
	n := copy(d.buf[:cap(d.buf)], d.buf[d.pos:])
	d.buf, d.pos = d.buf[:n], 0
	m, err := io.ReadAtLeast(d.r, d.buf[n:cap(d.buf)], 1)
	d.buf = d.buf[:n+m]
	if err != nil {
		d.rerr = err
	}
	return m > 0
}

func (d *Decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	}
}

func (d *Decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.left < 1 {
		d.fail("truncated")
		return 0
	}
	if d.pos == len(d.buf) && !d.fill() {
		d.fail("cut short: %v", d.rerr)
		return 0
	}
	b := d.buf[d.pos]
	d.pos++
	d.left--
	return b
}

func (d *Decoder) uvarint() uint64 {
	if d.err == nil && len(d.buf)-d.pos >= binary.MaxVarintLen64 && d.left >= binary.MaxVarintLen64 {
		x, n := binary.Uvarint(d.buf[d.pos:])
		if n <= 0 {
			d.fail("varint overflows")
			return 0
		}
		d.pos += n
		d.left -= int64(n)
		return x
	}
	var x uint64
	var s uint
	for i := range binary.MaxVarintLen64 {
		b := d.byte()
		if d.err != nil {
			return 0
		}
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				d.fail("varint overflows")
				return 0
			}
			return x | uint64(b)<<s
		}
		x |= uint64(b&0x7f) << s
		s += 7
	}
	d.fail("varint overflows")
	return 0
}

func (d *Decoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// length reads a count of items of at least min bytes each.
func (d *Decoder) length(n uint64, min int64) int {
	if d.err != nil {
		return 0
	}
	if min < 1 {
		min = 1
	}
	if n > uint64(d.left/min) {
		d.fail("a length of %d with %d bytes left", n, d.left)
		return 0
	}
	return int(n)
}

// read fills b (whose length length checked).
func (d *Decoder) read(b []byte) {
	if d.err != nil {
		return
	}
	if int64(len(b)) > d.left {
		d.fail("truncated")
		return
	}
	d.left -= int64(len(b))
	for len(b) > 0 {
		if d.pos == len(d.buf) && !d.fill() {
			d.fail("cut short: %v", d.rerr)
			return
		}
		n := copy(b, d.buf[d.pos:])
		d.pos += n
		b = b[n:]
	}
}

// fixed reads n bytes into a scratch buffer (nil on an error).
func (d *Decoder) fixed(n int) []byte {
	var b [8]byte
	d.read(b[:n])
	if d.err != nil {
		return nil
	}
	return b[:n]
}

const (
	arenaSize = 32 << 10
	// Strings longer than this get their own allocation.
	arenaMax = 1 << 10
)

func (d *Decoder) string() string {
	n := d.length(d.uvarint(), 1)
	if n == 0 || d.err != nil {
		return ""
	}
	var b []byte
	if n > arenaMax {
		b = make([]byte, n)
	} else {
		if len(d.arena) < n {
			d.arena = make([]byte, arenaSize)
		}
		b, d.arena = d.arena[:n:n], d.arena[n:]
	}
	d.read(b)
	if d.err != nil {
		return ""
	}
	return unsafe.String(&b[0], n)
}

func (d *Decoder) time() time.Time {
	var loc *time.Location
	switch d.byte() {
	case 0:
		return time.Time{}
	case 1:
		loc = time.UTC
	case 2:
		loc = time.Local
	case 3:
		off := d.varint()
		if off < -24*3600 || off > 24*3600 {
			d.fail("a zone offset of %d s", off)
			return time.Time{}
		}
		loc = time.FixedZone("", int(off))
	default:
		d.fail("a time zone kind that is not 0–3")
		return time.Time{}
	}
	sec, nsec := d.varint(), d.uvarint()
	if nsec >= 1e9 {
		d.fail("%d nanoseconds", nsec)
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).In(loc)
}
