package dupindex

import (
	"bytes"
	"testing"
)

// The holders are keyed by a digest's first 8 bytes: customers whose
// digests only share those (a clash no real key produces on demand, so
// this test is internal and forges them) must not be paired, and one whose
// digest is equal must be — also once a clashing customer leaves.
func TestHoldersTellClashingDigestsApart(t *testing.T) {
	x, err := New(bytes.Repeat([]byte{7}, 32), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var d1, d2 entryDigest
	copy(d1[:], "12345678-first--")
	copy(d2[:], "12345678-second-")
	one := func(d entryDigest) record {
		var r record
		r.has = 1 << phone
		r.digests[phone] = d
		return r
	}
	x.set("a", one(d1))
	x.set("b", one(d2))
	if c := x.Candidates(0); len(c) != 0 {
		t.Fatalf("candidates of clashing digests: %+v, want none", c)
	}
	x.set("c", one(d1))
	c := x.Candidates(0)
	if len(c) != 1 || c[0].Customers != [2]string{"a", "c"} || len(c[0].Reasons) != 1 || c[0].Reasons[0] != SamePhone {
		t.Fatalf("candidates: %+v, want a and c on SAME_PHONE", c)
	}
	x.drop("a")
	if c := x.Candidates(0); len(c) != 0 {
		t.Fatalf("candidates after a left: %+v, want none", c)
	}
	x.set("d", one(d2))
	if c := x.Candidates(0); len(c) != 1 || c[0].Customers != [2]string{"b", "d"} {
		t.Fatalf("candidates: %+v, want b and d", c)
	}
}
