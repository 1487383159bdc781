// Package loadgen is a small closed-loop HTTP load generator for kefu's
// benchmarks: C clients, each a goroutine with its own keep-alive
// connection, send requests back to back for a fixed time (or a fixed
// count) and record every latency. Requests are built by a Scenario from a
// per-client random source seeded deterministically, so two runs send the
// same sequence of requests per client.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by Run and Config.Validate.
var (
	// ErrConfig marks an invalid Config.
	ErrConfig = errors.New("loadgen: invalid config")
	// ErrNoRequests is returned when no request completed at all.
	ErrNoRequests = errors.New("loadgen: no request completed")
)

// Scenario builds requests and judges responses.
type Scenario struct {
	// Name labels the results.
	Name string
	// Method is the HTTP method (default POST).
	Method string
	// Path is appended to Config.BaseURL (e.g. "/graphql").
	Path string
	// Body returns the body of a client's next request, drawn from r; buf
	// may be reused for it (it is not used after the request is sent).
	Body func(r *rand.Rand, buf []byte) []byte
	// Next, instead of Body, builds the requests of a finite scenario, one
	// whose requests can each be made once (merging a pair of duplicate
	// customers): ok=false says none is left, and the client stops. The
	// warm-up and the measured period draw on the same supply, and the run
	// ends when every client has stopped.
	Next func(r *rand.Rand, buf []byte) (body []byte, ok bool)
	// Check judges a response (status and body); a non-nil error counts
	// the request as failed. Nil means any 2xx is a success.
	Check func(status int, body []byte) error
}

// Config configures a run.
type Config struct {
	// BaseURL is the server, e.g. http://127.0.0.1:8080.
	BaseURL string
	// More are further servers of the same service (instances on one
	// store): client i sends to the (i mod n)-th of BaseURL and More, a
	// round-robin over connections.
	More []string
	// Clients is the number of concurrent clients (connections).
	Clients int
	// Duration bounds the run in time (default 10s).
	Duration time.Duration
	// MaxRequests bounds the run in count (0 = 10,000,000).
	MaxRequests int64
	// Warmup is run (and not recorded) before the measured period.
	Warmup time.Duration
	// Seed makes the request sequence reproducible.
	Seed uint64
	// Timeout bounds each request (default 10s).
	Timeout time.Duration
	// Header is added to every request (Content-Type is set to JSON
	// unless given here).
	Header http.Header
}

// Validate reports a config that cannot run.
func (c Config) Validate() error {
	var errs []error
	if c.BaseURL == "" {
		errs = append(errs, fmt.Errorf("%w: BaseURL is required", ErrConfig))
	}
	if c.Clients < 1 || c.Clients > 100_000 {
		errs = append(errs, fmt.Errorf("%w: Clients %d, want 1..100000", ErrConfig, c.Clients))
	}
	if c.Duration < 0 || c.Warmup < 0 || c.Timeout < 0 || c.MaxRequests < 0 {
		errs = append(errs, fmt.Errorf("%w: negative Duration, Warmup, Timeout or MaxRequests", ErrConfig))
	}
	return errors.Join(errs...)
}

// Result is the outcome of one scenario run.
type Result struct {
	Scenario string
	Clients  int
	// Requests completed in the measured period (successes and errors).
	Requests int64
	// Errors among them (transport errors, non-2xx, failed Check).
	Errors int64
	// WarmupRequests completed during the warm-up (not in the latencies).
	WarmupRequests int64
	// FirstError describes the first failure, if any.
	FirstError string
	Elapsed    time.Duration
	// Latency percentiles over every measured request.
	P50, P90, P99, Max time.Duration
}

// Rate is completed requests per second of the measured period.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// String is one line for a terminal.
func (r Result) String() string {
	s := fmt.Sprintf("%-12s %3d clients  %8d req in %6.2fs  %9.0f req/s  p50 %s  p90 %s  p99 %s  max %s  errors %d",
		r.Scenario, r.Clients, r.Requests, r.Elapsed.Seconds(), r.Rate(), ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), r.Errors)
	if r.FirstError != "" {
		s += " (first: " + r.FirstError + ")"
	}
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

// Percentile returns the q-quantile (0 ≤ q ≤ 1) of sorted durations by the
// nearest-rank method; 0 for none.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(q*float64(len(sorted))+0.999999999) - 1
	k = max(0, min(k, len(sorted)-1))
	return sorted[k]
}

