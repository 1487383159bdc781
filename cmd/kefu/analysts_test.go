package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/internal/testenv"
)

// seededData is a data directory seeded once for the analysts' tests.
var seededData string

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "kefu-analysts-*")
	if err != nil {
		panic(err)
	}
	seededData = filepath.Join(tmp, "data")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"seed", "--data", seededData, "--customers", "600", "--end", "2025-06-01", "--years", "1.5"}, &out, &errb, noEnv); code != 0 {
		fmt.Fprintln(os.Stderr, errb.String())
		os.Exit(code)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

func noEnv(string) string { return "" }

// kefu runs a command and returns its exit code, stdout and stderr.
func kefu(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, noEnv)
	return code, out.String(), errb.String()
}

var digestLine = regexp.MustCompile(`(?m)^  all +([0-9a-f]{64})$`)

func replayDigest(t *testing.T, args ...string) (string, string) {
	t.Helper()
	code, out, errs := kefu(t, append([]string{"replay"}, args...)...)
	if code != 0 {
		t.Fatalf("replay %v: exit %d\n%s", args, code, errs)
	}
	m := digestLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no digest in\n%s", out)
	}
	return m[1], out
}

func stageSection(out string) string {
	i := strings.Index(out, "stage populations")
	j := strings.Index(out, "funnel")
	return out[i:j]
}

func TestReplay(t *testing.T) {
	d1, out := replayDigest(t, "--data", seededData)
	d2, _ := replayDigest(t, "--data", seededData)
	if d1 != d2 {
		t.Fatalf("same data and policy, different digests: %s %s", d1, d2)
	}
	for _, want := range []string{"stage populations (600 customers)", "SILENT", "complained", "went silent", "won back", "recovery rate:", "median"} {
		if !strings.Contains(out, want) {
			t.Fatalf("replay output lacks %q:\n%s", want, out)
		}
	}
	// What if silence meant 45 days?
	policy := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(policy, []byte(`{"silentAfterDays": 45}`), 0o600); err != nil {
		t.Fatal(err)
	}
	d45, out45 := replayDigest(t, "--data", seededData, "--policy", policy)
	if d45 == d1 || stageSection(out45) == stageSection(out) {
		t.Fatalf("a 45-day silence policy changes nothing:\n%s\n%s", stageSection(out), stageSection(out45))
	}
	// As the book stood half a year earlier: fewer customers.
	_, early := replayDigest(t, "--data", seededData, "--until", "2024-12-01")
	if !strings.Contains(early, "as of 2024-12-01T00:00:00Z") || strings.Contains(early, "(600 customers)") {
		t.Fatalf("--until not honoured:\n%s", early)
	}
	if code, _, errs := kefu(t, "replay", "--data", seededData, "--until", "yesterday"); code != 2 || !strings.Contains(errs, "--until") {
		t.Fatalf("bad --until: exit %d %s", code, errs)
	}
}

// TestRoundTripReplayDigest: seed → export → import into an empty data
// directory → the replay digest is identical.
func TestRoundTripReplayDigest(t *testing.T) {
	file := filepath.Join(t.TempDir(), "all.ndjson")
	if code, _, errs := kefu(t, "export", "--data", seededData, "--out", file); code != 0 {
		t.Fatalf("export: %d %s", code, errs)
	}
	target := filepath.Join(t.TempDir(), "copy")
	if code, _, errs := kefu(t, "import", "--data", target, file); code != 0 {
		t.Fatalf("import: %d %s", code, errs)
	}
	want, _ := replayDigest(t, "--data", seededData)
	got, _ := replayDigest(t, "--data", target)
	if got != want {
		t.Fatalf("digest after the round trip %s, want %s", got, want)
	}
	// Re-running the import changes nothing.
	if code, _, errs := kefu(t, "import", "--data", target, file); code != 0 || !strings.Contains(errs, "0 events written") {
		t.Fatalf("re-import: %d %s", code, errs)
	}
}

