// Package domain_test holds the import rule of the domain packages: the
// domain is pure and must not depend on infrastructure.
package domain_test

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// forbidden lists import-path prefixes that no package under domain/ may
// import, directly or transitively, in its code or its tests.
var forbidden = []string{
	"github.com/ThreeDotsLabs/watermill",
	"github.com/EventStore/EventStore-Client-Go",
	"github.com/kurrent-io/", // the KurrentDB client
	"github.com/graphql-go/graphql",
	"go.etcd.io/bbolt",
	"modernc.org/sqlite",
	"github.com/cockroachdb/pebble",
	"github.com/prometheus/",
	"net/http",
	"database/sql",
	"github.com/kefu-crm/kefu/eventstore/", // store implementations (the port itself is eventstore, without a slash)
	"github.com/kefu-crm/kefu/projections",
	"github.com/kefu-crm/kefu/graphql",
	"github.com/kefu-crm/kefu/automation",
	"github.com/kefu-crm/kefu/cmd",
}

// violations returns the forbidden paths among deps. An entry ending in "/"
// forbids the packages under it; any other entry forbids that package and
// the packages under it.
func violations(deps []string) []string {
	var out []string
	for _, d := range deps {
		for _, f := range forbidden {
			under := strings.HasSuffix(f, "/") && strings.HasPrefix(d, f)
			if under || d == f || strings.HasPrefix(d, f+"/") {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// TestDomainImportsNoInfrastructure lists every package that domain/...
// (with its tests) depends on, using `go list -deps -test`, and fails on any
// forbidden one.
func TestDomainImportsNoInfrastructure(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH; cannot list dependencies")
	}
	root := moduleRoot(t)
	touchSources(t, root)
	cmd := exec.CommandContext(t.Context(), goBin, "list", "-deps", "-test", "-f", "{{.ImportPath}}", "./domain/...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, stderr.String())
		}
		t.Fatal(err)
	}
	var deps []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			// Test variants print as "pkg [pkg.test]"; keep the path.
			path, _, _ := strings.Cut(line, " ")
			deps = append(deps, path)
		}
	}
	if len(deps) == 0 {
		t.Fatal("go list printed no packages")
	}
	if !contains(deps, "github.com/kefu-crm/kefu/domain/customer") {
		t.Fatalf("go list did not see domain/customer; output:\n%s", out)
	}
	if v := violations(deps); len(v) > 0 {
		t.Errorf("domain/... depends on infrastructure: %v", v)
	}
}

// TestViolationsMatcher keeps the matcher honest: it must catch each
// forbidden family and let the standard library, the domain and the port
// through.
func TestViolationsMatcher(t *testing.T) {
	bad := []string{
		"github.com/ThreeDotsLabs/watermill/message",
		"github.com/EventStore/EventStore-Client-Go/v4/esdb",
		"github.com/graphql-go/graphql",
		"go.etcd.io/bbolt",
		"github.com/kefu-crm/kefu/eventstore/memstore",
		"github.com/kefu-crm/kefu/projections",
		"github.com/kefu-crm/kefu/projections/lifecycle",
		"github.com/kefu-crm/kefu/graphql",
		"github.com/kefu-crm/kefu/automation/followup",
		"github.com/kefu-crm/kefu/cmd/kefu",
		"net/http",
	}
	ok := []string{
		"time", "strings", "github.com/kefu-crm/kefu/domain/customer",
		"github.com/kefu-crm/kefu/domain/calendar", "github.com/6tail/tyme4go/tyme",
		"github.com/kefu-crm/kefu/eventstore",
	}
	if got := violations(bad); len(got) != len(bad) {
		t.Errorf("violations(bad) = %v, want all %d", got, len(bad))
	}
	if got := violations(ok); len(got) != 0 {
		t.Errorf("violations(ok) = %v, want none", got)
	}
}

// touchSources reads go.mod and every .go file of the module. The answer
// comes from a `go list` child process, which go test's result cache does
// not watch; reading the files here makes the cache key depend on them, so
// an edit that adds a forbidden import re-runs the test instead of
// replaying an old pass.
func touchSources(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum" {
			_, err = os.ReadFile(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
