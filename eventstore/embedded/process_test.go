package embedded_test

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
)

// The tests below re-execute the test binary as a child process; these
// environment variables tell the child what to do.
const (
	envCrashDir   = "KEFU_EMBEDDED_CRASH_CHILD_DIR"
	envCrashRound = "KEFU_EMBEDDED_CRASH_CHILD_ROUND"
	envLockDir    = "KEFU_EMBEDDED_LOCK_CHILD_DIR"
)

func child(t *testing.T, name string, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^"+name+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// TestCrashChild is the child of TestCrashRecovery: it appends in a loop
// from several goroutines and reports each append before ("try") and after
// it is acknowledged ("ack"), until it is killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		t.Skip("runs only as the child process of TestCrashRecovery")
	}
	round := os.Getenv(envCrashRound)
	s, err := embedded.Open(dir, embedded.Options{LockTimeout: 10 * time.Second})
	if err != nil {
		fmt.Printf("open failed: %v\n", err)
		os.Exit(3)
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...) + " end\n"
		mu.Lock()
		defer mu.Unlock()
		if _, err := os.Stdout.WriteString(line); err != nil {
			os.Exit(4)
		}
	}
	say("ready")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			type st struct {
				name string
				exp  eventstore.Expected
			}
			streams := make([]st, 3)
			for i := range streams {
				streams[i] = st{fmt.Sprintf("crash-r%sg%ds%d", round, g, i), eventstore.NoStream()}
			}
			for n := 0; ; n++ {
				cur := &streams[n%len(streams)]
				batch := make([]eventstore.Record, 1+rng.IntN(8))
				ids := make([]string, len(batch))
				for i := range batch {
					batch[i] = contactLogged(n)
					ids[i] = batch[i].ID.String()
				}
				joined := strings.Join(ids, ",")
				say("try %s %s", cur.name, joined)
				res, err := s.Append(t.Context(), cur.name, cur.exp, batch...)
				if err != nil {
					say("fail %s %v", cur.name, err)
					os.Exit(5)
				}
				say("ack %s %d %d %s", cur.name, res.Revision, res.Position, joined)
				cur.exp = eventstore.Exact(res.Revision)
			}
		})
	}
	wg.Wait()
}

type batchLine struct {
	stream string
	ids    []uuid.UUID
	rev    uint64
	pos    eventstore.Position
}

// runCrashRound starts a child, lets it append for a random while and
// SIGKILLs it; it returns the child's complete output lines.
func runCrashRound(t *testing.T, dir string, round int, rng *rand.Rand) []string {
	t.Helper()
	cmd := child(t, "TestCrashChild", envCrashDir+"="+dir, envCrashRound+"="+strconv.Itoa(round))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	ready := make(chan struct{})
	scanned := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if line == "ready end" {
				close(ready)
			}
			lines = append(lines, line)
		}
		scanned <- sc.Err()
	}()
	select {
	case <-ready:
	case err := <-scanned:
		_ = cmd.Wait()
		t.Fatalf("round %d: child ended before it was ready (%v): %q", round, err, lines)
	}
	time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-scanned; err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("round %d: child ended with %v, not by our SIGKILL; output %q", round, err, lines[max(0, len(lines)-5):])
	}
	return lines
}

func parseLine(t *testing.T, line string) (kind string, b batchLine) {
	t.Helper()
	f := strings.Fields(line)
	if len(f) == 0 || f[len(f)-1] != "end" {
		return "partial", b // cut off by the kill
	}
	f = f[:len(f)-1]
	kind = f[0]
	parseIDs := func(s string) []uuid.UUID {
		var ids []uuid.UUID
		for _, x := range strings.Split(s, ",") {
			ids = append(ids, uuid.MustParse(x))
		}
		return ids
	}
	switch {
	case kind == "ready":
	case kind == "try" && len(f) == 3:
		b = batchLine{stream: f[1], ids: parseIDs(f[2])}
	case kind == "ack" && len(f) == 5:
		rev, err1 := strconv.ParseUint(f[2], 10, 64)
		pos, err2 := strconv.ParseUint(f[3], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad ack line %q", line)
		}
		b = batchLine{stream: f[1], ids: parseIDs(f[4]), rev: rev, pos: eventstore.Position(pos)}
	default:
		t.Fatalf("child said %q", line)
	}
	return kind, b
}

