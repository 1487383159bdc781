// Package testenv gives tests what they need from the machine — a browser,
// the shared reference data — and decides what happens when it is missing:
// outside CI the test is skipped with a message saying what to install;
// in CI (CI=true) a missing piece fails the test, so a run that checked
// nothing can never be reported as passing.
package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// InCI reports whether the tests run in CI (the CI environment variable is
// "true" or "1").
func InCI() bool {
	v := os.Getenv("CI")
	return v == "true" || v == "1"
}

// Missing skips t with why, or fails it in CI.
func Missing(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and %s: a check CI must run cannot run", why)
	}
	t.Skip(why)
}

// Chromium returns the path of a headless-capable Chromium: Debian's
// /usr/bin/chromium (installed by .ci/run) or one in PATH. Without one the
// test is skipped, or fails in CI.
func Chromium(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(t, "no Chromium is installed (apt-get install -y chromium)")
	return ""
}

// Postgres returns the connection string of the test database
// (KEFU_TEST_PG, as `. .ci/postgres` sets it). Without one the test is
// skipped, or fails in CI.
func Postgres(t testing.TB) string {
	t.Helper()
	conn := os.Getenv("KEFU_TEST_PG")
	if conn == "" {
		Missing(t, "KEFU_TEST_PG is not set: `. .ci/postgres` (Debian's postgresql package) starts a throwaway cluster and sets it")
	}
	return conn
}

// ChromiumFlags are the flags every test starts Chromium with: headless, and
// quiet on a closed network (without the background-networking flags it
// floods the network with connection attempts). userDataDir must be a fresh
// directory.
func ChromiumFlags(userDataDir string) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + userDataDir,
	}
}

// Buffer collects a child process's (or a logger's) output while the test
// reads it: a bytes.Buffer safe for concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
