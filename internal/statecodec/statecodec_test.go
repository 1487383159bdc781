package statecodec

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

type leaf struct {
	Name string
	at   time.Time
	tags []string
}

type model struct {
	mu      sync.RWMutex
	byID    map[string]*leaf
	order   []*leaf
	spare   *leaf
	none    *leaf
	empty   []int32
	nilS    []int32
	days    []int32
	raw     []byte
	buckets [3][]int32
	when    map[string]time.Time
	counts  map[int]uint8
	f       float64
	neg     int64
	ok      bool
	hook    func() string `snapshot:"-"`
	local   time.Time
	zoned   time.Time
}

func sample() *model {
	a := &leaf{Name: "张三", at: time.Date(2026, 1, 29, 8, 0, 0, 5, time.UTC), tags: []string{"vip", ""}}
	b := &leaf{Name: "b"}
	return &model{
		byID:    map[string]*leaf{"a": a, "b": b},
		order:   []*leaf{b, a, a},
		spare:   a,
		empty:   []int32{},
		days:    []int32{-3, 0, 1 << 30},
		raw:     []byte{0, 1, 255},
		buckets: [3][]int32{{1}, nil, {2, 3}},
		when:    map[string]time.Time{"zero": {}, "t": time.Unix(1700000000, 42).UTC()},
		counts:  map[int]uint8{-1: 255, 7: 0},
		f:       -0.125,
		neg:     -1 << 62,
		ok:      true,
		hook:    func() string { return "old" },
		local:   time.Unix(1600000000, 0).Local(),
		zoned:   time.Date(2026, 10, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600)),
	}
}

func roundTrip(t *testing.T, in, out any) {
	t.Helper()
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	if err := e.Encode(in); err != nil {
		t.Fatal(err)
	}
	if e.Written() != int64(buf.Len()) {
		t.Fatalf("Written %d, buffer %d", e.Written(), buf.Len())
	}
	d := NewDecoder(&buf, int64(buf.Len()))
	if err := d.Decode(out); err != nil {
		t.Fatal(err)
	}
	if d.Left() != 0 {
		t.Fatalf("%d bytes left", d.Left())
	}
}

func TestRoundTrip(t *testing.T) {
	in := sample()
	out := &model{hook: func() string { return "wired" }}
	roundTrip(t, in, out)
	if out.hook() != "wired" {
		t.Error("a skipped field of the root was overwritten")
	}
	if out.byID["a"] != out.spare || out.order[1] != out.order[2] || out.order[1] != out.byID["a"] || out.order[0] != out.byID["b"] {
		t.Error("shared pointers lost their identity")
	}
	if out.none != nil || out.nilS != nil || out.empty == nil || len(out.empty) != 0 || out.buckets[1] != nil {
		t.Error("nil and empty are not kept apart")
	}
	if !out.local.Equal(in.local) || out.local.Location() != time.Local {
		t.Errorf("local time %v, want %v", out.local, in.local)
	}
	if !out.zoned.Equal(in.zoned) {
		t.Errorf("zoned time %v, want %v", out.zoned, in.zoned)
	}
	if _, off := out.zoned.Zone(); off != 8*3600 {
		t.Errorf("zone offset %d", off)
	}
	// Everything else compares equal field by field.
	in.hook, out.hook = nil, nil
	in.local, out.local, in.zoned, out.zoned = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("decoded %+v\nwant %+v", out, in)
	}
	if out.byID["a"].at != in.byID["a"].at || out.when["t"] != in.when["t"] {
		t.Error("a UTC time does not compare == after the round trip")
	}
}

func TestFingerprint(t *testing.T) {
	a, err := Fingerprint(&model{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Fingerprint(&model{})
	if err != nil || a != b {
		t.Fatalf("fingerprints differ: %x %x %v", a, b, err)
	}
	type other struct{ Name string }
	if c, _ := Fingerprint(&other{}); c == a {
		t.Error("different types share a fingerprint")
	}
	type withIface struct {
		ok string
		v  any
	}
	w := withIface{ok: "a", v: 1}
	_, _ = w.ok, w.v
	if _, err := Fingerprint(&w); err == nil || !strings.Contains(err.Error(), "snapshot:") {
		t.Errorf("an interface field: %v", err)
	}
	type withFunc struct{ f func() }
	if _, err := Fingerprint(&withFunc{f: func() {}}); err == nil {
		t.Error("a func field passed")
	}
	if err := NewEncoder(&bytes.Buffer{}).Encode(&withFunc{}); err == nil {
		t.Error("encoding a func field passed")
	}
}

func TestCorruptInputIsAnError(t *testing.T) {
	var buf bytes.Buffer
	if err := NewEncoder(&buf).Encode(sample()); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for n := range len(good) {
		err := NewDecoder(bytes.NewReader(good[:n]), int64(n)).Decode(&model{})
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated at %d of %d: %v", n, len(good), err)
		}
	}
	// A huge claimed length allocates nothing.
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}
	if err := NewDecoder(bytes.NewReader(huge), int64(len(huge))).Decode(&[]string{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("huge length: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	if err := NewEncoder(&buf).Encode(sample()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte{2, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m model
		err := NewDecoder(bytes.NewReader(b), int64(len(b))).Decode(&m)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("an error that is not ErrCorrupt: %v", err)
		}
	})
}

// The encoder holds a struct's lock while it writes it: a writer holding
// the lock makes it wait.
func TestEncodeWaitsForTheWriter(t *testing.T) {
	m := sample()
	m.mu.Lock()
	done := make(chan error, 1)
	go func() { done <- NewEncoder(&bytes.Buffer{}).Encode(m) }()
	select {
	case <-done:
		t.Fatal("encoded while a writer held the lock")
	case <-time.After(50 * time.Millisecond):
	}
	m.mu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