// TestCrashRecovery SIGKILLs an appending child process at random points,
// then checks that every acknowledged append survived, that no append is
// torn, and that the store still works.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var tries, acks []batchLine
	for round := range 5 {
		for _, line := range runCrashRound(t, dir, round, rng) {
			switch kind, b := parseLine(t, line); kind {
			case "try":
				tries = append(tries, b)
			case "ack":
				acks = append(acks, b)
			}
		}
	}
	if len(acks) == 0 {
		t.Fatal("the children acknowledged no append")
	}

	s := open(t, dir)
	defer s.Close()
	stored := make(map[uuid.UUID]eventstore.Event)
	streams := make(map[string]uint64) // stream → event count
	if err := s.ReadAll(t.Context(), eventstore.Start, func(e eventstore.Event) error {
		stored[e.ID] = e
		if e.Revision != streams[e.StreamID] {
			return fmt.Errorf("%s: revision %d after %d events", e.StreamID, e.Revision, streams[e.StreamID])
		}
		streams[e.StreamID]++
		return nil
	}); err != nil {
		t.Fatalf("ReadAll after crashes: %v", err)
	}
	for _, a := range acks {
		for i, id := range a.ids {
			e, ok := stored[id]
			wantRev := a.rev - uint64(len(a.ids)-1-i)
			wantPos := a.pos - eventstore.Position(len(a.ids)-1-i)
			if !ok {
				t.Fatalf("acknowledged event %s of %s is missing", id, a.stream)
			}
			if e.StreamID != a.stream || e.Revision != wantRev || e.Position != wantPos {
				t.Fatalf("acknowledged event %s is %s@%d pos %d, acknowledged as %s@%d pos %d",
					id, e.StreamID, e.Revision, e.Position, a.stream, wantRev, wantPos)
			}
		}
	}
	torn, lost := 0, 0
	for _, b := range tries {
		n := 0
		for _, id := range b.ids {
			if _, ok := stored[id]; ok {
				n++
			}
		}
		switch {
		case n == 0:
			lost++ // in flight at the kill, not acknowledged
		case n != len(b.ids):
			torn++
			t.Errorf("append to %s is torn: %d of its %d events stored", b.stream, n, len(b.ids))
		default:
			first := stored[b.ids[0]]
			for i, id := range b.ids {
				if e := stored[id]; e.Revision != first.Revision+uint64(i) || e.Position != first.Position+eventstore.Position(i) {
					t.Errorf("append to %s stored out of order: %s at %d/%d", b.stream, id, e.Revision, e.Position)
				}
			}
		}
	}
	if len(stored) < len(acks) {
		t.Fatalf("%d events stored, fewer than %d acknowledged appends", len(stored), len(acks))
	}
	t.Logf("5 kills: %d appends tried, %d acknowledged, %d in flight and lost, %d torn; %d events stored", len(tries), len(acks), lost, torn, len(stored))

	// The store still accepts appends, in old streams and new.
	head, _ := s.Head(t.Context())
	last := acks[len(acks)-1]
	res, err := s.Append(t.Context(), last.stream, eventstore.Exact(streams[last.stream]-1), contactLogged(1))
	if err != nil || res.Position != head+1 {
		t.Fatalf("append after recovery: %+v, %v; want position %d", res, err, head+1)
	}
	if _, err := s.Append(t.Context(), "crash-after", eventstore.NoStream(), contactLogged(2)); err != nil {
		t.Fatalf("append to a new stream after recovery: %v", err)
	}
}

// TestLockChild is the child of TestSecondProcessIsRefused.
func TestLockChild(t *testing.T) {
	dir := os.Getenv(envLockDir)
	if dir == "" {
		t.Skip("runs only as the child process of TestSecondProcessIsRefused")
	}
	start := time.Now()
	s, err := embedded.Open(dir, embedded.Options{LockTimeout: 200 * time.Millisecond})
	if err == nil {
		_ = s.Close()
		fmt.Println("opened a directory another process holds")
		os.Exit(2)
	}
	if !errors.Is(err, eventstore.ErrLocked) {
		fmt.Printf("unexpected error: %v\n", err)
		os.Exit(2)
	}
	fmt.Printf("refused after %v: %v\n", time.Since(start).Round(time.Millisecond), err)
}

func TestSecondProcessIsRefused(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	if _, err := s.Append(t.Context(), "customer-1", eventstore.NoStream(), contactLogged(1)); err != nil {
		t.Fatal(err)
	}
	out, err := child(t, "TestLockChild", envLockDir+"="+dir).CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	msg := string(out)
	if !strings.Contains(msg, "refused after") || !strings.Contains(msg, "another process") {
		t.Fatalf("child output %q lacks a clear lock error", msg)
	}
	t.Logf("child: %s", strings.TrimSpace(msg))
	// The holder is unharmed.
	if _, err := s.Append(t.Context(), "customer-1", eventstore.Exact(0), contactLogged(2)); err != nil {
		t.Fatalf("append after the refused open: %v", err)
	}
}
