package e2e_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kefu-crm/kefu/internal/testenv"
)

// axeViolation is one rule axe-core found broken, with a few of its nodes.
type axeViolation struct {
	ID     string
	Impact string
	Help   string
	Nodes  []string
}

// TestConsoleAccessibility runs axe-core (WCAG 2.1 A and AA: labels, names,
// roles, colour contrast, …) in each screen of the console on a fresh
// `kefu serve --demo` — My day, a customer, a complaint, the book,
// campaigns — and fails on any violation; then it checks that the
// keyboard alone (Tab) reaches each screen's main actions. axe-core is
// not in the repository: KEFU_AXE_JS names its axe.min.js (`.ci/run`
// installs it from npm); without it the axe part skips, except under
// CI=true where it fails.
func TestConsoleAccessibility(t *testing.T) {
	testenv.Chromium(t)
	axePath := os.Getenv("KEFU_AXE_JS")
	var axe []byte
	if axePath == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("KEFU_AXE_JS is not set: the accessibility check needs axe-core (npm install axe-core@4.14.1; .ci/run does)")
		}
	} else {
		var err error
		if axe, err = os.ReadFile(axePath); err != nil {
			t.Fatalf("KEFU_AXE_JS: %v", err)
		}
	}
	ctx := journey(t, 3*time.Minute)
	s := startServer(t, ctx, serveOpts{dir: t.TempDir(), args: []string{"--demo", "--demo-customers", "300"}})
	admin := s.client("")
	var d struct {
		Complaints struct {
			Edges []struct {
				Node struct {
					ID       string
					Customer struct{ ID string }
				}
			}
		}
	}
	admin.must(ctx, &d, `{ complaints(first: 1) { edges { node { id customer { id } } } } }`, nil)
	if len(d.Complaints.Edges) == 0 {
		t.Fatal("the demo has no complaint")
	}
	complaint, customer := d.Complaints.Edges[0].Node.ID, d.Complaints.Edges[0].Node.Customer.ID
	b := newBrowser(t, ctx)

	screens := []struct {
		name, hash, ready string
		keys              []string // selectors Tab must reach (…? when there is one: My day may be empty)
		hidden            []string // selectors Tab must not reach (hidden)
	}{
		{"day", "#/day", "#day", []string{"#skip", "#nav a", "#day form[role=search] button", "#day a.customer-link?"}, nil},
		{"customer", "#/customer/" + customer, "#customer #timeline", []string{"#action-complaint summary"}, nil},
		{"complaint", "#/complaint/" + complaint, "#complaint #workflow", []string{"#workflow button:not([disabled])"}, nil},
		{"book", "#/book", `#lifecycle[data-ready="1"]`, []string{"#book-list a.customer-link"}, nil},
		{"campaigns", "#/campaigns", "#campaigns #builder", []string{"#holidays button", "#campaign-form input[name=name]", "#schedule"},
			[]string{"#campaign-form input[name=custom]"}},
	}
	for _, sc := range screens {
		b.do("open "+sc.name, chromedp.Navigate(s.base+"/console/"+sc.hash), chromedp.WaitVisible(sc.ready))
		if sc.name == "campaigns" {
			b.waitFor("the preview", `!!document.querySelector('#pv-audience')`, 20*time.Second)
		}
		b.shot("a11y-" + sc.name)
		if axe != nil {
			if vs := runAxe(t, b, axe); len(vs) > 0 {
				for _, v := range vs {
					t.Errorf("%s: axe %s (%s): %s\n\t%s", sc.name, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
				}
			}
		}
		// The keyboard: Tab from the top of the page reaches each action.
		reached := tabThrough(t, b, 250)
		for _, sel := range sc.keys {
			if opt, ok := strings.CutSuffix(sel, "?"); ok {
				if n, _ := chromedp.Run(b.ctx, chromedp.Nodes(opt, chromedp.AtLeast(0))); len(n) == 0 {
					continue
				}
				sel = opt
			}
			ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf(
				`[...document.querySelectorAll(%q)].some((e) => window.__kefuTabbed.includes(e))`, sel)))
			if err != nil || !ok {
				t.Errorf("%s: Tab never reaches %s (%d stops: %s)", sc.name, sel, len(reached), strings.Join(reached, " → "))
			}
		}
		for _, sel := range sc.hidden {
			if ok, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf(
				`[...document.querySelectorAll(%q)].some((e) => window.__kefuTabbed.includes(e))`, sel))); ok {
				t.Errorf("%s: Tab reaches %s, which should be hidden", sc.name, sel)
			}
		}
	}
	if axe == nil {
		t.Skip("KEFU_AXE_JS is not set: keyboard checked, axe-core not run (npm install axe-core@4.14.1 and point KEFU_AXE_JS at axe.min.js)")
	}
	b.noErrors()
}

// runAxe injects axe-core into the page (through the DevTools protocol,
// which the page's Content-Security-Policy does not govern) and runs the
// WCAG 2.1 A/AA rules.
func runAxe(t *testing.T, b *browser, src []byte) []axeViolation {
	t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](string(src)+"\n;true")); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	const run = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
		.then((r) => JSON.stringify({passes: r.passes.length, violations: r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.slice(0, 6).map((n) => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\s+/g, ' '))}))}))`
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	var res struct {
		Passes     int
		Violations []axeViolation
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("axe-core's answer %q: %v", out, err)
	}
	if res.Passes == 0 {
		t.Fatalf("axe-core checked nothing: %s", out)
	}
	t.Logf("axe-core: %d rules pass, %d violated", res.Passes, len(res.Violations))
	return res.Violations
}

// tabThrough presses Tab up to max times from the top of the page,
// recording in window.__kefuTabbed each element that gets the focus, until
// the focus comes round to the first again; it returns short descriptions of the stops.
func tabThrough(t *testing.T, b *browser, max int) []string {
	t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.__kefuTabbed = []; document.activeElement?.blur(); window.scrollTo(0, 0); true`)); err != nil {
		t.Fatal(err)
	}
	var stops []string
	for range max {
		if err := chromedp.Do(b.ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatalf("press Tab: %v", err)
		}
		desc, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const e = document.activeElement;
			if (!e || e === document.body) return '';
			if (e === window.__kefuTabbed[0]) return 'AGAIN';
			if (window.__kefuTabbed.includes(e)) return ''; // a date input's day, month, year
			window.__kefuTabbed.push(e);
			return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? '[' + e.name + ']' : '') + ' ' + (e.textContent || '').trim().slice(0, 20); })()`))
		if err != nil {
			t.Fatal(err)
		}
		if desc == "AGAIN" {
			break
		}
		if desc != "" {
			stops = append(stops, desc)
		}
	}
	return stops
}
