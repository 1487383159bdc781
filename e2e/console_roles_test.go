package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kefu-crm/kefu/internal/testenv"
)

// TestConsoleRoles runs the console on `kefu serve --demo --auth FILE`:
// the page asks for a token (and says so when one is wrong); an ANALYST
// sees the book and a customer without any personal data and without
// actions; a MARKETING token, after signing out and in again, sees no
// complaint or customer actions and no My day.
func TestConsoleRoles(t *testing.T) {
	testenv.Chromium(t)
	ctx := journey(t, 2*time.Minute)
	s := startServer(t, ctx, serveOpts{dir: t.TempDir(), args: []string{"--demo", "--demo-customers", "300", "--auth", writeTokens(t)}})
	var d struct {
		Complaints struct {
			Edges []struct {
				Node struct {
					ID       string
					Customer struct {
						ID, Name     string
						Phone, Email *string
					}
				}
			}
		}
	}
	s.client(tokAdmin).must(ctx, &d, `{ complaints(first: 1) { edges { node { id customer { id name phone email } } } } }`, nil)
	if len(d.Complaints.Edges) == 0 {
		t.Fatal("the demo has no complaint")
	}
	cmp := d.Complaints.Edges[0].Node
	cust := cmp.Customer
	secrets := []string{cust.Name}
	for _, p := range []*string{cust.Phone, cust.Email} {
		if p != nil && *p != "" {
			secrets = append(secrets, *p)
		}
	}
	if cust.Name == "" || len(secrets) < 2 {
		t.Fatalf("the admin sees no personal data of %s: %+v", cust.ID, cust)
	}
	b := newBrowser(t, ctx)
	signIn := func(token string) {
		t.Helper()
		b.do("sign in", chromedp.WaitVisible("#login input[name=token]"), chromedp.SendKeys("#login input[name=token]", token),
			chromedp.Click("#login button[type=submit]"), chromedp.WaitNotPresent("#login"))
	}
	body := func() string {
		t.Helper()
		v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	absent := func(who, sel string) {
		t.Helper()
		if n, _ := chromedp.Run(b.ctx, chromedp.Nodes(sel, chromedp.AtLeast(0))); len(n) != 0 {
			t.Errorf("%s sees %s", who, sel)
		}
	}

	// A wrong token: asked again, with a message.
	b.do("open the console", chromedp.Navigate(s.base+"/console/"), chromedp.WaitVisible("#login"))
	b.do("a wrong token is refused", chromedp.SendKeys("#login input[name=token]", "not-a-token"),
		chromedp.Click("#login button[type=submit]"), chromedp.WaitVisible("#login .alert"))

	// The analyst: the book, a customer, a complaint — no personal data, no actions.
	signIn(tokAnalyst)
	b.do("the analyst lands on the book", chromedp.WaitVisible("#book-list"))
	if nav := b.text("#nav"); strings.Contains(nav, "My day") {
		t.Errorf("the analyst's navigation offers My day: %q", nav)
	}
	absent("the analyst", "#book-filters input[name=q]")
	b.do("the analyst opens a customer", chromedp.Navigate(s.base+"/console/#/customer/"+cust.ID), chromedp.WaitVisible("#customer #timeline"))
	absent("the analyst", "#action-complaint")
	page := body()
	b.do("the analyst opens a complaint", chromedp.Navigate(s.base+"/console/#/complaint/"+cmp.ID), chromedp.WaitVisible("#complaint"))
	absent("the analyst", "#workflow")
	page += body()
	for _, secret := range secrets {
		if strings.Contains(page, secret) {
			t.Errorf("the analyst's console shows %q of %s", secret, cust.ID)
		}
	}
	if !strings.Contains(page, cust.ID) {
		t.Errorf("the analyst's customer screen does not name %s", cust.ID)
	}
	b.shot("r1-analyst-complaint")

	// Sign out; marketing: campaigns, but no complaint or customer actions.
	b.do("sign out", chromedp.Click("#signout"), chromedp.WaitVisible("#login"))
	signIn(tokMarketing)
	b.do("marketing lands on campaigns", chromedp.WaitVisible("#campaigns #builder"))
	if nav := b.text("#nav"); strings.Contains(nav, "My day") {
		t.Errorf("marketing's navigation offers My day: %q", nav)
	}
	b.do("marketing opens a complaint", chromedp.Navigate(s.base+"/console/#/complaint/"+cmp.ID), chromedp.WaitVisible("#complaint"))
	absent("marketing", "#workflow")
	absent("marketing", "#complaint button:not([disabled])")
	b.do("marketing opens a customer", chromedp.Navigate(s.base+"/console/#/customer/"+cust.ID), chromedp.WaitVisible("#customer #timeline"))
	absent("marketing", "#action-complaint")
	b.forget() // the 401s of the sign-in probes
}