// Run runs sc against cfg.BaseURL until the duration passes, the request
// budget is spent or ctx ends, and returns the measured result.
func Run(ctx context.Context, cfg Config, sc Scenario) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if cfg.Duration == 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.MaxRequests == 0 {
		cfg.MaxRequests = 10_000_000
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	method := sc.Method
	if method == "" {
		method = http.MethodPost
	}
	urls := []string{cfg.BaseURL + sc.Path}
	for _, b := range cfg.More {
		urls = append(urls, b+sc.Path)
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.Clients,
		MaxIdleConnsPerHost: cfg.Clients,
		MaxConnsPerHost:     cfg.Clients,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: cfg.Timeout}

	var (
		budget   atomic.Int64
		warm     atomic.Int64
		measured atomic.Bool
		errOnce  sync.Once
		firstErr string
		wg       sync.WaitGroup
		stopped  = make(chan struct{}) // every client has returned
	)
	budget.Store(cfg.MaxRequests)
	// Without a warm-up every request is measured, the first ones too.
	measured.Store(cfg.Warmup == 0)
	type clientStats struct {
		lat    []time.Duration
		errors int64
	}
	stats := make([]clientStats, cfg.Clients)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1))
			url := urls[i%len(urls)]
			st := &stats[i]
			var buf, resp []byte
			for runCtx.Err() == nil {
				buf = buf[:0]
				switch {
				case sc.Next != nil:
					var ok bool
					if buf, ok = sc.Next(rng, buf); !ok {
						return
					}
				case sc.Body != nil:
					buf = sc.Body(rng, buf)
				}
				rec := measured.Load()
				if rec && budget.Add(-1) < 0 {
					return
				}
				start := time.Now()
				var err error
				resp, err = do(runCtx, client, method, url, cfg.Header, buf, resp, sc.Check)
				d := time.Since(start)
				if runCtx.Err() != nil {
					return // the run ended mid-request: not a server error
				}
				if !rec {
					warm.Add(1)
					continue
				}
				st.lat = append(st.lat, d)
				if err != nil {
					st.errors++
					errOnce.Do(func() { firstErr = err.Error() })
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(stopped)
	}()
	if cfg.Warmup > 0 {
		select {
		case <-time.After(cfg.Warmup):
		case <-stopped:
		case <-ctx.Done():
		}
	}
	measured.Store(true)
	start := time.Now()
	timer := time.NewTimer(cfg.Duration)
	done := make(chan struct{})
	go func() {
		// The budget running out ends the run too.
		for budget.Load() > 0 && runCtx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		close(done)
	}()
	select {
	case <-timer.C:
	case <-done:
		// Clients stop by themselves once the budget is spent; let the
		// requests already under way finish and count.
		wg.Wait()
	case <-stopped:
		// A finite scenario's supply ran out.
	case <-ctx.Done():
	}
	elapsed := time.Since(start)
	cancel()
	timer.Stop()
	wg.Wait()

	res := Result{Scenario: sc.Name, Clients: cfg.Clients, Elapsed: elapsed, FirstError: firstErr, WarmupRequests: warm.Load()}
	var all []time.Duration
	for _, st := range stats {
		all = append(all, st.lat...)
		res.Errors += st.errors
	}
	res.Requests = int64(len(all))
	if res.Requests == 0 {
		return res, ErrNoRequests
	}
	slices.Sort(all)
	res.P50, res.P90, res.P99, res.Max = Percentile(all, 0.50), Percentile(all, 0.90), Percentile(all, 0.99), all[len(all)-1]
	return res, ctx.Err()
}

// StatusError is a response with a non-2xx status.
type StatusError struct{ Status int }

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d", e.Status) }

func do(ctx context.Context, c *http.Client, method, url string, h http.Header, body, buf []byte, check func(int, []byte) error) ([]byte, error) {
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return buf, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" && len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return buf, err
	}
	b := bytes.NewBuffer(buf[:0])
	_, err = b.ReadFrom(resp.Body)
	resp.Body.Close()
	buf = b.Bytes()
	if err != nil {
		return buf, err
	}
	if check != nil {
		return buf, check(resp.StatusCode, buf)
	}
	if resp.StatusCode/100 != 2 {
		return buf, &StatusError{Status: resp.StatusCode}
	}
	return buf, nil
}

// GraphQLCheck accepts HTTP 200 responses without a top-level "errors"
// member (a GraphQL error is a failed request for a benchmark).
func GraphQLCheck(status int, body []byte) error {
	if status != http.StatusOK {
		return &StatusError{Status: status}
	}
	if bytes.Contains(body, []byte(`"errors":`)) {
		if len(body) > 200 {
			body = body[:200]
		}
		return &GraphQLError{Body: string(body)}
	}
	return nil
}

// GraphQLError is a GraphQL response with errors.
type GraphQLError struct{ Body string }

func (e *GraphQLError) Error() string { return "graphql errors: " + e.Body }
