package server_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/server"
)

// snapshotWorkload writes a varied history through the API: purchases,
// grumbles, complaints (some resolved), contacts, surveys, profile
// changes, merges and an unmerge — prefix tells the batches apart.
func snapshotWorkload(h *harness, prefix string, customers int) {
	h.t.Helper()
	for i := range customers {
		h.register(fmt.Sprintf("%s%02d", prefix, i), fmt.Sprintf("客户%s%d", prefix, i), nil)
	}
	for i := range customers * 4 {
		id := fmt.Sprintf("%s%02d", prefix, i%customers)
		switch i % 5 {
		case 0:
			h.ok(`mutation($id:ID!, $o:String!){ recordPurchase(input:{customerId:$id, orderId:$o, amount:{amountMinor:1200, currency:"CNY"}, items:["东北大米"]}){ version } }`,
				map[string]any{"id": id, "o": fmt.Sprintf("o-%s-%d", prefix, i)})
		case 1:
			h.ok(`mutation($id:ID!){ voiceGrumble(input:{customerId:$id, channel:PHONE, summary:"slow delivery"}){ version } }`, map[string]any{"id": id})
		case 2:
			k := h.fileComplaint(id, nil)
			if i%3 == 0 {
				h.ok(`mutation($k:ID!){ acknowledgeComplaint(input:{complaintId:$k, by:"amy"}){ version } }`, map[string]any{"k": k})
			}
		case 3:
			h.ok(`mutation($id:ID!){ logContact(input:{customerId:$id, channel:PHONE, direction:OUTBOUND, agent:"amy"}){ version } }`, map[string]any{"id": id})
		default:
			h.ok(`mutation($id:ID!){ recordSatisfaction(input:{customerId:$id, score:4}){ version } }`, map[string]any{"id": id})
		}
	}
	p := func(n int) string { return fmt.Sprintf("%s%02d", prefix, n) }
	h.ok(`mutation($id:ID!){ updateProfile(input: {customerId: $id, phone: "+86 139 0000 0001"}) { version } }`, map[string]any{"id": p(1)})
	h.ok(`mutation($id:ID!){ updateProfile(input: {customerId: $id, phone: "13900000001"}) { version } }`, map[string]any{"id": p(2)})
	h.ok(`mutation($s:ID!, $m:[ID!]!){ mergeCustomers(input: {survivorId: $s, mergedIds: $m, by: "amy", reason: "same person"}) { version } }`, map[string]any{"s": p(0), "m": []string{p(1), p(3)}})
	h.ok(`mutation($s:ID!, $m:[ID!]!){ unmergeCustomers(input: {survivorId: $s, unmergedIds: $m, by: "amy", reason: "two people"}) { version } }`, map[string]any{"s": p(0), "m": []string{p(3)}})
}

// views is what users see of the book: one customer in full, the
// lifecycle report, queues and duplicates.
func views(h *harness, prefix string) string {
	h.t.Helper()
	var b bytes.Buffer
	for _, id := range []string{prefix + "00", prefix + "02", prefix + "03", prefix + "05"} {
		r := h.ok(`query($id:ID!){ customer(id:$id){ id name phone stage stageSince loyalty{ score level } openComplaints{ id status } stageHistory{ from to at reason } timeline(first:50){ edges{ node{ type occurredAt summary } } } } }`, map[string]any{"id": id})
		b.WriteString(r.Raw)
	}
	for _, q := range []string{
		`{ lifecycleReport(from:"2026-01-01T00:00:00Z", to:"2026-12-31T00:00:00Z", bucket:MONTH){ buckets{ start population{ stage count } transitions{ from to count } } } }`,
		`{ customers(first:100){ totalCount edges{ node{ id stage } } } }`,
		`{ complaints(first:100){ totalCount edges{ node{ id status customer{ id } } } } }`,
		`{ duplicateCandidates(first:20){ totalCount edges{ node{ score reasons customers{ id } } } } }`,
	} {
		b.WriteString(h.ok(q, nil).Raw)
	}
	return b.String()
}

