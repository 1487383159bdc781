package e2e_test

import (
	"path/filepath"
	"testing"
	"time"
)

// TestMergeOfAQuietCustomerAfterARestart: a customer who grumbled weeks ago
// and went SILENT since (no event: the clock moved them) is merged with a
// duplicate. The lifecycle report's populations before the merge are what
// customer(asOf:) says of the two then, live and after a restart (when the
// read models are rebuilt from the log without the clock running between
// events, so the merge must first fire the changes due before it), and
// kefu replay --until agrees.
func TestMergeOfAQuietCustomerAfterARestart(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 90*time.Second)
	dir := filepath.Join(t.TempDir(), "kefu-data")
	s := startServer(t, ctx, serveOpts{dir: dir, args: []string{"--auth", writeTokens(t)}})
	amy := s.client(tokAM)

	now := time.Now().UTC()
	ago := func(days int) string { return stamp(now.AddDate(0, 0, -days)) }
	for _, r := range []struct {
		id   string
		days int
	}{{"qa", 60}, {"qb", 50}} {
		amy.must(ctx, nil, `mutation($in: RegisterCustomerInput!) { registerCustomer(input: $in) { version } }`,
			map[string]any{"in": map[string]any{"id": r.id, "name": "Quiet " + r.id, "occurredAt": ago(r.days)}})
	}
	amy.must(ctx, nil, `mutation($in: VoiceGrumbleInput!) { voiceGrumble(input: $in) { version } }`,
		map[string]any{"in": map[string]any{"customerId": "qa", "channel": "WECHAT", "summary": "late delivery", "occurredAt": ago(45)}})
	amy.must(ctx, nil, `mutation($in: RecordPurchaseInput!) { recordPurchase(input: $in) { version } }`,
		map[string]any{"in": map[string]any{"customerId": "qb", "orderId": "o-qb-1", "amount": map[string]any{"amountMinor": 5000, "currency": "CNY"}, "occurredAt": ago(40)}})

	// The day before the merge, qa is SILENT (30 days after the grumble).
	midnight := now.Truncate(24 * time.Hour)
	before := stageCensus(t, ctx, amy, []string{"qa", "qb"}, midnight)
	if before["SILENT"] != 1 {
		t.Fatalf("as of %s: %v, want qa SILENT", stamp(midnight), before)
	}
	amy.must(ctx, nil, `mutation { mergeCustomers(input: {survivorId: "qa", mergedIds: ["qb"], by: "amy", reason: "same person"}) { version } }`, nil)

	check := func(c *client, label string) {
		t.Helper()
		rep := lifecycleReport(t, ctx, c, midnight.Add(-24*time.Hour), midnight, "DAY")
		pop := map[string]int{}
		for _, p := range rep[len(rep)-1].Population {
			pop[p.Stage] = p.Count
		}
		census := stageCensus(t, ctx, c, []string{"qa", "qb"}, midnight)
		if !sameCounts(pop, census) || !sameCounts(census, before) {
			t.Errorf("%s: the day before the merge:\n%s", label, stageDiff("lifecycleReport", pop, "customer(asOf:)", census))
		}
	}
	check(amy, "live")
	s.stop()
	s = startServer(t, ctx, serveOpts{dir: dir, args: []string{"--auth", writeTokens(t)}})
	check(s.client(tokAM), "after a restart")
	s.stop()
	b := parseReplay(t, kefu(t, ctx, "replay", "--data", dir, "--until", stamp(midnight)).stdout)
	if !sameCounts(b.populations, before) {
		t.Errorf("kefu replay --until %s:\n%s", stamp(midnight), stageDiff("kefu replay", b.populations, "customer(asOf:)", before))
	}
}
