package codec

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// A plan decodes the JSON of one struct type without the general decoder:
// a field table built once by reflection when the spec is registered, and a
// scanner that writes fields in place. It handles only what kefu's events
// and metadata are made of and only the plain form of it: string, bool and
// integer fields, types with UnmarshalText or UnmarshalJSON fed from a JSON
// string (enums, time.Time), nested structs, pointers to those and []string,
// keys spelled exactly as tagged, each at most once, strings without escapes
// or control characters. Anything else — a key it does not know, an escape,
// a null, a number with a fraction, a duplicate key, invalid UTF-8, any
// syntax error — makes it give up (ok false), and the caller decodes the
// same bytes again with the general decoder into a fresh value. So the plan
// never decides an outcome the general decoder would decide differently;
// FuzzFastDecode checks that what it accepts decodes to the same value.
type plan struct {
	fields []fieldPlan
}

type fieldKind uint8

const (
	kString fieldKind = iota
	kBool
	kInt
	kUint
	kText   // encoding.TextUnmarshaler, from a JSON string
	kJSON   // json.Unmarshaler, from a JSON string (time.Time)
	kStruct // nested struct with its own plan
	kPtr    // pointer to any of the above
	kStrings
)

type fieldPlan struct {
	name   string
	offset uintptr
	kind   fieldKind
	bits   int          // kInt, kUint: 8, 16, 32, 64
	typ    reflect.Type // the field's type
	sub    *plan        // kStruct; kPtr to a struct
	elem   *fieldPlan   // kPtr: how to decode the pointee (offset 0)
}

var (
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	goccyUnmarshaler    = reflect.TypeFor[interface {
		UnmarshalJSON([]byte) error
	}]()
	timeType = reflect.TypeFor[time.Time]()
)

// maxPlanFields bounds a plan so that a uint64 can mark the keys seen.
const maxPlanFields = 64

// newPlan builds the plan of struct type t, or nil when t has a field the
// plan cannot decode exactly like the general decoder (then the type always
// takes the general path).
func newPlan(t reflect.Type) *plan {
	return newPlanDepth(t, 0)
}

func newPlanDepth(t reflect.Type, depth int) *plan {
	if t.Kind() != reflect.Struct || depth > 4 {
		return nil
	}
	p := &plan{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			return nil // embedding promotes fields: leave it to the general decoder
		}
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		for o := range strings.SplitSeq(opts, ",") {
			if o != "" && o != "omitempty" && o != "omitzero" {
				return nil // ",string" and friends change the encoding
			}
		}
		if name == "" {
			name = f.Name
		}
		if !plainKey(name) {
			return nil
		}
		fp, ok := newFieldPlan(f.Type, depth)
		if !ok {
			return nil
		}
		fp.name, fp.offset = name, f.Offset
		p.fields = append(p.fields, fp)
	}
	if len(p.fields) > maxPlanFields {
		return nil
	}
	for i := range p.fields {
		for j := range i {
			if strings.EqualFold(p.fields[i].name, p.fields[j].name) {
				return nil // names that differ only in case: leave the matching rules to the general decoder
			}
		}
	}
	return p
}

// plainKey: a tag name the scanner can compare with a raw key (no byte that
// JSON would escape).
func plainKey(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func newFieldPlan(t reflect.Type, depth int) (fieldPlan, bool) {
	fp := fieldPlan{typ: t}
	pt := reflect.PointerTo(t)
	switch {
	case t.Implements(jsonUnmarshalerType) || t.Implements(textUnmarshalerType):
		return fp, false // value receivers: unusual, leave it
	case pt.Implements(jsonUnmarshalerType) || pt.Implements(goccyUnmarshaler):
		fp.kind = kJSON
		return fp, true
	case pt.Implements(textUnmarshalerType):
		fp.kind = kText
		return fp, true
	}
	switch t.Kind() {
	case reflect.String:
		fp.kind = kString
	case reflect.Bool:
		fp.kind = kBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		fp.kind, fp.bits = kInt, int(t.Size())*8
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		fp.kind, fp.bits = kUint, int(t.Size())*8
	case reflect.Struct:
		fp.kind = kStruct
		if fp.sub = newPlanDepth(t, depth+1); fp.sub == nil {
			return fp, false
		}
	case reflect.Pointer:
		elem, ok := newFieldPlan(t.Elem(), depth+1)
		if !ok || elem.kind == kPtr {
			return fp, false
		}
		fp.kind, fp.elem = kPtr, &elem
	case reflect.Slice:
		if t.Elem().Kind() != reflect.String || t.Elem() != reflect.TypeFor[string]() {
			return fp, false
		}
		fp.kind = kStrings
	default:
		return fp, false
	}
	return fp, true
}

// decode fills the struct at ptr (zero on entry) from data. ok false: the
// plan gave up; the struct may be partly written and must be discarded.
func (p *plan) decode(data []byte, ptr unsafe.Pointer) bool {
	if p == nil {
		return false
	}
	s := scanner{data: data}
	if !s.object(p, ptr) {
		return false
	}
	s.ws()
	return s.i == len(s.data)
}

type scanner struct {
	data []byte
	i    int
	// arena holds the bytes of every string decoded, allocated once with
	// room for all of them (they cannot be longer than data) so that it
	// never moves: one allocation per event instead of one per string. A
	// string kept by a read model keeps the arena alive, as one kept from
	// the general decoder keeps its copy of the whole input alive.
	arena []byte
}

// string returns b as a string in the arena.
func (s *scanner) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s.arena == nil {
		s.arena = make([]byte, 0, len(s.data))
	}
	start := len(s.arena)
	s.arena = append(s.arena, b...)
	return unsafe.String(&s.arena[start], len(b))
}

