package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/internal/testenv"
)

// Bounds of the harness. A journey that needs longer fails; none hangs.
const (
	buildTimeout = 4 * time.Minute  // go build ./cmd/kefu, cold cache included
	readyTimeout = 20 * time.Second // kefu serve (--demo included) until it answers
	stopTimeout  = 20 * time.Second // SIGTERM until the process has exited
	cliTimeout   = 60 * time.Second // one replay, export, import, report or seed
)

// kefuBin is the binary TestMain built.
var kefuBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kefu-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	kefuBin = filepath.Join(dir, "kefu")
	if err := buildKefu(kefuBin); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building cmd/kefu:", err)
		return 1
	}
	return m.Run()
}

// buildKefu builds cmd/kefu (without -race: the binary is the product
// under test, the race detector runs in this test process) into out.
func buildKefu(out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("no go tool in PATH: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "../cmd/kefu")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("not done within %s: %w\n%s", buildTimeout, ctx.Err(), buf.String())
		}
		return fmt.Errorf("%w\n%s", err, buf.String())
	}
	return nil
}

// journey returns a context that ends at the journey's deadline (or the
// test binary's, whichever comes first).
func journey(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// childEnv is the environment of every kefu child: the caller's, without
// any KEFU_ setting that would point it at another directory, address,
// token file or store.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KEFU_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// tail is the last n bytes of s, for failure messages.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// serveOpts configures one `kefu serve`.
type serveOpts struct {
	dir  string   // --data
	args []string // more flags: --demo, --demo-customers N, --auth FILE …
	env  []string // KEY=value settings of the child's environment (secrets, KEFU_…)
}

// server is a running `kefu serve` child.
type server struct {
	t      *testing.T
	opts   serveOpts
	addr   string // host:port
	base   string // http://host:port
	cmd    *exec.Cmd
	stdout *testenv.Buffer
	stderr *testenv.Buffer
	exited chan struct{}
	err    error // Wait's result, once exited is closed
	took   time.Duration
}

// startServer runs `kefu serve` on opts.dir and a free loopback port and
// waits until it answers GraphQL and reports every read model live; it
// fails the test when that takes longer than readyTimeout or the process
// exits first. The process is killed at the end of the test if it still
// runs; its output is shown when the test failed.
func startServer(t *testing.T, ctx context.Context, opts serveOpts) *server {
	t.Helper()
	const attempts = 3 // a free port can be taken between our probe and kefu's listen
	var last *server
	for range attempts {
		s, retry := tryStart(t, ctx, opts)
		if s != nil {
			return s
		}
		last = retry
	}
	t.Fatalf("kefu serve could not bind a free loopback port in %d attempts; last output:\n%s\n%s", attempts, last.stdout, tail(last.stderr.String(), 4000))
	return nil
}

// tryStart makes one attempt; it returns (nil, s) when the port was taken.
func tryStart(t *testing.T, ctx context.Context, opts serveOpts) (*server, *server) {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"serve", "--data", opts.dir, "--addr", addr}, opts.args...)
	s := &server{t: t, opts: opts, addr: addr, base: "http://" + addr,
		stdout: &testenv.Buffer{}, stderr: &testenv.Buffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(kefuBin, args...)
	s.cmd.Env = childEnv(opts.env...)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start kefu %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("kefu %s\n--- stdout\n%s--- stderr (tail)\n%s", strings.Join(args, " "), s.stdout, tail(s.stderr.String(), 6000))
		}
	})
	if err := s.waitReady(ctx); err != nil {
		select {
		case <-s.exited:
			if strings.Contains(s.stderr.String(), "address already in use") {
				return nil, s
			}
		default:
		}
		t.Fatalf("kefu %s: %v\n--- stdout\n%s--- stderr (tail)\n%s", strings.Join(args, " "), err, s.stdout, tail(s.stderr.String(), 6000))
	}
	s.took = time.Since(start)
	return s, nil
}

