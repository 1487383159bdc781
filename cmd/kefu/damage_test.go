package main_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kefu-crm/kefu/internal/testenv"
)

// The exit code of a command refusing a damaged data directory.
const exitDamaged = 3

// seedDir seeds a small data directory with the binary and returns it.
func seedDir(t *testing.T, bin string, customers string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if code, _, errs := runBin(t, bin, "seed", "--data", dir, "--customers", customers, "--end", "2026-06-01"); code != 0 {
		t.Fatalf("seed: exit %d\n%s", code, errs)
	}
	return dir
}

// copyTree copies a closed data directory.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "data")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// usedBytes is how much of events.db its pages take (the file is longer:
// bbolt grows it ahead), and which pages hold the log's B+trees.
func usedBytes(t *testing.T, dir string) (size int64, pageSize int, inUse []int) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "events", "events.db"), 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		size = tx.Size()
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if p == nil || err != nil {
				return err
			}
			if p.Type == "leaf" || p.Type == "branch" {
				inUse = append(inUse, id)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return size, db.Info().PageSize, inUse
}

// serveExit runs `kefu serve` on dir and returns its exit code and stderr;
// it fails the test if the server starts serving.
func serveExit(t *testing.T, bin, dir string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, "serve", "--data", dir, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "KEFU_DATA=", "KEFU_ADDR=", "KEFU_AUTH=")
	cmd.WaitDelay = time.Second
	var out, errb testenv.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case err := <-done:
			var ee *exec.ExitError
			code := 0
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			if strings.Contains(out.String(), "kefu is serving") {
				t.Errorf("kefu serve started serving the damaged directory before it exited:\n%s", out.String())
			}
			return code, errb.String()
		case <-time.After(50 * time.Millisecond):
			if strings.Contains(out.String(), "kefu is serving") {
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("kefu serve is serving a damaged data directory\n%s", errb.String())
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("kefu serve neither served nor exited within 60s\n%s", errb.String())
		}
	}
}

var refusalLine = regexp.MustCompile(`(?m)^kefu (serve|replay): .*$`)

// wantRefusal checks a command's refusal: exit code 3, one line naming
// the file and saying to restore from a backup, and no Go crash.
func wantRefusal(t *testing.T, what string, code int, stderr string, file string, detail string) {
	t.Helper()
	if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic:") || strings.Contains(stderr, "SIGBUS") {
		t.Fatalf("%s crashed:\n%s", what, stderr)
	}
	line := refusalLine.FindString(stderr)
	if code != exitDamaged || line == "" {
		t.Fatalf("%s: exit code %d, want %d with a refusal line\n%s", what, code, exitDamaged, stderr)
	}
	for _, s := range []string{file, "restore", "backup", detail} {
		if !strings.Contains(line, s) {
			t.Fatalf("%s: the refusal does not say %q:\n%s", what, s, line)
		}
	}
}

