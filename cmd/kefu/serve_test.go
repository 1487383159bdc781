package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/internal/testenv"
)

// buildKefu builds the kefu binary into a temporary directory.
func buildKefu(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool in PATH: cannot build the kefu binary")
	}
	bin := filepath.Join(t.TempDir(), "kefu")
	cmd := exec.CommandContext(t.Context(), goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var urlLine = regexp.MustCompile(`open (http://127\.0\.0\.1:[0-9]+/graphql)`)

// serveProcess is a running `kefu serve`.
type serveProcess struct {
	cmd    *exec.Cmd
	url    string
	stdout *testenv.Buffer
	stderr *testenv.Buffer
	exited chan error
}

// startServe runs `kefu serve args…` and waits for the URL it prints.
func startServe(t *testing.T, bin string, args ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "KEFU_DATA=", "KEFU_ADDR=", "KEFU_AUTH=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, stdout: &testenv.Buffer{}, stderr: &testenv.Buffer{}, exited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kefu serve: %v", err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			_, _ = p.stdout.Write([]byte(sc.Text() + "\n"))
			if m := urlLine.FindStringSubmatch(sc.Text()); m != nil && !sent {
				urls <- m[1]
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.exited <- cmd.Wait()
	}()
	select {
	case p.url = <-urls:
	case err := <-p.exited:
		p.exited <- err
		t.Fatalf("kefu serve exited before printing its URL: %v\n%s", err, p.stderr.String())
	case <-time.After(120 * time.Second):
		t.Fatalf("kefu serve printed no URL\n%s", p.stderr.String())
	}
	return p
}

// stop sends SIGTERM and returns the exit code.
func (p *serveProcess) stop(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case err := <-p.exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatalf("kefu serve still running 30s after SIGTERM\n%s", p.stderr.String())
		return -1
	}
}

func postGraphQL(t *testing.T, url, query string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out["errors"] != nil {
		t.Fatalf("POST %s: HTTP %d, %v, %v", url, resp.StatusCode, err, out)
	}
	return out
}

func storeHead(t *testing.T, dir string) uint64 {
	t.Helper()
	d, err := datadir.Open(dir, datadir.Options{MustExist: true})
	if err != nil {
		t.Fatalf("reopen the data directory: %v", err)
	}
	defer d.Close()
	h, err := d.Store.Head(context.WithoutCancel(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	return uint64(h)
}

// TestServeCommand runs the built kefu binary's serve command.
func TestServeCommand(t *testing.T) {
	bin := buildKefu(t)
	t.Run("demo, query, SIGTERM", func(t *testing.T) { testServeProcess(t, bin) })
	t.Run("public address without auth", func(t *testing.T) { testServeRefusesPublicAddress(t, bin) })
	t.Run("metrics address, CORS origins", func(t *testing.T) { testServeMetricsAddrAndCORS(t, bin) })
	t.Run("profiler on loopback only", func(t *testing.T) { testServePprof(t, bin) })
}

var pprofLine = regexp.MustCompile(`profiler (http://\S+/debug/pprof/)`)

// testServePprof: --pprof on loopback serves the profiler on its own
// address (not beside the API); any other address is a usage error.
func testServePprof(t *testing.T, bin string) {
	dir := t.TempDir()
	p := startServe(t, bin, "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0", "--pprof", "127.0.0.1:0")
	var pprofURL string
	for deadline := time.Now().Add(30 * time.Second); pprofURL == ""; time.Sleep(20 * time.Millisecond) {
		if m := pprofLine.FindStringSubmatch(p.stdout.String()); m != nil {
			pprofURL = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no profiler URL printed:\n%s", p.stdout.String())
		}
	}
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(pprofURL + "heap?debug=1"); code != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("GET %sheap?debug=1: HTTP %d %.80q", pprofURL, code, body)
	}
	if code, _ := get(strings.TrimSuffix(p.url, "/graphql") + "/debug/pprof/"); code == http.StatusOK {
		t.Errorf("the profiler is served beside the API")
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.stderr.String())
	}
	code, _, errs := runBin(t, bin, "serve", "--data", filepath.Join(dir, "d2"), "--addr", "127.0.0.1:0", "--pprof", "0.0.0.0:6060")
	if code != 2 || !strings.Contains(errs, "--pprof") || !strings.Contains(errs, "127.0.0.1") {
		t.Errorf("serve --pprof 0.0.0.0:6060: exit %d, %q; want 2 and a loopback hint", code, errs)
	}
}

var metricsLine = regexp.MustCompile(`metrics (http://\S+/metrics)`)

