package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stages in the order the API and the CLI list them.
var stages = []string{"NEW", "ACTIVE", "LOYAL", "GRUMBLING", "COMPLAINING", "SILENT", "DORMANT", "LOST"}

// replayBook is what `kefu replay` prints that a user compares: the
// instant the book stands at, the stage populations and the digests.
type replayBook struct {
	asOf        string // as printed (RFC 3339, seconds)
	populations map[string]int
	digests     map[string]string
	out         string
}

var (
	replayAsOf   = regexp.MustCompile(`(?m)\bas of (\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d))`)
	replayStage  = regexp.MustCompile(`(?m)^\s+(NEW|ACTIVE|LOYAL|GRUMBLING|COMPLAINING|SILENT|DORMANT|LOST)\s+(\d+)\s`)
	replayDigest = regexp.MustCompile(`(?m)^\s+([a-z]+)\s+([0-9a-f]{64})\s*$`)
)

// parseReplay reads `kefu replay`'s report, failing the test when a part
// is missing.
func parseReplay(t *testing.T, out string) replayBook {
	t.Helper()
	b := replayBook{populations: map[string]int{}, digests: map[string]string{}, out: out}
	if m := replayAsOf.FindStringSubmatch(out); m != nil {
		b.asOf = m[1]
	}
	for _, m := range replayStage.FindAllStringSubmatch(out, -1) {
		if _, dup := b.populations[m[1]]; dup {
			t.Fatalf("kefu replay lists stage %s twice:\n%s", m[1], out)
		}
		b.populations[m[1]], _ = strconv.Atoi(m[2])
	}
	for _, m := range replayDigest.FindAllStringSubmatch(out, -1) {
		b.digests[m[1]] = m[2]
	}
	if b.asOf == "" || len(b.populations) != len(stages) || b.digests["all"] == "" {
		t.Fatalf("kefu replay's output lacks the instant, a stage population or the digest:\n%s", out)
	}
	return b
}

// sameBook compares what two replays say about the book.
func sameBook(a, b replayBook) bool {
	return maps.Equal(a.populations, b.populations) && maps.Equal(a.digests, b.digests)
}