// Each damage of issue 13 §5 is refused by `kefu serve` (which used to
// crash with SIGBUS or a bbolt panic, or to start empty or degraded) and
// by `kefu replay`, with exit code 3 and a message naming the file and
// what to do.
func TestDamagedDataDirectoryIsRefused(t *testing.T) {
	bin := buildKefu(t)
	base := seedDir(t, bin, "300")
	used, pageSize, inUse := usedBytes(t, base)
	events := func(dir string) string { return filepath.Join(dir, "events", "events.db") }
	keys := func(dir string) string { return filepath.Join(dir, "keys", "keys.dat") }
	edit := func(t *testing.T, path string, fn func([]byte) []byte) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, fn(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keyRecord := func(b []byte) int { // the middle customer's record
		i := bytes.Index(b, []byte("\x07c000150"))
		if i < 0 {
			t.Fatal("no record of c000150")
		}
		return i
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		file   string
		detail string
		replay bool // replay refuses too (it reads the log only)
	}{
		{"events.db cut to half of its pages", func(t *testing.T, dir string) {
			if err := os.Truncate(events(dir), used/2); err != nil {
				t.Fatal(err)
			}
		}, "events.db", "cut short", true},
		{"events.db cut to 8 KB", func(t *testing.T, dir string) {
			if err := os.Truncate(events(dir), 8<<10); err != nil {
				t.Fatal(err)
			}
		}, "events.db", "cut short", true},
		{"20 zeroed pages in events.db", func(t *testing.T, dir string) {
			edit(t, events(dir), func(b []byte) []byte {
				for _, id := range inUse[len(inUse)/2 : len(inUse)/2+20] {
					clear(b[id*pageSize : (id+1)*pageSize])
				}
				return b
			})
		}, "events.db", "assertion failed", true},
		{"events.db deleted", func(t *testing.T, dir string) {
			if err := os.Remove(events(dir)); err != nil {
				t.Fatal(err)
			}
		}, "events.db is missing", "keys.dat holds data keys", true},
		{"events.db emptied", func(t *testing.T, dir string) {
			if err := os.Truncate(events(dir), 0); err != nil {
				t.Fatal(err)
			}
		}, "events.db is empty", "keys.dat holds data keys", true},
		{"events.db of another data directory", func(t *testing.T, dir string) {
			other := seedDir(t, bin, "20")
			if code, _, errs := runBin(t, bin, "replay", "--data", other); code != 0 { // records its identity
				t.Fatalf("replay of the other directory: %d\n%s", code, errs)
			}
			b, err := os.ReadFile(events(other))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(events(dir), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "events.db belongs to data directory", "different directories", true},
		{"keys.dat deleted", func(t *testing.T, dir string) {
			if err := os.Remove(keys(dir)); err != nil {
				t.Fatal(err)
			}
		}, "keys.dat is missing", "personal data", true},
		{"one flipped key byte in keys.dat", func(t *testing.T, dir string) {
			edit(t, keys(dir), func(b []byte) []byte { b[keyRecord(b)+20] ^= 0x01; return b })
		}, "keys.dat", "c000150", true},
		{"one flipped subject byte in keys.dat", func(t *testing.T, dir string) {
			edit(t, keys(dir), func(b []byte) []byte { b[keyRecord(b)+7] ^= 0x01; return b }) // c000150 → c000151
		}, "keys.dat", "checksum", true},
		{"one flipped length byte in keys.dat", func(t *testing.T, dir string) {
			edit(t, keys(dir), func(b []byte) []byte { b[keyRecord(b)] ^= 0x01; return b })
		}, "keys.dat", "belong to no subject", true},
		{"last 20 bytes of keys.dat cut", func(t *testing.T, dir string) {
			edit(t, keys(dir), func(b []byte) []byte { return b[:len(b)-20] })
		}, "keys.dat ends in an incomplete record", "sealed personal data", true},
		// Cut at a record boundary, the file looks whole; the catch-up
		// meets the customer's sealed data without a key, and serve
		// refuses (replay never reads personal data, so it goes on).
		{"last key record of keys.dat cut", func(t *testing.T, dir string) {
			edit(t, keys(dir), func(b []byte) []byte { return b[:len(b)-(1+7+1+32+4)] })
		}, "no data key", "stopped at position", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyTree(t, base)
			tc.damage(t, dir)
			code, stderr := serveExit(t, bin, dir)
			wantRefusal(t, "kefu serve", code, stderr, tc.file, tc.detail)
			if tc.replay {
				code, _, stderr := runBin(t, bin, "replay", "--data", dir)
				wantRefusal(t, "kefu replay", code, stderr, tc.file, tc.detail)
			}
		})
	}
}

// A crash can tear the keystore's last write; that record was never
// handed out and sealed nothing, so it is cut off — with a WARN line — and
// the server starts.
func TestTornKeystoreWriteIsRepairedWithALogLine(t *testing.T) {
	bin := buildKefu(t)
	dir := seedDir(t, bin, "30")
	// A record of a subject that has no event: a key created just before a
	// crash, its write torn after 25 of its 45 bytes.
	path := filepath.Join(dir, "keys", "keys.dat")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := append([]byte{7}, "c999999K"...)
	rec = append(rec, bytes.Repeat([]byte{0xAB}, 16)...)
	if err := os.WriteFile(path, append(b, rec...), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, bin, "--data", dir, "--addr", "127.0.0.1:0")
	out := postGraphQL(t, p.url, `{ customers(first: 1) { totalCount } }`)
	if n := out["data"].(map[string]any)["customers"].(map[string]any)["totalCount"]; n != 30.0 {
		t.Errorf("totalCount %v, want 30", n)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(p.stderr.String(), "cutting off an incomplete final record") || !strings.Contains(p.stderr.String(), "c999999") {
		t.Fatalf("no WARN line about the cut:\n%s", p.stderr.String())
	}
}

var allDigest = regexp.MustCompile(`(?m)^  all +([0-9a-f]{64})$`)

// replayAll runs `kefu replay` and returns its "all" digest.
func replayAll(t *testing.T, bin, dir string) string {
	t.Helper()
	code, out, errs := runBin(t, bin, "replay", "--data", dir)
	if code != 0 {
		t.Fatalf("replay %s: exit %d\n%s", dir, code, errs)
	}
	m := allDigest.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no digest in\n%s", out)
	}
	return m[1]
}

// `kefu backup` copies a data directory while `kefu serve` runs on it and
// writes go on; `kefu restore` puts a copy into a new directory, which
// replays to the same digest as the original and serves with every key.
func TestBackupWhileServingAndRestore(t *testing.T) {
	bin := buildKefu(t)
	data := seedDir(t, bin, "300")
	p := startServe(t, bin, "--data", data, "--addr", "127.0.0.1:0")
	addr := strings.TrimSuffix(strings.TrimPrefix(p.url, "http://"), "/graphql")
	backups := t.TempDir()

	// Writes go on while the first backup is taken.
	stop := make(chan struct{})
	wrote := make(chan int)
	go func() {
		n := 0
		defer func() { wrote <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			postGraphQL(t, p.url, fmt.Sprintf(`mutation { registerCustomer(input: {id: "during-%d", name: "Written During The Backup", phone: "+86 138 0000 %04d"}) { version } }`, n, n))
			n++
		}
	}()
	time.Sleep(200 * time.Millisecond)
	live := filepath.Join(backups, "during")
	code, out, errs := runBin(t, bin, "backup", "--data", data, "--out", live, "--addr", addr)
	close(stop)
	n := <-wrote
	if code != 0 || !strings.Contains(out, "through the server") || !strings.Contains(out, "verified") {
		t.Fatalf("backup while serving: exit %d\n%s\n%s", code, out, errs)
	}
	if n == 0 {
		t.Fatal("no write happened during the backup")
	}
	// A second one once the writes have stopped, then stop the server.
	quiet := filepath.Join(backups, "quiet")
	if code, out, errs := runBin(t, bin, "backup", "--data", data, "--out", quiet, "--addr", addr); code != 0 {
		t.Fatalf("second backup: exit %d\n%s\n%s", code, out, errs)
	}
	if code, _, errs := runBin(t, bin, "backup", "--data", data, "--out", quiet, "--addr", addr); code != 2 || !strings.Contains(errs, "already exists") {
		t.Fatalf("backup over an existing directory: exit %d\n%s", code, errs)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("serve: exit %d\n%s", code, p.stderr.String())
	}
	want := replayAll(t, bin, data)

	// The quiet backup, restored, replays to the original's digest.
	restored := filepath.Join(t.TempDir(), "restored")
	code, out, errs = runBin(t, bin, "restore", "--from", quiet, "--data", restored)
	if code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore: exit %d\n%s\n%s", code, out, errs)
	}
	if got := replayAll(t, bin, restored); got != want {
		t.Fatalf("restored copy replays to %s, the original to %s", got, want)
	}
	// So does a backup of the stopped directory, taken directly.
	offline := filepath.Join(backups, "offline")
	if code, out, errs := runBin(t, bin, "backup", "--data", data, "--out", offline); code != 0 || !strings.Contains(out, "opened directly") {
		t.Fatalf("offline backup: exit %d\n%s\n%s", code, out, errs)
	}
	if got := replayAll(t, bin, offline); got != want {
		t.Fatalf("offline backup replays to %s, want %s", got, want)
	}

	// The backup taken under writes is consistent: restored, it serves
	// every customer it holds with their personal data (no key missing,
	// no read model stopped).
	restoredLive := filepath.Join(t.TempDir(), "restored-live")
	if code, out, errs := runBin(t, bin, "restore", "--from", live, "--data", restoredLive); code != 0 {
		t.Fatalf("restore of the live backup: exit %d\n%s\n%s", code, out, errs)
	}
	p = startServe(t, bin, "--data", restoredLive, "--addr", "127.0.0.1:0")
	res := postGraphQL(t, p.url, `{ customers(first: 1) { totalCount } customer(id: "during-0") { name phone } }`)
	d := res["data"].(map[string]any)
	total := d["customers"].(map[string]any)["totalCount"].(float64)
	if total < 301 || total > float64(300+n) {
		t.Errorf("the live backup holds %v customers; between 301 and %d were written when it was taken", total, 300+n)
	}
	if c, _ := d["customer"].(map[string]any); c == nil || c["name"] != "Written During The Backup" || c["phone"] != "+86 138 0000 0000" {
		t.Errorf("customer during-0 in the live backup: %v", d["customer"])
	}
	resp, err := http.Get(strings.TrimSuffix(p.url, "/graphql") + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz of the restored live backup: HTTP %d", resp.StatusCode)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("serve on the restored live backup: exit %d\n%s", code, p.stderr.String())
	}

	// A damaged backup is not restored.
	keysCopy := filepath.Join(offline, "keys", "keys.dat")
	b, err := os.ReadFile(keysCopy)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(keysCopy, b, 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "never")
	if code, _, errs := runBin(t, bin, "restore", "--from", offline, "--data", target); code == 0 || !strings.Contains(errs, "keys.dat") {
		t.Fatalf("restore of a damaged backup: exit %d\n%s", code, errs)
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("a refused restore created its directory")
	}
	if code, _, errs := runBin(t, bin, "restore", "--from", quiet, "--data", restored); code != 2 || !strings.Contains(errs, "not empty") {
		t.Fatalf("restore over a data directory: exit %d\n%s", code, errs)
	}
}
