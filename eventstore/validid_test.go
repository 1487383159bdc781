package eventstore_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/eventstore"
)

// reference is the definition ValidID implements with a byte loop.
var reference = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

func TestValidIDMatchesTheRegexp(t *testing.T) {
	for _, id := range []string{
		"", "a", "42", "c-1.x_Y", strings.Repeat("a", 64), strings.Repeat("a", 65),
		"a b", "a/b", "../x", "é", "a\n", "\na", "a\x00", "customer-42", "$all", "a:b",
		strings.Repeat("é", 30), "Z9", "-", ".", "_",
	} {
		if got, want := eventstore.ValidID(id), reference.MatchString(id); got != want {
			t.Errorf("ValidID(%q) = %v, regexp says %v", id, got, want)
		}
	}
}

func FuzzValidID(f *testing.F) {
	for _, s := range []string{"", "c1", "a.b-c_d", "a b", strings.Repeat("x", 64), strings.Repeat("x", 65), "\xff", "a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := eventstore.ValidID(id), reference.MatchString(id); got != want {
			t.Fatalf("ValidID(%q) = %v, regexp says %v", id, got, want)
		}
	})
}

func BenchmarkValidID(b *testing.B) {
	id := "0f3c9a2e-5b1d-4c8e-9a7f-1e2d3c4b5a69"
	for b.Loop() {
		if !eventstore.ValidID(id) {
			b.Fatal("invalid")
		}
	}
}
