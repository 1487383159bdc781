package main_test

import (
	"bytes"
	"context"
	"errors"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/internal/testenv"
)

// runBin runs the built binary with a deadline and returns its exit code,
// stdout and stderr.
func runBin(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = append(os.Environ(), "KEFU_DATA=", "KEFU_ADDR=", "KEFU_AUTH=")
	cmd.WaitDelay = time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), out.String(), errb.String()
		}
		if err != nil {
			t.Fatalf("kefu %v: %v", args, err)
		}
		return 0, out.String(), errb.String()
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("kefu %v still running after 60s", args)
		return -1, "", ""
	}
}

// Asked for help, every command prints its usage once, to stdout, and exits
// 0; a mistake prints it to stderr and exits 2.
func TestHelpGoesToStdoutOnce(t *testing.T) {
	bin := buildKefu(t)
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"-h"},
		{"serve", "--help"}, {"seed", "-h"}, {"replay", "--help"}, {"export", "--help"},
		{"import", "--help"}, {"report", "--help"}, {"bench", "--help"}, {"migrate", "--help"}, {"schema", "--help"},
	} {
		code, out, errs := runBin(t, bin, args...)
		if code != 0 || errs != "" {
			t.Errorf("kefu %v: exit %d, stderr %q; want 0 and nothing on stderr", args, code, errs)
		}
		if n := strings.Count(out, "Usage: kefu"); n != 1 {
			t.Errorf("kefu %v: stdout has %d usage texts, want 1:\n%s", args, n, out)
		}
	}
	code, out, errs := runBin(t, bin, "import", "--no-such-flag")
	if code != 2 || out != "" || strings.Count(errs, "Usage: kefu import") != 1 || !strings.Contains(errs, "no-such-flag") {
		t.Errorf("kefu import --no-such-flag: exit %d, stdout %q, stderr %q; want 2, the usage once on stderr and the flag named", code, out, errs)
	}
}

// --demo-customers sizes the --demo history; without --demo it is a mistake,
// not ignored.
func TestDemoCustomersNeedsDemo(t *testing.T) {
	bin := buildKefu(t)
	code, _, errs := runBin(t, bin, "serve", "--data", t.TempDir(), "--demo-customers", "50")
	if code != 2 || !strings.Contains(errs, "--demo") {
		t.Fatalf("serve --demo-customers without --demo: exit %d, %q; want 2 and a message naming --demo", code, errs)
	}
	code, _, errs = runBin(t, bin, "serve", "--data", t.TempDir(), "--demo", "--demo-customers", "0")
	if code != 2 {
		t.Fatalf("serve --demo --demo-customers 0: exit %d, %q; want 2", code, errs)
	}
}

// Given a `serve --demo` interrupted while it seeds, then a plain `serve`
// refuses the incomplete history with what to do, and the next
// `serve --demo` finishes the seed it started and serves all of it.
func TestInterruptedDemoSeedIsFinished(t *testing.T) {
	bin := buildKefu(t)
	data := filepath.Join(t.TempDir(), "data")
	const customers = 40000
	cmd := exec.Command(bin, "serve", "--demo", "--demo-customers", "40000", "--data", data, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "KEFU_DATA=", "KEFU_ADDR=", "KEFU_AUTH=")
	var stderr testenv.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once the seed has written something.
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stderr.String(), "seed █") {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no seed progress after 60s:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Skipf("the seed of %d customers finished before the interrupt arrived; nothing to resume", customers)
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("serve --demo still running 60s after SIGINT:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("an interrupted seed should say so and what to do; stderr:\n%s", stderr.String())
	}
	partial := storeHead(t, data)

	code, _, errs := runBin(t, bin, "serve", "--data", data, "--addr", "127.0.0.1:0")
	if code == 0 || !strings.Contains(errs, "interrupted") || !strings.Contains(errs, "--demo") {
		t.Fatalf("plain serve on an interrupted seed: exit %d, %q; want a refusal that says how to finish it", code, errs)
	}

	p := startServe(t, bin, "--demo", "--data", data, "--addr", "127.0.0.1:0")
	out := postGraphQL(t, p.url, `{ customers(first: 1) { totalCount } }`)
	if n := out["data"].(map[string]any)["customers"].(map[string]any)["totalCount"]; n != float64(customers) {
		t.Errorf("after resuming: customers.totalCount = %v, want %d (had %d events when interrupted)", n, customers, partial)
	}
	if !strings.Contains(p.stderr.String(), "resuming") {
		t.Errorf("the resumed seed should say it resumes; stderr:\n%s", p.stderr.String())
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(data, "seeding.json")); !os.IsNotExist(err) {
		t.Errorf("the seed marker is still there after the seed finished: %v", err)
	}
}

// Given a fresh `serve --demo`, when a newcomer opens the explorer and runs
// the example it shows first, then the answer is a customer of the demo —
// the examples name IDs and owners taken from the store, not "c1".
func TestExplorerFirstExampleShowsADemoCustomer(t *testing.T) {
	chromium := testenv.Chromium(t)
	bin := buildKefu(t)
	p := startServe(t, bin, "--demo", "--demo-customers", "300", "--data", filepath.Join(t.TempDir(), "data"), "--addr", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, append(testenv.ChromiumFlags(t.TempDir()), "--virtual-time-budget=10000", "--dump-dom", p.url+"#run")...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	dom := string(out)
	i := strings.Index(dom, `id="output"`)
	if i < 0 {
		t.Fatalf("no result pane in the page: %.1000s", dom)
	}
	pane := html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(dom[i:], ""))
	if !regexp.MustCompile(`"customer": \{\s*"id": "c0\d+"`).MatchString(pane) || strings.Contains(pane, `"errors"`) {
		t.Fatalf("the first example did not show a demo customer; result pane:\n%.2000s", pane)
	}
	if !strings.Contains(pane, `"timeline"`) || !strings.Contains(pane, `"stage"`) {
		t.Errorf("the first example's answer lacks the stage or the timeline:\n%.2000s", pane)
	}
}

// Given no data directory and no server, `kefu schema` prints the served
// schema as SDL: what a code generator needs (kefu schema > schema.graphql),
// with the defaults as literals and the additions to the contract named.
func TestSchemaCommand(t *testing.T) {
	bin := buildKefu(t)
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), bin, "schema")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KEFU_DATA=", "KEFU_ADDR=", "KEFU_AUTH=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil || errb.Len() != 0 {
		t.Fatalf("kefu schema: %v, stderr %q", err, errb.String())
	}
	sdl := out.String()
	for _, want := range []string{"schema {\n  query: Query\n  mutation: Mutation\n}", "type Query {", "type Mutation {", "scalar DateTime",
		"bucket: Bucket = MONTH", "# added after the contract\n  transferComplaint"} {
		if !strings.Contains(sdl, want) {
			t.Errorf("kefu schema lacks %q", want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("kefu schema wrote files: %v", entries)
	}
	if code, _, errs := runBin(t, bin, "schema", "extra"); code != 2 || !strings.Contains(errs, "unexpected argument") {
		t.Errorf("kefu schema extra: exit %d %q, want 2", code, errs)
	}
}
