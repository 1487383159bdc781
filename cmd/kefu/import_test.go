package main_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// kefuRun runs the built binary with args under a deadline and returns its
// exit code, stdout and stderr.
func kefuRun(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "KEFU_DATA=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("kefu %v did not finish in time\n%s", args, stderr.String())
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatalf("kefu %v: %v", args, err)
	}
	return 0, stdout.String(), stderr.String()
}

var createdCount = regexp.MustCompile(`(\d+) customers created`)

// TestImportPurchasesCSVCommand runs `kefu import` of purchases CSVs
// through the built binary: the summary says how many customers the file
// registered, and --no-create refuses a file naming an unknown customer
// (non-zero exit, the customer and line named, nothing written).
func TestImportPurchasesCSVCommand(t *testing.T) {
	bin := buildKefu(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const header = "customer_id,date,amount,currency\n"
	created := func(stderr string) string {
		m := createdCount.FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("the summary does not say how many customers were created:\n%s", stderr)
		}
		return m[1]
	}

	first := write("first.csv", header+"wang,2024-01-05,99.00,CNY\nli,2024-01-06,12.50,CNY\nwang,2024-02-01,5,CNY\n")
	code, _, stderr := kefuRun(t, bin, "import", "--data", data, first)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s", code, stderr)
	}
	if n := created(stderr); n != "2" {
		t.Errorf("summary says %s customers created, want 2:\n%s", n, stderr)
	}
	if !strings.Contains(stderr, "placeholder profile") || !strings.Contains(stderr, "--no-create") {
		t.Errorf("the summary does not say the customers got a placeholder profile, nor how to refuse that:\n%s", stderr)
	}
	head := storeHead(t, data)
	if head != 5 { // 2 registrations + 3 purchases
		t.Fatalf("head %d after the first import, want 5", head)
	}

	// Again: nothing new, nobody created.
	code, _, stderr = kefuRun(t, bin, "import", "--data", data, first)
	if code != 0 || created(stderr) != "0" || !strings.Contains(stderr, "0 events written") {
		t.Fatalf("re-import: exit %d\n%s", code, stderr)
	}

	// --no-create with an unknown customer: refused, nothing written.
	mixed := write("mixed.csv", header+"wang,2024-03-01,8,CNY\nzhao,2024-03-02,1,CNY\nli,2024-03-03,2,CNY\nqian,2024-03-04,3,CNY\n")
	code, _, stderr = kefuRun(t, bin, "import", "--data", data, "--no-create", mixed)
	if code == 0 {
		t.Fatalf("--no-create with unknown customers: exit 0\n%s", stderr)
	}
	for _, want := range []string{`mixed.csv:3: customer "zhao"`, "nothing written", "1 more unknown customer"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("refusal lacks %q:\n%s", want, stderr)
		}
	}
	if got := storeHead(t, data); got != head {
		t.Fatalf("a refused --no-create import moved the head %d → %d", head, got)
	}

	// --no-create with known customers only: imported.
	known := write("known.csv", header+"wang,2024-03-01,8,CNY\nli,2024-03-03,2,CNY\n")
	code, _, stderr = kefuRun(t, bin, "import", "--data", data, "--no-create", known)
	if code != 0 || created(stderr) != "0" {
		t.Fatalf("--no-create with known customers: exit %d\n%s", code, stderr)
	}
	if got := storeHead(t, data); got != head+2 {
		t.Fatalf("head %d, want %d", got, head+2)
	}

	// --no-create into a data directory that does not exist yet: every
	// customer is unknown; the directory is not left behind.
	fresh := filepath.Join(dir, "fresh")
	code, _, stderr = kefuRun(t, bin, "import", "--data", fresh, "--no-create", known)
	if code == 0 || !strings.Contains(stderr, `known.csv:2: customer "wang"`) {
		t.Fatalf("--no-create into a new directory: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused import left %s behind: %v", fresh, err)
	}

	// --no-create means nothing for NDJSON: a usage error.
	if code, _, stderr := kefuRun(t, bin, "import", "--data", data, "--no-create", filepath.Join(dir, "x.ndjson")); code != 2 || !strings.Contains(stderr, "--no-create") {
		t.Errorf("--no-create with NDJSON: exit %d\n%s", code, stderr)
	}

	// --help prints the usage once and exits 0.
	code, stdout, stderr := kefuRun(t, bin, "import", "--help")
	if code != 0 {
		t.Errorf("import --help: exit %d", code)
	}
	if n := strings.Count(stdout+stderr, "Usage: kefu import"); n != 1 {
		t.Errorf("import --help printed its usage %d times:\n%s%s", n, stdout, stderr)
	}
	if !strings.Contains(stdout+stderr, "-no-create") {
		t.Errorf("import --help does not list --no-create:\n%s%s", stdout, stderr)
	}
}
