package server_test

import (
	"context"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/internal/testenv"
)

// chromium finds a headless-capable Chromium (skips without one; fails in
// CI).
func chromium(t *testing.T) string { return testenv.Chromium(t) }

// TestExplorerInBrowser opens the explorer page served by the real server
// in headless Chromium; the link carries a query and asks to run it; the
// result pane must show the customer from the store.
func TestExplorerInBrowser(t *testing.T) {
	bin := chromium(t)
	h := startServer(t, options{})
	h.register("b1", "Browser Bo", map[string]any{"tier": "GOLD"})
	h.fileComplaint("b1", map[string]any{"complaintId": "kb1"})

	link := h.http.URL + "/graphql#run&query=" + url.QueryEscape(`{ customer(id: "b1") { id name tier stage openComplaints { id } } }`)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(testenv.ChromiumFlags(t.TempDir()), "--virtual-time-budget=10000", "--dump-dom", link)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	dom := string(out)
	i := strings.Index(dom, `id="output"`)
	if i < 0 {
		t.Fatalf("no result pane in the page: %.1000s", dom)
	}
	pane := dom[i:]
	for _, want := range []string{"Browser Bo", "GOLD", "COMPLAINING", "kb1"} {
		if !strings.Contains(pane, want) {
			t.Errorf("result pane lacks %q: %.1500s", want, pane)
		}
	}
	if !strings.Contains(dom, "HTTP 200") {
		t.Errorf("status line does not show HTTP 200")
	}
	if !strings.Contains(dom, `data-type="Customer"`) {
		t.Errorf("docs sidebar (built by introspection) lacks the Customer type")
	}
}