// freeAddr asks the kernel for a free loopback port.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// waitReady polls POST /graphql {__typename} and GET /healthz until the
// first answers and the second says every projection is live.
func (s *server) waitReady(ctx context.Context) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	c := &http.Client{Timeout: 2 * time.Second}
	var why string
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("exited before it was ready: %v", s.err)
		default:
		}
		if ok, w := s.probe(ctx, c); ok {
			return nil
		} else {
			why = w
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s (the bound is %s, or the journey's deadline if sooner; last probe: %s)", time.Since(start).Round(time.Millisecond), readyTimeout, why)
		case <-s.exited:
			return fmt.Errorf("exited before it was ready: %v", s.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *server) probe(ctx context.Context, c *http.Client) (bool, string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/graphql", strings.NewReader(`{"query":"{__typename}"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return false, err.Error()
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// With --auth an anonymous probe is refused with 401: the server answers.
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized {
		return false, fmt.Sprintf("POST /graphql: HTTP %d %s", resp.StatusCode, body)
	}
	h, err := s.healthTry(ctx, c)
	if err != nil {
		return false, err.Error()
	}
	if h.Status != "ok" {
		return false, fmt.Sprintf("/healthz status %q", h.Status)
	}
	return true, ""
}

// health is what /healthz tells an operator.
type health struct {
	Status      string `json:"status"`
	Head        uint64 `json:"head"`
	Customers   int    `json:"customers"`
	Leader      *bool  `json:"leader"`
	Projections []struct {
		Name      string `json:"name"`
		State     string `json:"state"`
		LagEvents uint64 `json:"lagEvents"`
	} `json:"projections"`
	Churn *struct {
		FittedAt  time.Time `json:"fittedAt"`
		Customers int       `json:"customers"`
	} `json:"churn"`
}

func (s *server) healthTry(ctx context.Context, c *http.Client) (health, error) {
	var h health
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/healthz", nil)
	// Under --auth /healthz shows the detail (head, customers, lag) only
	// to a token holder; without --auth the header is ignored.
	req.Header.Set("Authorization", "Bearer "+tokAdmin)
	resp, err := c.Do(req)
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &h); err != nil {
		return h, fmt.Errorf("/healthz: HTTP %d, %v: %s", resp.StatusCode, err, body)
	}
	return h, nil
}

// health reads /healthz, failing the test when it cannot.
func (s *server) health(ctx context.Context) health {
	s.t.Helper()
	h, err := s.healthTry(ctx, &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		s.t.Fatalf("GET %s/healthz: %v", s.base, err)
	}
	return h
}

// quiesce waits until the log head stops moving for a second with every
// projection caught up: the process managers (follow-up scheduler,
// greeting dispatcher) have done what the history asked of them.
func (s *server) quiesce(ctx context.Context) health {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	prev := s.health(ctx)
	for {
		select {
		case <-ctx.Done():
			s.t.Fatalf("the log head kept moving or projections lagged for 20 s: %+v", prev)
		case <-time.After(time.Second):
		}
		h := s.health(ctx)
		lag := false
		for _, p := range h.Projections {
			lag = lag || p.LagEvents > 0
		}
		if h.Head == prev.Head && h.Status == "ok" && !lag {
			return h
		}
		prev = h
	}
}

// stop sends SIGTERM and checks that the process exits 0 within
// stopTimeout.
func (s *server) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("SIGTERM kefu serve: %v", err)
	}
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		s.t.Fatalf("kefu serve still running %s after SIGTERM", stopTimeout)
	}
	if s.err != nil {
		s.t.Fatalf("kefu serve after SIGTERM: %v, want exit status 0", s.err)
	}
}

// client returns a GraphQL client of this server, with a bearer token
// when token is not empty.
func (s *server) client(token string) *client {
	return &client{t: s.t, url: s.base + "/graphql", token: token, http: &http.Client{Timeout: 30 * time.Second}}
}

// cliResult is what a CLI run printed.
type cliResult struct {
	stdout, stderr string
	code           int // the exit status
}

// kefu runs a kefu subcommand within cliTimeout and fails the test unless
// it exits 0.
func kefu(t *testing.T, ctx context.Context, args ...string) cliResult {
	t.Helper()
	r, err := kefuExit(ctx, args...)
	if err != nil {
		t.Fatalf("kefu %s: %v\n--- stdout\n%s--- stderr (tail)\n%s", strings.Join(args, " "), err, tail(r.stdout, 4000), tail(r.stderr, 4000))
	}
	return r
}

// kefuExit runs a kefu subcommand within cliTimeout; err is non-nil for a
// non-zero exit or a timeout.
func kefuExit(ctx context.Context, args ...string) (cliResult, error) {
	return kefuExitEnv(ctx, nil, args...)
}

// kefuExitEnv is kefuExit with KEY=value settings added to the child's
// environment.
func kefuExitEnv(ctx context.Context, env []string, args ...string) (cliResult, error) {
	ctx, cancel := context.WithTimeout(ctx, cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, kefuBin, args...)
	cmd.Env = childEnv(env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := cliResult{stdout: out.String(), stderr: errb.String()}
	if ctx.Err() != nil {
		return r, fmt.Errorf("not done within %s (or the journey's deadline): %w", cliTimeout, ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
		return r, fmt.Errorf("exit status %d", ee.ExitCode())
	}
	return r, err
}

// writeTokens writes a --auth file with one token per role and returns
// its path; the tokens are "<role>-token" for users admin, amy (account
// manager), mia (marketing) and ana (analyst).
func writeTokens(t *testing.T) string {
	t.Helper()
	type tok struct {
		Token string `json:"token"`
		User  string `json:"user"`
		Role  string `json:"role"`
	}
	f := struct {
		Tokens []tok `json:"tokens"`
	}{Tokens: []tok{
		{tokAdmin, "admin", "ADMIN"},
		{tokAM, "amy", "ACCOUNT_MANAGER"},
		{tokMarketing, "mia", "MARKETING"},
		{tokAnalyst, "ana", "ANALYST"},
	}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	tokAdmin     = "e2e-admin-token-0123456789"
	tokAM        = "e2e-amy-token-0123456789"
	tokMarketing = "e2e-mia-token-0123456789"
	tokAnalyst   = "e2e-ana-token-0123456789"
)
