package e2e_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/internal/testenv"
)

// slowGateway is a webhook receiver that takes the first open greetings at
// once and then holds every request until release is closed, so that a
// test can kill the instance that is sending in the middle of a campaign.
type slowGateway struct {
	secret  []byte
	open    int
	release chan struct{}

	mu        sync.Mutex
	delivered map[string][]string // customer → idempotency key of each 2xx answer
	arrived   int
	reached   chan struct{} // closed when open greetings have been taken
	bad       []string
}

func (g *slowGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	mac := hmac.New(sha256.New, g.secret)
	mac.Write(body)
	var m hookMessage
	if err != nil || json.Unmarshal(body, &m) != nil || m.CustomerID == "" ||
		!hmac.Equal([]byte(r.Header.Get(signatureHeader)), []byte("sha256="+hex.EncodeToString(mac.Sum(nil)))) {
		g.mu.Lock()
		g.bad = append(g.bad, string(body))
		g.mu.Unlock()
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.arrived++
	hold := g.arrived > g.open
	if g.arrived == g.open {
		close(g.reached)
	}
	g.mu.Unlock()
	if hold {
		select {
		case <-g.release:
		case <-r.Context().Done(): // the sender died: nothing delivered
			return
		}
	}
	g.mu.Lock()
	g.delivered[m.CustomerID] = append(g.delivered[m.CustomerID], m.IdempotencyKey)
	g.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// leaders returns the indexes of the instances whose /healthz says they
// lead the process managers (a killed one counts as not leading).
func leaders(ctx context.Context, ss []*server, alive []bool) []int {
	var out []int
	for i, s := range ss {
		if !alive[i] {
			continue
		}
		h, err := s.healthTry(ctx, &http.Client{Timeout: 2 * time.Second})
		if err == nil && h.Leader != nil && *h.Leader {
			out = append(out, i)
		}
	}
	return out
}

// percentile is the p-th percentile (0…100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// TestThreeInstancesOnPostgres: three `kefu serve` processes, each on its
// own data directory, on one PostgreSQL schema. Writes go through any of
// them and every instance reads them (the lag is reported); exactly one
// instance leads the process managers; a greeting campaign scheduled
// through a follower is sent by the leader, and when the leader is killed
// with SIGKILL in the middle of it, another instance takes the lead and
// finishes sending: every customer of the audience greeted, one
// outcome each, every delivery of a customer under the same idempotency
// key; recovery follow-ups booked after the failover are booked once.
func TestThreeInstancesOnPostgres(t *testing.T) {
	conn := testenv.Postgres(t)
	multiInstance(t, withSchema(conn, pgSchema(t, conn)), true)
}

// TestThreeInstancesOnEventStoreDB is the same journey on EventStoreDB/
// KurrentDB (KEFU_TEST_ESDB=esdb://host:2113?tls=false), which has no lock:
// there every instance runs the process managers, recording stays
// exactly-once by event IDs, and only delivery may repeat (same key).
func TestThreeInstancesOnEventStoreDB(t *testing.T) {
	url := os.Getenv("KEFU_TEST_ESDB")
	if url == "" {
		t.Skip("KEFU_TEST_ESDB not set (an EventStoreDB/KurrentDB server, esdb://host:2113?tls=false); no server can be installed on CI")
	}
	multiInstance(t, url, false)
}

func multiInstance(t *testing.T, store string, locks bool) {
	ctx := journey(t, 4*time.Minute)
	const secret = "whsec-scaleout-0c4d1e"
	const audience = 600
	gw := &slowGateway{secret: []byte(secret), open: 150, release: make(chan struct{}),
		delivered: map[string][]string{}, reached: make(chan struct{})}
	recv := httptest.NewServer(gw)
	t.Cleanup(recv.Close)
	released := false
	defer func() {
		if !released {
			close(gw.release)
		}
	}()

	const n = 3
	ss := make([]*server, n)
	alive := make([]bool, n)
	for i := range ss {
		ss[i] = startServer(t, ctx, serveOpts{dir: t.TempDir(), args: []string{"--store", store,
			"--sender", "webhook", "--webhook-url", recv.URL + "/kefu/greetings"},
			env: []string{"KEFU_WEBHOOK_SECRET=" + secret, "KEFU_DISPATCH_INTERVAL=200ms"}})
		alive[i] = true
	}
	clients := make([]*client, n)
	for i, s := range ss {
		clients[i] = s.client("")
	}

	// Writes through every instance, read on every other: the lag.
	zone, localDay := daytimeZone(time.Now())
	at := stamp(time.Now().Add(-48 * time.Hour))
	var lags []time.Duration
	const q = `query($id: ID!) { customer(id: $id) { id version } }`
	for i := range audience {
		id := fmt.Sprintf("so-%04d", i)
		w := clients[i%n]
		w.must(ctx, nil, `mutation($in: RegisterCustomerInput!) { registerCustomer(input: $in) { version } }`,
			map[string]any{"in": map[string]any{"id": id, "name": "客户" + id, "accountManager": "scaleout", "timezone": zone,
				"marketingConsent": true, "phone": fmt.Sprintf("+86 139 2%03d %04d", i/1000, i%10000), "occurredAt": at}})
		if i%10 != 0 {
			continue
		}
		written := time.Now()
		for j, r := range clients {
			if j == i%n {
				continue
			}
			for {
				var d struct{ Customer *struct{ ID string } }
				r.must(ctx, &d, q, map[string]any{"id": id})
				if d.Customer != nil {
					break
				}
				if ctx.Err() != nil || time.Since(written) > 30*time.Second {
					t.Fatalf("customer %s written on instance %d is not on instance %d after %s", id, i%n, j, time.Since(written))
				}
				time.Sleep(2 * time.Millisecond)
			}
			lags = append(lags, time.Since(written))
		}
	}
	t.Logf("read-your-write on the other instances: %d samples, p50 %s, p99 %s, max %s",
		len(lags), percentile(lags, 50).Round(time.Millisecond), percentile(lags, 99).Round(time.Millisecond), percentile(lags, 100).Round(time.Millisecond))

	lead := -1
	if locks {
		eventually(t, ctx, 20*time.Second, "exactly one instance leads", func() (bool, string) {
			ls := leaders(ctx, ss, alive)
			if len(ls) == 1 {
				lead = ls[0]
			}
			return len(ls) == 1, fmt.Sprint(ls)
		})
	} else {
		lead = 0
	}

	// The campaign, scheduled through a follower.
	follower := (lead + 1) % n
	c := scheduleDueCampaign(t, ctx, clients[follower], "E2E scale-out day", "scaleout", localDay, "SMS")
	select {
	case <-gw.reached:
	case <-ctx.Done():
		t.Fatalf("the gateway did not get %d greetings: %d arrived", gw.open, gw.arrived)
	}
	if locks {
		if ls := leaders(ctx, ss, alive); len(ls) != 1 || ls[0] != lead {
			t.Fatalf("leaders while sending: %v, want [%d]", ls, lead)
		}
	}
	gw.mu.Lock()
	inFlight := gw.arrived // greetings the leader had handed over by the kill
	gw.mu.Unlock()
	killed := time.Now()
	if err := ss[lead].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-ss[lead].exited
	alive[lead] = false
	close(gw.release)
	released = true

	if locks {
		var next int
		eventually(t, ctx, 30*time.Second, "another instance takes the lead", func() (bool, string) {
			ls := leaders(ctx, ss, alive)
			if len(ls) == 1 {
				next = ls[0]
			}
			return len(ls) == 1, fmt.Sprint(ls)
		})
		t.Logf("failover: instance %d leads %s after instance %d was killed", next, time.Since(killed).Round(time.Millisecond), lead)
	}

	// The campaign sends to its whole audience; every instance agrees. (It
	// stays RUNNING until its day has ended everywhere, for customers
	// listed late.)
	var done campaignView
	survivors := []int{}
	for i := range ss {
		if alive[i] {
			survivors = append(survivors, i)
		}
	}
	for _, i := range survivors {
		eventually(t, ctx, 90*time.Second, fmt.Sprintf("instance %d sees the whole audience greeted", i), func() (bool, string) {
			var d struct{ Campaign *campaignView }
			clients[i].must(ctx, &d, `query($id: ID!) { campaign(id: $id) { `+campaignFields+` } }`, map[string]any{"id": c.ID})
			done = *d.Campaign
			return done.Sent+done.Failed+done.Skipped >= audience, js(done)
		})
		if done.Sent != audience || done.Failed != 0 || done.Skipped != 0 || done.AudienceSize != audience {
			t.Errorf("instance %d: campaign %s, want %d of %d sent", i, js(done), audience, audience)
		}
	}
	t.Logf("campaign of %d sent %s after the kill", audience, time.Since(killed).Round(time.Millisecond))

	// One outcome per customer, in the log; every delivery under one key.
	gw.mu.Lock()
	dupes := 0
	for i := range audience {
		id := fmt.Sprintf("so-%04d", i)
		keys := gw.delivered[id]
		if len(keys) == 0 {
			t.Errorf("customer %s was never delivered a greeting", id)
			continue
		}
		for _, k := range keys[1:] {
			if k != keys[0] {
				t.Errorf("customer %s was delivered greetings under different keys %v: a gateway cannot dedupe them", id, keys)
			}
		}
		if len(keys) > 2 {
			t.Errorf("customer %s was delivered %d greetings: only one left unrecorded by the killed leader may be delivered again", id, len(keys))
		}
		dupes += len(keys) - 1
	}
	if dupes > inFlight {
		t.Errorf("%d deliveries repeated, more than the %d the killed leader had in flight", dupes, inFlight)
	}
	if len(gw.bad) > 0 {
		t.Errorf("the gateway got %d bad requests, first: %s", len(gw.bad), gw.bad[0])
	}
	gw.mu.Unlock()
	t.Logf("deliveries repeated after the kill (same idempotency key, for the gateway to drop): %d of %d; %d were in flight at the kill", dupes, audience, inFlight)
	r := clients[survivors[0]]
	for i := 0; i < audience; i += 37 {
		id := fmt.Sprintf("so-%04d", i)
		if got := outcomes(t, ctx, r, id, c.ID); !slices.Equal(got, []string{"SENT SMS"}) {
			t.Errorf("customer %s: outcomes %v, want exactly one SENT SMS", id, got)
		}
	}

	// Follow-ups booked by the new leader: once each, whoever wrote the
	// complaint's steps.
	for k := range 3 {
		id := fmt.Sprintf("so-%04d", k)
		a, b := clients[survivors[k%len(survivors)]], clients[survivors[(k+1)%len(survivors)]]
		var f struct {
			FileComplaint struct{ Complaint struct{ ID string } }
		}
		a.must(ctx, &f, `mutation($in: FileComplaintInput!) { fileComplaint(input: $in) { complaint { id } } }`,
			map[string]any{"in": map[string]any{"customerId": id, "channel": "PHONE", "category": "delivery", "description": "late", "owner": "scaleout"}})
		kid := f.FileComplaint.Complaint.ID
		for _, step := range []struct{ name, typ string }{{"acknowledgeComplaint", "ComplaintActionInput"}} {
			eventually(t, ctx, 20*time.Second, "complaint "+kid+" visible on the other instance", func() (bool, string) {
				var d struct{ Complaint *struct{ ID string } }
				b.must(ctx, &d, `query($id: ID!) { complaint(id: $id) { id } }`, map[string]any{"id": kid})
				return d.Complaint != nil, js(d)
			})
			b.must(ctx, nil, `mutation($in: `+step.typ+`!) { `+step.name+`(input: $in) { version } }`,
				map[string]any{"in": map[string]any{"complaintId": kid, "by": "scaleout"}})
		}
		a.must(ctx, nil, `mutation($in: ResolveComplaintInput!) { resolveComplaint(input: $in) { version } }`,
			map[string]any{"in": map[string]any{"complaintId": kid, "by": "scaleout", "outcome": "SATISFIED", "note": "sorted"}})
	}
	type fu struct{ ID, Reason, DueAt string }
	for k := range 3 {
		id := fmt.Sprintf("so-%04d", k)
		for _, i := range survivors {
			var got []fu
			eventually(t, ctx, 30*time.Second, fmt.Sprintf("instance %d shows %s's recovery follow-ups", i, id), func() (bool, string) {
				var d struct{ Customer struct{ FollowUps []fu } }
				clients[i].must(ctx, &d, `query($id: ID!) { customer(id: $id) { followUps { id reason dueAt } } }`, map[string]any{"id": id})
				got = d.Customer.FollowUps
				return len(got) >= 2, js(got)
			})
			time.Sleep(500 * time.Millisecond) // a second booking would land by now
			var d struct{ Customer struct{ FollowUps []fu } }
			clients[i].must(ctx, &d, `query($id: ID!) { customer(id: $id) { followUps { id reason dueAt } } }`, map[string]any{"id": id})
			if len(d.Customer.FollowUps) != 2 {
				t.Errorf("instance %d: %s has follow-ups %s, want the two recovery follow-ups once", i, id, js(d.Customer.FollowUps))
			}
		}
	}
}