func TestImportBadInputWritesNothing(t *testing.T) {
	good := `{"stream":"customer-a","type":"PurchaseMade","id":"7f1c2a8e-4b1d-4c59-9a55-0a4b8f0c2d11","revision":0,"occurredAt":"2024-03-01T10:00:00Z","schemaVersion":1,"data":{"orderId":"o-1","amount":{"amountMinor":1,"currency":"CNY"}}}`
	second := strings.NewReplacer(`"revision":0`, `"revision":1`, "7f1c2a8e", "8f1c2a8e").Replace(good)
	tests := []struct{ name, file, content, want string }{
		{"truncated NDJSON line", "t.ndjson", good + "\n" + second[:60] + "\n", "t.ndjson:2: truncated"},
		{"unknown event type", "u.ndjson", good + "\n" + strings.Replace(second, "PurchaseMade", "Teleported", 1) + "\n", `u.ndjson:2: unknown event type "Teleported"`},
		{"date that does not parse", "d.ndjson", good + "\n" + strings.Replace(second, "2024-03-01T10:00:00Z", "2024-13-45", 1) + "\n", "d.ndjson:2: occurredAt"},
		{"CSV missing column", "p.csv", "customer_id,date,currency\na,2024-01-01,CNY\n", "p.csv:1: missing column(s) amount"},
		{"CSV date", "q.csv", "customer_id,date,amount,currency\na,2024-01-01,1,CNY\nb,01.02.2024,1,CNY\n", `q.csv:3: date "01.02.2024" does not parse`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, tc.file)
			if err := os.WriteFile(in, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(dir, "data")
			code, _, errs := kefu(t, "import", "--data", target, in)
			if code == 0 || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "nothing written") {
				t.Fatalf("exit %d, stderr:\n%s\nwant %q", code, errs, tc.want)
			}
			if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the data directory was left behind: %v", err)
			}
			// Into an existing data directory: still nothing written.
			if code, _, _ := kefu(t, "seed", "--data", target, "--customers", "1", "--end", "2025-01-01"); code != 0 {
				t.Fatal("seed")
			}
			if code, _, errs := kefu(t, "import", "--data", target, in); code == 0 || !strings.Contains(errs, tc.want) {
				t.Fatalf("into an existing directory: exit %d %s", code, errs)
			}
			d, err := datadir.Open(target, datadir.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			seeded, _ := d.Store.Head(context.Background())
			var n int
			_ = d.Store.ReadAll(context.Background(), 0, func(ev eventstore.Event) error {
				if !strings.HasPrefix(ev.StreamID, "customer-c") {
					n++
				}
				return nil
			})
			if n != 0 || seeded == 0 {
				t.Fatalf("%d events written by the bad import (head %d)", n, seeded)
			}
		})
	}
}

// TestReportInChromium renders the report, opens it in headless Chromium,
// checks the charts are drawn, and keeps a screenshot.
func TestReportInChromium(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.html")
	if code, _, errs := kefu(t, "report", "--data", seededData, "--out", out, "--from", "2024-06-01"); code != 0 {
		t.Fatalf("report: %d %s", code, errs)
	}
	html, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "http://", "https://", "<link"} {
		if bad == "http://" {
			html := strings.ReplaceAll(string(html), `xmlns="http://www.w3.org/2000/svg"`, "")
			if strings.Contains(html, bad) {
				t.Fatalf("report references the network (%s)", bad)
			}
			continue
		}
		if bytes.Contains(html, []byte(bad)) {
			t.Fatalf("report is not self-contained: contains %s", bad)
		}
	}
	chromium := testenv.Chromium(t)
	artifacts := os.Getenv("KEFU_TEST_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	browse := func(extra ...string) []byte {
		args := append(testenv.ChromiumFlags(t.TempDir()), "--window-size=1400,1300")
		args = append(args, extra...)
		args = append(args, "file://"+out)
		ctx, cancel := context.WithTimeout(context.Background(), 90e9)
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.String())
		}
		return stdout.Bytes()
	}
	dom := string(browse("--dump-dom"))
	sections := regexp.MustCompile(`(?s)<section id="([a-z]+)">(.*?)</section>`).FindAllStringSubmatch(dom, -1)
	drawn := map[string]int{}
	for _, s := range sections {
		drawn[s[1]] = len(regexp.MustCompile(`<(path|rect|circle)[^>]*(data-stage|data-value)="[^"0][^"]*"`).FindAllString(s[2], -1))
		if s[1] != "now" && !strings.Contains(s[2], "<svg") {
			t.Fatalf("section %s has no chart", s[1])
		}
	}
	for _, id := range []string{"populations", "funnel", "transitions", "loyalty", "sla"} {
		if drawn[id] == 0 {
			t.Fatalf("chart %s drew nothing with data (sections: %v)", id, drawn)
		}
	}
	if drawn["populations"] < 3 || drawn["transitions"] < 12 {
		t.Fatalf("too few marks drawn: %v", drawn)
	}
	shot := filepath.Join(artifacts, "report.png")
	browse("--screenshot=" + shot)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Fatalf("screenshot %s missing or empty: %v", shot, err)
	}
	t.Logf("report screenshot: %s (marks drawn per chart: %v)", shot, drawn)
}