// TestAnalyst is an analyst's afternoon on the CLI: seed a history, replay
// it, export it, import the export into a fresh directory (the replay
// digests match, a second import writes nothing, the new directory serves
// the same book and exports the same events), and render the HTML report.
func TestAnalyst(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 150*time.Second)
	tmp := t.TempDir()
	src, dst := filepath.Join(tmp, "book"), filepath.Join(tmp, "copy")

	seed := kefu(t, ctx, "seed", "--data", src, "--customers", "1500", "--seed", "11", "--workers", "32")
	t.Logf("seed: %s", strings.TrimSpace(seed.stdout+tail(seed.stderr, 300)))

	orig := parseReplay(t, kefu(t, ctx, "replay", "--data", src).stdout)
	if n := sum(orig.populations); n != 1500 {
		t.Errorf("kefu replay counts %d customers in stages, the seed wrote 1500:\n%s", n, orig.out)
	}

	// Export, and what it says about the log.
	exportFile := filepath.Join(tmp, "book.ndjson")
	kefu(t, ctx, "export", "--data", src, "--format", "ndjson", "--out", exportFile)
	exp := readExport(t, exportFile)
	if len(exp.lines) == 0 {
		t.Fatal("kefu export wrote no events")
	}

	// replay (and report) without --until stand at the latest event in
	// the log, and say so.
	if want := exp.latest.UTC().Truncate(time.Second); parseTime(t, orig.asOf).UTC().Truncate(time.Second) != want {
		t.Errorf("kefu replay without --until stands at %s; the latest event in the log occurred at %s (want the default cut-off to be the latest event)",
			orig.asOf, stamp(exp.latest))
	}
	until := parseReplay(t, kefu(t, ctx, "replay", "--data", src, "--until", stamp(exp.latest)).stdout)
	if !sameBook(orig, until) {
		t.Errorf("kefu replay without --until and with --until %s (the latest event) differ:\n--- default\n%s\n--- --until\n%s", stamp(exp.latest), orig.out, until.out)
	}

	// Import into a fresh directory: the same book.
	imp := kefu(t, ctx, "import", "--data", dst, exportFile)
	if w := importWritten(t, imp.stderr); w != len(exp.lines) {
		t.Errorf("kefu import wrote %d events of %d exported:\n%s", w, len(exp.lines), tail(imp.stderr, 1000))
	}
	copied := parseReplay(t, kefu(t, ctx, "replay", "--data", dst).stdout)
	if !sameBook(orig, copied) || copied.asOf != orig.asOf {
		t.Errorf("the imported copy replays differently:\n--- original\n%s\n--- copy\n%s", orig.out, copied.out)
	}
	// Again: idempotent.
	imp2 := kefu(t, ctx, "import", "--data", dst, exportFile)
	if w := importWritten(t, imp2.stderr); w != 0 {
		t.Errorf("importing the same file twice wrote %d more events, want 0:\n%s", w, tail(imp2.stderr, 1000))
	}
	if again := parseReplay(t, kefu(t, ctx, "replay", "--data", dst).stdout); !sameBook(orig, again) {
		t.Errorf("a second import changed the book:\n%s", again.out)
	}
	// The copy exports the same events (personal data included: the copy
	// sealed it under its own keys).
	copyFile := filepath.Join(tmp, "copy.ndjson")
	kefu(t, ctx, "export", "--data", dst, "--format", "ndjson", "--out", copyFile)
	if diff := exportDiff(exp, readExport(t, copyFile)); diff != "" {
		t.Errorf("the copy exports other events than the original: %s", diff)
	}

	// The copy serves the same book. (Serving it may append: the
	// follow-up scheduler books what the history asks for on its first
	// run, as it would have on the original.)
	s := startServer(t, ctx, serveOpts{dir: dst, args: []string{"--auth", writeTokens(t)}})
	h := s.health(ctx)
	if h.Head < uint64(len(exp.lines)) || h.Customers != 1500 {
		t.Errorf("kefu serve on the imported copy: head %d, %d customers; want at least %d events, 1500 customers", h.Head, h.Customers, len(exp.lines))
	}
	first := exp.lines[0]
	var want []string
	for _, e := range exp.lines {
		if e.Stream == first.Stream {
			want = append(want, e.ID)
		}
	}
	var d struct {
		Customer *struct {
			Name     *string
			Timeline struct {
				Edges []struct{ Node struct{ EventID string } }
			}
		}
	}
	const q = `query($id: ID!, $n: Int!) { customer(id: $id) { name timeline(first: $n, oldestFirst: true) { edges { node { eventId } } } } }`
	vars := map[string]any{"id": strings.TrimPrefix(first.Stream, "customer-"), "n": len(want)}
	s.client(tokAdmin).must(ctx, &d, q, vars)
	var got []string
	if d.Customer != nil {
		for _, e := range d.Customer.Timeline.Edges {
			got = append(got, e.Node.EventID)
		}
	}
	if d.Customer == nil || d.Customer.Name == nil || *d.Customer.Name == "" || !slices.Equal(got, want) {
		t.Errorf("customer %s on the copy = %s, want their name and the exported events %v", first.Stream, js(d.Customer), want)
	}
	// An analyst's token: the same history, no personal data, no writes.
	ana := s.client(tokAnalyst)
	var ad struct {
		Viewer struct {
			Role      string
			CanSeePII bool
		}
		Customer *struct {
			Name     *string
			Timeline struct {
				Edges []struct{ Node struct{ EventID string } }
			}
		}
	}
	ana.must(ctx, &ad, `query($id: ID!, $n: Int!) { viewer { role canSeePII } customer(id: $id) { name timeline(first: $n, oldestFirst: true) { edges { node { eventId } } } } }`, vars)
	if ad.Viewer.Role != "ANALYST" || ad.Viewer.CanSeePII || ad.Customer == nil || ad.Customer.Name != nil || len(ad.Customer.Timeline.Edges) != len(want) {
		t.Errorf("as an analyst: %s; want role ANALYST without PII: the customer's history, and a null name", js(ad))
	}
	ana.fails(ctx, "FORBIDDEN", `mutation($id: ID!) { logContact(input: {customerId: $id, channel: PHONE, direction: OUTBOUND, agent: "ana"}) { version } }`, map[string]any{"id": vars["id"]})
	lifecycleReport(t, ctx, ana, exp.latest.AddDate(0, -3, 0), exp.latest, "MONTH")
	s.stop()

	// The report: one self-contained HTML file with SVG charts.
	report := filepath.Join(tmp, "report.html")
	rep := kefu(t, ctx, "report", "--data", src, "--out", report)
	html, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("kefu report wrote no file: %v\n%s", err, rep.stdout)
	}
	lower := strings.ToLower(string(html))
	if len(html) < 1000 || !strings.Contains(lower, "<svg") || !strings.Contains(lower, "</html>") {
		t.Errorf("report.html (%d bytes) is not an HTML page with SVG charts", len(html))
	}
	if strings.Contains(lower, "<script src=") || strings.Contains(lower, `<link rel="stylesheet" href="http`) {
		t.Errorf("report.html loads resources from elsewhere; it should be self-contained")
	}
	if m := replayAsOf.FindStringSubmatch(rep.stdout); m == nil || parseTime(t, m[1]).UTC().Truncate(time.Second) != exp.latest.UTC().Truncate(time.Second) {
		t.Errorf("kefu report says %q; want it to stand at the latest event in the log (%s) without --to", strings.TrimSpace(rep.stdout), stamp(exp.latest))
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

var importWrittenRe = regexp.MustCompile(`(\d+) events written`)

// importWritten reads how many events `kefu import` says it wrote.
func importWritten(t *testing.T, stderr string) int {
	t.Helper()
	m := importWrittenRe.FindAllStringSubmatch(stderr, -1)
	if m == nil {
		t.Fatalf("kefu import does not say how many events it wrote:\n%s", tail(stderr, 1000))
	}
	n, _ := strconv.Atoi(m[len(m)-1][1])
	return n
}

// envelope is one line of an NDJSON export (exchange/FORMAT.md).
type envelope struct {
	Stream     string          `json:"stream"`
	Type       string          `json:"type"`
	ID         string          `json:"id"`
	Revision   int             `json:"revision"`
	OccurredAt time.Time       `json:"occurredAt"`
	Data       json.RawMessage `json:"data"`
	Metadata   json.RawMessage `json:"metadata"`
}

type export struct {
	lines     []envelope
	latest    time.Time
	perStream map[string]int
}

func readExport(t *testing.T, path string) export {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open the export: %v", err)
	}
	defer f.Close()
	e := export{perStream: map[string]int{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var env envelope
		if err := json.Unmarshal(sc.Bytes(), &env); err != nil {
			t.Fatalf("export line %d: %v: %s", len(e.lines)+1, err, tail(sc.Text(), 300))
		}
		e.lines = append(e.lines, env)
		e.perStream[env.Stream]++
		if env.OccurredAt.After(e.latest) {
			e.latest = env.OccurredAt
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read the export: %v", err)
	}
	return e
}

// exportDiff describes the first difference between two exports' events
// (stream, type, ID, revision, business time, data and metadata), or "".
func exportDiff(a, b export) string {
	key := func(e envelope) string { return e.ID }
	byID := map[string]envelope{}
	for _, e := range b.lines {
		byID[key(e)] = e
	}
	if len(a.lines) != len(b.lines) {
		return fmt.Sprintf("%d events, then %d", len(a.lines), len(b.lines))
	}
	for _, e := range a.lines {
		o, ok := byID[key(e)]
		switch {
		case !ok:
			return fmt.Sprintf("event %s (%s %s) is missing", e.ID, e.Stream, e.Type)
		case o.Stream != e.Stream || o.Type != e.Type || o.Revision != e.Revision || !o.OccurredAt.Equal(e.OccurredAt):
			return fmt.Sprintf("event %s: %s %s r%d %s, then %s %s r%d %s", e.ID, e.Stream, e.Type, e.Revision, e.OccurredAt, o.Stream, o.Type, o.Revision, o.OccurredAt)
		case !jsonEqual(e.Data, o.Data) || !jsonEqual(e.Metadata, o.Metadata):
			return fmt.Sprintf("event %s (%s): data %s, metadata %s; then data %s, metadata %s", e.ID, e.Type, e.Data, e.Metadata, o.Data, o.Metadata)
		}
	}
	return ""
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return bytes.Equal(xs, ys)
}
