package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/internal/loadgen"
	"github.com/kefu-crm/kefu/seed"
	"github.com/kefu-crm/kefu/server"
)

const benchSummary = "load-test the GraphQL API over loopback on a seeded data directory"

// benchCustomerQuery is issue 4 §7's read scenario.
const benchCustomerQuery = `query($id: ID!) { customer(id: $id) { stage loyalty { score level } openComplaints { id } timeline(first: 20) { edges { node { type occurredAt summary } } } } }`

// benchFloor is the floor every API scenario is measured against in the
// same run: the same HTTP, JSON and graphql-go path with nothing to read.
const benchFloor = `{ __typename }`

// benchLogContact is issue 4 §7's write scenario.
const benchLogContact = `mutation($id: ID!) { logContact(input: { customerId: $id, channel: PHONE, direction: INBOUND, agent: "bench", summary: "load test" }) { version } }`

// benchMerge is issue 16's merge scenario: one duplicate candidate merged
// per request.
const benchMerge = `mutation($s: ID!, $m: ID!) { mergeCustomers(input: { survivorId: $s, mergedIds: [$m], by: "bench", reason: "duplicate candidate" }) { version } }`

// benchCandidates lists duplicate candidates a page at a time.
const benchCandidates = `query($after: String) { duplicateCandidates(first: 500, after: $after) { totalCount edges { node { customers { id } } } pageInfo { hasNextPage endCursor } } }`

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", "bench --data DIR [--customers N] [--events-per-customer K] [--duplicates RATE] [--clients C] [--duration D] [--scenario customer|logcontact|merge|append|all]")
	data := fs.String("data", envDefault(e, "KEFU_DATA", "./kefu-bench"), "data directory; seeded first when empty (env KEFU_DATA)")
	n := fs.Int("customers", 100_000, "customers to seed (and to pick requests from)")
	epc := fs.Float64("events-per-customer", 0, "target mean events per customer when seeding (0 = the seed's natural ~7)")
	activity := fs.Float64("activity", 0, "seed.Config.Activity, overriding --events-per-customer")
	seedValue := fs.Uint64("seed", 1, "random seed of the history and of the request sequence")
	end := fs.String("end", "2026-11-01", "end of the seeded history (RFC 3339 or YYYY-MM-DD)")
	workers := fs.Int("workers", 64, "concurrent seed writers")
	dupes := fs.Float64("duplicates", 0, "fraction of seeded customers (0…0.5) planted as duplicates (as `kefu seed --duplicates`), for --scenario merge")
	clients := fs.Int("clients", 64, "concurrent clients (one keep-alive connection each)")
	duration := fs.Duration("duration", 30*time.Second, "measured time per scenario")
	warmup := fs.Duration("warmup", 3*time.Second, "unmeasured load before each scenario")
	maxReq := fs.Int64("max-requests", 5_000_000, "request budget per scenario")
	scenario := fs.String("scenario", "all", "customer, logcontact, merge, append or all (customer and logcontact); merge merges every duplicate candidate of the book once, so it changes the book; append measures durable store appends (no API, no book) on a fresh embedded store beside --data and, with "+benchPGEnv+"=postgres://… set, on a fresh schema of that database, the peer, in the same run")
	writers := fs.Int("writers", 64, "concurrent writers of --scenario append")
	hot := fs.Int("hot", 0, "draw requests from the first N customers only (a hot working set; 0 = all --customers)")
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to serve on (port 0 = any free port)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the measured load (server and clients) to this file")
	seedOnly := fs.Bool("seed-only", false, "seed (if empty) and exit")
	targets := fs.String("targets", "", "measure running servers instead (comma-separated base URLs, e.g. three `kefu serve` instances on one PostgreSQL store); each client keeps to one of them, round-robin; the book must be `kefu bench --seed-only`'s of --customers")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n < 1 || *clients < 1 || *duration <= 0 || *hot < 0 || *hot > *n {
		return fmt.Errorf("%w: --customers, --clients and --duration must be positive, --hot between 0 and --customers", errUsage)
	}
	if *dupes < 0 || *dupes > 0.5 {
		return fmt.Errorf("%w: --duplicates %v: want a fraction from 0 to 0.5", errUsage, *dupes)
	}
	pick := *n
	if *hot > 0 {
		pick = *hot
	}
	var scenarios []string
	switch *scenario {
	case "all":
		scenarios = []string{"customer", "logcontact"}
	case "customer", "logcontact", "merge", "append":
		scenarios = []string{*scenario}
	default:
		return fmt.Errorf("%w: --scenario %q: want customer, logcontact, merge, append or all", errUsage, *scenario)
	}
	if *scenario == "append" {
		if *writers < 1 || *targets != "" {
			return fmt.Errorf("%w: --scenario append needs --writers ≥ 1 and measures stores, not --targets", errUsage)
		}
		return benchAppend(ctx, e, *data, e.getenv(benchPGEnv), *writers, *warmup, *duration)
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("%w: --addr: %v", errUsage, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%w: --addr %s: bench serves on loopback only", errUsage, *addr)
	}
	endAt, err := parseEnd(*end, time.Now())
	if err != nil {
		return fmt.Errorf("%w: --end: %v", errUsage, err)
	}

	if *targets != "" {
		bases := splitList(*targets)
		for _, b := range bases {
			if u, err := url.Parse(b); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("%w: --targets: %q is not an http(s):// base URL", errUsage, b)
			}
		}
		fmt.Fprintf(e.stdout, "measuring %d running server(s): %s\n", len(bases), strings.Join(bases, ", "))
		fmt.Fprintf(e.stdout, "machine: %d CPUs, load average %s; servers in their own processes\n", runtime.NumCPU(), loadAvg())
		return benchMeasure(ctx, e, bases, scenarios, pick, *n, loadgen.Config{Clients: *clients, Duration: *duration, Warmup: *warmup,
			MaxRequests: *maxReq, Seed: *seedValue}, false)
	}
	if err := benchSeed(ctx, e, *data, *n, *seedValue, endAt, *epc, *activity, *dupes, *workers); err != nil {
		return err
	}
	if *seedOnly {
		return nil
	}

	srv, err := server.New(ctx, server.Config{DataDir: *data, Logger: e.log})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(runCtx) }()
	go func() { _ = httpSrv.Serve(ln) }()
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		_ = httpSrv.Shutdown(shutdownCtx)
		stopRun()
		if err := <-runErr; err != nil {
			e.log.Error("server run", "err", err)
		}
	}()
	started := time.Now()
	select {
	case <-srv.Ready():
	case err := <-runErr:
		runErr <- err
		return fmt.Errorf("server stopped before it was ready: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
	fmt.Fprintf(e.stdout, "server ready on %s after %s (read models caught up)\n", ln.Addr(), time.Since(started).Round(time.Millisecond))
	reportMemory(e.stdout, "after catch-up", *n)
	base := "http://" + ln.Addr().String()
	// The first churn fit runs right after the catch-up and takes seconds
	// of CPU: wait for it so that it does not land in the measurement.
	if took, ok := waitChurnFit(ctx, base, 20*time.Second); ok {
		fmt.Fprintf(e.stdout, "churn model fitted after %s more\n", took.Round(time.Millisecond))
	} else {
		fmt.Fprintln(e.stdout, "churn model not fitted within 20 s (a fit may have failed: see the log); measuring anyway")
	}
	fmt.Fprintf(e.stdout, "machine: %d CPUs, load average %s; load generator in the same process as the server\n", runtime.NumCPU(), loadAvg())

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return benchMeasure(ctx, e, []string{base}, scenarios, pick, *n, loadgen.Config{Clients: *clients, Duration: *duration, Warmup: *warmup,
		MaxRequests: *maxReq, Seed: *seedValue}, true)
}

// benchMeasure runs the floor and then each scenario against bases (round-
// robin over the clients) and prints each result with its ratio to the
// floor; inProcess says the servers run in this process, so that its CPU
// time per request means something.
func benchMeasure(ctx context.Context, e *env, bases, scenarios []string, pick, customers int, cfg loadgen.Config, inProcess bool) error {
	cfg.BaseURL, cfg.More = bases[0], bases[1:]
	var floor float64
	var floorP99 time.Duration
	for _, name := range append([]string{"floor"}, scenarios...) {
		sc, run := benchScenario(name, pick), cfg
		var pairs [][2]string
		if name == "merge" {
			var total int
			var err error
			if pairs, total, err = benchPairs(ctx, bases[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%-12s %d duplicate candidates, %d disjoint pairs to merge (the first customer of each survives); no warm-up: each pair merges once\n", name, total, len(pairs))
			if len(pairs) == 0 {
				fmt.Fprintf(e.stdout, "%-12s nothing to merge: seed with --duplicates RATE into an empty --data\n", name)
				continue
			}
			sc, run.Warmup = benchMergeScenario(pairs), 0
		}
		cpu0 := cpuTime()
		res, err := loadgen.Run(ctx, run, sc)
		if err != nil && !errors.Is(err, loadgen.ErrNoRequests) {
			return err
		}
		fmt.Fprintln(e.stdout, res.String())
		if name == "floor" {
			floor, floorP99 = res.Rate(), res.P99
		} else if floor > 0 && floorP99 > 0 {
			fmt.Fprintf(e.stdout, "%-12s ratio to the floor ({ __typename } in this run, %.0f req/s, p99 %s): %.2f; p99 %.1f× the floor's\n",
				"", floor, ms(floorP99), res.Rate()/floor, float64(res.P99)/float64(floorP99))
		}
		if cpu := cpuTime() - cpu0; inProcess && res.Requests > 0 && cpu > 0 {
			// Process CPU over warm-up and measurement, per request: with
			// the load generator in the same process this is server +
			// client; on a loaded machine it is the steadier number.
			per := cpu / time.Duration(res.Requests+res.WarmupRequests)
			fmt.Fprintf(e.stdout, "%-12s process CPU %s per request (server and load generator) → at most %.0f req/s on %d dedicated cores\n",
				"", per.Round(time.Microsecond), float64(runtime.NumCPU())/per.Seconds(), runtime.NumCPU())
		}
		if err != nil {
			return err
		}
		if name == "merge" {
			_, after, err := benchPairs(ctx, bases[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%-12s %d merges answered without error; duplicate candidates now %d\n", "", res.Requests+res.WarmupRequests-res.Errors, after)
		}
	}
	if inProcess {
		reportMemory(e.stdout, "after the load", customers)
	}
	fmt.Fprintf(e.stdout, "load average after: %s\n", loadAvg())
	return nil
}

// benchScenario builds the named scenario over customers 0..n-1.
func benchScenario(name string, n int) loadgen.Scenario {
	query := benchCustomerQuery
	switch name {
	case "logcontact":
		query = benchLogContact
	case "floor":
		query = benchFloor
	}
	prefix := []byte(`{"query":` + strconv.Quote(query) + `,"variables":{"id":"`)
	return loadgen.Scenario{
		Name: name,
		Path: "/graphql",
		Body: func(r *rand.Rand, buf []byte) []byte {
			buf = append(buf, prefix...)
			buf = append(buf, seed.CustomerID(r.IntN(n))...)
			return append(buf, `"}}`...)
		},
		Check: loadgen.GraphQLCheck,
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

// benchMergeScenario merges each pair once, survivor first.
func benchMergeScenario(pairs [][2]string) loadgen.Scenario {
	prefix := []byte(`{"query":` + strconv.Quote(benchMerge) + `,"variables":{"s":`)
	var next atomic.Int64
	return loadgen.Scenario{
		Name: "merge",
		Path: "/graphql",
		Next: func(_ *rand.Rand, buf []byte) ([]byte, bool) {
			i := next.Add(1) - 1
			if i >= int64(len(pairs)) {
				return buf, false
			}
			buf = append(buf, prefix...)
			buf = strconv.AppendQuote(buf, pairs[i][0])
			buf = append(buf, `,"m":`...)
			buf = strconv.AppendQuote(buf, pairs[i][1])
			return append(buf, `}}`...), true
		},
		Check: loadgen.GraphQLCheck,
	}
}

// benchPairs lists the duplicate candidates of the server at base (their
// total count) and the pairs among them that share no customer, so that
// merging them concurrently cannot conflict: a customer is merged or
// survives once.
func benchPairs(ctx context.Context, base string) ([][2]string, int, error) {
	var pairs [][2]string
	used := map[string]bool{}
	total := 0
	for after := ""; ; {
		var page struct {
			DuplicateCandidates struct {
				TotalCount int
				Edges      []struct {
					Node struct{ Customers []struct{ ID string } }
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		vars := map[string]any{}
		if after != "" {
			vars["after"] = after
		}
		if err := benchGraphQL(ctx, base, benchCandidates, vars, &page); err != nil {
			return nil, 0, fmt.Errorf("listing duplicate candidates: %w", err)
		}
		dc := page.DuplicateCandidates
		total = dc.TotalCount
		for _, e := range dc.Edges {
			cs := e.Node.Customers
			if len(cs) < 2 || used[cs[0].ID] || used[cs[1].ID] {
				continue
			}
			used[cs[0].ID], used[cs[1].ID] = true, true
			pairs = append(pairs, [2]string{cs[0].ID, cs[1].ID})
		}
		if !dc.PageInfo.HasNextPage || dc.PageInfo.EndCursor == "" {
			return pairs, total, nil
		}
		after = dc.PageInfo.EndCursor
	}
}

// benchGraphQL posts one GraphQL request and decodes its data into out.
func benchGraphQL(ctx context.Context, base, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if len(r.Errors) > 0 {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, r.Errors[0].Message)
	}
	return json.Unmarshal(r.Data, out)
}

// benchSeed seeds an empty data directory; one that has events is used as
// it is.
func benchSeed(ctx context.Context, e *env, path string, n int, seedValue uint64, end time.Time, epc, activity, dupes float64, workers int) error {
	dir, err := datadir.Open(path, datadir.Options{Logger: e.log})
	if err != nil {
		return err
	}
	defer dir.Close()
	head, err := dir.Store.Head(ctx)
	if err != nil {
		return err
	}
	if head > 0 {
		fmt.Fprintf(e.stdout, "%s already holds %d events: benchmarking it as it is\n", path, uint64(head))
		return nil
	}
	cfg := seedConfig(n, seedValue, end, 2)
	cfg.Duplicates = dupes
	switch {
	case activity > 0:
		cfg.Activity = activity
	case epc > 0:
		if cfg.Activity, err = calibrateActivity(cfg, epc); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "seeding %d customers into %s (activity %.2f)\n", n, path, max(cfg.Activity, 1))
	sum, took, err := seedInto(ctx, e, dir, cfg, workers)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "seeded %d customers, %d events in %s (%.0f events/s, %.1f events per customer)\n",
		sum.Customers, sum.Events, took.Round(time.Millisecond), float64(sum.Events)/took.Seconds(), float64(sum.Events)/float64(sum.Customers))
	if sum.Duplicates > 0 {
		fmt.Fprintf(e.stdout, "planted %d duplicates\n", sum.Duplicates)
	}
	return nil
}

// calibrateActivity finds the seed Activity whose mean events per customer
// over a sample of the configured customers is target (bisection; the
// relation is monotone but not linear, because busier customers also have
// more grievances).
func calibrateActivity(cfg seed.Config, target float64) (float64, error) {
	wc := customer.ReplyClockFunc(func(t time.Time) (time.Time, bool) { return t.Add(12 * time.Hour), true })
	cfg.ReplyClock = wc
	sample := min(cfg.Customers, 1000)
	mean := func(a float64) (float64, error) {
		c := cfg
		c.Activity = a
		total := 0
		for i := range sample {
			h, _, err := seed.One(c, i)
			if err != nil {
				return 0, err
			}
			total += len(h.Changes)
		}
		return float64(total) / float64(sample), nil
	}
	lo, hi := 1.0, 1.0
	for {
		m, err := mean(hi)
		if err != nil {
			return 0, err
		}
		if m >= target || hi >= 512 {
			break
		}
		lo, hi = hi, hi*2
	}
	for range 12 {
		mid := (lo + hi) / 2
		m, err := mean(mid)
		if err != nil {
			return 0, err
		}
		if m < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2, nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// waitChurnFit polls /healthz until it reports a fitted churn model.
func waitChurnFit(ctx context.Context, base string, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < limit && ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if err != nil {
			return 0, false
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			var h struct {
				Churn *struct{} `json:"churn"`
			}
			err = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if err == nil && h.Churn != nil {
				return time.Since(start), true
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return time.Since(start), false
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
