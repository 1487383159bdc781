package loadgen_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/internal/loadgen"
)

func TestRunCountsRequestsAndErrors(t *testing.T) {
	var served atomic.Int64
	var mu sync.Mutex
	conns := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		mu.Lock()
		conns[r.RemoteAddr] = true
		mu.Unlock()
		b, _ := io.ReadAll(r.Body)
		n, _ := strconv.Atoi(string(b))
		if n%10 == 0 {
			_, _ = w.Write([]byte(`{"errors":[{"message":"no"}]}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":{}}`))
	}))
	defer srv.Close()
	sc := loadgen.Scenario{
		Name:  "t",
		Body:  func(r *rand.Rand, buf []byte) []byte { return strconv.AppendInt(buf, int64(r.IntN(1000)), 10) },
		Check: loadgen.GraphQLCheck,
	}
	res, err := loadgen.Run(context.Background(), loadgen.Config{BaseURL: srv.URL, Clients: 4, Duration: time.Minute, MaxRequests: 2000, Seed: 1}, sc)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests < 2000 || res.Requests > 2000+4 {
		t.Fatalf("requests = %d, want the budget of 2000 (± one per client)", res.Requests)
	}
	// About 10 % of bodies are multiples of 10.
	if res.Errors < res.Requests/20 || res.Errors > res.Requests/5 {
		t.Fatalf("errors = %d of %d, want about 10%%", res.Errors, res.Requests)
	}
	if res.FirstError == "" {
		t.Fatal("first error not reported")
	}
	if !(res.P50 <= res.P90 && res.P90 <= res.P99 && res.P99 <= res.Max && res.Max > 0) {
		t.Fatalf("percentiles out of order: %+v", res)
	}
	if len(conns) > 4 {
		t.Fatalf("%d connections for 4 clients: keep-alive not used", len(conns))
	}
}

func TestRunStopsOnDuration(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	start := time.Now()
	res, err := loadgen.Run(context.Background(), loadgen.Config{BaseURL: srv.URL, Clients: 2, Duration: 200 * time.Millisecond}, loadgen.Scenario{Method: http.MethodGet})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 30*time.Second || res.Requests == 0 || res.Errors != 0 {
		t.Fatalf("run did not stop by itself or failed: %+v", res)
	}
}

func TestRunReportsServerErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	defer srv.Close()
	res, err := loadgen.Run(context.Background(), loadgen.Config{BaseURL: srv.URL, Clients: 1, Duration: time.Minute, MaxRequests: 10}, loadgen.Scenario{Method: http.MethodGet})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != res.Requests {
		t.Fatalf("errors %d of %d, want all", res.Errors, res.Requests)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []loadgen.Config{{}, {BaseURL: "http://x", Clients: 0}, {BaseURL: "http://x", Clients: 1, Duration: -1}} {
		if err := c.Validate(); !errors.Is(err, loadgen.ErrConfig) {
			t.Errorf("%+v: err = %v, want ErrConfig", c, err)
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50}, {0.9, 90}, {0.99, 99}, {1, 100}, {0, 1}} {
		if got := loadgen.Percentile(d, tc.q); got != tc.want {
			t.Errorf("Percentile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if loadgen.Percentile(nil, 0.5) != 0 {
		t.Error("Percentile of nothing is not 0")
	}
}

// TestRunRoundRobin: with More servers, the clients spread over all of
// them, one server per client.
func TestRunRoundRobin(t *testing.T) {
	var hits [3]atomic.Int64
	var urls []string
	for i := range hits {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits[i].Add(1) }))
		defer srv.Close()
		urls = append(urls, srv.URL)
	}
	_, err := loadgen.Run(context.Background(), loadgen.Config{BaseURL: urls[0], More: urls[1:], Clients: 6, Duration: time.Minute, MaxRequests: 600},
		loadgen.Scenario{Method: http.MethodGet})
	if err != nil {
		t.Fatal(err)
	}
	for i := range hits {
		if n := hits[i].Load(); n < 100 {
			t.Errorf("server %d got %d of 600 requests, want about a third", i, n)
		}
	}
}

// TestRunFiniteScenario: a scenario built by Next sends each of its
// requests once, over warm-up and measurement, and the run ends when they
// are spent rather than when the duration passes.
func TestRunFiniteScenario(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[string(b)]++
		mu.Unlock()
		time.Sleep(time.Millisecond)
	}))
	defer srv.Close()
	const supply = 300
	var next atomic.Int64
	sc := loadgen.Scenario{Name: "once", Next: func(_ *rand.Rand, buf []byte) ([]byte, bool) {
		i := next.Add(1) - 1
		if i >= supply {
			return buf, false
		}
		return strconv.AppendInt(buf, i, 10), true
	}}
	// An hour: if the run did not end with the supply, the test's own
	// timeout fails it.
	res, err := loadgen.Run(context.Background(), loadgen.Config{BaseURL: srv.URL, Clients: 4, Duration: time.Hour, Warmup: 20 * time.Millisecond}, sc)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Requests + res.WarmupRequests; got != supply || res.Errors != 0 {
		t.Fatalf("%d requests measured + %d warm-up, %d errors; want %d in all, no errors", res.Requests, res.WarmupRequests, res.Errors, supply)
	}
	if len(seen) != supply {
		t.Fatalf("server saw %d distinct bodies, want %d", len(seen), supply)
	}
	for b, n := range seen {
		if n != 1 {
			t.Fatalf("body %s sent %d times", b, n)
		}
	}

	// Without a warm-up, every request is measured, the first ones too.
	next.Store(0)
	res, err = loadgen.Run(context.Background(), loadgen.Config{BaseURL: srv.URL, Clients: 64, Duration: time.Hour}, sc)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != supply || res.WarmupRequests != 0 {
		t.Fatalf("no warm-up: %d requests measured, %d counted as warm-up; want all %d measured", res.Requests, res.WarmupRequests, supply)
	}
}