func (s *scanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str scans a JSON string without escapes and returns its contents
// (aliasing data).
func (s *scanner) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	end := bytes.IndexByte(s.data[s.i:], '"')
	if end < 0 {
		return nil, false
	}
	b := s.data[s.i : s.i+end]
	high := false
	for _, c := range b {
		if c < 0x20 || c == '\\' {
			return nil, false
		}
		high = high || c >= 0x80
	}
	if high && !utf8.Valid(b) {
		return nil, false
	}
	s.i += end + 1
	return b, true
}

func (s *scanner) object(p *plan, ptr unsafe.Pointer) bool {
	if !s.eat('{') {
		return false
	}
	if s.eat('}') {
		return true
	}
	var seen uint64
	for {
		key, ok := s.str()
		if !ok || !s.eat(':') {
			return false
		}
		fi := -1
		for i := range p.fields {
			if p.fields[i].name == string(key) {
				fi = i
				break
			}
		}
		if fi < 0 || seen&(1<<fi) != 0 {
			return false
		}
		seen |= 1 << fi
		f := &p.fields[fi]
		if !s.value(f, unsafe.Add(ptr, f.offset)) {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat('}')
	}
}

func (s *scanner) value(f *fieldPlan, ptr unsafe.Pointer) bool {
	s.ws()
	switch f.kind {
	case kString:
		b, ok := s.str()
		if !ok {
			return false
		}
		*(*string)(ptr) = s.string(b)
	case kBool:
		switch {
		case s.lit("true"):
			*(*bool)(ptr) = true
		case s.lit("false"):
			*(*bool)(ptr) = false
		default:
			return false
		}
	case kInt:
		n, ok := s.number()
		if !ok {
			return false
		}
		v, err := strconv.ParseInt(n, 10, f.bits)
		if err != nil {
			return false
		}
		switch f.bits {
		case 8:
			*(*int8)(ptr) = int8(v)
		case 16:
			*(*int16)(ptr) = int16(v)
		case 32:
			*(*int32)(ptr) = int32(v)
		default:
			*(*int64)(ptr) = v
		}
	case kUint:
		n, ok := s.number()
		if !ok || n[0] == '-' {
			return false
		}
		v, err := strconv.ParseUint(n, 10, f.bits)
		if err != nil {
			return false
		}
		switch f.bits {
		case 8:
			*(*uint8)(ptr) = uint8(v)
		case 16:
			*(*uint16)(ptr) = uint16(v)
		case 32:
			*(*uint32)(ptr) = uint32(v)
		default:
			*(*uint64)(ptr) = v
		}
	case kText:
		b, ok := s.str()
		if !ok {
			return false
		}
		u := reflect.NewAt(f.typ, ptr).Interface().(encoding.TextUnmarshaler)
		if u.UnmarshalText(b) != nil {
			return false
		}
	case kJSON:
		start := s.i
		if _, ok := s.str(); !ok {
			return false
		}
		raw := s.data[start:s.i]
		if f.typ == timeType {
			// The common case, without an interface call.
			return (*time.Time)(ptr).UnmarshalJSON(raw) == nil
		}
		u := reflect.NewAt(f.typ, ptr).Interface().(interface{ UnmarshalJSON([]byte) error })
		if u.UnmarshalJSON(raw) != nil {
			return false
		}
	case kStruct:
		return s.object(f.sub, ptr)
	case kPtr:
		if s.i < len(s.data) && s.data[s.i] == 'n' {
			return false // null: leave pointer semantics to the general decoder
		}
		v := reflect.New(f.typ.Elem())
		if !s.value(f.elem, v.UnsafePointer()) {
			return false
		}
		*(*unsafe.Pointer)(ptr) = v.UnsafePointer()
	case kStrings:
		if !s.eat('[') || s.eat(']') {
			return false // an empty array's non-nil-ness: the general decoder's business
		}
		var out []string
		for {
			b, ok := s.str()
			if !ok {
				return false
			}
			out = append(out, s.string(b))
			if s.eat(',') {
				continue
			}
			if !s.eat(']') {
				return false
			}
			break
		}
		*(*[]string)(ptr) = out
	default:
		return false
	}
	return true
}

func (s *scanner) lit(w string) bool {
	if len(s.data)-s.i >= len(w) && string(s.data[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// number scans an integer literal: -?(0|[1-9][0-9]*), nothing else.
func (s *scanner) number() (string, bool) {
	start := s.i
	if s.i < len(s.data) && s.data[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.data) && s.data[s.i] >= '0' && s.data[s.i] <= '9' {
		s.i++
	}
	switch n := s.i - digits; {
	case n == 0:
		return "", false
	case n > 1 && s.data[digits] == '0':
		return "", false
	}
	if s.i < len(s.data) {
		switch s.data[s.i] {
		case '.', 'e', 'E':
			return "", false
		}
	}
	return unsafe.String(&s.data[start], s.i-start), true
}

// decodeFast decodes data into payload (a pointer to a zero value of goType)
// with p; false when p is nil, payload is not a goType or p gave up.
func decodeFast(p *plan, goType reflect.Type, data []byte, payload any) bool {
	if p == nil || reflect.TypeOf(payload) != goType {
		return false
	}
	ptr := reflect.ValueOf(payload).UnsafePointer()
	return ptr != nil && p.decode(data, ptr)
}
