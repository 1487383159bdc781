package e2e_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// snapshotHealth is the snapshot part of /healthz.
type snapshotHealth struct {
	Snapshot *struct {
		Restored         bool   `json:"restored"`
		RestoredPosition uint64 `json:"restoredPosition"`
		Position         uint64 `json:"position"`
	} `json:"snapshot"`
	Head uint64 `json:"head"`
}

func (s *server) snapshot(t *testing.T) snapshotHealth {
	t.Helper()
	var h snapshotHealth
	resp, err := http.Get(s.base + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatalf("/healthz: %v: %s", err, body)
	}
	return h
}

// bookViews is what users see of a book: customers in full, the
// lifecycle report, the complaint queue and the duplicates.
func bookViews(t *testing.T, s *server, ids []string) string {
	t.Helper()
	c := s.client("")
	var b strings.Builder
	for _, id := range ids {
		var raw json.RawMessage
		c.must(t.Context(), &raw, `query($id:ID!){ customer(id:$id){ id name phone stage stageSince loyalty{ score level } openComplaints{ id status }
			stageHistory{ from to at reason } nextPurchase{ category expectedAt } timeline(first:30){ edges{ node{ type occurredAt summary } } } } }`, map[string]any{"id": id})
		b.Write(raw)
	}
	for _, q := range []string{
		`{ lifecycleReport(from:"2024-01-01T00:00:00Z", to:"2026-11-01T00:00:00Z", bucket:MONTH){ buckets{ start population{ stage count } transitions{ from to count } } } }`,
		`{ customers(first:50, filter:{stages:[SILENT]}){ totalCount edges{ node{ id } } } }`,
		`{ complaints(first:50){ totalCount edges{ node{ id status } } } }`,
		`{ duplicateCandidates(first:20){ totalCount edges{ node{ score customers{ id } } } } }`,
	} {
		var raw json.RawMessage
		c.must(t.Context(), &raw, q, nil)
		b.Write(raw)
	}
	return b.String()
}

// TestRestartFromSnapshot: a seeded book of 3,000 customers is served; the
// server writes its read models' snapshot soon after it is ready; more
// history is written (a new customer, a complaint, a purchase, a merge of
// a seeded customer); then the process is killed (no snapshot at
// shutdown). The next start loads the snapshot, folds only the events
// after it, and shows exactly what it showed before the kill — as does a
// start after a clean stop; a start that folds the whole log
// (--snapshots=false) agrees with kefu replay.
func TestRestartFromSnapshot(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 3*time.Minute)
	dir := filepath.Join(t.TempDir(), "kefu-data")
	kefu(t, ctx, "seed", "--data", dir, "--customers", "3000", "--seed", "7", "--workers", "32")
	s := startServer(t, ctx, serveOpts{dir: dir})
	var snapAt uint64
	deadline := time.Now().Add(20 * time.Second)
	for {
		h := s.snapshot(t)
		if h.Snapshot != nil && h.Snapshot.Position > 0 && !h.Snapshot.Restored {
			snapAt = h.Snapshot.Position
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot written 20 s after the start: %+v", h)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c := s.client("")
	c.must(ctx, nil, `mutation { registerCustomer(input: {id: "snap1", name: "快照客户", phone: "13912345678"}) { version } }`, nil)
	c.must(ctx, nil, `mutation { fileComplaint(input: {customerId: "snap1", complaintId: "k-snap", channel: PHONE, category: "delivery", description: "late", owner: "amy"}) { version } }`, nil)
	c.must(ctx, nil, `mutation { recordPurchase(input: {customerId: "c000002", orderId: "o-snap", amount: {amountMinor: 9900, currency: "CNY"}}) { version } }`, nil)
	c.must(ctx, nil, `mutation { voiceGrumble(input: {customerId: "c000001", channel: WECHAT, summary: "slow"}) { version } }`, nil)
	c.must(ctx, nil, `mutation { mergeCustomers(input: {survivorId: "snap1", mergedIds: ["c000003"], by: "amy", reason: "same person"}) { version } }`, nil)
	h := s.quiesce(ctx)
	if h.Head <= snapAt {
		t.Fatalf("head %d, snapshot at %d: nothing written after it", h.Head, snapAt)
	}
	ids := []string{"snap1", "c000001", "c000002", "c000003", "c000010"}
	before := bookViews(t, s, ids)
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.exited

	r := startServer(t, ctx, serveOpts{dir: dir})
	rh := r.snapshot(t)
	if rh.Snapshot == nil || !rh.Snapshot.Restored || rh.Snapshot.RestoredPosition != snapAt {
		t.Fatalf("after the kill: snapshot %+v, want restored from %d", rh.Snapshot, snapAt)
	}
	if !strings.Contains(r.stderr.String(), "read models restored from their snapshot") {
		t.Errorf("the start does not say it loaded the snapshot")
	}
	r.quiesce(ctx)
	if got := bookViews(t, r, ids); got != before {
		t.Errorf("restored from the snapshot at %d and folded to %d, the server shows:\n%s\nbefore the kill:\n%s", snapAt, h.Head, got, before)
	}
	r.stop() // writes a snapshot at the head
	raw, err := os.ReadFile(filepath.Join(dir, "snapshots", "readmodels.snap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"快照客户", "13912345678"} {
		if strings.Contains(string(raw), s) {
			t.Errorf("the snapshot holds %q in clear", s)
		}
	}

	again := startServer(t, ctx, serveOpts{dir: dir})
	if ah := again.snapshot(t); ah.Snapshot == nil || !ah.Snapshot.Restored || ah.Snapshot.RestoredPosition < h.Head {
		t.Errorf("after a clean stop: snapshot %+v, want restored from the head (≥ %d)", ah.Snapshot, h.Head)
	}
	if got := bookViews(t, again, ids); got != before {
		t.Errorf("restored from the shutdown snapshot, the server shows:\n%s\nwant:\n%s", got, before)
	}
	again.stop()

	full := startServer(t, ctx, serveOpts{dir: dir, args: []string{"--snapshots=false"}})
	if fh := full.snapshot(t); fh.Snapshot != nil && fh.Snapshot.Restored {
		t.Errorf("--snapshots=false loaded the snapshot")
	}
	// (Not compared with before: a fold of the whole log refits the churn
	// model from scratch, which live refits by its growth rule — the
	// views may differ there; the snapshot keeps the model live used.)
	midnight := time.Now().UTC().Truncate(24 * time.Hour)
	rep := lifecycleReport(t, ctx, full.client(""), midnight.Add(-24*time.Hour), midnight, "DAY")
	pop := map[string]int{}
	for _, p := range rep[len(rep)-1].Population {
		pop[p.Stage] = p.Count
	}
	full.stop()
	b := parseReplay(t, kefu(t, ctx, "replay", "--data", dir, "--until", stamp(midnight)).stdout)
	if !sameCounts(b.populations, pop) {
		t.Errorf("kefu replay --until %s:\n%s", stamp(midnight), stageDiff("kefu replay", b.populations, "lifecycleReport", pop))
	}
	t.Logf("ready after %s from the snapshot of position %d (head %d), %s after a clean stop, %s folding the whole log", r.took, snapAt, h.Head, again.took, full.took)
}
