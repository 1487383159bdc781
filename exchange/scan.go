package exchange

import (
	"unsafe"
)

// Envelope fields scanEnvelope has seen, as bits.
const (
	hStream = 1 << iota
	hType
	hID
	hRevision
	hPosition
	hOccurredAt
	hRecordedAt
	hSchemaVersion
	hData
	hMetadata

	hRequired = hStream | hType | hID | hRevision | hOccurredAt | hSchemaVersion | hData
)

// maxScanDepth bounds the nesting scanEnvelope follows in data and
// metadata; deeper values go to parseEnvelope.
const maxScanDepth = 64

// scanEnvelope is the fast path of parseEnvelope for lines in the form
// Export writes: one JSON object whose keys are spelled exactly as in
// FORMAT.md, each at most once, every required one present, strings
// without escapes and of printable ASCII, revision, position and
// schemaVersion as plain non-negative integers, data and metadata any
// valid JSON (metadata not null), recordedAt not empty, nothing but white space after the
// object. For such a line it fills env as parseEnvelope would, except
// that the time fields are left as text (occurredAt and recordedAt in
// the return values), and the strings point into line (valid while line
// is). For any other line — including every invalid one — it returns
// ok false without saying why: parseEnvelope then decides, and words the
// reason.
func scanEnvelope(line []byte, env *Envelope) (occurredAt, recordedAt string, ok bool) {
	*env = Envelope{}
	s := jscan{b: line}
	s.ws()
	if !s.eat('{') {
		return "", "", false
	}
	have := 0
	s.ws()
	if s.peek() == '}' {
		return "", "", false // no fields: missing ones, said by parseEnvelope
	}
	for {
		s.ws()
		key, ok := s.plainString()
		if !ok {
			return "", "", false
		}
		s.ws()
		if !s.eat(':') {
			return "", "", false
		}
		s.ws()
		var bit int
		switch string(key) {
		case "stream":
			bit = hStream
			v, ok := s.plainString()
			if !ok {
				return "", "", false
			}
			env.Stream = bstr(v)
		case "type":
			bit = hType
			v, ok := s.plainString()
			if !ok {
				return "", "", false
			}
			env.Type = bstr(v)
		case "id":
			bit = hID
			v, ok := s.plainString()
			if !ok {
				return "", "", false
			}
			env.ID = bstr(v)
		case "revision":
			bit = hRevision
			if env.Revision, ok = s.uint(); !ok {
				return "", "", false
			}
		case "position":
			bit = hPosition
			if env.Position, ok = s.uint(); !ok {
				return "", "", false
			}
		case "schemaVersion":
			bit = hSchemaVersion
			v, ok := s.uint()
			if !ok || v > 1<<31-1 {
				return "", "", false
			}
			env.SchemaVersion = int(v)
		case "occurredAt":
			bit = hOccurredAt
			v, ok := s.plainString()
			if !ok {
				return "", "", false
			}
			occurredAt = bstr(v)
		case "recordedAt":
			bit = hRecordedAt
			v, ok := s.plainString()
			if !ok {
				return "", "", false
			}
			if len(v) == 0 {
				return "", "", false // present but empty: an error, worded by parseEnvelope
			}
			recordedAt = bstr(v)
		case "data", "metadata":
			start := s.i
			if s.peek() == 'n' || !s.value(0) {
				return "", "", false
			}
			v := line[start:s.i:s.i]
			if key[0] == 'd' {
				bit, env.Data = hData, v
			} else {
				bit, env.Metadata = hMetadata, v
			}
		default:
			return "", "", false
		}
		if have&bit != 0 {
			return "", "", false
		}
		have |= bit
		s.ws()
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			break
		}
		return "", "", false
	}
	s.ws()
	if s.i != len(s.b) || have&hRequired != hRequired {
		return "", "", false
	}
	return occurredAt, recordedAt, true
}

// bstr is b as a string without a copy: b must not change while the
// string is in use.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// jscan is a strict JSON scanner over b from i.
type jscan struct {
	b []byte
	i int
}

func (s *jscan) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jscan) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// plainString reads a string of printable ASCII without escapes and
// returns its content.
func (s *jscan) plainString() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i:s.i]
			s.i++
			return v, true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// uint reads a non-negative integer without sign, fraction or exponent
// that fits in a uint64.
func (s *jscan) uint() (uint64, bool) {
	start := s.i
	var n uint64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		d := uint64(s.b[s.i] - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
		s.i++
	}
	switch {
	case s.i == start, s.b[start] == '0' && s.i-start > 1:
		return 0, false
	case s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E'):
		return 0, false
	}
	return n, true
}

// value checks one JSON value strictly (RFC 8259) and moves past it.
func (s *jscan) value(depth int) bool {
	if depth > maxScanDepth {
		return false
	}
	switch c := s.peek(); {
	case c == '{':
		s.i++
		s.ws()
		if s.eat('}') {
			return true
		}
		for {
			s.ws()
			if !s.str() {
				return false
			}
			s.ws()
			if !s.eat(':') {
				return false
			}
			s.ws()
			if !s.value(depth + 1) {
				return false
			}
			s.ws()
			if s.eat(',') {
				continue
			}
			return s.eat('}')
		}
	case c == '[':
		s.i++
		s.ws()
		if s.eat(']') {
			return true
		}
		for {
			s.ws()
			if !s.value(depth + 1) {
				return false
			}
			s.ws()
			if s.eat(',') {
				continue
			}
			return s.eat(']')
		}
	case c == '"':
		return s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	}
	return false
}

func (s *jscan) lit(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// str checks a string with its escapes. Bytes ≥ 0x80 pass as they are,
// as encoding/json lets them.
func (s *jscan) str() bool {
	if !s.eat('"') {
		return false
	}
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(s.b)-s.i < 5 {
					return false
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				s.i += 5
			default:
				return false
			}
		default:
			s.i++
		}
	}
	return false
}

func (s *jscan) digits() int {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - start
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jscan) number() bool {
	s.eat('-')
	if s.eat('0') {
		if c := s.peek(); c >= '0' && c <= '9' {
			return false
		}
	} else if s.digits() == 0 {
		return false
	}
	if s.eat('.') && s.digits() == 0 {
		return false
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if !s.eat('+') {
			s.eat('-')
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}