// A start from a snapshot plus the events after it shows users exactly
// what a start that folds the whole log shows, and every read model's
// digest equals a rebuild's.
func TestSnapshotRestoreEqualsRebuild(t *testing.T) {
	clock := newFakeClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	noFinal := func(c *server.Config) { c.Snapshots.NotAtShutdown = true }
	h := startServerWith(t, options{dir: dir, clock: clock}, noFinal)
	snapshotWorkload(h, "a", 8)
	if err := h.srv.WriteSnapshot(t.Context()); err != nil {
		t.Fatal(err)
	}
	at := h.srv.SnapshotStatus().Position
	if at == 0 || at != h.head() {
		t.Fatalf("snapshot at %d, head %d", at, h.head())
	}
	// After the snapshot: more history, time moves, a merge across both.
	clock.Set(clock.Now().Add(40 * 24 * time.Hour))
	snapshotWorkload(h, "b", 6)
	h.ok(`mutation { mergeCustomers(input: {survivorId: "b04", mergedIds: ["a05"], by: "amy", reason: "same person"}) { version } }`, nil)
	clock.Set(clock.Now().Add(20 * 24 * time.Hour))
	eventually(t, "the stage clock to move", func() bool { return true })
	time.Sleep(50 * time.Millisecond)
	before := views(h, "a") + views(h, "b")
	head := h.head()
	h.stop()

	// Folded from the start (snapshots off) and from the snapshot.
	full := startServerWith(t, options{dir: dir, clock: clock}, func(c *server.Config) { c.Snapshots.Disabled = true })
	fromLog := views(full, "a") + views(full, "b")
	full.stop()
	if fromLog != before {
		t.Fatalf("a fold of the whole log shows something else than the live server did:\n%s\n---\n%s", fromLog, before)
	}
	r := startServerWith(t, options{dir: dir, clock: clock}, noFinal)
	st := r.srv.SnapshotStatus()
	if !st.Restored || st.RestoredPosition != at {
		t.Fatalf("snapshot status %+v, want restored from %d", st, at)
	}
	if got := views(r, "a") + views(r, "b"); got != before {
		t.Errorf("restored from the snapshot at %d and folded to %d, the server shows:\n%s\nwant:\n%s", at, head, got, before)
	}
	checks, err := r.srv.VerifyRebuild(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) < 10 {
		t.Fatalf("compared %d read models", len(checks))
	}
	for _, c := range checks {
		if !c.Equal() {
			t.Errorf("read model %s restored: digest %x, a rebuild's %x", c.Name, c.Live[:6], c.Rebuilt[:6])
		}
	}
	// The snapshot is sealed: no name or phone in clear.
	raw, err := os.ReadFile(filepath.Join(dir, "snapshots", "readmodels.snap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"客户a1", "13900000001", "amy"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the snapshot holds %q in clear", s)
		}
	}
}

// A snapshot that does not belong — another lifecycle policy, a damaged
// file, one sealed before an erasure — is not loaded: the server folds
// the log and says why.
func TestSnapshotRefused(t *testing.T) {
	clock := newFakeClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	h := startServer(t, options{dir: dir, clock: clock})
	snapshotWorkload(h, "a", 5)
	before := views(h, "a")
	h.stop() // writes the snapshot at shutdown
	path := filepath.Join(dir, "snapshots", "readmodels.snap")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no snapshot after a clean stop: %v", err)
	}

	// Each case on its own copy: a server that does not load the
	// snapshot writes its own and destroys the old one's key.
	copyOf := func(t *testing.T) (string, string) {
		d := t.TempDir()
		copyDir(t, dir, d)
		return d, filepath.Join(d, "snapshots", "readmodels.snap")
	}
	t.Run("another policy", func(t *testing.T) {
		dir, _ := copyOf(t)
		p := lifecycle.DefaultPolicy()
		p.SilentAfterDays++
		r := startServerWith(t, options{dir: dir, clock: clock}, func(c *server.Config) { c.Policy = &p; c.Snapshots.NotAtShutdown = true })
		if r.srv.SnapshotStatus().Restored {
			t.Error("a snapshot of another policy was loaded")
		}
		r.stop()
	})
	t.Run("damaged", func(t *testing.T) {
		dir, path := copyOf(t)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(raw)
		bad[len(bad)/2] ^= 0x40
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		r := startServerWith(t, options{dir: dir, clock: clock}, func(c *server.Config) { c.Snapshots.NotAtShutdown = true })
		if r.srv.SnapshotStatus().Restored {
			t.Fatal("a damaged snapshot was loaded")
		}
		if got := views(r, "a"); got != before {
			t.Errorf("after a damaged snapshot the server shows:\n%s\nwant:\n%s", got, before)
		}
		r.stop()
	})
	t.Run("erased since", func(t *testing.T) {
		dir, path := copyOf(t)
		r := startServer(t, options{dir: dir, clock: clock})
		if !r.srv.SnapshotStatus().Restored {
			t.Fatal("the good snapshot was not loaded")
		}
		// The snapshot on disk holds a04's name; the erasure must make it
		// unreadable at once, before any new snapshot is written.
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r.ok(`mutation { eraseCustomer(input: {customerId: "a04", by: "dpo", reason: "request"}) { version } }`, nil)
		eventually(t, "the snapshot's key destroyed", func() bool { return r.srv.SnapshotStatus().Position == 0 })
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("the snapshot holding the erased customer is still on disk: %v", err)
		}
		r.stop() // a new snapshot, without a04's data
		// The old file, put back, no longer opens: its key is gone.
		if err := os.WriteFile(path, old, 0o600); err != nil {
			t.Fatal(err)
		}
		again := startServerWith(t, options{dir: dir, clock: clock}, func(c *server.Config) { c.Snapshots.NotAtShutdown = true })
		if again.srv.SnapshotStatus().Restored {
			t.Error("a snapshot sealed before the erasure was opened")
		}
		if n := again.ok(`{ customer(id:"a04"){ name phone } }`, nil); strings.Contains(n.Raw, "客户a4") {
			t.Errorf("the erased customer's name is back: %s", n.Raw)
		}
		again.stop()
	})
}

// copyDir copies the files of directory from into to.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}
