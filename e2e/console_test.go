package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
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
	bin := testenv.Chromium(t)
	ctx := journey(t, 3*time.Minute)
	s := startServer(t, ctx, serveOpts{dir: t.TempDir(), args: []string{"--demo", "--demo-customers", "300"}})
	art := os.Getenv("KEFU_ARTIFACTS")
	if art == "" {
		art = t.TempDir()
	}

	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000)}
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()

	var exceptions []string
	msgs := chromedp.Console(bctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleError {
				exceptions = append(exceptions, m.Text)
			}
		}
	}()
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(art, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			html, _ := chromedp.Run(bctx, chromedp.OuterHTML("#main"))
			t.Fatalf("%s: %v\n%.3000s", what, err, html)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}

	// My day: the demo has due follow-ups and overdue replies.
	do("open My day", chromedp.Navigate(s.base+"/console/"), chromedp.WaitVisible("#day"))
	shot("1-my-day")
	if !strings.Contains(text("#day"), "Overdue complaint replies") {
		t.Errorf("My day lacks its overdue section: %s", text("#day"))
	}

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
	if os.Getenv("KEFU_CONSOLE_SCREENSHOT") == "1" {
		png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", "console.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if len(exceptions) > 0 {
		t.Errorf("the page logged errors: %q", exceptions)
	}
	t.Logf("screenshots in %s", art)
}
