package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/pii"
)

func TestMigrateKeySubjectsAndCheckpointPath(t *testing.T) {
	dir := t.TempDir()
	ks, err := pii.OpenFileKeystore(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"42", "7", "a.b"} {
		if _, err := ks.Key(t.Context(), s, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := ks.Destroy(t.Context(), "7"); err != nil {
		t.Fatal(err)
	}
	if got := ks.Subjects(); !slices.Equal(got, []string{"42", "7", "a.b"}) {
		t.Fatalf("Subjects = %v, want every subject on record, destroyed ones included", got)
	}
	a, b := checkpointPath(dir, "esdb://a:2113"), checkpointPath(dir, "esdb://b:2113")
	if a == b || filepath.Dir(a) != dir || !strings.HasSuffix(a, ".checkpoint") || a != checkpointPath(dir, "esdb://a:2113") {
		t.Fatalf("checkpoint paths %s, %s: want one stable file per target in the data directory", a, b)
	}
	if _, err := os.Stat(a); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("checkpointPath created a file")
	}
}

func TestMigrateRefusesBadTargets(t *testing.T) {
	e := &env{stdout: &strings.Builder{}, stderr: &strings.Builder{}, getenv: func(string) string { return "" }}
	for _, args := range [][]string{
		{"--from", t.TempDir()},
		{"--from", t.TempDir(), "--to", "http://localhost:2113"},
		{"--from", t.TempDir(), "--to", "esdb://localhost:2113", "--batch", "0"},
	} {
		if err := runMigrate(t.Context(), e, args); !errors.Is(err, errUsage) {
			t.Errorf("runMigrate(%v): %v, want a usage error", args, err)
		}
	}
}
