package projections_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/checkpoint"
)

const (
	killDirEnv  = "KEFU_PROJECTIONS_KILL_DIR"
	killModeEnv = "KEFU_PROJECTIONS_KILL_MODE"
	killEvents  = 3000
)

// slowDurable is a durable counter that takes a little time per event, so
// that a kill lands while it is part-way through the log.
// It prints the first position it applies in a process.
type slowDurable struct {
	durable
	first *sync.Once
}

func (s slowDurable) Apply(ctx context.Context, ev projections.Decoded) error {
	s.first.Do(func() { fmt.Println("first", ev.Event.Position) })
	time.Sleep(50 * time.Microsecond)
	return s.durable.Apply(ctx, ev)
}

// TestKillChild is the child process of TestKillAndRestart; it only runs
// when that test starts it.
func TestKillChild(t *testing.T) {
	dir := os.Getenv(killDirEnv)
	if dir == "" {
		t.Skip("child process of TestKillAndRestart")
	}
	ctx := t.Context()
	// The store is rebuilt identically in every run: same records, same
	// order, so the same positions.
	s := memstore.New(memstore.Options{})
	// Half the events (or up to the saved checkpoint, which must not be
	// ahead of the log) before Run, the rest while live.
	before := killEvents / 2
	d, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ck, err := d.Load("pm"); err == nil {
		before = max(before, int(ck.Position))
	}
	appendRange(t, ctx, s, 0, before, 9)
	pm := slowDurable{durable{newCounter("pm")}, new(sync.Once)}
	r, err := projections.New(projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{pm, newCounter("view")}},
		projections.Config{CheckpointDir: dir, FlushInterval: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- r.Run(runCtx) }()
	<-r.Ready()
	appendRange(t, ctx, s, before, killEvents, 9)
	if err := r.WaitFor(ctx, killEvents); err != nil {
		t.Fatal(err)
	}
	if os.Getenv(killModeEnv) != "finish" {
		<-ctx.Done() // wait to be killed
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	fmt.Println("finished")
}

// A process killed (SIGKILL) while it applies events, restarted, killed
// again and restarted, ends with every event applied exactly once by the
// durable projection: snapshot and checkpoint are saved together, and a
// restart resumes after the checkpoint.
func TestKillAndRestart(t *testing.T) {
	if os.Getenv(killDirEnv) != "" {
		t.Skip("in the child")
	}
	dir := t.TempDir()
	d, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	saved := func() eventstore.Position {
		ck, err := d.Load("pm")
		if errors.Is(err, checkpoint.ErrNotFound) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return ck.Position
	}
	// start runs the child; its stdout lines arrive on the returned channel,
	// closed at EOF.
	start := func(mode string) (*exec.Cmd, <-chan string, <-chan error) {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), killDirEnv+"="+dir, killModeEnv+"="+mode)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1<<16)
		exited := make(chan error, 1)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
			exited <- cmd.Wait()
		}()
		return cmd, lines, exited
	}
	// firstApplied is the first position a run applied, which must follow
	// the checkpoint it started from.
	firstApplied := func(lines []string) string {
		for _, l := range lines {
			if p, ok := strings.CutPrefix(l, "first "); ok {
				return p
			}
		}
		return "none"
	}
	collect := func(ch <-chan string) []string {
		var out []string
		for l := range ch {
			out = append(out, l)
		}
		return out
	}

	var last eventstore.Position
	for round := 1; round <= 2; round++ {
		cmd, lines, exited := start("kill")
		// Kill as soon as a checkpoint beyond the previous one is on disk:
		// the projection is then part-way, its memory ahead of the file.
		for saved() <= last {
			select {
			case err := <-exited:
				t.Fatalf("round %d: child exited before it was killed: %v\n%s", round, err, strings.Join(collect(lines), "\n"))
			case <-time.After(time.Millisecond):
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		got := collect(lines)
		<-exited
		if want := fmt.Sprint(last + 1); firstApplied(got) != want {
			t.Fatalf("round %d started applying at %s, want %s (right after the checkpoint)", round, firstApplied(got), want)
		}
		last = saved()
		t.Logf("round %d: killed with checkpoint at %d of %d", round, last, killEvents)
	}

	_, out, exited := start("finish")
	lines := collect(out)
	if err := <-exited; err != nil {
		t.Fatalf("final run: %v\n%s", err, strings.Join(lines, "\n"))
	}
	if !strings.Contains(strings.Join(lines, "\n"), "finished") {
		t.Fatalf("final run did not finish:\n%s", strings.Join(lines, "\n"))
	}
	if want := fmt.Sprint(last + 1); firstApplied(lines) != want {
		t.Fatalf("final run started applying at %s, want %s", firstApplied(lines), want)
	}
	ck, err := d.Load("pm")
	if err != nil {
		t.Fatal(err)
	}
	pm := durable{newCounter("pm")}
	if err := pm.Restore(ck.Snapshot); err != nil {
		t.Fatal(err)
	}
	if ck.Position != killEvents {
		t.Fatalf("final checkpoint at %d, want %d", ck.Position, killEvents)
	}
	checkExactlyOnce(t, "pm", pm.Seen(), killEvents)
}
