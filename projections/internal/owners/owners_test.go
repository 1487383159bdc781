package owners_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/projections/internal/owners"
)

// Items named "<stream>:<n>": C is merged into B, B into A; unmerging B
// from A gives B back its own items and C's, in order, and A keeps its own.
func TestMergeAndUnmerge(t *testing.T) {
	var x owners.Index
	owner := map[string]string{}
	for _, it := range []string{"A:1", "B:2", "C:3", "A:4", "B:5"} {
		c, _, _ := strings.Cut(it, ":")
		x.Add(c, it)
		owner[it] = c
	}
	set := func(item, o string) { owner[item] = o }
	stream := func(item string) string { c, _, _ := strings.Cut(item, ":"); return c }
	byN := func(a, b string) int { return strings.Compare(a[2:], b[2:]) }

	x.Merge("B", []string{"C"}, set, byN)
	x.Merge("A", []string{"B"}, set, byN)
	if got := fmt.Sprintf("%v %v %v %v", x.ByCustomer["A"], owner["C:3"], x.Into["B"], x.Merged["C"]); got != "[A:1 B:2 C:3 A:4 B:5] A A true" {
		t.Fatalf("after the merges: %s", got)
	}
	if !x.StemsFrom("C", "A") || x.StemsFrom("A", "B") {
		t.Error("StemsFrom does not follow the merges")
	}
	x.Unmerge("A", []string{"B"}, stream, set, byN)
	if got := fmt.Sprintf("%v %v %v %v %v %v %v", x.ByCustomer["A"], x.ByCustomer["B"], owner["B:2"], owner["C:3"], owner["A:4"], x.Merged["B"], x.Merged["C"]); got != "[A:1 A:4] [B:2 C:3 B:5] B B A false true" {
		t.Errorf("after the unmerge: %s", got)
	}
}
