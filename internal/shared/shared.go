// Package shared locates the project's shared material for tests: the
// directory ../shared next to the repository root (the directory holding
// go.mod), with the GraphQL contract and the public reference data. Data
// from elsewhere stays there; tests read it in place and skip, saying
// what is missing, when it is absent (in CI they fail instead).
package shared

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kefu-crm/kefu/internal/testenv"
)

// Path returns ../shared/<elem…> relative to the repository root, and
// skips the test when it does not exist.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			testenv.Missing(t, "no go.mod above the test directory: cannot locate ../shared")
		}
		dir = parent
	}
	p := filepath.Join(append([]string{dir, "..", "shared"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		testenv.Missing(t, fmt.Sprintf("%s is not available (%v): it lives in ../shared next to the repository", p, err))
	}
	return p
}
