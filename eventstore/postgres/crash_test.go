package postgres_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/postgres"
	"github.com/kefu-crm/kefu/internal/testenv"
)

const envCrashSchema = "KEFU_PG_CRASH_CHILD_SCHEMA"

// TestCrashChild is the child of TestKilledClientTearsNothing: four
// goroutines append multi-stream batches and print each batch's event IDs
// before ("try") and after it is acknowledged ("ack"), until killed.
func TestCrashChild(t *testing.T) {
	schema := os.Getenv(envCrashSchema)
	if schema == "" {
		t.Skip("runs only as the child process of TestKilledClientTearsNothing")
	}
	s, err := postgres.Open(t.Context(), os.Getenv("KEFU_TEST_PG"), postgres.Options{Schema: schema})
	if err != nil {
		fmt.Printf("open failed: %v\n", err)
		os.Exit(3)
	}
	var mu sync.Mutex
	say := func(line string) {
		mu.Lock()
		defer mu.Unlock()
		if _, err := os.Stdout.WriteString(line + " end\n"); err != nil {
			os.Exit(4)
		}
	}
	say("ready")
	run := uuid.NewString()[:8] // streams of this child only
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			for n := 0; ; n++ {
				var items []eventstore.StreamAppend
				var ids []string
				for k := range 1 + rng.IntN(3) {
					recs := make([]eventstore.Record, 1+rng.IntN(5))
					for i := range recs {
						recs[i] = record(n)
						ids = append(ids, recs[i].ID.String())
					}
					items = append(items, eventstore.StreamAppend{Stream: fmt.Sprintf("crash-%s-g%d-%d-%d", run, g, n, k), Expected: eventstore.NoStream(), Records: recs})
				}
				joined := strings.Join(ids, ",")
				say("try " + joined)
				res, err := s.AppendBatch(t.Context(), items)
				if err == nil {
					for _, r := range res {
						err = r.Err
					}
				}
				if err != nil {
					say("fail " + err.Error())
					os.Exit(5)
				}
				say("ack " + joined)
			}
		})
	}
	wg.Wait()
}

// TestKilledClientTearsNothing kills a writing client with SIGKILL in the
// middle of its multi-stream batches, five times on one schema: every
// acknowledged batch is there in full, every other batch is there in full
// or not at all, and the log stays dense (positions 1 … head, each stream's
// revisions from 0 without a gap).
func TestKilledClientTearsNothing(t *testing.T) {
	conn := testenv.Postgres(t)
	schema := freshSchema(t, conn)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	var tried, acked [][]string
	for round := range 5 {
		cmd := exec.Command(exe, "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envCrashSchema+"="+schema)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		select {
		case l := <-lines:
			if l != "ready end" {
				_ = cmd.Process.Kill()
				t.Fatalf("round %d: child said %q", round, l)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("round %d: child not ready", round)
		}
		time.AfterFunc(time.Duration(100+rng.IntN(400))*time.Millisecond, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		for l := range lines {
			if !strings.HasSuffix(l, " end") {
				continue // cut by the kill
			}
			f := strings.Fields(l)
			switch f[0] {
			case "try":
				tried = append(tried, strings.Split(f[1], ","))
			case "ack":
				acked = append(acked, strings.Split(f[1], ","))
			case "fail":
				t.Fatalf("round %d: an append failed: %s", round, l)
			}
		}
		_ = cmd.Wait()
	}
	if len(acked) == 0 {
		t.Fatal("no batch was acknowledged before the kills")
	}

	s := open(t, conn, schema, postgres.Options{})
	defer s.Close()
	stored := map[uuid.UUID]bool{}
	revs := map[string]uint64{}
	var want eventstore.Position = 1
	if err := s.ReadAll(t.Context(), eventstore.Start, func(e eventstore.Event) error {
		if e.Position != want {
			return fmt.Errorf("position %d after %d: a gap", e.Position, want-1)
		}
		want++
		if e.Revision != revs[e.StreamID] {
			return fmt.Errorf("%s revision %d, want %d", e.StreamID, e.Revision, revs[e.StreamID])
		}
		revs[e.StreamID]++
		stored[e.ID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, ids := range acked {
		for _, id := range ids {
			if !stored[uuid.MustParse(id)] {
				t.Fatalf("acknowledged event %s is missing", id)
			}
		}
	}
	whole, none := 0, 0
	for _, ids := range tried {
		n := 0
		for _, id := range ids {
			if stored[uuid.MustParse(id)] {
				n++
			}
		}
		switch n {
		case len(ids):
			whole++
		case 0:
			none++
		default:
			t.Errorf("a batch of %d events is torn: %d stored", len(ids), n)
		}
	}
	t.Logf("%d batches tried, %d acknowledged, %d stored whole, %d not at all; %d events", len(tried), len(acked), whole, none, want-1)
}
