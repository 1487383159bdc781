package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/internal/datadir"
)

// kefu bench seeds an empty directory, serves it on loopback, runs both
// scenarios for a bounded time and reports rates and percentiles with no
// errors; a second run reuses the seeded directory. One client: with
// several, the first concurrent validations of the logContact mutation
// race inside graphql-go v0.8.1 (Enum.getNameLookup builds its map lazily
// without a lock), which -race reports; the schema should build those
// lookups before serving (reported, graphql package).
func TestBenchSeedsServesAndMeasures(t *testing.T) {
	dir := t.TempDir()
	args := []string{"bench", "--data", dir, "--customers", "40", "--events-per-customer", "20", "--clients", "1",
		"--duration", "1s", "--warmup", "200ms", "--end", "2025-06-01"}
	code, out, errs := kefu(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !regexp.MustCompile(`seeded 40 customers, \d+ events`).MatchString(out) {
		t.Errorf("no seeding line:\n%s", out)
	}
	for _, when := range []string{"after catch-up", "after the load"} {
		if !regexp.MustCompile(`memory ` + when + `: live heap [0-9.]+ MiB after a forced GC \([1-9]\d* B/customer over 40 customers\); heap from the OS [0-9.]+ MiB; RSS [1-9][0-9.]* MiB`).MatchString(out) {
			t.Errorf("no memory line %s:\n%s", when, out)
		}
	}
	line := regexp.MustCompile(`(?m)^(customer|logcontact) +1 clients +(\d+) req .* req/s +p50 [0-9.]+ms +p90 [0-9.]+ms +p99 [0-9.]+ms +max [0-9.]+ms +errors (\d+)`)
	got := line.FindAllStringSubmatch(out, -1)
	if len(got) != 2 {
		t.Fatalf("want a result line per scenario:\n%s", out)
	}
	for _, m := range got {
		if m[2] == "0" || m[3] != "0" {
			t.Errorf("%s: %s requests, %s errors\n%s", m[1], m[2], m[3], out)
		}
	}
	code, out, errs = kefu(t, append(args[:len(args):len(args)], "--scenario", "customer")...)
	if code != 0 || !strings.Contains(out, "benchmarking it as it is") {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errs)
	}
}

func TestBenchRefusesNonLoopbackAndBadScenario(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--data", t.TempDir(), "--addr", "0.0.0.0:0"},
		{"bench", "--data", t.TempDir(), "--scenario", "nope"},
		{"bench", "--data", t.TempDir(), "--clients", "0"},
		{"bench", "--data", t.TempDir(), "--duplicates", "0.9"},
		{"bench", "--data", t.TempDir(), "--scenario", "append", "--writers", "0"},
	} {
		if code, _, _ := kefu(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", args, code)
		}
	}
}

// TestBenchMergeScenario: on a book seeded with planted duplicates, the
// merge scenario merges each duplicate candidate over HTTP and reports its
// latencies next to the floor; the merges are in the log (one
// CustomerMerged per merge), and a second run finds fewer candidates.
func TestBenchMergeScenario(t *testing.T) {
	dir := t.TempDir()
	args := []string{"bench", "--data", dir, "--customers", "200", "--duplicates", "0.1", "--scenario", "merge", "--clients", "1",
		"--duration", "1s", "--warmup", "100ms", "--end", "2025-06-01"}
	code, out, errs := kefu(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	m := regexp.MustCompile(`(?m)^merge +(\d+) duplicate candidates, (\d+) disjoint pairs`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no candidates line:\n%s", out)
	}
	before, pairs := atoi(t, m[1]), atoi(t, m[2])
	if pairs < 5 {
		t.Fatalf("%d pairs to merge in a book with 10 %% planted duplicates:\n%s", pairs, out)
	}
	r := regexp.MustCompile(`(?m)^merge +1 clients +(\d+) req .* p50 [0-9.]+ms +p90 [0-9.]+ms +p99 [0-9.]+ms +max [0-9.]+ms +errors (\d+)`).FindStringSubmatch(out)
	if r == nil || atoi(t, r[1]) != pairs || r[2] != "0" {
		t.Fatalf("want %d merges without errors:\n%s", pairs, out)
	}
	if !regexp.MustCompile(`(?m)^floor +1 clients`).MatchString(out) || !strings.Contains(out, "p99 ") || !strings.Contains(out, "× the floor's") {
		t.Errorf("no floor or ratio:\n%s", out)
	}
	if got := countEvents(t, dir, "CustomerMerged"); got != pairs {
		t.Errorf("%d CustomerMerged events in the log after %d merges", got, pairs)
	}
	code, out, errs = kefu(t, args...)
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errs)
	}
	m = regexp.MustCompile(`(?m)^merge +(\d+) duplicate candidates`).FindStringSubmatch(out)
	if m == nil || atoi(t, m[1]) >= before {
		t.Fatalf("second run: want fewer than %d candidates:\n%s", before, out)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// countEvents counts the events of one type in a data directory's log.
func countEvents(t *testing.T, dir, typ string) int {
	t.Helper()
	d, err := datadir.Open(dir, datadir.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n := 0
	err = d.Store.ReadAll(context.WithoutCancel(t.Context()), eventstore.Start, func(ev eventstore.Event) error {
		if ev.Type == typ {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBenchAppendScenario: --scenario append measures durable appends on
// a fresh embedded store and, when KEFU_BENCH_PG is set (from KEFU_TEST_PG
// here), on a fresh PostgreSQL schema in the same run, prints the ratio and
// leaves neither store behind.
func TestBenchAppendScenario(t *testing.T) {
	pg := os.Getenv("KEFU_TEST_PG")
	parent := t.TempDir()
	getenv := func(k string) string {
		if k == benchPGEnv {
			return pg
		}
		return ""
	}
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"bench", "--data", filepath.Join(parent, "data"), "--scenario", "append", "--writers", "8",
		"--duration", "500ms", "--warmup", "100ms"}, &out, &errb, getenv)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	line := regexp.MustCompile(`(?m)^append (embedded|postgres) +8 writers +(\d+) appends .* events/s +p50 [0-9.]+ms +p90 [0-9.]+ms +p99 [0-9.]+ms +max [0-9.]+ms$`)
	got := map[string]bool{}
	for _, m := range line.FindAllStringSubmatch(out.String(), -1) {
		if m[2] == "0" {
			t.Errorf("%s: no appends\n%s", m[1], out.String())
		}
		got[m[1]] = true
	}
	if !got["embedded"] {
		t.Fatalf("no embedded result:\n%s", out.String())
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("the embedded store was left behind: %v", ents)
	}
	if pg == "" {
		if !strings.Contains(out.String(), benchPGEnv+" is not set") {
			t.Errorf("no note that the peer was not measured:\n%s", out.String())
		}
		t.Log("KEFU_TEST_PG not set: the PostgreSQL peer is not measured")
		return
	}
	if !got["postgres"] || !strings.Contains(out.String(), "embedded ÷ PostgreSQL (the peer, in this run): ") {
		t.Fatalf("no PostgreSQL peer or ratio:\n%s", out.String())
	}
	m := regexp.MustCompile(`schema (kefu_bench_append_[0-9a-f]+) `).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no schema named:\n%s", out.String())
	}
	c, err := pgx.Connect(t.Context(), pg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.WithoutCancel(t.Context()))
	var n int
	if err := c.QueryRow(t.Context(), "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", m[1]).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema %s: %d left, %v", m[1], n, err)
	}
}
