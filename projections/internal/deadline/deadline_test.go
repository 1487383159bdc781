package deadline_test

import (
	"testing"
	"time"

	"github.com/kefu-crm/kefu/projections/internal/deadline"
)

func TestIndex(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var x deadline.Index
	for _, k := range []deadline.Key{{base.Add(3 * time.Hour), "c"}, {base.Add(time.Hour), "a"}, {base.Add(time.Hour), "b"}, {base.Add(2 * time.Hour), "z"}} {
		x.Insert(k)
	}
	x.Insert(deadline.Key{At: base.Add(time.Hour), ID: "a"}) // duplicate
	if x.Len() != 4 {
		t.Fatalf("Len = %d, want 4", x.Len())
	}
	ids := func(ks []deadline.Key) (s string) {
		for _, k := range ks {
			s += k.ID
		}
		return s
	}
	if got := ids(x.All()); got != "abzc" {
		t.Fatalf("order = %s, want abzc", got)
	}
	if got := ids(x.Before(base.Add(2 * time.Hour))); got != "ab" {
		t.Fatalf("Before(2h) = %s, want ab (strictly before)", got)
	}
	if got := ids(x.After(deadline.Key{At: base.Add(time.Hour), ID: "b"})); got != "zc" {
		t.Fatalf("After(b) = %s, want zc", got)
	}
	if got := ids(x.After(deadline.Key{At: base.Add(90 * time.Minute), ID: "q"})); got != "zc" {
		t.Fatalf("After(absent key) = %s, want zc", got)
	}
	x.Remove(deadline.Key{At: base.Add(2 * time.Hour), ID: "z"})
	x.Remove(deadline.Key{At: base, ID: "none"})
	if got := ids(x.All()); got != "abc" {
		t.Fatalf("after Remove = %s, want abc", got)
	}
}

// Inserting far out of order (as a rebuild from a log seeded customer by
// customer does) keeps the index sorted, and reads see every change.
func TestIndexOutOfOrderAndReadsAfterChanges(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var x deadline.Index
	const n = 5000
	for i := range n {
		x.Insert(deadline.Key{At: base.Add(time.Duration((i*7919)%n) * time.Minute), ID: "k"})
	}
	all := x.All()
	if len(all) != n {
		t.Fatalf("Len = %d, want %d", len(all), n)
	}
	for i := 1; i < len(all); i++ {
		if deadline.Compare(all[i-1], all[i]) >= 0 {
			t.Fatalf("not sorted at %d", i)
		}
	}
	x.Remove(all[0])
	if got := x.All(); len(got) != n-1 || !got[0].At.Equal(base.Add(time.Minute)) {
		t.Fatalf("after removing the first key: len %d first %v", len(got), got[0].At)
	}
	var seen int
	x.AscendBefore(base.Add(10*time.Minute), func(deadline.Key) bool { seen++; return true })
	if seen != 9 {
		t.Fatalf("AscendBefore(10m) saw %d keys, want 9 (1m … 9m)", seen)
	}
}

func BenchmarkInsertOutOfOrder(b *testing.B) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		var x deadline.Index
		for i := range 100_000 {
			x.Insert(deadline.Key{At: base.Add(time.Duration((i*7919)%100_000) * time.Second), ID: "k"})
		}
	}
}
