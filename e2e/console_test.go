package e2e_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kefu-crm/kefu/internal/testenv"
)

// TestConsoleAccountManager drives the console in headless Chromium against
// a fresh `kefu serve --demo`: My day, one click to a customer, file a
// complaint there, acknowledge and resolve it on the complaint screen, and
// see the recovery follow-ups the resolution schedules appear. Screenshots
// go to $KEFU_ARTIFACTS (or the test's temp dir); with
// KEFU_CONSOLE_SCREENSHOT=1 the customer screen is also written to
// docs/console.png for the README.
func TestConsoleAccountManager(t *testing.T) {
	testenv.Chromium(t)
	ctx := journey(t, 3*time.Minute)
	s := startServer(t, ctx, serveOpts{dir: t.TempDir(), args: []string{"--demo", "--demo-customers", "300"}})
	b := newBrowser(t, ctx)
	shot, do, text := b.shot, b.do, b.text
	bctx := b.ctx

	// My day: the demo has due follow-ups and overdue replies.
	do("open My day", chromedp.Navigate(s.base+"/console/"), chromedp.WaitVisible("#day"))
	shot("1-my-day")
	if !strings.Contains(text("#day"), "Overdue complaint replies") {
		t.Errorf("My day lacks its overdue section: %s", text("#day"))
	}

	// An account manager's next best actions: the console lists the API's
	// ranked answer, in its order.
	var book struct {
		Customers struct {
			Edges []struct {
				Node struct{ AccountManager *string }
			}
		}
	}
	s.client("").must(ctx, &book, `{ customers(first: 100) { edges { node { accountManager } } } }`, nil)
	type nba struct {
		Kind     string
		Customer struct{ ID string }
	}
	var owner string
	var want []nba
	for _, e := range book.Customers.Edges {
		if e.Node.AccountManager == nil || *e.Node.AccountManager == owner {
			continue
		}
		var d struct{ NextBestActions []nba }
		s.client("").must(ctx, &d, `query($o: String!) { nextBestActions(owner: $o, first: 20) { kind customer { id } } }`, map[string]any{"o": *e.Node.AccountManager})
		if len(d.NextBestActions) > len(want) {
			owner, want = *e.Node.AccountManager, d.NextBestActions
		}
	}
	if len(want) == 0 {
		t.Fatal("no account manager of the demo has a next best action")
	}
	do("open "+owner+"'s day", chromedp.Navigate(s.base+"/console/#/day?owner="+url.QueryEscape(owner)), chromedp.WaitVisible("#day #next"))
	shown, err := chromedp.Run(bctx, chromedp.Evaluate[[]nba](`[...document.querySelectorAll('#next tr[data-kind]')].map(r => ({Kind: r.dataset.kind, Customer: {ID: r.dataset.customer}}))`))
	if err != nil {
		t.Fatal(err)
	}
	if js(shown) != js(want) {
		t.Errorf("My day of %s lists the next best actions %s, the API %s", owner, js(shown), js(want))
	}
	shot("1b-next-best-actions")

	// One click to a customer (the first one in the book when nothing is due).
	link := "#day a.customer-link"
	if n, _ := chromedp.Run(bctx, chromedp.Nodes(link, chromedp.AtLeast(0))); len(n) == 0 {
		do("open the book", chromedp.Navigate(s.base+"/console/#/book"), chromedp.WaitVisible("#book-list"))
		link = "#book-list a.customer-link"
	}
	do("open a customer", chromedp.Click(link), chromedp.WaitVisible("#customer #timeline"))
	if !strings.Contains(text("#customer"), "because") {
		t.Errorf("the stage has no reason: %s", text("#customer"))
	}

	// What satisfied a customer before on a delivery complaint (through the
	// API): the console will suggest it.
	api := s.client("")
	api.must(ctx, nil, `mutation { registerCustomer(input: {id: "pb-before", name: "Before", accountManager: "amy"}) { version } }`, nil)
	for _, m := range []string{
		`mutation { fileComplaint(input: {customerId: "pb-before", complaintId: "pb-before-k", channel: PHONE, category: "delivery", description: "late", owner: "amy"}) { version } }`,
		`mutation { acknowledgeComplaint(input: {complaintId: "pb-before-k", by: "amy"}) { version } }`,
		`mutation { proposeResolution(input: {complaintId: "pb-before-k", by: "amy", options: ["Send a replacement today", "Refund the shipping fee"]}) { version } }`,
		`mutation { acceptResolution(input: {complaintId: "pb-before-k", optionIndex: 0}) { version } }`,
		`mutation { resolveComplaint(input: {complaintId: "pb-before-k", by: "amy", outcome: SATISFIED}) { version } }`,
	} {
		api.must(ctx, nil, m, nil)
	}

	// File a complaint: the console opens it.
	do("file a complaint",
		chromedp.Click("#action-complaint summary"),
		chromedp.SendKeys("#form-complaint input[name=category]", "delivery"),
		chromedp.SendKeys("#form-complaint textarea[name=description]", "parcel arrived broken"),
		chromedp.Click("#form-complaint button[type=submit]"),
		chromedp.WaitVisible("#complaint #workflow"))
	status, _ := chromedp.Run(bctx, chromedp.AttributeValue("#complaint", "data-status"))
	if status.Value != "OPEN" {
		t.Fatalf("new complaint status %q, want OPEN", status.Value)
	}
	// Resolve is disabled until the complaint is acknowledged.
	if dis, _ := chromedp.Run(bctx, chromedp.AttributeValue("#btn-resolveComplaint", "disabled")); !dis.Exists {
		t.Errorf("Resolve is enabled on an OPEN complaint")
	}
	shot("2-complaint-open")
	do("acknowledge", chromedp.Click("#btn-acknowledgeComplaint"), chromedp.WaitVisible("#do-acknowledgeComplaint"),
		chromedp.Click("#do-acknowledgeComplaint button[type=submit]"),
		chromedp.WaitVisible(`#complaint[data-status="ACKNOWLEDGED"]`))
	// Proposing: the form is pre-filled with what worked before on this
	// category (suggestedResolutions), best first.
	kid, err := chromedp.Run(bctx, chromedp.Evaluate[string](`decodeURIComponent(location.hash.split('/').pop())`))
	if err != nil {
		t.Fatal(err)
	}
	var sug struct{ SuggestedResolutions []struct{ Option string } }
	s.client("").must(ctx, &sug, `query($id: ID!) { suggestedResolutions(complaintId: $id) { option } }`, map[string]any{"id": kid})
	var wantOpts []string
	for _, o := range sug.SuggestedResolutions {
		wantOpts = append(wantOpts, o.Option)
	}
	if len(wantOpts) == 0 || wantOpts[0] != "Send a replacement today" {
		t.Errorf("suggestedResolutions on %s = %q, want the option that satisfied before first", kid, wantOpts)
	}
	do("open the proposal", chromedp.Click("#btn-proposeResolution"), chromedp.WaitVisible("#do-proposeResolution"))
	var prefilled string
	for range 50 {
		if prefilled, err = chromedp.Run(bctx, chromedp.Value("#do-proposeResolution textarea[name=options]")); err != nil {
			t.Fatal(err)
		}
		if prefilled != "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if prefilled != strings.Join(wantOpts, "\n") {
		t.Errorf("the proposal is pre-filled with %q, want the API's suggestions %q", prefilled, wantOpts)
	}
	shot("2b-propose-prefilled")
	do("cancel the proposal", chromedp.Click("#do-proposeResolution button[type=button]"))
	do("resolve", chromedp.WaitEnabled("#btn-resolveComplaint"), chromedp.Click("#btn-resolveComplaint"),
		chromedp.WaitVisible("#do-resolveComplaint"),
		chromedp.Click("#do-resolveComplaint button[type=submit]"),
		chromedp.WaitVisible(`#complaint[data-status="RESOLVED"]`))

	// The follow-up scheduler books the recovery follow-ups; the page waits for them.
	do("see the follow-up appear", chromedp.WaitVisible("#complaint-followups tr[data-followup]"))
	if got := text("#complaint-followups"); !strings.Contains(got, "Recovery") {
		t.Errorf("follow-ups of the complaint: %s", got)
	}
	shot("3-complaint-resolved")

	// Back on the customer: the follow-up is listed there too.
	do("back to the customer", chromedp.Click("#workflow p a"), chromedp.WaitVisible("#customer-followups"))
	shot("4-customer")
	if n, _ := chromedp.Run(bctx, chromedp.Nodes("#action-complaint", chromedp.AtLeast(0))); len(n) == 0 {
		t.Errorf("the customer screen offers no actions now")
	}

	// The time slider: back to the day of registration — the customer as of
	// then, as the API's as-of query answers, with the actions off.
	custID, _ := chromedp.Run(bctx, chromedp.AttributeValue("#customer", "data-id"))
	b.set("#asof-slider", "0")
	do("slide to the registration day", chromedp.WaitVisible("#asof-banner"), chromedp.WaitVisible("#customer #timeline"))
	asOfDate, _ := chromedp.Run(bctx, chromedp.Value("#asof input[name=asOf]"))
	asOf, err := chromedp.Run(bctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => { const [y, m, d] = %q.split('-').map(Number); return new Date(y, m - 1, d, 23, 59, 59, 999).toISOString(); })()`, asOfDate)))
	if err != nil {
		t.Fatal(err)
	}
	var past struct {
		Customer struct {
			Stage, RegisteredAt string
			Timeline            struct{ TotalCount int }
		}
	}
	s.client("").must(ctx, &past, `query($id: ID!, $asOf: DateTime) { customer(id: $id, asOf: $asOf) { stage registeredAt timeline(first: 0) { totalCount } } }`,
		map[string]any{"id": custID.Value, "asOf": asOf})
	if reg := past.Customer.RegisteredAt; len(reg) < 10 || asOfDate != reg[:10] {
		t.Errorf("the slider's first day is %q, the customer registered at %s", asOfDate, reg)
	}
	if shown := text("#customer .stage-line .badge"); !strings.EqualFold(strings.ReplaceAll(shown, " ", "_"), past.Customer.Stage) {
		t.Errorf("as of %s the console shows stage %q, the API %s", asOfDate, shown, past.Customer.Stage)
	}
	for _, sel := range []string{"#action-complaint", "#customer-followups"} {
		if n, _ := chromedp.Run(bctx, chromedp.Nodes(sel, chromedp.AtLeast(0))); len(n) != 0 {
			t.Errorf("the customer as of %s shows %s (actions and follow-ups are today's)", asOfDate, sel)
		}
	}
	if focused, _ := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.activeElement?.id === 'asof-slider'`)); !focused {
		t.Errorf("the slider lost the focus after the screen followed it")
	}
	shot("5-customer-as-of")
	if os.Getenv("KEFU_CONSOLE_SCREENSHOT") == "1" {
		png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", "console.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.noErrors()
	t.Logf("screenshots in %s", b.art)
}