// testServeMetricsAddrAndCORS: with --auth and --metrics-addr, /metrics is
// served on its own address without a token and not beside the API; a
// --cors-origin's preflight is answered; a malformed --cors-origin is a
// usage error that says what is wanted.
func testServeMetricsAddrAndCORS(t *testing.T, bin string) {
	dir := t.TempDir()
	auth := filepath.Join(dir, "tokens.json")
	if err := os.WriteFile(auth, []byte(`{"tokens":[{"token":"ops-token-1234","user":"olga","role":"ANALYST"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, bin, "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0", "--auth", auth,
		"--metrics-addr", "127.0.0.1:0", "--cors-origin", "http://localhost:3000")
	base := strings.TrimSuffix(p.url, "/graphql")
	var metricsURL string
	for deadline := time.Now().Add(30 * time.Second); metricsURL == ""; time.Sleep(20 * time.Millisecond) {
		if m := metricsLine.FindStringSubmatch(p.stdout.String()); m != nil {
			metricsURL = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no metrics URL printed:\n%s", p.stdout.String())
		}
	}
	if strings.HasPrefix(metricsURL, base) {
		t.Fatalf("metrics URL %s is on the API's address %s", metricsURL, base)
	}
	get := func(url string, header ...string) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(metricsURL); code != http.StatusOK || !strings.Contains(body, "kefu_customers_by_stage") {
		t.Errorf("GET %s without a token: HTTP %d", metricsURL, code)
	}
	if code, _ := get(base+"/metrics", "Authorization", "Bearer ops-token-1234"); code != http.StatusNotFound {
		t.Errorf("/metrics beside the API with --metrics-addr: HTTP %d, want 404", code)
	}
	if code, body := get(base + "/healthz"); code != http.StatusOK || strings.Contains(body, "projections") {
		t.Errorf("/healthz without a token: HTTP %d %s, want the status alone", code, body)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, p.url, nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
		t.Errorf("preflight from the --cors-origin: HTTP %d %v", resp.StatusCode, resp.Header)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.stderr.String())
	}

	code, _, errs := runBin(t, bin, "serve", "--data", filepath.Join(dir, "d2"), "--addr", "127.0.0.1:0", "--cors-origin", "*")
	if code != 2 || !strings.Contains(errs, "--cors-origin") || !strings.Contains(errs, "scheme://host") {
		t.Errorf("serve --cors-origin '*': exit %d, %q; want 2 and what an origin looks like", code, errs)
	}
}

// testServeProcess runs `kefu serve --demo` as a process: it seeds, prints
// its URL, answers GraphQL, and on SIGTERM exits 0 leaving a data
// directory that reopens with every event.
func testServeProcess(t *testing.T, bin string) {
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, bin, "--demo", "--demo-customers", "200", "--data", data, "--addr", "127.0.0.1:0")

	out := postGraphQL(t, p.url, `{ customers(first: 1) { totalCount } }`)
	if n := out["data"].(map[string]any)["customers"].(map[string]any)["totalCount"]; n != 200.0 {
		t.Errorf("customers.totalCount = %v, want 200 (the demo history)", n)
	}
	postGraphQL(t, p.url, `mutation { registerCustomer(input: {id: "after-demo", name: "Late Arrival"}) { version } }`)
	resp, err := http.Get(strings.TrimSuffix(p.url, "/graphql") + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status string `json:"status"`
		Head   uint64 `json:"head"`
	}
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || health.Status != "ok" || health.Head == 0 {
		t.Fatalf("/healthz: %v %+v", err, health)
	}

	if code := p.stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0\n%s", code, p.stderr.String())
	}
	// The process managers may still append after /healthz was read (a
	// follow-up booked by the first tick): the head to find on disk is the
	// one the server logged as it closed the store.
	closed := closedHead(t, p.stderr.String())
	if got := storeHead(t, data); got != closed || closed < health.Head {
		t.Errorf("reopened store head %d; the server reported %d on /healthz and closed the store at %d", got, health.Head, closed)
	}
	if !strings.Contains(p.stderr.String(), "authentication is disabled") {
		t.Errorf("no warning about running without --auth:\n%s", p.stderr.String())
	}

	// A second run serves the same history (--demo leaves it alone).
	p = startServe(t, bin, "--demo", "--data", data, "--addr", "127.0.0.1:0")
	out = postGraphQL(t, p.url, `{ customer(id: "after-demo") { name } customers(first: 1) { totalCount } }`)
	d := out["data"].(map[string]any)
	if d["customer"] == nil || d["customers"].(map[string]any)["totalCount"] != 201.0 {
		t.Errorf("after a restart: %v", d)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("second run: exit code %d\n%s", code, p.stderr.String())
	}
	// The second run seeded nothing (201 customers above); what its
	// process managers appended is on disk.
	if got, again := storeHead(t, data), closedHead(t, p.stderr.String()); got != again || again < closed {
		t.Errorf("second run: reopened store head %d, the server closed the store at %d (the first run at %d)", got, again, closed)
	}
}

// closedHead is the head the server logged when it closed the event store.
func closedHead(t *testing.T, stderr string) uint64 {
	t.Helper()
	m := regexp.MustCompile(`msg="event store closed".* head=(\d+)`).FindAllStringSubmatch(stderr, -1)
	if len(m) == 0 {
		t.Fatalf("the server did not log closing the event store:\n%s", stderr)
	}
	n, _ := strconv.ParseUint(m[len(m)-1][1], 10, 64)
	return n
}

// testServeRefusesPublicAddress: a non-loopback address without --auth
// does not start.
func testServeRefusesPublicAddress(t *testing.T, bin string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	data := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--data", data, "--addr", net.JoinHostPort("0.0.0.0", strconv.Itoa(port)))
	cmd.Env = append(os.Environ(), "KEFU_AUTH=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("kefu serve on 0.0.0.0 without --auth: %v, want a non-zero exit\n%s", err, stderr.String())
	}
	msg := stderr.String()
	if !strings.Contains(msg, "--auth") || !strings.Contains(msg, "0.0.0.0") {
		t.Errorf("the refusal does not say what to do: %s", msg)
	}
	if _, err := os.Stat(data); err == nil {
		t.Errorf("the refused server created its data directory")
	}
}
