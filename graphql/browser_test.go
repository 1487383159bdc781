package graphql_test

import (
	"context"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/graphql"
	"github.com/kefu-crm/kefu/internal/testenv"
)

// TestExplorerInBrowser opens the explorer in headless Chromium, lets it
// run a query from the link and checks the result pane. It is skipped when
// no Chromium is installed (and fails in CI) (.ci/run installs Debian's chromium).
func TestExplorerInBrowser(t *testing.T) {
	bin := testenv.Chromium(t)
	s := newServer(t, graphql.HandlerConfig{})
	link := s.URL + "/graphql#run&query=" + url.QueryEscape(`{ customer(id: "c1") { id tier stage } }`)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append(testenv.ChromiumFlags(t.TempDir()), "--virtual-time-budget=10000", "--dump-dom", link)...).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	i := strings.Index(dom, `id="output"`)
	if i < 0 {
		t.Fatalf("no result pane in the page: %.500s", dom)
	}
	pane := dom[i:]
	for _, want := range []string{"COMPLAINING", "GOLD", "c1"} {
		if !strings.Contains(pane, want) {
			t.Errorf("result pane lacks %q: %.1000s", want, pane)
		}
	}
	if !strings.Contains(dom, "HTTP 200") {
		t.Errorf("status line does not show HTTP 200")
	}
	// The docs sidebar was built from introspection.
	if !strings.Contains(dom, `data-type="Customer"`) {
		t.Errorf("docs sidebar lacks the Customer type")
	}
}
