package pii_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/pii"
)

const crashDirEnv = "KEFU_PII_CRASH_DIR"

// TestFileKeystoreCrashChild is the child of TestFileKeystoreSurvivesKills:
// it creates and destroys keys as fast as it can until it is killed,
// reporting on file descriptor 3 every operation it starts ("D subject")
// and every one that returned ("K subject key", "X subject").
func TestFileKeystoreCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("child process of TestFileKeystoreSurvivesKills")
	}
	round := os.Getenv("KEFU_PII_CRASH_ROUND")
	out := os.NewFile(3, "report")
	var mu sync.Mutex
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if _, err := fmt.Fprintf(out, format+"\n", args...); err != nil {
			os.Exit(3)
		}
	}
	ks, err := pii.OpenFileKeystore(dir)
	if err != nil {
		report("E %v", err)
		os.Exit(2)
	}
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			var mine []string
			for i := 0; ; i++ {
				s := fmt.Sprintf("r%s-w%d-%d", round, w, i)
				k, err := ks.Key(ctx, s, true)
				if err != nil {
					report("E %v", err)
					os.Exit(2)
				}
				report("K %s %x", s, k)
				mine = append(mine, s)
				if i%4 == 3 {
					victim := mine[rand.IntN(len(mine))]
					report("D %s", victim)
					if err := ks.Destroy(ctx, victim); err != nil {
						report("E %v", err)
						os.Exit(2)
					}
					report("X %s", victim)
				}
				if i%7 == 6 {
					keyless := "n" + s
					report("D %s", keyless)
					if err := ks.Destroy(ctx, keyless); err != nil {
						report("E %v", err)
						os.Exit(2)
					}
					report("X %s", keyless)
				}
			}
		})
	}
	wg.Wait()
}

// TestFileKeystoreSurvivesKills runs the child above in rounds on one
// directory, kills it with SIGKILL at a random moment, and checks after
// every restart that every acknowledged key reads back unchanged, every
// acknowledged Destroy holds (and the key is in no file), and an
// unacknowledged Destroy left either the key or no trace of it.
//
// A killed process loses nothing it wrote to the page cache, so this
// checks the order of operations, not torn writes after a power cut;
// TestFileKeystoreRecovers covers those with hand-damaged files.
func TestFileKeystoreSurvivesKills(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("in the child")
	}
	dir := filepath.Join(t.TempDir(), "keys")
	type fate struct {
		key                []byte
		started, destroyed bool
	}
	subjects := map[string]*fate{}
	get := func(s string) *fate {
		if subjects[s] == nil {
			subjects[s] = &fate{}
		}
		return subjects[s]
	}
	acks := 0
	rounds := 8
	if testing.Short() {
		rounds = 3
	}
	for round := range rounds {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileKeystoreCrashChild$")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, fmt.Sprintf("KEFU_PII_CRASH_ROUND=%d", round))
		cmd.ExtraFiles = []*os.File{w}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		_ = w.Close()
		lines := make(chan []string, 1)
		go func() {
			var ls []string
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				ls = append(ls, sc.Text())
			}
			lines <- ls
		}()
		// Let it run a little (it also needs time to start), then kill it.
		time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = r.Close()
		for _, l := range <-lines {
			op, rest, _ := strings.Cut(l, " ")
			switch op {
			case "K":
				s, hexKey, _ := strings.Cut(rest, " ")
				k, err := hex.DecodeString(hexKey)
				if err != nil {
					t.Fatalf("bad report %q", l)
				}
				get(s).key = k
				acks++
			case "D":
				get(rest).started = true
			case "X":
				get(rest).destroyed = true
				acks++
			case "E":
				t.Fatalf("round %d: child failed: %s\n%s", round, rest, stderr.String())
			}
		}

		ks := openKeys(t, dir)
		data, err := os.ReadFile(filepath.Join(dir, pii.FileName))
		if err != nil {
			t.Fatal(err)
		}
		for s, f := range subjects {
			got, err := ks.Key(t.Context(), s, false)
			switch {
			case f.destroyed:
				if !errors.Is(err, pii.ErrDestroyed) {
					t.Fatalf("round %d: %s was destroyed; Key: %x, %v", round, s, got, err)
				}
			case f.started && errors.Is(err, pii.ErrDestroyed):
				// the unacknowledged Destroy got through
			case f.key == nil && f.started && errors.Is(err, pii.ErrNoKey):
				// the unacknowledged Destroy of a keyless subject did not
			case f.key == nil:
				t.Fatalf("round %d: %s: %x, %v", round, s, got, err)
			case err != nil || !bytes.Equal(got, f.key):
				t.Fatalf("round %d: %s: acknowledged key %x, read back %x, %v", round, s, f.key, got, err)
			}
			if f.key != nil && errors.Is(err, pii.ErrDestroyed) && bytes.Contains(data, f.key) {
				t.Fatalf("round %d: destroyed key of %s is still in the file", round, s)
			}
		}
		if err := ks.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if acks == 0 {
		t.Fatal("the child acknowledged nothing: the test tested nothing")
	}
	t.Logf("%d rounds, %d subjects, %d acknowledged operations", rounds, len(subjects), acks)
}