// browser is one headless Chromium tab driving the console, with the
// helpers the journeys share.
type browser struct {
	t          *testing.T
	ctx        context.Context
	art        string
	mu         sync.Mutex
	exceptions []string
}

// newBrowser starts Chromium (closed at the end of the test) and collects
// the errors the page logs.
// newBrowser starts Chromium for t; screenshots go to $KEFU_ARTIFACTS, or
// the test's temp dir.
func newBrowser(t *testing.T, ctx context.Context) *browser {
	t.Helper()
	art := os.Getenv("KEFU_ARTIFACTS")
	if art == "" {
		art = t.TempDir()
	}
	bin := testenv.Chromium(t)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000),
		// The page's "today" is the browser's: in UTC it is the tests' too
		// (a campaign dated today must not fall before a date field's min).
		chromedp.Env("TZ=UTC")}
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelA)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(cancelB)
	b := &browser{t: t, ctx: bctx, art: art}
	msgs := chromedp.Console(bctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleError {
				b.mu.Lock()
				b.exceptions = append(b.exceptions, m.Text)
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// shot saves a full-page screenshot as NAME.png in the artefacts.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.art, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// do runs steps; on failure it shows the screen's HTML.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	sctx, cancel := context.WithTimeout(b.ctx, 40*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		html, _ := chromedp.Run(b.ctx, chromedp.OuterHTML("#main"))
		b.t.Fatalf("%s: %v\n%.3000s", what, err, html)
	}
}

// text is the visible text of the first node sel matches.
func (b *browser) text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(sel))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it is truthy.
func (b *browser) waitFor(what, cond string, within time.Duration) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(within), chromedp.WithPollingInterval(200*time.Millisecond))); err != nil {
		html, _ := chromedp.Run(b.ctx, chromedp.OuterHTML("#main"))
		b.t.Fatalf("%s (%s): %v\n%.4000s", what, cond, err, html)
	}
}

// set gives a form control a value the way a user's input does (input
// and change events), for controls SendKeys cannot type into portably
// (select, date).
func (b *browser) set(sel, value string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; e.value = %q;
		e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return e.value === %q; })()`, sel, value, value)
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js))
	if err != nil || !ok {
		b.t.Fatalf("set %s to %q: %v (ok %v)", sel, value, err, ok)
	}
}

// forget drops the errors logged so far (the browser logs the 401 of
// the sign-in probe as a failed resource).
func (b *browser) forget() {
	b.mu.Lock()
	b.exceptions = nil
	b.mu.Unlock()
}

// noErrors fails the test when the page logged an error.
func (b *browser) noErrors() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.exceptions) > 0 {
		b.t.Errorf("the page logged errors: %q", b.exceptions)
	}
}
